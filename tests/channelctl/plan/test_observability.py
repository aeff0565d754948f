"""The plan's ``observability`` check: the example channel passes; each way of leaving the
operators uninformed fails it, and only it."""

from __future__ import annotations

import dataclasses
import json
import re

import pytest

from channelctl.accounts.facts import Fact

from channelctl.plan.checks import OBSERVABILITY, run_checks
from tests.channelctl.plan.test_plan_support import add, example_plan, failing, remove, resource, resources_of, stacks_of

ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"


@pytest.fixture(scope="module")
def plan():
    return example_plan()


def observability(stacks):
    return next(r for r in run_checks(stacks) if r.name == OBSERVABILITY)


def test_example_channel_passes_and_says_where_alarms_go(plan):
    result = observability(stacks_of(plan))
    assert result.passed, result.problems
    assert "iot:monitoring-alarms (email:iot-ops@example.com)" in result.detail
    assert any("client-ID conflicts" in v and "documented Disconnect record" in v for v in result.verified)
    assert any(v.startswith("changes to the key of iot:gatekeeper-authorizer-credentials")
               and "iot:monitoring-credentials-key-changes -> iot:monitoring-alarms" in v for v in result.verified)
    # The committed iot facts hold a trail that records the key's changes: the sources line names it.
    (source,) = result.sources
    assert re.fullmatch(r"read: facts/iot\.json \(\d+ (min|h|days) old\): CloudTrail trail "
                        r"aws-controltower-BaselineCloudTrail logs the management events of us-west-2, KMS's writes "
                        r"included", source), source


def _alarm_on(stacks, metric):
    return next(a for a in resources_of(stacks, "iot", ALARM)
                if a.inputs.get("metricName") == metric
                or any((q.get("metric") or {}).get("metricName") == metric for q in a.inputs.get("metricQueries") or []))


def no_flow_log_on_consumer_vpc(s):
    remove(s, "consumer", "evidence-flow-consumer", "aws:ec2/flowLog:FlowLog")


def flow_log_of_rejected_traffic_only(s):
    resource(s, "network", "evidence-flow-device", "aws:ec2/flowLog:FlowLog").inputs["trafficType"] = "REJECT"


def no_resolver_query_log(s):
    remove(s, "network", "evidence-resolver-queries",
           "aws:route53/resolverQueryLogConfigAssociation:ResolverQueryLogConfigAssociation")


def iot_logging_removed(s):
    remove(s, "iot", "monitoring-iot-logging")


def iot_logging_disabled(s):
    resource(s, "iot", "monitoring-iot-logging").inputs["defaultLogLevel"] = "DISABLED"


def conflict_filter_matches_one_spelling_only(s):
    flt = resource(s, "iot", "monitoring-client-id-conflicts", "aws:cloudwatch/logMetricFilter:LogMetricFilter")
    flt.inputs["pattern"] = '{ $.reason = "DUPLICATE_CLIENT_ID" }'


def conflict_filter_on_the_wrong_field(s):
    flt = resource(s, "iot", "monitoring-client-id-conflicts", "aws:cloudwatch/logMetricFilter:LogMetricFilter")
    flt.inputs["pattern"] = '{ ($.eventType = "Disconnect") && ($.disconnectReason = "DUPLICATE_CLIENT_ID") }'


def conflict_alarm_removed(s):
    remove(s, "iot", "monitoring-client-id-conflicts", ALARM)


def conflict_alarm_notifies_nobody(s):
    resource(s, "iot", "monitoring-client-id-conflicts", ALARM).inputs["alarmActions"] = []


def authorization_failure_alarm_removed(s):
    remove(s, "iot", "monitoring-authorization-failures")


def message_anomaly_alarm_removed(s):
    remove(s, "iot", "monitoring-publishin-anomaly")


def detect_profile_without_authorization_failures(s):
    topic = resource(s, "iot", "monitoring-alarms", "aws:sns/topic:Topic").state["arn"]
    add(s, "iot", "aws-native:iot:SecurityProfile", "monitoring-detect", "detect-1", {
        "behaviors": [{"name": "messages", "metric": "aws:num-messages-sent"},
                      {"name": "connects", "metric": "aws:num-connection-attempts"}],
        "alertTargets": {"SNS": {"alertTargetArn": topic, "roleArn": "arn:aws:iam::222222222222:role/x"}},
    })


def audit_without_conflicting_client_ids(s):
    audit = resource(s, "iot", "monitoring-audit")
    checks = audit.inputs["auditCheckConfigurations"]
    key = next(k for k in checks if k in ("conflictingClientIdsCheck", "conflicting_client_ids_check"))
    checks[key] = {"enabled": False}


def data_endpoint_alarm_removed(s):
    remove(s, "iot", "monitoring-data-endpoint-1-connections")


def nlb_target_alarm_removed(s):
    remove(s, "iot", "monitoring-nlb-target-connections")


def proxy_alarm_removed(s):
    remove(s, "iot", "monitoring-proxy-connections")


def proxy_alarm_at_maxconn(s):
    resource(s, "iot", "monitoring-proxy-connections", ALARM).inputs["threshold"] = 1_000_000


def connect_rate_alarm_removed(s):
    remove(s, "iot", "monitoring-connect-rate")


def unhealthy_alarm_without_target_group(s):
    alarm = resource(s, "iot", "monitoring-unhealthy-0", ALARM)
    alarm.inputs["dimensions"] = {k: v for k, v in alarm.inputs["dimensions"].items() if k != "TargetGroup"}


def alarm_topic_unencrypted(s):
    topic = resource(s, "iot", "monitoring-alarms", "aws:sns/topic:Topic")
    topic.inputs.pop("kmsMasterKeyId")
    topic.state.pop("kmsMasterKeyId")


