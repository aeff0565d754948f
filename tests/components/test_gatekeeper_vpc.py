"""IoT account: gatekeeper VPC, endpoints, zones, NLB, endpoint service, IoT policy."""

import ipaddress
import json
from datetime import datetime, timezone

import pulumi
import pytest

from channelctl.accounts.facts import FACT_SERVICE_ZONES, Fact, Facts
from channelctl.plan.render import render_stack
from components.config import ConfigError
from components.gatekeeper_vpc import validate_offered_zones
from components.proxy_capacity import proxy_fleet_min_size
from tests.support import FQ, PROJECT_DIR, broken, example_config, open_rules, render

ENDPOINT = "aws:ec2/vpcEndpoint:VpcEndpoint"
DATA_HOST = "a1b2c3d4e5f6g7-ats.iot.us-west-2.amazonaws.com"


IOT_SERVICES = (".iot.data", ".iot.credentials", ".greengrass")
S3_HOST = "s3.us-west-2.amazonaws.com"


def iot_endpoints(rendered):
    return [e for e in rendered.of_type(ENDPOINT) if e.inputs["serviceName"].endswith(IOT_SERVICES)]


def network_peers(chain):
    return {FQ("network"): chain["network-1"].exports}


def endpoints_by_service(rendered):
    out = {}
    for e in rendered.of_type(ENDPOINT):
        out.setdefault(e.inputs["serviceName"].rsplit(".", 2)[-2:][-1] if "iot" not in e.inputs["serviceName"]
                       else ".".join(e.inputs["serviceName"].split(".")[-2:]), []).append(e)
    return out


def test_share_accepter_unless_same_organization(chain):
    iot = chain["iot-1"]
    (accepter,) = iot.of_type("aws:ram/resourceShareAccepter:ResourceShareAccepter")
    assert accepter.inputs["shareArn"] == chain["network-1"].exports["resourceShareArn"]
    # The network stack shared inside the organization too (the iot stack refuses a share made the other way).
    peers = {FQ("network"): chain["network-1"].exports | {"sameOrganization": True}}
    same_org = render("iot", example_config("iot") | {"sameOrganization": True}, peers)
    assert same_org.of_type("aws:ram/resourceShareAccepter:ResourceShareAccepter") == []


SUBNET = "aws:ec2/subnet:Subnet"
REGION = "us-west-2"
# Every service the example gatekeeper puts an interface endpoint of in its subnets (tls-proxy: SSM too).
GATEKEEPER_SERVICES = [f"com.amazonaws.{REGION}.{s}" for s in (
    "iot.data", "iot.credentials", "greengrass", "s3", "ssm", "ssmmessages", "ec2messages")]


def subnet_places(rendered):
    """Each gatekeeper subnet: (name, CIDR, zone), in address order."""
    places = [(s.name, s.inputs["cidrBlock"], s.inputs["availabilityZone"]) for s in rendered.of_type(SUBNET)]
    return sorted(places, key=lambda p: ipaddress.ip_network(p[1]))


