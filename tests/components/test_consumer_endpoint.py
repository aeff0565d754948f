"""Consumer account: endpoint to the service, private zone, application host."""

from datetime import datetime, timezone

import pytest

from channelctl.accounts.facts import FACT_SERVICE_ZONES, Fact, Facts
from channelctl.plan.render import existing_subnet_zone, render_stack
from tests.support import FQ, PROJECT_DIR, broken, example_config, open_rules, render

INSTANCE = "aws:ec2/instance:Instance"


def iot_peers(chain):
    return {FQ("iot"): chain["iot-1"].exports}


def test_consumer_vpc_has_private_subnets_in_two_azs(chain):
    consumer = chain["consumer"]
    subnets = consumer.of_type("aws:ec2/subnet:Subnet")
    assert sorted(s.inputs["availabilityZone"] for s in subnets) == ["us-west-2b", "us-west-2d"]
    assert all(s.inputs["mapPublicIpOnLaunch"] is False for s in subnets)


def offered_zone_ids(iot):
    """Where the iot stack's endpoint service is offered: the AZ IDs of its NLB's subnets."""
    (nlb,) = iot.of_type("aws:lb/loadBalancer:LoadBalancer")
    return {iot.by_id(m["subnetId"]).state["availabilityZoneId"] for m in nlb.inputs["subnetMappings"]}


def endpoint_zone_ids(consumer):
    (endpoint,) = [e for e in consumer.of_type("aws:ec2/vpcEndpoint:VpcEndpoint") if e.name == "consumer-endpoint"]
    return [consumer.by_id(sid).state["availabilityZoneId"] for sid in endpoint.inputs["subnetIds"]]


def test_endpoint_subnets_only_where_the_service_is_offered_by_zone_id(chain):
    """The consumer names its zones differently from the IoT account: the
    endpoint's subnets are placed by the consumer's own look-up of the service."""
    iot, consumer = chain["iot-1"], chain["consumer"]
    offered = offered_zone_ids(iot)
    assert len(offered) == 2
    # Same names, other physical zones in the two accounts.
    gatekeeper_names = sorted(s.inputs["availabilityZone"] for s in iot.of_type("aws:ec2/subnet:Subnet"))
    consumer_ids_for_those_names = {
        s.state["availabilityZoneId"]
        for s in render("consumer", example_config("consumer") | {"availabilityZones": gatekeeper_names + ["us-west-2b", "us-west-2d"]},
                        iot_peers(chain)).of_type("aws:ec2/subnet:Subnet")
        if s.inputs["availabilityZone"] in gatekeeper_names
    }
    assert consumer_ids_for_those_names and not consumer_ids_for_those_names & offered
    assert sorted(endpoint_zone_ids(consumer)) == sorted(offered)
    lookups = [a for t, a in consumer.invokes if t == "aws:ec2/getVpcEndpointService:getVpcEndpointService"]
    assert lookups == [{"serviceName": iot.exports["endpointServiceName"]}]


def test_zones_the_service_does_not_offer_get_no_endpoint_subnet(chain):
    """With every zone of the region configured, the VPC spans them all but the
    endpoint only the offered ones (names matched across accounts put one in a
    zone the service does not offer)."""
    cfg = example_config("consumer") | {"availabilityZones": ["us-west-2a", "us-west-2b", "us-west-2c", "us-west-2d"]}
    consumer = render("consumer", cfg, iot_peers(chain))
    assert len(consumer.of_type("aws:ec2/subnet:Subnet")) == 4
    assert sorted(endpoint_zone_ids(consumer)) == sorted(offered_zone_ids(chain["iot-1"]))


def test_a_zone_added_to_the_offering_moves_no_consumer_subnet(chain):
    """The consumer's subnets follow its availabilityZones, whatever the endpoint service is offered
    in: a zone added to the offering (us-west-2a, sorting first) only adds a subnet to the endpoint."""
    cfg = example_config("consumer") | {"availabilityZones": ["us-west-2a", "us-west-2b", "us-west-2c", "us-west-2d"]}
    before = render("consumer", cfg, iot_peers(chain))
    service = chain["iot-1"].exports["endpointServiceName"]
    wider = Facts(stack="consumer", account="333333333333", region="us-west-2",
                  read_at=datetime(2026, 12, 4, tzinfo=timezone.utc),
                  facts={FACT_SERVICE_ZONES: Fact(value={service: ["us-west-2a", "us-west-2b", "us-west-2d"]},
                                                  source="ec2:DescribeVpcEndpointServices")})
    after = render_stack(PROJECT_DIR, "consumer", cfg, peers=iot_peers(chain), facts=wider)

    def subnets(rendered):
        return sorted((s.name, s.inputs["cidrBlock"], s.inputs["availabilityZone"])
                      for s in rendered.of_type("aws:ec2/subnet:Subnet"))

    def endpoint_zones(rendered):
        (endpoint,) = [e for e in rendered.of_type("aws:ec2/vpcEndpoint:VpcEndpoint") if e.name == "consumer-endpoint"]
        return sorted(rendered.by_id(sid).inputs["availabilityZone"] for sid in endpoint.inputs["subnetIds"])

    assert subnets(after) == subnets(before)
    assert endpoint_zones(before) == ["us-west-2b", "us-west-2d"]
    assert endpoint_zones(after) == ["us-west-2a", "us-west-2b", "us-west-2d"]


