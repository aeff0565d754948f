"""`channelctl devices`: manage the credentials the custom authorizer checks.

Passwords are read from a prompt (asked twice) or from standard input with
``--password-stdin``; never from the command line. New passwords are stored
as scrypt hashes; ``import-mosquitto`` copies Mosquitto hashes as they are.
``show`` and ``list`` never print a hash.

Exit codes: 0 done, 1 refused (entries, unknown or existing device, a
concurrent change), 2 usage or configuration error.
"""

from __future__ import annotations

import argparse
import getpass
from dataclasses import replace
import json
import os
import sys
from typing import Any, Callable

from authorizer.cost import ceiling_seconds, check_cost, connect_cost_seconds, cost_seconds, rehash_seconds
from authorizer.errors import AuthorizerError
from authorizer import hashes
from authorizer.hashes import MAX_PASSWORD_BYTES, Scrypt, dummy_hash, hash_password, parse_hash
from authorizer.principal import principal_id
from authorizer.scopes import cross_scope_problems, family_overlap
from authorizer.records import (
    WEEKDAYS,
    DeviceRecord,
    parse_access_window,
    parse_days,
    parse_hours,
    parse_time_zone,
    parse_valid_until,
    record_from_item,
    validate_client_id,
    validate_family,
    validate_topic,
    validate_username,
)
from channelctl.devices import migration
from channelctl.devices.password_strength import password_weakness, weak_hash
from channelctl.devices.things import thing_exists
from channelctl.devices.credentials import (
    IMPORTED_HASH_ATTRIBUTE,
    IMPORTED_HASHES_ATTRIBUTE,
    Outcome,
    hash_fingerprint,
    parse_password_file,
    plan_entry,
)
from channelctl.devices.credentials_errors import (
    ClientIdTaken,
    HashWorkTooLarge,
    ConcurrentChange,
    ConfigError,
    CredentialsError,
    DeviceExists,
    DeviceNotFound,
    PasswordInputError,
    ScopeOverlap,
    UsageError,
)
from channelctl.devices.channel_settings import STACK_VARIABLE, ChannelSettings, load_channel_settings
from channelctl.devices.credentials_store import CredentialTable, now_text

CLEARABLE = ("client_id", "extra_publish", "extra_subscribe", "cross_scope_reason", "access_window", "valid_until")


