"""``capacity``: the expected fleet fits the endpoints, the NLB targets and the proxy fleet;
the whole fleet reconnects after an outage within the target time; no hop's idle timeout
cuts an idle but healthy session."""

from __future__ import annotations

import dataclasses
import re

from channelctl.plan.checks.dns import (
    zone_answer,
    zone_named,
)
from channelctl.plan.checks.model import (
    CAPACITY,
    DEFAULT_EXPECTED_DEVICES,
    T_ASG,
    T_IOT_AUTHORIZER,
    T_LAMBDA,
    T_LB,
    Channel,
    CheckResult,
    Core,
    Findings,
    PlannedStack,
    Res,
    as_flag,
    as_int,
    core,
    endpoint_ips,
    host_name,
    listeners_of,
)
from channelctl.plan.checks.paths import (
    launch_template_of,
    listener_target_groups,
    preserves_client_ip,
    proxy_max_connections,
    targets_of,
    user_data_text,
)
from channelctl.plan.checks.sources import assumed, facts_file, read, world
from components import aws_limits as limits
from components.config import (
    CONNECTIONS_PER_DATA_ENDPOINT,
    CONNECTIONS_PER_NLB_TARGET,
    AuthorizerConfig,
    CapacityConfig,
    ConfigError,
    load_capacity,
)
from components.proxy_capacity import (
    AUTHORIZER_STAGE,
    DEFAULT_IOT_CONNECTS_PER_SECOND,
    FIXES,
    INSTANCE_TYPES,
    AuthorizerSizing,
    CapacityError,
    Stage,
    Storm,
    authorizer_sizing,
    authorizer_stage,
    devices_per_instance,
    iot_connect_stage,
    proxy_stage,
)
from components.proxy_config import MAX_ENDPOINT_KEEPALIVE_S


def check_capacity(ch: Channel) -> CheckResult:
    """expectedDevices fits the iot.data endpoints (100,000 each), every NLB target (55,000 each) and the
    proxy fleet with one instance lost; the fleet reconnects within capacity.reconnectTargetSeconds; every
    hop holds an idle session of the devices' keep-alive."""
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
                count = len(set(targets.ips)) + sum(fleet_size(f_) for f_ in targets.fleets)
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
    settings = capacity_settings(c, f)
    if settings is not None:
        settings, connect_how = connect_quota(c.iot, settings, f)
        storm = reconnect_storm(ch, c, expected, settings, f, connect_how=connect_how)
        idle_timeouts(ch, c, settings, f)
        summary += (f"; full reconnect in {storm.seconds:,.0f} s (bottleneck {storm.bottleneck.name}, target "
                    f"{settings.reconnect_target_seconds:,} s); idle timeouts hold a "
                    f"{settings.device_keep_alive_seconds} s keep-alive")
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


def fleet_size(fleet: Res) -> int:
    """Instances a fleet runs without scaling: the desired capacity, else the minimum."""
    if fleet.type != T_ASG:
        return 1
    return as_int(fleet.get("desiredCapacity")) or as_int(fleet.get("minSize")) or 0


def _fleet_capacity(ch: Channel, fleet: Res, expected: int, f: Findings) -> None:
    """A proxy fleet holds every expected device with one instance lost, each instance within its memory."""
    per_instance = proxy_max_connections(ch, fleet)
    size = fleet_size(fleet)
    if per_instance is None:
        return
    f.involve(fleet.label)
    type_name = fleet_instance_type(ch, fleet)
    if type_name in INSTANCE_TYPES:
        memory_limit = devices_per_instance(type_name)
        if per_instance > memory_limit:
            f.bad(f"proxy fleet {fleet.label}: HAProxy maxconn {per_instance:,} is more than a {type_name} "
                  f"({INSTANCE_TYPES[type_name].memory_mib:,} MiB) holds ({memory_limit:,} devices, measured per-device "
                  "memory): the kernel would kill HAProxy before it refuses connections — lower maxconn to "
                  f"{memory_limit:,} or choose a larger instance type", fleet.label)
    else:
        f.bad(f"proxy fleet {fleet.label}: instance type {type_name!r} has no derived device limit — use one of "
              f"{', '.join(INSTANCE_TYPES)}", fleet.label)
    # A crashed instance's devices reconnect to the others at once.
    surviving = max(0, size - 1) * per_instance
    if surviving < expected:
        f.bad(f"proxy fleet {fleet.label}: {size} instances x maxconn {per_instance:,} hold {surviving:,} connections "
              f"with one instance lost, fewer than {expected:,} expected devices — raise deviceAccess.proxyMinSize "
              f"to {-(-expected // per_instance) + 1}", fleet.label)
    else:
        f.ok(f"proxy fleet {fleet.label}: ({size} - 1 lost) x {per_instance:,} = {surviving:,} connections for "
             f"{expected:,} devices")


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


