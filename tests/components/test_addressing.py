"""Address plan: a zone's subnet and fixed IPs do not depend on how many zones there are."""

from __future__ import annotations

import ipaddress

import pytest

from components import addressing
from components.config import ConfigError


@pytest.mark.parametrize("vpc", ["10.20.0.0/16", "10.20.0.0/20", "10.20.0.0/24"])
def test_adding_zones_keeps_every_existing_subnet(vpc):
    # Zone counts 2..6 (how many availabilityZones a stack may list) and the eight slots.
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


@pytest.mark.parametrize(
    "subnet, slots, blocks",
    [
        # The gatekeeper's slots: NLB .5, credentials .6, Greengrass .7, S3 .8, iot.data from .10.
        ("10.20.0.0/19", [5, 6, 7, 8, 10, 11], ["10.20.0.4/30", "10.20.0.8/29"]),
        # The device VPC's Resolver address.
        ("10.10.32.0/19", [10], ["10.10.32.8/29"]),
        # More iot.data endpoints add /28 blocks of the grid; the blocks already there stay.
        ("10.20.0.0/19", [5, *range(10, 20)], ["10.20.0.4/30", "10.20.0.8/29", "10.20.0.16/28"]),
        # A subnet's last address (AWS keeps it) stays out: the last grid block is cut.
        ("10.20.0.0/27", [5, *range(10, 31)],
         ["10.20.0.4/30", "10.20.0.8/29", "10.20.0.16/29", "10.20.0.24/30", "10.20.0.28/31", "10.20.0.30/32"]),
    ],
)
def test_reservation_blocks(subnet, slots, blocks):
    assert addressing.reservation_blocks(subnet, slots) == blocks
    assert all(addressing.reserved(blocks, addressing.host(subnet, s)) for s in slots)


def test_reservation_blocks_grow_without_changing_a_block():
    small = addressing.reservation_blocks("10.20.0.0/19", [5, 10])
    large = addressing.reservation_blocks("10.20.0.0/19", [5, *range(10, 60)])
    assert large[: len(small)] == small


def test_reservation_blocks_refuse_an_address_aws_keeps():
    with pytest.raises(ConfigError, match=r"address slot 3 does not fit in subnet 10.20.0.0/27"):
        addressing.reservation_blocks("10.20.0.0/27", [3])
    with pytest.raises(ConfigError, match=r"address slot 31 does not fit"):
        addressing.reservation_blocks("10.20.0.0/27", [31])
