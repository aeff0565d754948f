"""The record schema: names that are safe in ARNs, access windows, item validation."""

from __future__ import annotations

from datetime import datetime, time, timezone
from zoneinfo import ZoneInfo

import pytest

from authorizer.errors import InvalidUsername, MalformedRecord, UnsafeResource
from authorizer.records import (
    AccessWindow,
    DeviceRecord,
    parse_access_window,
    parse_hours,
    parse_valid_until,
    record_from_item,
    validate_client_id,
    validate_topic,
    validate_topic_prefix,
    validate_username,
)

GOOD_HASH = "$6$" + "A" * 16 + "$" + "A" * 86 + "=="


@pytest.mark.parametrize("name", ["meter-0001", "a", "Plant1.Line2_meter@site", "x" * 128, "0abc"])
def test_safe_user_names_are_accepted(name):
    assert validate_username(name) == name


@pytest.mark.parametrize(
    "name",
    ["", "x" * 129, "a/b", "a+", "a#", "a*", "a?", "${iot:ClientId}", "a${x}", "a b", "a:b", "-lead", ".dot",
     "ünï", "a\nb", "a\x00", None, 42],
)
def test_user_names_that_could_widen_or_break_a_policy_are_refused(name):
    with pytest.raises(InvalidUsername, match="not allowed"):
        validate_username(name)


def test_client_ids_allow_colons_but_no_wildcards():
    assert validate_client_id("thing:meter-1") == "thing:meter-1"
    for bad in ("thing/*", "a+b", "${iot:ClientId}", "", "x" * 129):
        with pytest.raises(UnsafeResource):
            validate_client_id(bad)


@pytest.mark.parametrize("prefix", ["meters", "plant1/meters", "a.b/c-d"])
def test_topic_prefixes_with_plain_levels_pass(prefix):
    assert validate_topic_prefix(prefix) == prefix


@pytest.mark.parametrize("prefix", ["", "/meters", "meters/", "a//b", "a/*", "a/+", "a/#", "${x}", "a b"])
def test_topic_prefixes_with_wildcards_or_empty_levels_fail(prefix):
    with pytest.raises(UnsafeResource):
        validate_topic_prefix(prefix)


@pytest.mark.parametrize("topic", ["fleet/broadcast", "$aws/things/meter-0001/shadow/update", "a=b,c~d:e"])
def test_topic_names_pass(topic):
    assert validate_topic(topic) == topic


@pytest.mark.parametrize(
    ("topic", "reason"),
    [
        ("fleet/*", "level 2"),
        ("fleet/?", "level 2"),
        ("fleet/+", "level 2"),
        ("fleet/#", "level 2"),
        ("fleet/${iot:ClientId}", "level 2"),
        ("a/$aws", "level 2"),
        ("a//b", "level 2"),
        ("x" * 257, "longer than 256"),
        ("", "non-empty"),
    ],
)
def test_topic_names_with_wildcards_variables_or_empty_levels_fail(topic, reason):
    with pytest.raises(UnsafeResource, match=reason):
        validate_topic(topic)


@pytest.mark.parametrize("topic_filter", ["fleet/+/status", "fleet/commands/#", "$aws/things/x/shadow/+"])
def test_topic_filters_allow_whole_level_mqtt_wildcards(topic_filter):
    assert validate_topic(topic_filter, allow_wildcards=True) == topic_filter


@pytest.mark.parametrize(
    ("topic_filter", "reason"),
    [("#", "first level"), ("+/status", "first level"), ("a/#/b", "last level"), ("a/b+", "level 2"),
     ("a/*", "level 2"), ("a/${x}/#", "level 2")],
)
def test_topic_filters_with_unsafe_wildcards_fail(topic_filter, reason):
    with pytest.raises(UnsafeResource, match=reason):
        validate_topic(topic_filter, allow_wildcards=True)


BERLIN = ZoneInfo("Europe/Berlin")


def at(text: str, zone=BERLIN) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=zone)


def test_weekday_office_hours_window():
    window = parse_access_window({"days": ["mon", "tue", "wed", "thu", "fri"], "hours": "08:00-18:00",
                                  "time_zone": "Europe/Berlin"})
    assert window.contains(at("2025-03-03T08:00"))  # Monday, start inclusive
    assert window.contains(at("2025-03-07T17:59"))  # Friday
    assert not window.contains(at("2025-03-03T18:00"))  # end exclusive
    assert not window.contains(at("2025-03-03T07:59"))
    assert not window.contains(at("2025-03-08T12:00"))  # Saturday
    # The same instant seen in UTC is judged in the window's own zone: 07:30 UTC = 08:30 CET.
    assert window.contains(datetime(2025, 3, 3, 7, 30, tzinfo=timezone.utc))
    assert not window.contains(datetime(2025, 3, 3, 17, 30, tzinfo=timezone.utc))


def test_overnight_window_belongs_to_the_day_it_starts():
    window = parse_access_window({"days": ["fri"], "hours": "22:00-06:00", "time_zone": "Europe/Berlin"})
    assert window.contains(at("2025-03-07T23:00"))  # Friday night
    assert window.contains(at("2025-03-08T05:59"))  # Saturday early morning, Friday's window
    assert not window.contains(at("2025-03-08T22:30"))  # Saturday night
    assert not window.contains(at("2025-03-07T05:00"))  # Friday early morning = Thursday's window
    inside, closes = window.opening(at("2025-03-07T23:00"))
    assert inside and closes == at("2025-03-08T06:00")


