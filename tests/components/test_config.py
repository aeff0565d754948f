"""Typed config: every refusal names the key, shows the value, says the fix."""

from __future__ import annotations

import copy

import pytest

from components.config import (
    ConfigError,
    IotConfig,
    NetworkConfig,
    ConsumerConfig,
    data_endpoint_count,
    load_config,
)
from tests.support import example_config


def with_changes(stack: str, **changes):
    cfg = example_config(stack)
    for key, value in changes.items():
        if value is DELETE:
            cfg.pop(key, None)
        else:
            cfg[key] = value
    return cfg


DELETE = object()


def test_examples_load_as_their_roles():
    assert isinstance(load_config(example_config("network"), stack="network"), NetworkConfig)
    assert isinstance(load_config(example_config("iot"), stack="iot"), IotConfig)
    assert isinstance(load_config(example_config("consumer"), stack="consumer"), ConsumerConfig)


def test_pulumi_string_forms_are_parsed():
    """Pulumi hands structured values to the program as JSON text, numbers as strings."""
    raw = {k: (v if isinstance(v, str) else __import__("json").dumps(v)) for k, v in example_config("iot").items()}
    cfg = load_config(raw, stack="iot")
    assert cfg.expected_devices == 150_000
    assert cfg.consumers[0].account_id == "333333333333"


CONSUMER = {"name": "analytics", "accountId": "333333333333"}

