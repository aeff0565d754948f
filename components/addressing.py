"""Address plan: subnets per availability zone and fixed host addresses.

Interface endpoints, the NLB and the Resolver endpoint get fixed private IPs
so that DNS records and NLB targets are known at plan time and never go
stale. The slots below are host offsets inside each subnet; AWS reserves the
first four addresses and the last one of every subnet.
"""

from __future__ import annotations

import ipaddress

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
