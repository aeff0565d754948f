"""Proxy capacity benchmark: memory per idle device and CPU per new session.

Runs the real programs on 127.0.0.1: mosquitto with a TLS listener and a
password file stands in for the iot.data endpoint, and haproxy runs the
configuration rendered by components.proxy_config (addresses, ports and
maxconn moved to what this machine allows). One Python process (asyncio, no
thread per connection) plays N devices: each opens TLS to haproxy without
ALPN or SNI, sends MQTT CONNECT, waits for CONNACK and then stays idle. So
every device is one client TLS session at haproxy plus haproxy's own TLS
session to the broker (ALPN mqtt, SNI, verified).

Measured:

* HAProxy memory: VmRSS of the haproxy process (one process, its threads
  share it) at several N, after the connections have gone idle; the slope of
  a least-squares fit is the cost of one idle device. The RSS after every
  device has disconnected shows whether it shrinks again.
* Kernel memory: /proc/net/sockstat ``TCP mem`` (pages of socket buffers) and
  the slab caches a TCP socket lives in (/proc/slabinfo). On loopback one
  device is four sockets (device <-> haproxy, haproxy <-> broker); a proxy
  instance holds two of them, so its share is half of the per-device delta.
* CPU: utime + stime of the haproxy process (/proc/<pid>/stat) over a run of
  new sessions (TLS handshake from the device, TLS to the broker, CONNECT,
  CONNACK, DISCONNECT), per 1,000 sessions, with the rendered configuration
  (backend TLS sessions resumed, ``ssl-reuse``) and with ``no-ssl-reuse``
  (a full backend handshake every time). CPU seconds do not depend on what
  else runs on the machine; wall-clock rates would.

The descriptor limit bounds N: haproxy needs two descriptors per device.

Run:  .venv/bin/python -m benchmarks.capacity_bench [--levels 1000 2500 ...] [--sessions N]
Appends a section to benchmarks/RESULTS.md with the exact command.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import os
import platform
import resource
import shlex
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from benchmarks.proxy_bench import append_results
from tests.components.peers.certs import make_ca, make_self_signed, make_server_cert
from tests.components.peers.haproxy import (
    CUSTOM_DOMAIN,
    check_config,
    device_context,
    haproxy_binary,
    listen_pem,
    loopback_settings,
)
from tests.components.peers.mosquitto import start_mosquitto
from tests.components.peers.mqtt import connect_packet
from tests.components.peers.processes import LOOPBACK, Peer, start_peer
from components.proxy_config import render_haproxy_config

USER, PASSWORD = "bench-device", "bench-password"
DISCONNECT = b"\xe0\x00"
PAGE = os.sysconf("SC_PAGE_SIZE")
TICKS = os.sysconf("SC_CLK_TCK")
# Slab caches a TCP socket and its descriptor occupy.
SOCKET_SLABS = ("TCP", "sock_inode_cache", "filp", "dentry", "eventpoll_epi", "eventpoll_pwq")
SOCKETS_PER_DEVICE_HERE = 4  # device->haproxy and haproxy->broker, both ends on this machine
SOCKETS_PER_DEVICE_PROXY = 2  # what one proxy instance holds per device
SETTLE_S = 3.0
BURST_IN_FLIGHT = 1000
RETRIES = 5


# --------------------------------------------------------------------------- #
# /proc readers
# --------------------------------------------------------------------------- #


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for pid {pid}")


def cpu_seconds(pid: int) -> float:
    # Fields after the command name (which may hold spaces) start at state.
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    utime, stime = int(fields[11]), int(fields[12])
    return (utime + stime) / TICKS


def tcp_mem_bytes() -> int:
    for line in Path("/proc/net/sockstat").read_text().splitlines():
        if line.startswith("TCP:"):
            parts = line.split()
            return int(parts[parts.index("mem") + 1]) * PAGE
    raise RuntimeError("no TCP line in /proc/net/sockstat")


def slab_bytes() -> int | None:
    try:
        text = Path("/proc/slabinfo").read_text()
    except OSError:
        return None
    total = 0
    for line in text.splitlines()[2:]:
        parts = line.split()
        if parts and parts[0] in SOCKET_SLABS:
            total += int(parts[1]) * int(parts[3])  # active objects x object size
    return total


@dataclass(frozen=True)
class Reading:
    devices: int
    rss_kib: int
    tcp_mem: int
    slab: int | None


def read(pid: int, devices: int) -> Reading:
    return Reading(devices=devices, rss_kib=rss_kib(pid), tcp_mem=tcp_mem_bytes(), slab=slab_bytes())


def fit(xs: list[float], ys: list[float]) -> tuple[float, float]:
    """Least-squares slope and intercept."""
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    sxx = sum((x - mx) ** 2 for x in xs)
    slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sxx
    return slope, my - slope * mx


# --------------------------------------------------------------------------- #
# Devices
# --------------------------------------------------------------------------- #


class Devices:
    """Many device sessions from one event loop."""

    def __init__(self, context: ssl.SSLContext, port: int):
        self.context = context
        self.port = port
        self.open: list[asyncio.StreamWriter] = []
        self.failed = 0
        self._ids = 0

    async def _session(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        # A device connects to an IP address: Python sends no SNI for it, and
        # the context offers no ALPN.
        reader, writer = await asyncio.open_connection(
            LOOPBACK, self.port, ssl=self.context, server_hostname="", limit=64
        )
        self._ids += 1
        # A keep-alive longer than the run: the broker never drops an idle
        # benchmark device (each run keeps them well under haproxy's idle timeout).
        writer.write(connect_packet(f"cap-{self._ids}", USER, PASSWORD, keepalive=1200))
        connack = await reader.readexactly(4)
        if connack[0] >> 4 != 2 or connack[3] != 0:
            raise RuntimeError(f"unexpected CONNACK {connack.hex()}")
        return reader, writer

    async def grow(self, target: int, concurrency: int) -> None:
        gate = asyncio.Semaphore(concurrency)

        async def one() -> None:
            async with gate:
                for attempt in range(RETRIES):
                    try:
                        _, writer = await self._session()
                    except (ConnectionError, asyncio.IncompleteReadError, ssl.SSLError, OSError):
                        # A device whose connection fails tries again after a pause, as a
                        # real one would; the count is reported with the results.
                        self.failed += 1
                        if attempt == RETRIES - 1:
                            raise
                        await asyncio.sleep(1 + attempt)
                        continue
                    self.open.append(writer)
                    return

        await asyncio.gather(*(one() for _ in range(target - len(self.open))))

    async def churn(self, sessions: int, concurrency: int) -> None:
        """New sessions that connect, get CONNACK and disconnect."""
        gate = asyncio.Semaphore(concurrency)

        async def one() -> None:
            async with gate:
                _, writer = await self._session()
                writer.write(DISCONNECT)
                writer.close()
                await writer.wait_closed()

        await asyncio.gather(*(one() for _ in range(sessions)))

    async def close_all(self) -> None:
        for writer in self.open:
            writer.write(DISCONNECT)
            writer.close()
        await asyncio.gather(*(w.wait_closed() for w in self.open), return_exceptions=True)
        self.open.clear()


# --------------------------------------------------------------------------- #
# Runs
# --------------------------------------------------------------------------- #


@dataclass
class Variant:
    name: str
    backend_reuse: bool
    readings: list[Reading] = dataclasses.field(default_factory=list)
    after_close: Reading | None = None
    burst: Reading | None = None
    burst_retries: int = 0
    cpu_per_1000: list[float] = dataclasses.field(default_factory=list)
    # The 1-minute load average at the end of each CPU run (CPU seconds per
    # session rise when other work shares the cores).
    cpu_loads: list[float] = dataclasses.field(default_factory=list)
    base_rss_kib: int = 0


def start_proxy(work: Path, settings, backend_reuse: bool, name: str) -> Peer:
    config = render_haproxy_config(settings)
    if not backend_reuse:
        if " ssl-reuse " not in config:
            raise RuntimeError("the rendered configuration no longer writes ssl-reuse: update the benchmark")
        config = config.replace(" ssl-reuse ", " no-ssl-reuse ")
    path = work / f"{name}.cfg"
    path.write_text(config)
    checked = check_config(path)
    if checked.returncode != 0:
        raise RuntimeError(f"haproxy -c refused the configuration:\n{checked.stdout}{checked.stderr}")
    ports = [f.port for f in settings.families] + [settings.health_port]
    return start_peer(name, [haproxy_binary(), "-db", "-f", str(path)], work / f"{name}.log", ports)


async def measure_cpu(variants: list[Variant], pids: list[int], devices: list[Devices], sessions: int,
                      rounds: int, concurrency: int) -> None:
    # Warm-up: the first sessions fill haproxy's pools and OpenSSL's caches.
    for d in devices:
        await d.churn(200, concurrency)
    # Alternate the configurations round by round, so that load from other
    # work on the machine hits both alike.
    for _ in range(rounds):
        for variant, pid, d in zip(variants, pids, devices):
            before = cpu_seconds(pid)
            await d.churn(sessions, concurrency)
            variant.cpu_per_1000.append((cpu_seconds(pid) - before) / sessions * 1000)
            variant.cpu_loads.append(os.getloadavg()[0])


async def drained(pid: int, timeout: float = 120.0) -> None:
    """Wait until haproxy has let go of the closed sessions (their descriptors)."""
    deadline = time.monotonic() + timeout
    while len(os.listdir(f"/proc/{pid}/fd")) > 100 and time.monotonic() < deadline:
        await asyncio.sleep(1)


async def measure_memory(variant: Variant, pid: int, devices: Devices, levels: list[int], concurrency: int) -> None:
    await asyncio.sleep(SETTLE_S)
    variant.base_rss_kib = rss_kib(pid)
    variant.readings.append(read(pid, 0))
    for level in levels:
        await devices.grow(level, concurrency)
        await asyncio.sleep(SETTLE_S)
        variant.readings.append(read(pid, len(devices.open)))
    top = len(devices.open)
    await devices.close_all()
    await asyncio.sleep(SETTLE_S)
    variant.after_close = read(pid, 0)
    await drained(pid)
    # All devices at once, as after an outage: many handshakes in flight.
    before = devices.failed
    await devices.grow(top, BURST_IN_FLIGHT)
    variant.burst_retries = devices.failed - before
    await asyncio.sleep(SETTLE_S)
    variant.burst = read(pid, len(devices.open))
    await devices.close_all()


def run(levels: list[int], sessions: int, rounds: int, concurrency: int) -> tuple[str, dict[str, float]]:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    # haproxy: 2 descriptors per device plus listeners, checks and the log.
    max_connections = min(10_000, (hard - 200) // 2)
    if max(levels) > max_connections - 100:
        raise SystemExit(
            f"--levels up to {max(levels)} needs about {2 * max(levels) + 200} descriptors for haproxy; "
            f"the hard limit here is {hard} — use levels up to {max_connections - 100}"
        )
    variants = [Variant("rendered (backend ssl-reuse)", True), Variant("no-ssl-reuse", False)]
    with tempfile.TemporaryDirectory(prefix="capacity-bench-") as tmp:
        work = Path(tmp)
        ca = make_ca(work, "bench-ca")
        broker_cert = make_server_cert(work, ca, "broker", CUSTOM_DOMAIN)
        listen = make_self_signed(work, "listen", CUSTOM_DOMAIN)
        broker, broker_port = start_mosquitto(
            work, broker_cert, {USER: PASSWORD}, extra_config=("set_tcp_nodelay true",)
        )
        try:
            settings = loopback_settings(
                work, ca_bundle=ca.cert, listen_pem=listen_pem(work, listen), backend_ports=[broker_port],
                family_names=("family1",), check_interval_s=10, check_fall=3, check_rise=2,
                max_connections=max_connections,
            )
            # The same configuration rendered twice on other ports: one
            # haproxy as rendered, one with no-ssl-reuse, both running.
            other = loopback_settings(
                work, ca_bundle=ca.cert, listen_pem=listen_pem(work, listen), backend_ports=[broker_port],
                family_names=("family1",), check_interval_s=10, check_fall=3, check_rise=2,
                max_connections=max_connections,
            )
            context = device_context(listen.cert)
            proxies = [
                start_proxy(work, s, v.backend_reuse, f"haproxy-{i}")
                for i, (s, v) in enumerate(zip((settings, other), variants))
            ]
            try:
                pids = [p.process.pid for p in proxies]
                clients = [Devices(context, s.families[0].port) for s in (settings, other)]
                loads = [os.getloadavg()[0]]

                async def everything() -> None:
                    await measure_cpu(variants, pids, clients, sessions, rounds, concurrency)
                    await measure_memory(variants[0], pids[0], clients[0], levels, concurrency)

                asyncio.run(everything())
                loads.append(os.getloadavg()[0])
            finally:
                for proxy in proxies:
                    proxy.stop()
            haproxy_version = _version([haproxy_binary(), "-v"])
            broker_version = _version(["mosquitto", "-h"])
            openssl_version = ssl.OPENSSL_VERSION
        finally:
            broker.stop()
    return report(variants, levels, sessions, rounds, concurrency, max_connections, hard,
                  haproxy_version, broker_version, openssl_version, loads)


def _version(argv: list[str]) -> str:
    result = subprocess.run(argv, capture_output=True, text=True)
    return (result.stdout + result.stderr).strip().splitlines()[0]


def _runs(variant: Variant) -> str:
    return ", ".join(f"{v:.3f} ({load:.2f})" for v, load in zip(variant.cpu_per_1000, variant.cpu_loads))


def report(variants: list[Variant], levels: list[int], sessions: int, rounds: int, concurrency: int,
           max_connections: int, hard: int, haproxy_version: str, broker_version: str,
           openssl_version: str, loads: list[float]) -> tuple[str, dict[str, float]]:
    rendered, full = variants
    rows = rendered.readings
    xs = [float(r.devices) for r in rows]
    rss_slope, rss_icpt = fit(xs, [float(r.rss_kib) for r in rows])
    mem_slope, _ = fit(xs, [r.tcp_mem / 1024 for r in rows])
    have_slab = all(r.slab is not None for r in rows)
    slab_slope = fit(xs, [r.slab / 1024 for r in rows])[0] if have_slab else 0.0  # type: ignore[operator]
    kernel_per_device = (mem_slope + slab_slope) * SOCKETS_PER_DEVICE_PROXY / SOCKETS_PER_DEVICE_HERE
    base = rows[0]
    table = [
        "| idle devices | haproxy RSS MiB | RSS KiB per device (vs 0) | TCP mem KiB | socket slab KiB |",
        "|---|---|---|---|---|",
    ]
    for r in rows:
        per = f"{(r.rss_kib - base.rss_kib) / r.devices:.1f}" if r.devices else "-"
        slab = f"{r.slab / 1024:.0f}" if r.slab is not None else "n/a"
        table.append(f"| {r.devices} | {r.rss_kib / 1024:.1f} | {per} | {r.tcp_mem / 1024:.0f} | {slab} |")
    assert rendered.after_close is not None and rendered.burst is not None
    top = rows[-1]
    burst_per = (rendered.burst.rss_kib - base.rss_kib) / rendered.burst.devices
    cpu_reuse = statistics.median(rendered.cpu_per_1000)
    cpu_full = statistics.median(full.cpu_per_1000)
    figures = {
        "haproxy_base_rss_kib": float(base.rss_kib),
        "haproxy_rss_kib_per_device": round(rss_slope, 1),
        "haproxy_burst_rss_kib_per_device": round(burst_per, 1),
        "kernel_kib_per_device": round(kernel_per_device, 1),
        "cpu_s_per_1000_sessions_reuse": round(cpu_reuse, 3),
        "cpu_s_per_1000_sessions_full": round(cpu_full, 3),
    }
    command = " ".join(shlex.quote(a) for a in [".venv/bin/python", "-m", "benchmarks.capacity_bench", *sys.argv[1:]])
    cpu_rows = [
        "| backend TLS | haproxy CPU s per 1,000 new sessions (median) | runs (1-minute load at the run's end) "
        "| sessions/s per core at that cost |",
        "|---|---|---|---|",
        f"| resumed (rendered `ssl-reuse`) | {cpu_reuse:.3f} | {_runs(rendered)} | {1000 / cpu_reuse:.0f} |",
        f"| full handshake (`no-ssl-reuse`) | {cpu_full:.3f} | {_runs(full)} | {1000 / cpu_full:.0f} |",
    ]
    section = "\n".join(
        [
            f"## proxy capacity: memory per idle device, CPU per new session ({time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())})",
            "",
            f"Command: `{command}`",
            "",
            f"Machine: {os.cpu_count()} CPUs ({platform.machine()}), {platform.platform()}, Python "
            f"{platform.python_version()}; {haproxy_version}; {broker_version}; {openssl_version}. "
            "Everything on 127.0.0.1: one asyncio client process (devices: TLS without ALPN/SNI, MQTT 3.1.1 "
            "CONNECT, idle), haproxy with the rendered configuration (one family, maxconn "
            f"{max_connections}), mosquitto with TLS and a password file as the endpoint. EC P-256 "
            "certificates, TLS 1.3. The machine's hard descriptor limit is "
            f"{hard} and haproxy needs two descriptors per device, so N stops at {max(levels)}: the per-device "
            "cost is the slope of a least-squares fit over the levels below, and larger fleets are "
            "extrapolated from it.",
            "",
            f"Memory (devices opened {concurrency} at a time, readings {SETTLE_S:g} s after each level is reached):",
            "",
            *table,
            "",
            f"- HAProxy RSS per idle device (slope): **{rss_slope:.1f} KiB** (intercept {rss_icpt / 1024:.1f} MiB; "
            f"base RSS after warm-up {base.rss_kib / 1024:.1f} MiB).",
            f"- Kernel per device, proxy's share ({SOCKETS_PER_DEVICE_PROXY} of the {SOCKETS_PER_DEVICE_HERE} "
            f"sockets here): **{kernel_per_device:.1f} KiB** (socket buffers {mem_slope:.2f} KiB + socket slab "
            f"{slab_slope:.2f} KiB per device for all {SOCKETS_PER_DEVICE_HERE} sockets, halved).",
            f"- After all {top.devices} devices disconnected: RSS {rendered.after_close.rss_kib / 1024:.1f} MiB "
            f"(peak {top.rss_kib / 1024:.1f} MiB): HAProxy keeps its peak.",
            f"- All {rendered.burst.devices} devices reconnecting at once ({BURST_IN_FLIGHT:,} handshakes in flight), then idle: "
            f"RSS {rendered.burst.rss_kib / 1024:.1f} MiB, **{burst_per:.1f} KiB per device** over the base "
            f"({rendered.burst_retries} connections failed on the loaded machine and were retried).",
            "",
            f"CPU ({rounds} runs of {sessions} new sessions each per configuration, the two configurations "
            f"alternating run by run, {concurrency} in flight, after 200 warm-up sessions each; a session = device "
            "TLS handshake, haproxy's TLS to the broker, CONNECT, CONNACK, DISCONNECT; haproxy utime+stime from "
            f"/proc; 1-minute load average {loads[0]:.1f} at the start and {loads[-1]:.1f} at the end on "
            f"{os.cpu_count()} CPUs — CPU seconds per session rise when other work shares the cores' caches):",
            "",
            *cpu_rows,
            "",
            f"Backend resumption saves {cpu_full - cpu_reuse:+.3f} CPU s per 1,000 sessions "
            f"({(cpu_full - cpu_reuse) / cpu_full:+.0%} of a full backend handshake). TLS 1.3 resumption "
            "(psk_dhe_ke) still runs an ECDHE exchange; it saves the server's certificate and its verification.",
            "",
            "Figures used by components/proxy_capacity.py: "
            + ", ".join(f"{k}={v:g}" for k, v in figures.items()),
            "",
        ]
    )
    return section, figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--levels", type=int, nargs="+", default=[1000, 2500, 5000, 7500, 9500],
                        help="idle device counts at which memory is read (default 1000 2500 5000 7500 9500)")
    parser.add_argument("--sessions", type=int, default=3000, help="new sessions per CPU run (default 3000)")
    parser.add_argument("--rounds", type=int, default=3, help="CPU runs per configuration (default 3)")
    parser.add_argument("--concurrency", type=int, default=50, help="sessions in flight (default 50)")
    parser.add_argument("--no-write", action="store_true", help="print only; do not append to RESULTS.md")
    args = parser.parse_args(argv)
    levels = sorted(set(args.levels))
    section, _ = run(levels, args.sessions, args.rounds, args.concurrency)
    print(section)
    if not args.no_write:
        append_results(section)
    return 0


if __name__ == "__main__":
    sys.exit(main())
