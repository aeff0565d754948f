"""What one tls-proxy instance holds, and how fast a fleet reconnects.

Every figure here is either measured by a benchmark in ``benchmarks/`` (its
section in ``benchmarks/RESULTS.md`` is named next to the figure) or cited
from AWS documentation (the page is named next to the figure). The rest are
choices, and say so.

Memory decides how many devices one proxy instance may accept: HAProxy's
resident memory grows with every proxied device and does not shrink after a
peak, so its ``maxconn`` must stop new connections before the kernel's OOM
killer stops the process and drops every device of that instance at once.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

# --------------------------------------------------------------------------- #
# Measured: benchmarks/capacity_bench.py, RESULTS.md section "proxy capacity:
# memory per idle device, CPU per new session" (haproxy 2.6.12, OpenSSL 3.0,
# TLS 1.3, the rendered configuration, up to 9,500 devices on a 2-vCPU x86_64
# machine; larger fleets are extrapolated from the per-device slope). Each
# memory figure is the largest of the recorded runs (they vary on a shared
# machine); the CPU figures come only from runs whose 1-minute load stayed
# under 1.5 per CPU (the run of 2026-12-04 21:08 UTC: loads 1.2-2.4 on 2 CPUs,
# the benchmark's own processes included), because CPU seconds per session rise
# when other work shares the cores.
# --------------------------------------------------------------------------- #

# HAProxy RSS after start-up and warm-up, before any device.
HAPROXY_BASE_RSS_KIB = 25_352
# HAProxy RSS per device after all devices reconnected at once (1,000 TLS
# handshakes in flight) and went idle. RSS keeps that peak, and a reconnect
# storm is exactly when the proxies reach it, so this (not the slower ramp's
# slope) sizes the instances.
HAPROXY_KIB_PER_DEVICE = 52.0
# Kernel memory per device on a proxy instance: the buffers and slab objects
# of its two TCP sockets (one from the NLB, one to the endpoint), idle.
KERNEL_KIB_PER_DEVICE = 7.5
# HAProxy CPU per 1,000 new device sessions (device TLS handshake, TLS to the
# endpoint, CONNECT/CONNACK), with the rendered backend session resumption
# (`ssl-reuse`) and with a full backend handshake (`no-ssl-reuse`).
CPU_SECONDS_PER_1000_SESSIONS = 2.523
CPU_SECONDS_PER_1000_SESSIONS_FULL_HANDSHAKE = 2.76
MEASURED_ON = "one x86_64 vCPU of the benchmark machine"

# --------------------------------------------------------------------------- #
# Choices (not measurements)
# --------------------------------------------------------------------------- #

# Kept for the operating system: kernel, systemd, cloud-init, the SSM agent and
# the page cache of Amazon Linux 2023. Not measurable here; chosen
# conservatively (a quarter of the smallest supported type).
OS_RESERVE_MIB = 512
# Of what remains, this share stays free for what the idle benchmark does not
# hold: buffers of sessions that are passing traffic (HAProxy allocates two
# 16 KiB buffers per active session) and socket queues under load.
PEAK_HEADROOM = 0.10

# --------------------------------------------------------------------------- #
# Cited: EC2 instance types (arm64, the AL2023 arm64 AMI the fleet boots)
# --------------------------------------------------------------------------- #


@dataclass(frozen=True)
class InstanceType:
    name: str
    vcpus: int
    memory_mib: int


# Amazon EC2 Instance Types Guide, specifications of general purpose
# (https://docs.aws.amazon.com/ec2/latest/instancetypes/gp.html: T4g, M6g, M7g)
# and compute optimized instances
# (https://docs.aws.amazon.com/ec2/latest/instancetypes/co.html: C6g, C7g).
INSTANCE_TYPES: dict[str, InstanceType] = {
    t.name: t
    for t in (
        InstanceType("t4g.small", 2, 2 * 1024),
        InstanceType("t4g.medium", 2, 4 * 1024),
        InstanceType("t4g.large", 2, 8 * 1024),
        InstanceType("t4g.xlarge", 4, 16 * 1024),
        InstanceType("t4g.2xlarge", 8, 32 * 1024),
        InstanceType("c6g.medium", 1, 2 * 1024),
        InstanceType("c6g.large", 2, 4 * 1024),
        InstanceType("c6g.xlarge", 4, 8 * 1024),
        InstanceType("c6g.2xlarge", 8, 16 * 1024),
        InstanceType("c7g.medium", 1, 2 * 1024),
        InstanceType("c7g.large", 2, 4 * 1024),
        InstanceType("c7g.xlarge", 4, 8 * 1024),
        InstanceType("c7g.2xlarge", 8, 16 * 1024),
        InstanceType("m6g.medium", 1, 4 * 1024),
        InstanceType("m6g.large", 2, 8 * 1024),
        InstanceType("m6g.xlarge", 4, 16 * 1024),
        InstanceType("m6g.2xlarge", 8, 32 * 1024),
        InstanceType("m7g.medium", 1, 4 * 1024),
        InstanceType("m7g.large", 2, 8 * 1024),
        InstanceType("m7g.xlarge", 4, 16 * 1024),
        InstanceType("m7g.2xlarge", 8, 32 * 1024),
    )
}
DEFAULT_PROXY_INSTANCE_TYPE = "t4g.small"


class CapacityError(ValueError):
    """A proxy instance type or fleet size cannot carry the fleet."""


def instance_type(name: str, key: str = "deviceAccess.proxyInstanceType") -> InstanceType:
    try:
        return INSTANCE_TYPES[name]
    except KeyError:
        raise CapacityError(
            f"{key} {name!r} is not a supported proxy instance type — its memory decides how many devices one "
            f"proxy holds; use one of {', '.join(INSTANCE_TYPES)}"
        ) from None


def devices_per_instance(name: str) -> int:
    """Device connections one proxy instance of this type accepts (HAProxy's maxconn)."""
    t = instance_type(name)
    budget_kib = (t.memory_mib - OS_RESERVE_MIB) * 1024 * (1 - PEAK_HEADROOM) - HAPROXY_BASE_RSS_KIB
    return max(0, math.floor(budget_kib / (HAPROXY_KIB_PER_DEVICE + KERNEL_KIB_PER_DEVICE)))


# An NLB serves about 55,000 simultaneous connections per unique target
# (IP:port) when client IP preservation is off, as it is for the proxy fleet
# and for PrivateLink ENI targets (ELB user guide, Network Load Balancer
# quotas, https://docs.aws.amazon.com/elasticloadbalancing/latest/network/load-balancer-limits.html).
CONNECTIONS_PER_NLB_TARGET = 55_000


def fleet_devices_per_instance(name: str) -> int:
    """Devices the fleet sizing counts per instance: what its memory holds, and
    no more than the NLB serves per target (all devices may use one family port)."""
    return min(devices_per_instance(name), CONNECTIONS_PER_NLB_TARGET)


def proxy_fleet_min_size(expected_devices: int, name: str) -> int:
    """Smallest fleet that holds every device with one instance lost (and spans two AZs)."""
    per = fleet_devices_per_instance(name)
    if per <= 0:
        raise CapacityError(f"deviceAccess.proxyInstanceType {name!r} leaves no memory for devices")
    return max(2, math.ceil(expected_devices / per) + 1)


def check_proxy_fleet(expected_devices: int, name: str, min_size: int) -> None:
    """Refuse a fleet that cannot hold expectedDevices once one instance is lost."""
    per = fleet_devices_per_instance(name)
    needed = proxy_fleet_min_size(expected_devices, name)
    if min_size >= needed:
        return
    # The smallest type (by memory) with which this fleet size would do.
    options = sorted(
        (t for t in INSTANCE_TYPES.values()
         if fleet_devices_per_instance(t.name) > per and proxy_fleet_min_size(expected_devices, t.name) <= min_size),
        key=lambda t: (t.memory_mib, -t.vcpus),
    )
    alternative = (
        f", or deviceAccess.proxyInstanceType {options[0].name} ({fleet_devices_per_instance(options[0].name):,} "
        f"devices each) at this size"
        if options
        else ""
    )
    raise CapacityError(
        f"deviceAccess.proxyMinSize {min_size} of {name} ({INSTANCE_TYPES[name].memory_mib:,} MiB, "
        f"{per:,} devices each) holds {(min_size - 1) * per:,} devices with one instance lost, fewer than "
        f"expectedDevices {expected_devices:,} — raise deviceAccess.proxyMinSize to at least {needed}"
        f"{alternative}"
    )


# --------------------------------------------------------------------------- #
# The reconnect storm
# --------------------------------------------------------------------------- #

# AWS IoT Core endpoints and quotas
# (https://docs.aws.amazon.com/general/latest/gr/iot-core.html, message broker):
# "Connect requests per second per account" 500 by default, adjustable;
# "Connect requests per second per client ID" 1, not adjustable.
DEFAULT_IOT_CONNECTS_PER_SECOND = 500
IOT_CONNECTS_PER_SECOND_PER_CLIENT_ID = 1
DEFAULT_RECONNECT_TARGET_SECONDS = 900

# Lambda allocates CPU in proportion to memory: at 1,769 MB a function has the
# equivalent of one vCPU (Lambda developer guide, "Configure Lambda function
# memory", https://docs.aws.amazon.com/lambda/latest/dg/configuration-memory.html).
# The authorizer is single-threaded Python: more than one vCPU does not help.
LAMBDA_MB_PER_VCPU = 1769

# Measured: benchmarks/authorizer_bench.py, RESULTS.md section "authorizer:
# decision latency per hash format" — warm handler time per decision (p50, ms)
# on one x86_64 core of the benchmark machine, DynamoDB answered in memory.
AUTHORIZER_DECISION_MS = {
    "mosquitto-sha512": 0.091,
    "mosquitto-pbkdf2:101": 0.149,
    "mosquitto-pbkdf2:1000": 0.653,
    "scrypt:ln=15,r=8,p=1": 86.713,
}
# Between and beyond the measured points, PBKDF2 costs grow with iterations
# and scrypt's with N x r (both by construction of the algorithms); the
# figures below are fitted through the measured rows above.
_PBKDF2_OVERHEAD_MS = 0.091
_PBKDF2_MS_PER_ITERATION = (0.653 - 0.149) / (1000 - 101)
_SCRYPT_MS_AT_N15_R8 = 86.713


def authorizer_decision_ms(scheme: str) -> tuple[float, bool]:
    """CPU milliseconds of one decision on one vCPU, and whether that exact scheme was measured."""
    if scheme in AUTHORIZER_DECISION_MS:
        return AUTHORIZER_DECISION_MS[scheme], True
    if scheme == "scrypt":
        return AUTHORIZER_DECISION_MS["scrypt:ln=15,r=8,p=1"], True
    if scheme == "mosquitto-pbkdf2":
        return AUTHORIZER_DECISION_MS["mosquitto-pbkdf2:101"], True
    match = re.fullmatch(r"mosquitto-pbkdf2:(\d+)", scheme)
    if match:
        return _PBKDF2_OVERHEAD_MS + int(match.group(1)) * _PBKDF2_MS_PER_ITERATION, False
    match = re.fullmatch(r"scrypt:ln=(\d+),r=(\d+),p=(\d+)", scheme)
    if match:
        ln, r, p = (int(g) for g in match.groups())
        return _SCRYPT_MS_AT_N15_R8 * (2 ** (ln - 15)) * (r / 8) * p, False
    raise CapacityError(f"no measured or derived cost for hash scheme {scheme!r}")


@dataclass(frozen=True)
class Stage:
    name: str
    per_second: float
    how: str
    source: str

    def seconds(self, devices: int) -> float:
        return devices / self.per_second if self.per_second > 0 else math.inf


def proxy_stage(instances: int, type_name: str) -> Stage:
    t = instance_type(type_name)
    per_vcpu = 1000 / CPU_SECONDS_PER_1000_SESSIONS
    rate = instances * t.vcpus * per_vcpu
    return Stage(
        name="proxy TLS handshakes",
        per_second=rate,
        how=(f"{instances} x {type_name} ({t.vcpus} vCPU) x {per_vcpu:.0f} sessions/s per vCPU "
             f"({CPU_SECONDS_PER_1000_SESSIONS:g} CPU s per 1,000 sessions, measured on {MEASURED_ON}; "
             "a Graviton vCPU's rate is not measured here, the figure is scaled by vCPU count only)"),
        source="benchmarks/capacity_bench.py",
    )


AUTHORIZER_STAGE = "custom authorizer"


def authorizer_decision_seconds(memory_mb: int, scheme: str) -> tuple[float, float, bool, float]:
    """(seconds per decision at this memory size, CPU ms on one vCPU, whether measured, vCPU share)."""
    cpu_ms, measured = authorizer_decision_ms(scheme)
    share = min(memory_mb, LAMBDA_MB_PER_VCPU) / LAMBDA_MB_PER_VCPU
    return cpu_ms / 1000 / share, cpu_ms, measured, share


def authorizer_stage(reserved_concurrency: int, memory_mb: int, scheme: str) -> Stage:
    decision_s, cpu_ms, measured, share = authorizer_decision_seconds(memory_mb, scheme)
    rate = reserved_concurrency / decision_s
    return Stage(
        name=AUTHORIZER_STAGE,
        per_second=rate,
        how=(f"reserved concurrency {reserved_concurrency} / {decision_s * 1000:.2f} ms per decision "
             f"({scheme}: {cpu_ms:.3f} ms on one vCPU, {'measured' if measured else 'derived from the measured rows'}; "
             f"{memory_mb} MB = {share:.2f} vCPU; DynamoDB and invocation latency not included, so this rate "
             "is an upper bound)"),
        source="benchmarks/authorizer_bench.py; Lambda developer guide, configuration-memory",
    )


@dataclass(frozen=True)
class AuthorizerSizing:
    """The reserved concurrency the authorizer needs for a fleet, and how that number was computed."""

    concurrency: int
    invocations_per_second: float
    decision_s: float
    how: str


def authorizer_sizing(
    devices: int,
    *,
    reconnect_target_seconds: int,
    iot_connects_per_second: int,
    refresh_after_seconds: int,
    memory_mb: int,
    scheme: str,
) -> AuthorizerSizing:
    """The reserved concurrency the authorizer needs to serve a fleet's reconnect storm and its policy refreshes.

    Lambda's concurrency is requests per second x the average duration (Lambda developer guide,
    "Understanding Lambda function scaling"). The requests: the CONNECTs the storm needs
    (``devices / reconnect_target_seconds``; IoT Core passes at most ``iot_connects_per_second``) plus the
    policy refreshes of live sessions (each asks the authorizer again every ``refresh_after_seconds``).
    The duration: the measured CPU time of one decision for ``scheme``, scaled by the memory's vCPU share,
    as ``authorizer_stage`` counts it; DynamoDB and invocation latency are not in it, so the number is a
    lower bound. With it, ``authorizer_stage`` serves at least the storm's CONNECT rate.
    """
    decision_s, _, measured, _ = authorizer_decision_seconds(memory_mb, scheme)
    connects = min(devices / reconnect_target_seconds, float(iot_connects_per_second))
    refreshes = devices / refresh_after_seconds
    per_second = connects + refreshes
    # Rounded before the ceiling so that float noise (51.000000001) does not add one.
    concurrency = max(1, math.ceil(round(per_second * decision_s, 6)))
    capped = " (capacity.iotConnectsPerSecond)" if connects < devices / reconnect_target_seconds else ""
    how = (f"{per_second:,.1f} invocations/s x {decision_s * 1000:.2f} ms per decision: {connects:,.1f} CONNECT/s "
           f"= expectedDevices {devices:,} / capacity.reconnectTargetSeconds {reconnect_target_seconds:,}{capped}, "
           f"+ {refreshes:,.1f} policy refreshes/s = expectedDevices / authorizer.refreshAfterSeconds "
           f"{refresh_after_seconds:,}; {scheme} at {memory_mb} MB, "
           f"{'measured' if measured else 'derived from the measured rows'}, DynamoDB latency not included")
    return AuthorizerSizing(concurrency=concurrency, invocations_per_second=per_second, decision_s=decision_s, how=how)


def iot_connect_stage(per_second: int) -> Stage:
    return Stage(
        name="IoT Core CONNECT quota",
        per_second=float(per_second),
        how=f"{per_second} CONNECT/s per account (capacity.iotConnectsPerSecond; AWS default 500, adjustable)",
        source="AWS IoT Core endpoints and quotas",
    )


@dataclass(frozen=True)
class Storm:
    devices: int
    stages: tuple[Stage, ...]

    @property
    def bottleneck(self) -> Stage:
        return min(self.stages, key=lambda s: s.per_second)

    @property
    def seconds(self) -> float:
        return self.bottleneck.seconds(self.devices)


FIXES = {
    "IoT Core CONNECT quota": "ask AWS to raise the account's 'Connect requests per second per account' quota "
    "(Service Quotas, AWS IoT Core) and set capacity.iotConnectsPerSecond to the granted value",
    AUTHORIZER_STAGE: "raise authorizer.reservedConcurrency (or authorizer.memorySize up to 1769 MB), or "
    "migrate records to a cheaper hash",
    "proxy TLS handshakes": "raise deviceAccess.proxyMinSize or choose a deviceAccess.proxyInstanceType with more vCPUs",
}


def instance_table() -> str:
    """The per-type table of docs/device-access-and-capacity.md (a test keeps the two equal)."""
    rows = [
        "| instance type | vCPUs | memory MiB | devices per instance (HAProxy `maxconn`) | counted per instance for sizing |",
        "|---|---|---|---|---|",
    ]
    for t in INSTANCE_TYPES.values():
        rows.append(f"| `{t.name}` | {t.vcpus} | {t.memory_mib:,} | {devices_per_instance(t.name):,} | "
                    f"{fleet_devices_per_instance(t.name):,} |")
    return "\n".join(rows)
