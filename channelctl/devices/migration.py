"""`channelctl devices migrate | allow-serial | retire | migration`: password devices moving to certificates.

A device's migration state, from its password record and the IoT registry:

``password-only``  no thing of its name with an active certificate yet;
``provisioned``    the thing exists (thing name = the user name) with an ACTIVE certificate;
``certificate``    it has been seen connected with that certificate: IoT Core reports a live
                   session of the thing (GetThingConnectivityData, which needs fleet indexing's
                   connectivity mode) that began after the certificate was created and at least
                   SESSION_MARGIN after the device's last password login (``password_login_at``, which
                   the authorizer stamps for migrating families). Once seen, ``certificate_seen_at`` is
                   written on the record, so the device still counts after it disconnects;
``retired``        its password record is retired (``retired_at``): the authorizer refuses it; the record
                   stays, so its name and client ID stay taken.

Names never collide: ``migrate`` lists a password device in the provisioning allow-list only under
its own user name (kind ``password-device``; the hook admits it only over the connection with that
client ID), and ``allow-serial`` refuses a name a password user holds as user name or client ID.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Iterable

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from authorizer.records import validate_username
from channelctl.devices.credentials_errors import (
    ClientIdTaken,
    ConfigError,
    DeviceNotFound,
    UsageError,
)
from channelctl.devices.credentials_store import CredentialTable, now_text

STATES = ("password-only", "provisioned", "certificate", "retired")
# The metric `migration --publish-metrics` writes, one per family and state; the fleet dashboard's
# "Migration to certificates" widget (components/fleet_monitoring.py) searches for it.
METRIC_NAMESPACE = "PrivateMqttChannel"
METRIC_NAME = "MigrationDevices"
# PutMetricData takes at most 1,000 different metrics per request (CloudWatch API reference, PutMetricData).
MAX_METRICS_PER_REQUEST = 1000
# A password session's connectivity timestamp follows its authorizer call, which IoT Core gives at
# most 5 s (custom authorizer Lambda limit, IoT developer guide); twice that covers clock steps.
SESSION_MARGIN = timedelta(seconds=10)
RECORD_ATTRIBUTES = ("username", "family", "client_id", "retired_at", "password_login_at", "certificate_seen_at")
ALLOW_LIST_VARIABLE = "PROVISIONING_ALLOW_LIST_TABLE"


@dataclass(frozen=True)
class ThingView:
    """What the IoT registry says about the thing named like the device."""

    exists: bool
    certificate_created: datetime | None = None  # the newest ACTIVE certificate attached, None: none
    connected: bool | None = None  # None: connectivity could not be read
    since: datetime | None = None
    why: str = ""


def _moment(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            return None
        return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
    return None


def certificate_session(item: dict[str, Any], thing: ThingView) -> bool:
    """Whether the record's device is, or was, seen connected with its certificate."""
    if _moment(item.get("certificate_seen_at")) is not None:
        return True
    if not thing.connected or thing.since is None or thing.certificate_created is None:
        return False
    if thing.since <= thing.certificate_created:
        return False
    login = _moment(item.get("password_login_at"))
    return login is None or login + SESSION_MARGIN < thing.since


def device_state(item: dict[str, Any], thing: ThingView) -> str:
    if item.get("retired_at"):
        return "retired"
    if not thing.exists or thing.certificate_created is None:
        return "password-only"
    return "certificate" if certificate_session(item, thing) else "provisioned"


