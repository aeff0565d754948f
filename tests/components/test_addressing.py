"""Address plan: a zone's subnet and fixed IPs do not depend on how many zones there are."""

from __future__ import annotations

import ipaddress

import pytest

from components import addressing
from components.config import ConfigError


@pytest.mark.parametrize("vpc", ["10.20.0.0/16", "10.20.0.0/20", "10.20.0.0/24"])
def test_adding_zones_keeps_every_existing_subnet(vpc):
    # Zone counts 2..6 (availabilityZoneCount's range) and the eight slots.
    layouts = [addressing.subnet_cidrs("gatekeeperVpcCidr", vpc, n) for n in range(2, addressing.ZONE_SLOTS + 1)]
    for smaller, larger in zip(layouts, layouts[1:]):
        assert larger[: len(smaller)] == smaller
    largest = [ipaddress.ip_network(c) for c in layouts[-1]]
    assert all(net.subnet_of(ipaddress.ip_network(vpc)) for net in largest)
    assert not any(a.overlaps(b) for i, a in enumerate(largest) for b in largest[i + 1:])


def test_example_ranges():
    assert addressing.subnet_cidrs("k", "10.20.0.0/16", 2) == ["10.20.0.0/19", "10.20.32.0/19"]
    assert addressing.host("10.20.32.0/19", addressing.SLOT_DATA_BASE) == "10.20.32.10"


def test_too_many_zones_or_too_small_a_range_is_refused():
    with pytest.raises(ConfigError, match=r"vpcCidr 10\.0\.0\.0/16 has 8 zone slots, not 9"):
        addressing.subnet_cidrs("vpcCidr", "10.0.0.0/16", 9)
    with pytest.raises(ConfigError, match=r"vpcCidr 10\.0\.0\.0/26 is too small"):
        addressing.subnet_cidrs("vpcCidr", "10.0.0.0/26", 2)