REFUSED = [
    # a pinned AMI for the application host
    ("consumer", {"applicationHost": {"enabled": True, "amiId": "ami-xyz"}},
     r"applicationHost\.amiId 'ami-xyz' is not an AMI ID"),
    ("consumer", {"applicationHost": {"enabled": True, "amiId": "ami-0123456789abcdef0", "amiParameter": "/a/b"}},
     r"applicationHost\.amiId ami-0123456789abcdef0 conflicts with applicationHost\.amiParameter"),
    # invalid CIDRs
    ("network", {"deviceVpcCidr": "10.10.0.0/33"}, r"deviceVpcCidr '10\.10\.0\.0/33' is not a valid IPv4 CIDR"),
    ("network", {"deviceVpcCidr": "10.10.0.1/16"}, r"deviceVpcCidr .*host bits set.*network address"),
    ("network", {"onPremCidrs": ["192.168.0.0/16", "banana"]}, r"onPremCidrs\[1\] 'banana' is not a valid IPv4 CIDR"),
    ("iot", {"gatekeeperVpcCidr": "10.20.0.0/8"}, r"gatekeeperVpcCidr 10\.0\.0\.0/8|gatekeeperVpcCidr '10\.20\.0\.0/8'"),
    ("consumer", {"vpcCidr": "fd00::/64"}, r"vpcCidr 'fd00::/64' is IPv6"),
    # overlaps among device VPC, gatekeeper VPC, consumer VPC and on-prem
    ("network", {"gatekeeperVpcCidr": "10.10.0.0/16"},
     r"deviceVpcCidr 10\.10\.0\.0/16 overlaps gatekeeperVpcCidr 10\.10\.0\.0/16 — choose disjoint ranges"),
    ("network", {"onPremCidrs": ["10.0.0.0/8"]}, r"deviceVpcCidr 10\.10\.0\.0/16 overlaps onPremCidrs\[0\] 10\.0\.0\.0/8"),
    ("network", {"onPremCidrs": ["192.168.0.0/16", "10.20.5.0/24"]},
     r"gatekeeperVpcCidr 10\.20\.0\.0/16 overlaps onPremCidrs\[1\] 10\.20\.5\.0/24"),
    ("iot", {"consumers": [dict(CONSUMER, vpcCidr="10.20.0.0/20")]},
     r"gatekeeperVpcCidr 10\.20\.0\.0/16 overlaps consumers\[0\]\.vpcCidr 10\.20\.0\.0/20"),
    # fewer than 2 availability zones
    ("network", {"availabilityZones": ["us-west-2a"]}, r"availabilityZones \['us-west-2a'\] names 1 availability zone"),
    ("consumer", {"availabilityZones": []}, r"availabilityZones \[\] names 0 availability zone"),
    ("iot", {"availabilityZones": ["us-west-2a"]}, r"availabilityZones \['us-west-2a'\] names 1 availability zone"),
    # the gatekeeper's zones: configured, never picked from what AWS offers (components/config/iot.py)
    ("iot", {"availabilityZones": DELETE},
     r"availabilityZones is required — list 2 to 6 zones of us-west-2 where this account is offered iot\.data .*"
     r"channelctl discover iot.*add zones only at the end of the list"),
    ("iot", {"availabilityZones": "us-west-2a"}, r"availabilityZones 'us-west-2a' is not a list"),
    ("iot", {"availabilityZones": ["us-west-2a", "us-west-2a"]}, r"availabilityZones .* repeats a zone"),
    ("iot", {"availabilityZones": ["us-west-2a", "eu-west-1b"]}, r"'eu-west-1b' is not an availability zone of region us-west-2"),
    ("iot", {"availabilityZones": [f"us-west-2{z}" for z in "abcdefg"]}, r"names 7 zones — at most 6"),
    ("iot", {"availabilityZones": DELETE, "availabilityZoneCount": 2},
     r"availabilityZoneCount 2 is no longer read — .* first 2 zones, in name order, that offered iot\.data .*"
     r"aws ec2 describe-subnets --filters Name=vpc-id,Values=\$\(pulumi stack output gatekeeperVpcId\).*"
     r"as availabilityZones and remove availabilityZoneCount"),
    ("iot", {"availabilityZoneCount": 2},
     r"availabilityZoneCount 2 is no longer read: availabilityZones names the gatekeeper's zones — remove "
     r"availabilityZoneCount"),
    ("network", {"availabilityZones": ["us-west-2a", "eu-west-1b"]}, r"'eu-west-1b' is not an availability zone of region us-west-2"),
    # account IDs
    ("network", {"accountId": "11111111111"}, r"accountId '11111111111' is not an AWS account ID — give the 12 digits"),
    ("network", {"iotAccountId": "22222222222x"}, r"iotAccountId '22222222222x' is not an AWS account ID"),
    ("iot", {"consumers": [{"name": "a1", "accountId": "3333"}]}, r"consumers\[0\]\.accountId '3333' is not an AWS account ID"),
    # consumer account equal to the IoT account, or *
    ("iot", {"consumers": [{"name": "self", "accountId": "222222222222"}]},
     r"consumers\[0\]\.accountId 222222222222 is the IoT account itself"),
    ("iot", {"consumers": [{"name": "everyone", "accountId": "*"}]},
     r"consumers\[0\]\.accountId '\*' would let every AWS account connect"),
    # duplicate consumer names
    ("iot", {"consumers": [CONSUMER, {"name": "analytics", "accountId": "444444444444"}]},
     r"consumers\[1\]\.name 'analytics' duplicates consumers\[0\]\.name"),
    # unknown role
    ("network", {"role": "gateway"}, r"role 'gateway' is not a role — set role to one of network, iot, consumer"),
    # unknown keys: a typo is never silently ignored
    ("iot", {"expectedDevice": 5}, r"unknown key\(s\) for a iot stack: expectedDevice \(did you mean expectedDevices\?\)"),
    ("network", {"directConnect": {"gatewayAsn": 64513, "vlann": 5}}, r"directConnect has unknown key\(s\) vlann"),
    # expectedDevices beyond what one VPC's endpoints can serve
    ("iot", {"expectedDevices": 5_000_000},
     r"expectedDevices 5000000 needs 50 iot\.data endpoints .* one VPC holds 50 interface endpoints by default "
     r"\(Service Quotas L-29B6F2EB\) and 6 are taken \(iot\.credentials, greengrass, s3, ssm, ssmmessages, "
     r"ec2messages\) — split the fleet across gatekeeper stacks or lower expectedDevices to at most 4,400,000"),
    # Greengrass core devices need the credentials endpoint (AWS's core-device-in-VPC guide)
    ("iot", {"enableCredentialsEndpoint": False},
     r"enableGreengrassEndpoint true with enableCredentialsEndpoint false — Greengrass core devices in a VPC need "
     r"the iot\.credentials endpoint .* set enableCredentialsEndpoint true or enableGreengrassEndpoint false"),
    # reserved concurrency: positive, or unset
    ("iot", {"authorizer": {"enabled": True, "reservedConcurrency": 0}},
     r"authorizer\.reservedConcurrency 0 is below 1 — .* or unset the key"),
    ("iot", {"expectedDevices": "lots"}, r"expectedDevices 'lots' is not a whole number"),
    # required keys
    ("consumer", {"iotStack": DELETE}, r"iotStack is required — set it with `pulumi config set iotStack <value>`"),
    ("network", {"directConnect": {"connectionId": "dxcon-ffabc123"}}, r"directConnect\.vlan is required"),
    ("network", {"assumeRoleArn": "arn:aws:iam::999999999999:role/x"}, r"assumeRoleArn .* is in account 999999999999, not accountId 111111111111"),
    ("network", {"transitGatewayAsn": 64513}, r"directConnect\.gatewayAsn 64513 equals transitGatewayAsn 64513"),
    # capacity
    ("iot", {"capacity": {"reconnectTargetSecond": 900}}, r"capacity has unknown key\(s\) reconnectTargetSecond"),
    ("iot", {"capacity": {"reconnectTargetSeconds": 0}}, r"capacity.reconnectTargetSeconds 0 is out of range — give 1-86400"),
    ("iot", {"capacity": {"iotConnectsPerSecond": 0}}, r"capacity.iotConnectsPerSecond 0 is below 1 — give the account's IoT"),
    ("iot", {"capacity": {"deviceKeepAliveSeconds": 70_000}}, r"capacity.deviceKeepAliveSeconds 70000 is not an MQTT keep-alive"),
    ("iot", {"capacity": "fast"}, r"capacity 'fast' is not a map"),
]


