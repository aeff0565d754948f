"""``observability``: the operators are told — every VPC has a flow log, IoT Core logs, a
client-ID conflict alarm that matches what IoT Core actually writes, a Detect profile, and an
alarm on every limit the ``capacity`` check uses, all reaching one encrypted topic.

The credentials key's change alarm rests on the iot account having a CloudTrail trail that logs
KMS's write management events in the stack's Region (``managementTrails``, read by ``channelctl
discover iot``): read with such a trail, the sources line names it; read without one, the check fails
naming the fix; not read (no facts, or the fact unknown), the sources line says the prerequisite is
assumed, not confirmed."""

from __future__ import annotations

import json
from typing import Any

from channelctl.accounts.facts import FACT_MANAGEMENT_TRAILS
from channelctl.accounts.trails import describe as describe_trails
from channelctl.plan.checks.log_filter import FilterSyntaxError, matches
from channelctl.plan.checks.model import (
    OBSERVABILITY,
    T_ASG,
    T_LB,
    T_TARGET_GROUP,
    T_VPC,
    Channel,
    CheckResult,
    Findings,
    PlannedStack,
    Res,
    as_flag,
    core,
    device_access_mode,
)
from channelctl.plan.checks.paths import proxy_max_connections
from channelctl.plan.checks.sources import assumed, facts_file, read
from channelctl.plan.world import NO_FACTS, short_reason
from components.fleet_monitoring import IOT_LOG_GROUP
from components.key_change_alarm import DETAIL_TYPE, EVENT_SOURCE, KEY_CHANGE_EVENTS, KMS_EVENT_SOURCE

T_FLOW_LOG = "aws:ec2/flowLog:FlowLog"
T_LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
T_METRIC_FILTER = "aws:cloudwatch/logMetricFilter:LogMetricFilter"
T_ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
T_TOPIC = "aws:sns/topic:Topic"
T_SUBSCRIPTION = "aws:sns/topicSubscription:TopicSubscription"
T_IOT_LOGGING = "aws:iot/loggingOptions:LoggingOptions"
T_QUERY_LOG_ASSOC = "aws:route53/resolverQueryLogConfigAssociation:ResolverQueryLogConfigAssociation"
T_SECURITY_PROFILE = "aws-native:iot:SecurityProfile"
T_AUDIT = "aws-native:iot:AccountAuditConfiguration"
T_TABLE = "aws:dynamodb/table:Table"
T_EVENT_RULE = "aws:cloudwatch/eventRule:EventRule"
T_EVENT_TARGET = "aws:cloudwatch/eventTarget:EventTarget"
T_TOPIC_POLICY = "aws:sns/topicPolicy:TopicPolicy"

# The Disconnect record a client-ID conflict produces, as printed in the IoT developer guide,
# "Security best practices in AWS IoT Core" (Protecting MQTT connections in AWS IoT).
DOCUMENTED_CONFLICT_RECORD = json.dumps({
    "timestamp": "2019-04-28 22:05:30.105", "logLevel": "ERROR", "traceId": "02a04a93-0b3a-b608-a27c-1ae8ebdb032a",
    "accountId": "123456789012", "status": "Failure", "eventType": "Disconnect", "protocol": "MQTT",
    "clientId": "clientId01", "principalId": "1670fcf6de55adc1930169142405c4a2493d9eb5487127cd0091ca0193a3d3f6",
    "sourceIp": "203.0.113.1", "sourcePort": 21335, "reason": "DUPLICATE_CLIENT_ID",
    "details": "A new connection was established with the same client ID",
})
# The spelling seen in the field; the alarm must count it too.
FIELD_CONFLICT_RECORD = DOCUMENTED_CONFLICT_RECORD.replace('"DUPLICATE_CLIENT_ID"', '"DUPLICATE_CLIENTID"')
# IoT Core metrics whose abnormal values the fleet-wide alarms watch: the cloud-side signals of
# Device Defender Detect (authorization failures, connection attempts, messages).
FLEET_BEHAVIOUR_METRICS = (
    ("Connect.AuthNError", "authentication failures"),
    ("Connect.Success", "connection attempts"),
    ("PublishIn.Success", "message volume"),
)
# Detect metrics a security profile, when there is one, must watch (Device Defender cloud-side metrics).
DETECT_METRICS = ("aws:num-authorization-failures", "aws:num-connection-attempts", "aws:num-messages-sent")
# Audit checks the channel depends on (Device Defender audit check names, snake_case as Cloud Control has them).
REQUIRED_AUDIT_CHECKS = (
    "conflicting_client_ids_check", "device_certificate_shared_check", "iot_policy_overly_permissive_check",
    "iot_role_alias_overly_permissive_check", "logging_disabled_check", "ca_certificate_expiring_check",
    "device_certificate_expiring_check",
)


