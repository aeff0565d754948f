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
from .cost import ceiling_seconds, cost_seconds
from .hashes import PasswordHash, Scrypt, dummy_hash, hash_password, parse_hash

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
        if any(dummy.work_spec() == project_scrypt_spec() for dummy in work):
            # Only when unknown names already cost the project's scrypt: the fleet converges on one scheme.
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
_work_cache: dict[str, tuple[float, tuple[PasswordHash, ...]]] = {}


def hash_work(settings: Settings) -> tuple[PasswordHash, ...]:
    """One dummy per hash scheme the table's records use, bounded by the cost ceiling.

    The schemes come from the table's registry (kept by channelctl, which
    always lists the project's own scrypt in it, as set-password and the
    upgrade on login write it), else from UNKNOWN_USER_HASH alone.
    """
    cached = _work_cache.get(settings.table_name)
    clock = time.monotonic()
    if cached is not None and cached[0] > clock:
        return cached[1]
    registry = get_hash_schemes(settings.table_name)
    specs = set(registry) if registry is not None else {settings.unknown_user_hash.work_spec()}  # type: ignore[union-attr]
    dummies: list[PasswordHash] = []
    total = 0.0
    for spec in sorted(specs):
        try:
            dummy = _dummy(spec)
        except AuthorizerError:
            LOG.error("hash registry: skipped an entry that is not a hash scheme spec")
            continue
        total += cost_seconds(dummy)
        dummies.append(dummy)
    ceiling = ceiling_seconds(settings.memory_mb)
    while total > ceiling and len(dummies) > 1:
        # channelctl refuses a registry over the ceiling; this bounds one written around it.
        dropped = max(dummies, key=cost_seconds)
        dummies.remove(dropped)
        total -= cost_seconds(dropped)
        LOG.error("hash registry: %s left out, the schemes together exceed the cost ceiling", dropped.work_spec())
    work = tuple(dummies)
    _work_cache[settings.table_name] = (clock + HASH_WORK_TTL_SECONDS, work)
    return work


def project_scrypt_spec() -> str:
    return Scrypt(hashes.DEFAULT_SCRYPT, b"", b"").work_spec()


@functools.lru_cache(maxsize=64)
def _dummy(spec: str) -> PasswordHash:
    return dummy_hash(spec)


def _upgrade(settings: Settings, record: Any, password: bytes, context: Any, principal: str | None) -> None:
    """Replace a legacy hash with the project's scrypt after a successful login; never fails the allow."""
    try:
        stored = parse_hash(record.password_hash)
        if stored.work_spec() == project_scrypt_spec():
            return
        remaining = getattr(context, "get_remaining_time_in_millis", None)
        if remaining is not None and remaining() < UPGRADE_MIN_REMAINING_MS:
            return
        done = upgrade_hash(settings.table_name, record.username, record.password_hash,
                            hash_password(password, hashes.DEFAULT_SCRYPT, cut_at_nul=getattr(stored, "cut_at_nul", True)),
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

