"""Run the real HAProxy with a configuration rendered by components.proxy_config."""

from __future__ import annotations

import dataclasses
import os
import socket
import ssl
import subprocess
from pathlib import Path

from components.proxy_config import ProxyFamily, ProxySettings, render_haproxy_config
from tests.components.peers.certs import CertPair
from tests.components.peers.processes import LOOPBACK, Peer, free_ports, require_binary, start_peer

CUSTOM_DOMAIN = "iot.example.com"


def haproxy_binary() -> str:
    return require_binary("haproxy", "/usr/sbin/haproxy")


def loopback_settings(
    workdir: Path,
    *,
    ca_bundle: Path,
    listen_pem: Path,
    backend_ports: list[int],
    family_names: tuple[str, ...] = ("family1", "family2"),
    **overrides: object,
) -> ProxySettings:
    """Production settings with only the addresses and ports moved to loopback.

    All backend servers are 127.0.0.1; several servers need several ports, so
    one backend port per server is not expressible — tests use one port.
    """
    if len(set(backend_ports)) != 1:
        raise ValueError("the renderer uses one backend port for every endpoint IP")
    ports = free_ports(len(family_names) + 1)
    root = os.getuid() == 0
    chroot = workdir / "chroot"
    chroot.mkdir(exist_ok=True)
    base = ProxySettings(
        custom_domain=CUSTOM_DOMAIN,
        families=tuple(ProxyFamily(name=n, port=p) for n, p in zip(family_names, ports)),
        endpoint_ips=("127.0.0.1",),
        ca_bundle_path=str(ca_bundle),
        listen_certificate_path=str(listen_pem),
        bind_address=LOOPBACK,
        backend_port=backend_ports[0],
        health_port=ports[-1],
        stats_socket_path=str(workdir / "stats.sock"),
        # As root, drop privileges and chroot exactly as on the instances.
        run_as_user="haproxy" if root else None,
        chroot_dir=str(chroot) if root else None,
        check_interval_s=1,
        check_fall=1,
        check_rise=1,
        # Production maxconn (23,369 or more, from the instance's memory)
        # needs twice as many file descriptors, more than a test machine's
        # hard limit allows.
        max_connections=1000,
    )
    return dataclasses.replace(base, **overrides)


def check_config(config_path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([haproxy_binary(), "-c", "-f", str(config_path)], capture_output=True, text=True)


def start_haproxy(workdir: Path, settings: ProxySettings, name: str = "haproxy") -> Peer:
    config_path = workdir / f"{name}.cfg"
    config_path.write_text(render_haproxy_config(settings))
    checked = check_config(config_path)
    if checked.returncode != 0:
        raise RuntimeError(f"haproxy -c refused the rendered configuration:\n{checked.stdout}{checked.stderr}")
    ports = [f.port for f in settings.families] + [settings.health_port]
    return start_peer(name, [haproxy_binary(), "-db", "-f", str(config_path)], workdir / f"{name}.log", ports)


def device_context(trusted: Path) -> ssl.SSLContext:
    """A device's TLS client: no SNI (it connects to an IP), no ALPN."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.load_verify_locations(str(trusted))
    return context


def device_connect(context: ssl.SSLContext, port: int, timeout: float = 5.0) -> ssl.SSLSocket:
    raw = socket.create_connection((LOOPBACK, port), timeout=timeout)
    return context.wrap_socket(raw, server_hostname=None)


def listen_pem(directory: Path, pair: CertPair) -> Path:
    return pair.combined(directory / "listen.pem")
