"""FleetMonitoring: IoT Core logs, client-ID conflicts, authorizer and capacity alarms,
Device Defender and a dashboard — everything an operator of the fleet is told by one topic.

The alarm thresholds at a limit are ``monitoring.limitAlarmFraction`` (80% by default) of the
same limits the plan's ``capacity`` check uses, so an operator hears of a limit before devices do.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Sequence

import pulumi
import pulumi_aws as aws
import pulumi_aws_native as aws_native

from components.config import (
    CONNECTIONS_PER_DATA_ENDPOINT,
    CONNECTIONS_PER_NLB_TARGET,
    MonitoringConfig,
)
from components.key_change_alarm import key_change_pattern_json, rule_publishes_statement
from components.network_evidence import encrypted_log_group

# Namespaces of the metrics this project publishes itself.
CHANNEL_NAMESPACE = "PrivateMqttChannel"
AUTHORIZER_NAMESPACE = "PrivateMqttChannel/Authorizer"
# Per family and state (password-only, provisioned, certificate, retired): channelctl/devices/migration.py.
MIGRATION_METRIC = "MigrationDevices"
# The metric filter's metric: one per client-ID conflict disconnect.
CLIENT_ID_CONFLICT_METRIC = "ClientIdConflicts"
# The log group AWS IoT Core writes to; its name is fixed by the service
# (IoT developer guide, "Monitor AWS IoT using CloudWatch Logs").
IOT_LOG_GROUP = "AWSIotLogsV2"
# AWS documents the reason as DUPLICATE_CLIENT_ID (IoT developer guide, "Security best
# practices in AWS IoT Core", the Disconnect record with "reason"); DUPLICATE_CLIENTID is seen
# in the field, and lifecycle events name the field disconnectReason. Match every combination.
CLIENT_ID_CONFLICT_REASONS = ("DUPLICATE_CLIENT_ID", "DUPLICATE_CLIENTID")
CLIENT_ID_CONFLICT_FIELDS = ("reason", "disconnectReason")
# A custom authorizer's Lambda must answer within 5 s (IoT developer guide, custom authorizer).
AUTHORIZER_TIMEOUT_MS = 5_000
# The authorizer's refusal reasons that mean someone is guessing passwords.
GUESSING_REASONS = ("WrongPassword", "LockedOut")
# One datapoint per lock the authorizer writes (authorizer/metrics.py lockout_line): the user
# name rides in the same log event as the property LOCKED_USER, never as a dimension (a
# dimension per name is a metric per name, and CloudWatch Logs may disable a metric filter
# that makes 1,000 dimension values in an hour: CloudWatch Logs API reference, PutMetricFilter).
LOCKOUT_METRIC = "Lockouts"
LOCKOUT_DIMENSIONS = {"Reason": "Lockout"}
LOCKED_USER = "lockedUser"
# CloudWatch PutMetricAlarm: AlarmDescription is at most 1,024 characters.
ALARM_DESCRIPTION_MAX = 1024
# Alarm evaluation: one 5-minute period, the shortest period standard metrics have everywhere.
PERIOD_SECONDS = 300
# Anomaly alarms: outside a band of 3 standard deviations for 3 periods in a row, so a single
# burst of reconnects after a network blip does not page anyone. Alerting choices, not limits.
ANOMALY_BAND_WIDTH = 3
ANOMALY_EVALUATION_PERIODS = 3
# Device Defender Detect behaviours. Thresholds are alerting choices, not limits:
# a device that fails authorization 5 times in 5 minutes, reconnects more than 10 times
# in 5 minutes (IoT Core allows one CONNECT per second per client ID), or sends more
# messages than 99.9% of the fleet (a statistical threshold over the fleet).
DETECT_DURATION_SECONDS = 300
DETECT_MAX_AUTHORIZATION_FAILURES = 5
DETECT_MAX_CONNECTION_ATTEMPTS = 10
DETECT_MESSAGES_STATISTIC = "p99.9"
# Audit checks this channel depends on (Device Defender audit check names).
AUDIT_CHECKS = (
    "conflicting_client_ids_check",
    "device_certificate_shared_check",
    "iot_policy_overly_permissive_check",
    "iot_role_alias_overly_permissive_check",
    "iot_role_alias_allows_access_to_unused_services_check",
    "logging_disabled_check",
    "ca_certificate_expiring_check",
    "device_certificate_expiring_check",
    "revoked_ca_certificate_still_active_check",
    "revoked_device_certificate_still_active_check",
    "ca_certificate_key_quality_check",
    "device_certificate_key_quality_check",
)


def client_id_conflict_pattern() -> str:
    """The metric filter pattern: a Disconnect whose reason is a client-ID conflict, in any spelling."""
    alternatives = " || ".join(
        f'($.{field_} = "{reason}")' for field_ in CLIENT_ID_CONFLICT_FIELDS for reason in CLIENT_ID_CONFLICT_REASONS
    )
    return f'{{ ($.eventType = "Disconnect") && ({alternatives}) }}'


def audit_check_api_name(check: str) -> str:
    """``conflicting_client_ids_check`` -> ``CONFLICTING_CLIENT_IDS_CHECK`` (the audit API's names)."""
    return check.upper()


@dataclass(frozen=True, kw_only=True)
class FleetMonitoringArgs:
    monitoring: MonitoringConfig
    account_id: str
    region: str
    # The stack's monitoring key (NetworkEvidence.key): log groups and the alarm topic.
    key: aws.kms.Key
    vpc_id: pulumi.Input[str]
    # The iot.data interface endpoints: one ActiveConnections alarm each.
    data_endpoint_ids: Sequence[pulumi.Input[str]]
    # The gatekeeper NLB (its ARN suffix names it in CloudWatch).
    nlb_arn_suffix: pulumi.Input[str]
    # Target groups of iot.data endpoint IPs, and how many IP:port targets they hold in all.
    endpoint_target_group_suffixes: Sequence[pulumi.Input[str]]
    endpoint_targets: int
    # tls-proxy: the proxy target groups, HAProxy's maxconn and the fleet's minimum size.
    proxy_target_group_suffixes: Sequence[pulumi.Input[str]] = ()
    proxy_max_connections: int = 0
    proxy_min_size: int = 0
    # The account's IoT Core CONNECT quota per second (capacity.iotConnectsPerSecond).
    connect_quota_per_second: int = 500
    # The custom authorizer's function, when there is one.
    authorizer_function_name: pulumi.Input[str] | None = None
    # The credentials table's key, when there is one: a change to its policy or grants, or its
    # disabling or deletion, raises an alarm (components/key_change_alarm.py). The stack's
    # monitoring key must then let EventBridge use it (NetworkEvidenceArgs.eventbridge_publishes).
    credentials_key_arn: pulumi.Input[str] | None = None


class FleetMonitoring(pulumi.ComponentResource):
    """IoT logging, the alarm topic and every alarm of the iot stack, and Device Defender."""

    topic: aws.sns.Topic
    """The one alarm topic: every alarm, audit finding and Detect violation goes here."""

    def __init__(
        self,
        name: str,
        args: FleetMonitoringArgs,
        opts: pulumi.ResourceOptions | None = None,
        native_provider: aws_native.Provider | None = None,
    ):
        super().__init__("channel:ops:FleetMonitoring", name, None, opts)
        cfg = args.monitoring
        child = pulumi.ResourceOptions(parent=self)
        account, region = args.account_id, args.region

        # --- the alarm topic --------------------------------------------------
        self.topic = aws.sns.Topic(f"{name}-alarms", kms_master_key_id=args.key.arn, opts=child)
        # Changes to the credentials key, from CloudTrail through EventBridge (needs a trail).
        self.key_change_rule = None
        if args.credentials_key_arn is not None:
            self.key_change_rule = aws.cloudwatch.EventRule(
                f"{name}-credentials-key-changes",
                description="Credentials key: key policy or grants changed, key disabled or scheduled for deletion",
                event_pattern=pulumi.Output.from_input(args.credentials_key_arn).apply(key_change_pattern_json),
                opts=child,
            )
        rule_arn = self.key_change_rule.arn if self.key_change_rule else None
        topic_access = aws.sns.TopicPolicy(
            f"{name}-alarms-policy",
            arn=self.topic.arn,
            policy=pulumi.Output.all(self.topic.arn, rule_arn).apply(lambda v: topic_policy(v[0], account, v[1])),
            opts=child,
        )
        if self.key_change_rule is not None:
            aws.cloudwatch.EventTarget(
                f"{name}-credentials-key-changes",
                rule=self.key_change_rule.name,
                arn=self.topic.arn,
                # EventBridge may publish only once the topic policy names the rule.
                opts=pulumi.ResourceOptions(parent=self, depends_on=[topic_access]),
            )
        for i, sub in enumerate(cfg.alarm_subscriptions):
            aws.sns.TopicSubscription(
                f"{name}-alarms-sub-{i}", topic=self.topic.arn, protocol=sub.protocol, endpoint=sub.endpoint, opts=child
            )
        if not cfg.alarm_subscriptions:
            pulumi.log.warn(
                "monitoring.alarmSubscriptions is empty: alarms reach the topic but nobody — add an e-mail or an "
                "https endpoint",
                resource=self,
            )

        # --- IoT Core logs ------------------------------------------------------
        self.iot_log_group = encrypted_log_group(
            f"{name}-iot-logs", log_group_name=IOT_LOG_GROUP, key=args.key,
            retention_days=cfg.log_retention_days, parent=self,
        )
        logging_role = aws.iam.Role(
            f"{name}-iot-logging-role",
            assume_role_policy=service_trust("iot.amazonaws.com", account),
            opts=child,
        )
        logging_write = aws.iam.RolePolicy(
            f"{name}-iot-logging-write",
            role=logging_role.id,
            policy=json.dumps({
                "Version": "2012-10-17",
                "Statement": [{
                    "Effect": "Allow",
                    "Action": ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
                    "Resource": [
                        f"arn:aws:logs:{region}:{account}:log-group:{IOT_LOG_GROUP}",
                        f"arn:aws:logs:{region}:{account}:log-group:{IOT_LOG_GROUP}:*",
                    ],
                }],
            }),
            opts=child,
        )
        aws.iot.LoggingOptions(
            f"{name}-iot-logging",
            default_log_level=cfg.iot_log_level,
            disable_all_logs=False,
            role_arn=logging_role.arn,
            # The log group exists (encrypted, with retention) before IoT Core writes to it.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.iot_log_group, logging_write]),
        )

        # --- client-ID conflicts -----------------------------------------------
        aws.cloudwatch.LogMetricFilter(
            f"{name}-client-id-conflicts",
            log_group_name=self.iot_log_group.name,
            pattern=client_id_conflict_pattern(),
            metric_transformation=aws.cloudwatch.LogMetricFilterMetricTransformationArgs(
                name=CLIENT_ID_CONFLICT_METRIC, namespace=CHANNEL_NAMESPACE, value="1", default_value="0", unit="Count"
            ),
            opts=child,
        )
        self._alarm(
            f"{name}-client-id-conflicts",
            description="Client-ID conflicts: IoT Core dropped a connection because another used its client ID",
            namespace=CHANNEL_NAMESPACE, metric=CLIENT_ID_CONFLICT_METRIC, statistic="Sum", threshold=1,
            operator="GreaterThanOrEqualToThreshold",
        )

        # --- the custom authorizer ----------------------------------------------
        if args.authorizer_function_name is not None:
            fn = {"FunctionName": args.authorizer_function_name}
            self._alarm(f"{name}-authorizer-errors", description="Authorizer errors: the Lambda failed (devices denied)",
                        namespace="AWS/Lambda", metric="Errors", statistic="Sum", threshold=1, dimensions=fn,
                        operator="GreaterThanOrEqualToThreshold")
            self._alarm(f"{name}-authorizer-throttles",
                        description="Authorizer throttles: CONNECTs refused for lack of concurrency",
                        namespace="AWS/Lambda", metric="Throttles", statistic="Sum", threshold=1, dimensions=fn,
                        operator="GreaterThanOrEqualToThreshold")
            self._alarm(f"{name}-authorizer-duration",
                        description="Authorizer duration near the 5 s limit IoT Core allows a custom authorizer",
                        namespace="AWS/Lambda", metric="Duration", statistic="Maximum",
                        threshold=round(AUTHORIZER_TIMEOUT_MS * cfg.limit_alarm_fraction), dimensions=fn)
            self._expression_alarm(
                f"{name}-authorizer-guessing",
                description="Online password guessing: wrong-password and locked-out refusals in 5 minutes",
                metrics={f"m{i}": (AUTHORIZER_NAMESPACE, "Decisions", {"Reason": reason}, "Sum")
                         for i, reason in enumerate(GUESSING_REASONS)},
                expression=" + ".join(f"FILL(m{i}, 0)" for i in range(len(GUESSING_REASONS))),
                threshold=cfg.guessing_alarm_threshold,
            )
            self._alarm(
                f"{name}-authorizer-lockouts",
                description=pulumi.Output.from_input(args.authorizer_function_name).apply(lockout_alarm_description),
                namespace=AUTHORIZER_NAMESPACE, metric=LOCKOUT_METRIC, statistic="Sum", threshold=1,
                dimensions=LOCKOUT_DIMENSIONS, operator="GreaterThanOrEqualToThreshold", period=60,
            )

        # --- limits before they bite --------------------------------------------
        fraction = cfg.limit_alarm_fraction
        for i, endpoint_id in enumerate(args.data_endpoint_ids):
            self._alarm(
                f"{name}-data-endpoint-{i}-connections",
                description=f"iot.data endpoint {i}: connections at {fraction:.0%} of the "
                            f"{CONNECTIONS_PER_DATA_ENDPOINT} one endpoint serves",
                namespace="AWS/PrivateLinkEndpoints", metric="ActiveConnections", statistic="Maximum",
                threshold=round(CONNECTIONS_PER_DATA_ENDPOINT * fraction),
                dimensions={"VPC Id": args.vpc_id, "VPC Endpoint Id": endpoint_id, "Endpoint Type": "Interface",
                            "Service Name": f"com.amazonaws.{region}.iot.data"},
            )
        lb = {"LoadBalancer": args.nlb_arn_suffix}
        if args.endpoint_targets:
            self._expression_alarm(
                f"{name}-nlb-target-connections",
                description=f"NLB: TCP flows per iot.data target at {fraction:.0%} of the "
                            f"{CONNECTIONS_PER_NLB_TARGET} one target IP:port serves",
                metrics={"flows": ("AWS/NetworkELB", "ActiveFlowCount_TCP", lb, "Maximum")},
                expression=f"flows / {args.endpoint_targets}",
                threshold=round(CONNECTIONS_PER_NLB_TARGET * fraction),
            )
        if args.proxy_target_group_suffixes and args.proxy_max_connections:
            first = args.proxy_target_group_suffixes[0]
            self._expression_alarm(
                f"{name}-proxy-connections",
                description=f"Proxy fleet: device connections per healthy proxy at {fraction:.0%} of HAProxy's "
                            f"maxconn {args.proxy_max_connections}",
                metrics={
                    "flows": ("AWS/NetworkELB", "ActiveFlowCount_TLS", lb, "Maximum"),
                    "healthy": ("AWS/NetworkELB", "HealthyHostCount", {**lb, "TargetGroup": first}, "Minimum"),
                },
                expression="flows / IF(healthy > 0, healthy, 1)",
                threshold=round(args.proxy_max_connections * fraction),
            )
            self._alarm(
                f"{name}-proxy-instances",
                description=f"Proxy fleet: fewer healthy proxies than proxyMinSize {args.proxy_min_size}",
                namespace="AWS/NetworkELB", metric="HealthyHostCount", statistic="Minimum",
                threshold=args.proxy_min_size, operator="LessThanThreshold",
                dimensions={**lb, "TargetGroup": first}, missing="breaching",
            )
        for i, suffix in enumerate([*args.endpoint_target_group_suffixes, *args.proxy_target_group_suffixes]):
            self._alarm(
                f"{name}-unhealthy-{i}", description="NLB target group with an unhealthy target",
                namespace="AWS/NetworkELB", metric="UnHealthyHostCount", statistic="Maximum", threshold=1,
                operator="GreaterThanOrEqualToThreshold", dimensions={**lb, "TargetGroup": suffix},
            )
        self._alarm(
            f"{name}-connect-rate",
            description=f"IoT Core CONNECTs per minute at {fraction:.0%} of the account's "
                        f"{args.connect_quota_per_second}/s quota",
            namespace="AWS/IoT", metric="Connect.Success", statistic="Sum", period=60,
            threshold=round(args.connect_quota_per_second * 60 * fraction), dimensions={"Protocol": "MQTT"},
        )
        self._alarm(
            f"{name}-connect-throttled", description="IoT Core throttled CONNECTs: the account's connect quota was hit",
            namespace="AWS/IoT", metric="Connect.Throttle", statistic="Sum", threshold=1,
            operator="GreaterThanOrEqualToThreshold", dimensions={"Protocol": "MQTT"},
        )

        # --- abnormal behaviour, fleet-wide -------------------------------------------
        # The signals of Device Defender Detect's cloud-side metrics, as CloudWatch alarms on IoT
        # Core's own metrics (IoT developer guide, "AWS IoT metrics and dimensions"): they work in
        # every account, Detect or not.
        self._alarm(
            f"{name}-authorization-failures",
            description="IoT Core authentication failures in 5 minutes above monitoring.guessingAlarmThreshold",
            namespace="AWS/IoT", metric="Connect.AuthNError", statistic="Sum",
            threshold=cfg.guessing_alarm_threshold, dimensions={"Protocol": "MQTT"},
        )
        for metric, what in (("Connect.Success", "connections"), ("PublishIn.Success", "messages received")):
            self._anomaly_alarm(
                f"{name}-{metric.split('.')[0].lower()}-anomaly",
                description=f"IoT Core {what} outside the band CloudWatch learned for this fleet",
                namespace="AWS/IoT", metric=metric, dimensions={"Protocol": "MQTT"},
            )

        # --- Device Defender ------------------------------------------------------
        self.security_profile = None
        if cfg.device_defender:
            self._device_defender(name, args, native_provider)
        else:
            pulumi.log.warn("monitoring.deviceDefender is false: no audit and no Detect profile", resource=self)

        # --- the dashboard --------------------------------------------------------
        aws.cloudwatch.Dashboard(
            f"{name}-dashboard",
            dashboard_name=f"{name}-channel",
            dashboard_body=pulumi.Output.all(
                lb=args.nlb_arn_suffix, endpoints=list(args.data_endpoint_ids), vpc=args.vpc_id,
                fn=args.authorizer_function_name,
            ).apply(lambda v: dashboard_body(region, v["lb"], v["endpoints"], v["vpc"], v["fn"])),
            opts=child,
        )
        self.register_outputs({"alarmTopicArn": self.topic.arn})

    # ------------------------------------------------------------------------
    def _register(self, name: str, **args) -> aws.cloudwatch.MetricAlarm:
        """Every alarm of the channel notifies the one alarm topic when it fires and when it clears."""
        return aws.cloudwatch.MetricAlarm(
            name,
            alarm_actions=[self.topic.arn],
            ok_actions=[self.topic.arn],
            opts=pulumi.ResourceOptions(parent=self),
            **args,
        )

    def _alarm(self, name: str, *, description: pulumi.Input[str], namespace: str, metric: str, statistic: str, threshold: float,
               dimensions: dict | None = None, operator: str = "GreaterThanThreshold", period: int = PERIOD_SECONDS,
               missing: str = "notBreaching") -> aws.cloudwatch.MetricAlarm:
        return self._register(
            name,
            alarm_description=description,
            namespace=namespace,
            metric_name=metric,
            statistic=statistic,
            dimensions=dimensions,
            period=period,
            evaluation_periods=1,
            threshold=threshold,
            comparison_operator=operator,
            treat_missing_data=missing,
        )

    def _expression_alarm(self, name: str, *, description: str, metrics: dict, expression: str,
                          threshold: float) -> aws.cloudwatch.MetricAlarm:
        queries = [
            aws.cloudwatch.MetricAlarmMetricQueryArgs(
                id=qid,
                return_data=False,
                metric=aws.cloudwatch.MetricAlarmMetricQueryMetricArgs(
                    namespace=ns, metric_name=metric, dimensions=dims, stat=stat, period=PERIOD_SECONDS
                ),
            )
            for qid, (ns, metric, dims, stat) in metrics.items()
        ]
        queries.append(aws.cloudwatch.MetricAlarmMetricQueryArgs(
            id="result", expression=expression, label=description[:64], return_data=True))
        return self._register(
            name,
            alarm_description=description,
            metric_queries=queries,
            evaluation_periods=1,
            threshold=threshold,
            comparison_operator="GreaterThanThreshold",
            treat_missing_data="notBreaching",
        )

    def _anomaly_alarm(self, name: str, *, description: str, namespace: str, metric: str,
                       dimensions: dict) -> aws.cloudwatch.MetricAlarm:
        """Above the band CloudWatch anomaly detection learns for the metric (CloudWatch user
        guide, "Using CloudWatch anomaly detection"; the band's width is in standard deviations)."""
        return self._register(
            name,
            alarm_description=description,
            metric_queries=[
                aws.cloudwatch.MetricAlarmMetricQueryArgs(
                    id="m1", return_data=True,
                    metric=aws.cloudwatch.MetricAlarmMetricQueryMetricArgs(
                        namespace=namespace, metric_name=metric, dimensions=dimensions, stat="Sum",
                        period=PERIOD_SECONDS),
                ),
                aws.cloudwatch.MetricAlarmMetricQueryArgs(
                    id="band", expression=f"ANOMALY_DETECTION_BAND(m1, {ANOMALY_BAND_WIDTH})", label=metric,
                    return_data=True),
            ],
            threshold_metric_id="band",
            comparison_operator="GreaterThanUpperThreshold",
            evaluation_periods=ANOMALY_EVALUATION_PERIODS,
            treat_missing_data="notBreaching",
        )

    def _device_defender(self, name: str, args: FleetMonitoringArgs, native: aws_native.Provider | None) -> None:
        cfg, account, region = args.monitoring, args.account_id, args.region
        child = pulumi.ResourceOptions(parent=self)
        audit_role = aws.iam.Role(
            f"{name}-audit-role", assume_role_policy=service_trust("iot.amazonaws.com", account), opts=child
        )
        audit_permissions = aws.iam.RolePolicyAttachment(
            f"{name}-audit-role-policy",
            role=audit_role.name,
            policy_arn="arn:aws:iam::aws:policy/service-role/AWSIoTDeviceDefenderAudit",
            opts=child,
        )
        publish_role = aws.iam.Role(
            f"{name}-defender-publish-role", assume_role_policy=service_trust("iot.amazonaws.com", account), opts=child
        )
        publish_permissions = aws.iam.RolePolicy(
            f"{name}-defender-publish",
            role=publish_role.id,
            policy=pulumi.Output.all(self.topic.arn, args.key.arn).apply(lambda v: json.dumps({
                "Version": "2012-10-17",
                "Statement": [
                    {"Effect": "Allow", "Action": "sns:Publish", "Resource": v[0]},
                    {"Effect": "Allow", "Action": ["kms:Decrypt", "kms:GenerateDataKey*"], "Resource": v[1]},
                ],
            })),
            opts=child,
        )
        checks = {check: aws_native.iot.AccountAuditConfigurationAuditCheckConfigurationArgs(enabled=True)
                  for check in AUDIT_CHECKS}
        audit = aws_native.iot.AccountAuditConfiguration(
            f"{name}-audit",
            account_id=account,
            role_arn=audit_role.arn,
            audit_check_configurations=aws_native.iot.AccountAuditConfigurationAuditCheckConfigurationsArgs(**checks),
            audit_notification_target_configurations=aws_native.iot.AccountAuditConfigurationAuditNotificationTargetConfigurationsArgs(
                sns=aws_native.iot.AccountAuditConfigurationAuditNotificationTargetArgs(
                    enabled=True, role_arn=publish_role.arn, target_arn=self.topic.arn
                )
            ),
            # The roles' permissions before IoT Core is told to use them.
            opts=pulumi.ResourceOptions(
                parent=self, provider=native, depends_on=[audit_permissions, publish_permissions]
            ),
        )
        schedule: dict = {}
        if cfg.audit_frequency in ("WEEKLY", "BIWEEKLY"):
            schedule["day_of_week"] = "MON"
        elif cfg.audit_frequency == "MONTHLY":
            schedule["day_of_month"] = "1"
        aws_native.iot.ScheduledAudit(
            f"{name}-scheduled-audit",
            frequency=cfg.audit_frequency,
            target_check_names=[audit_check_api_name(c) for c in AUDIT_CHECKS],
            # A scheduled audit may name only checks the account's audit configuration enables.
            opts=pulumi.ResourceOptions(parent=self, provider=native, depends_on=[audit]),
            **schedule,
        )

        if not cfg.device_defender_detect:
            pulumi.log.info(
                "monitoring.deviceDefenderDetect is false: no Detect security profile (AWS closed Detect to new "
                "customers on 2026-08-31); the fleet-wide anomaly alarms watch the same signals",
                resource=self,
            )
            return

        def behavior(label: str, metric: str, criteria) -> aws_native.iot.SecurityProfileBehaviorArgs:
            return aws_native.iot.SecurityProfileBehaviorArgs(name=label, metric=metric, criteria=criteria)

        self.security_profile = aws_native.iot.SecurityProfile(
            f"{name}-detect",
            security_profile_description="Private MQTT channel: authorization failures, connection attempts, messages",
            behaviors=[
                behavior("authorization-failures", "aws:num-authorization-failures",
                         aws_native.iot.SecurityProfileBehaviorCriteriaArgs(
                             comparison_operator="greater-than",
                             value=aws_native.iot.SecurityProfileMetricValueArgs(count=str(DETECT_MAX_AUTHORIZATION_FAILURES)),
                             duration_seconds=DETECT_DURATION_SECONDS)),
                behavior("connection-attempts", "aws:num-connection-attempts",
                         aws_native.iot.SecurityProfileBehaviorCriteriaArgs(
                             comparison_operator="greater-than",
                             value=aws_native.iot.SecurityProfileMetricValueArgs(count=str(DETECT_MAX_CONNECTION_ATTEMPTS)),
                             duration_seconds=DETECT_DURATION_SECONDS)),
                behavior("messages-sent", "aws:num-messages-sent",
                         aws_native.iot.SecurityProfileBehaviorCriteriaArgs(
                             comparison_operator="greater-than",
                             statistical_threshold=aws_native.iot.SecurityProfileStatisticalThresholdArgs(
                                 statistic=DETECT_MESSAGES_STATISTIC),
                             duration_seconds=DETECT_DURATION_SECONDS)),
            ],
            alert_targets={"SNS": aws_native.iot.SecurityProfileAlertTargetArgs(
                alert_target_arn=self.topic.arn, role_arn=publish_role.arn)},
            # Registered things (certificate devices) and unregistered ones (the authorizer's devices).
            target_arns=[f"arn:aws:iot:{region}:{account}:all/things",
                         f"arn:aws:iot:{region}:{account}:all/unregistered-things"],
            opts=pulumi.ResourceOptions(parent=self, provider=native, depends_on=[publish_permissions]),
        )


def service_trust(service: str, account_id: str) -> str:
    """A role only ``service`` may assume, and only on behalf of this account (confused deputy)."""
    return json.dumps({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"Service": service},
            "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"aws:SourceAccount": account_id}},
        }],
    })