def check_observability(ch: Channel) -> CheckResult:
    f = Findings()
    for vpc in ch.of_type(T_VPC):
        _flow_log(ch, vpc, f)
    c = core(ch)
    if c.network is not None and c.device_vpc is not None:
        assoc = [a for a in ch.of_type(T_QUERY_LOG_ASSOC, c.network) if a.get("resourceId") == c.device_vpc.id]
        if assoc:
            f.ok(f"Resolver queries of {c.device_vpc.label} are logged", assoc[0].label)
        else:
            f.bad(f"the device VPC {c.device_vpc.label} has no Resolver query log (monitoring.resolverQueryLogs)",
                  c.device_vpc.label)
    iot = c.iot
    if iot is None:
        f.bad("the plan has no single iot stack: IoT logging and alarms cannot be checked")
        return f.result(OBSERVABILITY, "")
    topics = _topics(ch, iot, f)
    _iot_logging(ch, iot, f)
    _conflict_alarm(ch, iot, topics, f)
    _detect(ch, iot, topics, f)
    _limit_alarms(ch, iot, c.data_ids, topics, f)
    _key_change_alarm(ch, iot, topics, f)
    summary = (f"{len(ch.of_type(T_VPC))} VPCs with flow logs; IoT Core logging, client-ID conflict alarm, Device "
               f"Defender audit, alarms on abnormal fleet behaviour and on every capacity limit, all to "
               f"{_where(ch, iot)}")
    return f.result(OBSERVABILITY, summary)


def _flow_log(ch: Channel, vpc: Res, f: Findings) -> None:
    logs = [fl for fl in ch.of_type(T_FLOW_LOG, vpc.stack) if fl.get("vpcId") == vpc.id]
    good = [fl for fl in logs if fl.get("trafficType") == "ALL" and fl.get("logDestination")]
    if not good:
        what = "only a partial flow log (trafficType is not ALL or no destination)" if logs else "no flow log"
        f.bad(f"VPC {vpc.label} has {what} (monitoring.flowLogs)", vpc.label)
        return
    group = ch.by_arn(good[0].get("logDestination"))
    if group is not None and group.type == T_LOG_GROUP and not group.get("kmsKeyId"):
        f.bad(f"the flow log group {group.label} of VPC {vpc.label} is not encrypted with a KMS key", group.label)
        return
    f.ok(f"VPC {vpc.label}: flow log of all traffic", vpc.label, good[0].label)


def _topics(ch: Channel, iot: PlannedStack, f: Findings) -> dict[str, Res]:
    topics = {}
    for topic in ch.of_type(T_TOPIC, iot):
        if not topic.get("kmsMasterKeyId"):
            f.bad(f"alarm topic {topic.label} is not encrypted (kmsMasterKeyId)", topic.label)
            continue
        topics[topic.get("arn")] = topic
    if not topics:
        f.bad(f"stack {iot.name} has no KMS-encrypted alarm topic: no alarm reaches anyone")
    return topics


def _alarms(ch: Channel, iot: PlannedStack, topics: dict[str, Res]) -> list[Res]:
    """Alarms of the iot stack that notify an encrypted alarm topic."""
    return [a for a in ch.of_type(T_ALARM, iot) if set(a.get("alarmActions") or []) & set(topics)]


def _iot_logging(ch: Channel, iot: PlannedStack, f: Findings) -> None:
    options = ch.of_type(T_IOT_LOGGING, iot)
    if not options:
        f.bad(f"IoT Core logging is off: stack {iot.name} declares no LoggingOptions (monitoring.iotLogLevel)")
        return
    opt = options[0]
    if as_flag(opt.get("disableAllLogs"), False) or opt.get("defaultLogLevel") in (None, "DISABLED"):
        f.bad(f"IoT Core logging is disabled by {opt.label} (defaultLogLevel {opt.get('defaultLogLevel')!r})", opt.label)
        return
    groups = [g for g in ch.of_type(T_LOG_GROUP, iot) if g.get("name") == IOT_LOG_GROUP]
    if not groups or not groups[0].get("kmsKeyId") or not groups[0].get("retentionInDays"):
        f.bad(f"the {IOT_LOG_GROUP} log group is missing, unencrypted or kept forever", opt.label)
        return
    f.ok(f"IoT Core logs at {opt.get('defaultLogLevel')} into {groups[0].label} (encrypted, "
         f"{groups[0].get('retentionInDays')} days)", opt.label, groups[0].label)


