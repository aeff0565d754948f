"""The hash registry cannot weaken the guarantees (authorizer/cost.py: plan_hash_work, upgrade_target).

Unknown and known names cost the same with no registry, a malformed one or one
that misses a scheme; an entry over the ceiling is never used; the upgrade on
login never lowers a stronger scrypt; a fuzz run finds no wrong allow and no
exception.
"""

from __future__ import annotations

import logging
from datetime import datetime, timezone

import pytest
from hypothesis import HealthCheck, given, settings as hypothesis_settings
from hypothesis import strategies as st

from authorizer import cost, hashes, store
from authorizer.decision import decide
from authorizer.errors import AuthorizerError
from authorizer.event import ConnectRequest
from authorizer.handler import handler
from authorizer.hashes import ScryptParams, dummy_hash, hash_password
from authorizer.records import DeviceRecord
from authorizer.settings import Settings
from tests.authorizer.support import ACCOUNT, ENDPOINTS, REGION, connect_event
from tests.authorizer.test_hashes import MOSQUITTO_PASSWORDS, mosquitto_entries

PROJECT = "scrypt:ln=15,r=8,p=1"


# --- the plan, pure ---------------------------------------------------------------------


def test_without_a_registry_the_unknown_user_hash_and_the_projects_scrypt_are_verified():
    plan = cost.plan_hash_work(None, "mosquitto-pbkdf2:101", 1769)
    assert plan.specs == ("mosquitto-pbkdf2:101", PROJECT) and plan.upgrade and plan.problems == ()


def test_a_registry_missing_the_projects_scrypt_gets_it():
    assert cost.plan_hash_work(("mosquitto-sha512",), "mosquitto-pbkdf2:101", 1769).specs == ("mosquitto-sha512", PROJECT)


@pytest.mark.parametrize(("entry", "used"), [("mosquitto-pbkdf2:1000", True), ("mosquitto-pbkdf2:900000", False),
                                             ("scrypt:ln=18,r=8,p=1", False), ("not-a-spec", False)])
def test_an_entry_over_the_ceiling_or_not_a_spec_is_never_used(entry, used):
    plan = cost.plan_hash_work((entry, PROJECT), "mosquitto-sha512", 1769)
    assert (entry in plan.specs) is used
    assert bool(plan.problems) is not used
    assert cost.connect_cost_seconds(plan.specs) <= cost.ceiling_seconds(1769)


def test_the_upgrade_runs_only_when_its_rehash_fits_the_ceiling_too():
    # The example's import at 512 MB: both verifications fit (0.21 s), the re-hash on top does not (0.42 s).
    small = cost.plan_hash_work(None, "mosquitto-pbkdf2:101", 512)
    assert small.specs == ("mosquitto-pbkdf2:101", PROJECT) and small.upgrade is False
    assert "no upgrade on login" in small.problems[0]
    assert cost.plan_hash_work(None, "mosquitto-pbkdf2:101", 743).upgrade is True


@pytest.mark.parametrize(("stored", "target"), [
    (dummy_hash("mosquitto-sha512"), hashes.DEFAULT_SCRYPT),
    (dummy_hash("mosquitto-pbkdf2:1000"), hashes.DEFAULT_SCRYPT),
    (dummy_hash("scrypt:ln=14,r=8,p=1"), hashes.DEFAULT_SCRYPT),  # weaker: raised
    (dummy_hash(PROJECT), None),
    (dummy_hash("scrypt:ln=16,r=8,p=1"), None),  # stronger: kept
    (dummy_hash("scrypt:ln=14,r=16,p=1"), None),  # as costly, other shape: kept
])
def test_an_upgrade_never_lowers_the_cost(stored, target):
    assert cost.upgrade_target(stored) == target
    if target is not None:
        assert cost.cost_seconds(hashes.Scrypt(target, b"", b"")) > cost.cost_seconds(stored)