# --------------------------------------------------------------------------- #
# The reconnect storm
# --------------------------------------------------------------------------- #


def capacity_settings(c: Core, f: Findings) -> CapacityConfig | None:
    try:
        return load_capacity(c.iot.config.get("capacity") if c.iot else None)
    except ConfigError as exc:
        f.bad(str(exc))
        return None


def proxy_fleets(ch: Channel, c: Core) -> list[Res]:
    """The proxy fleets behind the iot stack's NLB listeners, once each."""
    fleets: dict[str, Res] = {}
    for nlb in ch.of_type(T_LB, c.iot):
        for listener in listeners_of(ch, nlb):
            for arn in listener_target_groups(listener):
                targets = targets_of(ch, arn, listener.get("port"))
                for fleet in targets.fleets if targets else ():
                    fleets.setdefault(fleet.label, fleet)
    return list(fleets.values())


def fleet_instance_type(ch: Channel, fleet: Res) -> str | None:
    if fleet.get("instanceType"):
        return fleet.get("instanceType")
    template = launch_template_of(ch, fleet)
    return template.get("instanceType") if template is not None else None


def authorizer_functions(ch: Channel, c: Core) -> list[Res]:
    functions = []
    for authorizer in ch.of_type(T_IOT_AUTHORIZER, c.iot):
        function = ch.by_arn(authorizer.get("authorizerFunctionArn"))
        if function is not None and function.type == T_LAMBDA:
            functions.append(function)
    return functions


def connect_quota(iot: PlannedStack, settings: CapacityConfig, f: Findings) -> tuple[CapacityConfig, str]:
    """The IoT Core connect quota the reconnect storm runs into: the iot account's, read from its facts
    when known, else ``capacity.iotConnectsPerSecond``, else AWS's default; the settings with it, and how
    the storm names it. A configured (or default) rate above the account's quota is refused: the stack's
    connect-rate alarm is set against it, and would warn only after the quota throttles connections."""
    answer = world(iot).quota(limits.IOT_CONNECT_QUOTA_SERVICE_CODE, limits.IOT_CONNECT_QUOTA_CODE)
    configured = "iotConnectsPerSecond" in (iot.config.get("capacity") or {})
    key = f"capacity.iotConnectsPerSecond {settings.iot_connects_per_second:,}"
    if answer.read and answer.value is not None:
        quota = int(answer.value)
        figure = f"IoT Core connect quota {quota:,}/s"
        f.source(read(iot, figure))
        how = f"the account's quota, read from {facts_file(iot)}"
        if settings.iot_connects_per_second > quota:
            f.bad(f"{key}{'' if configured else ' (the default)'} is more than the account's IoT Core connect quota "
                  f"{quota:,}/s ({facts_file(iot)}): the stack's connect-rate alarm is set against a rate the "
                  f"account never reaches — set capacity.iotConnectsPerSecond to {quota}")
        elif settings.iot_connects_per_second < quota:
            f.ok(f"{key}{'' if configured else ' (the default)'} is below the account's quota {quota:,}/s: the "
                 f"connect-rate alarm warns early; set capacity.iotConnectsPerSecond to {quota} to alarm against "
                 "the quota")
        return dataclasses.replace(settings, iot_connects_per_second=quota), how
    quota = settings.iot_connects_per_second
    figure = f"IoT Core connect quota {quota:,}/s"
    if configured:
        f.source(assumed(iot, figure, "capacity.iotConnectsPerSecond", answer.why))
        return settings, "capacity.iotConnectsPerSecond, not read from the account"
    f.source(assumed(iot, figure, f"AWS default {DEFAULT_IOT_CONNECTS_PER_SECOND:,}, adjustable", answer.why))
    return settings, "AWS default, not read from the account"


