"""Start, wait for and stop peer programs bound to 127.0.0.1."""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

LOOPBACK = "127.0.0.1"


def require_binary(name: str, *candidates: str) -> str:
    """The binary's path; a missing peer fails the test loudly, never skips it."""
    for path in (*candidates, shutil.which(name)):
        if path and os.access(path, os.X_OK):
            return path
    raise RuntimeError(
        f"peer binary {name!r} not found — install it (Debian: apt-get install -y {name}) before running these tests"
    )


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((LOOPBACK, 0))
        return probe.getsockname()[1]


def free_ports(count: int) -> list[int]:
    """Distinct free ports (held open together so none is handed out twice)."""
    probes = [socket.socket(socket.AF_INET, socket.SOCK_STREAM) for _ in range(count)]
    try:
        for probe in probes:
            probe.bind((LOOPBACK, 0))
        return [probe.getsockname()[1] for probe in probes]
    finally:
        for probe in probes:
            probe.close()


def current_user() -> str:
    return pwd.getpwuid(os.getuid()).pw_name


@dataclass
class Peer:
    """A peer program running in its own process group."""

    name: str
    process: subprocess.Popen[bytes]
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self) -> None:
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=5)


def start_peer(name: str, argv: list[str], log_path: Path, ports: list[int], timeout: float = 10.0) -> Peer:
    """Run argv in a new session and wait until every port accepts connections."""
    log_file = open(log_path, "wb")
    try:
        process = subprocess.Popen(
            argv, stdout=log_file, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True
        )
    finally:
        log_file.close()
    peer = Peer(name=name, process=process, log_path=log_path)
    deadline = time.monotonic() + timeout
    pending = list(ports)
    while pending:
        if process.poll() is not None:
            raise RuntimeError(f"{name} exited with {process.returncode} before listening:\n{peer.log()}")
        if time.monotonic() > deadline:
            peer.stop()
            raise RuntimeError(f"{name} did not listen on {pending} within {timeout} s:\n{peer.log()}")
        try:
            with socket.create_connection((LOOPBACK, pending[0]), timeout=0.5):
                pending.pop(0)
        except OSError:
            time.sleep(0.05)
    return peer
