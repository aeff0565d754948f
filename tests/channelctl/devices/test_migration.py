"""`channelctl devices migrate | allow-serial | retire | migration` against moto (DynamoDB, IoT registry,
CloudWatch). moto has no GetThingConnectivityData: the IoT client is wrapped to answer it from a table
of sessions the test sets, the one input moto cannot give."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import boto3
import pytest

from channelctl.devices import migration
from provisioning_hook.decision import decide
from tests.authorizer.support import REGION
from tests.channelctl.devices.test_devices import connects, items, table  # noqa: F401 — the fixtures
from tests.support import PROJECT_DIR

PASSWORD = b"relay-cabinet-blue\n"
ALLOW_LIST = "allow-list"
TEMPLATE = "arn:aws:iot:eu-central-1:123456789012:provisioningtemplate/mqtt-channel-iot"


class Registry:
    """The moto IoT client, plus the live sessions moto cannot report."""

    def __init__(self):
        self.client = boto3.client("iot", region_name=REGION)
        self.sessions: dict[str, tuple[bool, datetime]] = {}

    def __getattr__(self, name):
        return getattr(self.client, name)

    def get_thing_connectivity_data(self, thingName):
        connected, since = self.sessions.get(thingName, (False, None))
        return {"thingName": thingName, "connected": connected, **({"timestamp": since} if since else {})}

    def provision(self, name, active=True):
        self.client.create_thing(thingName=name)
        certificate = self.client.create_keys_and_certificate(setAsActive=active)
        self.client.attach_thing_principal(thingName=name, principal=certificate["certificateArn"])


@pytest.fixture
def world(table, run, monkeypatch):  # noqa: F811
    registry = Registry()
    monkeypatch.setattr(migration, "_iot", lambda args: registry)
    boto3.client("dynamodb", region_name=REGION).create_table(
        TableName=ALLOW_LIST, KeySchema=[{"AttributeName": "device", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "device", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST")
    monkeypatch.setenv(migration.ALLOW_LIST_VARIABLE, ALLOW_LIST)
    for name, family in [("m1", "meters"), ("m2", "meters"), ("m3", "meters"), ("m4", "meters"), ("m5", "meters"),
                         ("m6", "meters"), ("v1", "valves")]:
        table.put_item(Item={"username": name, "password_hash": "$6$x$y", "family": family, "enabled": True})
    return registry, table


def later(minutes):
    return datetime.now(timezone.utc) + timedelta(minutes=minutes)


def test_the_report_counts_each_state_per_family_and_publishes_them(world, run):  # noqa: F811
    registry, table = world
    for name in ("m2", "m3", "m6"):
        registry.provision(name)
    registry.provision("m5", active=False)  # a thing whose certificate is not active is not provisioned
    registry.sessions["m3"] = (True, later(5))  # a session after the certificate, no password login since
    registry.sessions["m6"] = (True, later(5))  # the same, but it is the password session:
    table.update_item(Key={"username": "m6"}, UpdateExpression="SET password_login_at = :t",
                      ExpressionAttributeValues={":t": (later(5) - timedelta(seconds=1)).isoformat()})
    table.update_item(Key={"username": "m4"}, UpdateExpression="SET retired_at = :t",
                      ExpressionAttributeValues={":t": later(0).isoformat()})
    code, out, _ = run("migration", "--publish-metrics")
    assert code == 0
    rows = {line.split("\t")[0]: line.split("\t")[1:] for line in out.strip().splitlines()}
    assert rows["family"] == list(migration.STATES)
    assert rows["meters"] == ["2", "2", "1", "1"] and rows["valves"] == ["1", "0", "0", "0"]
    # m3 stays migrated after it disconnects: the evidence was written on its record.
    registry.sessions.pop("m3")
    assert "certificate_seen_at" in table.get_item(Key={"username": "m3"})["Item"]
    assert run("migration", "--family", "meters")[1].splitlines()[1] == "meters\t2\t2\t1\t1"
    metrics = boto3.client("cloudwatch", region_name=REGION).list_metrics(
        Namespace=migration.METRIC_NAMESPACE, MetricName=migration.METRIC_NAME)["Metrics"]
    dimensions = {tuple(sorted((d["Name"], d["Value"]) for d in m["Dimensions"])) for m in metrics}
    assert (("Family", "meters"), ("State", "certificate")) in dimensions and len(dimensions) == 8


def test_a_session_before_the_certificate_or_right_after_a_password_login_is_no_certificate_session():
    created = datetime(2026, 12, 1, tzinfo=timezone.utc)
    thing = migration.ThingView(exists=True, certificate_created=created, connected=True,
                                since=created + timedelta(hours=1))
    assert migration.device_state({}, thing) == "certificate"
    assert migration.device_state({"password_login_at": (created + timedelta(minutes=30)).isoformat()}, thing) == \
        "certificate"
    assert migration.device_state({"password_login_at": (created + timedelta(hours=1, seconds=-2)).isoformat()},
                                  thing) == "provisioned"
    early = migration.ThingView(exists=True, certificate_created=created, connected=True, since=created)
    assert migration.device_state({}, early) == "provisioned"
    unknown = migration.ThingView(exists=True, certificate_created=created, connected=None, why="no index")
    assert migration.device_state({}, unknown) == "provisioned"


def test_retire_only_a_device_seen_with_its_certificate_then_the_authorizer_refuses_its_password(world, run):  # noqa: F811
    registry, table = world
    assert run("add", "press-7", "--family", "meters", "--password-stdin", stdin=PASSWORD)[0] == 0
    assert connects("press-7", PASSWORD.strip())
    registry.provision("press-7")
    code, _, err = run("retire", "press-7")
    assert code == 2 and "is provisioned" in err
    assert connects("press-7", PASSWORD.strip())
    registry.sessions["press-7"] = (True, later(5))
    assert run("retire", "press-7")[0] == 0
    assert not connects("press-7", PASSWORD.strip())
    out = run("migration", "--family", "meters", "--json")[1]
    # The authorizer's metric line of the refusal above shares stdout: the report is the last document.
    assert json.loads(out[out.index("\n{") + 1:])["meters"] == {
        "password-only": 6, "provisioned": 0, "certificate": 0, "retired": 1}
    code, _, err = run("retire", "m1")
    assert code == 2 and "is password-only" in err


def test_migrate_lists_the_device_under_its_own_name_and_the_hook_admits_only_its_connection(world, run):  # noqa: F811
    assert run("migrate", "m1")[0] == 0
    entries = boto3.client("dynamodb", region_name=REGION)

    def lookup(name):
        return entries.get_item(TableName=ALLOW_LIST, Key={"device": {"S": name}}).get("Item")

    def request(serial, client_id):
        return {"templateArn": TEMPLATE, "clientId": client_id, "parameters": {"SerialNumber": serial}}

    assert decide(request("m1", "m1"), template_arn=TEMPLATE, lookup=lookup, now=lambda: 0).thing_name == "m1"
    assert not decide(request("m1", "m2"), template_arn=TEMPLATE, lookup=lookup, now=lambda: 0).allow
    # Listed for a limited time: admitted before it runs out, refused after.
    assert run("migrate", "m1", "--expires-in-hours", "2")[0] == 0
    expires = int(lookup("m1")["expires_at"]["N"])
    assert decide(request("m1", "m1"), template_arn=TEMPLATE, lookup=lookup, now=lambda: expires - 1).allow
    assert not decide(request("m1", "m1"), template_arn=TEMPLATE, lookup=lookup, now=lambda: expires).allow
    assert run("migrate", "m1", "--expires-in-hours", "0")[0] == 2


def test_migrate_refuses_a_device_whose_client_id_is_not_its_name_or_whose_family_is_not_migrating(world, run):  # noqa: F811
    _, table = world
    table.update_item(Key={"username": "m2"}, UpdateExpression="SET client_id = :c",
                      ExpressionAttributeValues={":c": "plc-2"})
    code, _, err = run("migrate", "m2")
    assert code == 2 and "--clear client_id" in err
    # The example iot stack migrates no family.
    code, _, err = run("migrate", "m1", "--stack", "iot", "--cwd", str(PROJECT_DIR))
    assert code == 2 and "not migrating" in err and "fleetProvisioning.migratingFamilies" in err


def test_names_never_collide_between_password_devices_and_listed_serials(world, run):  # noqa: F811
    _, table = world
    table.update_item(Key={"username": "m2"}, UpdateExpression="SET client_id = :c",
                      ExpressionAttributeValues={":c": "PLC-0002"})
    for held in ("m1", "PLC-0002"):  # a user name, a client ID
        code, _, err = run("allow-serial", held)
        assert code == 1 and "is held by password device" in err
    assert run("allow-serial", "PLC-0042")[0] == 0
    # A serial listed under a name: no password device may be listed for it.
    table.put_item(Item={"username": "PLC-0042", "password_hash": "$6$x$y", "family": "meters", "enabled": True})
    code, _, err = run("migrate", "PLC-0042")
    assert code == 1 and "already listed" in err


def test_a_new_password_user_named_like_a_registered_thing_is_refused(world, run):  # noqa: F811
    registry, _ = world
    registry.client.create_thing(thingName="PLC-0042")
    code, _, err = run("add", "PLC-0042", "--family", "meters", "--password-stdin", stdin=PASSWORD)
    assert code == 1 and "registered thing" in err
    assert run("add", "PLC-0043", "--family", "meters", "--password-stdin", stdin=PASSWORD)[0] == 0


def test_an_import_never_creates_a_user_named_like_a_registered_thing(world, run, tmp_path):  # noqa: F811
    registry, table = world
    registry.client.create_thing(thingName="PLC-0042")
    passwd = tmp_path / "passwd"
    import base64
    import hashlib

    salt = b"twelve-bytes"  # mosquitto_passwd 2.0: 12-byte salt, one SHA-512 over password + salt (FACTS)
    digest = hashlib.sha512(b"correct horse battery" + salt).digest()
    line = f"$6${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"
    passwd.write_text(f"PLC-0042:{line}\nPLC-0043:{line}\n")
    code, _, err = run("import-mosquitto", str(passwd), "--family", "meters", "--skip-invalid")
    assert code == 1 and "'PLC-0042' is the name of a registered thing" in err
    names = {item["username"] for item in items(table)}
    assert "PLC-0043" in names and "PLC-0042" not in names