def reconnect_storm(ch: Channel, c: Core, expected: int, settings: CapacityConfig, f: Findings, *,
                    connect_how: str = "capacity.iotConnectsPerSecond") -> Storm:
    """Every device reconnecting at once after an outage: each stage's rate, the slowest one decides."""
    stages: list[Stage] = []
    sizing: AuthorizerSizing | None = None
    for fleet in proxy_fleets(ch, c):
        type_name = fleet_instance_type(ch, fleet)
        size = fleet_size(fleet)
        if type_name not in INSTANCE_TYPES:
            f.bad(f"proxy fleet {fleet.label}: instance type {type_name!r} has no measured handshake rate — use one "
                  f"of {', '.join(INSTANCE_TYPES)}", fleet.label)
            continue
        stages.append(proxy_stage(size, type_name))
    for function in authorizer_functions(ch, c):
        concurrency = as_int(function.get("reservedConcurrentExecutions"))
        memory = as_int(function.get("memorySize")) or 128
        variables = (function.get("environment") or {}).get("variables") or {}
        scheme = variables.get("UNKNOWN_USER_HASH") or "scrypt"
        refresh = as_int(variables.get("REFRESH_AFTER_SECONDS")) or AuthorizerConfig().refresh_after_seconds
        f.involve(function.label)
        try:
            sizing = authorizer_sizing(
                expected, reconnect_target_seconds=settings.reconnect_target_seconds,
                iot_connects_per_second=settings.iot_connects_per_second, refresh_after_seconds=refresh,
                memory_mb=memory, scheme=scheme,
            )
        except CapacityError as exc:
            f.bad(f"{function.label}: {exc}", function.label)
            continue
        if concurrency is None or concurrency < 1:
            f.bad(f"{function.label} has no reserved concurrency: the authorizer's share of a reconnect storm is "
                  f"unbounded and unknown — set authorizer.reservedConcurrency to at least {sizing.concurrency} "
                  f"({sizing.how})", function.label)
            continue
        stages.append(authorizer_stage(concurrency, memory, scheme))
    connect = iot_connect_stage(settings.iot_connects_per_second)
    stages.append(dataclasses.replace(
        connect, how=f"{settings.iot_connects_per_second:,} CONNECT/s per account ({connect_how})"))
    storm = Storm(devices=expected, stages=tuple(stages))
    for stage in stages:
        f.ok(f"reconnect storm, {stage.name}: {stage.per_second:,.0f}/s, {stage.seconds(expected):,.0f} s for "
             f"{expected:,} devices — {stage.how}")
    slow = storm.bottleneck
    verdict = (f"reconnect storm: {expected:,} devices reconnect in {storm.seconds:,.0f} s, bottleneck "
               f"{slow.name} at {slow.per_second:,.0f}/s (capacity.reconnectTargetSeconds "
               f"{settings.reconnect_target_seconds:,})")
    if storm.seconds > settings.reconnect_target_seconds:
        need = expected / settings.reconnect_target_seconds
        fix = FIXES[slow.name]
        if slow.name == AUTHORIZER_STAGE and sizing is not None:
            fix = (f"raise authorizer.reservedConcurrency to at least {sizing.concurrency} ({sizing.how}) (or "
                   "authorizer.memorySize up to 1769 MB), or migrate records to a cheaper hash")
        f.bad(f"{verdict} — too slow: {slow.name} needs {need:,.0f}/s; {fix}")
    else:
        f.ok(verdict)
    return storm


# --------------------------------------------------------------------------- #
# Keep-alive and idle timeouts, hop by hop
# --------------------------------------------------------------------------- #

