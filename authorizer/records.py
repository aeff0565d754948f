"""The credentials table: one item per device, partition key ``username`` (S).

Item attributes (DynamoDB types in brackets; unknown attributes are ignored):

``username`` [S, partition key]
    The MQTT user name, 1-128 characters of ``A-Z a-z 0-9 . _ @ -``, starting
    with a letter or digit. Names with ``+ # * ? / $ { }``, spaces or ``:`` are
    refused: they would widen or break the IoT policy built from them.
``password_hash`` [S]
    ``$6$...`` or ``$7$...`` (imported from Mosquitto) or ``$scrypt$...``
    (set by channelctl); see ``authorizer.hashes``. Never a plaintext password.
``family`` [S]
    Device family; selects the topic prefix (default: the family name itself).
``enabled`` [BOOL, default true]
    ``false`` = disabled (``channelctl devices disable``).
``prohibited`` [BOOL, default false], ``prohibited_reason`` [S, optional]
    Deny list (``channelctl devices deny --reason ...``); wins over ``enabled``.
``client_id`` [S, optional]
    The only MQTT client ID the device may connect with; default: the user name.
``extra_publish`` [L of S, optional]
    Further topic names the device may publish to and receive from.
``extra_subscribe`` [L of S, optional]
    Further topic filters (``+`` and ``#`` allowed as whole levels) the device
    may subscribe to.
``cross_scope_reason`` [S, optional]
    Why the record's extra topics reach outside the device's own scope
    (``<family prefix>/<user name>/...``): another family's or device's topics,
    the certificate things', ``$aws/things/...`` or any other. Without it the
    authorizer grants only the extra topics inside the own scope
    (``authorizer.scopes``); 1-256 characters.
``access_window`` [M, optional]
    ``days`` [L of S: mon tue wed thu fri sat sun], ``hours`` [S ``HH:MM-HH:MM``,
    end exclusive, ``24:00`` allowed as end, an end before the start runs past
    midnight and belongs to the start's day], ``time_zone`` [S, IANA name,
    default ``UTC``]. Without days every day is allowed; without hours the
    whole day.
``valid_until`` [S, optional]
    ISO 8601 moment with offset (``2026-12-31T23:59:59+00:00``); no connection
    after it.
``retired_at`` [S, optional]
    ISO 8601 moment with offset: the device moved to its certificate and its password
    record was retired (``channelctl devices retire``); the authorizer refuses it. The
    record stays, so its name and client ID stay taken.
``created_at``, ``updated_at`` [S, optional]
    ISO 8601 UTC moments written by channelctl; informational.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone, tzinfo
from typing import Any, Mapping
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .errors import InvalidUsername, MalformedRecord, UnsafeResource

MAX_USERNAME_LENGTH = 128  # also the IoT client ID limit (128 bytes), as the user name is the default client ID
MAX_TOPIC_BYTES = 256  # AWS IoT Core quota: topic name / filter size
# With 256-byte topics, 16 of each still fit the 10 policy documents of 2,048 characters.
MAX_EXTRA_TOPICS = 16

_USERNAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,127}")
_CLIENT_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@:-]{0,127}")
_FAMILY = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")
_PREFIX_LEVEL = re.compile(r"[A-Za-z0-9._@-]+")
# Topic levels: no IoT policy wildcard (* ?), no MQTT wildcard (+ #), no policy
# variable (${...}), no whitespace or control characters.
_TOPIC_LEVEL = re.compile(r"[A-Za-z0-9._@:=,~-]+")
_RESERVED_FIRST_LEVEL = re.compile(r"\$[A-Za-z0-9._-]+")
_HOURS = re.compile(r"([01][0-9]|2[0-3]):([0-5][0-9])-([01][0-9]|2[0-4]):([0-5][0-9])")

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def validate_username(value: Any, field_name: str = "username") -> str:
    """Return value if it is a safe user name, else raise InvalidUsername."""
    if not isinstance(value, str) or not _USERNAME.fullmatch(value):
        raise InvalidUsername(
            f"{field_name} {_show(value)} is not allowed — use 1-{MAX_USERNAME_LENGTH} characters of "
            "A-Z a-z 0-9 . _ @ - starting with a letter or digit (wildcards, '/', '$', spaces would widen "
            "or break the device's IoT policy)"
        )
    return value


def validate_client_id(value: Any, field_name: str = "client_id") -> str:
    if not isinstance(value, str) or not _CLIENT_ID.fullmatch(value):
        raise UnsafeResource(
            f"{field_name} {_show(value)} is not allowed — use 1-128 characters of A-Z a-z 0-9 . _ @ : - "
            "starting with a letter or digit"
        )
    return value


def validate_family(value: Any, field_name: str = "family") -> str:
    if not isinstance(value, str) or not _FAMILY.fullmatch(value):
        raise MalformedRecord(
            f"{field_name} {_show(value)} is not allowed — use 1-64 characters of A-Z a-z 0-9 _ - "
            "starting with a letter or digit"
        )
    return value


def validate_topic_prefix(value: Any, field_name: str = "topic prefix") -> str:
    """A family's topic prefix: one or more plain levels, no wildcards."""
    if (
        not isinstance(value, str)
        or len(value) > 128
        or not all(_PREFIX_LEVEL.fullmatch(level) for level in value.split("/"))
    ):
        raise UnsafeResource(
            f"{field_name} {_show(value)} is not allowed — use levels of A-Z a-z 0-9 . _ @ - separated "
            "by '/', at most 128 characters, no leading or trailing '/'"
        )
    return value


