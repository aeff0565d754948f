"""Lambda entry point of the IoT Core custom authorizer: parse -> decide -> respond.

Any failure becomes ``isAuthenticated: false``; nothing raises out of here.
Log lines carry the deny reason, the principal id of a known device and the
connection id — never the event, a password, a hash or an unknown user name.
"""

from __future__ import annotations

import functools
import logging
import os
import time
from typing import Any

from . import hashes
from .cost import plan_hash_work, upgrade_target
from .cost import project_scrypt_spec as cost_project_scrypt_spec
from .hashes import PasswordHash, dummy_hash, hash_password, parse_hash

from .decision import decide
from .errors import (
    AuthorizerError,
    ClientIdMismatch,
    LockedOut,
    MissingPassword,
    UnknownDevice,
    WrongPassword,
    CredentialStoreUnavailable,
    HashFormatError,
    InvalidResponse,
    MalformedRecord,
    PolicyTooLarge,
    SettingsError,
    UnsafeResource,
)
from .event import AuthorizerEvent, parse_request
from .metrics import ALLOW, record_decision, record_lockout
from .principal import principal_id
from .records import utc_now
from .response import allow_response, deny_response
from .settings import Settings, load_settings
from .lockout import next_failure
from .migration import record_password_login
from .logfields import field
from .store import clear_failures, get_hash_schemes, get_record, record_failure, upgrade_hash

LOG = logging.getLogger("authorizer")
# Lambda's log-level control sets AWS_LAMBDA_LOG_LEVEL; allows are logged at INFO.
LOG.setLevel(os.environ.get("AWS_LAMBDA_LOG_LEVEL", "INFO").upper())
# botocore logs request and response bodies at DEBUG: the user name and the stored hash.
for _name in ("boto3", "botocore", "urllib3"):
    logging.getLogger(_name).setLevel(logging.WARNING)

SETTINGS_KEYS = (
    "CREDENTIALS_TABLE",
    "DATA_ENDPOINT_IDS",
    "IOT_REGION",
    "AWS_REGION",
    "IOT_ACCOUNT_ID",
    "DISCONNECT_AFTER_SECONDS",
    "REFRESH_AFTER_SECONDS",
    "FAMILY_TOPIC_PREFIXES",
    "THING_TOPIC_PREFIX",
    "UNKNOWN_USER_HASH",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
    "MAX_FAILED_ATTEMPTS",
    "LOCKOUT_SECONDS",
    "LOCKOUT_EXEMPT_FAMILIES",
    "MIGRATING_FAMILIES",
    "PROVISIONING_TEMPLATE",
)
# Failures an operator must fix; their messages hold settings or record fields, never secrets.
_OPERATOR_ERRORS = (
    SettingsError,
    CredentialStoreUnavailable,
    MalformedRecord,
    HashFormatError,
    UnsafeResource,
    PolicyTooLarge,
    InvalidResponse,
)


# Refusals that count against the user name (authorizer/lockout.py): a guess at the password,
# and the right password used with a client ID that is not the device's own. The others
# (disabled, prohibited, expired, outside the window, a broken record) are operator states a
# device keeps retrying into: they send the same UpdateItem, which writes nothing.
_GUESSES = (WrongPassword, UnknownDevice, MissingPassword, LockedOut, ClientIdMismatch)


def handler(event: Any, context: Any) -> dict[str, Any]:
    principal = None
    connection = None
    settings = request = record = None
    read = False
    now = utc_now()
    try:
        settings = current_settings(getattr(context, "invoked_function_arn", None))
        parsed = AuthorizerEvent(event)
        connection = parsed.connection_id
        request = parse_request(parsed)
        record = get_record(settings.table_name, request.username)
        read = True
        if record is not None:
            # Only for known devices: an unknown "user name" may be a password typed into the wrong field.
            principal = principal_id(request.username)
        work = hash_work(settings)
        allow = decide(request, record, settings, now, work)
        response = allow_response(
            allow.principal_id, allow.policy_documents, allow.disconnect_after_seconds, allow.refresh_after_seconds
        )
        LOG.info("allow principal=%s connection=%s", principal, field(connection))
        record_decision(ALLOW)
        if record.failed_attempts or record.locked_until is not None:  # type: ignore[union-attr]
            _safely("clear failures", principal, clear_failures, settings.table_name, request.username)
        if record.family in settings.migrating_families:  # type: ignore[union-attr]
            # How `channelctl devices migration` tells a certificate session from a password one.
            _safely("record password login", principal, record_password_login, settings.table_name,
                    request.username, now)
        if upgrades_on_login(settings):
            # Unknown names already cost the project's scrypt: the fleet converges on one scheme.
            _upgrade(settings, record, request.password, context, principal)  # type: ignore[arg-type]
        return response
    except AuthorizerError as err:
        detail = f" detail={field(str(err), limit=512)}" if isinstance(err, _OPERATOR_ERRORS) else ""
        level = logging.ERROR if isinstance(err, _OPERATOR_ERRORS) else logging.INFO
        LOG.log(level, "deny reason=%s principal=%s connection=%s%s",
                type(err).__name__, principal, field(connection), detail)
        record_decision(type(err).__name__)
        if read:
            _count_refusal(settings, request, record, now, isinstance(err, _GUESSES), principal)  # type: ignore[arg-type]
    except Exception as err:  # noqa: BLE001 — the boundary: deny, never raise
        # Only the type and place: an unexpected message might quote event data.
        frame = err.__traceback__
        while frame is not None and frame.tb_next is not None:
            frame = frame.tb_next
        where = f"{os.path.basename(frame.tb_frame.f_code.co_filename)}:{frame.tb_lineno}" if frame else "?"
        LOG.error("deny reason=unexpected error=%s at=%s principal=%s connection=%s",
                  type(err).__name__, field(where), principal, field(connection))
        record_decision("Unexpected")
    # One response shape for every refusal: the principal of a known name would tell it apart.
    return deny_response()