KEY_RULE = "aws:cloudwatch/eventRule:EventRule"


def _key_rule_pattern(s, change):
    rule = resource(s, "iot", "monitoring-credentials-key-changes", KEY_RULE)
    pattern = json.loads(rule.inputs["eventPattern"])
    change(pattern)
    rule.inputs["eventPattern"] = json.dumps(pattern)


def key_change_rule_removed(s):
    remove(s, "iot", "monitoring-credentials-key-changes", KEY_RULE)


def key_change_rule_on_another_key(s):
    _key_rule_pattern(s, lambda p: p["detail"]["resources"].update(
        ARN=["arn:aws:kms:us-west-2:222222222222:key/1234abcd-12ab-34cd-56ef-1234567890ab"]))


def key_change_rule_misses_put_key_policy(s):
    _key_rule_pattern(s, lambda p: p["detail"]["eventName"].remove("PutKeyPolicy"))


def key_change_target_removed(s):
    remove(s, "iot", "monitoring-credentials-key-changes", "aws:cloudwatch/eventTarget:EventTarget")


def topic_lets_any_rule_publish(s):
    policy = resource(s, "iot", "monitoring-alarms-policy", "aws:sns/topicPolicy:TopicPolicy")
    document = json.loads(policy.inputs["policy"])
    for st in document["Statement"]:
        if st["Principal"].get("Service") == "events.amazonaws.com":
            st.pop("Condition")
    policy.inputs["policy"] = json.dumps(document)


def _trails_fact(s, fact):
    facts = s["iot"].facts
    s["iot"].facts = dataclasses.replace(facts, facts={**facts.facts, "managementTrails": fact})


def no_trail_records_the_key_changes(s):
    _trails_fact(s, Fact(value={"trails": [], "others": {
        "audit": "it is not logging (StartLogging was never called or StopLogging was)"}}, source="test"))


MUTATIONS = [
    no_flow_log_on_consumer_vpc, flow_log_of_rejected_traffic_only, no_resolver_query_log, iot_logging_removed,
    iot_logging_disabled, conflict_filter_matches_one_spelling_only, conflict_filter_on_the_wrong_field,
    conflict_alarm_removed, conflict_alarm_notifies_nobody, authorization_failure_alarm_removed,
    message_anomaly_alarm_removed, detect_profile_without_authorization_failures, audit_without_conflicting_client_ids, data_endpoint_alarm_removed,
    nlb_target_alarm_removed, proxy_alarm_removed, proxy_alarm_at_maxconn, connect_rate_alarm_removed, unhealthy_alarm_without_target_group,
    alarm_topic_unencrypted, key_change_rule_removed, key_change_rule_on_another_key,
    key_change_rule_misses_put_key_policy, key_change_target_removed, topic_lets_any_rule_publish,
    no_trail_records_the_key_changes,
]


@pytest.mark.parametrize("mutation", MUTATIONS, ids=lambda m: m.__name__)
def test_each_gap_fails_observability_and_only_it(plan, mutation):
    stacks = stacks_of(plan)
    mutation(stacks)
    assert failing(run_checks(stacks)) == {OBSERVABILITY}


def test_a_complete_detect_profile_passes(plan):
    stacks = stacks_of(plan)
    topic = resource(stacks, "iot", "monitoring-alarms", "aws:sns/topic:Topic").state["arn"]
    add(stacks, "iot", "aws-native:iot:SecurityProfile", "monitoring-detect", "detect-1", {
        "behaviors": [{"name": m, "metric": m} for m in
                      ("aws:num-authorization-failures", "aws:num-connection-attempts", "aws:num-messages-sent")],
        "alertTargets": {"SNS": {"alertTargetArn": topic, "roleArn": "arn:aws:iam::222222222222:role/x"}},
    })
    result = observability(stacks)
    assert result.passed and any(v.startswith("Detect profile iot:monitoring-detect") for v in result.verified)


def test_without_a_trail_the_failure_names_what_was_seen_and_the_fix(plan):
    stacks = stacks_of(plan)
    no_trail_records_the_key_changes(stacks)
    result = observability(stacks)
    (problem,) = result.problems
    assert problem.startswith("no CloudTrail trail records the credentials key's changes in account 222222222222, "
                              "us-west-2 (facts/iot.json (")
    assert "trail audit: it is not logging" in problem and "so iot:monitoring-credentials-key-changes never fires" in problem
    assert problem.endswith("create a trail that logs write management events in us-west-2 without excluding "
                            "kms.amazonaws.com (a multi-Region trail, or an organization trail from the management "
                            "account), start its logging, then run channelctl discover iot again")
    (source,) = result.sources
    assert source.startswith("read: facts/iot.json (")
    assert source.endswith("no CloudTrail trail logs the management events of us-west-2 with KMS's writes")


@pytest.mark.parametrize("change, why", [
    (lambda s: _trails_fact(s, Fact(unknown="AccessDeniedException: not authorized to perform: "
                                            "cloudtrail:DescribeTrails", source="test")),
     "; facts/iot.json: managementTrails unknown: AccessDeniedException: not authorized to perform: "
     "cloudtrail:DescribeTrails"),
    (lambda s: setattr(s["iot"], "facts", None), ""),
], ids=["unknown", "no-facts"])
def test_a_trail_not_read_passes_and_says_the_prerequisite_is_assumed(plan, change, why):
    stacks = stacks_of(plan)
    change(stacks)
    result = observability(stacks)
    assert result.passed, result.problems
    assert result.sources == ("assumed: a CloudTrail trail logging the management events of us-west-2, KMS's writes "
                              f"included (the key change alarm's prerequisite, not confirmed{why}; run channelctl "
                              "discover iot)",)
