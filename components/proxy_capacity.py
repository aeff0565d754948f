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
from dataclasses import dataclass

from authorizer import cost, hashes
from authorizer.errors import AuthorizerError

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

# What one authorizer call costs is priced as the table's hash-scheme registry
# will hold it, not at unknownUserHash alone: every CONNECT verifies one hash of
# each registered scheme (authorizer/decision.py, verify_with_equal_work), the
# registry always holds the project's scrypt beside the imported scheme
# (authorizer/cost.py, registry_specs), and a device's first login after a
# Mosquitto import re-hashes its password with that scrypt (the upgrade on
# login): after an import, every legacy device pays the re-hash in the first
# reconnect storm. A policy refresh verifies every scheme but re-hashes nothing.
# The hash seconds are authorizer/cost.py's model: per-unit rates measured by
# benchmarks/hash_cost_bench.py (RESULTS.md, "authorizer: hash cost per unit of
# work"), rounded up to the highest rate seen, so measured hashes stay under it.
# Handler work beside the hashes: the highest overhead p99 measured by
# benchmarks/authorizer_bench.py (RESULTS.md, "authorizer: decision latency per
# hash format", the scrypt row: 0.688 ms on one x86_64 core).
AUTHORIZER_OVERHEAD_MS = 0.688


@dataclass(frozen=True)
class AuthorizerWork:
    """CPU milliseconds of one authorizer call on one vCPU for a table imported with one scheme."""

    specs: tuple[str, ...]  # the schemes the registry will hold
    connect_ms: float  # a CONNECT: every scheme verified, plus the upgrade's re-hash of a legacy hash
    refresh_ms: float  # a policy refresh of a live session: every scheme verified

    def describe(self) -> str:
        return (f"registry {' + '.join(self.specs)}: {self.connect_ms:.1f} ms of one vCPU per CONNECT "
                f"(each verified{', plus the re-hash of a first legacy login' if self.connect_ms > self.refresh_ms else ''}), "
                f"{self.refresh_ms:.1f} ms per policy refresh")


def authorizer_work(scheme: str) -> AuthorizerWork:
    """The work of one call when the table was imported with scheme (authorizer.unknownUserHash)."""
    try:
        specs = cost.registry_specs(hashes.dummy_hash(scheme).work_spec())
        verify = cost.verify_seconds(specs)
        rehash = cost.rehash_seconds(specs)
    except AuthorizerError as err:
        raise CapacityError(f"no cost model for hash scheme {scheme!r}: {err}") from None
    return AuthorizerWork(specs=specs, connect_ms=AUTHORIZER_OVERHEAD_MS + (verify + rehash) * 1000,
                          refresh_ms=AUTHORIZER_OVERHEAD_MS + verify * 1000)


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


def vcpu_share(memory_mb: int) -> float:
    return min(memory_mb, LAMBDA_MB_PER_VCPU) / LAMBDA_MB_PER_VCPU


def authorizer_stage(reserved_concurrency: int, memory_mb: int, scheme: str) -> Stage:
    """The storm's CONNECTs the authorizer serves per second, each priced as a first legacy login."""
    work = authorizer_work(scheme)
    share = vcpu_share(memory_mb)
    connect_s = work.connect_ms / 1000 / share
    rate = reserved_concurrency / connect_s
    return Stage(
        name=AUTHORIZER_STAGE,
        per_second=rate,
        how=(f"reserved concurrency {reserved_concurrency} / {connect_s * 1000:.1f} ms per CONNECT "
             f"({work.describe()}; {memory_mb} MB = {share:.2f} vCPU; DynamoDB and invocation latency not "
             "included, so this rate is an upper bound)"),
        source="authorizer/cost.py (benchmarks/hash_cost_bench.py); benchmarks/authorizer_bench.py; "
               "Lambda developer guide, configuration-memory",
    )


@dataclass(frozen=True)
class AuthorizerSizing:
    """The reserved concurrency the authorizer needs for a fleet, and how that number was computed."""

    concurrency: int
    invocations_per_second: float
    decision_s: float  # seconds per CONNECT at the memory size
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
    (``devices / reconnect_target_seconds``; IoT Core passes at most ``iot_connects_per_second``), each
    priced as a first legacy login (every registered scheme verified, then the re-hash), plus the
    policy refreshes of live sessions (each asks the authorizer again every ``refresh_after_seconds``
    and verifies every scheme). Durations scale with the memory's vCPU share; DynamoDB and invocation
    latency are not in them, so the number is a lower bound. With it, ``authorizer_stage`` serves at
    least the storm's CONNECT rate.
    """
    work = authorizer_work(scheme)
    share = vcpu_share(memory_mb)
    connect_s, refresh_s = work.connect_ms / 1000 / share, work.refresh_ms / 1000 / share
    connects = min(devices / reconnect_target_seconds, float(iot_connects_per_second))
    refreshes = devices / refresh_after_seconds
    per_second = connects + refreshes
    # Rounded before the ceiling so that float noise (51.000000001) does not add one.
    concurrency = max(1, math.ceil(round(connects * connect_s + refreshes * refresh_s, 6)))
    capped = " (capacity.iotConnectsPerSecond)" if connects < devices / reconnect_target_seconds else ""
    how = (f"{connects:,.1f} CONNECT/s x {connect_s * 1000:.1f} ms + {refreshes:,.1f} policy refreshes/s x "
           f"{refresh_s * 1000:.1f} ms: CONNECT/s = expectedDevices {devices:,} / capacity.reconnectTargetSeconds "
           f"{reconnect_target_seconds:,}{capped}, refreshes/s = expectedDevices / authorizer.refreshAfterSeconds "
           f"{refresh_after_seconds:,}; unknownUserHash {scheme} at {memory_mb} MB, {work.describe()}, "
           "DynamoDB latency not included")
    return AuthorizerSizing(concurrency=concurrency, invocations_per_second=per_second, decision_s=connect_s, how=how)


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