@pytest.mark.parametrize("zones", [["us-west-2a", "us-west-2b"], ["us-west-2a", "us-west-2c"]])
def test_fewer_than_two_offered_zones_are_refused(chain, zones):
    cfg = example_config("consumer") | {"availabilityZones": zones}
    with pytest.raises(Exception) as caught:
        render("consumer", cfg, iot_peers(chain))
    message = str(caught.value)
    assert f"availabilityZones [{', '.join(zones)}] overlaps" in message
    assert chain["iot-1"].exports["endpointServiceName"] in message
    assert "(us-west-2b, us-west-2d)" in message and "at least 2 of those zones" in message


def subnet_in(zone, skip=()):
    return next(s for s in (f"subnet-{i:017x}" for i in range(1, 200))
                if existing_subnet_zone(s, "us-west-2") == zone and s not in skip)


def existing_vpc_config(*subnets):
    cfg = example_config("consumer")
    del cfg["vpcCidr"], cfg["availabilityZones"]
    cfg["existingVpc"] = {"vpcId": "vpc-0123456789abcdef0", "vpcCidr": "10.40.0.0/16", "subnetIds": list(subnets)}
    return cfg


def test_existing_subnets_by_their_own_zone(chain):
    """Existing subnets: their zone comes from the subnet (get_subnet), and only
    those in offered zones carry the endpoint."""
    b, c, d = subnet_in("us-west-2b"), subnet_in("us-west-2c"), subnet_in("us-west-2d")
    rendered = render("consumer", existing_vpc_config(b, c, d), iot_peers(chain))
    (endpoint,) = [e for e in rendered.of_type("aws:ec2/vpcEndpoint:VpcEndpoint") if e.name == "consumer-endpoint"]
    assert endpoint.inputs["subnetIds"] == [b, d]
    assert sorted(a["id"] for t, a in rendered.invokes if t == "aws:ec2/getSubnet:getSubnet") == sorted([b, c, d])
    with pytest.raises(Exception, match=rf"existingVpc.subnetIds \[{b} \(us-west-2b\), {c} \(us-west-2c\)\] overlaps 1"):
        render("consumer", existing_vpc_config(b, c), iot_peers(chain))
    with pytest.raises(Exception, match="puts two subnets in one availability zone"):
        render("consumer", existing_vpc_config(b, subnet_in("us-west-2b", skip=(b,)), d), iot_peers(chain))


def test_endpoint_targets_the_iot_stack_service_with_private_dns_off(chain):
    consumer, iot = chain["consumer"], chain["iot-1"].exports
    (endpoint,) = [e for e in consumer.of_type("aws:ec2/vpcEndpoint:VpcEndpoint") if e.name == "consumer-endpoint"]
    assert endpoint.inputs["serviceName"] == iot["endpointServiceName"]
    assert endpoint.inputs["privateDnsEnabled"] is False
    assert consumer.exports["consumerEndpointId"] == endpoint.id


def consumer_sg_problems(rendered, vpc_cidr):
    problems = list(open_rules(rendered))
    for sg in rendered.of_type("aws:ec2/securityGroup:SecurityGroup"):
        for rule in sg.inputs.get("ingress") or []:
            if rule.get("cidrBlocks") != [vpc_cidr]:
                problems.append(f"{sg.name} admits {rule.get('cidrBlocks')}")
    return problems


def test_security_groups_admit_only_the_consumer_vpc(chain):
    consumer = chain["consumer"]
    assert consumer_sg_problems(consumer, "10.30.0.0/16") == []
    sg = next(r for r in consumer.resources if r.name == "consumer-endpoint-sg")
    wide = [dict(rule, cidrBlocks=["10.0.0.0/8"]) for rule in sg.inputs["ingress"]]
    assert consumer_sg_problems(broken(consumer, "consumer-endpoint-sg", ingress=wide), "10.30.0.0/16") == [
        "consumer-endpoint-sg admits ['10.0.0.0/8']", "consumer-endpoint-sg admits ['10.0.0.0/8']"]


def test_private_zones_resolve_the_data_host_and_custom_domain_to_this_endpoint(chain):
    consumer, iot = chain["consumer"], chain["iot-1"].exports
    zones = {z.inputs["name"]: z for z in consumer.of_type("aws:route53/zone:Zone")}
    assert set(zones) == {iot["dataEndpointHost"], iot["customDomain"]}
    (endpoint,) = [e for e in consumer.of_type("aws:ec2/vpcEndpoint:VpcEndpoint") if e.name == "consumer-endpoint"]
    for zone in zones.values():
        (record,) = [r for r in consumer.of_type("aws:route53/record:Record") if r.inputs["zoneId"] == zone.state["zoneId"]]
        assert record.inputs["name"] == zone.inputs["name"]
        assert record.inputs["aliases"][0]["name"] == endpoint.state["dnsEntries"][0]["dnsName"]
    assert consumer.exports["privateZoneId"] == zones[iot["dataEndpointHost"]].state["zoneId"]


