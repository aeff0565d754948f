"""Monitoring under Pulumi's mocks: the flow logs, the IoT logging, the alarm topic and Device
Defender as declared, each security property with a case that holds and one that breaks."""

from __future__ import annotations

import json

import pytest

from components.config import ConfigError, load_config
from components.network_evidence import logs_key_policy
from tests.support import FQ, example_config, render

KEY = "aws:kms/key:Key"
FLOW_LOG = "aws:ec2/flowLog:FlowLog"
ROLE = "aws:iam/role:Role"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
NATIVE = "pulumi:providers:aws-native"


def named(rendered, name, type_=None):
    return next(r for r in rendered.resources if r.name == name and (type_ is None or r.type == type_))


def evidence_key(rendered):
    return next(k for k in rendered.of_type(KEY) if k.name == "evidence-key")


def test_every_created_vpc_has_a_flow_log_of_all_traffic(chain):
    for step in ("network-2", "iot-2", "consumer"):
        rendered = chain[step]
        vpcs = {v.id for v in rendered.of_type("aws:ec2/vpc:Vpc")}
        logs = rendered.of_type(FLOW_LOG)
        assert vpcs and {fl.inputs["vpcId"] for fl in logs} == vpcs
        assert all(fl.inputs["trafficType"] == "ALL" and fl.inputs["logDestinationType"] == "cloud-watch-logs"
                   for fl in logs)


def test_log_groups_are_encrypted_with_the_stack_key_and_expire(chain):
    for step in ("network-2", "iot-2", "consumer"):
        rendered = chain[step]
        key_arn = evidence_key(rendered).state["arn"]
        groups = [g for g in rendered.of_type(LOG_GROUP) if "NetworkEvidence" in g.urn or "FleetMonitoring" in g.urn]
        assert groups
        assert all(g.inputs["kmsKeyId"] == key_arn and g.inputs["retentionInDays"] == 365 for g in groups)


def key_problems(policy_json: str, account: str, region: str) -> list[str]:
    problems = []
    for st in json.loads(policy_json)["Statement"]:
        principal = st["Principal"]
        via = st.get("Condition", {}).get("StringEquals", {}).get("kms:ViaService")
        if principal.get("AWS") not in (None, f"arn:aws:iam::{account}:root") and via != f"sns.{region}.amazonaws.com":
            # Only the account administers the key; another principal (the deployer) uses it through SNS only.
            problems.append(f"administered by {principal['AWS']}")
        if principal.get("Service") == "events.amazonaws.com":
            # No source condition is possible for EventBridge to an encrypted topic
            # (components/key_change_alarm.py): the data-key calls SNS makes, nothing more.
            if sorted(st["Action"] if isinstance(st["Action"], list) else [st["Action"]]) != [
                    "kms:Decrypt", "kms:GenerateDataKey*"]:
                problems.append(f"events.amazonaws.com may call {st['Action']}")
            continue
        if "Service" in principal:
            condition = json.dumps(st.get("Condition", {}))
            if account not in condition:
                problems.append(f"{principal['Service']} may use the key for any account")
    return problems


def test_key_policy_limits_services_to_this_account(chain):
    rendered = chain["iot-2"]
    policy = evidence_key(rendered).inputs["policy"]
    assert key_problems(policy, "222222222222", "us-west-2") == []
    loose = json.loads(policy)
    loose["Statement"][1].pop("Condition")
    assert key_problems(json.dumps(loose), "222222222222", "us-west-2") == [
        "logs.us-west-2.amazonaws.com may use the key for any account"]
    wide = json.loads(policy)
    next(st for st in wide["Statement"] if st["Principal"].get("Service") == "events.amazonaws.com")["Action"] = "kms:*"
    assert key_problems(json.dumps(wide), "222222222222", "us-west-2") == ["events.amazonaws.com may call kms:*"]


