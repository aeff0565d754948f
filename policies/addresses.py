"""Which address ranges reach outside: one rule for the policy pack and `channelctl plan`'s isolation check.

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
