"""Bounded online guessing per user name.

Anyone on the internet who sends the custom domain's SNI reaches the
authorizer. Each wrong password for a known user name is counted on its
record; ``MAX_FAILED_ATTEMPTS`` of them within ``LOCKOUT_SECONDS`` lock the
name for ``LOCKOUT_SECONDS`` (the right password is refused too), and an
operator clears it with ``channelctl devices unlock``. The count is written
with one conditional UpdateItem per failure, for unknown names too (its
condition, that the record exists, then fails): a known and an unknown name
cost the same round trip, so the write does not enumerate user names.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from .records import DeviceRecord

DEFAULT_MAX_FAILED_ATTEMPTS = 10
DEFAULT_LOCKOUT_SECONDS = 900


@dataclass(frozen=True)
class FailureUpdate:
    """What one more wrong password writes: the new count, its window start, a lock if reached."""

    failed_attempts: int
    failed_since: datetime
    locked_until: datetime | None
    expected_attempts: int  # the count read, for the conditional write


def is_locked(record: DeviceRecord, now: datetime) -> bool:
    return record.locked_until is not None and now < record.locked_until


def next_failure(record: DeviceRecord | None, now: datetime, max_attempts: int, lockout_seconds: int) -> FailureUpdate:
    window = timedelta(seconds=lockout_seconds)
    if record is None or record.failed_since is None or now - record.failed_since >= window:
        count, since = 1, now
    else:
        count, since = record.failed_attempts + 1, record.failed_since
    locked = now + window if count >= max_attempts else None
    return FailureUpdate(count, since, locked, record.failed_attempts if record is not None else 0)
