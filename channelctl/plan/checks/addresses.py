"""Fixed addresses are reserved: every address the program assigns itself lies in an explicit
subnet CIDR reservation of its subnet, and what holds it waits for that reservation.

AWS never hands out an address of an explicit reservation on its own (Amazon VPC user guide,
"Subnet CIDR reservations": "Explicit — AWS does not use the IP addresses"), so the ENIs AWS
addresses itself (Transit Gateway attachment, Lambda, SSM endpoints, proxy instances) cannot take
an interface endpoint's, the NLB's or the Resolver's address first — which would fail that
resource's creation, or its replacement, for good. The reservation must exist before the resource
with the fixed address: it depends on the reservation (components/addressing.py has the layout).
"""

from __future__ import annotations

from typing import Any, Iterator

from channelctl.plan.checks.model import (
    T_ENDPOINT,
    T_INSTANCE,
    T_LB,
    T_RESOLVER,
    Channel,
    CheckResult,
    Findings,
    Res,
    covers,
    short_type,
)
from channelctl.plan.checks.ordering import Dependencies

ADDRESSES = "addresses"
T_RESERVATION = "aws:ec2/subnetCidrReservation:SubnetCidrReservation"


def fixed_addresses(res: Res) -> Iterator[tuple[Any, str]]:
    """(subnet id, address) of every address ``res`` fixes itself."""
    if res.type == T_ENDPOINT:
        for c in res.get("subnetConfigurations") or []:
            if c.get("ipv4"):
                yield c.get("subnetId"), c["ipv4"]
    elif res.type == T_LB:
        for m in res.get("subnetMappings") or []:
            if m.get("privateIpv4Address"):
                yield m.get("subnetId"), m["privateIpv4Address"]
    elif res.type == T_RESOLVER:
        for a in res.get("ipAddresses") or []:
            if a.get("ip"):
                yield a.get("subnetId"), a["ip"]
    elif res.type == T_INSTANCE and res.r.inputs.get("privateIp"):
        yield res.get("subnetId"), res.r.inputs["privateIp"]


def check_addresses(ch: Channel) -> CheckResult:
    f = Findings()
    deps = Dependencies(ch)
    reservations: dict[Any, list[Res]] = {}
    for r in ch.of_type(T_RESERVATION):
        if str(r.get("reservationType")) == "explicit":
            reservations.setdefault(r.get("subnetId"), []).append(r)
    count = 0
    for res in ch.all:
        for subnet_id, ip in fixed_addresses(res):
            count += 1
            subnet = ch.by_id(subnet_id)
            where = subnet.label if subnet else str(subnet_id)
            holding = [r for r in reservations.get(subnet_id, []) if covers(r.get("cidrBlock"), ip)]
            if not holding:
                f.bad(
                    f"{res.label} ({short_type(res.type)}) fixes {ip} in {where}, outside every explicit subnet CIDR "
                    f"reservation of that subnet: AWS may give the address to an ENI it addresses itself first — "
                    "reserve it (components/addressing.py reservation_blocks)",
                    res.label, where,
                )
                continue
            for reservation in holding:
                if deps.depends_on(res, reservation):
                    f.ok(f"{res.label}: {ip} in {reservation.get('cidrBlock')} ({reservation.label})", res.label,
                         reservation.label)
                else:
                    f.bad(
                        f"{res.label} ({short_type(res.type)}) fixes {ip} in reservation {reservation.label} "
                        f"({reservation.get('cidrBlock')}) but does not depend on it: it may be created first — "
                        f"add depends_on=[{reservation.r.name}]",
                        res.label, reservation.label,
                    )
    blocks = sum(len(v) for v in reservations.values())
    return f.result(ADDRESSES, f"{count} fixed addresses lie in {blocks} explicit subnet CIDR reservations and wait for them")

