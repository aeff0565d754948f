"""New device passwords: NIST SP 800-63B-4's 15 characters, no user name, no repeated or consecutive run."""

from __future__ import annotations

import pytest

from channelctl.devices.password_strength import MIN_CHARACTERS, password_weakness
from tests.channelctl.devices.test_devices import items, table  # noqa: F401 — the fixtures


@pytest.mark.parametrize("password", [
    b"relay-cabinet-blue",
    b"aB3$dE6&gH9*jK2",  # exactly 15
    "Zählerschrank-Süd".encode(),  # 17 code points, 19 bytes
    b"correct horse battery staple",
])
def test_strong_enough_passwords_pass(password):
    assert password_weakness(password, "meter-0001") is None


@pytest.mark.parametrize("password, reason", [
    (b"fourteen-chars", "14 characters; at least 15"),
    ("Zählerschrank".encode(), "13 characters"),  # 15 bytes, 13 code points
    (b"my-METER-0001-password", "user name"),
    (b"aaaaaaaaaaaaaaaaaaaa", "repeated"),
    (b"abc1abc1abc1abc1abc1", "repeated"),
    (b"abcdefghijklmnopq", "consecutive"),
    (b"zyxwvutsrqponmlkj", "consecutive"),
])
def test_weak_passwords_are_refused_with_the_reason(password, reason):
    assert reason in password_weakness(password, "meter-0001")


def test_the_minimum_is_nists_for_a_single_factor():
    assert MIN_CHARACTERS == 15
    assert password_weakness(b"x" * 14 + b"y", "d") is None and password_weakness(b"xy" * 7, "d") is not None


def test_add_refuses_a_short_password_and_writes_nothing(table, run):  # noqa: F811
    code, _, err = run("add", "meter-0001", "--family", "meters", "--password-stdin", stdin=b"short-pw\n")
    assert code == 2 and "8 characters; at least 15" in err and "nothing was changed" in err
    assert items(table) == []


def test_set_password_refuses_the_user_name_and_keeps_the_old_hash(table, run):  # noqa: F811
    assert run("add", "meter-0001", "--family", "meters", "--password-stdin", stdin=b"relay-cabinet-blue\n")[0] == 0
    before = items(table)[0]["password_hash"]
    code, _, err = run("set-password", "meter-0001", "--password-stdin", stdin=b"meter-0001-meter-0001\n")
    assert code == 2 and "user name" in err
    assert items(table)[0]["password_hash"] == before
    assert run("set-password", "meter-0001", "--password-stdin", stdin=b"another-long-secret\n")[0] == 0
    assert items(table)[0]["password_hash"] != before


# --- imported hashes flagged for rotation --------------------------------------------------

import base64  # noqa: E402
import hashlib  # noqa: E402

from authorizer.hashes import ScryptParams, hash_password, parse_hash  # noqa: E402
from channelctl.devices.password_strength import MIN_PBKDF2_SHA512_ITERATIONS, weak_hash  # noqa: E402


def sha512_line(user: str, password: bytes) -> str:
    salt = b"0123456789ab"
    return f"{user}:$6${base64.b64encode(salt).decode()}${base64.b64encode(hashlib.sha512(password + salt).digest()).decode()}"


def pbkdf2_hash(iterations: int) -> str:
    salt = b"0123456789ab"
    digest = hashlib.pbkdf2_hmac("sha512", b"pw", salt, 1, 64)  # only the stated count matters to the rule
    return f"$7${iterations}${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"


@pytest.mark.parametrize("stored", [
    pbkdf2_hash(MIN_PBKDF2_SHA512_ITERATIONS),
    hash_password(b"relay-cabinet-blue"),  # the project's scrypt as channelctl writes it
], ids=["pbkdf2-sha512-minimum", "scrypt-default"])
def test_schemes_on_the_allow_list_are_kept(stored):
    assert weak_hash(parse_hash(stored)) is None


@pytest.mark.project_scrypt
@pytest.mark.parametrize("stored, reason", [
    (sha512_line("u", b"pw").split(":", 1)[1], "no work factor"),
    (pbkdf2_hash(101), "101 iterations"),  # Mosquitto 2.0's default
    (pbkdf2_hash(MIN_PBKDF2_SHA512_ITERATIONS - 1), "209999 iterations"),
    (hash_password(b"relay-cabinet-blue", ScryptParams(10, 8, 1)), "scrypt below"),
], ids=["sha512", "pbkdf2-101", "pbkdf2-below-minimum", "scrypt-ln10"])
def test_weaker_schemes_are_flagged(stored, reason):
    assert reason in weak_hash(parse_hash(stored))


def test_the_import_report_flags_each_weak_entry_for_rotation(table, tmp_path, capsys, monkeypatch):  # noqa: F811
    from channelctl.cli import main
    from channelctl.devices import command

    # The registry's cost ceiling is tested with the import; this test reads the report line only.
    monkeypatch.setattr(command, "_register_schemes", lambda *args, **kwargs: None)

    path = tmp_path / "passwd"
    path.write_text(sha512_line("old-meter", b"broker-password") + "\n")
    assert main(["devices", "import-mosquitto", str(path), "--family", "meters", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "old-meter: would be created; rotate: one SHA-512" in out
    assert "channelctl devices set-password old-meter" in out