def read_thing(iot: Any, name: str) -> ThingView:
    """The thing, its newest active certificate and its live connectivity; raises ConfigError if the
    registry cannot be read (no permission, no network)."""
    try:
        iot.describe_thing(thingName=name)
    except ClientError as err:
        if err.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
            return ThingView(exists=False)
        raise ConfigError(f"IoT registry: DescribeThing {name!r} refused: {err.response.get('Error', {}).get('Code')} "
                          "— let the operator role call iot:DescribeThing, iot:ListThingPrincipals, "
                          "iot:DescribeCertificate and iot:GetThingConnectivityData") from None
    except BotoCoreError as err:
        raise ConfigError(f"IoT registry unreachable: {type(err).__name__}") from None
    created = None
    for arn in iot.list_thing_principals(thingName=name).get("principals", []):
        if ":cert/" not in arn:
            continue
        description = iot.describe_certificate(certificateId=arn.rsplit("/", 1)[1])["certificateDescription"]
        if description.get("status") == "ACTIVE":
            moment = _moment(description.get("creationDate"))
            if moment is not None and (created is None or moment > created):
                created = moment
    if created is None:
        return ThingView(exists=True)
    try:
        data = iot.get_thing_connectivity_data(thingName=name)
    except (ClientError, BotoCoreError, AttributeError, NotImplementedError) as err:
        code = err.response.get("Error", {}).get("Code") if isinstance(err, ClientError) else type(err).__name__
        return ThingView(exists=True, certificate_created=created, why=f"connectivity unknown ({code}): turn on "
                         "fleet indexing's connectivity mode (thingConnectivityIndexingMode STATUS)")
    return ThingView(exists=True, certificate_created=created, connected=bool(data.get("connected")),
                     since=_moment(data.get("timestamp")))


def thing_names(iot: Any) -> set[str]:
    """Every registered thing's name, in pages of up to 250 (AWS IoT API reference, ListThings maxResults
    1-250): a fleet of password-only devices costs no call per device."""
    names: set[str] = set()
    try:
        for page in iot.get_paginator("list_things").paginate(PaginationConfig={"PageSize": 250}):
            names.update(thing["thingName"] for thing in page.get("things", []))
    except ClientError as err:
        raise ConfigError(f"IoT registry: ListThings refused: {err.response.get('Error', {}).get('Code')} — let the "
                          "operator role call iot:ListThings") from None
    except BotoCoreError as err:
        raise ConfigError(f"IoT registry unreachable: {type(err).__name__}") from None
    return names


# --- commands -----------------------------------------------------------------------------------


def register(action: Callable[..., argparse.ArgumentParser]) -> None:
    """Adds the subcommands through command.py's ``action`` helper (common options, error handling)."""
    migrate = action("migrate", cmd_migrate, "list a password device in the provisioning allow-list under its own "
                     "name, so it can provision its certificate (its family must be in fleetProvisioning.migratingFamilies)")
    migrate.add_argument("username")
    migrate.add_argument("--expires-in-hours", type=int, metavar="N",
                         help="the entry admits nothing after N hours (expires_at): list a device for the time it "
                         "provisions")
    migrate.add_argument("--allow-list-table", help=f"the allow-list table (default: ${ALLOW_LIST_VARIABLE}; the "
                         "iot stack's output provisioningAllowListTable)")
    serial = action("allow-serial", cmd_allow_serial, "list a certificate device's serial number in the provisioning "
                    "allow-list; refused when a password device holds the name")
    serial.add_argument("name")
    serial.add_argument("--allow-list-table", help=f"the allow-list table (default: ${ALLOW_LIST_VARIABLE})")
    retire = action("retire", cmd_retire, "retire a migrated device's password record: the authorizer refuses it "
                    "from then on; only once the device was seen connected with its certificate")
    retire.add_argument("username")
    report = action("migration", cmd_migration, "per family: devices password-only, provisioned, connected with "
                    "a certificate, retired")
    report.add_argument("--family", help="only this family")
    report.add_argument("--json", action="store_true", help="print JSON")
    report.add_argument("--publish-metrics", action="store_true",
                        help=f"also put the counts to CloudWatch ({METRIC_NAMESPACE}/{METRIC_NAME}, Family, State)")


def _allow_list(args: argparse.Namespace) -> Any:
    import os

    name = args.allow_list_table or os.environ.get(ALLOW_LIST_VARIABLE)
    if not name:
        raise ConfigError(f"no allow-list table — pass --allow-list-table NAME or set {ALLOW_LIST_VARIABLE} "
                          "(`pulumi stack output provisioningAllowListTable` in the iot stack)")
    return boto3.client("dynamodb", region_name=args.region), name


