"""The client-ID conflict metric filter, evaluated against IoT Core's documented log records.

tests/events/iot_log_duplicate_client_id.json is the record printed in the IoT developer guide,
"Security best practices in AWS IoT Core" (Protecting MQTT connections): the Disconnect that a
client-ID conflict produces. The Connect and Disconnect records below follow "CloudWatch AWS IoT
log entries" (cwl-format).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from channelctl.plan.checks.log_filter import FilterSyntaxError, matches
from components.fleet_monitoring import client_id_conflict_pattern

EVENTS = Path(__file__).resolve().parents[2] / "events"
DOCUMENTED = json.loads((EVENTS / "iot_log_duplicate_client_id.json").read_text())
PATTERN = client_id_conflict_pattern()


def line(**changes) -> str:
    record = dict(DOCUMENTED)
    for key, value in changes.items():
        if value is None:
            record.pop(key, None)
        else:
            record[key] = value
    return json.dumps(record)


def test_the_documented_conflict_record_matches():
    assert matches(PATTERN, (EVENTS / "iot_log_duplicate_client_id.json").read_text())


@pytest.mark.parametrize("variant", [
    {"reason": "DUPLICATE_CLIENTID"},                                   # the spelling seen in the field
    {"reason": None, "disconnectReason": "DUPLICATE_CLIENT_ID"},        # the lifecycle-event field name
    {"reason": None, "disconnectReason": "DUPLICATE_CLIENTID"},
])
def test_other_spellings_of_the_conflict_match(variant):
    assert matches(PATTERN, line(**variant))


@pytest.mark.parametrize("variant", [
    {"reason": "MQTT_KEEP_ALIVE_TIMEOUT", "details": "keep-alive"},     # another disconnect reason
    {"reason": "SERVER_INITIATED_DISCONNECT"},
    {"eventType": "Connect"},                                           # another event type, same reason
    {"eventType": "Publish-In"},
    {"reason": None, "details": None},                                  # a disconnect without a reason
    {"reason": "DUPLICATE_CLIENT_ID_ACROSS_CONNECTIONS"},               # the audit's reason code, not a log's
])
def test_records_that_are_not_conflicts_do_not_match(variant):
    assert not matches(PATTERN, line(**variant))


def test_a_documented_connect_record_does_not_match():
    connect = {
        "timestamp": "2017-08-10 15:37:23.476", "logLevel": "INFO", "traceId": "20b23f3f-d7f1-feae-169f-82263394fbdb",
        "accountId": "123456789012", "status": "Success", "eventType": "Connect", "protocol": "MQTT",
        "clientId": "abf27092886e49a8a5c1922749736453", "sourceIp": "205.251.233.181", "sourcePort": 13490,
    }
    assert not matches(PATTERN, json.dumps(connect))


def test_a_line_that_is_not_json_never_matches():
    assert not matches(PATTERN, "DUPLICATE_CLIENT_ID eventType Disconnect")


@pytest.mark.parametrize("pattern, record, expected", [
    ('{ $.a = "x*" }', {"a": "xyz"}, True),
    ('{ $.a != "x" }', {"a": "y"}, True),
    ('{ $.a != "x" }', {}, False),
    ('{ $.n >= 5 }', {"n": 5}, True),
    ('{ $.n > 5 }', {"n": "6"}, False),
    ('{ $.a.b = "c" }', {"a": {"b": "c"}}, True),
    ('{ ($.a = "1" || $.b = "2") && $.c = "3" }', {"b": "2", "c": "3"}, True),
    ('{ $.a = "1" || $.b = "2" && $.c = "3" }', {"a": "1"}, True),
    ('{ $.a = "1" || $.b = "2" && $.c = "3" }', {"b": "2"}, False),
])
def test_evaluator_forms(pattern, record, expected):
    assert matches(pattern, json.dumps(record)) is expected


@pytest.mark.parametrize("pattern", ['$.a = "x"', '{ $.a ~ "x" }', '{ $.a = "x" && }', '{ $.a > "x" }', "{ ($.a = 1 }"])
def test_patterns_outside_the_subset_are_refused(pattern):
    with pytest.raises(FilterSyntaxError):
        matches(pattern, "{}")
