"""Which address ranges reach outside: one rule for the policy pack, `channelctl plan`'s isolation check
and the stack configuration's network ranges.

A rule or route is public if its range holds any address outside the private
ranges, not only when it is ``/0``: ``0.0.0.0/1`` plus ``128.0.0.0/1`` is the
whole internet in two rules, ``::/1`` half of IPv6, and ``8.8.8.0/24`` is one
public network. Pure standard library, so the pack (run as ``python
policies/``) and the plan checks import the same function.
"""

from __future__ import annotations

import ipaddress
from typing import Any

# Ranges that never route to the internet: RFC 1918, shared address space (RFC 6598),
# loopback, link-local; IPv6 unique local (RFC 4193), link-local, loopback.
PRIVATE_RANGES = tuple(
    ipaddress.ip_network(cidr)
    for cidr in (
        "10.0.0.0/8",
        "172.16.0.0/12",
        "192.168.0.0/16",
        "100.64.0.0/10",
        "127.0.0.0/8",
        "169.254.0.0/16",
        "fc00::/7",
        "fe80::/10",
        "::1/128",
    )
)


# The ranges a network of the channel (a VPC, an on-premises range) may be numbered from: the IPv4 ranges
# above that hold networks — RFC 1918 and the shared address space of RFC 6598, which a VPC also accepts
# (Amazon VPC user guide, "VPC CIDR blocks"). Loopback and link-local are private but number no network.
# The stack configuration refuses any other range (components/config/shared.py); to allow another
# private range on purpose, add it here and to PRIVATE_RANGES.
NETWORK_RANGES = tuple(
    ipaddress.ip_network(cidr) for cidr in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10")
)


def network_range_problem(cidr: Any) -> str:
    """Why cidr cannot number a network of the channel ("" if it lies inside one of ``NETWORK_RANGES``).

    The public part of the rule is ``public_range_problem``, the one the isolation check and the pack
    apply to the rendered rules and routes.
    """
    problem = public_range_problem(cidr)
    if problem:
        return problem
    network = ipaddress.ip_network(cidr.strip(), strict=False)
    if not any(network.version == allowed.version and network.subnet_of(allowed) for allowed in NETWORK_RANGES):
        return "a loopback or link-local range, which numbers no network"
    return ""


def public_range_problem(cidr: Any) -> str:
    """Why cidr reaches outside the private ranges ("" if it stays inside one)."""
    if not isinstance(cidr, str):
        return f"a {type(cidr).__name__}, not a CIDR"
    try:
        network = ipaddress.ip_network(cidr.strip(), strict=False)
    except ValueError:
        return "something that is not a CIDR"
    if network.prefixlen == 0:
        return "any address"
    if any(network.version == private.version and network.subnet_of(private) for private in PRIVATE_RANGES):
        return ""
    return "a range holding public addresses"


def covers_public_address(cidr: Any) -> bool:
    """True for a CIDR string whose range holds an address outside the private ranges."""
    return isinstance(cidr, str) and public_range_problem(cidr) not in ("", "something that is not a CIDR")
