"""tls-proxy benchmark: a device straight to a TLS broker vs through the proxy.

Runs on 127.0.0.1: mosquitto with a TLS listener and a password file, and the
real haproxy with the configuration rendered by components.proxy_config
(addresses and ports moved to loopback). The same client measures both paths
in one run, alternating between them so drift hits both alike:

* latency of a new device session, split into the device's TCP + TLS
  handshake and the MQTT CONNECT -> CONNACK round trip that follows;
* new sessions per second (TLS handshake + CONNECT/CONNACK + DISCONNECT)
  from several client processes at once.

Run:  .venv/bin/python -m benchmarks.proxy_bench [--iterations N] [--duration S]
Appends a section to benchmarks/RESULTS.md with the exact command.
"""

from __future__ import annotations

import argparse
import itertools
import multiprocessing
import os
import platform
import shlex
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from tests.components.peers.certs import make_ca, make_self_signed, make_server_cert
from tests.components.peers.haproxy import (
    CUSTOM_DOMAIN,
    device_connect,
    device_context,
    haproxy_binary,
    listen_pem,
    loopback_settings,
    start_haproxy,
)
from tests.components.peers.mosquitto import start_mosquitto
from tests.components.peers.mqtt import connect_packet, read_connack

TARGET_ADDED_P50_MS = 1.0
DISCONNECT = b"\xe0\x00"
PINGREQ, PINGRESP = b"\xc0\x00", b"\xd0\x00"
USER, PASSWORD = "bench-device", "bench-password"
RESULTS = Path(__file__).with_name("RESULTS.md")


@dataclass(frozen=True)
class Route:
    name: str
    port: int
    trusted: str  # certificate the device trusts on this path


@dataclass(frozen=True)
class Sample:
    handshake_ms: float
    connack_ms: float
    ping_ms: float

    @property
    def total_ms(self) -> float:
        """Connect until CONNACK: what a device waits for before it can publish."""
        return self.handshake_ms + self.connack_ms


_sessions = itertools.count()


def one_session(context: ssl.SSLContext, port: int) -> Sample:
    start = time.perf_counter()
    tls = device_connect(context, port)
    tls.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        shaken = time.perf_counter()
        tls.sendall(connect_packet(f"bench-{os.getpid()}-{next(_sessions)}", USER, PASSWORD))
        code = read_connack(tls).return_code
        done = time.perf_counter()
        if code != 0:
            raise RuntimeError(f"CONNACK {code} on port {port}: the broker refused the benchmark user")
        tls.sendall(PINGREQ)
        if _read(tls, 2) != PINGRESP:
            raise RuntimeError(f"no PINGRESP on port {port}")
        ponged = time.perf_counter()
        tls.sendall(DISCONNECT)
    finally:
        tls.close()
    return Sample(
        handshake_ms=(shaken - start) * 1000, connack_ms=(done - shaken) * 1000, ping_ms=(ponged - done) * 1000
    )


def _read(tls: ssl.SSLSocket, count: int) -> bytes:
    data = b""
    while len(data) < count:
        chunk = tls.recv(count - len(data))
        if not chunk:
            break
        data += chunk
    return data


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def _rate_worker(trusted: str, port: int, duration: float, out: multiprocessing.Queue) -> None:
    context = device_context(Path(trusted))
    count, deadline = 0, time.perf_counter() + duration
    try:
        while time.perf_counter() < deadline:
            one_session(context, port)
            count += 1
    except Exception as error:  # reported by the parent, which fails the run
        out.put(f"{type(error).__name__}: {error}")
        return
    out.put(count)


def session_rate(path: Route, workers: int, duration: float) -> float:
    out: multiprocessing.Queue = multiprocessing.Queue()
    procs = [
        multiprocessing.Process(target=_rate_worker, args=(path.trusted, path.port, duration, out)) for _ in range(workers)
    ]
    start = time.perf_counter()
    for proc in procs:
        proc.start()
    counts = [out.get(timeout=duration + 30) for _ in procs]
    for proc in procs:
        proc.join(timeout=10)
    errors = [c for c in counts if isinstance(c, str)]
    if errors:
        raise RuntimeError(f"{path.name}: a client process failed: {errors[0]}")
    total = sum(counts)
    return total / (time.perf_counter() - start)


def _version(argv: list[str]) -> str:
    result = subprocess.run(argv, capture_output=True, text=True)
    return (result.stdout + result.stderr).strip().splitlines()[0]


