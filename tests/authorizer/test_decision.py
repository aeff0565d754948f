"""The pure decision: each refusal, the allow, and equal hash work for every name."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest

from authorizer import decision, hashes
from authorizer.decision import decide
from authorizer.errors import (
    ClientIdMismatch,
    CredentialExpired,
    DeviceDisabled,
    DeviceProhibited,
    HashFormatError,
    MalformedRecord,
    MissingPassword,
    OutsideAccessWindow,
    UnknownDevice,
    UnsupportedHashFormat,
    WrongPassword,
)
from authorizer.event import ConnectRequest
from authorizer.hashes import MosquittoSha512, ScryptParams, dummy_hash, hash_password
from authorizer.records import DeviceRecord, parse_access_window
from authorizer.settings import Settings
from tests.authorizer.support import ACCOUNT, ENDPOINTS, REGION

NOW = datetime(2025, 3, 3, 12, 0, tzinfo=timezone.utc)  # a Monday
PASSWORD = b"s3cret"
SETTINGS = Settings(
    table_name="t",
    data_endpoint_ids=ENDPOINTS,
    region=REGION,
    account_id=ACCOUNT,
    unknown_user_hash=dummy_hash("mosquitto-sha512"),
)
RECORD = DeviceRecord(
    username="meter-0001",
    password_hash=hash_password(PASSWORD, ScryptParams(log2_n=10, r=8, p=1)),
    family="meters",
)
REQUEST = ConnectRequest(username="meter-0001", password=PASSWORD, client_id="meter-0001")


def test_correct_password_and_client_id_allow():
    allow = decide(REQUEST, RECORD, SETTINGS, NOW)
    assert allow.policy_documents and allow.principal_id.startswith("meter0001")
    assert (allow.disconnect_after_seconds, allow.refresh_after_seconds) == (86400, 900)


@pytest.mark.parametrize(
    ("request_change", "record_change", "error"),
    [
        ({"password": b"s3creT"}, {}, WrongPassword),
        ({"password": b""}, {}, WrongPassword),
        ({"password": None}, {}, MissingPassword),
        ({"client_id": "meter-0002"}, {}, ClientIdMismatch),
        ({"client_id": None}, {}, ClientIdMismatch),
        ({"client_id": ""}, {}, ClientIdMismatch),
        ({}, {"client_id": "thing-1"}, ClientIdMismatch),
        ({}, {"enabled": False}, DeviceDisabled),
        ({}, {"prohibited": True}, DeviceProhibited),
        ({}, {"prohibited": True, "enabled": True}, DeviceProhibited),
        ({}, {"valid_until": NOW}, CredentialExpired),
        ({}, {"valid_until": NOW - timedelta(seconds=1)}, CredentialExpired),
        ({}, {"access_window": parse_access_window({"days": ["tue"]})}, OutsideAccessWindow),
        ({}, {"access_window": parse_access_window({"hours": "13:00-14:00"})}, OutsideAccessWindow),
        ({}, {"password_hash": "$argon2id$v=19$m=1,t=1,p=1$c2FsdA$aGFzaA"}, UnsupportedHashFormat),
        ({}, {"password_hash": "plaintext"}, HashFormatError),
        ({}, {"username": "meter-0002"}, MalformedRecord),
    ],
)
def test_every_refusal(request_change, record_change, error):
    with pytest.raises(error):
        decide(replace(REQUEST, **request_change), replace(RECORD, **record_change), SETTINGS, NOW)


def test_refusal_reasons_each_have_an_allowed_counterpart():
    # The same conditions on their allowed side, so the refusals above are not vacuous.
    decide(REQUEST, replace(RECORD, valid_until=NOW + timedelta(seconds=1)), SETTINGS, NOW)
    decide(REQUEST, replace(RECORD, access_window=parse_access_window({"days": ["mon"]})), SETTINGS, NOW)
    decide(REQUEST, replace(RECORD, access_window=parse_access_window({"hours": "11:00-13:00"})), SETTINGS, NOW)
    decide(replace(REQUEST, client_id="thing-1"), replace(RECORD, client_id="thing-1"), SETTINGS, NOW)


def test_unknown_user_is_refused():
    with pytest.raises(UnknownDevice):
        decide(REQUEST, None, SETTINGS, NOW)


def test_disconnect_is_cut_at_the_end_of_the_access_window_and_validity():
    window = parse_access_window({"hours": "08:00-13:00", "time_zone": "UTC"})
    allow = decide(REQUEST, replace(RECORD, access_window=window), SETTINGS, NOW)
    assert allow.disconnect_after_seconds == 3600 and allow.refresh_after_seconds == 900
    allow = decide(REQUEST, replace(RECORD, valid_until=NOW + timedelta(minutes=30)), SETTINGS, NOW)
    assert allow.disconnect_after_seconds == 1800 and allow.refresh_after_seconds == 900
    # IoT Core's floor of 300 s wins over a deadline closer than that.
    allow = decide(REQUEST, replace(RECORD, valid_until=NOW + timedelta(seconds=10)), SETTINGS, NOW)
    assert allow.disconnect_after_seconds == 300


class HashWork:
    """Records which stored hash each verification ran against."""

    def __init__(self, monkeypatch):
        self.calls = []
        original = decision.verify_password

        def spy(password, stored):
            self.calls.append(stored)
            return original(password, stored)

        monkeypatch.setattr(decision, "verify_password", spy)


@pytest.mark.parametrize(
    "record",
    [
        None,
        replace(RECORD, enabled=False),
        replace(RECORD, prohibited=True),
        replace(RECORD, password_hash="$argon2id$v=19$m=1,t=1,p=1$c2FsdA$aGFzaA"),
    ],
    ids=["unknown", "disabled", "prohibited", "unusable-hash"],
)
def test_every_refusal_costs_one_full_hash_verification(monkeypatch, record):
    work = HashWork(monkeypatch)
    with pytest.raises(Exception):
        decide(REQUEST, record, SETTINGS, NOW)
    assert len(work.calls) == 1
    expected = SETTINGS.unknown_user_hash if record is None or record.password_hash.startswith("$argon") else None
    if expected is not None:
        assert work.calls[0] is expected
    else:
        assert work.calls[0] == hashes.parse_hash(record.password_hash)


def test_unknown_user_work_follows_the_configured_scheme(monkeypatch):
    work = HashWork(monkeypatch)
    settings = replace(SETTINGS, unknown_user_hash=dummy_hash("scrypt:ln=10,r=8,p=1"))
    with pytest.raises(UnknownDevice):
        decide(REQUEST, None, settings, NOW)
    assert work.calls == [settings.unknown_user_hash]
    # The default is the project's own scrypt format at its default cost.
    with pytest.raises(UnknownDevice):
        decide(REQUEST, None, replace(SETTINGS, unknown_user_hash=None), NOW)
    assert work.calls[-1].params == hashes.DEFAULT_SCRYPT


def test_a_missing_password_still_costs_one_verification(monkeypatch):
    work = HashWork(monkeypatch)
    with pytest.raises(MissingPassword):
        decide(replace(REQUEST, password=None), RECORD, SETTINGS, NOW)
    assert len(work.calls) == 1 and not isinstance(work.calls[0], MosquittoSha512)