def validate_topic(value: Any, field_name: str = "extra_publish", allow_wildcards: bool = False) -> str:
    """A topic name (or, with allow_wildcards, an MQTT topic filter) safe to place into an ARN."""
    problem = _topic_problem(value, allow_wildcards)
    if problem:
        kind = "topic filter" if allow_wildcards else "topic name"
        raise UnsafeResource(f"{field_name} entry {_show(value)} is not a safe {kind}: {problem}")
    return value


def _topic_problem(value: Any, allow_wildcards: bool) -> str | None:
    if not isinstance(value, str) or not value:
        return "it must be a non-empty string"
    if len(value.encode("utf-8")) > MAX_TOPIC_BYTES:
        return f"it is longer than {MAX_TOPIC_BYTES} bytes"
    levels = value.split("/")
    if levels[0] in ("+", "#"):
        # A filter opening with a wildcard reaches every device's topics.
        return "the first level must be a literal, not '+' or '#'"
    for index, level in enumerate(levels):
        if allow_wildcards and level == "+":
            continue
        if allow_wildcards and level == "#":
            if index != len(levels) - 1:
                return "'#' is only allowed as the last level"
            continue
        if index == 0 and _RESERVED_FIRST_LEVEL.fullmatch(level):
            continue
        if not _TOPIC_LEVEL.fullmatch(level):
            allowed = "A-Z a-z 0-9 . _ @ : = , ~ -" + (" or a whole '+'/'#' level" if allow_wildcards else "")
            return f"level {index + 1} ({_show(level)}) must be non-empty and use only {allowed}"
    return None


@dataclass(frozen=True)
class AccessWindow:
    """When a device may connect: weekdays and a daily time range in a time zone."""

    days: tuple[int, ...] = tuple(range(7))  # Monday = 0, as datetime.weekday()
    start: time | None = None
    end: time | None = None  # None with a start = end of day (24:00)
    time_zone: str = "UTC"

    @property
    def zone(self) -> tzinfo:
        return _zone(self.time_zone)

    def contains(self, moment: datetime) -> bool:
        return self.opening(moment)[0]

    def opening(self, moment: datetime) -> tuple[bool, datetime | None]:
        """(inside the window at moment, when that opening closes — None: never)."""
        local = moment.astimezone(self.zone)
        today = local.date()
        if self.start is None:
            if local.weekday() not in self.days:
                return False, None
            return True, self._end_of_allowed_days(today)
        end_of_day = self.end is None
        end = self.end or time(0, 0)
        if end_of_day or self.start < end:
            inside = local.weekday() in self.days and self.start <= local.time() and (end_of_day or local.time() < end)
            if not inside:
                return False, None
            return True, (self._at(today + timedelta(days=1), time(0, 0)) if end_of_day else self._at(today, end))
        # Overnight range: the part after midnight belongs to the previous day's window.
        if local.time() >= self.start and local.weekday() in self.days:
            return True, self._at(today + timedelta(days=1), end)
        if local.time() < end and (today - timedelta(days=1)).weekday() in self.days:
            return True, self._at(today, end)
        return False, None

    def _end_of_allowed_days(self, today: date) -> datetime | None:
        if len(self.days) == 7:
            return None
        day = today + timedelta(days=1)
        while day.weekday() in self.days:
            day += timedelta(days=1)
        return self._at(day, time(0, 0))

    def _at(self, day: date, clock: time) -> datetime:
        # In UTC: Python subtracts two datetimes sharing one tzinfo as wall-clock
        # times, which is wrong across a daylight-saving change.
        return datetime.combine(day, clock, tzinfo=self.zone).astimezone(timezone.utc)

    def to_item(self) -> dict[str, Any]:
        item: dict[str, Any] = {"time_zone": self.time_zone}
        if len(self.days) != 7:
            item["days"] = [WEEKDAYS[d] for d in sorted(self.days)]
        if self.start is not None:
            end = "24:00" if self.end is None else self.end.strftime("%H:%M")
            item["hours"] = f"{self.start.strftime('%H:%M')}-{end}"
        return item


