"""Network account: device VPC, Resolver, TGW + RAM, Direct Connect, phase 2."""

import pytest

from tests.support import FQ, broken, example_config, render, without

FORBIDDEN_TYPES = {
    "aws:ec2/internetGateway:InternetGateway",
    "aws:ec2/egressOnlyInternetGateway:EgressOnlyInternetGateway",
    "aws:ec2/natGateway:NatGateway",
    "aws:ec2/eip:Eip",
}


def gateways_and_public_ips(rendered):
    found = [r.name for r in rendered.resources if r.type in FORBIDDEN_TYPES]
    found += [r.name for r in rendered.of_type("aws:ec2/subnet:Subnet") if r.inputs.get("mapPublicIpOnLaunch") is not False]
    return found


def test_device_vpc_is_private_with_subnets_in_two_azs(chain):
    net = chain["network-1"]
    subnets = net.of_type("aws:ec2/subnet:Subnet")
    assert sorted(s.inputs["availabilityZone"] for s in subnets) == ["us-west-2a", "us-west-2b"]
    assert gateways_and_public_ips(net) == []


def test_a_public_subnet_or_gateway_is_caught(chain):
    net = chain["network-1"]
    assert gateways_and_public_ips(broken(net, "channel-subnet-us-west-2a", mapPublicIpOnLaunch=True)) == [
        "channel-subnet-us-west-2a"
    ]
    igw = broken(net, "channel-vpc")
    next(r for r in igw.resources if r.name == "channel-vpc").type = "aws:ec2/internetGateway:InternetGateway"
    assert gateways_and_public_ips(igw) == ["channel-vpc"]


def resolver_problems(rendered, on_prem):
    problems = []
    (endpoint,) = rendered.of_type("aws:route53/resolverEndpoint:ResolverEndpoint")
    if endpoint.inputs["direction"] != "INBOUND":
        problems.append("direction")
    addresses = endpoint.inputs["ipAddresses"]
    if len(addresses) < 2 or len({a["subnetId"] for a in addresses}) != len(addresses):
        problems.append("fewer than 2 IPs in distinct subnets")
    (sg,) = [r for r in rendered.of_type("aws:ec2/securityGroup:SecurityGroup") if r.name.endswith("resolver-sg")]
    rules = {(r["protocol"], r["fromPort"], r["toPort"], tuple(r["cidrBlocks"])) for r in sg.inputs.get("ingress", [])}
    if rules != {("tcp", 53, 53, tuple(on_prem)), ("udp", 53, 53, tuple(on_prem))}:
        problems.append(f"resolver ingress {sorted(rules)}")
    if sg.inputs.get("egress"):
        problems.append("resolver egress")
    return problems


def test_resolver_inbound_admits_dns_only_from_on_prem(chain):
    net = chain["network-1"]
    assert resolver_problems(net, ["192.168.0.0/16"]) == []
    assert net.exports["resolverInboundIps"] == ["10.10.0.10", "10.10.32.10"]


def test_a_widened_resolver_rule_is_caught(chain):
    net = chain["network-1"]
    sg = next(r for r in net.resources if r.name == "channel-resolver-sg")
    wide = [dict(rule, cidrBlocks=["10.0.0.0/8"]) for rule in sg.inputs["ingress"]]
    assert resolver_problems(broken(net, "channel-resolver-sg", ingress=wide), ["192.168.0.0/16"])
    other_port = [dict(rule, fromPort=22, toPort=22) for rule in sg.inputs["ingress"]]
    assert resolver_problems(broken(net, "channel-resolver-sg", ingress=other_port), ["192.168.0.0/16"])


def test_transit_gateway_does_not_auto_accept_and_is_shared_with_the_iot_account(chain):
    net = chain["network-1"]
    (tgw,) = net.of_type("aws:ec2transitgateway/transitGateway:TransitGateway")
    assert tgw.inputs["autoAcceptSharedAttachments"] == "disable"
    (assoc,) = net.of_type("aws:ram/resourceAssociation:ResourceAssociation")
    assert assoc.inputs["resourceArn"] == tgw.state["arn"]
    (principal,) = net.of_type("aws:ram/principalAssociation:PrincipalAssociation")
    assert principal.inputs["principal"] == "222222222222"
    (share,) = net.of_type("aws:ram/resourceShare:ResourceShare")
    assert share.inputs["allowExternalPrincipals"] is True


def test_same_organization_share_stays_inside_the_organization():
    cfg = example_config("network") | {"sameOrganization": True}
    (share,) = render("network", cfg).of_type("aws:ram/resourceShare:ResourceShare")
    assert share.inputs["allowExternalPrincipals"] is False


def test_direct_connect_gateway_advertises_exactly_the_two_vpcs(chain):
    net = chain["network-1"]
    (assoc,) = net.of_type("aws:directconnect/gatewayAssociation:GatewayAssociation")
    (tgw,) = net.of_type("aws:ec2transitgateway/transitGateway:TransitGateway")
    assert assoc.inputs["associatedGatewayId"] == tgw.id
    assert sorted(assoc.inputs["allowedPrefixes"]) == ["10.10.0.0/16", "10.20.0.0/16"]
    (vif,) = net.of_type("aws:directconnect/transitVirtualInterface:TransitVirtualInterface")
    assert vif.inputs["connectionId"] == "dxcon-ffabc123" and vif.inputs["vlan"] == 210