def run(iterations: int, duration: float, workers: int, warmup: int) -> tuple[str, bool]:
    with tempfile.TemporaryDirectory(prefix="proxy-bench-") as tmp:
        work = Path(tmp)
        ca = make_ca(work, "bench-ca")
        broker_cert = make_server_cert(work, ca, "broker", CUSTOM_DOMAIN)
        listen = make_self_signed(work, "listen", CUSTOM_DOMAIN)
        # Without TCP_NODELAY mosquitto holds the small CONNACK back until the
        # client ACKs its TLS 1.3 session tickets: ~40 ms of delayed-ACK wait
        # that would swamp what is measured here.
        broker, broker_port = start_mosquitto(
            work, broker_cert, {USER: PASSWORD}, extra_config=("set_tcp_nodelay true",)
        )
        haproxy = None
        try:
            settings = loopback_settings(
                work, ca_bundle=ca.cert, listen_pem=listen_pem(work, listen), backend_ports=[broker_port],
                check_interval_s=10, check_fall=3, check_rise=2,
            )
            haproxy = start_haproxy(work, settings)
            paths = [
                Route("direct to broker", broker_port, str(ca.cert)),
                Route("through haproxy", settings.families[0].port, str(listen.cert)),
            ]
            contexts = {p.name: device_context(Path(p.trusted)) for p in paths}
            for _ in range(warmup):
                for p in paths:
                    one_session(contexts[p.name], p.port)
            samples: dict[str, list[Sample]] = {p.name: [] for p in paths}
            for i in range(iterations):
                # Alternate which path goes first so neither always follows the other.
                for p in paths if i % 2 == 0 else reversed(paths):
                    samples[p.name].append(one_session(contexts[p.name], p.port))
            rates: dict[str, list[float]] = {p.name: [] for p in paths}
            for _ in range(2):
                for p in paths:
                    rates[p.name].append(session_rate(p, workers, duration))
            haproxy_version = _version([haproxy_binary(), "-v"])
            broker_version = _version(["mosquitto", "-h"])
        finally:
            if haproxy is not None:
                haproxy.stop()
            broker.stop()

    direct, proxied = (samples[p.name] for p in paths)
    lines = [
        "| path | measure | p50 ms | p90 ms | p99 ms |",
        "|---|---|---|---|---|",
    ]
    added: dict[str, list[float]] = {}
    labels = {
        "handshake_ms": "TCP+TLS handshake",
        "connack_ms": "CONNECT->CONNACK",
        "total_ms": "new session total",
        "ping_ms": "PINGREQ->PINGRESP (established)",
    }
    for measure, label in labels.items():
        row = {}
        for name, values in (("direct", direct), ("haproxy", proxied)):
            data = [getattr(s, measure) for s in values]
            row[name] = [percentile(data, p) for p in (50, 90, 99)]
            lines.append(f"| {name} | {label} | " + " | ".join(f"{v:.3f}" for v in row[name]) + " |")
        added[label] = [b - a for a, b in zip(row["direct"], row["haproxy"])]
        lines.append(f"| **added** | {label} | " + " | ".join(f"{v:+.3f}" for v in added[label]) + " |")
    added_p50 = added["CONNECT->CONNACK"][0]
    met = added_p50 < TARGET_ADDED_P50_MS
    direct_rate = statistics.mean(rates[paths[0].name])
    proxy_rate = statistics.mean(rates[paths[1].name])
    command = " ".join(shlex.quote(a) for a in [".venv/bin/python", "-m", "benchmarks.proxy_bench", *sys.argv[1:]])
    section = "\n".join(
        [
            f"## tls-proxy: device -> haproxy -> TLS broker vs device -> TLS broker ({time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())})",
            "",
            f"Command: `{command}`",
            "",
            f"Machine: {os.cpu_count()} CPUs, {platform.platform()}, Python {platform.python_version()}; "
            f"{haproxy_version}; {broker_version}. Everything on 127.0.0.1 (client, haproxy with the rendered "
            "configuration, mosquitto with TLS and a password file), EC P-256 certificates, TLS 1.3.",
            "",
            f"Latency: {iterations} sessions per path, alternating paths, after {warmup} warm-up sessions each. "
            "A session = TCP connect + TLS handshake with the device's first hop, then MQTT 3.1.1 CONNECT with "
            "username/password until CONNACK 0. Through haproxy, the proxy's own TLS connection to the broker "
            "(ALPN mqtt, SNI, verified, session resumed) falls inside these times. Then one PINGREQ/PINGRESP on the "
            "established session. Client sockets use TCP_NODELAY, and so does mosquitto (`set_tcp_nodelay true`): "
            "without it mosquitto's CONNACK waits ~40 ms for a delayed ACK on both paths.",
            "",
            *lines,
            "",
            f"Target: added CONNECT->CONNACK p50 under {TARGET_ADDED_P50_MS:.0f} ms — "
            f"{'met' if met else 'NOT met'} ({added_p50:+.3f} ms). "
            f"Added new-session total p50: {added['new session total'][0]:+.3f} ms; added per-packet round trip "
            f"on an established session (PINGREQ->PINGRESP) p50: {added[labels['ping_ms']][0]:+.3f} ms.",
            "",
            f"New sessions per second ({workers} client processes, 2 x {duration:g} s per path, alternating): "
            f"direct {direct_rate:.0f}/s, through haproxy {proxy_rate:.0f}/s "
            f"({proxy_rate / direct_rate:.0%} of direct). On this machine the client processes, haproxy and "
            "mosquitto share the same CPUs, so these rates are bounded by the machine, not by haproxy alone.",
            "",
        ]
    )
    return section, met


def append_results(section: str, results: Path = RESULTS) -> None:
    if not results.exists():
        results.write_text("# Benchmark results\n\n")
    with results.open("a") as out:
        out.write("\n" + section)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=1000, help="sessions per path for latency (default 1000)")
    parser.add_argument("--warmup", type=int, default=50, help="warm-up sessions per path (default 50)")
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per rate measurement (default 5)")
    parser.add_argument("--workers", type=int, default=4, help="client processes for the rate (default 4)")
    parser.add_argument("--no-write", action="store_true", help="print only; do not append to RESULTS.md")
    args = parser.parse_args(argv)
    section, met = run(args.iterations, args.duration, args.workers, args.warmup)
    print(section)
    if not args.no_write:
        append_results(section)
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