def parse_access_window(value: Any, field_name: str = "access_window") -> AccessWindow:
    if not isinstance(value, Mapping):
        raise MalformedRecord(f"{field_name} must be a map with days, hours and time_zone")
    unknown = set(value) - {"days", "hours", "time_zone"}
    if unknown:
        raise MalformedRecord(f"{field_name} has unknown keys {sorted(unknown)} — allowed: days, hours, time_zone")
    days = parse_days(value.get("days"), f"{field_name}.days") if value.get("days") is not None else tuple(range(7))
    start = end = None
    if value.get("hours") is not None:
        start, end = parse_hours(value["hours"], f"{field_name}.hours")
        if start == time(0, 0) and end is None:
            start = None  # 00:00-24:00 is the whole day
    zone_name = parse_time_zone(value.get("time_zone", "UTC"), f"{field_name}.time_zone")
    return AccessWindow(days=days, start=start, end=end, time_zone=zone_name)


def parse_days(value: Any, field_name: str = "days") -> tuple[int, ...]:
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, (list, tuple)) or not items:
        raise MalformedRecord(f"{field_name} must list weekdays out of {', '.join(WEEKDAYS)}")
    days = set()
    for item in items:
        name = item.strip().lower() if isinstance(item, str) else item
        if name not in WEEKDAYS:
            raise MalformedRecord(f"{field_name} entry {_show(item)} is not a weekday — use {', '.join(WEEKDAYS)}")
        days.add(WEEKDAYS.index(name))
    return tuple(sorted(days))


def parse_hours(value: Any, field_name: str = "hours") -> tuple[time, time | None]:
    match = _HOURS.fullmatch(value) if isinstance(value, str) else None
    if not match or (match[3] == "24" and match[4] != "00"):
        raise MalformedRecord(f"{field_name} {_show(value)} must look like 08:00-18:00 (24-hour clock, end up to 24:00)")
    start = time(int(match[1]), int(match[2]))
    end = None if match[3] == "24" else time(int(match[3]), int(match[4]))
    if end == start:
        raise MalformedRecord(f"{field_name} {value!r} is empty — start and end must differ (omit hours for all day)")
    return start, end


def parse_time_zone(value: Any, field_name: str = "time_zone") -> str:
    if not isinstance(value, str) or not value:
        raise MalformedRecord(f"{field_name} {_show(value)} must be an IANA time zone name such as Europe/Berlin")
    _zone(value, field_name)
    return value


def parse_valid_until(value: Any, field_name: str = "valid_until") -> datetime:
    try:
        moment = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise MalformedRecord(
            f"{field_name} {_show(value)} must be an ISO 8601 moment with offset, e.g. 2026-12-31T23:59:59+00:00"
        )
    return moment


def _zone(name: str, field_name: str = "time_zone") -> tzinfo:
    if name == "UTC":
        # Needs no tz database, which a minimal runtime image may lack.
        return timezone.utc
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise MalformedRecord(
            f"{field_name} {_show(name)} is not a time zone this runtime knows — use an IANA name such as Europe/Berlin"
        ) from None


