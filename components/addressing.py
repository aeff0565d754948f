"""Address plan: subnets per availability zone and fixed host addresses.

Interface endpoints, the NLB and the Resolver endpoint get fixed private IPs
so that DNS records and NLB targets are known at plan time and never go
stale. The slots below are host offsets inside each subnet; AWS reserves the
first four addresses and the last one of every subnet.
"""

from __future__ import annotations

import ipaddress
from typing import Sequence

from components.config import ConfigError

RESERVED_LOW = 4
SLOT_RESOLVER = 10
SLOT_NLB = 5
SLOT_CREDENTIALS = 6
SLOT_GREENGRASS = 7
SLOT_S3 = 8
SLOT_DATA_BASE = 10


# Every VPC range is carved into this many equal slots, one subnet per zone in zone
# order, whatever the number of zones: adding a zone only takes the next free slot, so
# existing subnets (and the fixed IPs inside them) keep their ranges for life. Eight
# slots hold more zones than any region offers to one stack (MAX_AVAILABILITY_ZONES).
ZONE_SLOT_BITS = 3
ZONE_SLOTS = 2**ZONE_SLOT_BITS


def subnet_cidrs(key: str, vpc_cidr: str, count: int) -> list[str]:
    """The subnets of the first ``count`` zone slots: slot i is the i-th 1/8 of the VPC range.

    The ranges do not depend on ``count`` (a subnet's CIDR forces its replacement, and
    the replacement would overlap the old subnet, which Pulumi deletes only afterwards).
    """
    vpc = ipaddress.ip_network(vpc_cidr)
    if count > ZONE_SLOTS:
        raise ConfigError(f"{key} {vpc_cidr} has {ZONE_SLOTS} zone slots, not {count} — use at most {ZONE_SLOTS} zones")
    if vpc.prefixlen + ZONE_SLOT_BITS > 28:
        raise ConfigError(f"{key} {vpc_cidr} is too small for {ZONE_SLOTS} zone slots — use a /24 or larger range")
    return [str(net) for net in list(vpc.subnets(prefixlen_diff=ZONE_SLOT_BITS))[:count]]


def host(subnet_cidr: str, slot: int) -> str:
    net = ipaddress.ip_network(subnet_cidr)
    if not RESERVED_LOW <= slot < net.num_addresses - 1:
        raise ConfigError(f"address slot {slot} does not fit in subnet {subnet_cidr} — use a larger VPC range")
    return str(net.network_address + slot)


# Subnet CIDR reservations of type "explicit" hold every fixed address: AWS never
# assigns an address of an explicit reservation itself ("Explicit — AWS does not use
# the IP addresses. You manually assign the IP addresses to resources that reside in
# your subnet", Amazon VPC user guide, "Subnet CIDR reservations"), so an ENI that
# AWS addresses (the Transit Gateway attachment, Lambda, the SSM endpoints, proxy
# instances) can never take an address this plan fixes. The same guide: several
# ranges per subnet are allowed, ranges in one VPC must not overlap, and removing a
# reservation leaves assigned addresses as they are. The EC2 API
# (CreateSubnetCidrReservation) takes one CIDR per reservation and names no size
# limit; the provider (terraform-provider-aws internal/service/ec2/
# vpc_subnet_cidr_reservation.go) wants a network address and replaces the
# reservation when cidr_block, description, reservation_type or subnet_id change.
# A replacement is created before the old one is deleted and would overlap it, so
# the blocks below are a fixed grid: a block, once reserved, never changes, and a
# growing fleet only adds the next block. Not confirmed: whether AWS accepts a
# reservation over the four addresses it keeps at a subnet's start and the one at
# its end; the grid never includes them.
RESERVED_GRID = ((4, 30), (8, 29))  # host offset, prefix length: .4-.7 and .8-.15
RESERVED_GRID_STEP = 16  # then /28 blocks: .16-.31, .32-.47, ...


def reservation_blocks(subnet_cidr: str, slots: Sequence[int]) -> list[str]:
    """The grid blocks of ``subnet_cidr`` that hold one of the fixed ``slots``, in address order.

    The last block of a subnet is cut so that it leaves the subnet's last address out.
    """
    net = ipaddress.ip_network(subnet_cidr)
    last = net.num_addresses - 1
    wanted = sorted(set(slots))
    for slot in wanted:
        if not RESERVED_LOW <= slot < last:
            raise ConfigError(f"address slot {slot} does not fit in subnet {subnet_cidr} — use a larger VPC range")
    grid: list[tuple[int, int]] = [(off, 32 - plen) for off, plen in RESERVED_GRID]
    offset = RESERVED_GRID_STEP
    while offset < last:
        grid.append((offset, 4))
        offset += RESERVED_GRID_STEP
    blocks: list[str] = []
    for start, bits in grid:
        end = start + 2**bits  # exclusive
        if start >= last or not any(start <= s < end for s in wanted):
            continue
        if end <= last:
            blocks.append(f"{net.network_address + start}/{32 - bits}")
            continue
        # Holds the subnet's last address: the aligned blocks of [start, last).
        for piece in ipaddress.summarize_address_range(net.network_address + start, net.network_address + last - 1):
            blocks.append(str(piece))
    return blocks


def reserved(blocks: Sequence[str], ip: str) -> bool:
    """Whether ``ip`` lies in one of ``blocks``."""
    address = ipaddress.ip_address(ip)
    return any(address in ipaddress.ip_network(b) for b in blocks)