def _safely(what: str, principal: str | None, operation: Any, *args: Any) -> Any:
    try:
        return operation(*args)
    except Exception as err:  # noqa: BLE001 — bookkeeping never changes the decision
        LOG.error("%s principal=%s failed error=%s", what, principal, type(err).__name__)
        return None


def _count_refusal(settings: Settings, request: Any, record: Any, now: Any, counts: bool, principal: str | None) -> None:
    """The refusal's one UpdateItem on the name (authorizer/lockout.py); a lock it writes raises the alarm."""
    update = next_failure(record, now, settings.max_failed_attempts, settings.lockout_seconds,
                          counts=counts, exempt=settings.lockout_exempt_families)
    counted = _safely("count failure", principal, record_failure, settings.table_name, request.username, update,
                      record is not None)
    if counted and update.lock_until is not None:
        # A lock is only ever written on an existing record: its name is a device's, not a typo'd secret.
        LOG.warning("lockout user=%s principal=%s until=%s", field(request.username), principal,
                    update.lock_until.isoformat(timespec="seconds"))
        record_lockout(request.username)


# The registry of the table's hash schemes is read at most once a minute per container.
HASH_WORK_TTL_SECONDS = 60
# The upgrade hashes once more: only with this much of the 5 s left.
UPGRADE_MIN_REMAINING_MS = 2_500
_work_cache: dict[str, tuple[float, tuple[PasswordHash, ...], bool]] = {}


def hash_work(settings: Settings) -> tuple[PasswordHash, ...]:
    """One dummy per hash scheme the table's records can hold, bounded by the cost ceiling.

    The schemes come from the table's registry (kept by channelctl), else from
    UNKNOWN_USER_HASH; the project's scrypt is always among them
    (``authorizer.cost.plan_hash_work``). A registry that cannot be read as one
    falls back like a missing one instead of refusing every device.
    """
    return _hash_work_plan(settings)[0]


def upgrades_on_login(settings: Settings) -> bool:
    """Whether a login may re-hash a legacy hash: only when the re-hash fits the ceiling too."""
    return _hash_work_plan(settings)[1]


def _hash_work_plan(settings: Settings) -> tuple[tuple[PasswordHash, ...], bool]:
    cached = _work_cache.get(settings.table_name)
    clock = time.monotonic()
    if cached is not None and cached[0] > clock:
        return cached[1], cached[2]
    try:
        registry = get_hash_schemes(settings.table_name)
    except MalformedRecord:
        LOG.error("hash registry: not a string set of schemes; using UNKNOWN_USER_HASH and the project's scrypt")
        registry = None
    plan = plan_hash_work(registry, settings.unknown_user_hash.work_spec(), settings.memory_mb)  # type: ignore[union-attr]
    for problem in plan.problems:
        # Specs come from a fixed grammar (dummy_hash), so they hold no secret.
        LOG.error("hash registry: %s", problem)
    work = tuple(_dummy(spec) for spec in plan.specs)
    _work_cache[settings.table_name] = (clock + HASH_WORK_TTL_SECONDS, work, plan.upgrade)
    return work, plan.upgrade


def project_scrypt_spec() -> str:
    return cost_project_scrypt_spec()


@functools.lru_cache(maxsize=64)
def _dummy(spec: str) -> PasswordHash:
    return dummy_hash(spec)


def _upgrade(settings: Settings, record: Any, password: bytes, context: Any, principal: str | None) -> None:
    """Replace a legacy hash with the project's scrypt after a successful login; never fails the allow."""
    try:
        stored = parse_hash(record.password_hash)
        target = upgrade_target(stored)
        if target is None:
            # Already the project's scrypt, or a costlier one: never lower a hash's cost.
            return
        remaining = getattr(context, "get_remaining_time_in_millis", None)
        if remaining is not None and remaining() < UPGRADE_MIN_REMAINING_MS:
            return
        done = upgrade_hash(settings.table_name, record.username, record.password_hash,
                            hash_password(password, target, cut_at_nul=getattr(stored, "cut_at_nul", True)),
                            utc_now().replace(microsecond=0).isoformat())
        LOG.info("upgrade principal=%s from=%s result=%s", principal, stored.scheme, "done" if done else "changed")
    except Exception as err:  # noqa: BLE001 — the device is allowed either way
        LOG.error("upgrade principal=%s failed error=%s", principal, type(err).__name__)


def current_settings(function_arn: str | None) -> Settings:
    env = tuple((key, os.environ.get(key)) for key in SETTINGS_KEYS)
    return _settings(env, function_arn)


@functools.lru_cache(maxsize=8)
def _settings(env: tuple[tuple[str, str | None], ...], function_arn: str | None) -> Settings:
    # Cached per container: the unknown-user dummy hash is made once, not per CONNECT.
    return load_settings({key: value for key, value in env if value is not None}, function_arn)

