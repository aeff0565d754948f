"""The deployer policy's limits and scoping rules: how large a policy may be, which actions only
``"*"`` grants, and which of a referenced stack's resources a stack may touch.
``channelctl.plan.deployer_policy`` applies them to the actions of ``deployer_actions``.
"""

from __future__ import annotations

import re

# --------------------------------------------------------------------------- #
# Limits
# --------------------------------------------------------------------------- #

# IAM and AWS STS quotas (docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html):
# "The size of each managed policy cannot exceed 6,144 characters"; IAM does not count
# white space. Managed policies attached to a role: 10 by default (adjustable).
MANAGED_POLICY_MAX_CHARS = 6144
MANAGED_POLICIES_PER_ROLE_DEFAULT = 10

# `service:Action`: the service prefix is lower case letters, digits and hyphens; the action
# name is CamelCase letters and digits (Service Authorization Reference). No wildcards here:
# every action is named.
ACTION_PATTERN = re.compile(r"^[a-z0-9-]+:[A-Z][A-Za-z0-9]+$")

# Actions that take no resource ARN (Service Authorization Reference: no resource type
# listed), so only "*" grants them. Every EC2 Describe* is among them.
_UNSCOPED_PREFIXES = ("ec2:Describe",)
_UNSCOPED = frozenset({
    "sts:GetCallerIdentity",
    "iot:DescribeEndpoint",
    # AWS IoT developer guide, "IAM IoT policies" (API permissions table): resource "*".
    "iot:RegisterCACertificate",
    "kms:CreateKey",
    "route53:CreateHostedZone",
    "route53:ListHostedZonesByVPC",
    "route53:ListVPCAssociationAuthorizations",
    "ram:GetResourceShareInvitations",
    "ram:GetResourceShares",
    "ram:GetResourceShareAssociations",
    "ram:ListResources",
    "elasticloadbalancing:DescribeLoadBalancers",
    "elasticloadbalancing:DescribeLoadBalancerAttributes",
    "elasticloadbalancing:DescribeListeners",
    "elasticloadbalancing:DescribeListenerAttributes",
    "elasticloadbalancing:DescribeTargetGroups",
    "elasticloadbalancing:DescribeTargetGroupAttributes",
    "elasticloadbalancing:DescribeTargetHealth",
    "elasticloadbalancing:DescribeTags",
    "autoscaling:DescribeAutoScalingGroups",
    "autoscaling:DescribeScalingActivities",
    "autoscaling:DescribeLoadBalancerTargetGroups",
    "autoscaling:DescribeTrafficSources",
    "autoscaling:DescribeInstanceRefreshes",
    "directconnect:DescribeDirectConnectGateways",
    "directconnect:DescribeDirectConnectGatewayAssociations",
    "directconnect:DescribeVirtualInterfaces",
    "directconnect:CreateDirectConnectGateway",
    "servicequotas:GetAWSDefaultServiceQuota",
    "logs:DescribeLogGroups",
    "logs:CreateLogDelivery",
    "logs:GetLogDelivery",
    "logs:UpdateLogDelivery",
    "logs:DeleteLogDelivery",
    "logs:ListLogDeliveries",
    "logs:PutResourcePolicy",
    "logs:DescribeResourcePolicies",
    "kms:ListAliases",
    "iot:SetV2LoggingOptions",
    "iot:GetV2LoggingOptions",
    "iot:UpdateAccountAuditConfiguration",
    "iot:DescribeAccountAuditConfiguration",
    "iot:DeleteAccountAuditConfiguration",
    "cloudwatch:DescribeAlarms",
    "cloudformation:CreateResource",
    "cloudformation:GetResource",
    "cloudformation:UpdateResource",
    "cloudformation:DeleteResource",
    "cloudformation:GetResourceRequestStatus",
})

# Resources in a referenced stack's account that this stack's actions name, by (this
# stack's role, the referenced stack's role): the iot stack attaches to the network
# account's Transit Gateway and accepts its RAM invitation; the network stack accepts
# (and routes to) the iot account's attachment; a consumer connects to the iot account's
# endpoint service. Nothing else of another account is granted.
PEER_RESOURCES: dict[tuple[str, str], tuple[tuple[str, str], ...]] = {
    ("iot", "network"): (("ec2", "transit-gateway/*"), ("ram", "resource-share/*"),
                         ("ram", "resource-share-invitation/*")),
    ("network", "iot"): (("ec2", "transit-gateway-attachment/*"),),
    ("consumer", "iot"): (("ec2", "vpc-endpoint-service/*"),),
}
