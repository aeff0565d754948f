"""Helpers shared by the authorizer and `channelctl devices` tests."""

from __future__ import annotations

import base64
import copy
import json
import re
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

import pytest

EVENTS = Path(__file__).resolve().parents[1] / "events"
DATA = Path(__file__).resolve().parent / "data"
TABLE = "device-credentials"
REGION = "eu-central-1"
ACCOUNT = "123456789012"
ENDPOINTS = ("vpce-0123456789abcdef0", "vpce-0fedcba9876543210")
FIXTURE_PASSWORD = b"fixture-password"  # what tests/events/*.json carry, base64-encoded

FAKE_AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
}


@contextmanager
def mocked_aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """moto started before any boto3 client exists, with fake credentials."""
    from moto import mock_aws

    from authorizer import store

    for key in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB", "AWS_CONFIG_FILE"):
        monkeypatch.delenv(key, raising=False)
    for key, value in FAKE_AWS_ENV.items():
        monkeypatch.setenv(key, value)
    store.reset_client()
    with mock_aws():
        yield
    store.reset_client()


def create_table(name: str = TABLE) -> Any:
    import boto3

    client = boto3.client("dynamodb", region_name=REGION)
    client.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "username", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "username", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    return boto3.resource("dynamodb", region_name=REGION).Table(name)


def load_event(name: str) -> dict[str, Any]:
    return json.loads((EVENTS / name).read_text())


def connect_event(username: str, password: bytes | None, client_id: str | None = "<username>") -> dict[str, Any]:
    """The documented MQTT CONNECT event with the given credentials."""
    event = copy.deepcopy(load_event("iot_mqtt_connect.json"))
    mqtt = event["protocolData"]["mqtt"]
    mqtt["username"] = username
    if password is None:
        del mqtt["password"]
    else:
        mqtt["password"] = base64.b64encode(password).decode("ascii")
    if client_id is None:
        del mqtt["clientId"]
    else:
        mqtt["clientId"] = username if client_id == "<username>" else client_id
    return event


# --- a small IoT policy evaluator, enough for the policies the authorizer writes ----


def policy_allows(documents: list[str], action: str, resource: str, context: dict[str, str] | None = None) -> bool:
    """IAM-style evaluation: an explicit Deny wins, otherwise any matching Allow.

    Supports Action/Resource lists, the * and ? wildcards and StringEquals
    conditions; anything else (policy variables, other operators) fails the test.
    """
    context = context or {}
    allowed = False
    for document in documents:
        for statement in json.loads(document)["Statement"]:
            if not any(_wildcard(pattern, action) for pattern in _list(statement["Action"])):
                continue
            if not any(_wildcard(pattern, resource) for pattern in _list(statement["Resource"])):
                continue
            if not _conditions_hold(statement.get("Condition", {}), context):
                continue
            if statement["Effect"] == "Deny":
                return False
            allowed = True
    return allowed


def _list(value: Any) -> list[str]:
    return value if isinstance(value, list) else [value]


def _wildcard(pattern: str, value: str) -> bool:
    assert "${" not in pattern, f"policy variable in {pattern!r}"
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, value, re.S) is not None


def _conditions_hold(conditions: dict[str, Any], context: dict[str, str]) -> bool:
    for operator, pairs in conditions.items():
        assert operator == "StringEquals", f"unsupported condition operator {operator}"
        for key, values in pairs.items():
            if context.get(key) not in _list(values):
                return False
    return True