def entry_item(device: str, kind: str, expires_at: int | None = None) -> dict[str, Any]:
    """The hook's own item writer (provisioning_hook.decision.entry_item): nothing is listed that it would refuse.
    Imported on use: an editable install made before provisioning_hook/ existed does not map it."""
    from provisioning_hook.decision import entry_item as hook_entry_item

    return hook_entry_item(device, kind, expires_at=expires_at)


def _put_entry(args: argparse.Namespace, item: dict[str, Any], same_kind: str) -> None:
    client, name = _allow_list(args)
    try:
        # Never over another kind's entry: one name, one device.
        client.put_item(TableName=name, Item=item, ConditionExpression="attribute_not_exists(device) OR kind = :k",
                        ExpressionAttributeValues={":k": {"S": same_kind}})
    except ClientError as err:
        if err.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
            raise ClientIdTaken(f"{item['device']['S']!r} is already listed in {name} as another kind of device — "
                                "names are unique; remove that entry first if it is wrong") from None
        raise ConfigError(f"DynamoDB refused the request on {name!r}: {err.response.get('Error', {}).get('Code')}") from None


def cmd_migrate(args: argparse.Namespace, table: CredentialTable) -> int:
    username = _username(args.username)
    item = _record(table, username)
    if item.get("retired_at"):
        raise UsageError(f"device {username!r} is retired — it has moved to its certificate already")
    if item.get("client_id") not in (None, username):
        raise UsageError(
            f"device {username!r} connects as client ID {item['client_id']!r}, not its user name — the thing is named "
            f"after the user name and the hook pairs it with the client ID: `channelctl devices update {username} "
            "--clear client_id` first (the device must then connect as its user name)"
        )
    families = _migrating_families(args)
    if families is not None and item.get("family") not in families:
        raise UsageError(
            f"family {item.get('family')!r} is not migrating: add it to fleetProvisioning.migratingFamilies "
            f"({', '.join(families) or 'empty'}) and update the iot stack — the authorizer gives the provisioning "
            "topics only to those families"
        )
    expires_at = None
    if args.expires_in_hours is not None:
        if not 1 <= args.expires_in_hours <= 24 * 366:
            raise UsageError(f"--expires-in-hours {args.expires_in_hours} must be 1 to {24 * 366}")
        expires_at = int(datetime.now(timezone.utc).timestamp()) + args.expires_in_hours * 3600
    _put_entry(args, entry_item(username, "password-device", expires_at), "password-device")
    print(f"device {username!r} listed for provisioning as thing {username!r}")
    return 0


def cmd_allow_serial(args: argparse.Namespace, table: CredentialTable) -> int:
    try:
        item = entry_item(args.name, "serial")
    except ValueError as err:
        raise UsageError(str(err)) from None
    holders = {str(i.get("client_id") or i.get("username")): str(i.get("username")) for i in table.scan()}
    holder = holders.get(args.name) or (args.name if table.get(args.name) is not None else None)
    if holder is not None:
        raise ClientIdTaken(
            f"{args.name!r} is held by password device {holder!r} (user name or client ID) — a thing of that name "
            f"would share its client ID; choose another serial number, or migrate that device (`channelctl devices "
            f"migrate {holder}`)"
        )
    _put_entry(args, item, "serial")
    print(f"serial number {args.name!r} listed for provisioning")
    return 0


def cmd_retire(args: argparse.Namespace, table: CredentialTable) -> int:
    username = _username(args.username)
    item = _record(table, username)
    if item.get("retired_at"):
        print(f"device {username!r} was retired at {item['retired_at']}")
        return 0
    thing = read_thing(_iot(args), username)
    state = device_state(item, thing)
    if state != "certificate":
        why = thing.why or {"password-only": "no thing of its name with an active certificate",
                            "provisioned": "provisioned, but not seen connected with its certificate yet"}[state]
        raise UsageError(f"device {username!r} is {state}: {why} — retire it once `channelctl devices migration` "
                         "counts it as connected with a certificate")
    now = now_text()
    table.update(username, {"retired_at": now, "updated_at": now, "certificate_seen_at": item.get(
        "certificate_seen_at") or now})
    print(f"device {username!r} retired: its password no longer connects")
    return 0


