"""The IAM policy a stack's deployer role needs, built from what the plan renders.

``channelctl plan --deployer-policy STACK`` renders the project in release
order (every render of the stack counts: a resource the first pass declares
and the second drops is deleted by the second ``pulumi up``), collects the
Pulumi resource types and invokes of STACK, and maps each one through
``RESOURCE_ACTIONS`` / ``INVOKE_ACTIONS`` to the IAM actions that
hashicorp/terraform-provider-aws (which pulumi-aws bridges) calls to create,
read, update, delete and tag it. A type or invoke missing from the tables is
an error, never a silently narrower policy.

Sources for the tables: the provider's ``internal/service/<service>/*.go``
(Create/Read/Update/Delete functions and their finders) and the AWS Service
Authorization Reference (action names, which actions take resource ARNs).
Checked in the provider source: the Direct Connect gateway association reads
the Transit Gateway attachment through ``ec2:DescribeTransitGatewayAttachments``
(``FindTransitGatewayAttachmentByTransitGatewayIDAndDirectConnectGatewayID``);
the Auto Scaling group attaches ``target_group_arns`` with
``AttachLoadBalancerTargetGroups`` and ``traffic_source`` with
``AttachTrafficSources``; the load balancer listener reads its attributes with
``DescribeListenerAttributes`` (``findListenerAttributesByARN``).

Resources are scoped to the stack's account and region wherever the service
has resource-level permissions; Route 53 ARNs carry neither (global service),
EC2 ``Describe*`` and a few ``Create*``/``List*`` actions take no resource
(Service Authorization Reference) and get ``*``. Actions that touch another
stack's resources (the network account's Transit Gateway from the iot stack,
the iot account's endpoint service from a consumer, RAM invitations) are
scoped to the accounts of the stacks this stack references.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

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

# Resource types that need no AWS permission: the program's own components and Pulumi's
# built-ins (providers, stack references) are never sent to AWS.
NON_AWS_TYPE_PREFIXES = ("channel:", "pulumi:")

# The provider asks STS who it is before anything else: allowed_account_ids is checked
# against GetCallerIdentity's account (components/providers.py). STS answers it without any
# permission (STS API reference, GetCallerIdentity); it is named so the policy says so.
PROVIDER_ACTIONS = ("sts:GetCallerIdentity",)


class DeployerPolicyError(Exception):
    """The policy cannot be built; the message names what is missing."""


@dataclass(frozen=True)
class Actions:
    """The IAM actions the provider calls for one resource type, by lifecycle step."""

    create: tuple[str, ...]
    read: tuple[str, ...]
    update: tuple[str, ...] = ()
    delete: tuple[str, ...] = ()
    tag: tuple[str, ...] = ()
    # Service-linked roles AWS creates on first use (iam:CreateServiceLinkedRole with
    # iam:AWSServiceName); the caller needs the permission the first time only.
    service_linked_roles: tuple[str, ...] = ()

    def all(self, *, read_only: bool = False) -> tuple[str, ...]:
        if read_only:
            return self.read
        return self.create + self.read + self.update + self.delete + self.tag


_EC2_TAGS = ("ec2:CreateTags", "ec2:DeleteTags")
_ELB_TAGS = ("elasticloadbalancing:AddTags", "elasticloadbalancing:RemoveTags")
_ENI_CHECK = ("ec2:DescribeNetworkInterfaces",)
_VPC_LOOKUPS = ("ec2:DescribeSecurityGroups", "ec2:DescribeSubnets", "ec2:DescribeVpcs")
_TGW_ROUTING_READS = (
    "ec2:GetTransitGatewayRouteTableAssociations",
    "ec2:GetTransitGatewayRouteTablePropagations",
    "ec2:DescribeTransitGateways",
)

_CLOUD_CONTROL_CREATE = ("cloudformation:CreateResource", "cloudformation:GetResourceRequestStatus")
_CLOUD_CONTROL_READ = ("cloudformation:GetResource",)

RESOURCE_ACTIONS: dict[str, Actions] = {
    # ---- EC2 / VPC --------------------------------------------------------
    "aws:ec2/vpc:Vpc": Actions(
        create=("ec2:CreateVpc",),
        # Read also fills the default route table, security group and network ACL ids.
        read=("ec2:DescribeVpcs", "ec2:DescribeVpcAttribute", "ec2:DescribeRouteTables",
              "ec2:DescribeSecurityGroups", "ec2:DescribeNetworkAcls"),
        update=("ec2:ModifyVpcAttribute",),
        delete=("ec2:DeleteVpc",),
        tag=_EC2_TAGS,
    ),
    "aws:ec2/subnet:Subnet": Actions(
        create=("ec2:CreateSubnet",),
        read=("ec2:DescribeSubnets",),
        update=("ec2:ModifySubnetAttribute",),
        # Delete waits for the subnet's ENIs (endpoints, NLB, Lambda) to go.
        delete=("ec2:DeleteSubnet",) + _ENI_CHECK,
        tag=_EC2_TAGS,
    ),
    "aws:ec2/routeTable:RouteTable": Actions(
        create=("ec2:CreateRouteTable", "ec2:CreateRoute"),
        read=("ec2:DescribeRouteTables",),
        update=("ec2:CreateRoute", "ec2:ReplaceRoute", "ec2:DeleteRoute"),
        delete=("ec2:DeleteRouteTable",),
        tag=_EC2_TAGS,
    ),
    "aws:ec2/route:Route": Actions(
        create=("ec2:CreateRoute",),
        read=("ec2:DescribeRouteTables",),
        update=("ec2:ReplaceRoute",),
        delete=("ec2:DeleteRoute",),
    ),
    "aws:ec2/routeTableAssociation:RouteTableAssociation": Actions(
        create=("ec2:AssociateRouteTable",),
        read=("ec2:DescribeRouteTables",),
        update=("ec2:ReplaceRouteTableAssociation",),
        delete=("ec2:DisassociateRouteTable",),
    ),
    "aws:ec2/securityGroup:SecurityGroup": Actions(
        # Create revokes the default allow-all egress rule before adding the declared ones.
        create=("ec2:CreateSecurityGroup", "ec2:AuthorizeSecurityGroupIngress",
                "ec2:AuthorizeSecurityGroupEgress", "ec2:RevokeSecurityGroupEgress"),
        read=("ec2:DescribeSecurityGroups", "ec2:DescribeSecurityGroupRules"),
        update=("ec2:RevokeSecurityGroupIngress", "ec2:UpdateSecurityGroupRuleDescriptionsIngress",
                "ec2:UpdateSecurityGroupRuleDescriptionsEgress"),
        delete=("ec2:DeleteSecurityGroup",) + _ENI_CHECK,
        tag=_EC2_TAGS,
    ),
    "aws:ec2/vpcEndpoint:VpcEndpoint": Actions(
        create=("ec2:CreateVpcEndpoint",),
        read=("ec2:DescribeVpcEndpoints", "ec2:DescribePrefixLists"),
        update=("ec2:ModifyVpcEndpoint",),
        delete=("ec2:DeleteVpcEndpoints",),
        tag=_EC2_TAGS,
    ),
    "aws:ec2/vpcEndpointService:VpcEndpointService": Actions(
        create=("ec2:CreateVpcEndpointServiceConfiguration", "ec2:ModifyVpcEndpointServicePermissions"),
        read=("ec2:DescribeVpcEndpointServiceConfigurations", "ec2:DescribeVpcEndpointServicePermissions"),
        update=("ec2:ModifyVpcEndpointServiceConfiguration",),
        delete=("ec2:DeleteVpcEndpointServiceConfigurations",),
        tag=_EC2_TAGS,
    ),
    "aws:ec2/vpcEndpointConnectionAccepter:VpcEndpointConnectionAccepter": Actions(
        create=("ec2:AcceptVpcEndpointConnections",),
        read=("ec2:DescribeVpcEndpointConnections",),
        delete=("ec2:RejectVpcEndpointConnections",),
    ),
    "aws:ec2/launchTemplate:LaunchTemplate": Actions(
        create=("ec2:CreateLaunchTemplate",),
        read=("ec2:DescribeLaunchTemplates", "ec2:DescribeLaunchTemplateVersions"),
        update=("ec2:CreateLaunchTemplateVersion", "ec2:ModifyLaunchTemplate"),
        delete=("ec2:DeleteLaunchTemplate",),
        tag=_EC2_TAGS,
    ),
    "aws:ec2/instance:Instance": Actions(
        create=("ec2:RunInstances",),
        read=("ec2:DescribeInstances", "ec2:DescribeInstanceAttribute", "ec2:DescribeInstanceTypes",
              "ec2:DescribeInstanceCreditSpecifications", "ec2:DescribeVolumes", "ec2:DescribeImages"),
        # Changing the instance type stops and starts the instance.
        update=("ec2:ModifyInstanceAttribute", "ec2:ModifyInstanceMetadataOptions",
                "ec2:StopInstances", "ec2:StartInstances"),
        delete=("ec2:TerminateInstances",),
        tag=_EC2_TAGS,
    ),
    # ---- Transit Gateway ---------------------------------------------------
    "aws:ec2transitgateway/transitGateway:TransitGateway": Actions(
        create=("ec2:CreateTransitGateway",),
        read=("ec2:DescribeTransitGateways",),
        update=("ec2:ModifyTransitGateway",),
        delete=("ec2:DeleteTransitGateway",),
        tag=_EC2_TAGS,
    ),
    "aws:ec2transitgateway/routeTable:RouteTable": Actions(
        create=("ec2:CreateTransitGatewayRouteTable",),
        read=("ec2:DescribeTransitGatewayRouteTables",),
        delete=("ec2:DeleteTransitGatewayRouteTable",),
        tag=_EC2_TAGS,
    ),
    "aws:ec2transitgateway/route:Route": Actions(
        create=("ec2:CreateTransitGatewayRoute",),
        read=("ec2:SearchTransitGatewayRoutes",),
        delete=("ec2:DeleteTransitGatewayRoute",),
    ),
    "aws:ec2transitgateway/routeTableAssociation:RouteTableAssociation": Actions(
        create=("ec2:AssociateTransitGatewayRouteTable",),
        read=("ec2:GetTransitGatewayRouteTableAssociations", "ec2:DescribeTransitGatewayAttachments"),
        delete=("ec2:DisassociateTransitGatewayRouteTable",),
    ),
    "aws:ec2transitgateway/routeTablePropagation:RouteTablePropagation": Actions(
        create=("ec2:EnableTransitGatewayRouteTablePropagation",),
        read=("ec2:GetTransitGatewayRouteTablePropagations",),
        delete=("ec2:DisableTransitGatewayRouteTablePropagation",),
    ),
    "aws:ec2transitgateway/vpcAttachment:VpcAttachment": Actions(
        create=("ec2:CreateTransitGatewayVpcAttachment",),
        read=("ec2:DescribeTransitGatewayVpcAttachments",) + _TGW_ROUTING_READS,
        update=("ec2:ModifyTransitGatewayVpcAttachment",),
        delete=("ec2:DeleteTransitGatewayVpcAttachment",),
        tag=_EC2_TAGS,
        service_linked_roles=("transitgateway.amazonaws.com",),
    ),
    "aws:ec2transitgateway/vpcAttachmentAccepter:VpcAttachmentAccepter": Actions(
        create=("ec2:AcceptTransitGatewayVpcAttachment",),
        read=("ec2:DescribeTransitGatewayVpcAttachments",) + _TGW_ROUTING_READS,
        update=("ec2:ModifyTransitGatewayVpcAttachment",),
        # Deleting the accepter deletes the attachment.
        delete=("ec2:DeleteTransitGatewayVpcAttachment",),
        tag=_EC2_TAGS,
    ),
    # ---- Direct Connect ------------------------------------------------------
    "aws:directconnect/gateway:Gateway": Actions(
        create=("directconnect:CreateDirectConnectGateway",),
        read=("directconnect:DescribeDirectConnectGateways",),
        update=("directconnect:UpdateDirectConnectGateway",),
        delete=("directconnect:DeleteDirectConnectGateway",),
    ),
    "aws:directconnect/gatewayAssociation:GatewayAssociation": Actions(
        create=("directconnect:CreateDirectConnectGatewayAssociation",),
        # transitGatewayAttachmentId is read from EC2 (checked in the provider source).
        read=("directconnect:DescribeDirectConnectGatewayAssociations", "ec2:DescribeTransitGatewayAttachments"),
        update=("directconnect:UpdateDirectConnectGatewayAssociation",),
        delete=("directconnect:DeleteDirectConnectGatewayAssociation",),
    ),
    "aws:directconnect/transitVirtualInterface:TransitVirtualInterface": Actions(
        create=("directconnect:CreateTransitVirtualInterface",),
        read=("directconnect:DescribeVirtualInterfaces", "directconnect:DescribeTags"),
        update=("directconnect:UpdateVirtualInterfaceAttributes",),
        delete=("directconnect:DeleteVirtualInterface",),
        tag=("directconnect:TagResource", "directconnect:UntagResource"),
    ),
    # ---- RAM ----------------------------------------------------------------
    "aws:ram/resourceShare:ResourceShare": Actions(
        create=("ram:CreateResourceShare",),
        read=("ram:GetResourceShares",),
        update=("ram:UpdateResourceShare",),
        delete=("ram:DeleteResourceShare",),
        tag=("ram:TagResource", "ram:UntagResource"),
    ),
    "aws:ram/resourceAssociation:ResourceAssociation": Actions(
        create=("ram:AssociateResourceShare",),
        read=("ram:GetResourceShareAssociations",),
        delete=("ram:DisassociateResourceShare",),
    ),
    "aws:ram/principalAssociation:PrincipalAssociation": Actions(
        create=("ram:AssociateResourceShare",),
        read=("ram:GetResourceShareAssociations",),
        delete=("ram:DisassociateResourceShare",),
    ),
    "aws:ram/resourceShareAccepter:ResourceShareAccepter": Actions(
        create=("ram:AcceptResourceShareInvitation", "ram:GetResourceShareInvitations"),
        read=("ram:GetResourceShares", "ram:ListResources"),
        # Leaving a share: the receiving account disassociates itself.
        delete=("ram:DisassociateResourceShare",),
    ),
    # ---- Route 53 and Resolver ----------------------------------------------
    "aws:route53/zone:Zone": Actions(
        # A private zone is created with its first VPC, which Route 53 checks in EC2.
        create=("route53:CreateHostedZone", "route53:GetChange", "ec2:DescribeVpcs"),
        read=("route53:GetHostedZone", "route53:ListTagsForResource"),
        update=("route53:UpdateHostedZoneComment", "route53:AssociateVPCWithHostedZone",
                "route53:DisassociateVPCFromHostedZone"),
        delete=("route53:DeleteHostedZone", "route53:ListResourceRecordSets"),
        tag=("route53:ChangeTagsForResource",),
    ),
    "aws:route53/record:Record": Actions(
        create=("route53:ChangeResourceRecordSets", "route53:GetChange"),
        read=("route53:ListResourceRecordSets", "route53:GetHostedZone"),
    ),
    "aws:route53/zoneAssociation:ZoneAssociation": Actions(
        create=("route53:AssociateVPCWithHostedZone", "route53:GetChange", "ec2:DescribeVpcs"),
        read=("route53:ListHostedZonesByVPC", "route53:GetHostedZone"),
        delete=("route53:DisassociateVPCFromHostedZone",),
    ),
    "aws:route53/vpcAssociationAuthorization:VpcAssociationAuthorization": Actions(
        create=("route53:CreateVPCAssociationAuthorization",),
        read=("route53:ListVPCAssociationAuthorizations",),
        delete=("route53:DeleteVPCAssociationAuthorization",),
    ),
    "aws:route53/resolverEndpoint:ResolverEndpoint": Actions(
        # Route 53 Resolver creates the endpoint's ENIs with the caller's EC2 permissions
        # (Route 53 developer guide, "Permissions required to use Route 53 Resolver").
        create=("route53resolver:CreateResolverEndpoint", "ec2:CreateNetworkInterface",
                "ec2:CreateNetworkInterfacePermission", "ec2:ModifyNetworkInterfaceAttribute") + _VPC_LOOKUPS,
        read=("route53resolver:GetResolverEndpoint", "route53resolver:ListResolverEndpointIpAddresses",
              "route53resolver:ListTagsForResource") + _ENI_CHECK,
        update=("route53resolver:UpdateResolverEndpoint", "route53resolver:AssociateResolverEndpointIpAddress",
                "route53resolver:DisassociateResolverEndpointIpAddress"),
        delete=("route53resolver:DeleteResolverEndpoint", "ec2:DeleteNetworkInterface"),
        tag=("route53resolver:TagResource", "route53resolver:UntagResource"),
    ),
    # ---- Load balancing and Auto Scaling --------------------------------------
    "aws:lb/loadBalancer:LoadBalancer": Actions(
        create=("elasticloadbalancing:CreateLoadBalancer", "elasticloadbalancing:ModifyLoadBalancerAttributes"),
        read=("elasticloadbalancing:DescribeLoadBalancers", "elasticloadbalancing:DescribeLoadBalancerAttributes",
              "elasticloadbalancing:DescribeTags"),
        update=("elasticloadbalancing:SetSubnets", "elasticloadbalancing:SetSecurityGroups"),
        delete=("elasticloadbalancing:DeleteLoadBalancer",) + _ENI_CHECK,
        tag=_ELB_TAGS,
        service_linked_roles=("elasticloadbalancing.amazonaws.com",),
    ),
    "aws:lb/listener:Listener": Actions(
        create=("elasticloadbalancing:CreateListener",),
        # Listener attributes are read with their own call (findListenerAttributesByARN).
        read=("elasticloadbalancing:DescribeListeners", "elasticloadbalancing:DescribeListenerAttributes",
              "elasticloadbalancing:DescribeTags"),
        update=("elasticloadbalancing:ModifyListener",),
        delete=("elasticloadbalancing:DeleteListener",),
        tag=_ELB_TAGS,
    ),
    "aws:lb/targetGroup:TargetGroup": Actions(
        create=("elasticloadbalancing:CreateTargetGroup", "elasticloadbalancing:ModifyTargetGroupAttributes"),
        read=("elasticloadbalancing:DescribeTargetGroups", "elasticloadbalancing:DescribeTargetGroupAttributes",
              "elasticloadbalancing:DescribeTags"),
        update=("elasticloadbalancing:ModifyTargetGroup",),
        delete=("elasticloadbalancing:DeleteTargetGroup",),
        tag=_ELB_TAGS,
    ),
    "aws:lb/targetGroupAttachment:TargetGroupAttachment": Actions(
        create=("elasticloadbalancing:RegisterTargets",),
        read=("elasticloadbalancing:DescribeTargetHealth",),
        delete=("elasticloadbalancing:DeregisterTargets",),
    ),
    "aws:autoscaling/group:Group": Actions(
        # A group launched from a launch template runs instances with the caller's
        # ec2:RunInstances and iam:PassRole (EC2 Auto Scaling user guide, launch template support).
        create=("autoscaling:CreateAutoScalingGroup", "autoscaling:AttachLoadBalancerTargetGroups",
                "ec2:RunInstances", "ec2:DescribeLaunchTemplateVersions"),
        read=("autoscaling:DescribeAutoScalingGroups", "autoscaling:DescribeScalingActivities",
              "autoscaling:DescribeLoadBalancerTargetGroups", "autoscaling:DescribeTrafficSources"),
        update=("autoscaling:UpdateAutoScalingGroup", "autoscaling:DetachLoadBalancerTargetGroups",
                "autoscaling:AttachTrafficSources", "autoscaling:DetachTrafficSources"),
        delete=("autoscaling:DeleteAutoScalingGroup",),
        tag=("autoscaling:CreateOrUpdateTags", "autoscaling:DeleteTags"),
        service_linked_roles=("autoscaling.amazonaws.com",),
    ),
    # ---- IAM ------------------------------------------------------------------
    "aws:iam/role:Role": Actions(
        create=("iam:CreateRole",),
        read=("iam:GetRole", "iam:ListRolePolicies", "iam:ListAttachedRolePolicies"),
        update=("iam:UpdateRole", "iam:UpdateAssumeRolePolicy"),
        delete=("iam:DeleteRole", "iam:ListInstanceProfilesForRole"),
        tag=("iam:TagRole", "iam:UntagRole"),
    ),
    "aws:iam/rolePolicy:RolePolicy": Actions(
        create=("iam:PutRolePolicy",),
        read=("iam:GetRolePolicy",),
        delete=("iam:DeleteRolePolicy",),
    ),
    # iam:AttachRolePolicy/DetachRolePolicy are granted apart, for the policy ARNs the
    # stack attaches only (see _role_statements).
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": Actions(
        create=(),
        read=("iam:ListAttachedRolePolicies",),
    ),
    "aws:iam/instanceProfile:InstanceProfile": Actions(
        create=("iam:CreateInstanceProfile", "iam:AddRoleToInstanceProfile"),
        read=("iam:GetInstanceProfile",),
        delete=("iam:DeleteInstanceProfile", "iam:RemoveRoleFromInstanceProfile"),
        tag=("iam:TagInstanceProfile", "iam:UntagInstanceProfile"),
    ),
    # ---- IoT Core --------------------------------------------------------------
    "aws:iot/policy:Policy": Actions(
        create=("iot:CreatePolicy",),
        read=("iot:GetPolicy", "iot:ListPolicyVersions", "iot:ListTagsForResource"),
        update=("iot:CreatePolicyVersion", "iot:DeletePolicyVersion"),
        delete=("iot:DeletePolicy",),
        tag=("iot:TagResource", "iot:UntagResource"),
    ),
    "aws:iot/authorizer:Authorizer": Actions(
        create=("iot:CreateAuthorizer",),
        read=("iot:DescribeAuthorizer", "iot:ListTagsForResource"),
        # An authorizer is set INACTIVE before it can be deleted.
        update=("iot:UpdateAuthorizer",),
        delete=("iot:DeleteAuthorizer",),
        tag=("iot:TagResource", "iot:UntagResource"),
    ),
    "aws:iot/domainConfiguration:DomainConfiguration": Actions(
        create=("iot:CreateDomainConfiguration",),
        read=("iot:DescribeDomainConfiguration", "iot:ListTagsForResource"),
        # A domain configuration is set DISABLED before it can be deleted.
        update=("iot:UpdateDomainConfiguration",),
        delete=("iot:DeleteDomainConfiguration",),
        tag=("iot:TagResource", "iot:UntagResource"),
    ),
    # ---- Lambda, logs, DynamoDB, KMS -------------------------------------------
    "aws:lambda/function:Function": Actions(
        # A function in a VPC: Lambda checks the subnets and security groups with the
        # caller's EC2 permissions (Lambda developer guide, "Giving Lambda functions access to a VPC").
        create=("lambda:CreateFunction", "lambda:PutFunctionConcurrency") + _VPC_LOOKUPS,
        read=("lambda:GetFunction", "lambda:GetFunctionCodeSigningConfig", "lambda:GetFunctionConcurrency",
              "lambda:ListVersionsByFunction", "lambda:GetRuntimeManagementConfig"),
        update=("lambda:UpdateFunctionCode", "lambda:UpdateFunctionConfiguration",
                "lambda:DeleteFunctionConcurrency"),
        delete=("lambda:DeleteFunction",),
        tag=("lambda:TagResource", "lambda:UntagResource", "lambda:ListTags"),
    ),
    "aws:lambda/permission:Permission": Actions(
        create=("lambda:AddPermission",),
        read=("lambda:GetPolicy",),
        delete=("lambda:RemovePermission",),
    ),
    "aws:cloudwatch/logGroup:LogGroup": Actions(
        create=("logs:CreateLogGroup", "logs:PutRetentionPolicy"),
        read=("logs:DescribeLogGroups", "logs:ListTagsForResource"),
        update=("logs:DeleteRetentionPolicy",),
        delete=("logs:DeleteLogGroup",),
        tag=("logs:TagResource", "logs:UntagResource"),
    ),
    "aws:dynamodb/table:Table": Actions(
        # A table encrypted with a customer managed key: DynamoDB creates a grant on the key
        # with the caller's permissions (DynamoDB developer guide, encryption at rest).
        create=("dynamodb:CreateTable", "dynamodb:UpdateContinuousBackups", "kms:DescribeKey", "kms:CreateGrant"),
        read=("dynamodb:DescribeTable", "dynamodb:DescribeContinuousBackups", "dynamodb:DescribeTimeToLive",
              "dynamodb:ListTagsOfResource"),
        update=("dynamodb:UpdateTable", "dynamodb:UpdateTimeToLive"),
        delete=("dynamodb:DeleteTable",),
        tag=("dynamodb:TagResource", "dynamodb:UntagResource"),
    ),
    "aws:kms/key:Key": Actions(
        create=("kms:CreateKey", "kms:EnableKeyRotation"),
        read=("kms:DescribeKey", "kms:GetKeyPolicy", "kms:GetKeyRotationStatus", "kms:ListResourceTags"),
        update=("kms:PutKeyPolicy", "kms:DisableKeyRotation", "kms:UpdateKeyDescription"),
        delete=("kms:ScheduleKeyDeletion",),
        tag=("kms:TagResource", "kms:UntagResource"),
    ),    "aws:kms/alias:Alias": Actions(
        create=("kms:CreateAlias",),
        read=("kms:ListAliases",),
        update=("kms:UpdateAlias",),
        delete=("kms:DeleteAlias",),
    ),
    # ---- monitoring -------------------------------------------------------
    "aws:ec2/flowLog:FlowLog": Actions(
        # Publishing to CloudWatch Logs passes the flow-log role (iam:PassRole, granted per role).
        create=("ec2:CreateFlowLogs",),
        read=("ec2:DescribeFlowLogs",),
        delete=("ec2:DeleteFlowLogs",),
        tag=_EC2_TAGS,
    ),
    "aws:route53/resolverQueryLogConfig:ResolverQueryLogConfig": Actions(
        # Resolver sets up the log delivery and the log group's resource policy with the
        # caller's permissions (Route 53 developer guide, "Resolver query logging", permissions).
        create=("route53resolver:CreateResolverQueryLogConfig", "logs:CreateLogDelivery", "logs:GetLogDelivery",
                "logs:PutResourcePolicy", "logs:DescribeResourcePolicies", "logs:ListLogDeliveries"),
        read=("route53resolver:GetResolverQueryLogConfig",),
        update=("logs:UpdateLogDelivery",),
        delete=("route53resolver:DeleteResolverQueryLogConfig", "logs:DeleteLogDelivery"),
        tag=("route53resolver:TagResource", "route53resolver:UntagResource", "route53resolver:ListTagsForResource"),
    ),
    "aws:route53/resolverQueryLogConfigAssociation:ResolverQueryLogConfigAssociation": Actions(
        create=("route53resolver:AssociateResolverQueryLogConfig",),
        read=("route53resolver:GetResolverQueryLogConfigAssociation",),
        delete=("route53resolver:DisassociateResolverQueryLogConfig",),
    ),
    "aws:cloudwatch/logMetricFilter:LogMetricFilter": Actions(
        create=("logs:PutMetricFilter",),
        read=("logs:DescribeMetricFilters",),
        delete=("logs:DeleteMetricFilter",),
    ),
    "aws:cloudwatch/metricAlarm:MetricAlarm": Actions(
        create=("cloudwatch:PutMetricAlarm",),
        read=("cloudwatch:DescribeAlarms",),
        delete=("cloudwatch:DeleteAlarms",),
        tag=("cloudwatch:TagResource", "cloudwatch:UntagResource", "cloudwatch:ListTagsForResource"),
    ),
    "aws:cloudwatch/dashboard:Dashboard": Actions(
        create=("cloudwatch:PutDashboard",),
        read=("cloudwatch:GetDashboard",),
        delete=("cloudwatch:DeleteDashboards",),
    ),
    "aws:sns/topic:Topic": Actions(
        create=("sns:CreateTopic",),
        read=("sns:GetTopicAttributes",),
        update=("sns:SetTopicAttributes",),
        delete=("sns:DeleteTopic",),
        tag=("sns:TagResource", "sns:UntagResource", "sns:ListTagsForResource"),
    ),
    "aws:sns/topicPolicy:TopicPolicy": Actions(
        create=("sns:SetTopicAttributes",),
        read=("sns:GetTopicAttributes",),
    ),
    "aws:sns/topicSubscription:TopicSubscription": Actions(
        create=("sns:Subscribe",),
        read=("sns:GetSubscriptionAttributes",),
        update=("sns:SetSubscriptionAttributes",),
        delete=("sns:Unsubscribe",),
    ),
    "aws:iot/loggingOptions:LoggingOptions": Actions(
        # Passes the logging role to IoT Core (iam:PassRole, granted per role).
        create=("iot:SetV2LoggingOptions",),
        read=("iot:GetV2LoggingOptions",),
    ),
    # Device Defender through AWS Cloud Control (pulumi-aws-native): Cloud Control's own
    # actions (IAM prefix cloudformation) plus the service's actions it calls as the caller
    # (Cloud Control API user guide, "Identity and access management").
    "aws-native:iot:AccountAuditConfiguration": Actions(
        create=_CLOUD_CONTROL_CREATE + ("iot:UpdateAccountAuditConfiguration",),
        read=_CLOUD_CONTROL_READ + ("iot:DescribeAccountAuditConfiguration",),
        update=("cloudformation:UpdateResource",),
        delete=("cloudformation:DeleteResource", "iot:DeleteAccountAuditConfiguration"),
    ),
    "aws-native:iot:ScheduledAudit": Actions(
        create=_CLOUD_CONTROL_CREATE + ("iot:CreateScheduledAudit",),
        read=_CLOUD_CONTROL_READ + ("iot:DescribeScheduledAudit",),
        update=("cloudformation:UpdateResource", "iot:UpdateScheduledAudit"),
        delete=("cloudformation:DeleteResource", "iot:DeleteScheduledAudit"),
        tag=("iot:TagResource", "iot:UntagResource", "iot:ListTagsForResource"),
    ),
    "aws-native:iot:SecurityProfile": Actions(
        create=_CLOUD_CONTROL_CREATE + ("iot:CreateSecurityProfile", "iot:AttachSecurityProfile"),
        read=_CLOUD_CONTROL_READ + ("iot:DescribeSecurityProfile", "iot:ListTargetsForSecurityProfile"),
        update=("cloudformation:UpdateResource", "iot:UpdateSecurityProfile", "iot:DetachSecurityProfile"),
        delete=("cloudformation:DeleteResource", "iot:DeleteSecurityProfile"),
        tag=("iot:TagResource", "iot:UntagResource", "iot:ListTagsForResource"),
    ),
}

# Invokes (data sources) the program calls through the stack's provider.
INVOKE_ACTIONS: dict[str, tuple[str, ...]] = {
    "aws:ec2/getVpcEndpointService:getVpcEndpointService": ("ec2:DescribeVpcEndpointServices",),
    # A consumer's existing subnets: their Availability Zones.
    "aws:ec2/getSubnet:getSubnet": ("ec2:DescribeSubnets",),
    "aws:iot/getEndpoint:getEndpoint": ("iot:DescribeEndpoint",),
    "aws:ssm/getParameter:getParameter": ("ssm:GetParameter",),
    "aws:ec2/getPrefixList:getPrefixList": ("ec2:DescribePrefixLists",),
    "aws:index/getCallerIdentity:getCallerIdentity": ("sts:GetCallerIdentity",),
    "aws:index/getAvailabilityZones:getAvailabilityZones": ("ec2:DescribeAvailabilityZones",),
    # The data source falls back to the AWS default when the account has no applied value.
    "aws:servicequotas/getServiceQuota:getServiceQuota": (
        "servicequotas:GetServiceQuota",
        "servicequotas:GetAWSDefaultServiceQuota",
    ),
    # Rendered by the provider itself, no AWS call.
    "aws:iam/getPolicyDocument:getPolicyDocument": (),
}

# Actions that take no resource ARN (Service Authorization Reference: no resource type
# listed), so only "*" grants them. Every EC2 Describe* is among them.
_UNSCOPED_PREFIXES = ("ec2:Describe",)
_UNSCOPED = frozenset({
    "sts:GetCallerIdentity",
    "iot:DescribeEndpoint",
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


# --------------------------------------------------------------------------- #
# Building the policy
# --------------------------------------------------------------------------- #


@dataclass(frozen=True)
class StackUsage:
    """What one stack's renders declare and call, as the policy needs it."""

    stack: str
    account_id: str
    region: str
    role: str
    # (account, role) of every stack this stack references.
    peers: tuple[tuple[str, str], ...]
    resources: tuple[Any, ...]  # RenderedResource
    invokes: tuple[tuple[str, Mapping[str, Any]], ...]