@pytest.mark.parametrize("stack,changes,message", REFUSED, ids=[m[:40] for _, _, m in REFUSED])
def test_refused_with_key_value_and_fix(stack, changes, message):
    with pytest.raises(ConfigError, match=message):
        load_config(with_changes(stack, **changes), stack=stack)


def test_gatekeeper_zones_keep_their_order():
    """Subnet i is in availabilityZones[i]: the list is taken as written, not sorted (a zone
    written first stays first), so a zone added at the end takes the next address slot."""
    assert load_config(with_changes("iot"), stack="iot").availability_zones == ("us-west-2a", "us-west-2c")
    cfg = load_config(with_changes("iot", availabilityZones=["us-west-2d", "us-west-2a", "us-west-2c"]), stack="iot")
    assert cfg.availability_zones == ("us-west-2d", "us-west-2a", "us-west-2c")
    assert cfg.availability_zone_count == 3


def test_capacity_defaults_and_json_form():
    cfg = load_config(with_changes("iot"), stack="iot")
    assert (cfg.capacity.reconnect_target_seconds, cfg.capacity.iot_connects_per_second,
            cfg.capacity.device_keep_alive_seconds) == (900, 500, 230)
    raised = load_config(with_changes("iot", capacity='{"iotConnectsPerSecond": "2000"}'), stack="iot")
    assert raised.capacity.iot_connects_per_second == 2000


def test_role_defaults_to_first_word_of_stack_name():
    cfg = example_config("consumer")
    assert load_config(cfg, stack="consumer-legacy").common.role == "consumer"
    with pytest.raises(ConfigError, match=r"role \(defaulted from stack name 'legacy-consumer'\) 'legacy' is not a role"):
        load_config(cfg, stack="legacy-consumer")


def test_role_key_overrides_stack_name():
    cfg = example_config("consumer") | {"role": "consumer"}
    assert load_config(cfg, stack="analytics").common.role == "consumer"


def test_expected_devices_sizes_data_endpoints_for_both_limits():
    assert data_endpoint_count(1, 2) == 1
    assert data_endpoint_count(100_000, 2) == 1
    assert data_endpoint_count(100_001, 2) == 2
    # 3 AZs: 100,000 per endpoint would allow 1 endpoint for 160,000 devices…
    # but 160,000 / 3 targets = 53,333 — fine; 170,000 / 3 = 56,667 is not.
    assert data_endpoint_count(170_000, 3) == 2
    assert data_endpoint_count(4_800_000, 2) == 48


def test_largest_fleet_that_fits_is_accepted_and_one_more_endpoint_is_not():
    # The proxy fleet's size is checked separately; this is about endpoints.
    # Every interface endpoint of the VPC counts: iot.credentials, and for
    # Greengrass core devices the Greengrass control plane and S3 — 3 taken.
    ok = with_changes("iot", expectedDevices=4_700_000, deviceAccess=DELETE)
    assert load_config(ok, stack="iot").data_endpoint_count == 47
    with pytest.raises(ConfigError, match="needs 48 iot.data endpoints .* 3 are taken"):
        load_config(with_changes("iot", expectedDevices=4_700_001, deviceAccess=DELETE), stack="iot")
    # Switching Greengrass off frees its two endpoints.
    fewer = with_changes("iot", expectedDevices=4_900_000, enableGreengrassEndpoint=False, deviceAccess=DELETE)
    assert load_config(fewer, stack="iot").data_endpoint_count == 49