def test_no_transit_vif_without_a_connection_and_it_says_so():
    cfg = example_config("network")
    cfg["directConnect"] = {"gatewayAsn": 64513}
    net = render("network", cfg)
    assert net.of_type("aws:directconnect/transitVirtualInterface:TransitVirtualInterface") == []
    assert any("connectionId is not set" in m for m in net.info())


def device_routes(rendered):
    (tgw,) = rendered.of_type("aws:ec2transitgateway/transitGateway:TransitGateway")
    return sorted(
        r.inputs["destinationCidrBlock"]
        for r in rendered.of_type("aws:ec2/route:Route")
        if r.inputs.get("transitGatewayId") == tgw.id
    )


def test_device_vpc_routes_to_on_prem_and_gatekeeper_through_the_tgw(chain):
    net = chain["network-1"]
    assert device_routes(net) == ["10.20.0.0/16", "192.168.0.0/16"]
    (attachment,) = net.of_type("aws:ec2transitgateway/vpcAttachment:VpcAttachment")
    assert len(attachment.inputs["subnetIds"]) == 2
    assert device_routes(without(net, "channel-route-onprem-192-168-0-0-16")) == ["10.20.0.0/16"]


PHASE_2 = {
    "aws:ec2transitgateway/vpcAttachmentAccepter:VpcAttachmentAccepter",
    "aws:route53/zoneAssociation:ZoneAssociation",
}


def test_phase_two_waits_for_the_iot_stack_and_says_so(chain):
    first = chain["network-1"]
    assert not [r for r in first.resources if r.type in PHASE_2]
    assert any("transitGatewayAttachmentId" in m for m in first.info())
    assert any("privateZoneIds" in m for m in first.info())


def test_phase_two_accepts_routes_and_associates_every_zone(chain):
    second, iot = chain["network-2"], chain["iot-1"]
    (accepter,) = second.of_type("aws:ec2transitgateway/vpcAttachmentAccepter:VpcAttachmentAccepter")
    assert accepter.inputs["transitGatewayAttachmentId"] == iot.exports["transitGatewayAttachmentId"]
    static = {
        r.inputs["destinationCidrBlock"]: r.inputs["transitGatewayAttachmentId"]
        for r in second.of_type("aws:ec2transitgateway/route:Route")
    }
    assert static["10.20.0.0/16"] == iot.exports["transitGatewayAttachmentId"]
    associated = {r.inputs["zoneId"] for r in second.of_type("aws:route53/zoneAssociation:ZoneAssociation")}
    assert associated == set(iot.exports["privateZoneIds"].values())
    (vpc,) = second.of_type("aws:ec2/vpc:Vpc")
    assert {r.inputs["vpcId"] for r in second.of_type("aws:route53/zoneAssociation:ZoneAssociation")} == {vpc.id}


def test_only_the_missing_step_is_skipped():
    """iot stack exported its zones but not (yet) its attachment: zones go ahead."""
    peers = {FQ("iot"): {"privateZoneIds": {"x-ats.iot.us-west-2.amazonaws.com": "ZABC"}}}
    net = render("network", example_config("network"), peers)
    assert net.of_type("aws:ec2transitgateway/vpcAttachmentAccepter:VpcAttachmentAccepter") == []
    assert [r.inputs["zoneId"] for r in net.of_type("aws:route53/zoneAssociation:ZoneAssociation")] == ["ZABC"]
    assert any("transitGatewayAttachmentId" in m for m in net.info())


def test_without_the_iot_reference_no_stack_reference_is_made():
    cfg = example_config("network")
    del cfg["iotStack"]
    net = render("network", cfg)
    assert net.of_type("pulumi:pulumi:StackReference") == []
    assert any("iotStack is not set" in m for m in net.info())


def test_gatekeeper_range_must_match_the_iot_stack():
    # The program turns the ConfigError into a RunError, as the CLI shows it.
    peers = {FQ("iot"): {"gatekeeperVpcCidr": "10.99.0.0/16"}}
    with pytest.raises(Exception, match="gatekeeperVpcCidr 10.20.0.0/16 differs from the iot stack's export"):
        render("network", example_config("network"), peers)


NETWORK_EXPORTS = {
    "accountId", "region", "deviceVpcId", "deviceVpcCidr", "onPremCidrs", "transitGatewayId",
    "resourceShareArn", "resolverInboundIps", "directConnectGatewayId", "iotAccountId",
    "sameOrganization",
}


def test_exports_follow_the_contract(chain):
    exports = chain["network-1"].exports
    assert NETWORK_EXPORTS <= set(exports)
    assert all(exports[k] not in (None, "", []) for k in NETWORK_EXPORTS)
    assert exports["accountId"] == "111111111111" and exports["onPremCidrs"] == ["192.168.0.0/16"]
