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
