"""The credentials key's change alarm: the rendered iot stack's EventBridge rule matches CloudTrail's
records of a change to that key and of nothing else, delivers them to the alarm topic, and the topic
and its key let EventBridge publish for that rule only.

The matcher below models the part of EventBridge's pattern language the rule uses (EventBridge user
guide, "Event patterns" and "Arrays in event patterns"; aws/event-ruler README): a pattern field is
a list of allowed values, or a nested pattern; an array in the event matches when any element does;
objects inside an array are matched element by element (``rulesForJSONEvent``); ``prefix``.
Anything else raises, so a pattern the model does not cover cannot pass by accident.
"""

from __future__ import annotations

import copy
import fnmatch
import json
from pathlib import Path
from typing import Any

import pytest

from components.key_change_alarm import KEY_CHANGE_EVENTS, key_change_pattern
from components.network_evidence import logs_key_policy

EVENTS = Path(__file__).resolve().parents[1] / "events"
RULE = "aws:cloudwatch/eventRule:EventRule"
TARGET = "aws:cloudwatch/eventTarget:EventTarget"
ACCOUNT, REGION = "222222222222", "us-west-2"
# The example key of the KMS developer guide's CloudTrail examples (the fixtures' key).
OTHER_KEY = "arn:aws:kms:us-west-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"


# --------------------------------------------------------------------------- #
# A small EventBridge pattern matcher
# --------------------------------------------------------------------------- #


def _leaf(matcher: Any, value: Any) -> bool:
    if isinstance(matcher, dict):
        if set(matcher) == {"prefix"}:
            return isinstance(value, str) and value.startswith(matcher["prefix"])
        raise NotImplementedError(f"pattern operator {matcher} not modelled")
    return matcher == value


def matches(pattern: dict, event: Any) -> bool:
    for field, wanted in pattern.items():
        if field.startswith("$"):
            raise NotImplementedError(f"pattern operator {field} not modelled")
        if not isinstance(event, dict) or field not in event:
            return False
        value = event[field]
        values = value if isinstance(value, list) else [value]
        if isinstance(wanted, dict):
            if not any(matches(wanted, v) for v in values):
                return False
        elif not any(_leaf(m, v) for m in wanted for v in values):
            return False
    return True


def test_the_matcher_follows_the_documented_examples():
    # aws/event-ruler README, "Ruler by Example" and "JSON Array Matching".
    event = {"detail-type": "EC2 Instance State-change Notification", "source": "aws.ec2",
             "time": "2017-10-02T16:24:49Z",
             "resources": ["arn:aws:ec2:us-east-1:123456789012:instance/i-000000aaaaaa00000"],
             "detail": {"state": "running"},
             "employees": [{"firstName": "John", "lastName": "Doe"}, {"firstName": "Anna", "lastName": "Smith"}]}
    assert matches({"detail-type": ["EC2 Instance State-change Notification"],
                    "resources": ["arn:aws:ec2:us-east-1:123456789012:instance/i-000000aaaaaa00000"],
                    "detail": {"state": ["initializing", "running"]}}, event)
    assert matches({"time": [{"prefix": "2017-10-02"}]}, event)
    assert matches({"employees": {"firstName": ["Anna"]}}, event)
    assert not matches({"employees": {"firstName": ["Anna"], "lastName": ["Doe"]}}, event)
    assert not matches({"detail": {"state": ["stopped"]}}, event)
    assert not matches({"detail": {"missing": ["x"]}}, event)
    with pytest.raises(NotImplementedError):
        matches({"source": [{"suffix": "ec2"}]}, event)


# --------------------------------------------------------------------------- #
# The rendered rule, target, topic policy and key policy
# --------------------------------------------------------------------------- #


@pytest.fixture(scope="module")
def iot(chain):
    return chain["iot-2"]


def one(rendered, type_: str, name: str):
    (found,) = [r for r in rendered.resources if r.type == type_ and r.name == name]
    return found


def credentials_key_arn(iot) -> str:
    return one(iot, "aws:kms/key:Key", "gatekeeper-authorizer-key").state["arn"]


def rule_pattern(iot) -> dict:
    return json.loads(one(iot, RULE, "monitoring-credentials-key-changes").inputs["eventPattern"])


def event(name: str, key_arn: str, **detail: Any) -> dict:
    sample = json.loads((EVENTS / name).read_text())
    sample["detail"]["resources"][0]["ARN"] = key_arn
    sample["detail"].update(detail)
    return sample


def test_the_rule_names_the_credentials_key_and_the_events_that_change_who_may_use_it(iot):
    pattern = rule_pattern(iot)
    assert pattern["source"] == ["aws.kms"] and pattern["detail-type"] == ["AWS API Call via CloudTrail"]
    assert pattern["detail"]["eventSource"] == ["kms.amazonaws.com"]
    assert pattern["detail"]["resources"] == {"ARN": [credentials_key_arn(iot)]}
    assert sorted(pattern["detail"]["eventName"]) == ["CreateGrant", "DisableKey", "PutKeyPolicy", "RetireGrant",
                                                      "RevokeGrant", "ScheduleKeyDeletion"]


