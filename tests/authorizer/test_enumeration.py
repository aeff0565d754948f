"""No user enumeration: an unknown name costs what a known one of any scheme in the table costs.

The authorizer verifies one hash per scheme in the table's registry for every
CONNECT; the record's own hash takes the place of its scheme's dummy. A
successful login upgrades a legacy hash to the project's scrypt, so a fleet
converges on one scheme.
"""

from __future__ import annotations

import statistics
import time
from datetime import datetime, timezone

import pytest

from authorizer import handler as handler_module, hashes, store
from authorizer.decision import decide
from authorizer.errors import AuthorizerError
from authorizer.event import ConnectRequest
from authorizer.handler import handler
from authorizer.hashes import ScryptParams, dummy_hash, hash_password
from authorizer.records import DeviceRecord
from authorizer.settings import Settings
from tests.authorizer.support import ACCOUNT, ENDPOINTS, REGION, TABLE, connect_event
from tests.authorizer.test_hashes import MOSQUITTO_PASSWORDS, mosquitto_entries

SMALL_SCRYPT = ScryptParams(log2_n=10, r=8, p=1)  # the project's scrypt in these tests, to keep them fast
REGISTRY = {"mosquitto-pbkdf2:101", "mosquitto-pbkdf2:1000", "mosquitto-pbkdf2:7", "mosquitto-sha512",
            "scrypt:ln=10,r=8,p=1"}


@pytest.fixture
def fleet(authorizer_env, monkeypatch):
    """A table with records of every scheme and its registry, as channelctl writes them."""
    monkeypatch.setattr(hashes, "DEFAULT_SCRYPT", SMALL_SCRYPT)
    entries = mosquitto_entries()
    for name in ("alice", "bob", "carol", "dave"):
        authorizer_env.put_item(Item={"username": name, "password_hash": entries[name], "family": "meters"})
    authorizer_env.put_item(Item={
        "username": "sam", "password_hash": hash_password(b"sam-password", SMALL_SCRYPT), "family": "meters"})
    authorizer_env.put_item(Item={"username": store.HASH_SCHEMES_KEY, "schemes": set(REGISTRY)})
    return authorizer_env


class Spy:
    def __init__(self, monkeypatch):
        self.specs: list[str] = []
        for cls in (hashes.MosquittoSha512, hashes.MosquittoPbkdf2, hashes.Scrypt):
            original = cls.compute
            monkeypatch.setattr(
                cls, "compute", lambda self_, pw, _o=original, _s=self: _s.specs.append(self_.work_spec()) or _o(self_, pw)
            )

    def take(self) -> list[str]:
        taken, self.specs = self.specs, []
        return taken


@pytest.mark.parametrize("username", ["alice", "bob", "carol", "dave", "sam", "nobody", "broken"])
def test_every_name_costs_one_verification_of_each_scheme_in_the_table(fleet, monkeypatch, username):
    fleet.put_item(Item={"username": "broken", "password_hash": "$7$101$notbase64$x", "family": "meters"})
    spy = Spy(monkeypatch)
    response = handler(connect_event(username, b"wrong password"), None)
    assert response["isAuthenticated"] is False
    assert sorted(spy.take()) == sorted(REGISTRY)


def test_without_a_registry_the_configured_unknown_user_hash_and_the_projects_scrypt_are_the_work(
        authorizer_env, monkeypatch):
    monkeypatch.setattr(hashes, "DEFAULT_SCRYPT", SMALL_SCRYPT)
    spy = Spy(monkeypatch)
    handler(connect_event("nobody", b"pw"), None)
    # UNKNOWN_USER_HASH of these tests, and the scheme add, set-password and the upgrade write.
    assert sorted(spy.take()) == ["mosquitto-sha512", "scrypt:ln=10,r=8,p=1"]