def register(subparsers: Any) -> None:
    devices = subparsers.add_parser(
        "devices",
        help="manage device credentials in the authorizer's table",
        description=__doc__.split("\n\n")[0],
    )
    actions = devices.add_subparsers(dest="devices_action", required=True, metavar="ACTION")

    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--table", help="credentials table name (default: $CREDENTIALS_TABLE)")
    common.add_argument("--region", help="AWS region (default: the boto3 environment, e.g. $AWS_DEFAULT_REGION)")
    common.add_argument(
        "--stack",
        help=f"the iot stack whose authorizer settings apply: topic prefixes, memory (default: ${STACK_VARIABLE}; "
        "without one, the configuration's defaults)",
    )
    common.add_argument("--cwd", help="the project directory holding Pulumi.<stack>.yaml (default: .)")

    password = argparse.ArgumentParser(add_help=False)
    password.add_argument(
        "--password-stdin", action="store_true", help="read the password from standard input instead of a prompt"
    )

    fields = argparse.ArgumentParser(add_help=False)
    fields.add_argument("--client-id", help="the only client ID the device may use (default: its user name)")
    fields.add_argument("--publish", action="append", metavar="TOPIC", help="extra topic to publish to (repeat)")
    fields.add_argument(
        "--subscribe", action="append", metavar="FILTER", help="extra topic filter to subscribe to (repeat)"
    )
    fields.add_argument(
        "--cross-scope-reason", metavar="TEXT",
        help="why --publish/--subscribe topics reach outside the device's own <prefix>/<user>/ scope (stored on "
        "the record; without it such topics are refused)",
    )
    fields.add_argument("--days", help=f"allowed weekdays, comma-separated ({','.join(WEEKDAYS)})")
    fields.add_argument("--hours", help="allowed daily hours, HH:MM-HH:MM (end may be 24:00 or before the start)")
    fields.add_argument("--time-zone", help="IANA time zone of --days/--hours (default UTC)")
    fields.add_argument("--valid-until", help="no connection after this ISO 8601 moment with offset")

    def action(name: str, func: Callable[[argparse.Namespace, CredentialTable], int], help_text: str,
               parents: tuple[argparse.ArgumentParser, ...] = ()) -> argparse.ArgumentParser:
        parser = actions.add_parser(name, help=help_text, description=help_text, parents=[common, *parents])
        parser.set_defaults(func=_runner(func))
        return parser

    add = action("add", cmd_add, "add a device with a new password", (password, fields))
    add.add_argument("username")
    add.add_argument("--family", required=True, help="device family (selects the topic prefix)")
    add.add_argument("--disabled", action="store_true", help="create the device disabled")

    update = action("update", cmd_update, "change a device's family, client ID, topics or access window", (fields,))
    update.add_argument("username")
    update.add_argument("--family", help="new device family")
    update.add_argument("--clear", action="append", choices=CLEARABLE, default=[], help="remove an attribute (repeat)")

    set_password = action("set-password", cmd_set_password, "give a device a new password", (password,))
    set_password.add_argument("username")

    for name, func, text in (
        ("unlock", cmd_unlock, "clear a device's failed-password count and lock"),
        ("disable", cmd_disable, "disable a device (it can no longer connect)"),
        ("enable", cmd_enable, "enable a disabled device"),
        ("allow", cmd_allow, "take a device off the deny list"),
        ("show", cmd_show, "show a device's record (never the hash)"),
    ):
        parser = action(name, func, text)
        parser.add_argument("username")
        if name == "show":
            parser.add_argument("--json", action="store_true", help="print JSON")

    deny = action("deny", cmd_deny, "put a device on the deny list (wins over enable)")
    deny.add_argument("username")
    deny.add_argument("--reason", help="why (shown by `show`)")

    listing = action("list", cmd_list, "list devices (user name, family, status)")
    listing.add_argument("--family", help="only this family")

    schemes = action(
        "hash-schemes",
        cmd_hash_schemes,
        "show the table's hash schemes (the work every CONNECT costs); --refresh rebuilds the list from the records",
    )
    schemes.add_argument("--refresh", action="store_true", help="rebuild the list from the records' hashes")

    importer = action(
        "import-mosquitto",
        cmd_import,
        "import a Mosquitto password file; validates every line first and writes nothing if one is refused",
    )
    importer.add_argument("file", help="Mosquitto password file (username:$7$... lines)")
    importer.add_argument("--family", required=True, help="family of every imported device")
    importer.add_argument(
        "--skip-invalid", action="store_true", help="import the valid lines even if others are refused"
    )
    importer.add_argument("--dry-run", action="store_true", help="report what would change, write nothing")
    importer.add_argument(
        "--move-family", action="store_true", help="move user names that exist in another family to --family"
    )
    importer.add_argument(
        "--overwrite", action="store_true",
        help="replace hashes set after the record's import (e.g. by set-password) with the file's",
    )

    # Password devices moving to certificates: migrate, allow-serial, retire, migration.
    migration.register(action)


def _runner(func: Callable[[argparse.Namespace, CredentialTable], int]) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        try:
            return func(args, _table(args))
        except CredentialsError as err:
            print(f"channelctl devices {args.devices_action}: {err}", file=sys.stderr)
            return err.exit_code
        except AuthorizerError as err:
            print(f"channelctl devices {args.devices_action}: {err}", file=sys.stderr)
            return 2

    return run


def _table(args: argparse.Namespace) -> CredentialTable:
    name = args.table or os.environ.get("CREDENTIALS_TABLE")
    if not name:
        raise ConfigError("no credentials table — pass --table NAME or set CREDENTIALS_TABLE")
    return CredentialTable(name, region=args.region)


# --- commands ----------------------------------------------------------------