def unmapped(usage: StackUsage) -> tuple[list[str], list[str]]:
    """Resource types and invoke tokens of the renders the tables do not cover."""
    types = sorted({r.type for r in usage.resources
                    if not r.type.startswith(NON_AWS_TYPE_PREFIXES) and r.type not in RESOURCE_ACTIONS})
    tokens = sorted({token for token, _ in usage.invokes if token not in INVOKE_ACTIONS})
    return types, tokens


def validate_action(action: str) -> None:
    if not ACTION_PATTERN.match(action):
        raise DeployerPolicyError(f"action {action!r} is not of the form service:Action — fix the table entry")


def policy_chars(document: Mapping[str, Any]) -> int:
    """A policy's size as IAM counts it: its JSON without white space."""
    return len(re.sub(r"\s", "", json.dumps(document)))


def build_statements(usage: StackUsage, *, read_only: bool = False) -> list[dict[str, Any]]:
    """The statements of the stack's deployer policy (or, ``read_only``, of its preview policy)."""
    types, tokens = unmapped(usage)
    if types or tokens:
        missing = [f"resource type {t}" for t in types] + [f"invoke {t}" for t in tokens]
        raise DeployerPolicyError(
            f"stack {usage.stack!r}: no IAM actions known for {', '.join(missing)} — "
            "add it to RESOURCE_ACTIONS or INVOKE_ACTIONS in channelctl/deployer_policy.py "
            "with the actions the provider calls for it"
        )
    region, account = usage.region, usage.account_id
    present = sorted({r.type for r in usage.resources if r.type in RESOURCE_ACTIONS})

    actions: set[str] = set(PROVIDER_ACTIONS)
    service_linked: set[str] = set()
    for type_ in present:
        entry = RESOURCE_ACTIONS[type_]
        actions.update(entry.all(read_only=read_only))
        if not read_only:
            service_linked.update(entry.service_linked_roles)
    ssm_parameters: set[str] = set()
    quotas: set[str] = set()
    for token, inputs in usage.invokes:
        actions.update(INVOKE_ACTIONS[token])
        if token == "aws:ssm/getParameter:getParameter":
            ssm_parameters.add(str(inputs.get("name", "")))
        if token == "aws:servicequotas/getServiceQuota:getServiceQuota":
            quotas.add(f"{inputs.get('serviceCode', '*')}/{inputs.get('quotaCode', '*')}")
    # IAM actions on roles and instance profiles are granted by _role_statements, per name.
    iam_actions = {a for a in actions if a.startswith("iam:")}
    actions -= iam_actions
    for action in sorted(actions | iam_actions):
        validate_action(action)

    statements: list[dict[str, Any]] = []
    unscoped = sorted(a for a in actions if a in _UNSCOPED or a.startswith(_UNSCOPED_PREFIXES))
    if unscoped:
        statements.append(_statement("ReadWithoutResourceLevelPermissions", unscoped, ["*"]))
    scoped = sorted(set(actions) - set(unscoped))
    by_service: dict[str, list[str]] = {}
    for action in scoped:
        by_service.setdefault(action.split(":", 1)[0], []).append(action)
    for service, service_actions in sorted(by_service.items()):
        resources = _service_resources(service, region, account, usage.role, usage.peers,
                                       ssm_parameters=ssm_parameters, quotas=quotas)
        statements.append(_statement(_sid(service), service_actions, resources))
    statements.extend(_role_statements(usage, iam_actions, read_only=read_only))
    if service_linked:
        statements.append({
            "Sid": "ServiceLinkedRoles",
            "Effect": "Allow",
            "Action": "iam:CreateServiceLinkedRole",
            "Resource": f"arn:aws:iam::{account}:role/aws-service-role/*",
            "Condition": {"StringEquals": {"iam:AWSServiceName": sorted(service_linked)}},
        })
    return statements


