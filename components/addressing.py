"""Address plan: subnets per availability zone and fixed host addresses.

Interface endpoints, the NLB and the Resolver endpoint get fixed private IPs
so that DNS records and NLB targets are known at plan time and never go
stale. The slots below are host offsets inside each subnet; AWS reserves the
first four addresses and the last one of every subnet.
"""

from __future__ import annotations

import ipaddress
import math

from components.config import ConfigError

RESERVED_LOW = 4
SLOT_RESOLVER = 10
SLOT_NLB = 5
SLOT_CREDENTIALS = 6
SLOT_GREENGRASS = 7
SLOT_S3 = 8
SLOT_DATA_BASE = 10


def subnet_cidrs(key: str, vpc_cidr: str, count: int) -> list[str]:
    """Split the VPC range into equal private subnets, one per AZ."""
    vpc = ipaddress.ip_network(vpc_cidr)
    bits = max(1, math.ceil(math.log2(count)))
    if vpc.prefixlen + bits > 28:
        raise ConfigError(f"{key} {vpc_cidr} is too small for {count} subnets — use a /24 or larger range")
    return [str(net) for net in list(vpc.subnets(prefixlen_diff=bits))[:count]]


def host(subnet_cidr: str, slot: int) -> str:
    net = ipaddress.ip_network(subnet_cidr)
    if not RESERVED_LOW <= slot < net.num_addresses - 1:
        raise ConfigError(f"address slot {slot} does not fit in subnet {subnet_cidr} — use a larger VPC range")
    return str(net.network_address + slot)