def test_a_first_legacy_login_costs_every_verification_and_the_rehash():
    specs = cost.registry_specs("mosquitto-pbkdf2:101")
    scrypt = cost.cost_seconds(dummy_hash(PROJECT))
    assert cost.connect_cost_seconds(specs) == pytest.approx(cost.cost_seconds(dummy_hash("mosquitto-pbkdf2:101")) + 2 * scrypt)
    assert cost.connect_cost_seconds((PROJECT,)) == scrypt  # nothing left to upgrade
    with pytest.raises(AuthorizerError, match=r"re-hashes .* over the ceiling .* at least 743 MB"):
        cost.check_connect_cost(specs, 512, "the example")
    assert cost.check_connect_cost(specs, 1769, "the example") < cost.ceiling_seconds(1769)


# --- the handler against a moto table (the project's scrypt is ln=10 here: conftest) ---------


class CostSpy:
    """Adds up the modelled cost of every hash the authorizer computes."""

    def __init__(self, monkeypatch):
        self.seconds = 0.0
        for cls in (hashes.MosquittoSha512, hashes.MosquittoPbkdf2, hashes.Scrypt):
            original = cls.compute
            monkeypatch.setattr(cls, "compute", lambda self_, pw, _o=original, _s=self: _s.add(self_) or _o(self_, pw))

    def add(self, stored) -> None:
        self.seconds += cost.cost_seconds(stored)

    def take(self) -> float:
        taken, self.seconds = self.seconds, 0.0
        return taken


def put_fleet(table) -> None:
    table.put_item(Item={"username": "bob", "password_hash": mosquitto_entries()["bob"], "family": "meters"})
    table.put_item(Item={"username": "sam", "password_hash": hash_password(b"sam-pw", hashes.DEFAULT_SCRYPT),
                         "family": "meters"})


@pytest.mark.parametrize("registry", [None, {"S": "scrypt"}, {"SS": ["mosquitto-sha512"]}],
                         ids=["no registry", "malformed registry", "registry missing a scheme"])
def test_registry_fallbacks_keep_unknown_and_known_users_within_20_percent(authorizer_env, monkeypatch, registry):
    put_fleet(authorizer_env)
    if registry is not None:
        store.dynamodb_client().put_item(TableName=authorizer_env.name,
                                         Item={"username": {"S": store.HASH_SCHEMES_KEY}, "schemes": registry})
    spy = CostSpy(monkeypatch)
    costs = {}
    for name in ("nobody", "bob", "sam"):
        assert handler(connect_event(name, b"wrong password"), None)["isAuthenticated"] is False
        costs[name] = spy.take()
    assert max(costs.values()) <= 1.2 * min(costs.values()), costs


def test_a_malformed_registry_falls_back_instead_of_refusing_every_device(authorizer_env, caplog):
    put_fleet(authorizer_env)
    store.dynamodb_client().put_item(TableName=authorizer_env.name,
                                     Item={"username": {"S": store.HASH_SCHEMES_KEY}, "schemes": {"S": "scrypt"}})
    with caplog.at_level(logging.ERROR, logger="authorizer"):
        assert handler(connect_event("sam", b"sam-pw"), None)["isAuthenticated"] is True
    assert "hash registry: not a string set" in caplog.text
    assert handler(connect_event("sam", b"wrong"), None)["isAuthenticated"] is False
    assert handler(connect_event("bob", MOSQUITTO_PASSWORDS["bob"].encode()), None)["isAuthenticated"] is True


@pytest.mark.parametrize(("stored_ln", "upgraded"), [(10, True), (12, False)])
def test_the_upgrade_on_login_never_lowers_a_stronger_scrypt(authorizer_env, monkeypatch, stored_ln, upgraded):
    monkeypatch.setattr(hashes, "DEFAULT_SCRYPT", ScryptParams(11, 8, 1))
    before = hash_password(b"pw", ScryptParams(stored_ln, 8, 1))
    authorizer_env.put_item(Item={"username": "sam", "password_hash": before, "family": "meters"})
    assert handler(connect_event("sam", b"pw"), None)["isAuthenticated"] is True
    after = authorizer_env.get_item(Key={"username": "sam"})["Item"]["password_hash"]
    assert (after != before) is upgraded
    assert after.startswith("$scrypt$ln=11," if upgraded else f"$scrypt$ln={stored_ln},")