def _conflict_alarm(ch: Channel, iot: PlannedStack, topics: dict[str, Res], f: Findings) -> None:
    found = False
    for flt in ch.of_type(T_METRIC_FILTER, iot):
        if flt.get("logGroupName") != IOT_LOG_GROUP:
            continue
        pattern = str(flt.get("pattern") or "")
        try:
            counts = all(matches(pattern, record) for record in (DOCUMENTED_CONFLICT_RECORD, FIELD_CONFLICT_RECORD))
        except FilterSyntaxError as err:
            f.bad(f"metric filter {flt.label}: pattern cannot be evaluated ({err})", flt.label)
            continue
        if not counts:
            continue
        transform = flt.get("metricTransformation") or {}
        metric, namespace = transform.get("name"), transform.get("namespace")
        alarms = [a for a in _alarms(ch, iot, topics)
                  if a.get("metricName") == metric and a.get("namespace") == namespace]
        if alarms:
            found = True
            f.ok(f"client-ID conflicts: {flt.label} counts IoT Core's documented Disconnect record (both spellings) "
                 f"and {alarms[0].label} notifies the alarm topic", flt.label, alarms[0].label)
    if not found:
        f.bad(f"no alarm on client-ID conflicts: no metric filter on {IOT_LOG_GROUP} counts IoT Core's documented "
              "DUPLICATE_CLIENT_ID Disconnect record (and DUPLICATE_CLIENTID) with an alarm to the alarm topic")


def _detect(ch: Channel, iot: PlannedStack, topics: dict[str, Res], f: Findings) -> None:
    audits = ch.of_type(T_AUDIT, iot)
    if not audits:
        f.bad(f"no Device Defender audit configuration in stack {iot.name} (monitoring.deviceDefender)")
    else:
        checks = audits[0].get("auditCheckConfigurations") or {}
        off = [c for c in REQUIRED_AUDIT_CHECKS if not _enabled(checks, c)]
        if off:
            f.bad(f"Device Defender audit {audits[0].label} leaves off: {', '.join(off)}", audits[0].label)
        else:
            f.ok(f"Device Defender audit {audits[0].label}: {len(REQUIRED_AUDIT_CHECKS)} checks on", audits[0].label)
    profiles = ch.of_type(T_SECURITY_PROFILE, iot)
    for profile in profiles:
        metrics = {b.get("metric") for b in profile.get("behaviors") or [] if isinstance(b, dict)}
        target = ((profile.get("alertTargets") or {}).get("SNS") or {}).get("alertTargetArn")
        missing = [m for m in DETECT_METRICS if m not in metrics]
        if missing:
            f.bad(f"Detect profile {profile.label} does not watch {', '.join(missing)}", profile.label)
        elif target not in topics:
            f.bad(f"Detect profile {profile.label} does not alert the encrypted alarm topic", profile.label)
        else:
            f.ok(f"Detect profile {profile.label}: {', '.join(DETECT_METRICS)} -> alarm topic", profile.label)
    # Fleet-wide, the same signals as CloudWatch alarms: required with or without a Detect profile,
    # since AWS closed Detect to new customers on 2026-08-31.
    alarms = _alarms(ch, iot, topics)
    for metric, what in FLEET_BEHAVIOUR_METRICS:
        found = [a for a in alarms if any(ns == "AWS/IoT" and name == metric for ns, name, _ in _metric_refs(a))]
        if found:
            f.ok(f"abnormal {what}: {found[0].label}", found[0].label)
        else:
            f.bad(f"no alarm on abnormal {what} (AWS/IoT {metric})")