def _statement(sid: str, actions: list[str], resources: list[str]) -> dict[str, Any]:
    return {
        "Sid": sid,
        "Effect": "Allow",
        "Action": actions if len(actions) > 1 else actions[0],
        "Resource": resources if len(resources) > 1 else resources[0],
    }


def _sid(service: str) -> str:
    return "".join(part.capitalize() for part in re.split(r"[^a-z0-9]", service)) or "Service"


def _service_resources(service: str, region: str, account: str, role: str, peers: Iterable[tuple[str, str]], *,
                       ssm_parameters: set[str], quotas: set[str]) -> list[str]:
    if service == "route53":
        # Hosted zones and changes have no region or account in their ARNs.
        return ["arn:aws:route53:::hostedzone/*", "arn:aws:route53:::change/*"]
    if service == "ssm":
        # Public parameters (/aws/service/...) belong to no account.
        return sorted(
            f"arn:aws:ssm:{region}::parameter{name}" if name.startswith("/aws/service/")
            else f"arn:aws:ssm:{region}:{account}:parameter/{name.lstrip('/')}"
            for name in ssm_parameters
        ) or [f"arn:aws:ssm:{region}:{account}:parameter/*"]
    if service == "servicequotas":
        return sorted(f"arn:aws:servicequotas:{region}:{account}:{q}" for q in quotas) or ["*"]
    if service == "directconnect":
        # Direct Connect gateways are global: no region in their ARN.
        return [f"arn:aws:directconnect::{account}:dx-gateway/*", f"arn:aws:directconnect:{region}:{account}:*"]
    if service == "logs":
        return [f"arn:aws:logs:{region}:{account}:log-group:*"]
    if service == "cloudwatch":
        # Dashboards are global: no region in their ARN.
        return [f"arn:aws:cloudwatch:{region}:{account}:alarm:*", f"arn:aws:cloudwatch::{account}:dashboard/*"]
    resources = [f"arn:aws:{service}:{region}:{account}:*"]
    if service == "ec2":
        # Amazon's own AMIs (RunInstances, launch templates) have no account in their ARN.
        resources.append(f"arn:aws:ec2:{region}::image/*")
    for peer, peer_role in sorted(set(peers)):
        if peer == account:
            continue
        resources.extend(f"arn:aws:{service}:{region}:{peer}:{kind}"
                         for kind_service, kind in PEER_RESOURCES.get((role, peer_role), ()) if kind_service == service)
    return resources