def test_the_topic_key_is_usable_by_alarms_and_iot_in_the_iot_stack_only(chain):
    iot = json.loads(evidence_key(chain["iot-2"]).inputs["policy"])
    network = json.loads(evidence_key(chain["network-2"]).inputs["policy"])
    services = lambda doc: [s for st in doc["Statement"] for s in  # noqa: E731
                            (st["Principal"].get("Service") if isinstance(st["Principal"].get("Service"), list)
                             else [st["Principal"].get("Service")]) if s]
    # EventBridge publishes the credentials key's change alarm (the example iot stack has an authorizer).
    assert sorted(services(iot)) == ["cloudwatch.amazonaws.com", "events.amazonaws.com", "iot.amazonaws.com",
                                     "logs.us-west-2.amazonaws.com"]
    assert services(network) == ["logs.us-west-2.amazonaws.com"]
    assert key_problems(logs_key_policy("111111111111", "us-west-2", key_users=("iot.amazonaws.com",)),
                        "111111111111", "us-west-2") == []


def trust_problems(role, account):
    doc = json.loads(role.inputs["assumeRolePolicy"])
    return [f"{role.name}: {st['Principal']} without aws:SourceAccount"
            for st in doc["Statement"] if account not in json.dumps(st.get("Condition", {}))]


def test_service_roles_trust_their_service_for_this_account_only(chain):
    rendered = chain["iot-2"]
    roles = [r for r in rendered.of_type(ROLE) if "NetworkEvidence" in r.urn or "FleetMonitoring" in r.urn]
    assert {r.name for r in roles} == {"evidence-flow-logs-role", "monitoring-iot-logging-role", "monitoring-audit-role",
                                       "monitoring-defender-publish-role"}
    assert [p for r in roles for p in trust_problems(r, "222222222222")] == []
    loose = named(rendered, "evidence-flow-logs-role", ROLE)
    doc = json.loads(loose.inputs["assumeRolePolicy"])
    doc["Statement"][0].pop("Condition")
    loose.inputs["assumeRolePolicy"] = json.dumps(doc)
    assert trust_problems(loose, "222222222222") == [
        "evidence-flow-logs-role: {'Service': 'vpc-flow-logs.amazonaws.com'} without aws:SourceAccount"]


def test_resolver_queries_of_the_device_vpc_are_logged(chain):
    network = chain["network-2"]
    (assoc,) = network.of_type("aws:route53/resolverQueryLogConfigAssociation:ResolverQueryLogConfigAssociation")
    assert assoc.inputs["resourceId"] == network.exports["deviceVpcId"]


def test_iot_logging_writes_to_the_encrypted_group_it_created(chain):
    iot = chain["iot-2"]
    (options,) = iot.of_type("aws:iot/loggingOptions:LoggingOptions")
    group = next(g for g in iot.of_type(LOG_GROUP) if g.inputs.get("name") == "AWSIotLogsV2")
    assert options.inputs["defaultLogLevel"] == "ERROR" and options.inputs["disableAllLogs"] is False
    assert group.urn in options.dependencies
    write = named(iot, "monitoring-iot-logging-write")
    resources = json.loads(write.inputs["policy"])["Statement"][0]["Resource"]
    assert all(":log-group:AWSIotLogsV2" in r for r in resources)


def test_alarm_topic_is_encrypted_and_mails_the_configured_address(chain):
    iot = chain["iot-2"]
    (topic,) = iot.of_type("aws:sns/topic:Topic")
    assert topic.inputs["kmsMasterKeyId"] == evidence_key(iot).state["arn"]
    (sub,) = iot.of_type("aws:sns/topicSubscription:TopicSubscription")
    assert (sub.inputs["protocol"], sub.inputs["endpoint"]) == ("email", "iot-ops@example.com")
    alarms = iot.of_type("aws:cloudwatch/metricAlarm:MetricAlarm")
    assert alarms and all(a.inputs["alarmActions"] == [topic.state["arn"]] for a in alarms)
    assert iot.exports["alarmTopicArn"] == topic.state["arn"]