def _key_change_alarm(ch: Channel, iot: PlannedStack, topics: dict[str, Res], f: Findings) -> None:
    """A change to the customer managed key of a table (the credentials table: its policy, a grant,
    disabling, deletion) reaches the alarm topic: an EventBridge rule on CloudTrail's records of the key, its target the
    encrypted topic, and the topic's policy letting EventBridge publish for that rule."""
    # Every customer managed key of a table (the credentials table's; the provisioning allow-list
    # uses DynamoDB's own key, which no one of the account can re-grant).
    keys = {sse.get("kmsKeyArn"): t for t in ch.of_type(T_TABLE, iot)
            if isinstance(sse := t.get("serverSideEncryption"), dict) and sse.get("kmsKeyArn")}
    watching: list[str] = []
    for key_arn, table in keys.items():
        rules = [r for r in ch.of_type(T_EVENT_RULE, iot) if _watches_key_changes(r.get("eventPattern"), key_arn)]
        watching += [r.label for r in rules[:1]]
        if not rules:
            f.bad(f"no EventBridge rule raises an alarm when the key of {table.label} changes (CloudTrail "
                  f"{', '.join(KEY_CHANGE_EVENTS)} on {key_arn})", table.label)
            continue
        rule = rules[0]
        targets = [t for t in ch.of_type(T_EVENT_TARGET, iot)
                   if t.get("rule") == rule.get("name") and t.get("arn") in topics]
        if not targets:
            f.bad(f"{rule.label} watches the key of {table.label} but targets no encrypted alarm topic", rule.label)
            continue
        topic_arn = targets[0].get("arn")
        if not any(_lets_rule_publish(p.get("policy"), rule.get("arn")) for p in ch.of_type(T_TOPIC_POLICY, iot)
                   if p.get("arn") == topic_arn):
            f.bad(f"the policy of {topics[topic_arn].label} does not let EventBridge publish for {rule.label} "
                  "(events.amazonaws.com with aws:SourceArn = the rule)", rule.label)
            continue
        f.ok(f"changes to the key of {table.label} ({', '.join(KEY_CHANGE_EVENTS)}) -> {rule.label} -> "
             f"{topics[topic_arn].label}", rule.label, targets[0].label)
    if watching:
        _trail(iot, watching, f)


def _trail(iot: PlannedStack, rules: list[str], f: Findings) -> None:
    """The key change rules' prerequisite: a trail of the iot account that records KMS's write
    management events in its Region (EventBridge user guide, eb-service-event-cloudtrail.html: "a
    CloudTrail trail with logging enabled is required"; what counts: channelctl.accounts.trails)."""
    figure = f"a CloudTrail trail logging the management events of {iot.region}, KMS's writes included"
    fact = iot.facts.get(FACT_MANAGEMENT_TRAILS) if iot.facts is not None else None
    trails = describe_trails(fact.value) if fact is not None and fact.known else None
    if trails is None:
        if iot.facts is None:
            why = NO_FACTS
        elif fact is None:
            why = f"{FACT_MANAGEMENT_TRAILS} not in the facts file"
        elif not fact.known:
            why = f"{FACT_MANAGEMENT_TRAILS} unknown: {short_reason(fact.unknown or '')}"
        else:
            why = f"{FACT_MANAGEMENT_TRAILS} is not a list of trails"
        f.source(assumed(iot, figure, "the key change alarm's prerequisite, not confirmed", why))
        return
    found, others = trails
    if found:
        f.source(read(iot, f"CloudTrail {'trails' if len(found) > 1 else 'trail'} {', '.join(found)} "
                           f"{'log' if len(found) > 1 else 'logs'} the management events of {iot.region}, KMS's "
                           "writes included"))
        f.ok(f"the key change alarm's prerequisite holds: CloudTrail trail {', '.join(found)} records the key's "
             f"changes in account {iot.account_id}, {iot.region}", *rules)
        return
    f.source(read(iot, f"no CloudTrail trail logs the management events of {iot.region} with KMS's writes"))
    seen = "; ".join(f"trail {name}: {why}" for name, why in others.items()) or "the account has no trail"
    f.bad(f"no CloudTrail trail records the credentials key's changes in account {iot.account_id}, {iot.region} "
          f"({facts_file(iot)}: {seen}), so {', '.join(rules)} never fires — create a trail that logs write "
          f"management events in {iot.region} without excluding kms.amazonaws.com (a multi-Region trail, or an "
          "organization trail from the management account), start its logging, then run channelctl discover iot "
          "again", *rules)


def _watches_key_changes(pattern: Any, key_arn: str) -> bool:
    try:
        p = json.loads(pattern) if isinstance(pattern, str) else pattern
        detail = p["detail"]
        return (EVENT_SOURCE in p["source"] and DETAIL_TYPE in p["detail-type"]
                and KMS_EVENT_SOURCE in detail["eventSource"] and set(KEY_CHANGE_EVENTS) <= set(detail["eventName"])
                and key_arn in detail["resources"]["ARN"])
    except (TypeError, KeyError, ValueError):
        return False


