"""The Lambda handler against a moto DynamoDB table, with the documented event shapes."""

from __future__ import annotations

import base64
import json
import logging
from datetime import datetime, timedelta, timezone

import pytest

from authorizer import handler as handler_module
from authorizer.handler import handler
from authorizer.hashes import ScryptParams, hash_password
from tests.authorizer.support import (
    ACCOUNT,
    ENDPOINTS,
    FIXTURE_PASSWORD,
    REGION,
    connect_event,
    load_event,
    policy_allows,
)

ARN = f"arn:aws:iot:{REGION}:{ACCOUNT}"
# Stands for an access window that excludes the moment the test runs (built in the test).
AWAY_FROM_NOW = object()


class Context:
    invoked_function_arn = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:channel-authorizer"
    aws_request_id = "req-1"


def put_device(table, username="meter-0001", password=FIXTURE_PASSWORD, **attributes):
    password_hash = hash_password(password, ScryptParams(log2_n=10, r=8, p=1))
    item = {"username": username, "password_hash": password_hash, "family": "meters", "enabled": True, **attributes}
    table.put_item(Item=item)
    return password_hash


def test_documented_connect_event_is_allowed_with_a_least_privilege_policy(authorizer_env):
    put_device(authorizer_env)
    response = handler(load_event("iot_mqtt_connect.json"), Context())
    assert response["isAuthenticated"] is True
    assert response["principalId"].startswith("meter0001") and response["principalId"].isalnum()
    assert response["disconnectAfterInSeconds"] == 86400 and response["refreshAfterInSeconds"] == 900
    documents = response["policyDocuments"]
    assert policy_allows(documents, "iot:Connect", f"{ARN}:client/meter-0001", {"aws:SourceVpce": ENDPOINTS[0]})
    assert not policy_allows(documents, "iot:Connect", f"{ARN}:client/meter-0001", {"aws:SourceVpce": "vpce-1"})
    assert policy_allows(documents, "iot:Publish", f"{ARN}:topic/meters/meter-0001/telemetry")
    assert not policy_allows(documents, "iot:Publish", f"{ARN}:topic/meters/meter-0002/telemetry")
    json.dumps(response)  # serializable as Lambda returns it


@pytest.mark.parametrize(
    "fixture",
    [
        "iot_mqtt_connect_without_client_id.json",
        "iot_mqtt_connect_without_password.json",
        "iot_documented_example.json",
        "iot_http_only.json",
    ],
)
def test_documented_shapes_without_valid_mqtt_credentials_are_denied(authorizer_env, fixture):
    put_device(authorizer_env)
    put_device(authorizer_env, username="myUserName", password=b"myPassword")
    response = handler(load_event(fixture), Context())
    assert response["isAuthenticated"] is False and response["policyDocuments"] == []


@pytest.mark.parametrize(
    ("event", "attributes"),
    [
        (connect_event("meter-0001", b"wrong"), {}),
        (connect_event("meter-9999", FIXTURE_PASSWORD), {}),
        (connect_event("meter-0001", FIXTURE_PASSWORD, client_id="meter-0002"), {}),
        (connect_event("meter-0001", FIXTURE_PASSWORD), {"enabled": False}),
        (connect_event("meter-0001", FIXTURE_PASSWORD), {"prohibited": True, "prohibited_reason": "stolen"}),
        (connect_event("meter-0001", FIXTURE_PASSWORD), {"valid_until": "2000-01-01T00:00:00+00:00"}),
        (connect_event("meter-0001", FIXTURE_PASSWORD), {"access_window": AWAY_FROM_NOW}),
        (connect_event("meter-0001", FIXTURE_PASSWORD), {"extra_publish": ["fleet/*"]}),
        (connect_event("meter-0001", FIXTURE_PASSWORD), {"family": 7}),
        (connect_event("meter/#", FIXTURE_PASSWORD), {}),
    ],
    ids=["wrong-password", "unknown-user", "other-client-id", "disabled", "prohibited", "expired",
         "outside-window", "unsafe-record", "malformed-record", "wildcard-user-name"],
)
def test_refusals_are_denies_not_exceptions(authorizer_env, event, attributes):
    if attributes.get("access_window") is AWAY_FROM_NOW:
        # An hour two hours from now (UTC): never the window the test runs in, whatever the clock says.
        start = datetime.now(timezone.utc) + timedelta(hours=2)
        attributes = {"access_window": {"hours": f"{start:%H}:00-{start + timedelta(hours=1):%H}:00"}}
    put_device(authorizer_env, **attributes)
    response = handler(event, Context())
    assert response["isAuthenticated"] is False and response["policyDocuments"] == []


