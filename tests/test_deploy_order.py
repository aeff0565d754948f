"""The five-step order in one session: each stack's exports feed the next."""

from tests.support import FQ, open_rules

PHASE_TWO = {
    "network": {"aws:ec2transitgateway/vpcAttachmentAccepter:VpcAttachmentAccepter",
                "aws:route53/zoneAssociation:ZoneAssociation"},
    # The gatekeeper VPC's routes to the TGW wait for the accepted attachment.
    "iot": {"aws:ec2/vpcEndpointConnectionAccepter:VpcEndpointConnectionAccepter", "aws:ec2/route:Route"},
}


def types(rendered):
    return {r.type for r in rendered.resources}


def test_phase_two_resources_appear_only_once_their_inputs_exist(chain):
    assert not types(chain["network-1"]) & PHASE_TWO["network"]
    assert PHASE_TWO["network"] <= types(chain["network-2"])
    assert not types(chain["iot-1"]) & PHASE_TWO["iot"]
    assert PHASE_TWO["iot"] <= types(chain["iot-2"])


def test_second_updates_change_nothing_else(chain):
    """Phase 2 adds resources; everything the first update declared stays."""
    for first, second in (("network-1", "network-2"), ("iot-1", "iot-2")):
        before = {(r.type, r.name) for r in chain[first].resources}
        after = {(r.type, r.name) for r in chain[second].resources}
        assert before <= after
        added = {t for t, _ in after - before}
        stack = first.split("-")[0]
        assert added <= PHASE_TWO[stack] | {"aws:ec2transitgateway/routeTableAssociation:RouteTableAssociation",
                                            "aws:ec2transitgateway/route:Route"}


def test_references_read_exactly_the_upstream_exports(chain):
    refs = {step: {r.name: r.inputs.get("name") or r.id for r in chain[step].of_type("pulumi:pulumi:StackReference")}
            for step in chain}
    assert refs["iot-1"] == {"network-stack": FQ("network"), "consumer-analytics-stack": FQ("consumer")}
    assert refs["network-2"] == {"iot-stack": FQ("iot")}
    assert refs["consumer"] == {"iot-stack": FQ("iot")}
    # The network stack's second pass adds exactly what it accepted.
    first, second = dict(chain["network-1"].exports), dict(chain["network-2"].exports)
    assert second.pop("acceptedTransitGatewayAttachmentIds") == [chain["iot-1"].exports["transitGatewayAttachmentId"]]
    assert first.pop("acceptedTransitGatewayAttachmentIds") == []
    assert second == first
    assert chain["iot-2"].exports == chain["iot-1"].exports


def test_nothing_anywhere_is_open_to_the_internet(chain):
    for rendered in chain.values():
        assert open_rules(rendered) == []


def test_no_route_to_the_tgw_before_the_attachment_is_accepted(chain):
    """Routes through a pendingAcceptance attachment are reported to fail: the
    iot stack's first pass (before step 3) declares none."""
    tgw = chain["network-1"].exports["transitGatewayId"]
    first = [r for r in chain["iot-1"].of_type("aws:ec2/route:Route") if r.inputs.get("transitGatewayId") == tgw]
    last = [r for r in chain["iot-2"].of_type("aws:ec2/route:Route") if r.inputs.get("transitGatewayId") == tgw]
    assert first == []
    assert sorted(r.inputs["destinationCidrBlock"] for r in last) == ["10.10.0.0/16", "192.168.0.0/16"]