def test_a_login_upgrades_a_legacy_hash_to_the_projects_scrypt(fleet):
    password = MOSQUITTO_PASSWORDS["bob"].encode()
    assert handler(connect_event("bob", password), None)["isAuthenticated"] is True
    upgraded = fleet.get_item(Key={"username": "bob"})["Item"]["password_hash"]
    # cstr=1: the password stays cut at its first NUL byte, as Mosquitto read it.
    assert upgraded.startswith("$scrypt$ln=10,r=8,p=1,cstr=1$")
    assert handler(connect_event("bob", password), None)["isAuthenticated"] is True
    assert handler(connect_event("bob", password + b"\x00tail"), None)["isAuthenticated"] is True
    assert handler(connect_event("bob", b"wrong"), None)["isAuthenticated"] is False
    # A record already in the project's scheme is left alone.
    sam = fleet.get_item(Key={"username": "sam"})["Item"]["password_hash"]
    assert handler(connect_event("sam", b"sam-password"), None)["isAuthenticated"] is True
    assert fleet.get_item(Key={"username": "sam"})["Item"]["password_hash"] == sam


def test_a_wrong_password_upgrades_nothing_and_a_changed_record_is_not_overwritten(fleet):
    before = fleet.get_item(Key={"username": "bob"})["Item"]["password_hash"]
    handler(connect_event("bob", b"wrong"), None)
    assert fleet.get_item(Key={"username": "bob"})["Item"]["password_hash"] == before
    # The conditional write: a record changed since it was read (a set-password) stays as it is.
    assert store.upgrade_hash(TABLE, "bob", "$7$stale", "$scrypt$new", "now") is False
    assert fleet.get_item(Key={"username": "bob"})["Item"]["password_hash"] == before


# --- timing, over many interleaved samples -------------------------------------------

NOW = datetime(2025, 3, 3, 12, 0, tzinfo=timezone.utc)
SETTINGS = Settings(table_name="t", data_endpoint_ids=ENDPOINTS, region=REGION, account_id=ACCOUNT,
                    unknown_user_hash=dummy_hash("scrypt:ln=12,r=8,p=1"))
LEGACY = DeviceRecord(username="bob", password_hash=mosquitto_entries()["bob"], family="meters")
MODERN = DeviceRecord(username="sam", password_hash=hash_password(b"pw", ScryptParams(12, 8, 1)), family="meters")
WORK = (dummy_hash("mosquitto-pbkdf2:101"), dummy_hash("scrypt:ln=12,r=8,p=1"))


def timed(record: DeviceRecord | None, name: str, work) -> float:
    request = ConnectRequest(username=name, password=b"wrong password", client_id=name)
    start = time.perf_counter()
    try:
        decide(request, record, SETTINGS, NOW, work)
    except AuthorizerError:
        pass
    return time.perf_counter() - start


def samples(work, rounds: int = 120) -> dict[str, list[float]]:
    cases = {"unknown": (None, "nobody"), "legacy $7$": (LEGACY, "bob"), "scrypt": (MODERN, "sam")}
    result: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(rounds):  # interleaved: load on the machine hits every case alike
        for name, (record, user) in cases.items():
            result[name].append(timed(record, user, work))
    return result


def below_median(a: list[float], b: list[float]) -> float:
    """The share of a's samples below b's median: 0.5 for one distribution, 0 or 1 for apart ones."""
    median = statistics.median(b)
    return sum(x < median for x in a) / len(a)


def test_unknown_and_known_names_of_every_scheme_take_the_same_time():
    times = samples(WORK)
    unknown = times["unknown"]
    for name in ("legacy $7$", "scrypt"):
        ratio = statistics.median(times[name]) / statistics.median(unknown)
        assert 1 / 1.5 < ratio < 1.5, (name, ratio)
        # The distributions overlap: each case's samples fall on both sides of the other's median.
        assert 0.1 < below_median(times[name], unknown) < 0.9, name
        assert 0.1 < below_median(unknown, times[name]) < 0.9, name


def test_the_timing_comparison_sees_the_old_single_dummy_design():
    """Control: with one dummy for unknown names (the old design) a legacy fleet is enumerable."""
    times = samples(None, rounds=40)
    ratio = statistics.median(times["unknown"]) / statistics.median(times["legacy $7$"])
    assert ratio > 5
    assert below_median(times["legacy $7$"], times["unknown"]) > 0.9
