"""The public face: bounded online guessing per user name, one response shape for every refusal."""

from __future__ import annotations

import json

import pytest

from authorizer.handler import handler
from authorizer.hashes import ScryptParams, hash_password
from channelctl.cli import main
from tests.authorizer.support import connect_event

PASSWORD = b"right-password"


@pytest.fixture
def device(authorizer_env, monkeypatch):
    monkeypatch.setenv("MAX_FAILED_ATTEMPTS", "3")
    monkeypatch.setenv("LOCKOUT_SECONDS", "600")
    monkeypatch.delenv("CHANNELCTL_STACK", raising=False)
    authorizer_env.put_item(Item={
        "username": "meter-0001", "password_hash": hash_password(PASSWORD, ScryptParams(10, 8, 1)),
        "family": "meters"})
    return authorizer_env


def connects(password: bytes, username: str = "meter-0001") -> dict:
    return handler(connect_event(username, password), None)


def stored(table, username="meter-0001") -> dict:
    return table.get_item(Key={"username": username})["Item"]


def test_wrong_passwords_lock_the_name_even_against_the_right_one(device):
    assert connects(PASSWORD)["isAuthenticated"] is True
    for _ in range(3):
        assert connects(b"guess")["isAuthenticated"] is False
    item = stored(device)
    assert item["failed_attempts"] == 3 and "locked_until" in item
    assert connects(PASSWORD)["isAuthenticated"] is False


def test_fewer_failures_than_the_limit_are_cleared_by_a_login(device):
    for _ in range(2):
        connects(b"guess")
    assert stored(device)["failed_attempts"] == 2
    assert connects(PASSWORD)["isAuthenticated"] is True
    assert "failed_attempts" not in stored(device)


def test_an_operator_unlocks_a_name(device, capsys):
    for _ in range(3):
        connects(b"guess")
    assert connects(PASSWORD)["isAuthenticated"] is False
    assert main(["devices", "show", "meter-0001"]) == 0
    assert "locked_until" in capsys.readouterr().out
    assert main(["devices", "unlock", "meter-0001"]) == 0
    assert connects(PASSWORD)["isAuthenticated"] is True


def test_unknown_names_get_no_record(device):
    for _ in range(5):
        connects(b"guess", username="nobody")
    assert "Item" not in device.get_item(Key={"username": "nobody"})


def test_every_refusal_has_one_shape(device):
    device.put_item(Item={"username": "off", "password_hash": hash_password(PASSWORD, ScryptParams(10, 8, 1)),
                          "family": "meters", "enabled": False})
    refusals = [
        connects(b"guess"),  # known name, wrong password
        connects(PASSWORD, username="nobody"),  # unknown name
        connects(PASSWORD, username="off"),  # disabled
        handler({"protocolData": {}}, None),  # malformed event
    ]
    for _ in range(3):
        connects(b"guess")
    refusals.append(connects(PASSWORD))  # locked
    shapes = {json.dumps(r, sort_keys=True) for r in refusals}
    assert len(shapes) == 1, shapes
    assert refusals[0]["principalId"] == "denied"


# --- the plan of one refusal's update (pure) ----------------------------------------------

from datetime import datetime, timedelta, timezone  # noqa: E402

from authorizer.lockout import is_locked, next_failure  # noqa: E402
from authorizer.records import DeviceRecord  # noqa: E402

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=timezone.utc)


def record(**fields) -> DeviceRecord:
    return DeviceRecord(username="meter-0001", password_hash="$6$x$y", family="meters", **fields)


@pytest.mark.parametrize("fields, locked", [
    ({}, False),
    ({"failed_attempts": 2, "failed_since": NOW - timedelta(seconds=10)}, False),
    ({"failed_attempts": 3, "failed_since": NOW - timedelta(seconds=10)}, True),  # reached within the window
    ({"failed_attempts": 3, "failed_since": NOW - timedelta(seconds=600)}, False),  # the window has ended
    ({"locked_until": NOW + timedelta(seconds=1)}, True),
    ({"locked_until": NOW}, False),
])
def test_a_name_is_locked_from_the_moment_the_window_holds_the_threshold(fields, locked):
    assert is_locked(record(**fields), NOW, 3, 600) is locked


def test_an_exempt_family_is_never_locked():
    assert is_locked(record(locked_until=NOW + timedelta(seconds=60)), NOW, 3, 600, exempt={"meters"}) is False


def test_the_failure_that_reaches_the_threshold_writes_the_lock_in_the_same_update():
    since = NOW - timedelta(seconds=10)
    assert next_failure(record(failed_attempts=1, failed_since=since), NOW, 3, 600).lock_until is None
    update = next_failure(record(failed_attempts=2, failed_since=since), NOW, 3, 600)
    assert (update.new_window, update.lock_until) == (False, NOW + timedelta(seconds=600))
    # an existing lock is never extended by guesses made while it holds
    held = record(failed_attempts=5, failed_since=since, locked_until=NOW + timedelta(seconds=30))
    assert next_failure(held, NOW, 3, 600).lock_until is None


def test_unknown_names_exempt_families_and_refusals_that_do_not_count_never_plan_a_lock():
    since = NOW - timedelta(seconds=10)
    assert next_failure(None, NOW, 1, 600).lock_until is None
    assert next_failure(record(failed_attempts=9, failed_since=since), NOW, 3, 600, exempt={"meters"}).lock_until is None
    assert next_failure(record(failed_attempts=9, failed_since=since), NOW, 3, 600, counts=False).lock_until is None