def cmd_add(args: argparse.Namespace, table: CredentialTable) -> int:
    username = _username(args.username)
    family = _checked(validate_family, args.family, "--family")
    settings = _settings(args)
    _refuse_family(settings, family)
    _refuse_costly_scrypt(settings)
    options = _field_values(args)
    if table.get(username) is not None:
        raise DeviceExists(f"device {username!r} already exists — use set-password or update")
    _refuse_taken_client_id(table, username, options.get("client_id") or username, args.region, new_device=True)
    now = now_text()
    draft = {
        "username": username,
        "family": family,
        "enabled": not args.disabled,
        "prohibited": False,
        "created_at": now,
        "updated_at": now,
        **options,
    }
    # Validate every option before asking for the password.
    _refuse_cross_scope(settings, _validated(draft, check_hash=False))
    draft["password_hash"] = hash_password(read_new_password(args, username))
    _register_schemes(table, settings, set())
    table.create(_validated(draft).to_item())
    print(f"device {username!r} added (family {family}, {'disabled' if args.disabled else 'enabled'})")
    return 0


def cmd_update(args: argparse.Namespace, table: CredentialTable) -> int:
    username = _username(args.username)
    existing = _existing(table, username)
    set_values = _field_values(args, existing.get("access_window"))
    if args.family is not None:
        set_values["family"] = _checked(validate_family, args.family, "--family")
        _refuse_family(_settings(args), set_values["family"])
    remove = tuple(dict.fromkeys(args.clear))
    both = set(remove) & set(set_values)
    if both:
        raise UsageError(f"--clear {', '.join(sorted(both))} conflicts with setting it in the same command")
    if not set_values and not remove:
        raise UsageError("nothing to change — give --family, --client-id, --publish, ... or --clear")
    merged = {key: value for key, value in {**existing, **set_values}.items() if key not in remove}
    _refuse_cross_scope(_settings(args), _validated(merged))
    if "client_id" in set_values or "client_id" in remove:
        _refuse_taken_client_id(table, username, merged.get("client_id") or username, args.region)
    table.update(username, {**set_values, "updated_at": now_text()}, remove)
    print(f"device {username!r} updated: {', '.join([*set_values, *(f'-{r}' for r in remove)])}")
    return 0


def cmd_set_password(args: argparse.Namespace, table: CredentialTable) -> int:
    username = _username(args.username)
    _existing(table, username)
    settings = _settings(args)
    _refuse_costly_scrypt(settings)
    password_hash = hash_password(read_new_password(args, username))
    _register_schemes(table, settings, set())
    table.update(username, {"password_hash": password_hash, "updated_at": now_text()})
    print(f"device {username!r}: new password stored")
    return 0


def cmd_unlock(args: argparse.Namespace, table: CredentialTable) -> int:
    return _set_flags(table, args.username, {}, ("failed_attempts", "failed_since", "locked_until"), "unlocked")


def cmd_disable(args: argparse.Namespace, table: CredentialTable) -> int:
    return _set_flags(table, args.username, {"enabled": False}, (), "disabled")


def cmd_enable(args: argparse.Namespace, table: CredentialTable) -> int:
    return _set_flags(table, args.username, {"enabled": True}, (), "enabled")


def cmd_deny(args: argparse.Namespace, table: CredentialTable) -> int:
    values: dict[str, Any] = {"prohibited": True}
    if args.reason:
        values["prohibited_reason"] = args.reason
    return _set_flags(table, args.username, values, () if args.reason else ("prohibited_reason",), "on the deny list")


def cmd_allow(args: argparse.Namespace, table: CredentialTable) -> int:
    return _set_flags(table, args.username, {"prohibited": False}, ("prohibited_reason",), "off the deny list")


def cmd_show(args: argparse.Namespace, table: CredentialTable) -> int:
    username = _username(args.username)
    item = _existing(table, username)
    view = device_view(item)
    if args.json:
        print(json.dumps(view, indent=2, sort_keys=True, default=str))
    else:
        width = max(len(key) for key in view)
        for key, value in view.items():
            shown = ", ".join(map(str, value)) if isinstance(value, list) else value
            print(f"{key + ':':<{width + 2}}{shown}")
    return 0


def cmd_list(args: argparse.Namespace, table: CredentialTable) -> int:
    family = _checked(validate_family, args.family, "--family") if args.family else None
    items = sorted((i for i in table.scan() if family is None or i.get("family") == family),
                   key=lambda i: str(i.get("username")))
    for item in items:
        print(f"{item.get('username')}\t{item.get('family')}\t{_status(item)}")
    print(f"{len(items)} device(s)", file=sys.stderr)
    return 0


