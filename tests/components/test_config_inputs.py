"""Stack config inputs refused with the key, the value and the fix — each next to the input it must accept."""

from __future__ import annotations

import pytest

from components.config import ConfigError, load_config, validate_private_cidr
from policies.addresses import public_range_problem
from tests.support import example_config

CONSUMER = {"name": "analytics", "accountId": "333333333333"}
PRIVATE = r"the channel is private: use a private range, inside 10\.0\.0\.0/8, 172\.16\.0\.0/12, 192\.168\.0\.0/16 or 100\.64\.0\.0/10"


def loaded(stack: str, **changes):
    return load_config({**example_config(stack), **changes}, stack=stack)


# --- network ranges: private, an allow-list ---------------------------------------------------------

PUBLIC_RANGES = [
    ("network", "deviceVpcCidr", "100.10.0.0/16"),
    ("network", "gatekeeperVpcCidr", "8.8.0.0/16"),
    ("iot", "gatekeeperVpcCidr", "172.32.0.0/16"),  # just past 172.16.0.0/12
    ("consumer", "vpcCidr", "11.0.0.0/16"),
    ("network", "deviceVpcCidr", "192.169.0.0/16"),  # just past 192.168.0.0/16
]


@pytest.mark.parametrize("stack,key,cidr", PUBLIC_RANGES)
def test_a_public_vpc_range_is_refused_naming_the_key_and_the_private_ranges(stack, key, cidr):
    with pytest.raises(ConfigError, match=rf"^{key} {cidr} is a range holding public addresses — {PRIVATE}$"):
        loaded(stack, **{key: cidr})


def test_public_ranges_in_lists_and_maps_are_refused_by_the_same_rule():
    with pytest.raises(ConfigError, match=rf"^onPremCidrs\[1\] 8\.8\.8\.0/24 is a range holding public addresses — {PRIVATE}$"):
        loaded("network", onPremCidrs=["192.168.0.0/16", "8.8.8.0/24"])
    with pytest.raises(ConfigError, match=r"^consumers\[0\]\.vpcCidr 52\.0\.0\.0/16 is a range holding public"):
        loaded("iot", consumers=[dict(CONSUMER, vpcCidr="52.0.0.0/16")])
    existing = {"vpcId": "vpc-0123456789abcdef0", "vpcCidr": "3.5.0.0/16",
                "subnetIds": ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"]}
    config = {k: v for k, v in example_config("consumer").items() if k not in ("vpcCidr", "availabilityZones")}
    with pytest.raises(ConfigError, match=r"^existingVpc\.vpcCidr 3\.5\.0\.0/16 is a range holding public"):
        load_config({**config, "existingVpc": existing}, stack="consumer")


@pytest.mark.parametrize("cidr", ["127.0.0.0/16", "169.254.0.0/16"])
def test_loopback_and_link_local_number_no_network(cidr):
    with pytest.raises(ConfigError, match=rf"^deviceVpcCidr {cidr} is a loopback or link-local range, which numbers no network"):
        loaded("network", deviceVpcCidr=cidr)


@pytest.mark.parametrize("cidr", ["10.10.0.0/16", "172.16.0.0/16", "172.31.0.0/16", "192.168.0.0/16", "100.64.0.0/16"])
def test_every_private_range_is_accepted_for_a_vpc(cidr):
    assert loaded("network", deviceVpcCidr=cidr, onPremCidrs=["10.200.0.0/16"]).device_vpc_cidr == cidr
    assert loaded("consumer", vpcCidr=cidr).vpc_cidr == cidr


def test_the_rule_is_the_isolation_checks_rule():
    # What the configuration lets into a VPC or on-premises range, the isolation check never calls public.
    for cidr in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10"):
        assert validate_private_cidr("k", cidr) == cidr and public_range_problem(cidr) == ""
    for cidr in ("100.10.0.0/16", "172.32.0.0/16", "0.0.0.0/1"):
        with pytest.raises(ConfigError):
            validate_private_cidr("k", cidr)
        assert public_range_problem(cidr) != ""


# --- Direct Connect: two sides, two ASNs -----------------------------------------------------------


def direct_connect(**changes):
    return {"gatewayAsn": 64513, "connectionId": "dxcon-ffabc123", "vlan": 210, "customerAsn": 65010, **changes}


def test_a_customer_asn_equal_to_the_dx_gateways_amazon_side_asn_is_refused_naming_both_keys():
    with pytest.raises(ConfigError, match=(
        r"^directConnect\.customerAsn 64513 equals directConnect\.gatewayAsn 64513 \(the Direct Connect gateway's "
        r"Amazon side ASN\) — BGP needs a different ASN on each side: give the on-premises router's own ASN as "
        r"customerAsn, or choose another private ASN for gatewayAsn$")):
        loaded("network", directConnect=direct_connect(customerAsn=64513))
    with pytest.raises(ConfigError, match=r"customerAsn 64600 equals directConnect\.gatewayAsn 64600"):
        loaded("network", directConnect=direct_connect(gatewayAsn=64600, customerAsn=64600))


def test_different_asns_on_the_two_sides_are_accepted():
    dx = loaded("network", directConnect=direct_connect(customerAsn=64514)).direct_connect
    assert (dx.gateway_asn, dx.customer_asn) == (64513, 64514)


# --- consumers' VPC ranges -------------------------------------------------------------------------


def test_two_consumers_may_use_the_same_vpc_range():
    cfg = loaded("iot", consumers=[dict(CONSUMER, vpcCidr="10.30.0.0/16"),
                                   {"name": "billing", "accountId": "444444444444", "vpcCidr": "10.30.0.0/16"},
                                   {"name": "ops", "accountId": "555555555555", "vpcCidr": "10.30.0.0/17"}])
    assert [c.vpc_cidr for c in cfg.consumers] == ["10.30.0.0/16", "10.30.0.0/16", "10.30.0.0/17"]


def test_a_consumer_range_overlapping_the_gatekeeper_is_still_refused():
    consumers = [dict(CONSUMER, vpcCidr="10.30.0.0/16"), {"name": "ops", "accountId": "444444444444",
                                                          "vpcCidr": "10.20.0.0/20"}]
    with pytest.raises(ConfigError, match=(r"^gatekeeperVpcCidr 10\.20\.0\.0/16 overlaps consumers\[1\]\.vpcCidr "
                                           r"10\.20\.0\.0/20 — choose disjoint ranges$")):
        loaded("iot", consumers=consumers)