def host_problems(rendered):
    problems = []
    for i in rendered.of_type(INSTANCE):
        if i.inputs.get("metadataOptions", {}).get("httpTokens") != "required":
            problems.append(f"{i.name}: IMDSv1 allowed")
        if i.inputs.get("rootBlockDevice", {}).get("encrypted") is not True:
            problems.append(f"{i.name}: root volume not encrypted")
        if i.inputs.get("keyName"):
            problems.append(f"{i.name}: SSH key")
        if i.inputs.get("associatePublicIpAddress") is not False:
            problems.append(f"{i.name}: public IP")
        if not i.inputs.get("iamInstanceProfile"):
            problems.append(f"{i.name}: no instance profile for SSM")
    return problems


def test_application_host_is_hardened_and_ssm_managed(chain):
    consumer = chain["consumer"]
    (host,) = consumer.of_type(INSTANCE)
    assert host_problems(consumer) == []
    ssm = sorted(e.inputs["serviceName"] for e in consumer.of_type("aws:ec2/vpcEndpoint:VpcEndpoint")
                 if e.name != "consumer-endpoint")
    assert ssm == ["com.amazonaws.us-west-2.ec2messages", "com.amazonaws.us-west-2.ssm", "com.amazonaws.us-west-2.ssmmessages"]
    (attach,) = consumer.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
    assert attach.inputs["policyArn"].endswith("AmazonSSMManagedInstanceCore")
    assert host.inputs["subnetId"] in [s.id for s in consumer.of_type("aws:ec2/subnet:Subnet")]


@pytest.mark.parametrize("change,problem", [
    ({"metadataOptions": {"httpTokens": "optional"}}, "IMDSv1 allowed"),
    ({"rootBlockDevice": {"encrypted": False}}, "root volume not encrypted"),
    ({"keyName": "ops"}, "SSH key"),
    ({"associatePublicIpAddress": True}, "public IP"),
])
def test_a_weakened_application_host_is_caught(chain, change, problem):
    consumer = chain["consumer"]
    assert host_problems(broken(consumer, "consumer-app", **change)) == [f"consumer-app: {problem}"]


def test_application_host_reads_its_ami_once_or_pins_it(chain):
    # A newer AMI behind the parameter must not replace the host on the next `pulumi up`.
    (host,) = chain["consumer"].of_type(INSTANCE)
    assert host.options.get("ignoreChanges") == ["ami"]
    cfg = example_config("consumer")
    cfg["applicationHost"] = {**cfg["applicationHost"], "amiId": "ami-0123456789abcdef0"}
    (pinned,) = render("consumer", cfg, iot_peers(chain)).of_type(INSTANCE)
    assert pinned.inputs["ami"] == "ami-0123456789abcdef0" and "ignoreChanges" not in pinned.options


def test_no_application_host_when_disabled(chain):
    cfg = example_config("consumer") | {"applicationHost": {"enabled": False}}
    rendered = render("consumer", cfg, iot_peers(chain))
    host_roles = [r.name for r in rendered.of_type("aws:iam/role:Role") if "NetworkEvidence" not in r.urn]
    assert rendered.of_type(INSTANCE) == [] and host_roles == []


def test_existing_vpc_and_subnets_are_used_as_given(chain):
    cfg = existing_vpc_config(subnet_in("us-west-2b"), subnet_in("us-west-2d"))
    rendered = render("consumer", cfg, iot_peers(chain))
    assert rendered.of_type("aws:ec2/vpc:Vpc") == [] and rendered.of_type("aws:ec2/subnet:Subnet") == []
    (endpoint,) = [e for e in rendered.of_type("aws:ec2/vpcEndpoint:VpcEndpoint") if e.name == "consumer-endpoint"]
    assert endpoint.inputs["vpcId"] == "vpc-0123456789abcdef0"
    assert endpoint.inputs["subnetIds"] == cfg["existingVpc"]["subnetIds"]
    assert rendered.exports["consumerVpcId"] == "vpc-0123456789abcdef0"


def test_consumer_range_must_not_overlap_the_gatekeeper(chain):
    cfg = example_config("consumer") | {"vpcCidr": "10.20.0.0/16"}
    with pytest.raises(Exception, match="vpcCidr 10.20.0.0/16 overlaps gatekeeperVpcCidr"):
        render("consumer", cfg, iot_peers(chain))


def test_consumer_needs_the_iot_stack_first():
    with pytest.raises(Exception, match="iotStack acme/private-mqtt-channel/iot has not exported"):
        render("consumer", example_config("consumer"), {})


def test_exports_follow_the_contract(chain):
    exports = chain["consumer"].exports
    assert {"accountId", "consumerVpcId", "consumerEndpointId", "privateZoneId"} <= set(exports)
    assert exports["accountId"] == "333333333333"
