"""Lambda entry point of the IoT Core custom authorizer: parse -> decide -> respond.

Any failure becomes ``isAuthenticated: false``; nothing raises out of here.
Log lines carry the deny reason, the principal id of a known device and the
connection id — never the event, a password, a hash or an unknown user name.
"""

from __future__ import annotations

import functools
import logging
import os
from typing import Any

from .decision import decide
from .errors import (
    AuthorizerError,
    CredentialStoreUnavailable,
    HashFormatError,
    InvalidResponse,
    MalformedRecord,
    PolicyTooLarge,
    SettingsError,
    UnsafeResource,
)
from .event import AuthorizerEvent, parse_request
from .metrics import ALLOW, record_decision
from .principal import principal_id
from .records import utc_now
from .response import allow_response, deny_response
from .settings import Settings, load_settings
from .store import get_record

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


def handler(event: Any, context: Any) -> dict[str, Any]:
    principal = None
    connection = None
    try:
        settings = current_settings(getattr(context, "invoked_function_arn", None))
        parsed = AuthorizerEvent(event)
        connection = parsed.connection_id
        request = parse_request(parsed)
        record = get_record(settings.table_name, request.username)
        if record is not None:
            # Only for known devices: an unknown "user name" may be a password typed into the wrong field.
            principal = principal_id(request.username)
        allow = decide(request, record, settings, utc_now())
        response = allow_response(
            allow.principal_id, allow.policy_documents, allow.disconnect_after_seconds, allow.refresh_after_seconds
        )
        LOG.info("allow principal=%s connection=%s", principal, _short(connection))
        record_decision(ALLOW)
        return response
    except AuthorizerError as err:
        detail = f" detail={err}" if isinstance(err, _OPERATOR_ERRORS) else ""
        level = logging.ERROR if isinstance(err, _OPERATOR_ERRORS) else logging.INFO
        LOG.log(level, "deny reason=%s principal=%s connection=%s%s",
                type(err).__name__, principal, _short(connection), detail)
        record_decision(type(err).__name__)
    except Exception as err:  # noqa: BLE001 — the boundary: deny, never raise
        # Only the type and place: an unexpected message might quote event data.
        frame = err.__traceback__
        while frame is not None and frame.tb_next is not None:
            frame = frame.tb_next
        where = f"{os.path.basename(frame.tb_frame.f_code.co_filename)}:{frame.tb_lineno}" if frame else "?"
        LOG.error("deny reason=unexpected error=%s at=%s principal=%s connection=%s",
                  type(err).__name__, where, principal, _short(connection))
        record_decision("Unexpected")
    return deny_response(principal)


def current_settings(function_arn: str | None) -> Settings:
    env = tuple((key, os.environ.get(key)) for key in SETTINGS_KEYS)
    return _settings(env, function_arn)


@functools.lru_cache(maxsize=8)
def _settings(env: tuple[tuple[str, str | None], ...], function_arn: str | None) -> Settings:
    # Cached per container: the unknown-user dummy hash is made once, not per CONNECT.
    return load_settings({key: value for key, value in env if value is not None}, function_arn)


def _short(value: str | None) -> str | None:
    return value[:64] if value else value
