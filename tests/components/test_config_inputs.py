"""Stack config inputs refused with the key, the value and the fix — each next to the input it must accept."""

from __future__ import annotations

import math

import pytest

from components.config import (
    AuthorizerConfig,
    ConfigError,
    authorizer_sizing,
    load_config,
    validate_private_cidr,
    validate_reserved_concurrency,
)
from components.proxy_capacity import authorizer_stage
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


# --- authorizer.reservedConcurrency: sized from the fleet ------------------------------------------

# The example fleet (150,000 devices, reconnect target 900 s, refresh 900 s) with the project's own scrypt
# at 512 MB: 166.7 CONNECT/s + 166.7 refreshes/s = 333.3 invocations/s x 299.60 ms = 99.9 -> 100.
SCRYPT = AuthorizerConfig(unknown_user_hash="scrypt", memory_size=512, refresh_after_seconds=900)
FLEET = {"reconnect_target_seconds": 900, "iot_connects_per_second": 500}
HOW = (r"\(166\.7 CONNECT/s x 727\.0 ms \+ 166\.7 policy refreshes/s x 727\.0 ms: CONNECT/s = expectedDevices "
       r"150,000 / capacity\.reconnectTargetSeconds 900, refreshes/s = expectedDevices / "
       r"authorizer\.refreshAfterSeconds 900; unknownUserHash scrypt at 512 MB, registry scrypt:ln=15,r=8,p=1: "
       r"210\.4 ms of one vCPU per CONNECT \(each verified\), 210\.4 ms per policy refresh, DynamoDB latency "
       r"not included\)")


def scrypt_authorizer(**changes):
    authorizer = dict(example_config("iot")["authorizer"], unknownUserHash="scrypt", memorySize=512)
    return {**authorizer, **changes}


def test_the_sizing_is_invocations_per_second_times_the_seconds_per_decision():
    sizing = authorizer_sizing(150_000, SCRYPT, **FLEET)
    # One scrypt verification per call (the registry of a scrypt table), 210.4 ms of a vCPU, at 0.29 vCPU.
    assert sizing.concurrency == 243
    assert math.isclose(sizing.invocations_per_second, 150_000 / 900 * 2)
    assert math.isclose(sizing.decision_s, 0.2104 / (512 / 1769), rel_tol=1e-3)


def test_connects_beyond_the_iot_core_quota_never_reach_the_authorizer():
    sizing = authorizer_sizing(1_000_000, SCRYPT, **FLEET)
    # 1,111 CONNECT/s wanted, IoT Core passes 500; plus 1,111 refreshes/s.
    assert math.isclose(sizing.invocations_per_second, 500 + 1_000_000 / 900)
    assert "CONNECT/s = expectedDevices 1,000,000 / capacity.reconnectTargetSeconds 900 " \
           "(capacity.iotConnectsPerSecond)" in sizing.how and sizing.how.startswith("500.0 CONNECT/s x")


@pytest.mark.parametrize("devices,target,memory,scheme", [
    (150_000, 900, 512, "scrypt"), (10_000, 60, 1769, "scrypt"), (400_000, 900, 512, "mosquitto-pbkdf2:101"),
    (50_000, 300, 128, "mosquitto-sha512"), (150_000, 900, 3008, "scrypt:ln=14,r=8,p=1"),
])
def test_the_suggested_value_carries_the_storm_the_capacity_check_measures(devices, target, memory, scheme):
    authorizer = AuthorizerConfig(unknown_user_hash=scheme, memory_size=memory)
    sizing = authorizer_sizing(devices, authorizer, reconnect_target_seconds=target, iot_connects_per_second=10_000)
    stage = authorizer_stage(sizing.concurrency, memory, scheme)
    assert stage.per_second >= devices / target  # the capacity check's storm passes this stage
    if sizing.concurrency > 1:  # and it is the smallest value that serves every invocation
        assert authorizer_stage(sizing.concurrency - 1, memory, scheme).per_second < sizing.invocations_per_second


def test_a_reservation_below_1_suggests_the_sized_value():
    with pytest.raises(ConfigError, match=(r"^authorizer\.reservedConcurrency 0 is below 1 — it would throttle every "
                                           rf"connection; set it to at least 243 {HOW}, or unset the key")):
        loaded("iot", authorizer=scrypt_authorizer(reservedConcurrency=0))


def test_the_sized_value_and_no_reservation_are_accepted():
    assert loaded("iot", authorizer=scrypt_authorizer(reservedConcurrency=243)).authorizer.reserved_concurrency == 243
    assert loaded("iot", authorizer=scrypt_authorizer(reservedConcurrency=None)).authorizer.reserved_concurrency is None


def test_a_reservation_over_the_quota_suggests_the_sized_value_within_it():
    needed = authorizer_sizing(150_000, SCRYPT, **FLEET)
    with pytest.raises(ConfigError, match=(
        r"^authorizer\.reservedConcurrency 5000 would leave 0 of the account's 1,000 Lambda concurrent executions "
        rf".* — lower authorizer\.reservedConcurrency to 243 {HOW}, at most 900; request a quota increase; or unset it")):
        validate_reserved_concurrency("authorizer.reservedConcurrency", 5000, 1_000, needed=needed)
    assert validate_reserved_concurrency("authorizer.reservedConcurrency", 900, 1_000, needed=needed) == 900


def test_a_quota_too_small_for_the_fleet_says_which_quota_to_ask_for():
    needed = authorizer_sizing(150_000, SCRYPT, **FLEET)
    with pytest.raises(ConfigError, match=(
        r"^authorizer\.reservedConcurrency 80 would leave 70 of the account's 150 .* — request a quota increase, lower "
        r"authorizer\.reservedConcurrency to at most 50, or unset it \(no reservation\); the fleet needs at least 243 "
        rf"{HOW}, so ask for a quota of at least 343$")):
        validate_reserved_concurrency("authorizer.reservedConcurrency", 80, 150, needed=needed)