def migration_counts(items: Iterable[dict[str, Any]], things: Callable[[str], ThingView]) -> tuple[
        dict[str, dict[str, int]], list[str]]:
    """(family -> state -> count, user names newly seen with their certificate)."""
    counts: dict[str, dict[str, int]] = {}
    seen: list[str] = []
    for item in items:
        family = str(item.get("family"))
        username = str(item.get("username"))
        thing = ThingView(exists=False) if item.get("retired_at") else things(username)
        state = device_state(item, thing)
        if state == "certificate" and not item.get("certificate_seen_at"):
            seen.append(username)
        counts.setdefault(family, dict.fromkeys(STATES, 0))[state] += 1
    return counts, seen


def cmd_migration(args: argparse.Namespace, table: CredentialTable) -> int:
    iot = _iot(args)
    items = [i for i in table.scan(RECORD_ATTRIBUTES) if args.family is None or i.get("family") == args.family]
    unknown: list[str] = []
    registered = thing_names(iot)

    def things(name: str) -> ThingView:
        if name not in registered:
            return ThingView(exists=False)
        view = read_thing(iot, name)
        if view.why:
            unknown.append(view.why)
        return view

    counts, seen = migration_counts(items, things)
    now = now_text()
    for username in seen:
        # Sticky evidence: the device counts as migrated after it disconnects too.
        table.update(username, {"certificate_seen_at": now})
    if args.json:
        print(json.dumps(counts, indent=2, sort_keys=True))
    else:
        print("family\t" + "\t".join(STATES))
        for family in sorted(counts):
            print(family + "\t" + "\t".join(str(counts[family][s]) for s in STATES))
    if unknown:
        print(f"{len(unknown)} provisioned device(s) not judged: {unknown[0]}", file=sys.stderr)
    if args.publish_metrics:
        publish_metrics(boto3.client("cloudwatch", region_name=args.region), counts)
    return 0


def metric_data(counts: dict[str, dict[str, int]]) -> list[dict[str, Any]]:
    return [{"MetricName": METRIC_NAME, "Dimensions": [{"Name": "Family", "Value": family}, {"Name": "State", "Value": state}],
             "Value": float(count), "Unit": "Count"}
            for family, states in sorted(counts.items()) for state, count in states.items()]


def publish_metrics(cloudwatch: Any, counts: dict[str, dict[str, int]]) -> None:
    data = metric_data(counts)
    for start in range(0, len(data), MAX_METRICS_PER_REQUEST):
        cloudwatch.put_metric_data(Namespace=METRIC_NAMESPACE, MetricData=data[start:start + MAX_METRICS_PER_REQUEST])


# --- helpers ------------------------------------------------------------------------------------


def _iot(args: argparse.Namespace) -> Any:
    return boto3.client("iot", region_name=args.region)


def iot_client(args: argparse.Namespace) -> Any:
    """The IoT registry client the devices commands use (tests replace _iot)."""
    return _iot(args)


def _username(value: str) -> str:
    try:
        return validate_username(value, "user name")
    except Exception as err:  # noqa: BLE001 -- AuthorizerError: a usage error here
        raise UsageError(str(err)) from None


def _record(table: CredentialTable, username: str) -> dict[str, Any]:
    item = table.get(username)
    if item is None:
        raise DeviceNotFound(f"no device {username!r} in {table.table_name}")
    return item


def _migrating_families(args: argparse.Namespace) -> tuple[str, ...] | None:
    """The iot stack's fleetProvisioning.migratingFamilies, or None without a stack."""
    import os
    from pathlib import Path

    stack = getattr(args, "stack", None) or os.environ.get("CHANNELCTL_STACK") or None
    if stack is None:
        return None
    from channelctl.project import ProjectError, load_project
    from components.config import ConfigError as StackConfigError, IotConfig, load_config

    try:
        project = load_project(Path(getattr(args, "cwd", None) or "."), [stack])
        config = load_config(project.stacks[stack].config, stack=stack)
    except (ProjectError, StackConfigError) as err:
        raise ConfigError(f"--stack {stack}: {err}") from None
    if not isinstance(config, IotConfig):
        raise ConfigError(f"--stack {stack} is not the iot stack — name the stack that holds fleetProvisioning")
    return config.fleet_provisioning.migrating_families
