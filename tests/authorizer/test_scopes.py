"""Topic scopes: a device's <prefix>/<user> never reaches another family's or a thing's topics."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from authorizer.decision import decide
from authorizer.errors import SettingsError, TopicScopeOverlap
from authorizer.event import ConnectRequest
from authorizer.hashes import ScryptParams, dummy_hash, hash_password
from authorizer.records import DeviceRecord
from authorizer.scopes import (
    configuration_overlaps,
    cross_scope_problems,
    cross_scope_reach,
    family_overlap,
    prefixes_overlap,
)
from authorizer.settings import Settings, load_settings
from tests.authorizer.support import ACCOUNT, ENDPOINTS, REGION, policy_allows

NOW = datetime(2025, 3, 3, 12, 0, tzinfo=timezone.utc)
PASSWORD = b"s3cret"
HASH = hash_password(PASSWORD, ScryptParams(log2_n=10, r=8, p=1))
ARN = f"arn:aws:iot:{REGION}:{ACCOUNT}"


@pytest.mark.parametrize(
    ("a", "b", "overlap"),
    [
        ("plant", "plant/family1", True),  # a leading level
        ("plant/family1", "plant/family1", True),  # equal
        ("things", "things", True),
        ("plant/family1", "plant/family2", False),
        ("plant", "plant2", False),  # compared by level, not by characters
        ("plant/family", "plant/family1", False),
        ("meters", "things", False),
    ],
)
def test_prefixes_overlap_level_by_level(a, b, overlap):
    assert prefixes_overlap(a, b) is overlap
    assert prefixes_overlap(b, a) is overlap


def test_configuration_overlaps_names_every_pair():
    assert configuration_overlaps({"family1": "plant/family1", "family2": "plant/family2"}, "things") == []
    problems = configuration_overlaps({"a": "plant", "b": "plant/family1", "c": "things/c"}, "things")
    assert len(problems) == 2
    assert any("'a'" in p and "'b'" in p for p in problems)
    assert any("'c'" in p and "certificate devices" in p for p in problems)


PREFIXES = {"family1": "plant/family1", "family2": "plant/family2"}


@pytest.mark.parametrize(
    ("family", "problem"),
    [
        ("family1", None),
        ("meters", None),  # unlisted: its own name, apart from plant/... and things
        ("plant", "overlaps family 'family1'"),  # unlisted family named after a listed prefix's first level
        ("things", "certificate devices"),  # unlisted family named after the thing prefix
    ],
)
def test_family_overlap(family, problem):
    found = family_overlap(family, PREFIXES, "things")
    assert (found is None) if problem is None else (problem in found)


def settings(**changes) -> Settings:
    values = dict(
        table_name="t",
        data_endpoint_ids=ENDPOINTS,
        region=REGION,
        account_id=ACCOUNT,
        unknown_user_hash=dummy_hash("mosquitto-sha512"),
        family_topic_prefixes=PREFIXES,
    )
    values.update(changes)
    return Settings(**values)


def connect(username: str, family: str, s: Settings):
    record = DeviceRecord(username=username, password_hash=HASH, family=family)
    return decide(ConnectRequest(username=username, password=PASSWORD, client_id=username), record, s, NOW)


def test_a_device_named_after_a_family_in_the_parent_prefix_is_denied():
    # Without the rule: plant/family1/* — every family1 device's topics.
    with pytest.raises(TopicScopeOverlap, match="family 'plant'"):
        connect("family1", "plant", settings())


def test_a_device_named_after_a_thing_in_the_things_family_is_denied():
    # Without the rule: things/pump-7/* — the certificate thing pump-7's topics.
    with pytest.raises(TopicScopeOverlap, match="certificate devices"):
        connect("pump-7", "things", settings())


def test_the_thing_prefix_is_the_configured_one():
    with pytest.raises(TopicScopeOverlap):
        connect("pump-7", "certs", settings(thing_topic_prefix="certs"))
    allow = connect("pump-7", "things", settings(thing_topic_prefix="certs"))
    assert policy_allows(list(allow.policy_documents), "iot:Publish", f"{ARN}:topic/things/pump-7/x")


def test_a_device_of_a_listed_family_stays_inside_its_own_prefix():
    allow = connect("family2", "family1", settings())
    documents = list(allow.policy_documents)
    assert policy_allows(documents, "iot:Publish", f"{ARN}:topic/plant/family1/family2/x")
    assert not policy_allows(documents, "iot:Publish", f"{ARN}:topic/plant/family2/x")


BASE_ENV = {
    "CREDENTIALS_TABLE": "device-credentials",
    "DATA_ENDPOINT_IDS": ",".join(ENDPOINTS),
    "AWS_REGION": REGION,
    "IOT_ACCOUNT_ID": ACCOUNT,
    "UNKNOWN_USER_HASH": "mosquitto-sha512",
}


@pytest.mark.parametrize(
    "env",
    [
        {"FAMILY_TOPIC_PREFIXES": '{"a": "plant", "b": "plant/family1"}'},
        {"FAMILY_TOPIC_PREFIXES": '{"a": "things/a"}'},
        {"FAMILY_TOPIC_PREFIXES": '{"a": "certs"}', "THING_TOPIC_PREFIX": "certs"},
    ],
)
def test_overlapping_settings_deny_everything(env):
    with pytest.raises(SettingsError, match="overlap"):
        load_settings({**BASE_ENV, **env})


def test_settings_apart_load_with_the_thing_prefix():
    loaded = load_settings({**BASE_ENV, "FAMILY_TOPIC_PREFIXES": '{"a": "plant/a"}', "THING_TOPIC_PREFIX": "certs"})
    assert loaded.thing_topic_prefix == "certs"
    assert load_settings(BASE_ENV).thing_topic_prefix == "things"


# --- extra topics against the device's own scope (authorizer.scopes.cross_scope_reach) -------------

FAMILIES = {"family1": "plant/family1", "family2": "plant/family2"}


@pytest.mark.parametrize(("topic", "reach"), [
    ("plant/family1/dev1/x", None),
    ("plant/family1/dev1", None),
    ("plant/family1/dev1/+/y", None),
    ("plant/family1/dev1/#", None),
    ("plant/family2/dev9/x", "family 'family2'"),
    ("plant/family1/dev2/x", "other devices of its own family"),
    ("plant/family1/+/x", "other devices of its own family"),
    ("plant/family1/#", "other devices of its own family"),
    ("plant/+/dev1/x", "family 'family2'"),
    ("plant/#", "family 'family2'"),
    ("things/pump-7/cmd", "the certificate things' topics"),
    ("$aws/things/pump-7/shadow/update", "things' shadows and jobs"),
    ("$aws/things/dev1/shadow/update", "things' shadows and jobs"),  # a thing may carry the device's name
    ("$aws/rules/forward", "a reserved $ topic"),
    ("broadcast/all", "topics of no listed family or thing"),
    ("plant/family1/dev10/x", "other devices of its own family"),  # a level, not a string prefix
])
def test_extra_topics_are_checked_level_by_level_with_wildcards(topic, reach):
    found = cross_scope_reach(topic, "family1", "dev1", FAMILIES, "things")
    assert (found is None) if reach is None else (reach in found)


def test_a_cross_scope_topic_needs_a_reason():
    topics = [("--publish", "plant/family2/dev9/x"), ("--subscribe", "plant/family1/dev1/#")]
    [problem] = cross_scope_problems(topics, "family1", "dev1", FAMILIES, "things", None)
    assert problem.startswith("--publish 'plant/family2/dev9/x' is outside the device's own scope "
                              "(plant/family1/dev1/...) and reaches family 'family2'")
    assert cross_scope_problems(topics, "family1", "dev1", FAMILIES, "things", "bridge to family2") == []