# --- fuzz: registries, records and passwords never raise and never allow a wrong password ----

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=timezone.utc)
SPECS = st.sampled_from(["mosquitto-sha512", "mosquitto-pbkdf2:101", "mosquitto-pbkdf2:2000", "scrypt:ln=10,r=8,p=1",
                         "scrypt:ln=11,r=4,p=1", "mosquitto-pbkdf2:900000", "scrypt:ln=20,r=8,p=1", "", "x:1",
                         "scrypt:ln=99,r=8,p=1", "mosquitto-pbkdf2:0"])
RIGHT = b"right password"
STORED = {
    "sha512": hashes.MosquittoSha512(b"s" * 12, hashes.MosquittoSha512(b"s" * 12, b"").compute(RIGHT)).encode(),
    "pbkdf2": hashes.MosquittoPbkdf2(101, b"p" * 12, hashes.MosquittoPbkdf2(101, b"p" * 12, bytes(64)).compute(RIGHT)).encode(),
    "scrypt": hash_password(RIGHT, ScryptParams(10, 8, 1), salt=b"q" * 16),
    "broken": "$7$101$notbase64$x",
    "costly": hashes.MosquittoPbkdf2(900000, b"p" * 12, bytes(64)).encode(),
}


@hypothesis_settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(registry=st.none() | st.lists(SPECS, max_size=4).map(tuple), unknown=SPECS.filter(lambda s: s.startswith(("mos", "scrypt:ln=1"))),
       memory=st.sampled_from([128, 512, 1769]), stored=st.sampled_from(sorted(STORED) + [None]),
       password=st.binary(max_size=24) | st.just(RIGHT))
def test_fuzz_no_wrong_allow_and_no_exception(registry, unknown, memory, stored, password):
    project, hashes.DEFAULT_SCRYPT = hashes.DEFAULT_SCRYPT, ScryptParams(10, 8, 1)  # fast examples
    try:
        fuzz_one(registry, unknown, memory, stored, password)
    finally:
        hashes.DEFAULT_SCRYPT = project


def fuzz_one(registry, unknown, memory, stored, password) -> None:
    try:
        unknown_hash = dummy_hash(unknown)
        cost.check_cost(unknown_hash, memory)
    except AuthorizerError:
        return  # load_settings refuses such an UNKNOWN_USER_HASH before any CONNECT
    plan = cost.plan_hash_work(registry, unknown, memory)
    assert all(cost.cost_seconds(dummy_hash(s)) <= cost.ceiling_seconds(memory) for s in plan.specs)
    assert cost.verify_seconds(plan.specs) <= cost.ceiling_seconds(memory) or len(plan.specs) == 1
    assert not plan.upgrade or cost.connect_cost_seconds(plan.specs) <= cost.ceiling_seconds(memory)
    work = tuple(dummy_hash(s) for s in plan.specs)
    settings = Settings(table_name="t", data_endpoint_ids=ENDPOINTS, region=REGION, account_id=ACCOUNT,
                        unknown_user_hash=unknown_hash, memory_mb=memory)
    record = None if stored is None else DeviceRecord(username="dev", password_hash=STORED[stored], family="meters")
    request = ConnectRequest(username="dev", password=password, client_id="dev")
    try:
        allowed = decide(request, record, settings, NOW, work)
    except AuthorizerError:
        allowed = None
    right = password == RIGHT and stored in ("sha512", "pbkdf2", "scrypt")
    assert (allowed is not None) is right