def _lets_rule_publish(policy: Any, rule_arn: Any) -> bool:
    try:
        statements = (json.loads(policy) if isinstance(policy, str) else policy)["Statement"]
    except (TypeError, KeyError, ValueError):
        return False
    for st in statements if isinstance(statements, list) else [statements]:
        if (isinstance(st, dict) and st.get("Effect") == "Allow"
                and st.get("Principal") == {"Service": "events.amazonaws.com"}
                and "sns:Publish" in (st.get("Action") if isinstance(st.get("Action"), list) else [st.get("Action")])
                and (st.get("Condition") or {}).get("ArnEquals", {}).get("aws:SourceArn") == rule_arn):
            return True
    return False


def _enabled(checks: Any, name: str) -> bool:
    camel = "".join(p.capitalize() if i else p for i, p in enumerate(name.split("_")))
    entry = checks.get(name) or checks.get(camel) if isinstance(checks, dict) else None
    return isinstance(entry, dict) and as_flag(entry.get("enabled"), False)


def _metric_refs(alarm: Res) -> list[tuple[str, str, dict]]:
    refs = []
    if alarm.get("metricName"):
        refs.append((alarm.get("namespace"), alarm.get("metricName"), dict(alarm.get("dimensions") or {})))
    for query in alarm.get("metricQueries") or []:
        metric = query.get("metric") if isinstance(query, dict) else None
        if metric:
            refs.append((metric.get("namespace"), metric.get("metricName"), dict(metric.get("dimensions") or {})))
    return refs


def _limit_alarms(ch: Channel, iot: PlannedStack, data_ids: list[str], topics: dict[str, Res], f: Findings) -> None:
    alarms = _alarms(ch, iot, topics)

    def alarmed(namespace: str, metric: str, **dims: Any) -> Res | None:
        # A limit needs a fixed threshold: an anomaly band follows the fleet up to the limit.
        for alarm in (a for a in alarms if not a.get("thresholdMetricId")):
            for ns, name, d in _metric_refs(alarm):
                if ns == namespace and name == metric and all(d.get(k) == v for k, v in dims.items()):
                    return alarm
        return None

    def need(what: str, alarm: Res | None, label: str = "") -> None:
        if alarm is None:
            f.bad(f"no alarm on {what}", label) if label else f.bad(f"no alarm on {what}")
        else:
            f.ok(f"{what}: {alarm.label}", alarm.label)

    for endpoint_id in data_ids:
        need(f"connections of iot.data endpoint {endpoint_id} (limit per endpoint)",
             alarmed("AWS/PrivateLinkEndpoints", "ActiveConnections", **{"VPC Endpoint Id": endpoint_id}))
    mode, _ = device_access_mode(iot)
    for nlb in ch.of_type(T_LB, iot):
        suffix = nlb.get("arnSuffix")
        need(f"TCP flows of {nlb.label} (limit per NLB target)",
             alarmed("AWS/NetworkELB", "ActiveFlowCount_TCP", LoadBalancer=suffix), nlb.label)
        if mode == "tls-proxy":
            alarm = alarmed("AWS/NetworkELB", "ActiveFlowCount_TLS", LoadBalancer=suffix)
            need(f"device connections per proxy behind {nlb.label} (HAProxy maxconn)", alarm, nlb.label)
            limits = [m for fleet in ch.of_type(T_ASG, iot) if (m := proxy_max_connections(ch, fleet))]
            threshold = as_float(alarm.get("threshold")) if alarm else None
            if alarm and limits and (threshold is None or threshold >= min(limits)):
                f.bad(f"{alarm.label} fires at {threshold} connections per proxy, not before HAProxy's maxconn "
                      f"{min(limits)} refuses devices", alarm.label)
    for tg in ch.of_type(T_TARGET_GROUP, iot):
        need(f"unhealthy targets of {tg.label}",
             alarmed("AWS/NetworkELB", "UnHealthyHostCount", TargetGroup=tg.get("arnSuffix")), tg.label)
    need("the account's IoT Core connect rate (connect quota)", alarmed("AWS/IoT", "Connect.Success"))


def as_float(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _where(ch: Channel, iot: PlannedStack) -> str:
    topics = ch.of_type(T_TOPIC, iot)
    if not topics:
        return "no topic"
    subs = ch.of_type(T_SUBSCRIPTION, iot)
    who = ", ".join(f"{s.get('protocol')}:{s.get('endpoint')}" for s in subs) or "no subscriber yet"
    return f"{topics[0].label} ({who})"