def lockout_alarm_description(function_name: str) -> str:
    """The lockout alarm says which log query names the locked users (the alarm itself cannot)."""
    text = (
        "Authorizer locked a device user name after too many refused CONNECTs (authorizer.maxFailedAttempts). "
        "A guesser who knows a name keeps that device out while the lock lasts. Which names: CloudWatch Logs "
        f"Insights on /aws/lambda/{function_name}: fields @timestamp, {LOCKED_USER} | filter ispresent({LOCKED_USER}) "
        "| sort @timestamp desc. Unlock with channelctl devices unlock <user>; see docs/authorizer-and-credentials.md, Lockout: the trade-off."
    )
    if len(text) > ALARM_DESCRIPTION_MAX:
        raise ValueError(f"lockout alarm description is {len(text)} characters, CloudWatch allows {ALARM_DESCRIPTION_MAX}")
    return text


def topic_policy(topic_arn: str, account_id: str, key_change_rule_arn: str | None = None) -> str:
    """The account manages the topic; CloudWatch alarms of this account publish to it, and the
    credentials key's change rule, when there is one, and only that rule."""
    extra = [rule_publishes_statement(topic_arn, key_change_rule_arn)] if key_change_rule_arn else []
    return json.dumps({
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "AccountManages",
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{account_id}:root"},
                "Action": ["sns:Publish", "sns:Subscribe", "sns:GetTopicAttributes", "sns:SetTopicAttributes",
                           "sns:ListSubscriptionsByTopic"],
                "Resource": topic_arn,
            },
            {
                "Sid": "AlarmsOfThisAccountPublish",
                "Effect": "Allow",
                "Principal": {"Service": "cloudwatch.amazonaws.com"},
                "Action": "sns:Publish",
                "Resource": topic_arn,
                "Condition": {"StringEquals": {"aws:SourceAccount": account_id}},
            },
            *extra,
        ],
    })


