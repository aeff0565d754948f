"""The function's settings, read from its environment variables.

``CREDENTIALS_TABLE``         (required) DynamoDB table name.
``DATA_ENDPOINT_IDS``         (required) comma-separated iot.data VPC endpoint IDs; Connect is
                              allowed only through these (``aws:SourceVpce``).
``IOT_REGION``                region in the policies' ARNs; default ``AWS_REGION`` (set by Lambda).
``IOT_ACCOUNT_ID``            account in the policies' ARNs; default: the function's own account,
                              from the invoked function ARN.
``DISCONNECT_AFTER_SECONDS``  connection lifetime, 300-86400, default 86400.
``REFRESH_AFTER_SECONDS``     policy cache lifetime, 300-86400, default 900.
``FAMILY_TOPIC_PREFIXES``     JSON object family -> topic prefix, e.g. ``{"meters": "plant1/meters"}``;
                              a family not listed uses its own name as prefix.
``THING_TOPIC_PREFIX``        the certificate devices' topic prefix (``thingTopicPrefix``), default
                              ``things``; no family's prefix may overlap it (``authorizer.scopes``).
``AWS_LAMBDA_FUNCTION_MEMORY_SIZE`` set by Lambda: the function's memory in MB, which sets its CPU
                              share and so the hash cost ceiling (``authorizer.cost``); default 1024.
``MAX_FAILED_ATTEMPTS``       wrong passwords within LOCKOUT_SECONDS that lock a user name, default 10.
``LOCKOUT_SECONDS``           the counting window and the lock's length, 60-86400, default 900.
``LOCKOUT_EXEMPT_FAMILIES``   comma-separated families whose names are counted but never locked
                              (authorizer.lockoutExemptFamilies; README, "Lockout: the trade-off").
``MIGRATING_FAMILIES``        comma-separated families moving to certificates: their devices may also use the
                              claim template's provisioning topics (``authorizer.migration``).
``PROVISIONING_TEMPLATE``     the claim template's name; required when MIGRATING_FAMILIES lists a family.
``UNKNOWN_USER_HASH``         the hash work spent on an unknown user name when the table has no
                              hash-scheme registry (``authorizer.store.HASH_SCHEMES_KEY``):
                              ``scrypt`` (default), ``scrypt:ln=15,r=8,p=1``, ``mosquitto-sha512``,
                              ``mosquitto-pbkdf2[:<iterations>]``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Mapping

from .cost import DEFAULT_MEMORY_MB, LAMBDA_MEMORY_RANGE_MB, check_cost
from .errors import AuthorizerError, SettingsError
from .lockout import DEFAULT_LOCKOUT_SECONDS, DEFAULT_MAX_FAILED_ATTEMPTS
from .migration import load_migration
from .hashes import PasswordHash, dummy_hash
from .records import validate_family, validate_topic_prefix
from .scopes import configuration_overlaps

# IoT Core custom-authorizer response limits (IoT developer guide, "Defining your Lambda function").
MIN_SESSION_SECONDS = 300
MAX_SESSION_SECONDS = 86_400
DEFAULT_DISCONNECT_AFTER_SECONDS = 86_400
DEFAULT_REFRESH_AFTER_SECONDS = 900  # components/config/: authorizer.refreshAfterSeconds
DEFAULT_THING_TOPIC_PREFIX = "things"  # thingTopicPrefix's default in components/config/

_VPCE_ID = re.compile(r"vpce-[0-9a-f]{8,17}")
_REGION = re.compile(r"[a-z]{2}(-[a-z]+)+-[0-9]{1,2}")
_ACCOUNT = re.compile(r"[0-9]{12}")
_FUNCTION_ARN = re.compile(r"arn:[a-z-]+:lambda:[a-z0-9-]+:([0-9]{12}):function:.+")
_TABLE = re.compile(r"[A-Za-z0-9_.-]{3,255}")


@dataclass(frozen=True)
class Settings:
    table_name: str
    data_endpoint_ids: tuple[str, ...]
    region: str
    account_id: str
    disconnect_after_seconds: int = DEFAULT_DISCONNECT_AFTER_SECONDS
    refresh_after_seconds: int = DEFAULT_REFRESH_AFTER_SECONDS
    family_topic_prefixes: Mapping[str, str] = field(default_factory=dict)
    unknown_user_hash: PasswordHash | None = None
    thing_topic_prefix: str = DEFAULT_THING_TOPIC_PREFIX
    memory_mb: int = DEFAULT_MEMORY_MB
    max_failed_attempts: int = DEFAULT_MAX_FAILED_ATTEMPTS
    lockout_seconds: int = DEFAULT_LOCKOUT_SECONDS
    lockout_exempt_families: frozenset[str] = frozenset()
    migrating_families: frozenset[str] = frozenset()
    provisioning_template: str = ""

    @property
    def partition(self) -> str:
        if self.region.startswith("cn-"):
            return "aws-cn"
        if self.region.startswith("us-gov-"):
            return "aws-us-gov"
        return "aws"

    def iot_arn(self, resource: str) -> str:
        return f"arn:{self.partition}:iot:{self.region}:{self.account_id}:{resource}"

    def topic_prefix(self, family: str) -> str:
        return self.family_topic_prefixes.get(family, family)


def load_settings(environ: Mapping[str, str], function_arn: str | None = None) -> Settings:
    """Read and validate the settings; raise SettingsError naming the variable."""
    prefixes = _prefixes(environ)
    thing_prefix = _thing_prefix(environ)
    memory = _memory(environ)
    migrating, template = load_migration(environ)
    overlaps = configuration_overlaps(prefixes, thing_prefix)
    if overlaps:
        raise SettingsError(
            f"FAMILY_TOPIC_PREFIXES and THING_TOPIC_PREFIX overlap: {'; '.join(overlaps)} — "
            "give every family a prefix apart from the others and from the things'"
        )
    return Settings(
        table_name=_table(environ),
        data_endpoint_ids=_endpoint_ids(environ),
        region=_region(environ),
        account_id=_account(environ, function_arn),
        disconnect_after_seconds=_seconds(environ, "DISCONNECT_AFTER_SECONDS", DEFAULT_DISCONNECT_AFTER_SECONDS),
        refresh_after_seconds=_seconds(environ, "REFRESH_AFTER_SECONDS", DEFAULT_REFRESH_AFTER_SECONDS),
        family_topic_prefixes=prefixes,
        unknown_user_hash=_unknown_user_hash(environ, memory),
        thing_topic_prefix=thing_prefix,
        memory_mb=memory,
        max_failed_attempts=_whole(environ, "MAX_FAILED_ATTEMPTS", DEFAULT_MAX_FAILED_ATTEMPTS, 1, 1000),
        lockout_seconds=_whole(environ, "LOCKOUT_SECONDS", DEFAULT_LOCKOUT_SECONDS, 60, 86_400),
        lockout_exempt_families=_exempt_families(environ),
        migrating_families=migrating,
        provisioning_template=template,
    )


def _exempt_families(environ: Mapping[str, str]) -> frozenset[str]:
    raw = environ.get("LOCKOUT_EXEMPT_FAMILIES") or ""
    try:
        return frozenset(
            validate_family(part.strip(), "LOCKOUT_EXEMPT_FAMILIES family") for part in raw.split(",") if part.strip()
        )
    except AuthorizerError as err:
        raise SettingsError(f"{err} — list family names, comma-separated, e.g. meters,valves") from None


def _table(environ: Mapping[str, str]) -> str:
    value = environ.get("CREDENTIALS_TABLE", "")
    if not _TABLE.fullmatch(value):
        raise SettingsError(
            f"CREDENTIALS_TABLE {value!r} is not a DynamoDB table name — set it to the credentials table's name"
        )
    return value


def _endpoint_ids(environ: Mapping[str, str]) -> tuple[str, ...]:
    raw = environ.get("DATA_ENDPOINT_IDS", "")
    ids = tuple(part.strip() for part in raw.split(",") if part.strip())
    bad = [part for part in ids if not _VPCE_ID.fullmatch(part)]
    if not ids or bad:
        raise SettingsError(
            f"DATA_ENDPOINT_IDS {raw!r} must list the iot.data VPC endpoint IDs, comma-separated "
            f"(vpce-0123456789abcdef0){'; not endpoint IDs: ' + ', '.join(map(repr, bad)) if bad else ''}"
        )
    return ids


def _region(environ: Mapping[str, str]) -> str:
    key = "IOT_REGION" if environ.get("IOT_REGION") else "AWS_REGION"
    value = environ.get(key, "")
    if not _REGION.fullmatch(value):
        raise SettingsError(f"{key} {value!r} is not an AWS region — set IOT_REGION, e.g. eu-central-1")
    return value


def _account(environ: Mapping[str, str], function_arn: str | None) -> str:
    value = environ.get("IOT_ACCOUNT_ID")
    if value is not None:
        if not _ACCOUNT.fullmatch(value):
            raise SettingsError(f"IOT_ACCOUNT_ID {value!r} must be a 12-digit AWS account ID")
        return value
    match = _FUNCTION_ARN.fullmatch(function_arn or "")
    if not match:
        raise SettingsError(
            "IOT_ACCOUNT_ID is not set and the account cannot be read from the invoked function ARN — "
            "set IOT_ACCOUNT_ID to the IoT account's 12-digit ID"
        )
    return match[1]


def _seconds(environ: Mapping[str, str], key: str, default: int) -> int:
    raw = environ.get(key)
    if raw is None or raw == "":
        return default
    if not (raw.isascii() and raw.strip().isdigit()) or not MIN_SESSION_SECONDS <= int(raw) <= MAX_SESSION_SECONDS:
        raise SettingsError(
            f"{key} {raw!r} must be a whole number of seconds from {MIN_SESSION_SECONDS} to {MAX_SESSION_SECONDS}"
        )
    return int(raw)


def _prefixes(environ: Mapping[str, str]) -> dict[str, str]:
    raw = environ.get("FAMILY_TOPIC_PREFIXES")
    if not raw:
        return {}
    try:
        value = json.loads(raw)
    except ValueError:
        value = None
    if not isinstance(value, dict):
        raise SettingsError(
            f"FAMILY_TOPIC_PREFIXES {raw[:80]!r} must be a JSON object of family -> prefix, "
            'e.g. {"meters": "plant1/meters"}'
        )
    try:
        return {
            validate_family(family, "FAMILY_TOPIC_PREFIXES family"): validate_topic_prefix(
                prefix, f"FAMILY_TOPIC_PREFIXES[{family!r}]"
            )
            for family, prefix in value.items()
        }
    except AuthorizerError as err:
        raise SettingsError(str(err)) from None


def _thing_prefix(environ: Mapping[str, str]) -> str:
    value = environ.get("THING_TOPIC_PREFIX") or DEFAULT_THING_TOPIC_PREFIX
    try:
        return validate_topic_prefix(value, "THING_TOPIC_PREFIX")
    except AuthorizerError as err:
        raise SettingsError(str(err)) from None


def _whole(environ: Mapping[str, str], key: str, default: int, low: int, high: int) -> int:
    raw = environ.get(key)
    if not raw:
        return default
    if not (raw.isascii() and raw.isdigit()) or not low <= int(raw) <= high:
        raise SettingsError(f"{key} {raw!r} must be a whole number from {low} to {high}")
    return int(raw)


def _memory(environ: Mapping[str, str]) -> int:
    raw = environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")
    if not raw:
        return DEFAULT_MEMORY_MB
    low, high = LAMBDA_MEMORY_RANGE_MB
    if not (raw.isascii() and raw.isdigit()) or not low <= int(raw) <= high:
        raise SettingsError(f"AWS_LAMBDA_FUNCTION_MEMORY_SIZE {raw!r} is not a Lambda memory size ({low}-{high} MB)")
    return int(raw)


def _unknown_user_hash(environ: Mapping[str, str], memory_mb: int) -> PasswordHash:
    spec = environ.get("UNKNOWN_USER_HASH") or "scrypt"
    try:
        dummy = dummy_hash(spec)
        check_cost(dummy, memory_mb, "UNKNOWN_USER_HASH")
        return dummy
    except AuthorizerError as err:
        raise SettingsError(f"UNKNOWN_USER_HASH: {err}") from None