def test_window_close_is_computed_across_a_daylight_saving_change():
    # 2025-03-30 02:00 CET -> 03:00 CEST: from 00:00 local to 06:00 local is 5 real hours.
    window = parse_access_window({"hours": "00:00-06:00", "time_zone": "Europe/Berlin"})
    moment = at("2025-03-30T00:00")
    inside, closes = window.opening(moment)
    assert inside and (closes - moment).total_seconds() == 5 * 3600


def test_days_only_window_closes_at_the_first_disallowed_midnight():
    window = parse_access_window({"days": "mon,tue", "time_zone": "UTC"})
    inside, closes = window.opening(datetime(2025, 3, 3, 12, 0, tzinfo=timezone.utc))
    assert inside and closes == datetime(2025, 3, 5, 0, 0, tzinfo=ZoneInfo("UTC"))
    assert AccessWindow().opening(datetime(2025, 3, 3, tzinfo=timezone.utc)) == (True, None)


def test_end_of_day_and_whole_day_hours():
    assert parse_hours("18:00-24:00") == (time(18, 0), None)
    window = parse_access_window({"hours": "00:00-24:00"})
    assert window.start is None and window.contains(datetime(2025, 1, 1, 23, 59, tzinfo=timezone.utc))


@pytest.mark.parametrize(
    ("window", "message"),
    [
        ({"days": ["monday"]}, "not a weekday"),
        ({"days": []}, "must list weekdays"),
        ({"hours": "8-18"}, "must look like 08:00-18:00"),
        ({"hours": "08:00-08:00"}, "is empty"),
        ({"hours": "24:00-08:00"}, "must look like"),
        ({"hours": "08:00-24:30"}, "must look like"),
        ({"time_zone": "Mars/Olympus"}, "not a time zone"),
        ({"time_zone": "/etc/localtime"}, "not a time zone"),
        ({"weekdays": ["mon"]}, "unknown keys"),
        ("mon-fri", "must be a map"),
    ],
)
def test_bad_access_windows_are_refused_naming_the_field(window, message):
    with pytest.raises(MalformedRecord, match=message):
        parse_access_window(window)


def test_valid_until_needs_an_offset():
    assert parse_valid_until("2026-01-01T00:00:00Z").tzinfo is not None
    for bad in ("2026-01-01T00:00:00", "tomorrow", 20260101):
        with pytest.raises(MalformedRecord, match="with offset"):
            parse_valid_until(bad)


def test_record_round_trips_through_its_item():
    record = DeviceRecord(
        username="meter-0001",
        password_hash=GOOD_HASH,
        family="meters",
        enabled=False,
        prohibited=True,
        prohibited_reason="stolen",
        client_id="thing:meter-0001",
        extra_publish=("fleet/status",),
        extra_subscribe=("fleet/+/commands",),
        access_window=parse_access_window({"days": ["mon"], "hours": "22:00-06:00", "time_zone": "Europe/Berlin"}),
        valid_until=datetime(2026, 1, 1, tzinfo=timezone.utc),
    )
    assert record_from_item(record.to_item()) == record


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"username": "a/b"}, "username"),
        ({"password_hash": None}, "password_hash"),
        ({"family": "a/b"}, "family"),
        ({"enabled": "yes"}, "enabled"),
        ({"client_id": "*"}, "client_id"),
        ({"extra_publish": ["a/*"]}, "extra_publish"),
        ({"extra_publish": "a"}, "extra_publish must be a list"),
        ({"extra_subscribe": ["#"]}, "extra_subscribe"),
        ({"extra_subscribe": [f"t/{i}" for i in range(17)]}, "at most 16"),
        ({"valid_until": "soon"}, "valid_until"),
        ({"access_window": {"hours": "late"}}, "access_window.hours"),
    ],
)
def test_malformed_items_are_refused_naming_the_attribute(change, message):
    item = {"username": "meter-0001", "password_hash": GOOD_HASH, "family": "meters", **change}
    with pytest.raises((MalformedRecord, UnsafeResource, InvalidUsername), match=message):
        record_from_item(item)


def test_unknown_attributes_are_ignored_for_forward_compatibility():
    item = {"username": "m", "password_hash": GOOD_HASH, "family": "f", "firmware": "1.2.3"}
    assert record_from_item(item).username == "m"


@pytest.mark.parametrize(("reason", "accepted"), [("bridge to family2", True), ("r" * 256, True), ("", False),
                                                  ("   ", False), ("r" * 257, False), (7, False)])
def test_a_cross_scope_reason_is_a_short_text(reason, accepted):
    item = {"username": "meter-0001", "password_hash": "$6$x", "family": "meters", "cross_scope_reason": reason}
    if accepted:
        record = record_from_item(item)
        assert record.cross_scope_reason == reason and record.to_item()["cross_scope_reason"] == reason
    else:
        with pytest.raises(MalformedRecord, match="cross_scope_reason"):
            record_from_item(item)