@pytest.mark.parametrize("sample, name", [
    ("kms_put_key_policy.json", "PutKeyPolicy"),
    ("kms_retire_grant.json", "RetireGrant"),          # requestParameters is null: only resources names the key
    ("kms_retire_grant.json", "CreateGrant"),
    ("kms_retire_grant.json", "RevokeGrant"),
    ("kms_put_key_policy.json", "DisableKey"),
    ("kms_put_key_policy.json", "ScheduleKeyDeletion"),
])
def test_a_change_to_the_credentials_key_raises_the_alarm(iot, sample, name):
    assert matches(rule_pattern(iot), event(sample, credentials_key_arn(iot), eventName=name))


@pytest.mark.parametrize("case", ["other key", "decrypt", "enable key", "other service", "key id only"])
def test_nothing_else_raises_it(iot, case):
    key = credentials_key_arn(iot)
    sample = {
        "other key": event("kms_put_key_policy.json", OTHER_KEY),
        "decrypt": event("kms_put_key_policy.json", key, eventName="Decrypt"),
        "enable key": event("kms_put_key_policy.json", key, eventName="EnableKey"),
        "other service": {**event("kms_put_key_policy.json", key), "source": "aws.dynamodb"},
        # A record naming the key only as requestParameters.keyId is not matched: every KMS record
        # for these calls carries resources[].ARN, and this one does not.
        "key id only": event("kms_put_key_policy.json", key, resources=[]),
    }[case]
    assert not matches(rule_pattern(iot), sample)


def test_the_rendered_rule_uses_the_module_s_pattern(iot):
    # The plan's observability check reads KEY_CHANGE_EVENTS and key_change_pattern: they are the stack's.
    assert rule_pattern(iot) == key_change_pattern(credentials_key_arn(iot))
    assert set(KEY_CHANGE_EVENTS) == set(rule_pattern(iot)["detail"]["eventName"])


def test_the_rule_targets_the_alarm_topic(iot):
    rule = one(iot, RULE, "monitoring-credentials-key-changes")
    target = one(iot, TARGET, "monitoring-credentials-key-changes")
    topic = one(iot, "aws:sns/topic:Topic", "monitoring-alarms")
    assert target.inputs["rule"] == rule.state["name"]
    assert target.inputs["arn"] == topic.state["arn"]
    # No role: SNS targets use the topic's resource policy (EventBridge user guide, resource-based policies).
    assert "roleArn" not in target.inputs


# --- who may publish and use the key: an evaluator, one case that holds and one that breaks -------- #


def _list(value) -> list:
    return value if isinstance(value, list) else [value]


def allowed(policy: dict, service: str, action: str, context: dict) -> bool:
    for st in policy["Statement"]:
        if st["Effect"] != "Allow" or service not in _list(st["Principal"].get("Service", [])):
            continue
        if not any(fnmatch.fnmatchcase(action, a) for a in _list(st["Action"])):
            continue
        ok = True
        for operator, pairs in st.get("Condition", {}).items():
            if operator not in ("ArnEquals", "StringEquals"):
                raise AssertionError(f"condition operator {operator} not modelled")
            ok &= all(context.get(k) in _list(v) for k, v in pairs.items())
        if ok:
            return True
    return False


def topic_policy(iot) -> dict:
    return json.loads(one(iot, "aws:sns/topicPolicy:TopicPolicy", "monitoring-alarms-policy").inputs["policy"])


def test_eventbridge_publishes_to_the_topic_only_for_the_rule(iot):
    rule_arn = one(iot, RULE, "monitoring-credentials-key-changes").state["arn"]
    policy = topic_policy(iot)
    assert allowed(policy, "events.amazonaws.com", "sns:Publish", {"aws:SourceArn": rule_arn})
    another = f"arn:aws:events:{REGION}:999999999999:rule/someone-elses"
    assert not allowed(policy, "events.amazonaws.com", "sns:Publish", {"aws:SourceArn": another})
    assert not allowed(policy, "events.amazonaws.com", "sns:Publish", {})
    assert not allowed(policy, "events.amazonaws.com", "sns:Subscribe", {"aws:SourceArn": rule_arn})


def test_the_check_catches_a_topic_open_to_every_rule(iot):
    policy = topic_policy(iot)
    loose = copy.deepcopy(policy)
    for st in loose["Statement"]:
        if st["Principal"].get("Service") == "events.amazonaws.com":
            st.pop("Condition")
    assert allowed(loose, "events.amazonaws.com", "sns:Publish", {"aws:SourceArn": "arn:aws:events:x:9:rule/y"})


def test_the_topic_key_lets_eventbridge_make_the_data_key_calls_only(iot):
    policy = json.loads(one(iot, "aws:kms/key:Key", "evidence-key").inputs["policy"])
    for action in ("kms:GenerateDataKey", "kms:Decrypt"):
        assert allowed(policy, "events.amazonaws.com", action, {})
    for action in ("kms:Encrypt", "kms:CreateGrant", "kms:ReEncryptFrom", "kms:PutKeyPolicy"):
        assert not allowed(policy, "events.amazonaws.com", action, {})


def test_without_the_rule_the_key_names_no_eventbridge():
    policy = json.loads(logs_key_policy(ACCOUNT, REGION, key_users=("cloudwatch.amazonaws.com",)))
    assert not allowed(policy, "events.amazonaws.com", "kms:GenerateDataKey", {})
    with_rule = json.loads(logs_key_policy(ACCOUNT, REGION, key_users=("cloudwatch.amazonaws.com",),
                                           eventbridge_publishes=True))
    assert allowed(with_rule, "events.amazonaws.com", "kms:GenerateDataKey", {})
