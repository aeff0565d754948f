"""Each stack refuses an upstream stack that is not part of the same channel (region, account, ranges).

These refusals protect a `pulumi up` run without `channelctl plan`: each stack compares what its
upstream stack exported with its own configuration, before any resource is declared.
"""

from __future__ import annotations

import pytest

from tests.support import FQ, example_config, render


def _with(exports: dict, **changes) -> dict:
    return {**exports, **changes}


# --------------------------------------------------------------------------- #
# iot (step 2) reads the network stack
# --------------------------------------------------------------------------- #


def test_iot_attaches_to_a_network_stack_of_its_region(chain):
    iot = render("iot", example_config("iot"), {FQ("network"): chain["network-1"].exports})
    assert iot.of_type("aws:ec2transitgateway/vpcAttachment:VpcAttachment")


def test_iot_refuses_a_network_stack_in_another_region(chain):
    peers = {FQ("network"): _with(chain["network-1"].exports, region="eu-west-1")}
    with pytest.raises(Exception, match=r"region us-west-2 differs from the region eu-west-1 exported by "
                                        r"networkStack acme/private-mqtt-channel/network — a VPC attaches only to a "
                                        r"Transit Gateway"):
        render("iot", example_config("iot"), peers)


def test_iot_refuses_a_transit_gateway_shared_with_another_account(chain):
    assert chain["network-1"].exports["iotAccountId"] == "222222222222"
    peers = {FQ("network"): _with(chain["network-1"].exports, iotAccountId="999999999999")}
    with pytest.raises(Exception, match=r"accountId 222222222222 is not the account networkStack .* shares its "
                                        r"Transit Gateway with \(its iotAccountId is 999999999999\)"):
        render("iot", example_config("iot"), peers)


def test_iot_accepts_the_share_the_way_the_network_stack_made_it(chain):
    assert chain["network-1"].exports["sameOrganization"] is False
    iot_config = dict(example_config("iot"), sameOrganization=True)
    peers = {FQ("network"): _with(chain["network-1"].exports, sameOrganization=True)}
    iot = render("iot", iot_config, peers)
    assert iot.of_type("aws:ram/resourceShareAccepter:ResourceShareAccepter") == []


def test_iot_refuses_to_accept_a_share_made_the_other_way(chain):
    peers = {FQ("network"): _with(chain["network-1"].exports, sameOrganization=True)}
    with pytest.raises(Exception, match=r"sameOrganization false differs from the sameOrganization true exported by "
                                        r"networkStack acme/private-mqtt-channel/network"):
        render("iot", example_config("iot"), peers)


# --------------------------------------------------------------------------- #
# network (step 3) reads the iot stack
# --------------------------------------------------------------------------- #


def test_network_accepts_the_iot_stack_of_its_iot_account(chain):
    net = render("network", example_config("network"), {FQ("iot"): chain["iot-1"].exports})
    assert net.of_type("aws:ec2transitgateway/vpcAttachmentAccepter:VpcAttachmentAccepter")


def test_network_refuses_an_iot_stack_of_another_account(chain):
    peers = {FQ("iot"): _with(chain["iot-1"].exports, accountId="999999999999")}
    with pytest.raises(Exception, match=r"iotAccountId 222222222222 differs from the accountId 999999999999 exported "
                                        r"by iotStack"):
        render("network", example_config("network"), peers)


def test_network_refuses_an_iot_stack_in_another_region(chain):
    peers = {FQ("iot"): _with(chain["iot-1"].exports, region="eu-west-1")}
    with pytest.raises(Exception, match=r"region us-west-2 differs from the region eu-west-1 exported by iotStack"):
        render("network", example_config("network"), peers)


# --------------------------------------------------------------------------- #
# consumer (step 4) reads the iot stack; iot (step 5) reads the consumer stack
# --------------------------------------------------------------------------- #


def test_consumer_connects_to_an_endpoint_service_of_its_region(chain):
    consumer = render("consumer", example_config("consumer"), {FQ("iot"): chain["iot-1"].exports})
    assert consumer.exports["consumerEndpointId"]


def test_consumer_refuses_an_iot_stack_in_another_region(chain):
    peers = {FQ("iot"): _with(chain["iot-1"].exports, region="us-east-1")}
    with pytest.raises(Exception, match=r"region us-west-2 differs from the region us-east-1 exported by iotStack "
                                        r".*does not use cross-Region PrivateLink"):
        render("consumer", example_config("consumer"), peers)


def test_consumer_refuses_an_iot_stack_that_does_not_allow_its_account(chain):
    assert chain["iot-1"].exports["consumerAccountIds"] == ["333333333333"]
    peers = {FQ("iot"): _with(chain["iot-1"].exports, consumerAccountIds=["444444444444"])}
    with pytest.raises(Exception, match=r"accountId 333333333333 is not among the consumer accounts iotStack "
                                        r"acme/private-mqtt-channel/iot allows on its endpoint service "
                                        r"\(444444444444\)"):
        render("consumer", example_config("consumer"), peers)


def _iot_peers(chain, consumer_exports: dict) -> dict:
    return {FQ("network"): chain["network-2"].exports, FQ("consumer"): consumer_exports}


def test_iot_accepts_a_consumer_whose_range_matches_its_entry(chain):
    iot = render("iot", example_config("iot"), _iot_peers(chain, chain["consumer"].exports))
    assert iot.of_type("aws:ec2/vpcEndpointConnectionAccepter:VpcEndpointConnectionAccepter")


def test_iot_refuses_a_consumer_whose_range_differs_from_its_entry(chain):
    assert chain["consumer"].exports["consumerVpcCidr"] == "10.30.0.0/16"
    exports = _with(chain["consumer"].exports, consumerVpcCidr="10.31.0.0/16")
    with pytest.raises(Exception, match=r"consumers\[analytics\]\.vpcCidr 10\.30\.0\.0/16 differs from stack "
                                        r"acme/private-mqtt-channel/consumer's consumerVpcCidr 10\.31\.0\.0/16"):
        render("iot", example_config("iot"), _iot_peers(chain, exports))