def test_the_same_record_allows_once_the_refusing_attribute_is_gone(authorizer_env):
    put_device(authorizer_env, enabled=False)
    assert handler(connect_event("meter-0001", FIXTURE_PASSWORD), Context())["isAuthenticated"] is False
    put_device(authorizer_env, enabled=True)
    assert handler(connect_event("meter-0001", FIXTURE_PASSWORD), Context())["isAuthenticated"] is True


def test_imported_mosquitto_hashes_authenticate(authorizer_env):
    # Written by mosquitto_passwd 2.0.11 -H sha512 for password "correct horse".
    authorizer_env.put_item(Item={
        "username": "alice",
        "password_hash": "$6$6+/AlnhpIbhQAIV3$fk+TEx5GrDcvbcEnvEe/C2fcjPkaWAdBODJJQEbnjzTSVd4d/jYa95MUwmedq7+Ow8v/"
                         "hmnTWEKMnf0EK/id7A==",
        "family": "meters",
    })
    assert handler(connect_event("alice", b"correct horse"), Context())["isAuthenticated"] is True
    assert handler(connect_event("alice", b"correct horse "), Context())["isAuthenticated"] is False


def test_bad_settings_deny_and_log_the_variable(authorizer_env, monkeypatch, caplog):
    put_device(authorizer_env)
    monkeypatch.setenv("DATA_ENDPOINT_IDS", "")
    with caplog.at_level(logging.INFO, logger="authorizer"):
        response = handler(load_event("iot_mqtt_connect.json"), Context())
    assert response["isAuthenticated"] is False
    assert "reason=SettingsError" in caplog.text and "DATA_ENDPOINT_IDS" in caplog.text


def test_missing_table_denies(authorizer_env, monkeypatch, caplog):
    put_device(authorizer_env)
    monkeypatch.setenv("CREDENTIALS_TABLE", "no-such-table")
    with caplog.at_level(logging.INFO, logger="authorizer"):
        response = handler(load_event("iot_mqtt_connect.json"), Context())
    assert response["isAuthenticated"] is False and "reason=CredentialStoreUnavailable" in caplog.text


def test_unexpected_errors_deny_without_quoting_the_message(authorizer_env, monkeypatch, caplog):
    put_device(authorizer_env)

    def explode(*args):
        raise RuntimeError("Zml4dHVyZS1wYXNzd29yZA== leaked")

    monkeypatch.setattr(handler_module, "decide", explode)
    with caplog.at_level(logging.INFO, logger="authorizer"):
        response = handler(load_event("iot_mqtt_connect.json"), Context())
    assert response["isAuthenticated"] is False
    assert "reason=unexpected error=RuntimeError" in caplog.text and "leaked" not in caplog.text


def test_logs_never_hold_the_event_password_or_hash(authorizer_env, caplog):
    password_hash = put_device(authorizer_env)
    encoded = base64.b64encode(FIXTURE_PASSWORD).decode()
    with caplog.at_level(logging.DEBUG):
        handler(connect_event("meter-0001", FIXTURE_PASSWORD), Context())
        handler(connect_event("meter-0001", b"wrong-password"), Context())
        handler(connect_event("meter-9999", b"typed-password-into-user"), Context())
    text = caplog.text
    assert "reason=WrongPassword" in text and "reason=UnknownDevice" in text and "allow principal=" in text
    for secret in (encoded, FIXTURE_PASSWORD.decode(), "wrong-password", password_hash,
                   password_hash.split("$")[3], "meter-9999", "meter9999", "protocolData"):
        assert secret not in text


def test_the_dynamodb_client_is_created_once_per_container(authorizer_env, monkeypatch):
    import boto3

    from authorizer import store

    put_device(authorizer_env)
    created = []
    original = boto3.client

    def counting_client(*args, **kwargs):
        created.append(args)
        return original(*args, **kwargs)

    monkeypatch.setattr(store.boto3, "client", counting_client)
    for _ in range(3):
        handler(load_event("iot_mqtt_connect.json"), Context())
    assert created == [("dynamodb",)]


def test_account_from_the_context_when_iot_account_id_is_unset(authorizer_env, monkeypatch):
    put_device(authorizer_env)
    monkeypatch.delenv("IOT_ACCOUNT_ID")

    class OtherAccount(Context):
        invoked_function_arn = f"arn:aws:lambda:{REGION}:210987654321:function:channel-authorizer"

    response = handler(load_event("iot_mqtt_connect.json"), OtherAccount())
    assert f":210987654321:client/meter-0001" in response["policyDocuments"][0]
    assert handler(load_event("iot_mqtt_connect.json"), None)["isAuthenticated"] is False