@dataclass(frozen=True)
class DeviceRecord:
    """One device's credentials and permissions, as stored in the table."""

    username: str
    password_hash: str
    family: str
    enabled: bool = True
    prohibited: bool = False
    prohibited_reason: str | None = None
    client_id: str | None = None
    extra_publish: tuple[str, ...] = ()
    extra_subscribe: tuple[str, ...] = ()
    cross_scope_reason: str | None = None
    access_window: AccessWindow | None = None
    valid_until: datetime | None = None
    retired_at: datetime | None = None
    created_at: str | None = None
    updated_at: str | None = None
    # Online-guessing bound, written by the authorizer (authorizer/lockout.py).
    failed_attempts: int = 0
    failed_since: datetime | None = None
    locked_until: datetime | None = None
    extra: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def expected_client_id(self) -> str:
        return self.client_id or self.username

    def to_item(self) -> dict[str, Any]:
        """The item as plain Python values (boto3's resource layer serializes them)."""
        item: dict[str, Any] = {
            "username": self.username,
            "password_hash": self.password_hash,
            "family": self.family,
            "enabled": self.enabled,
            "prohibited": self.prohibited,
        }
        optional = {
            "prohibited_reason": self.prohibited_reason,
            "client_id": self.client_id,
            "extra_publish": list(self.extra_publish) or None,
            "extra_subscribe": list(self.extra_subscribe) or None,
            "cross_scope_reason": self.cross_scope_reason,
            "access_window": self.access_window.to_item() if self.access_window else None,
            "valid_until": self.valid_until.isoformat() if self.valid_until else None,
            "retired_at": self.retired_at.isoformat() if self.retired_at else None,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
        }
        item.update({key: value for key, value in optional.items() if value is not None})
        return item


def record_from_item(item: Mapping[str, Any]) -> DeviceRecord:
    """Validate a deserialized item; raise MalformedRecord naming the attribute."""
    username = validate_username(item.get("username"))
    password_hash = item.get("password_hash")
    if not isinstance(password_hash, str) or not password_hash:
        raise MalformedRecord("password_hash is missing or not a string")
    return DeviceRecord(
        username=username,
        password_hash=password_hash,
        family=validate_family(item.get("family")),
        enabled=_bool(item, "enabled", True),
        prohibited=_bool(item, "prohibited", False),
        prohibited_reason=_optional_str(item, "prohibited_reason"),
        client_id=validate_client_id(item["client_id"]) if item.get("client_id") is not None else None,
        extra_publish=_topics(item, "extra_publish", allow_wildcards=False),
        extra_subscribe=_topics(item, "extra_subscribe", allow_wildcards=True),
        cross_scope_reason=_reason(item, "cross_scope_reason"),
        access_window=parse_access_window(item["access_window"]) if item.get("access_window") is not None else None,
        valid_until=parse_valid_until(item["valid_until"]) if item.get("valid_until") is not None else None,
        retired_at=parse_valid_until(item["retired_at"], "retired_at") if item.get("retired_at") is not None else None,
        created_at=_optional_str(item, "created_at"),
        updated_at=_optional_str(item, "updated_at"),
        failed_attempts=_count(item, "failed_attempts"),
        failed_since=parse_valid_until(item["failed_since"], "failed_since") if item.get("failed_since") else None,
        locked_until=parse_valid_until(item["locked_until"], "locked_until") if item.get("locked_until") else None,
    )


def _reason(item: Mapping[str, Any], key: str) -> str | None:
    value = _optional_str(item, key)
    if value is not None and not 1 <= len(value.strip()) <= 256:
        raise MalformedRecord(f"{key} must hold 1-256 characters")
    return value.strip() if value is not None else None


def _count(item: Mapping[str, Any], key: str) -> int:
    value = item.get(key, 0)
    # DynamoDB numbers arrive as Decimal.
    if isinstance(value, bool) or not hasattr(value, "__int__") or int(value) != value or int(value) < 0:
        raise MalformedRecord(f"{key} {_show(value)} must be a whole number")
    return int(value)


def _bool(item: Mapping[str, Any], key: str, default: bool) -> bool:
    value = item.get(key, default)
    if not isinstance(value, bool):
        raise MalformedRecord(f"{key} {_show(value)} must be a boolean")
    return value


def _optional_str(item: Mapping[str, Any], key: str) -> str | None:
    value = item.get(key)
    if value is not None and not isinstance(value, str):
        raise MalformedRecord(f"{key} {_show(value)} must be a string")
    return value


def _topics(item: Mapping[str, Any], key: str, allow_wildcards: bool) -> tuple[str, ...]:
    value = item.get(key)
    if value is None:
        return ()
    if isinstance(value, (set, frozenset)):
        value = sorted(value)
    if not isinstance(value, (list, tuple)):
        raise MalformedRecord(f"{key} must be a list of strings")
    if len(value) > MAX_EXTRA_TOPICS:
        raise MalformedRecord(f"{key} has {len(value)} entries — at most {MAX_EXTRA_TOPICS} are allowed")
    return tuple(validate_topic(topic, key, allow_wildcards) for topic in value)


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def utc_now() -> datetime:
    return datetime.now(timezone.utc)
