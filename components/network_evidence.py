"""NetworkEvidence: what crossed each VPC of a stack, and what the device VPC resolved.

One customer-managed KMS key per stack encrypts every log group of the
monitoring section (and, in the iot stack, the alarm topic). Every VPC the
stack creates gets a flow log of all traffic (accepted and rejected) into its
own log group; the network stack also logs the Route 53 Resolver queries of
the device VPC, which on-premises DNS forwarders reach through the inbound
endpoint.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Mapping

import pulumi
import pulumi_aws as aws

from components.config import MonitoringConfig
from components.key_change_alarm import eventbridge_key_statement

# Flow-log records are aggregated for at most this many seconds before they are
# published: 60 or 600 (CreateFlowLogs, MaxAggregationInterval). A device's MQTT session
# sends a keep-alive at least every 230 s, so each proxied or endpoint flow yields a record
# in nearly every interval: 600 s makes the channel's largest log (and cost) ten times
# smaller than 60 s, at the price of coarser timestamps (docs/monitoring-and-runbooks.md, "Monitoring and alarms").
FLOW_LOG_AGGREGATION_SECONDS = 600


@dataclass(frozen=True, kw_only=True)
class NetworkEvidenceArgs:
    """What the stack logs; every key of ``monitoring`` is validated before this exists."""

    # The stack's monitoring section (retention, flowLogs, resolverQueryLogs).
    monitoring: MonitoringConfig
    account_id: str
    region: str
    # label -> VPC id of every VPC the stack creates; each gets a flow log.
    vpcs: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    # The VPC whose Resolver queries are logged (the device VPC), or None.
    resolver_vpc_id: pulumi.Input[str] | None = None
    # Service principals besides CloudWatch Logs that may use the key (the alarm topic's publishers).
    key_users: tuple[str, ...] = ()
    # The role deploying the stack (assumeRoleArn), or None when the provider runs with the
    # caller's own credentials (no ARN to name).
    deployer_role_arn: str | None = None
    # An EventBridge rule publishes to the alarm topic (the credentials key's change alarm):
    # events.amazonaws.com may use the key for it (components/key_change_alarm.py).
    eventbridge_publishes: bool = False


def logs_key_policy(account_id: str, region: str, partition: str = "aws", key_users: tuple[str, ...] = (),
                    deployer_arn: str | None = None, eventbridge_publishes: bool = False) -> str:
    """Key policy: the account administers the key; CloudWatch Logs uses it only for this account's log groups.

    CloudWatch Logs user guide, "Encrypt log data in CloudWatch Logs using AWS KMS"
    (docs.aws.amazon.com/AmazonCloudWatch/latest/logs/encrypt-log-data-kms.html), step 2: the
    ``logs.<region>.amazonaws.com`` service principal uses the key itself (kms:Encrypt*,
    kms:Decrypt*, kms:ReEncrypt*, kms:GenerateDataKey*, kms:Describe*), limited by the
    ``kms:EncryptionContext:aws:logs:arn`` condition to this account's log groups. Creating an
    encrypted log group takes no key permission of the caller's: CloudWatch Logs, not the
    deployer, calls KMS, so the deployer gets no via-logs statement.
    """
    statements = [
        {
            "Sid": "AccountAdministers",
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:{partition}:iam::{account_id}:root"},
            "Action": "kms:*",
            "Resource": "*",
        },
        {
            "Sid": "CloudWatchLogsEncryptsThisAccountsLogGroups",
            "Effect": "Allow",
            "Principal": {"Service": f"logs.{region}.amazonaws.com"},
            "Action": ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
            "Resource": "*",
            "Condition": {
                "ArnLike": {
                    "kms:EncryptionContext:aws:logs:arn": f"arn:{partition}:logs:{region}:{account_id}:log-group:*"
                }
            },
        },
    ]
    if key_users:
        # An encrypted SNS topic: CloudWatch alarms (and the IoT roles) publish to it. SNS developer
        # guide, "Enable compatibility between event sources from AWS services and encrypted topics"
        # (docs.aws.amazon.com/sns/latest/dg/sns-key-management.html#compatibility-with-aws-services):
        # the service principal (cloudwatch.amazonaws.com) gets kms:Decrypt and kms:GenerateDataKey*.
        statements.append(
            {
                "Sid": "AlarmPublishersUseTheKeyForThisAccount",
                "Effect": "Allow",
                "Principal": {"Service": list(key_users)},
                "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
                "Resource": "*",
                "Condition": {"StringEquals": {"aws:SourceAccount": account_id}},
            }
        )
        if deployer_arn:
            # The deployer publishes to the encrypted topic only through SNS (a test message
            # after a release): SNS developer guide, "Configuring AWS KMS permissions"
            # (sns-key-management.html), a publisher to a topic with SSE needs
            # kms:GenerateDataKey* and kms:Decrypt; kms:ViaService keeps them to SNS's calls.
            statements.append(
                {
                    "Sid": "DeployerThroughSnsOnly",
                    "Effect": "Allow",
                    "Principal": {"AWS": deployer_arn},
                    "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
                    "Resource": "*",
                    "Condition": {
                        "StringEquals": {"kms:ViaService": f"sns.{region}.amazonaws.com", "kms:CallerAccount": account_id}
                    },
                }
            )
    if eventbridge_publishes:
        # Its own statement: the source conditions above break EventBridge's delivery to an
        # encrypted topic (components/key_change_alarm.py says where AWS says so).
        statements.append(eventbridge_key_statement())
    return json.dumps({"Version": "2012-10-17", "Statement": statements})


def flow_logs_trust_policy(account_id: str, region: str, partition: str = "aws") -> str:
    """Who may assume the role VPC Flow Logs publishes with (VPC user guide, "IAM role for
    publishing flow logs to CloudWatch Logs"), confused-deputy conditions included."""
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "vpc-flow-logs.amazonaws.com"},
                "Action": "sts:AssumeRole",
                "Condition": {
                    "StringEquals": {"aws:SourceAccount": account_id},
                    "ArnLike": {"aws:SourceArn": f"arn:{partition}:ec2:{region}:{account_id}:vpc-flow-log/*"},
                },
            }
        ],
    }
    return json.dumps(trust)