def cmd_import(args: argparse.Namespace, table: CredentialTable) -> int:
    family = _checked(validate_family, args.family, "--family")
    settings = _settings(args)
    _refuse_family(settings, family)
    try:
        with open(args.file, "rb") as handle:
            data = handle.read()
    except OSError as err:
        raise UsageError(f"cannot read password file {args.file!r}: {err.strerror}") from None
    parsed = parse_password_file(data, settings.memory_size)
    for refusal in parsed.refusals:
        print(refusal.describe(args.file), file=sys.stderr)
    if parsed.refusals and not args.skip_invalid:
        print(
            f"nothing written: {len(parsed.refusals)} line(s) refused — fix them, or pass --skip-invalid "
            f"to import the other {len(parsed.entries)} entr{'y' if len(parsed.entries) == 1 else 'ies'}",
            file=sys.stderr,
        )
        return 1

    counts = {outcome: 0 for outcome in Outcome}
    counts[Outcome.SKIPPED] = len(parsed.refusals)
    conflicts = 0
    prefix = "would be " if args.dry_run else ""
    # The authorizer makes unknown names cost one verification per scheme in the registry:
    # register the file's schemes before any record of them exists.
    _register_schemes(table, settings, {parse_hash(e.password_hash).work_spec() for e in parsed.entries},
                      dry_run=args.dry_run)
    client_ids = _client_ids(table)
    # A new password device never takes a registered thing's name (its client ID).
    things = migration.thing_names(migration.iot_client(args)) if parsed.entries else set()
    refused = 0
    for entry in parsed.entries:
        existing = table.get(entry.username)
        step = plan_entry(entry, family, existing, move_family=args.move_family, overwrite=args.overwrite)
        holder = client_ids.get(entry.username)
        if existing is None and holder is not None and holder != entry.username:
            step = replace(step, outcome=Outcome.REFUSED,
                           reason=f"client ID {entry.username!r} belongs to device {holder!r} — client IDs are unique")
        elif existing is None and entry.username in things:
            step = replace(step, outcome=Outcome.REFUSED,
                           reason=f"{entry.username!r} is the name of a registered thing, which connects with it as "
                           "client ID — rename the device on the broker first")
        if step.outcome is Outcome.REFUSED:
            print(f"{args.file}:{entry.line}: user {entry.username!r}: {prefix}refused — {step.reason}", file=sys.stderr)
            counts[Outcome.REFUSED] += 1
            refused += 1
            continue
        if not args.dry_run:
            try:
                _apply(table, step, family, existing)
            except (DeviceExists, ConcurrentChange, DeviceNotFound) as err:
                print(f"{args.file}:{entry.line}: user {entry.username!r}: not written — {err}", file=sys.stderr)
                conflicts += 1
                continue
        detail = f" ({', '.join([*step.changed, *([step.reason] if step.reason else [])])})" if (
            step.changed or step.reason) else ""
        weak = weak_hash(parse_hash(entry.password_hash))
        rotate = f"; rotate: {weak} — channelctl devices set-password {entry.username}" if weak else ""
        print(f"{args.file}:{entry.line}: {entry.username}: {prefix}{step.outcome.value}{detail}{rotate}")
        counts[step.outcome] += 1
    summary = ", ".join(f"{outcome.value} {counts[outcome]}" for outcome in Outcome)
    print(f"{prefix}{summary}" + (f", conflicts {conflicts}" if conflicts else ""), file=sys.stderr)
    return 1 if parsed.refusals or conflicts or refused else 0


# --- helpers -----------------------------------------------------------------


def read_new_password(args: argparse.Namespace, username: str) -> bytes:
    """The new password as bytes, from stdin (--password-stdin) or two prompts."""
    if args.password_stdin:
        stream = getattr(sys.stdin, "buffer", None)
        data = stream.read() if stream is not None else sys.stdin.read().encode("utf-8")
        if data.endswith(b"\n"):
            data = data[:-1]
        if data.endswith(b"\r"):
            data = data[:-1]
        if b"\n" in data:
            raise PasswordInputError("standard input holds more than one line — give the password alone")
    else:
        try:
            first = getpass.getpass(f"New password for {username}: ")
            second = getpass.getpass("Repeat the password: ")
        except (EOFError, KeyboardInterrupt):
            raise PasswordInputError("no password entered") from None
        if first != second:
            raise PasswordInputError("the two passwords differ — nothing was changed")
        data = first.encode("utf-8")
    if not data:
        raise PasswordInputError("the password is empty — devices need a password")
    if b"\x00" in data:
        raise PasswordInputError("the password contains a NUL byte, which many MQTT stacks cut off — choose another")
    if len(data) > MAX_PASSWORD_BYTES:
        raise PasswordInputError(f"the password is longer than {MAX_PASSWORD_BYTES} bytes, the MQTT limit")
    weakness = password_weakness(data, username)
    if weakness is not None:
        raise PasswordInputError(f"{weakness} — nothing was changed; a generated one is best: openssl rand -base64 24")
    return data


