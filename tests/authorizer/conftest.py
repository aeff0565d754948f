"""Fixtures: a moto DynamoDB credentials table and the authorizer's environment."""

from __future__ import annotations

import pytest

from authorizer import handler, hashes
from tests.authorizer.support import ACCOUNT, ENDPOINTS, TABLE, create_table, mocked_aws


@pytest.fixture
def aws(monkeypatch):
    with mocked_aws(monkeypatch):
        yield


@pytest.fixture
def table(aws):
    return create_table()


@pytest.fixture
def authorizer_env(monkeypatch, table):
    """The function's settings; unknown users cost a cheap $6$ check to keep tests fast, and the
    project's scrypt, which every CONNECT also verifies (authorizer/cost.py, plan_hash_work), is small."""
    monkeypatch.setattr(hashes, "DEFAULT_SCRYPT", hashes.ScryptParams(log2_n=10, r=8, p=1))
    monkeypatch.setenv("CREDENTIALS_TABLE", TABLE)
    monkeypatch.setenv("DATA_ENDPOINT_IDS", ",".join(ENDPOINTS))
    monkeypatch.setenv("IOT_ACCOUNT_ID", ACCOUNT)
    monkeypatch.setenv("UNKNOWN_USER_HASH", "mosquitto-sha512")
    for key in ("IOT_REGION", "DISCONNECT_AFTER_SECONDS", "REFRESH_AFTER_SECONDS", "FAMILY_TOPIC_PREFIXES"):
        monkeypatch.delenv(key, raising=False)
    handler._settings.cache_clear()
    handler._work_cache.clear()
    yield table
    handler._settings.cache_clear()
    handler._work_cache.clear()