def _role_statements(usage: StackUsage, iam_actions: set[str], *, read_only: bool) -> list[dict[str, Any]]:
    """IAM on the roles and instance profiles the stack creates, by name; PassRole per service."""
    account = usage.account_id
    roles = [r for r in usage.resources if r.type == "aws:iam/role:Role"]
    profiles = [r for r in usage.resources if r.type == "aws:iam/instanceProfile:InstanceProfile"]
    role_arns = sorted({f"arn:aws:iam::{account}:role/{_iam_name(r)}" for r in roles})
    profile_arns = sorted({f"arn:aws:iam::{account}:instance-profile/{_iam_name(r)}" for r in profiles})
    statements: list[dict[str, Any]] = []
    role_actions = sorted(a for a in iam_actions if "InstanceProfile" not in a or a == "iam:ListInstanceProfilesForRole")
    profile_actions = sorted(a for a in iam_actions if a not in role_actions)
    # IAM actions are granted on the stack's own roles and profiles only: a role policy or
    # attachment on a role the stack does not create would otherwise lose its actions silently.
    for actions, arns, what in ((role_actions, role_arns, "roles"), (profile_actions, profile_arns, "instance profiles")):
        if actions and not arns:
            raise DeployerPolicyError(
                f"stack {usage.stack!r}: {', '.join(actions)} needed on {what} the stack does not create — "
                "name those resources in channelctl/deployer_policy.py"
            )
    if role_actions and role_arns:
        statements.append(_statement("StackRoles", role_actions, role_arns))
    if profile_actions and profile_arns:
        statements.append(_statement("StackInstanceProfiles", profile_actions, profile_arns))
    if read_only:
        return statements
    attached = sorted({str(r.inputs.get("policyArn")) for r in usage.resources
                       if r.type == "aws:iam/rolePolicyAttachment:RolePolicyAttachment" and r.inputs.get("policyArn")})
    if attached and role_arns:
        statements.append({
            "Sid": "AttachOnlyTheStacksPolicies",
            "Effect": "Allow",
            "Action": ["iam:AttachRolePolicy", "iam:DetachRolePolicy"],
            "Resource": role_arns if len(role_arns) > 1 else role_arns[0],
            "Condition": {"ArnEquals": {"iam:PolicyARN": attached}},
        })
    # PassRole: RunInstances, CreateAutoScalingGroup (launch template), CreateFunction and
    # AddRoleToInstanceProfile ("the caller ... must be granted the PassRole permission on the
    # IAM role", IAM API reference) all pass the role; each role only to the service its trust
    # policy names.
    passed: dict[str, set[str]] = {}
    for role in roles:
        for service in _trusted_services(role):
            passed.setdefault(service, set()).add(f"arn:aws:iam::{account}:role/{_iam_name(role)}")
    for service, arns in sorted(passed.items()):
        statements.append({
            "Sid": f"PassRoleTo{_sid(service.split('.')[0])}",
            "Effect": "Allow",
            "Action": "iam:PassRole",
            "Resource": sorted(arns) if len(arns) > 1 else next(iter(arns)),
            "Condition": {"StringEquals": {"iam:PassedToService": service}},
        })
    return statements