def device_view(item: dict[str, Any]) -> dict[str, Any]:
    """A record for display: everything except the hash, plus its scheme and the principal id."""
    view: dict[str, Any] = {"username": item.get("username")}
    try:
        view["principal_id"] = principal_id(validate_username(item.get("username")))
    except AuthorizerError:
        view["principal_id"] = "(invalid user name)"
    view["family"] = item.get("family")
    view["status"] = _status(item)
    try:
        view["password"] = parse_hash(item.get("password_hash", "")).describe()
    except AuthorizerError as err:
        view["password"] = f"unusable: {err}"
    for key in ("prohibited_reason", "client_id", "extra_publish", "extra_subscribe", "cross_scope_reason", "valid_until",
                "failed_attempts", "failed_since", "locked_until", "created_at", "updated_at"):
        if item.get(key) is not None:
            view[key] = item[key]
    window = item.get("access_window")
    if window is not None:
        view["access_window"] = " ".join(
            str(part)
            for part in (",".join(window.get("days", [])) or "every day", window.get("hours", "all day"),
                         window.get("time_zone", "UTC"))
        )
    return view


def _status(item: dict[str, Any]) -> str:
    state = "enabled" if item.get("enabled", True) else "disabled"
    return state + (", denied" if item.get("prohibited") else "")


def _set_flags(table: CredentialTable, raw_username: str, values: dict[str, Any], remove: tuple[str, ...],
               text: str) -> int:
    username = _username(raw_username)
    table.update(username, {**values, "updated_at": now_text()}, remove)
    print(f"device {username!r} {text}")
    return 0


def _existing(table: CredentialTable, username: str) -> dict[str, Any]:
    item = table.get(username)
    if item is None:
        raise DeviceNotFound(f"no device {username!r} in {table.table_name}")
    return item


def _apply(table: CredentialTable, step: Any, family: str, existing: dict[str, Any] | None) -> None:
    entry = step.entry
    fingerprint = hash_fingerprint(entry.password_hash)
    if step.outcome is Outcome.CREATED:
        now = now_text()
        record = DeviceRecord(username=entry.username, password_hash=entry.password_hash, family=family,
                              created_at=now, updated_at=now)
        table.create({**record.to_item(), IMPORTED_HASH_ATTRIBUTE: fingerprint,
                      IMPORTED_HASHES_ATTRIBUTE: set(step.history)})
    elif step.outcome is Outcome.UPDATED and existing is not None:
        values: dict[str, Any] = {}
        if "password_hash" in step.changed:
            values.update({"password_hash": entry.password_hash, IMPORTED_HASH_ATTRIBUTE: fingerprint})
        if IMPORTED_HASH_ATTRIBUTE in step.changed:
            values[IMPORTED_HASH_ATTRIBUTE] = fingerprint
        if IMPORTED_HASH_ATTRIBUTE in values:
            # Every hash the record was imported with: a stale file can never restore one (credentials.plan_entry).
            values[IMPORTED_HASHES_ATTRIBUTE] = set(step.history)
        if "family" in step.changed:
            values["family"] = family
        # Only if nobody changed the record since it was read.
        expected = {name: existing.get(name) for name in ("password_hash", "family")}
        table.update(entry.username, {**values, "updated_at": now_text()}, expected=expected)