def test_the_proxy_fleets_systems_manager_endpoints_count_too():
    def tls_proxy(devices):
        cfg = with_changes("iot", expectedDevices=devices)
        cfg["deviceAccess"] = cfg["deviceAccess"] | {"proxyMinSize": devices // 50_000 + 1, "proxyMaxSize": devices // 50_000 + 1}
        return cfg

    assert load_config(tls_proxy(4_400_000), stack="iot").data_endpoint_count == 44
    with pytest.raises(ConfigError, match="needs 45 iot.data endpoints .* 6 are taken"):
        load_config(tls_proxy(4_400_001), stack="iot")


def test_reserved_concurrency_is_optional():
    operators = example_config("iot")["authorizer"]["operatorRoleArns"]
    cfg = load_config(with_changes("iot", authorizer={"enabled": True, "operatorRoleArns": operators}), stack="iot")
    assert cfg.authorizer.reserved_concurrency is None


@pytest.mark.parametrize(
    "value, quota, refused",
    [
        (None, 10, None),
        (900, 1_000, None),
        (901, 1_000, r"authorizer\.reservedConcurrency 901 would leave 99 of the account's 1,000 .* lower "
                     r"authorizer\.reservedConcurrency to at most 900, or unset it"),
        (5, 10, r"authorizer\.reservedConcurrency 5 would leave 5 of the account.s 10 .* lambda/L-B99A9384\) — request a "
                r"quota increase, or unset authorizer\.reservedConcurrency"),
    ],
)
def test_reserved_concurrency_leaves_100_unreserved(value, quota, refused):
    from components.config import validate_reserved_concurrency

    if refused is None:
        assert validate_reserved_concurrency("authorizer.reservedConcurrency", value, quota) == value
    else:
        with pytest.raises(ConfigError, match=refused):
            validate_reserved_concurrency("authorizer.reservedConcurrency", value, quota)


SIX_ZONES = [f"us-west-2{z}" for z in "abcdef"]


def test_nlb_target_registrations_stay_within_what_a_cross_zone_nlb_takes():
    """6 zones: every iot.data IP is a target of the 8883 and 443 groups (and of each passthrough family's)."""
    passthrough = {"mode": "tcp-passthrough", "families": [{"name": "family1", "port": 8080}]}
    # 41 endpoints x 6 zones = 246 IPs, x 2 groups = 492 registrations: accepted.
    ok = with_changes("iot", expectedDevices=4_100_000, availabilityZones=SIX_ZONES, deviceAccess=DELETE)
    assert load_config(ok, stack="iot").data_endpoint_count == 41
    with pytest.raises(ConfigError, match=r"expectedDevices needs 252 iot\.data endpoint IPs: 2 target groups x 252 = "
                                          r"504 target registrations on the NLB, more than the 500"):
        load_config(with_changes("iot", expectedDevices=4_200_000, availabilityZones=SIX_ZONES, deviceAccess=DELETE),
                    stack="iot")
    with pytest.raises(ConfigError, match=r"3 target groups x 168 = 504 target registrations"):
        load_config(with_changes("iot", expectedDevices=2_800_000, availabilityZones=SIX_ZONES, deviceAccess=passthrough),
                    stack="iot")
    # 44 endpoints x 2 zones = 88 IPs in 2 groups, and 2 families x 163 proxies: 502.
    proxy = {**example_config("iot")["deviceAccess"], "proxyMinSize": 100, "proxyMaxSize": 163}
    with pytest.raises(ConfigError, match=r"2 x proxyMaxSize 163 proxies = 502 target registrations"):
        load_config(with_changes("iot", expectedDevices=4_400_000, deviceAccess=proxy), stack="iot")
    proxy["proxyMaxSize"] = 162
    assert load_config(with_changes("iot", expectedDevices=4_400_000, deviceAccess=proxy), stack="iot")


def test_families_and_consumer_listeners_fit_an_nlb():
    families = [{"name": f"family{i}", "port": 9000 + i} for i in range(49)]
    access = {"mode": "tcp-passthrough", "families": families}
    with pytest.raises(ConfigError, match=r"deviceAccess\.families names 49 families: .* 51 listeners, more than the 50"):
        load_config(with_changes("iot", expectedDevices=1000, deviceAccess=access), stack="iot")
    access["families"] = families[:48]
    assert load_config(with_changes("iot", expectedDevices=1000, deviceAccess=access), stack="iot")


# Python's `$` also matches before a final newline: every name, domain, ID and prefix is
# checked to its very end, so a pasted value with a trailing newline or blank is refused.
WHITESPACE = [
    ("iot", "customDomain", "iot.plant.example.com\n"),
    ("iot", "customDomain", "iot.plant.example.com "),
    ("iot", "thingTopicPrefix", "things\n"),
    ("iot", "networkStack", "acme/private-mqtt-channel/network\n"),
    ("iot", "customDomainCertificateArn",
     "arn:aws:acm:us-west-2:222222222222:certificate/0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0\n"),
    ("iot", "accountId", "222222222222\n"),
    ("iot", "region", "us-west-2\n"),
    ("network", "iotAccountId", "222222222222\n"),
    ("consumer", "iotStack", "acme/private-mqtt-channel/iot\n"),
]


@pytest.mark.parametrize(("stack", "key", "value"), WHITESPACE, ids=lambda v: repr(v) if isinstance(v, str) else None)
def test_names_domains_and_ids_with_trailing_whitespace_are_refused(stack, key, value):
    with pytest.raises(ConfigError, match=rf"^{key} "):
        load_config(with_changes(stack, **{key: value}), stack=stack)
    # The same value without the whitespace is accepted.
    load_config(with_changes(stack, **{key: value.strip()}), stack=stack)


@pytest.mark.parametrize("bad", ["plant/family1\n", "plant/family1 ", "plant /family1"])
def test_family_topic_prefixes_with_whitespace_are_refused(bad):
    cfg = example_config("iot")
    cfg["authorizer"] = {**cfg["authorizer"], "familyTopicPrefixes": {"family1": bad}}
    with pytest.raises(ConfigError, match=r"authorizer\.familyTopicPrefixes\.family1 "):
        load_config(cfg, stack="iot")


@pytest.mark.parametrize("bad", ["family1\n", "family1 "])
def test_family_names_with_whitespace_are_refused(bad):
    cfg = example_config("iot")
    cfg["authorizer"] = {**cfg["authorizer"], "familyTopicPrefixes": {bad: "plant/family1"}}
    with pytest.raises(ConfigError, match=r"authorizer\.familyTopicPrefixes key "):
        load_config(cfg, stack="iot")
    access = copy.deepcopy(example_config("iot"))
    access["deviceAccess"]["families"][0]["name"] = bad
    with pytest.raises(ConfigError, match=r"deviceAccess\.families\[0\]\.name "):
        load_config(access, stack="iot")


@pytest.mark.parametrize(
    ("prefixes", "thing_prefix", "message"),
    [
        ({"family1": "plant/family1", "plant": "plant"}, "things", r"family 'family1' prefix 'plant/family1' overlaps family 'plant'"),
        ({"family1": "plant", "family2": "plant"}, "things", r"overlaps family 'family2' prefix 'plant'"),
        ({"family1": "things/family1"}, "things", r"overlaps the certificate devices' topic prefix 'things'"),
        ({"family1": "devices"}, "devices", r"overlaps the certificate devices' topic prefix 'devices'"),
    ],
)
def test_family_prefixes_that_overlap_each_other_or_the_thing_prefix_are_refused(prefixes, thing_prefix, message):
    cfg = example_config("iot")
    cfg["authorizer"] = {**cfg["authorizer"], "familyTopicPrefixes": prefixes}
    cfg["thingTopicPrefix"] = thing_prefix
    with pytest.raises(ConfigError, match=r"^authorizer\.familyTopicPrefixes overlap: .*" + message):
        load_config(cfg, stack="iot")


def test_family_prefixes_apart_from_each_other_and_the_things_load():
    cfg = example_config("iot")
    cfg["authorizer"] = {**cfg["authorizer"], "familyTopicPrefixes": {"family1": "plant/family1", "plant2": "plant2"}}
    loaded = load_config(cfg, stack="iot")
    assert dict(loaded.authorizer.family_topic_prefixes) == {"family1": "plant/family1", "plant2": "plant2"}
