"""Generated malformed events never raise and never authenticate."""

from __future__ import annotations

import base64
import copy

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from authorizer.handler import handler
from authorizer.hashes import parse_hash
from tests.authorizer.support import FIXTURE_PASSWORD, load_event

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
VALID = load_event("iot_mqtt_connect.json")

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=40),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=20,
)


def put_meter(table):
    # A cheap $6$ record (same layout mosquitto_passwd -H sha512 writes) keeps examples fast.
    import hashlib
    import os

    salt = os.urandom(12)
    digest = hashlib.sha512(FIXTURE_PASSWORD + salt).digest()
    text = f"$6${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"
    parse_hash(text)
    table.put_item(Item={"username": "meter-0001", "password_hash": text, "family": "meters"})


def assert_denied(response):
    assert response["isAuthenticated"] is False
    assert response["policyDocuments"] == []
    assert response["principalId"].isalnum() and len(response["principalId"]) <= 128
    assert 300 <= response["disconnectAfterInSeconds"] <= 86400


def test_the_valid_event_is_allowed(authorizer_env):
    # The fuzzed variants below start from this event; it must pass for them to mean anything.
    put_meter(authorizer_env)
    assert handler(copy.deepcopy(VALID), None)["isAuthenticated"] is True


@FUZZ
@given(event=json_values)
def test_arbitrary_json_never_raises_or_authenticates(authorizer_env, event):
    assert_denied(handler(event, None))


PATHS = [
    ("token",),
    ("signatureVerified",),
    ("protocols",),
    ("protocolData",),
    ("protocolData", "tls"),
    ("protocolData", "mqtt"),
    ("protocolData", "mqtt", "username"),
    ("protocolData", "mqtt", "password"),
    ("protocolData", "mqtt", "clientId"),
    ("connectionMetadata",),
    ("connectionMetadata", "id"),
]
CREDENTIAL_PATHS = [p for p in PATHS if p[:2] == ("protocolData", "mqtt") or p in (("protocolData",),)]


@FUZZ
@given(
    path=st.sampled_from(CREDENTIAL_PATHS),
    replacement=json_values | st.just("<delete>"),
)
def test_valid_event_with_a_broken_credential_field_is_denied(authorizer_env, path, replacement):
    put_meter(authorizer_env)
    event = copy.deepcopy(VALID)
    node = event
    for key in path[:-1]:
        node = node[key]
    original = node[path[-1]]
    assume(replacement != original)
    if replacement == "<delete>":
        del node[path[-1]]
    else:
        node[path[-1]] = replacement
    assert_denied(handler(event, None))


@FUZZ
@given(path=st.sampled_from([p for p in PATHS if p not in CREDENTIAL_PATHS]), replacement=json_values)
def test_fields_the_decision_does_not_use_never_make_it_raise(authorizer_env, path, replacement):
    put_meter(authorizer_env)
    event = copy.deepcopy(VALID)
    node = event
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = replacement
    response = handler(event, None)
    # Token, protocols and metadata do not decide; the credentials still do.
    assert response["isAuthenticated"] is True


@FUZZ
@given(
    username=st.text(max_size=140),
    password=st.binary(max_size=64),
    client_id=st.none() | st.text(max_size=140),
)
def test_generated_credentials_never_authenticate_unless_they_are_the_devices(authorizer_env, username, password,
                                                                             client_id):
    assume(not (username == "meter-0001" and password == FIXTURE_PASSWORD and client_id == "meter-0001"))
    put_meter(authorizer_env)
    event = copy.deepcopy(VALID)
    mqtt = event["protocolData"]["mqtt"]
    mqtt["username"], mqtt["password"] = username, base64.b64encode(password).decode()
    if client_id is None:
        del mqtt["clientId"]
    else:
        mqtt["clientId"] = client_id
    assert_denied(handler(event, None))


@FUZZ
@given(password_text=st.text(max_size=60))
def test_password_fields_that_are_not_base64_are_denied(authorizer_env, password_text):
    put_meter(authorizer_env)
    event = copy.deepcopy(VALID)
    event["protocolData"]["mqtt"]["password"] = password_text
    try:
        # Base64 with non-zero trailing bits decodes to the same bytes: that is the right password.
        assume(base64.b64decode(password_text, validate=True) != FIXTURE_PASSWORD)
    except ValueError:
        pass
    assert_denied(handler(event, None))