def _field_values(args: argparse.Namespace, existing_window: dict[str, Any] | None = None) -> dict[str, Any]:
    """Options shared by add and update, validated, as item attributes."""
    values: dict[str, Any] = {}
    if args.client_id is not None:
        values["client_id"] = _checked(validate_client_id, args.client_id, "--client-id")
    if args.publish:
        values["extra_publish"] = [_checked(validate_topic, t, "--publish") for t in args.publish]
    if args.subscribe:
        values["extra_subscribe"] = [
            _checked(lambda v, f: validate_topic(v, f, allow_wildcards=True), t, "--subscribe") for t in args.subscribe
        ]
    if getattr(args, "cross_scope_reason", None) is not None:
        values["cross_scope_reason"] = args.cross_scope_reason.strip()
    if args.days is not None or args.hours is not None or args.time_zone is not None:
        window = dict(existing_window or {})
        if args.days is not None:
            window["days"] = [WEEKDAYS[d] for d in _checked(parse_days, args.days, "--days")]
        if args.hours is not None:
            _checked(parse_hours, args.hours, "--hours")
            window["hours"] = args.hours
        if args.time_zone is not None:
            window["time_zone"] = _checked(parse_time_zone, args.time_zone, "--time-zone")
        window.setdefault("time_zone", "UTC")
        values["access_window"] = _checked(parse_access_window, window, "access window").to_item()
    if args.valid_until is not None:
        values["valid_until"] = _checked(parse_valid_until, args.valid_until, "--valid-until").isoformat()
    return values


def _settings(args: argparse.Namespace) -> ChannelSettings:
    return load_channel_settings(getattr(args, "stack", None), getattr(args, "cwd", None))


def _refuse_overlap(settings: ChannelSettings, family: str) -> None:
    """What the authorizer would deny every device of this family for (authorizer/scopes.py)."""
    problem = family_overlap(family, settings.family_topic_prefixes, settings.thing_topic_prefix)
    if problem:
        raise ScopeOverlap(f"{problem} (settings from {settings.source})")


def _refuse_cross_scope(settings: ChannelSettings, record: DeviceRecord) -> None:
    """Extra topics outside the device's own scope need --cross-scope-reason (authorizer/scopes.py)."""
    topics = [("--publish", t) for t in record.extra_publish] + [("--subscribe", t) for t in record.extra_subscribe]
    problems = cross_scope_problems(topics, record.family, record.username, settings.family_topic_prefixes,
                                    settings.thing_topic_prefix, record.cross_scope_reason)
    if problems:
        raise UsageError(
            "; ".join(problems) + " — the authorizer grants such a topic only with a reason on the record: pass "
            f"--cross-scope-reason TEXT, or keep the topics under the device's own scope (settings from {settings.source})"
        )


def _refuse_unknown_family(settings: ChannelSettings, family: str) -> None:
    """A family the stack does not serve: no NLB listener carries its devices (deviceAccess.families)."""
    if settings.families is None or family in settings.families:
        return
    raise UsageError(
        f"--family {family!r} is not a family of {settings.source}: its deviceAccess.families are "
        f"{', '.join(settings.families)} — use one of them, or add the family (name and port) to "
        "deviceAccess.families and update the stack first"
    )


def _refuse_family(settings: ChannelSettings, family: str) -> None:
    """Everything that makes a family unusable: overlapping topic scopes (exit 1), not served (exit 2)."""
    _refuse_overlap(settings, family)
    _refuse_unknown_family(settings, family)


def _client_ids(table: CredentialTable) -> dict[str, str]:
    """Every record's client ID (its own, or its user name) -> its user name."""
    return {str(item.get("client_id") or item.get("username")): str(item.get("username")) for item in table.scan()}


def _refuse_taken_client_id(table: CredentialTable, username: str, client_id: str, region: str | None = None,
                            new_device: bool = False) -> None:
    # IoT Core disconnects the older of two connections with one client ID: a shared ID
    # would let one device knock another off. Checked by a scan, so two operators adding
    # the same ID at the same moment are not caught.
    holder = _client_ids(table).get(client_id)
    if holder is not None and holder != username:
        raise ClientIdTaken(
            f"client ID {client_id!r} belongs to device {holder!r} — client IDs are unique; choose another --client-id"
        )
    # A device moving to a certificate keeps its name; a new password device never takes a thing's.
    if client_id != username or new_device:
        # A certificate device connects as its thing name (channelctl/devices/things.py).
        exists, why = thing_exists(client_id, region)
        if exists:
            raise ClientIdTaken(
                f"client ID {client_id!r} is the name of a registered thing, which connects with it — "
                "choose another --client-id"
            )
        if exists is None:
            raise ClientIdTaken(
                f"client ID {client_id!r}: cannot ask the IoT registry whether a thing has that name ({why}) — "
                "let the operator role call iot:DescribeThing, or leave --client-id unset (the user name)"
            )


