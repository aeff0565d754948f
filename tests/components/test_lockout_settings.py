"""authorizer.lockoutExemptFamilies: parsed, refused with the key named, passed to the function; the lockout alarm."""

from __future__ import annotations

import json

import pytest

from authorizer.metrics import NAMESPACE, emf_line, lockout_line
from components.config import ConfigError
from components.config.iot_access import _load_authorizer
from components.fleet_monitoring import lockout_alarm_description

OPERATORS = ["arn:aws:iam::222222222222:role/mqtt-operators"]


def test_exempt_families_are_read_sorted_and_once():
    cfg = _load_authorizer({"enabled": True, "operatorRoleArns": OPERATORS,
                            "lockoutExemptFamilies": ["valves", "meters", "valves"]})
    assert cfg.lockout_exempt_families == ("meters", "valves")
    assert _load_authorizer({"enabled": True, "operatorRoleArns": OPERATORS}).lockout_exempt_families == ()


@pytest.mark.parametrize("value, message", [
    ("meters", r"authorizer\.lockoutExemptFamilies 'meters' is not a list"),
    (["Meters!"], r"authorizer\.lockoutExemptFamilies\[0\] 'Meters!' is not a family name — like meters"),
    ([7], r"authorizer\.lockoutExemptFamilies\[0\] 7 is not a family name"),
])
def test_bad_exempt_families_name_the_key_the_value_and_the_fix(value, message):
    with pytest.raises(ConfigError, match=message):
        _load_authorizer({"enabled": True, "operatorRoleArns": OPERATORS, "lockoutExemptFamilies": value})


def by_name(rendered, name):
    return next(r for r in rendered.resources if r.name == name)


def test_the_function_gets_the_exempt_families_of_its_config(chain):
    (function,) = chain["iot-2"].of_type("aws:lambda/function:Function")
    env = function.inputs["environment"]["variables"]
    assert env["LOCKOUT_EXEMPT_FAMILIES"] == ""  # the example stack exempts no family
    assert env["MAX_FAILED_ATTEMPTS"] and env["LOCKOUT_SECONDS"]


def alarm_watches(alarm, line: str) -> bool:
    """Whether an EMF line's metric is the one the alarm watches (namespace, name, dimensions)."""
    record = json.loads(line)
    directive = record["_aws"]["CloudWatchMetrics"][0]
    dimensions = {key: record[key] for key in directive["Dimensions"][0]}
    return (
        directive["Namespace"] == alarm.inputs["namespace"]
        and alarm.inputs["metricName"] in [m["Name"] for m in directive["Metrics"]]
        and dimensions == alarm.inputs["dimensions"]
    )


def test_the_lockout_alarm_watches_the_line_the_authorizer_writes_for_a_lock(chain):
    alarm = by_name(chain["iot-2"], "monitoring-authorizer-lockouts")
    assert alarm_watches(alarm, lockout_line("meter-0001"))
    assert not alarm_watches(alarm, emf_line("WrongPassword"))  # a refusal is not a lock
    assert alarm.inputs["namespace"] == NAMESPACE
    assert (alarm.inputs["threshold"], alarm.inputs["comparisonOperator"]) == (1, "GreaterThanOrEqualToThreshold")
    (function,) = chain["iot-2"].of_type("aws:lambda/function:Function")
    description = alarm.inputs["alarmDescription"]
    assert f"/aws/lambda/{function.inputs['name']}" in description and "lockedUser" in description


def test_a_description_over_cloudwatchs_limit_is_refused():
    assert len(lockout_alarm_description("f" * 64)) <= 1024
    with pytest.raises(ValueError, match="1024"):
        lockout_alarm_description("f" * 900)