def comparable(value):
    """Rendered inputs with assets as what they hold (an asset object has no equality of its own)."""
    if isinstance(value, pulumi.AssetArchive):
        return ("archive", {k: comparable(v) for k, v in value.assets.items()})
    if isinstance(value, pulumi.FileAsset):
        return ("file", value.path)
    if isinstance(value, pulumi.StringAsset):
        return ("string", value.text)
    if isinstance(value, dict):
        return {k: comparable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [comparable(v) for v in value]
    return value


def test_configured_zones_are_checked_against_every_endpoint_service_of_the_subnets(chain):
    iot = chain["iot-1"]
    lookups = [args for token, args in iot.invokes if token == "aws:ec2/getVpcEndpointService:getVpcEndpointService"]
    assert lookups == [{"serviceName": s, "serviceType": "Interface"} for s in GATEKEEPER_SERVICES]
    # Each interface endpoint the stack puts in the gatekeeper subnets had its service checked.
    interface = {e.inputs["serviceName"] for e in iot.of_type(ENDPOINT) if e.inputs["vpcEndpointType"] == "Interface"}
    assert interface == {a["serviceName"] for a in lookups}
    # Subnet i in availabilityZones[i], in address slot i of gatekeeperVpcCidr.
    assert subnet_places(iot) == [
        ("gatekeeper-subnet-us-west-2a", "10.20.0.0/19", "us-west-2a"),
        ("gatekeeper-subnet-us-west-2c", "10.20.32.0/19", "us-west-2c"),
    ]


def test_a_zone_added_at_the_end_adds_a_subnet_and_moves_none(chain):
    three = render("iot", example_config("iot") | {"availabilityZones": ["us-west-2a", "us-west-2c", "us-west-2d"]},
                   network_peers(chain))
    assert subnet_places(three) == subnet_places(chain["iot-1"]) + [
        ("gatekeeper-subnet-us-west-2d", "10.20.64.0/19", "us-west-2d")]


def test_a_zone_that_does_not_offer_iot_data_is_refused_naming_the_zones_that_do(chain):
    # The mock region offers AWS's services in zone IDs usw2-az1..az3, which the IoT account
    # calls us-west-2c, us-west-2d and us-west-2a: its us-west-2b offers none of them.
    with pytest.raises(Exception) as refused:
        render("iot", example_config("iot") | {"availabilityZones": ["us-west-2a", "us-west-2b"]}, network_peers(chain))
    assert (
        "configuration error: availabilityZones ['us-west-2a', 'us-west-2b']: com.amazonaws.us-west-2.iot.data is not offered to account "
        "222222222222 in us-west-2b, only in us-west-2a, us-west-2c, us-west-2d — list only zones that offer every "
        "endpoint service of the gatekeeper subnets (com.amazonaws.us-west-2.iot.data, "
    ) in str(refused.value)


def offering(zones_by_service):
    """Facts of the IoT account that say only where each service is offered."""
    return Facts(stack="iot", account="222222222222", region=REGION, read_at=datetime(2026, 12, 4, tzinfo=timezone.utc),
                 facts={FACT_SERVICE_ZONES: Fact(value=zones_by_service, source="ec2:DescribeVpcEndpointServices")})


def test_a_new_zone_offering_iot_data_that_sorts_earlier_moves_no_subnet(chain):
    """AWS starts offering iot.data (and every other service) in us-west-2b, which sorts before the
    configured us-west-2c: first-zones-in-name-order would now be a and b, moving the second subnet
    (replaced, overlapping itself). With configured zones the render is the same, resource by resource."""
    before = chain["iot-1"]
    everywhere = {s: [f"{REGION}{z}" for z in "abcd"] for s in GATEKEEPER_SERVICES}
    after = render_stack(PROJECT_DIR, "iot", example_config("iot"), peers=network_peers(chain),
                         facts=offering(everywhere))
    offered = [a for t, a in after.invokes if t == "aws:ec2/getVpcEndpointService:getVpcEndpointService"]
    assert len(offered) == len(GATEKEEPER_SERVICES)
    assert subnet_places(after) == subnet_places(before)
    assert {r.urn: comparable(r.inputs) for r in after.resources} == {
        r.urn: comparable(r.inputs) for r in before.resources}


@pytest.mark.parametrize("zones,offered,refused", [
    (["us-west-2a", "us-west-2c"], {"svc.a": ["us-west-2a", "us-west-2c", "us-west-2d"], "svc.b": ["us-west-2c", "us-west-2a"]}, None),
    (["us-west-2a", "us-west-2c"], {"svc.a": ["us-west-2a", "us-west-2c"], "svc.b": ["us-west-2c", "us-west-2d"]},
     r"availabilityZones \['us-west-2a', 'us-west-2c'\]: svc\.b is not offered to account 222222222222 in us-west-2a, "
     r"only in us-west-2c, us-west-2d — list only zones that offer every endpoint service of the gatekeeper subnets "
     r"\(svc\.a, svc\.b\)"),
    (["us-west-2b", "us-west-2d"], {"svc.a": []},
     r"svc\.a is not offered to account 222222222222 in us-west-2b, us-west-2d, only in no zone"),
])
def test_validate_offered_zones(zones, offered, refused):
    if refused is None:
        assert validate_offered_zones("availabilityZones", zones, offered, "222222222222") is None
    else:
        with pytest.raises(ConfigError, match=refused):
            validate_offered_zones("availabilityZones", zones, offered, "222222222222")


def tgw_routes(iot, net):
    return sorted(r.inputs["destinationCidrBlock"] for r in iot.of_type("aws:ec2/route:Route")
                  if r.inputs.get("transitGatewayId") == net["transitGatewayId"])


def test_attachment_and_routes_to_on_prem_and_device_vpc_once_accepted(chain):
    """Step 2 declares the attachment but no route through it; step 5, after the
    network stack exported the attachment as accepted, adds the routes."""
    iot, net = chain["iot-1"], chain["network-1"].exports
    (attachment,) = iot.of_type("aws:ec2transitgateway/vpcAttachment:VpcAttachment")
    assert attachment.inputs["transitGatewayId"] == net["transitGatewayId"]
    assert iot.exports["transitGatewayAttachmentId"] == attachment.id
    assert net["acceptedTransitGatewayAttachmentIds"] == []
    assert tgw_routes(iot, net) == []
    (skipped,) = [m for m in iot.info() if "acceptedTransitGatewayAttachmentIds" in m]
    assert attachment.id in skipped and "192.168.0.0/16" in skipped and "step 5" in skipped
    assert chain["network-2"].exports["acceptedTransitGatewayAttachmentIds"] == [attachment.id]
    assert tgw_routes(chain["iot-2"], net) == ["10.10.0.0/16", "192.168.0.0/16"]
    assert not [m for m in chain["iot-2"].info() if "acceptedTransitGatewayAttachmentIds" in m]


def test_no_routes_while_only_another_attachment_is_accepted(chain):
    """An accepted list naming some other attachment (say, one this stack
    replaced) does not count: the routes wait for this attachment."""
    peers = {FQ("network"): chain["network-1"].exports | {"acceptedTransitGatewayAttachmentIds": ["tgw-attach-0123456789abcdef0"]}}
    iot = render("iot", example_config("iot"), peers)
    assert tgw_routes(iot, chain["network-1"].exports) == []


def test_a_network_stack_without_the_export_gets_no_routes_and_is_named(chain):
    """A network stack deployed by an older program exports no accepted list:
    the iot stack cannot tell the attachment accepted, and says what to update."""
    older = {k: v for k, v in chain["network-2"].exports.items() if k != "acceptedTransitGatewayAttachmentIds"}
    iot = render("iot", example_config("iot"), {FQ("network"): older})
    assert tgw_routes(iot, older) == []
    assert any("exports no acceptedTransitGatewayAttachmentIds at all" in m for m in iot.info())


@pytest.mark.parametrize("devices,expected", [(1, 1), (150_000, 2), (250_000, 3)])
def test_one_data_endpoint_per_100k_devices(chain, devices, expected):
    cfg = example_config("iot") | {"expectedDevices": devices}
    size = proxy_fleet_min_size(devices, cfg["deviceAccess"]["proxyInstanceType"])
    cfg["deviceAccess"]["proxyMinSize"] = cfg["deviceAccess"]["proxyMaxSize"] = size
    iot = render("iot", cfg, network_peers(chain))
    data = [e for e in iot.of_type(ENDPOINT) if e.inputs["serviceName"].endswith(".iot.data")]
    assert len(data) == expected == len(iot.exports["dataEndpointIds"])


def interface_endpoints_of(rendered, suffix):
    return [e for e in rendered.of_type(ENDPOINT)
            if e.inputs["serviceName"].endswith(suffix) and e.inputs.get("vpcEndpointType") == "Interface"]


def test_credentials_and_greengrass_endpoints_are_switchable(chain):
    iot = chain["iot-1"]
    services = sorted(e.inputs["serviceName"] for e in iot_endpoints(iot))
    assert services == ["com.amazonaws.us-west-2.greengrass", "com.amazonaws.us-west-2.iot.credentials",
                        "com.amazonaws.us-west-2.iot.data", "com.amazonaws.us-west-2.iot.data"]
    off = render("iot", example_config("iot") | {"enableCredentialsEndpoint": False, "enableGreengrassEndpoint": False},
                 network_peers(chain))
    assert {e.inputs["serviceName"] for e in iot_endpoints(off)} == {"com.amazonaws.us-west-2.iot.data"}
    assert interface_endpoints_of(off, ".s3") == []
    assert set(off.exports["privateZoneIds"]) == {DATA_HOST, "iot.plant.example.com"}


def test_greengrass_core_devices_get_every_endpoint_of_awss_guide(chain):
    """AWS's "Operate an AWS IoT Greengrass core device in VPC": iot.data,
    iot.credentials and S3 as interface endpoints, private DNS off, with a
    private zone per host the devices resolve."""
    iot = chain["iot-1"]
    (s3,) = interface_endpoints_of(iot, ".s3")
    assert s3.inputs["serviceName"] == "com.amazonaws.us-west-2.s3"
    assert s3.inputs["privateDnsEnabled"] is False
    s3_ips = sorted(c["ipv4"] for c in s3.inputs["subnetConfigurations"])
    assert s3_ips == ["10.20.0.8", "10.20.32.8"]
    assert interface_endpoints_of(iot, ".iot.credentials") and interface_endpoints_of(iot, ".iot.data")
    zone_id = iot.exports["privateZoneIds"][S3_HOST]
    records = {r.inputs["name"]: sorted(r.inputs["records"]) for r in iot.of_type("aws:route53/record:Record")
               if r.inputs["zoneId"] == zone_id}
    # The regional host and the virtual-hosted bucket names below it; no zone wider than that host.
    assert records == {S3_HOST: s3_ips, f"*.{S3_HOST}": s3_ips}
    assert "amazonaws.com" not in {z.inputs["name"] for z in iot.of_type("aws:route53/zone:Zone")}
    (auth,) = [a for a in iot.of_type("aws:route53/vpcAssociationAuthorization:VpcAssociationAuthorization")
               if a.inputs["zoneId"] == zone_id]
    assert auth.inputs["vpcId"] == chain["network-1"].exports["deviceVpcId"]
    # The network stack associates it with the device VPC like every other zone.
    assert [a for a in chain["network-2"].of_type("aws:route53/zoneAssociation:ZoneAssociation")
            if a.inputs["zoneId"] == zone_id]


def private_dns_on(rendered):
    return [e.name for e in iot_endpoints(rendered) if e.inputs.get("privateDnsEnabled") is not False]


def test_private_dns_is_off_on_every_iot_endpoint(chain):
    iot = chain["iot-1"]
    assert private_dns_on(iot) == []
    assert private_dns_on(broken(iot, "gatekeeper-iot-data-0", privateDnsEnabled=True)) == ["gatekeeper-iot-data-0"]


def test_endpoint_ips_are_fixed_per_subnet(chain):
    iot = chain["iot-1"]
    for e in iot_endpoints(iot):
        configs = e.inputs["subnetConfigurations"]
        assert [c["subnetId"] for c in configs] == e.inputs["subnetIds"]
        assert all(c["ipv4"].startswith("10.20.") for c in configs)
    data_ips = [c["ipv4"] for e in iot.of_type(ENDPOINT) if e.inputs["serviceName"].endswith("iot.data")
                for c in e.inputs["subnetConfigurations"]]
    assert sorted(data_ips) == sorted(iot.exports["dataEndpointIps"])
    assert len(set(data_ips)) == 4


CHANNEL_SGS = ("gatekeeper-iot-data-sg", "gatekeeper-iot-credentials-sg", "gatekeeper-greengrass-sg", "gatekeeper-s3-sg",
               "gatekeeper-nlb-sg")


def sg_problems(rendered, allowed_sources):
    """Endpoint and NLB security groups: ingress only from the channel's ranges."""
    problems = list(open_rules(rendered))
    for sg in rendered.of_type("aws:ec2/securityGroup:SecurityGroup"):
        if sg.name not in CHANNEL_SGS:
            continue
        for rule in sg.inputs.get("ingress") or []:
            extra = set(rule.get("cidrBlocks") or []) - set(allowed_sources)
            if extra:
                problems.append(f"{sg.name} admits {sorted(extra)}")
    return problems


def test_endpoint_security_groups_admit_device_ports_from_channel_ranges_only(chain):
    iot = chain["iot-1"]
    sources = ["10.10.0.0/16", "10.20.0.0/16", "192.168.0.0/16"]
    assert sg_problems(iot, sources) == []
    ports = {sg.name: sorted(r["fromPort"] for r in sg.inputs["ingress"])
             for sg in iot.of_type("aws:ec2/securityGroup:SecurityGroup") if sg.name in CHANNEL_SGS}
    # 8443: Greengrass core devices' data plane on the iot.data endpoints
    # (greengrassDataPlaneEndpoint iotdata, greengrassDataPlanePort's default).
    assert ports["gatekeeper-iot-data-sg"] == [443, 8443, 8883]
    assert ports["gatekeeper-iot-credentials-sg"] == [443]
    assert ports["gatekeeper-greengrass-sg"] == [443]
    assert ports["gatekeeper-s3-sg"] == [443]
    off = render("iot", example_config("iot") | {"enableGreengrassEndpoint": False}, network_peers(chain))
    (data_sg,) = [sg for sg in off.of_type("aws:ec2/securityGroup:SecurityGroup") if sg.name == "gatekeeper-iot-data-sg"]
    assert sorted(r["fromPort"] for r in data_sg.inputs["ingress"]) == [443, 8883]
    for sg in iot.of_type("aws:ec2/securityGroup:SecurityGroup"):
        for rule in sg.inputs.get("ingress") or []:
            if sg.name in CHANNEL_SGS and rule["fromPort"] in (443, 8883, 8443):
                assert sorted(rule["cidrBlocks"]) == sources


def test_a_rule_open_to_the_internet_is_caught(chain):
    iot = chain["iot-1"]
    sg = next(r for r in iot.resources if r.name == "gatekeeper-iot-data-sg")
    wide = sg.inputs["ingress"] + [dict(sg.inputs["ingress"][0], cidrBlocks=["0.0.0.0/0"])]
    sources = ["10.10.0.0/16", "10.20.0.0/16", "192.168.0.0/16"]
    problems = sg_problems(broken(iot, "gatekeeper-iot-data-sg", ingress=wide), sources)
    assert problems == ["gatekeeper-iot-data-sg ingress 8883", "gatekeeper-iot-data-sg admits ['0.0.0.0/0']"]


def zones(rendered):
    return {z.inputs["name"]: z for z in rendered.of_type("aws:route53/zone:Zone")}


def zone_problems(rendered, region="us-west-2"):
    problems = []
    for name in zones(rendered):
        if name in (f"iot.{region}.amazonaws.com", f"{region}.amazonaws.com", "amazonaws.com"):
            problems.append(f"zone for a whole service domain: {name}")
    return problems


def test_one_zone_per_host_and_never_the_whole_iot_domain(chain):
    iot = chain["iot-1"]
    assert set(zones(iot)) == {
        DATA_HOST,
        "c1d2e3f4a5b6c7.credentials.iot.us-west-2.amazonaws.com",
        "greengrass.us-west-2.amazonaws.com",
        "greengrass-ats.iot.us-west-2.amazonaws.com",
        "iot.plant.example.com",
        S3_HOST,
    }
    assert zone_problems(iot) == []
    bad = broken(iot, "gatekeeper-zone-data-zone", name="iot.us-west-2.amazonaws.com")
    assert zone_problems(bad) == ["zone for a whole service domain: iot.us-west-2.amazonaws.com"]


def records_for(rendered, host):
    zone = zones(rendered)[host]
    return [r for r in rendered.of_type("aws:route53/record:Record") if r.inputs["zoneId"] == zone.state["zoneId"]]


def test_data_host_has_equal_weight_records_for_every_endpoint_ip(chain):
    iot = chain["iot-1"]
    records = records_for(iot, DATA_HOST)
    assert len(records) == 2  # two data endpoints
    assert {r.inputs["weightedRoutingPolicies"][0]["weight"] for r in records} == {1}
    assert len({r.inputs["setIdentifier"] for r in records}) == 2
    assert sorted(ip for r in records for ip in r.inputs["records"]) == sorted(iot.exports["dataEndpointIps"])


def test_single_endpoint_gets_a_weighted_record_too(chain):
    # One routing policy for life: the record a single endpoint gets is the first of the
    # weighted records a grown fleet has, under the same Pulumi name and set identifier.
    iot = render("iot", example_config("iot") | {"expectedDevices": 1000}, network_peers(chain))
    (record,) = records_for(iot, DATA_HOST)
    assert record.name == "gatekeeper-zone-data-a-0" and record.inputs["setIdentifier"] == "endpoint-0"
    assert record.inputs["weightedRoutingPolicies"] == [{"weight": 1}] and len(record.inputs["records"]) == 2


def test_zones_live_in_the_gatekeeper_vpc_and_authorize_the_device_vpc(chain):
    iot = chain["iot-1"]
    (vpc,) = iot.of_type("aws:ec2/vpc:Vpc")
    device_vpc = chain["network-1"].exports["deviceVpcId"]
    auths = iot.of_type("aws:route53/vpcAssociationAuthorization:VpcAssociationAuthorization")
    for host, zone in zones(iot).items():
        assert [v["vpcId"] for v in zone.inputs["vpcs"]] == [vpc.id]
        assert [a.inputs["vpcId"] for a in auths if a.inputs["zoneId"] == zone.state["zoneId"]] == [device_vpc]
    assert iot.exports["privateZoneIds"] == {h: z.state["zoneId"] for h, z in zones(iot).items()}


def test_nlb_forwards_8883_and_443_to_every_data_endpoint_ip(chain):
    iot = chain["iot-1"]
    (nlb,) = iot.of_type("aws:lb/loadBalancer:LoadBalancer")
    assert nlb.inputs["internal"] is True and nlb.inputs["loadBalancerType"] == "network"
    assert nlb.inputs["enableCrossZoneLoadBalancing"] is True
    listeners = {l.inputs["port"]: l for l in iot.of_type("aws:lb/listener:Listener") if l.inputs["port"] in (443, 8883)}
    assert sorted(listeners) == [443, 8883] and {l.inputs["protocol"] for l in listeners.values()} == {"TCP"}
    groups = {g.state["arn"]: g for g in iot.of_type("aws:lb/targetGroup:TargetGroup")}
    for port, listener in listeners.items():
        group = groups[listener.inputs["defaultActions"][0]["targetGroupArn"]]
        assert group.inputs["preserveClientIp"] == "false" and group.inputs["targetType"] == "ip"
        targets = sorted(a.inputs["targetId"] for a in iot.of_type("aws:lb/targetGroupAttachment:TargetGroupAttachment")
                         if a.inputs["targetGroupArn"] == group.state["arn"])
        assert targets == sorted(iot.exports["dataEndpointIps"])


def test_endpoint_service_requires_acceptance_and_allows_exactly_the_consumers(chain):
    iot = chain["iot-1"]
    (service,) = iot.of_type("aws:ec2/vpcEndpointService:VpcEndpointService")
    assert service.inputs["acceptanceRequired"] is True
    assert service.inputs["allowedPrincipals"] == ["arn:aws:iam::333333333333:root"]
    (nlb,) = iot.of_type("aws:lb/loadBalancer:LoadBalancer")
    assert service.inputs["networkLoadBalancerArns"] == [nlb.state["arn"]]


def connect_problems(rendered):
    problems = []
    endpoint_ids = set(rendered.exports["dataEndpointIds"])
    for policy in rendered.of_type("aws:iot/policy:Policy"):
        doc = json.loads(policy.inputs["policy"])
        for st in doc["Statement"]:
            actions = st["Action"] if isinstance(st["Action"], list) else [st["Action"]]
            if st["Effect"] == "Allow" and any(a in ("iot:Connect", "iot:*", "*") for a in actions):
                vpce = st.get("Condition", {}).get("StringEquals", {}).get("aws:SourceVpce")
                if not vpce or set(vpce) != endpoint_ids:
                    problems.append(f"{policy.name}: Connect without aws:SourceVpce = the iot.data endpoints")
                if not st["Resource"].endswith(":client/${iot:Connection.Thing.ThingName}"):
                    problems.append(f"{policy.name}: Connect as another client ID")
            if st["Effect"] == "Allow" and any(a in ("iot:Publish", "iot:Receive", "iot:Subscribe") for a in actions):
                if "/things/${iot:Connection.Thing.ThingName}/" not in st["Resource"]:
                    problems.append(f"{policy.name}: topics outside the thing's prefix")
    return problems


def test_thing_policy_connects_only_as_itself_through_the_gatekeeper(chain):
    iot = chain["iot-1"]
    assert connect_problems(iot) == []
    (policy,) = iot.of_type("aws:iot/policy:Policy")
    doc = json.loads(policy.inputs["policy"])
    no_condition = json.dumps({**doc, "Statement": [{k: v for k, v in doc["Statement"][0].items() if k != "Condition"}]
                               + doc["Statement"][1:]})
    assert connect_problems(broken(iot, policy.name, policy=no_condition)) == [
        "gatekeeper-thing-policy: Connect without aws:SourceVpce = the iot.data endpoints"]
    wide_topics = json.dumps({**doc, "Statement": doc["Statement"][:1] + [
        dict(doc["Statement"][1], Resource="arn:aws:iot:us-west-2:222222222222:topic/*")] + doc["Statement"][2:]})
    assert connect_problems(broken(iot, policy.name, policy=wide_topics)) == [
        "gatekeeper-thing-policy: topics outside the thing's prefix"]


def test_phase_two_accepts_each_consumer_endpoint_only_once_it_exists(chain):
    first, second = chain["iot-1"], chain["iot-2"]
    accepter = "aws:ec2/vpcEndpointConnectionAccepter:VpcEndpointConnectionAccepter"
    assert first.of_type(accepter) == []
    assert any("consumerEndpointId" in m for m in first.info())
    (accept,) = second.of_type(accepter)
    assert accept.inputs["vpcEndpointId"] == chain["consumer"].exports["consumerEndpointId"]
    (service,) = second.of_type("aws:ec2/vpcEndpointService:VpcEndpointService")
    assert accept.inputs["vpcEndpointServiceId"] == service.id


def test_the_iot_stack_needs_the_network_stack_first():
    with pytest.raises(Exception, match="networkStack acme/private-mqtt-channel/network has not exported"):
        render("iot", example_config("iot"), {})


IOT_EXPORTS = {
    "accountId", "gatekeeperVpcId", "gatekeeperVpcCidr", "transitGatewayAttachmentId", "privateZoneIds",
    "dataEndpointHost", "dataEndpointIds", "dataEndpointIps", "endpointServiceName", "endpointServiceId",
    "customDomain", "authorizerName", "region", "consumerAccountIds",
}


def test_exports_follow_the_contract(chain):
    exports = chain["iot-1"].exports
    assert IOT_EXPORTS <= set(exports)
    assert exports["dataEndpointHost"] == DATA_HOST
    assert exports["endpointServiceName"].startswith("com.amazonaws.vpce.us-west-2.vpce-svc-")
