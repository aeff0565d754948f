"""The pure decision: who may connect, and with which policy.

No I/O: the handler reads the record and the clock and passes them in. Every
refusal is an exception from ``authorizer.errors``; only an allowed connection
returns. The password is checked first and always against some hash (the
record's or the unknown-user dummy), so an unknown or refused name costs the
same hash work as a known one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from .errors import (
    AuthorizerError,
    ClientIdMismatch,
    CredentialExpired,
    DeviceDisabled,
    LockedOut,
    DeviceProhibited,
    DeviceRetired,
    MalformedRecord,
    MissingPassword,
    OutsideAccessWindow,
    UnknownDevice,
    WrongPassword,
)
from .event import ConnectRequest
from .cost import check_cost
from .hashes import PasswordHash, dummy_hash, parse_hash, verify_password
from .lockout import is_locked
from .policy import build_policy_documents
from .principal import principal_id
from .records import DeviceRecord
from .settings import MIN_SESSION_SECONDS, Settings


@dataclass(frozen=True)
class Allow:
    principal_id: str
    policy_documents: tuple[str, ...]
    disconnect_after_seconds: int
    refresh_after_seconds: int


def decide(
    request: ConnectRequest,
    record: DeviceRecord | None,
    settings: Settings,
    now: datetime,
    work: tuple[PasswordHash, ...] | None = None,
) -> Allow:
    """work: one dummy per hash scheme the table holds (see verify_with_equal_work); without
    it, one verification against the record's hash or the unknown-user dummy."""
    stored, record_error = _stored_hash(record, settings)
    if work:
        matches = verify_with_equal_work(request.password or b"", stored, work)
    else:
        dummy = settings.unknown_user_hash or dummy_hash("scrypt")
        matches = verify_password(request.password or b"", stored or dummy)

    if record is None:
        raise UnknownDevice("no record for this user name")
    if record_error is not None:
        raise record_error
    if record.username != request.username:
        raise MalformedRecord("the record's username differs from its key")
    if is_locked(record, now, settings.max_failed_attempts, settings.lockout_seconds, settings.lockout_exempt_families):
        # Even the right password: a guesser learns nothing from the lock.
        raise LockedOut("too many wrong passwords lately")
    if request.password is None:
        raise MissingPassword("the CONNECT carried no password")
    if not matches:
        raise WrongPassword("password does not match")
    if record.prohibited:
        raise DeviceProhibited("device is on the deny list")
    if record.retired_at is not None:
        # Moved to its certificate (channelctl devices retire): the password is no way in any more.
        raise DeviceRetired("the password record is retired")
    if not record.enabled:
        raise DeviceDisabled("device is disabled")
    if record.valid_until is not None and now >= record.valid_until:
        raise CredentialExpired("valid_until has passed")
    window_closes = None
    if record.access_window is not None:
        inside, window_closes = record.access_window.opening(now)
        if not inside:
            raise OutsideAccessWindow("outside the device's access window")
    if request.client_id != record.expected_client_id:
        raise ClientIdMismatch("client ID is missing or not the device's own")

    disconnect = _disconnect_after(settings.disconnect_after_seconds, now, record.valid_until, window_closes)
    return Allow(
        principal_id=principal_id(record.username),
        policy_documents=build_policy_documents(record, settings),
        disconnect_after_seconds=disconnect,
        refresh_after_seconds=min(settings.refresh_after_seconds, disconnect),
    )


def verify_with_equal_work(password: bytes, stored: PasswordHash | None, work: tuple[PasswordHash, ...]) -> bool:
    """Verify against stored, doing one verification per hash in work whoever asks.

    The stored hash takes the place of the dummy of its own scheme and cost, so
    a known name of any scheme in work, an unknown name (stored None) and a
    refused record all cost one verification of each. A stored hash of a
    scheme not in work is verified on top (a record written around
    channelctl): that costs more, and the handler logs it.
    """
    matched = False
    spec = stored.work_spec() if stored is not None else None
    used = False
    for dummy in work:
        if not used and dummy.work_spec() == spec:
            matched = verify_password(password, stored)  # type: ignore[arg-type]
            used = True
        else:
            verify_password(password, dummy)
    if stored is not None and not used:
        matched = verify_password(password, stored)
    return matched


def _stored_hash(
    record: DeviceRecord | None, settings: Settings
) -> tuple[PasswordHash | None, AuthorizerError | None]:
    if record is None:
        return None, None
    try:
        stored = parse_hash(record.password_hash)
        # Import and set-password refuse such hashes; this holds for records written any other way.
        check_cost(stored, settings.memory_mb)
        return stored, None
    except AuthorizerError as err:
        return None, err


def _disconnect_after(configured: int, now: datetime, *deadlines: datetime | None) -> int:
    """The configured lifetime, cut at the earliest deadline.

    IoT Core accepts no less than 300 s, so a connection made in the last
    five minutes before a deadline may outlive it by up to that much.
    """
    seconds = configured
    for deadline in deadlines:
        if deadline is not None:
            seconds = min(seconds, int((deadline - now).total_seconds()))
    return max(MIN_SESSION_SECONDS, seconds)