def encrypted_log_group(
    name: str, *, log_group_name: pulumi.Input[str] | None, key: aws.kms.Key, retention_days: int, parent: pulumi.Resource
) -> aws.cloudwatch.LogGroup:
    return aws.cloudwatch.LogGroup(
        name,
        name=log_group_name,
        retention_in_days=retention_days,
        kms_key_id=key.arn,
        opts=pulumi.ResourceOptions(parent=parent),
    )


class NetworkEvidence(pulumi.ComponentResource):
    """Flow logs for the stack's VPCs and the device VPC's Resolver query log, KMS-encrypted."""

    key: aws.kms.Key
    """The stack's monitoring key (log groups, alarm topic)."""
    flow_log_groups: dict[str, aws.cloudwatch.LogGroup]
    """label -> the log group of that VPC's flow log."""

    def __init__(self, name: str, args: NetworkEvidenceArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("channel:ops:NetworkEvidence", name, None, opts)
        cfg = args.monitoring
        child = pulumi.ResourceOptions(parent=self)
        self.key = aws.kms.Key(
            f"{name}-key",
            description=f"{name}: flow logs, Resolver query logs and alarms of this stack",
            enable_key_rotation=True,
            deletion_window_in_days=30,
            policy=logs_key_policy(args.account_id, args.region, key_users=args.key_users,
                                   deployer_arn=args.deployer_role_arn,
                                   eventbridge_publishes=args.eventbridge_publishes),
            opts=child,
        )
        aws.kms.Alias(f"{name}-key-alias", name=f"alias/{name}-logs", target_key_id=self.key.key_id, opts=child)

        self.flow_log_groups = {}
        if cfg.flow_logs and args.vpcs:
            role = aws.iam.Role(
                f"{name}-flow-logs-role",
                assume_role_policy=flow_logs_trust_policy(args.account_id, args.region),
                opts=child,
            )
            for label in args.vpcs:
                self.flow_log_groups[label] = encrypted_log_group(
                    f"{name}-flow-{label}", log_group_name=None, key=self.key,
                    retention_days=cfg.log_retention_days, parent=self,
                )
            # Only these log groups, only what delivery needs.
            write = aws.iam.RolePolicy(
                f"{name}-flow-logs-write",
                role=role.id,
                policy=pulumi.Output.all(*[g.arn for g in self.flow_log_groups.values()]).apply(
                    lambda arns: json.dumps(
                        {
                            "Version": "2012-10-17",
                            "Statement": [
                                {
                                    "Effect": "Allow",
                                    "Action": [
                                        "logs:CreateLogStream",
                                        "logs:PutLogEvents",
                                        "logs:DescribeLogGroups",
                                        "logs:DescribeLogStreams",
                                    ],
                                    "Resource": [a for arn in arns for a in (arn, f"{arn}:*")],
                                }
                            ],
                        }
                    )
                ),
                opts=child,
            )
            for label, vpc_id in args.vpcs.items():
                aws.ec2.FlowLog(
                    f"{name}-flow-{label}",
                    vpc_id=vpc_id,
                    traffic_type="ALL",
                    log_destination_type="cloud-watch-logs",
                    log_destination=self.flow_log_groups[label].arn,
                    iam_role_arn=role.arn,
                    max_aggregation_interval=FLOW_LOG_AGGREGATION_SECONDS,
                    tags={"Name": f"{name}-{label}"},
                    # The role's arn is known as soon as the role exists, its permissions
                    # only once the inline policy does: a flow log created in between
                    # cannot deliver (its status says so), so it waits for the policy.
                    opts=pulumi.ResourceOptions(parent=self, depends_on=[write]),
                )
        elif not cfg.flow_logs:
            pulumi.log.warn("monitoring.flowLogs is false: the stack's VPCs have no flow log", resource=self)

        self.resolver_log_group = None
        if cfg.resolver_query_logs and args.resolver_vpc_id is not None:
            self.resolver_log_group = encrypted_log_group(
                f"{name}-resolver-queries", log_group_name=None, key=self.key,
                retention_days=cfg.log_retention_days, parent=self,
            )
            # Resolver adds the log group's resource policy itself when the deployer may
            # call logs:PutResourcePolicy (Route 53 developer guide, "Resolver query logging").
            query_log = aws.route53.ResolverQueryLogConfig(
                f"{name}-resolver-queries",
                name=f"{name}-device-vpc",
                destination_arn=self.resolver_log_group.arn,
                opts=child,
            )
            aws.route53.ResolverQueryLogConfigAssociation(
                f"{name}-resolver-queries",
                resolver_query_log_config_id=query_log.id,
                resource_id=args.resolver_vpc_id,
                opts=child,
            )

        self.register_outputs({"keyArn": self.key.arn})