def test_capacity_alarms_fire_at_the_configured_fraction_of_each_limit(chain):
    iot = chain["iot-2"]
    endpoint = named(iot, "monitoring-data-endpoint-0-connections")
    assert endpoint.inputs["threshold"] == 80_000          # 80% of 100,000 per iot.data endpoint
    assert named(iot, "monitoring-nlb-target-connections").inputs["threshold"] == 44_000   # 80% of 55,000
    assert named(iot, "monitoring-connect-rate").inputs["threshold"] == 500 * 60 * 0.8


def test_device_defender_uses_its_own_pinned_provider(chain):
    iot = chain["iot-2"]
    (native,) = iot.of_type(NATIVE)
    # Providers receive structured settings as JSON text.
    setting = lambda key: json.loads(native.inputs[key]) if key != "region" else native.inputs[key]  # noqa: E731
    assert setting("allowedAccountIds") == ["222222222222"]
    assert setting("region") == "us-west-2"
    assert setting("assumeRole")["roleArn"] == "arn:aws:iam::222222222222:role/mqtt-channel-deployer"
    ref = f"{native.urn}::{native.id}"
    defender = [r for r in iot.resources if r.type.startswith("aws-native:")]
    # Detect is opt-in: AWS closed it to new customers on 2026-08-31.
    assert {r.type for r in defender} == {"aws-native:iot:AccountAuditConfiguration", "aws-native:iot:ScheduledAudit"}
    assert all(r.provider == ref for r in defender)


def test_detect_profile_when_the_account_has_detect(chain):
    cfg = example_config("iot") | {"monitoring": {"deviceDefenderDetect": True}}
    rendered = render("iot", cfg, peers={FQ("network"): chain["network-1"].exports})
    (profile,) = rendered.of_type("aws-native:iot:SecurityProfile")
    (topic,) = rendered.of_type("aws:sns/topic:Topic")
    assert {b["metric"] for b in profile.inputs["behaviors"]} == {
        "aws:num-authorization-failures", "aws:num-connection-attempts", "aws:num-messages-sent"}
    assert profile.inputs["alertTargets"]["SNS"]["alertTargetArn"] == topic.state["arn"]


def test_monitoring_can_be_switched_off(chain):
    cfg = example_config("iot") | {"monitoring": {"enabled": False}}
    rendered = render("iot", cfg, peers={FQ("network"): chain["network-1"].exports})
    assert rendered.of_type(FLOW_LOG) == [] and rendered.of_type("aws:sns/topic:Topic") == []
    assert any("monitoring.enabled is false" in message for _, message in rendered.logs)


@pytest.mark.parametrize("monitoring, message", [
    ({"logRetentionDays": 10}, "monitoring.logRetentionDays 10 is not a CloudWatch retention"),
    ({"iotLogLevel": "TRACE"}, "monitoring.iotLogLevel 'TRACE' is not an IoT Core log level"),
    ({"iotLogLevel": "DISABLED"}, "monitoring.iotLogLevel DISABLED turns IoT Core logging off"),
    ({"limitAlarmFraction": 1.5}, "monitoring.limitAlarmFraction 1.5 is out of range"),
    ({"auditFrequency": "HOURLY"}, "monitoring.auditFrequency 'HOURLY' is not a Device Defender audit frequency"),
    ({"alarmSubscriptions": [{"protocol": "http", "endpoint": "http://x"}]},
     "monitoring.alarmSubscriptions[0].protocol 'http' is not an SNS protocol"),
    ({"alarmSubscriptions": [{"protocol": "email", "endpoint": "ops"}]},
     "monitoring.alarmSubscriptions[0].endpoint 'ops' is not an e-mail address"),
    ({"resolverQueryLogs": True}, "monitoring has unknown key(s) resolverQueryLogs"),
])
def test_monitoring_config_refusals_name_the_key(monitoring, message):
    with pytest.raises(ConfigError) as err:
        load_config(example_config("iot") | {"monitoring": monitoring}, stack="iot")
    assert message in str(err.value)