def _iam_name(resource: Any) -> str:
    """The role or profile name, or the pattern of Pulumi's auto-name (`<name>-<7 random chars>`)."""
    if resource.inputs.get("name"):
        return str(resource.inputs["name"])
    if resource.inputs.get("namePrefix"):
        return f"{resource.inputs['namePrefix']}*"
    return f"{resource.name}-*"


def _trusted_services(role: Any) -> list[str]:
    document = role.inputs.get("assumeRolePolicy")
    if isinstance(document, str):
        try:
            document = json.loads(document)
        except ValueError:
            return []
    services: list[str] = []
    for statement in (document or {}).get("Statement", []):
        principal = statement.get("Principal") or {}
        value = principal.get("Service") if isinstance(principal, Mapping) else None
        services.extend([value] if isinstance(value, str) else list(value or []))
    return sorted(set(services))


def split_policies(statements: list[dict[str, Any]], limit: int = MANAGED_POLICY_MAX_CHARS) -> list[dict[str, Any]]:
    """Policy documents of at most ``limit`` characters each, statements kept whole and in order.

    A statement too large for a policy of its own is split by its actions.
    """
    documents: list[dict[str, Any]] = []
    current: list[dict[str, Any]] = []
    for statement in _fitting(statements, limit):
        if current and policy_chars(_document(current + [statement])) > limit:
            documents.append(_document(current))
            current = []
        current.append(statement)
    if current:
        documents.append(_document(current))
    return documents