def dashboard_body(region: str, lb: str, endpoints: list[str], vpc: str, function_name: str | None) -> str:
    def widget(title: str, metrics: list, y: int, x: int) -> dict:
        return {"type": "metric", "x": x, "y": y, "width": 12, "height": 6,
                "properties": {"title": title, "region": region, "metrics": metrics, "period": PERIOD_SECONDS,
                               "view": "timeSeries", "stacked": False}}

    widgets = [
        widget("iot.data endpoints: active connections",
               [["AWS/PrivateLinkEndpoints", "ActiveConnections", "VPC Id", vpc, "VPC Endpoint Id", e,
                 "Endpoint Type", "Interface", "Service Name", f"com.amazonaws.{region}.iot.data"] for e in endpoints],
               0, 0),
        widget("NLB: active flows",
               [["AWS/NetworkELB", "ActiveFlowCount_TCP", "LoadBalancer", lb],
                ["AWS/NetworkELB", "ActiveFlowCount_TLS", "LoadBalancer", lb]], 0, 12),
        widget("IoT Core: connects",
               [["AWS/IoT", "Connect.Success", "Protocol", "MQTT"], ["AWS/IoT", "Connect.Throttle", "Protocol", "MQTT"],
                ["AWS/IoT", "Connect.AuthNError", "Protocol", "MQTT"]], 6, 0),
        widget("Client-ID conflicts", [[CHANNEL_NAMESPACE, CLIENT_ID_CONFLICT_METRIC]], 6, 12),
    ]
    if function_name:
        widgets.append(widget("Authorizer", [["AWS/Lambda", m, "FunctionName", function_name]
                                             for m in ("Invocations", "Errors", "Throttles", "Duration")], 12, 0))
        widgets.append(widget("Authorizer decisions by reason",
                              [[{"expression": f"SEARCH('{{{AUTHORIZER_NAMESPACE},Reason}}', 'Sum', {PERIOD_SECONDS})",
                                 "id": "reasons"}]], 12, 12))
    # Published by `channelctl devices migration --publish-metrics` (channelctl/devices/migration.py) whenever
    # the operator runs it, e.g. hourly: one point per family and state, so hourly maxima.
    widgets.append(widget("Migration to certificates: devices by family and state",
                          [[{"expression": f"SEARCH('{{{CHANNEL_NAMESPACE},Family,State}} "
                                           f"MetricName=\"{MIGRATION_METRIC}\"', 'Maximum', 3600)",
                             "id": "migration"}]], 18, 0))
    return json.dumps({"widgets": widgets})