def project_scheme() -> str:
    return Scrypt(hashes.DEFAULT_SCRYPT, b"", b"").work_spec()


def _register_schemes(table: CredentialTable, settings: ChannelSettings, specs: set[str], dry_run: bool = False) -> None:
    """Add specs (and the project's scrypt) to the table's hash-scheme registry, within the ceiling."""
    current = table.hash_schemes() or set()
    wanted = current | specs | {project_scheme()}
    # A first login with a legacy hash also re-hashes it with the project's scrypt (authorizer/cost.py).
    total, rehash = connect_cost_seconds(wanted), rehash_seconds(wanted)
    ceiling = ceiling_seconds(settings.memory_size)
    if total > ceiling:
        raise HashWorkTooLarge(
            f"with {', '.join(sorted(wanted - current)) or 'these'} the table's hash schemes ({', '.join(sorted(wanted))}) "
            f"would cost about {total:.2f} s of a core per CONNECT"
            + (f" (a first legacy login's re-hash included, {rehash:.2f} s)" if rehash else "")
            + f", over the ceiling of {ceiling:.2f} s for a "
            f"{settings.memory_size} MB authorizer — re-hash the odd scheme, or run `channelctl devices hash-schemes "
            f"--refresh` once old schemes are gone (settings from {settings.source})"
        )
    if wanted != current and not dry_run:
        table.add_hash_schemes(wanted - current)


def cmd_hash_schemes(args: argparse.Namespace, table: CredentialTable) -> int:
    settings = _settings(args)
    if args.refresh:
        specs: set[str] = set()
        unusable = 0
        for item in table.scan(("username", "password_hash")):
            try:
                specs.add(parse_hash(item.get("password_hash", "")).work_spec())
            except AuthorizerError:
                unusable += 1
        specs.add(project_scheme())
        table.put_hash_schemes(specs)
        if unusable:
            print(f"{unusable} record(s) with an unusable hash left out (see `devices show`)", file=sys.stderr)
    registry = table.hash_schemes()
    if registry is None:
        print("no hash-scheme registry: the authorizer uses UNKNOWN_USER_HASH alone — run with --refresh",
              file=sys.stderr)
        return 1
    total = 0.0
    for spec in sorted(registry):
        seconds = cost_seconds(dummy_hash(spec))
        total += seconds
        print(f"{spec}\t{seconds * 1000:.1f} ms")
    rehash = rehash_seconds(registry)
    if rehash:
        # What every legacy device pays once, on its first login after the import (authorizer/cost.py).
        print(f"upgrade on login: re-hash\t{rehash * 1000:.1f} ms")
    print(f"per CONNECT: {(total + rehash) * 1000:.1f} ms of a core at most; ceiling "
          f"{ceiling_seconds(settings.memory_size) * 1000:.0f} ms ({settings.memory_size} MB, settings from {settings.source})")
    return 0


def _refuse_costly_scrypt(settings: ChannelSettings) -> None:
    """The project's own scrypt must fit the authorizer's cost ceiling (authorizer/cost.py)."""
    try:
        check_cost(Scrypt(hashes.DEFAULT_SCRYPT, b"", b""), settings.memory_size, "channelctl's scrypt")
    except AuthorizerError as err:
        raise ConfigError(f"{err} (settings from {settings.source})") from None


def _username(value: str) -> str:
    return _checked(validate_username, value, "user name")


def _checked(validator: Callable[[Any, str], Any], value: Any, option: str) -> Any:
    try:
        return validator(value, option)
    except AuthorizerError as err:
        raise UsageError(str(err)) from None


def _validated(item: dict[str, Any], check_hash: bool = True) -> DeviceRecord:
    """The whole item as the authorizer will read it; refuses what it would deny as malformed."""
    if not check_hash:
        item = {**item, "password_hash": "unchecked"}
    try:
        record = record_from_item(item)
        if check_hash:
            parse_hash(record.password_hash)
    except AuthorizerError as err:
        raise UsageError(str(err)) from None
    return record

