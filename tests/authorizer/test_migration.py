"""A migrating password device: its policy allows its own provisioning exchange and nothing of another
device; a retired password record is refused (pure, plus one handler round trip under moto)."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime, timezone

import pytest

from authorizer.decision import decide
from authorizer.errors import DeviceRetired, SettingsError
from authorizer.event import ConnectRequest
from authorizer.hashes import ScryptParams, dummy_hash, hash_password
from authorizer.migration import provisioning_topics
from authorizer.policy import build_policy_documents
from authorizer.records import DeviceRecord, record_from_item
from authorizer.settings import Settings, load_settings
from tests.authorizer.support import ACCOUNT, ENDPOINTS, REGION, connect_event, policy_allows

ARN = f"arn:aws:iot:{REGION}:{ACCOUNT}"
TEMPLATE = "mqtt-channel-iot"
BASE = Settings(table_name="t", data_endpoint_ids=ENDPOINTS, region=REGION, account_id=ACCOUNT,
                unknown_user_hash=dummy_hash("mosquitto-sha512"))
MIGRATING = replace(BASE, migrating_families=frozenset({"meters"}), provisioning_template=TEMPLATE)
RECORD = DeviceRecord(username="meter-0001", password_hash="$6$x", family="meters")
RETIRED_AT = datetime(2026, 12, 1, tzinfo=timezone.utc)

CREATE = f"$aws/certificates/create/json"
REGISTER = f"$aws/provisioning-templates/{TEMPLATE}/provision/json"


def allows(action, resource, record=RECORD, settings=MIGRATING):
    return policy_allows(list(build_policy_documents(record, settings)), action, resource)


@pytest.mark.parametrize("fmt", ["json", "cbor"])
def test_a_migrating_device_may_run_the_provisioning_exchange_of_this_stacks_template(fmt):
    for base in ("$aws/certificates/create", f"$aws/provisioning-templates/{TEMPLATE}/provision"):
        assert allows("iot:Publish", f"{ARN}:topic/{base}/{fmt}")
        for reply in ("accepted", "rejected"):
            assert allows("iot:Subscribe", f"{ARN}:topicfilter/{base}/{fmt}/{reply}")
            assert allows("iot:Receive", f"{ARN}:topic/{base}/{fmt}/{reply}")


def test_the_migrating_device_reaches_nothing_of_another_device_or_template():
    for action, resource in [
        ("iot:Publish", f"{ARN}:topic/$aws/provisioning-templates/other-template/provision/json"),
        ("iot:Subscribe", f"{ARN}:topicfilter/$aws/provisioning-templates/other-template/provision/json/accepted"),
        ("iot:Publish", f"{ARN}:topic/$aws/certificates/create-from-csr/json"),
        ("iot:Subscribe", f"{ARN}:topicfilter/$aws/certificates/create/#"),
        ("iot:Publish", f"{ARN}:topic/$aws/things/meter-0002/shadow/update"),
        ("iot:Publish", f"{ARN}:topic/things/meter-0002/telemetry"),
        ("iot:Publish", f"{ARN}:topic/meters/meter-0002/telemetry"),
        ("iot:Receive", f"{ARN}:topic/meters/meter-0002/telemetry"),
    ]:
        assert not allows(action, resource), (action, resource)
    # Its own scope is unchanged.
    assert allows("iot:Publish", f"{ARN}:topic/meters/meter-0001/telemetry")


@pytest.mark.parametrize(
    ("why", "record", "settings"),
    [
        ("family not migrating", replace(RECORD, family="valves"), MIGRATING),
        ("no family migrating", RECORD, BASE),
        ("retired", replace(RECORD, retired_at=RETIRED_AT), MIGRATING),
        # The hook pairs the thing name with the client ID: a device connecting under another ID would
        # register a thing that is not its name.
        ("client ID is not its own name", replace(RECORD, client_id="plc-7"), MIGRATING),
    ],
)
def test_no_provisioning_topics_outside_a_migrating_own_name_device(why, record, settings):
    assert not allows("iot:Publish", f"{ARN}:topic/{CREATE}", record, settings), why
    assert not allows("iot:Publish", f"{ARN}:topic/{REGISTER}", record, settings), why
    assert not allows("iot:Subscribe", f"{ARN}:topicfilter/{CREATE}/accepted", record, settings), why


def test_the_topics_are_the_claim_policys_topics():
    from components.fleet_provisioning import claim_topics

    assert provisioning_topics(TEMPLATE) == claim_topics(TEMPLATE)


def test_policy_with_migration_stays_within_iot_limits_for_a_full_record():
    record = replace(RECORD, extra_publish=tuple(f"meters/meter-0001/x{i}" for i in range(16)))
    documents = build_policy_documents(record, MIGRATING)
    assert all(len(d) <= 2048 for d in documents) and len(documents) <= 10
    assert policy_allows(list(documents), "iot:Publish", f"{ARN}:topic/{REGISTER}")


# --- retired ------------------------------------------------------------------------------------

PASSWORD = b"s3cret-retire"
HASHED = DeviceRecord(username="meter-0001", family="meters",
                      password_hash=hash_password(PASSWORD, ScryptParams(log2_n=10, r=8, p=1)))
REQUEST = ConnectRequest(username="meter-0001", password=PASSWORD, client_id="meter-0001")
NOW = datetime(2026, 12, 4, tzinfo=timezone.utc)


def test_a_retired_user_is_refused_even_with_the_right_password():
    assert decide(REQUEST, HASHED, MIGRATING, NOW).policy_documents
    with pytest.raises(DeviceRetired):
        decide(REQUEST, replace(HASHED, retired_at=RETIRED_AT), MIGRATING, NOW)


def test_retired_at_round_trips_and_a_bad_one_is_a_malformed_record():
    item = replace(HASHED, retired_at=RETIRED_AT).to_item()
    assert record_from_item(item).retired_at == RETIRED_AT
    from authorizer.errors import MalformedRecord

    with pytest.raises(MalformedRecord, match="retired_at"):
        record_from_item({**item, "retired_at": "yesterday"})


def test_the_handler_refuses_a_retired_user(authorizer_env):
    from authorizer.handler import handler
    from tests.authorizer.test_handler import Context, put_device

    put_device(authorizer_env, password=PASSWORD)
    assert handler(connect_event("meter-0001", PASSWORD), Context())["isAuthenticated"] is True
    put_device(authorizer_env, password=PASSWORD, retired_at=RETIRED_AT.isoformat())
    assert handler(connect_event("meter-0001", PASSWORD), Context())["isAuthenticated"] is False


# --- settings -----------------------------------------------------------------------------------

ENV = {"CREDENTIALS_TABLE": "creds", "DATA_ENDPOINT_IDS": ENDPOINTS[0], "IOT_REGION": REGION,
       "IOT_ACCOUNT_ID": ACCOUNT, "UNKNOWN_USER_HASH": "mosquitto-sha512"}


def test_settings_read_the_migrating_families_and_template():
    settings = load_settings({**ENV, "MIGRATING_FAMILIES": "meters, valves", "PROVISIONING_TEMPLATE": TEMPLATE})
    assert settings.migrating_families == {"meters", "valves"} and settings.provisioning_template == TEMPLATE
    assert load_settings(ENV).migrating_families == frozenset()


@pytest.mark.parametrize(
    ("env", "match"),
    [
        ({"MIGRATING_FAMILIES": "meters"}, "needs PROVISIONING_TEMPLATE"),
        ({"MIGRATING_FAMILIES": "met/ers", "PROVISIONING_TEMPLATE": TEMPLATE}, "MIGRATING_FAMILIES family"),
        ({"MIGRATING_FAMILIES": "meters", "PROVISIONING_TEMPLATE": "a/b"}, "PROVISIONING_TEMPLATE 'a/b'"),
    ],
)
def test_bad_migration_settings_name_the_variable(env, match):
    with pytest.raises(SettingsError, match=match):
        load_settings({**ENV, **env})


def test_the_policy_json_names_only_this_stacks_template():
    text = "".join(build_policy_documents(RECORD, MIGRATING))
    templates = {r.split("provisioning-templates/")[1].split("/")[0]
                 for d in build_policy_documents(RECORD, MIGRATING) for s in json.loads(d)["Statement"]
                 for r in (s["Resource"] if isinstance(s["Resource"], list) else [s["Resource"]])
                 if "provisioning-templates/" in r}
    assert templates == {TEMPLATE} and "*" not in text.replace("meter-0001/*", "")


def test_a_migrating_devices_password_login_is_stamped_and_a_non_migrating_ones_is_not(authorizer_env, monkeypatch):
    from authorizer.handler import handler
    from tests.authorizer.test_handler import Context, put_device

    put_device(authorizer_env, password=PASSWORD)
    put_device(authorizer_env, username="valve-0001", password=PASSWORD, family="valves")
    monkeypatch.setenv("MIGRATING_FAMILIES", "meters")
    monkeypatch.setenv("PROVISIONING_TEMPLATE", TEMPLATE)
    from authorizer import handler as module

    module._settings.cache_clear()
    for user in ("meter-0001", "valve-0001"):
        assert handler(connect_event(user, PASSWORD), Context())["isAuthenticated"] is True
    stamped = authorizer_env.get_item(Key={"username": "meter-0001"})["Item"]
    assert datetime.fromisoformat(stamped["password_login_at"]).tzinfo is not None
    assert "password_login_at" not in authorizer_env.get_item(Key={"username": "valve-0001"})["Item"]


def test_the_largest_record_of_a_migrating_family_still_fits_iot_cores_ten_documents():
    """16 + 16 extra topics of 256 bytes (records.MAX_EXTRA_TOPICS, MAX_TOPIC_BYTES), a 128-character user
    name, a 36-character template and the longest partition: without room the device would be denied."""
    family, name = "f" * 64, "u" * 128
    settings = replace(MIGRATING, region="us-gov-west-1", migrating_families=frozenset({family}),
                       provisioning_template="t" * 36, family_topic_prefixes={family: "p" * 128})
    publish = tuple(f"{'x' * 250}/{i:02d}a"[:256].ljust(256, "a") for i in range(16))
    subscribe = tuple((f"{'y' * 248}/{i:02d}" + "a" * 10)[:254] + "/#" for i in range(16))
    assert {len(t.encode()) for t in publish + subscribe} == {256}
    record = DeviceRecord(username=name, password_hash="$6$x", family=family, extra_publish=publish,
                          extra_subscribe=subscribe, cross_scope_reason="dashboards")
    documents = build_policy_documents(record, settings)
    assert len(documents) <= 10 and all(len(d) <= 2048 for d in documents)
    assert policy_allows(list(documents), "iot:Publish",
                         f"arn:aws-us-gov:iot:us-gov-west-1:{ACCOUNT}:topic/$aws/certificates/create/cbor")