# MQTT 3.1.1, 3.1.2.10: a server disconnects a client that sends nothing for
# one and a half times its keep-alive; a hop on the path that closes idle
# connections sooner cuts sessions the broker still holds healthy.
KEEPALIVE_GRACE = 1.5
# NLB: the idle timeout of a TLS listener is 350 s and cannot be changed; a
# TCP listener's is 350 s unless tcp_idle_timeout_seconds sets 60-6000 s
# (ELB user guide, "Update the TCP idle timeout for your Network Load Balancer
# listener", https://docs.aws.amazon.com/elasticloadbalancing/latest/network/update-idle-timeout.html).
NLB_IDLE_TIMEOUT_S = 350
_HAPROXY_TIMEOUT = re.compile(r"^\s*timeout\s+(client|server|tunnel)\s+(\d+)(ms|s|m|h)?\s*$", re.MULTILINE)
_UNIT_S = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, None: 0.001}


def haproxy_idle_timeouts(text: str) -> dict[str, float]:
    """`timeout client|server|tunnel` of a rendered HAProxy configuration, in seconds (HAProxy's default unit is ms)."""
    return {name: int(value) * _UNIT_S[unit] for name, value, unit in _HAPROXY_TIMEOUT.findall(text)}


def idle_timeouts(ch: Channel, c: Core, settings: CapacityConfig, f: Findings) -> None:
    keep_alive = settings.device_keep_alive_seconds
    key = f"capacity.deviceKeepAliveSeconds {keep_alive}"
    if keep_alive == 0:
        f.bad(f"{key}: devices that send no keep-alive are silent while idle, and the NLB closes connections idle "
              f"for {NLB_IDLE_TIMEOUT_S} s — give the devices a keep-alive of at most {MAX_ENDPOINT_KEEPALIVE_S} s")
        return
    if keep_alive > MAX_ENDPOINT_KEEPALIVE_S:
        f.bad(f"{key} is longer than the {MAX_ENDPOINT_KEEPALIVE_S} s IoT Core allows through an interface VPC "
              f"endpoint: IoT Core holds the session for only {KEEPALIVE_GRACE} x {MAX_ENDPOINT_KEEPALIVE_S} s of "
              f"silence — set the devices' keep-alive to at most {MAX_ENDPOINT_KEEPALIVE_S} s")
        return
    need = keep_alive * KEEPALIVE_GRACE
    f.ok(f"devices' keep-alive {keep_alive} s (at most {MAX_ENDPOINT_KEEPALIVE_S} s through the endpoint): "
         f"IoT Core holds an idle session for {need:g} s; every hop must hold it at least as long")
    for nlb in ch.of_type(T_LB, c.iot):
        for listener in listeners_of(ch, nlb):
            protocol = str(listener.get("protocol") or "").upper()
            if protocol == "TLS":
                seconds, why = NLB_IDLE_TIMEOUT_S, "fixed for TLS listeners"
            elif protocol == "TCP":
                configured = as_int(listener.get("tcpIdleTimeoutSeconds"))
                seconds = configured or NLB_IDLE_TIMEOUT_S
                why = "tcp_idle_timeout_seconds" if configured else "the TCP default"
            else:
                continue
            _hop(f, f"{listener.label} ({protocol} {as_int(listener.get('port'))}) idle timeout", seconds, why, need,
                 listener.label)
    for fleet in proxy_fleets(ch, c):
        timeouts = haproxy_idle_timeouts(user_data_text(ch, fleet))
        for name in ("client", "server", "tunnel"):
            if name in timeouts:
                _hop(f, f"proxy fleet {fleet.label} HAProxy timeout {name}", timeouts[name], "rendered configuration",
                     need, fleet.label)


def _hop(f: Findings, hop: str, seconds: float, why: str, need: float, label: str) -> None:
    if seconds < need:
        f.bad(f"{hop} {seconds:g} s ({why}) is shorter than the {need:g} s an idle but healthy session may stay "
              f"silent — it would cut it; raise it to at least {need:g} s or lower capacity.deviceKeepAliveSeconds "
              f"to at most {int(seconds / KEEPALIVE_GRACE)}", label)
    else:
        f.ok(f"{hop} {seconds:g} s ({why}) ≥ {need:g} s", label)
