"""``capacity``: the expected fleet fits the endpoints, the NLB targets and the proxy fleet."""

from __future__ import annotations

from channelctl.checks.dns import (
    zone_answer,
    zone_named,
)
from channelctl.checks.model import (
    CAPACITY,
    DEFAULT_EXPECTED_DEVICES,
    T_ASG,
    T_LB,
    Channel,
    CheckResult,
    Core,
    Findings,
    Res,
    as_flag,
    as_int,
    core,
    endpoint_ips,
    host_name,
    listeners_of,
)
from channelctl.checks.paths import (
    listener_target_groups,
    preserves_client_ip,
    proxy_max_connections,
    targets_of,
)
from components.config import CONNECTIONS_PER_DATA_ENDPOINT, CONNECTIONS_PER_NLB_TARGET


def check_capacity(ch: Channel) -> CheckResult:
    """expectedDevices fits the iot.data endpoints (100,000 each) and every NLB target (55,000 each)."""
    f = Findings()
    c = core(ch)
    if c.iot is None:
        f.bad("the plan has no single iot stack: capacity cannot be checked")
        return f.result(CAPACITY, "")
    expected = as_int(c.iot.config.get("expectedDevices", DEFAULT_EXPECTED_DEVICES))
    if expected is None or expected < 0:
        f.bad(f"expectedDevices {c.iot.config.get('expectedDevices')!r} is not a number of devices")
        return f.result(CAPACITY, "")
    shares = endpoint_shares(ch, c)
    worst_endpoint = 0.0
    for endpoint in c.data_endpoints:
        load = expected * shares.get(endpoint.id, 0.0)
        worst_endpoint = max(worst_endpoint, load)
        f.involve(endpoint.label)
        if load > CONNECTIONS_PER_DATA_ENDPOINT:
            f.bad(f"{endpoint.label} would carry {load:,.0f} of {expected:,} connections — more than the "
                  f"{CONNECTIONS_PER_DATA_ENDPOINT:,} one iot.data endpoint serves", endpoint.label)
        else:
            f.ok(f"{endpoint.label}: {load:,.0f} connections (limit {CONNECTIONS_PER_DATA_ENDPOINT:,})")
    worst_target = 0.0
    fleets_checked: set[str] = set()
    for nlb in ch.of_type(T_LB, c.iot):
        cross_zone = as_flag(nlb.get("enableCrossZoneLoadBalancing"), False)
        zones = max(1, len(nlb.get("subnetMappings") or nlb.get("subnets") or []))
        for listener in listeners_of(ch, nlb):
            for arn in listener_target_groups(listener):
                targets = targets_of(ch, arn, listener.get("port"))
                if targets is None:
                    continue
                tg = targets.group
                f.involve(tg.label)
                for fleet in targets.fleets:
                    if fleet.label not in fleets_checked:
                        fleets_checked.add(fleet.label)
                        _fleet_capacity(ch, fleet, expected, f)
                if targets.fleets and preserves_client_ip(tg):
                    # Devices' connections keep their own source address: the per-target
                    # limit of 55,000 applies to NLB-sourced connections only.
                    continue
                count = len(set(targets.ips)) + sum(_fleet_size(f_) for f_ in targets.fleets)
                if count == 0:
                    f.bad(f"{tg.label} has no target: {listener.label} cannot carry connections", tg.label)
                    continue
                # Without cross-zone load balancing each zone's NLB node uses only its own
                # zone's targets; clients spread evenly over the zones' addresses.
                if cross_zone or not targets.ips:
                    per_target = expected / count
                else:
                    per_target = _per_target_by_zone(ch, tg, set(targets.ips), zones, expected)
                worst_target = max(worst_target, per_target)
                if per_target > CONNECTIONS_PER_NLB_TARGET:
                    f.bad(f"{tg.label}: {per_target:,.0f} connections per target for {expected:,} devices — more than "
                          f"the {CONNECTIONS_PER_NLB_TARGET:,} an NLB serves per target", tg.label)
                else:
                    f.ok(f"{tg.label}: {per_target:,.0f} connections per target over {count} targets "
                         f"(limit {CONNECTIONS_PER_NLB_TARGET:,})")
    summary = (f"{expected:,} expected devices: at most {worst_endpoint:,.0f} per iot.data endpoint "
               f"(limit {CONNECTIONS_PER_DATA_ENDPOINT:,}), at most {worst_target:,.0f} per NLB target "
               f"(limit {CONNECTIONS_PER_NLB_TARGET:,})")
    return f.result(CAPACITY, summary)


def endpoint_shares(ch: Channel, c: Core) -> dict[str, float]:
    """Each iot.data endpoint's share of the connections, from the data host's DNS weights."""
    owner = {ip: e.id for e in c.data_endpoints for ip in endpoint_ips(e)}
    even = {e.id: 1 / len(c.data_endpoints) for e in c.data_endpoints} if c.data_endpoints else {}
    host = host_name(c.iot.rendered.exports.get("dataEndpointHost")) if c.iot else ""
    zone = zone_named(ch, c.iot, host) if c.iot else None
    if zone is None:
        return even
    answer = zone_answer(ch, zone, host)
    total = sum(w for w, _ in answer.sets)
    if not answer.sets or total <= 0:
        return even
    shares: dict[str, float] = {}
    for weight, addresses in answer.sets:
        # Clients pick one address of the answer at random.
        for ip in addresses:
            if ip in owner:
                shares[owner[ip]] = shares.get(owner[ip], 0.0) + weight / total / len(addresses)
    return shares


def _fleet_size(fleet: Res) -> int:
    """Instances a fleet runs without scaling: the desired capacity, else the minimum."""
    if fleet.type != T_ASG:
        return 1
    return as_int(fleet.get("desiredCapacity")) or as_int(fleet.get("minSize")) or 0


def _fleet_capacity(ch: Channel, fleet: Res, expected: int, f: Findings) -> None:
    """A proxy fleet must hold every expected device at its standing size (HAProxy maxconn per instance)."""
    per_instance = proxy_max_connections(ch, fleet)
    size = _fleet_size(fleet)
    if per_instance is None:
        return
    total = per_instance * size
    f.involve(fleet.label)
    if total < expected:
        f.bad(f"proxy fleet {fleet.label}: {size} instances x maxconn {per_instance:,} = {total:,} connections, fewer "
              f"than {expected:,} expected devices if all of them use the custom domain — raise the fleet's size "
              f"to {-(-expected // per_instance)}", fleet.label)
    else:
        f.ok(f"proxy fleet {fleet.label}: {size} x {per_instance:,} = {total:,} connections for {expected:,} devices")


def _per_target_by_zone(ch: Channel, tg: Res, targets: set[tuple[str, int]], zones: int, expected: int) -> float:
    vpc_id = tg.get("vpcId")
    per_zone: dict[str, int] = {}
    for ip, _ in targets:
        subnet = ch.subnet_of_ip(vpc_id, ip)
        az = subnet.get("availabilityZone") if subnet else "?"
        per_zone[az] = per_zone.get(az, 0) + 1
    if not per_zone:
        return float(expected)
    return max(expected / zones / n for n in per_zone.values())
