"""Bounded online guessing per user name.

Anyone on the internet who sends the custom domain's SNI reaches the
authorizer. Each refused guess at a known user name is counted on its record;
``MAX_FAILED_ATTEMPTS`` of them within ``LOCKOUT_SECONDS`` of the first lock
the name (the right password is refused too) until ``LOCKOUT_SECONDS`` after
the lock was written, and an operator clears it with ``channelctl devices
unlock``. A family listed in ``LOCKOUT_EXEMPT_FAMILIES`` is counted but never
locked (README, "Lockout: the trade-off").

Counting is atomic: one UpdateItem ``ADD failed_attempts :one`` (DynamoDB
developer guide, "Atomic counters": an UpdateItem increments without
interfering with other writes), so N guesses in flight at once add N. A name
is locked as soon as the count within the window reaches the threshold, even
before ``locked_until`` is written (``is_locked``), so at most
threshold - 1 + (guesses in flight) guesses are ever checked against the
password. Only the first failure of a window sets the count instead of adding
to it (a new window); if another request did that first, the condition fails
and the update is retried once as an ADD.

Every refusal after the record read makes exactly one such UpdateItem on the
name, whatever the reason: for an unknown name its condition (the record
exists) fails; for refusals that do not count (disabled, prohibited, expired,
outside the access window, a broken record) the same request carries a
condition that cannot hold. So no refusal answers a DynamoDB round trip
sooner than another (benchmarks/refusal_paths_bench.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Collection

from .records import DeviceRecord

DEFAULT_MAX_FAILED_ATTEMPTS = 10
DEFAULT_LOCKOUT_SECONDS = 900


@dataclass(frozen=True)
class FailureUpdate:
    """The one UpdateItem a refusal makes on the user name's record."""

    counts: bool  # False: the same request with a condition that cannot hold (nothing is written)
    new_window: bool  # the read shows no open window: start one at `now` (count = 1) instead of adding
    now: datetime
    window_start: datetime  # now - LOCKOUT_SECONDS: failures since then are in the current window
    lock_until: datetime | None  # written in the same request: this failure reaches the threshold


def moment(value: datetime) -> str:
    """One fixed text form for moments compared inside DynamoDB conditions (string order = time order)."""
    return value.isoformat(timespec="microseconds")


def window_open(record: DeviceRecord, now: datetime, lockout_seconds: int) -> bool:
    return record.failed_since is not None and now - record.failed_since < timedelta(seconds=lockout_seconds)


def is_locked(
    record: DeviceRecord, now: datetime, max_attempts: int, lockout_seconds: int, exempt: Collection[str] = ()
) -> bool:
    """Locked until locked_until, or from the moment the window's count reaches max_attempts."""
    if record.family in exempt:
        return False
    if record.locked_until is not None and now < record.locked_until:
        return True
    return window_open(record, now, lockout_seconds) and record.failed_attempts >= max_attempts


def next_failure(
    record: DeviceRecord | None,
    now: datetime,
    max_attempts: int,
    lockout_seconds: int,
    *,
    counts: bool = True,
    exempt: Collection[str] = (),
) -> FailureUpdate:
    """The update for one refusal, planned from the record as read (None: no record for the name)."""
    window = timedelta(seconds=lockout_seconds)
    new_window = record is None or not window_open(record, now, lockout_seconds)
    lock = None
    if counts and record is not None and record.family not in exempt:
        count = 1 if new_window else record.failed_attempts + 1
        locked_now = record.locked_until is not None and now < record.locked_until
        if count >= max_attempts and not locked_now:
            lock = now + window
    return FailureUpdate(counts, new_window, now, now - window, lock)
