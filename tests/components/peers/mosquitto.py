"""Run the real mosquitto broker with a TLS listener and a password file."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.components.peers.certs import CertPair
from tests.components.peers.processes import LOOPBACK, Peer, current_user, free_port, require_binary, start_peer


def write_password_file(path: Path, users: dict[str, str]) -> Path:
    tool = require_binary("mosquitto_passwd", "/usr/bin/mosquitto_passwd")
    path.write_text("")
    for username, password in users.items():
        result = subprocess.run([tool, "-b", str(path), username, password], capture_output=True, text=True)
        if result.returncode != 0:
            raise RuntimeError(f"mosquitto_passwd failed for {username!r}: {result.stderr}")
    return path


def start_mosquitto(
    workdir: Path, server: CertPair, users: dict[str, str], extra_config: tuple[str, ...] = ()
) -> tuple[Peer, int]:
    broker = require_binary("mosquitto", "/usr/sbin/mosquitto")
    port = free_port()
    passwords = write_password_file(workdir / "passwords", users)
    config = workdir / "mosquitto.conf"
    config.write_text(
        "\n".join(
            [
                # Run as whoever runs the tests: as root, mosquitto would
                # otherwise drop to a user that cannot read the temp dir.
                f"user {current_user()}",
                "per_listener_settings false",
                "allow_anonymous false",
                f"password_file {passwords}",
                f"listener {port} {LOOPBACK}",
                f"certfile {server.cert}",
                f"keyfile {server.key}",
                "log_dest stdout",
                "log_type error",
                "log_type warning",
                "log_type notice",
                *extra_config,
                "",
            ]
        )
    )
    peer = start_peer("mosquitto", [broker, "-c", str(config)], workdir / "mosquitto.log", [port])
    return peer, port
