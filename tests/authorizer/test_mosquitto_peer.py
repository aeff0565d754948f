"""The real mosquitto_passwd writes the hashes, the real mosquitto broker judges them,
and the authorizer (fed through `channelctl devices import-mosquitto`) must agree on
every accept and every reject.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest

from authorizer import hashes
from authorizer.handler import handler
from channelctl.cli import main as channelctl
from tests.authorizer.support import connect_event
from tests.authorizer.test_enumeration import SMALL_SCRYPT
from tests.components.peers.mqtt import connect_packet, read_connack

pytestmark = pytest.mark.peer

# (user, password, mosquitto_passwd options)
DEVICES = [
    ("dev-sha512", "plain ascii", ["-H", "sha512"]),
    ("dev-sha512-utf8", "日本語 パスワード:", ["-H", "sha512"]),
    ("dev-pbkdf2", "colon:in:password", []),
    ("dev-iter1", "x", ["-I", "1"]),
    ("dev-iter1000", "ünïcödé pässwörd", ["-I", "1000"]),
    ("dev-iter20000", "  leading and trailing spaces  ", ["-I", "20000"]),
    ("dev-space", " ", []),
    ("dev-long", "long-" * 60, ["-H", "sha512-pbkdf2", "-I", "50"]),
]


def binary(name: str) -> str:
    found = shutil.which(name) or next(
        (str(p) for p in (Path("/usr/sbin") / name, Path("/usr/bin") / name) if p.exists()), None
    )
    if not found:
        pytest.fail(f"{name} is not installed — install the Debian packages mosquitto and mosquitto-clients")
    return found


def write_password_file(path: Path) -> None:
    tool = binary("mosquitto_passwd")
    for index, (user, password, options) in enumerate(DEVICES):
        create = ["-c"] if index == 0 else []
        subprocess.run([tool, *create, *options, "-b", str(path), user, password], check=True, timeout=30)
    os.chmod(path, 0o644)  # run as root, mosquitto reads it after dropping to its own user


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def broker(tmp_path):
    password_file = tmp_path / "passwd"
    write_password_file(password_file)
    port = free_port()
    log = tmp_path / "mosquitto.log"
    config = tmp_path / "mosquitto.conf"
    config.write_text(
        f"listener {port} 127.0.0.1\n"
        "allow_anonymous false\n"
        f"password_file {password_file}\n"
        "persistence false\n"
        f"log_dest file {log}\n"
        f"user {pwd.getpwuid(os.getuid()).pw_name}\n"
    )
    process = subprocess.Popen([binary("mosquitto"), "-c", str(config)], stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 10
        while True:
            if process.poll() is not None:
                pytest.fail(f"mosquitto exited: {process.stderr.read().decode(errors='replace')}")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail("mosquitto did not open its port within 10 s")
                time.sleep(0.05)
        yield port, password_file
    finally:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def mosquitto_accepts(port: int, username: str, password: bytes | None) -> bool:
    """Send an MQTT 3.1.1 CONNECT and read the CONNACK return code (0 = accepted)."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as conn:
        conn.sendall(connect_packet(username, username, password, keepalive=30))
        try:
            connack = read_connack(conn)
        except ConnectionError:
            return False  # closed without a CONNACK: refused
        if connack.return_code == 0:
            conn.sendall(b"\xe0\x00")  # DISCONNECT
        return connack.return_code == 0


def attempts():
    """(user, password bytes or None, whether the broker should accept it)."""
    others = [password for _, password, _ in DEVICES]
    for user, password, _ in DEVICES:
        good = password.encode("utf-8")
        yield user, good, True
        variants = {good + b"x", good[:-1], good.strip(), good.upper(), good.lower(), b"", b"\x00" + good,
                    good + b"\x00", good + b"\x00tail", good[:1] + b"\x00" + good[1:]}
        variants |= {p.encode("utf-8") for p in others}
        for other in sorted(variants - {good}):
            # mosquitto keeps the password as a C string: bytes after a NUL do not count.
            yield user, other, other.split(b"\x00", 1)[0] == good
        yield user, None, False
    yield "dev-unknown", b"plain ascii", False


def test_authorizer_agrees_with_mosquitto_on_every_accept_and_reject(authorizer_env, broker, capsys, monkeypatch):
    # Many wrong passwords per user: this compares hash semantics, not the lockout (test_lockout.py).
    monkeypatch.setenv("MAX_FAILED_ATTEMPTS", "1000")
    # A first good login upgrades the record to the project's scrypt, and from then on every CONNECT
    # also verifies one scrypt hash (the equal work of test_enumeration.py): its cost parameters are a
    # setting, not a semantic of either side, so the upgrades here use the small ones of those tests.
    monkeypatch.setattr(hashes, "DEFAULT_SCRYPT", SMALL_SCRYPT)  # read when called, by channelctl too
    port, password_file = broker
    assert channelctl(["devices", "import-mosquitto", str(password_file), "--family", "meters"]) == 0
    imported = capsys.readouterr().out
    assert imported.count(": created") == len(DEVICES)

    disagreements = []
    checked = 0
    for user, password, expected in attempts():
        broker_says = mosquitto_accepts(port, user, password)
        authorizer_says = handler(connect_event(user, password), None)["isAuthenticated"]
        checked += 1
        if broker_says != authorizer_says or broker_says != expected:
            disagreements.append((user, password, expected, broker_says, authorizer_says))
    assert not disagreements, f"(user, password, expected, mosquitto, authorizer): {disagreements}"
    assert checked > 10 * len(DEVICES)


def test_the_peer_test_can_see_a_disagreement(authorizer_env, broker, capsys):
    # A record whose hash was changed after import: mosquitto accepts, the authorizer must not,
    # so a comparison that could never fail would show up here.
    port, password_file = broker
    assert channelctl(["devices", "import-mosquitto", str(password_file), "--family", "meters"]) == 0
    other_hash = authorizer_env.get_item(Key={"username": "dev-pbkdf2"})["Item"]["password_hash"]
    authorizer_env.update_item(
        Key={"username": "dev-sha512"},
        UpdateExpression="SET password_hash = :h",
        ExpressionAttributeValues={":h": other_hash},
    )
    assert mosquitto_accepts(port, "dev-sha512", b"plain ascii") is True
    assert handler(connect_event("dev-sha512", b"plain ascii"), None)["isAuthenticated"] is False