def _fitting(statements: list[dict[str, Any]], limit: int) -> Iterable[dict[str, Any]]:
    for statement in statements:
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        if policy_chars(_document([statement])) <= limit or len(actions) == 1:
            if policy_chars(_document([statement])) > limit:
                raise DeployerPolicyError(
                    f"statement {statement['Sid']} alone exceeds {limit} characters — scope its resources more widely"
                )
            yield statement
            continue
        half = len(actions) // 2
        for part, suffix in ((actions[:half], "A"), (actions[half:], "B")):
            yield from _fitting([statement | {"Sid": statement["Sid"] + suffix, "Action": part}], limit)


def _document(statements: list[dict[str, Any]]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": statements}


def deployer_policies(usage: StackUsage, *, read_only: bool = False) -> list[dict[str, Any]]:
    """The stack's deployer (or read-only preview) policy documents, each within IAM's managed-policy size."""
    documents = split_policies(build_statements(usage, read_only=read_only))
    if len(documents) > MANAGED_POLICIES_PER_ROLE_DEFAULT:
        raise DeployerPolicyError(
            f"stack {usage.stack!r}: {len(documents)} managed policies exceed the "
            f"{MANAGED_POLICIES_PER_ROLE_DEFAULT} a role holds by default — raise the quota first"
        )
    return documents


def stack_usage(plan: Any, stack: str) -> StackUsage:
    """Everything every render of ``stack`` in ``plan`` declared and called."""
    planned = plan.stacks[stack]
    renders = [r for name, r in plan.renders if name == stack] or [planned.rendered]
    resources = [res for render in renders for res in render.resources]
    invokes = [invoke for render in renders for invoke in render.invokes]
    peers: set[tuple[str, str]] = set()
    for res in resources:
        if res.type != "pulumi:pulumi:StackReference":
            continue
        other = plan.stacks.get(str(res.state.get("name") or res.id).rsplit("/", 1)[-1])
        if other is not None and other.account_id:
            peers.add((other.account_id, other.role))
    return StackUsage(
        stack=stack,
        account_id=planned.account_id,
        region=planned.region,
        role=planned.role,
        peers=tuple(sorted(peers)),
        resources=tuple(resources),
        invokes=tuple(invokes),
    )


# --------------------------------------------------------------------------- #
# Command line (an option of `channelctl plan`)
# --------------------------------------------------------------------------- #


def add_arguments(parser: Any) -> None:
    parser.add_argument(
        "--deployer-policy", metavar="STACK",
        help="print, as a JSON list of IAM policy documents, what STACK's deployer role needs "
             "(each within IAM's 6,144-character managed-policy size), instead of the plan",
    )
    parser.add_argument(
        "--read-only", action="store_true",
        help="with --deployer-policy: only the reads and lookups a `pulumi preview --refresh` makes",
    )


def print_policies(plan: Any, stack: str | None, *, read_only: bool = False) -> int:
    """Write STACK's policy documents to stdout; 0, or 2 with one line on stderr."""
    import sys

    if stack is None:
        print("channelctl plan: --read-only applies to --deployer-policy STACK — name the stack", file=sys.stderr)
        return 2
    if stack not in plan.stacks:
        print(f"channelctl plan: --deployer-policy {stack}: no such stack in the plan "
              f"(stacks: {', '.join(plan.stacks)}) — name one of them", file=sys.stderr)
        return 2
    try:
        documents = deployer_policies(stack_usage(plan, stack), read_only=read_only)
    except DeployerPolicyError as exc:
        print(f"channelctl plan: --deployer-policy {stack}: {exc}", file=sys.stderr)
        return 2
    json.dump(documents, sys.stdout, indent=2)
    sys.stdout.write("\n")
    if len(documents) > 1:
        print(f"channelctl plan: the policy of stack {stack!r} is split into {len(documents)} documents "
              f"to keep each within {MANAGED_POLICY_MAX_CHARS} characters: attach each as its own managed policy",
              file=sys.stderr)
    return 0
