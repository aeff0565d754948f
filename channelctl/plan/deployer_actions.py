"""The deployer policy's tables: the IAM actions behind each resource type and invoke the program uses.

For each Pulumi type token, ``RESOURCE_ACTIONS`` names the actions that hashicorp/terraform-provider-aws
(which pulumi-aws bridges) calls to create, read, update, delete and tag it; ``INVOKE_ACTIONS`` the
actions of each data source. ``channelctl.plan.deployer_policy`` builds the policies from them; its
module docstring gives the sources and the scoping rules. ``channelctl.plan.provider_calls`` records
the SDK operations the provider's functions call, each with its source file; a test holds these
tables to it for every type the example stacks render.
"""

from __future__ import annotations

from dataclasses import dataclass

from channelctl.plan.deployer_scope import (  # noqa: F401 -- offered here as before
    ACTION_PATTERN,
    MANAGED_POLICIES_PER_ROLE_DEFAULT,
    MANAGED_POLICY_MAX_CHARS,
    PEER_RESOURCES,
    _UNSCOPED,
    _UNSCOPED_PREFIXES,
)

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
    "aws:ec2/subnetCidrReservation:SubnetCidrReservation": Actions(
        create=("ec2:CreateSubnetCidrReservation",),
        read=("ec2:GetSubnetCidrReservations",),
        delete=("ec2:DeleteSubnetCidrReservation",),
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
        update=("elasticloadbalancing:ModifyListener", "elasticloadbalancing:ModifyListenerAttributes"),
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
        # Create waits for the instances to be healthy in their target groups.
        create=("autoscaling:CreateAutoScalingGroup", "autoscaling:AttachLoadBalancerTargetGroups",
                "ec2:RunInstances", "ec2:DescribeLaunchTemplateVersions",
                "elasticloadbalancing:DescribeTargetHealth"),
        read=("autoscaling:DescribeAutoScalingGroups", "autoscaling:DescribeScalingActivities",
              "autoscaling:DescribeLoadBalancerTargetGroups", "autoscaling:DescribeTrafficSources"),
        # A new launch template version starts an instance refresh; one already running is
        # cancelled and waited for first (provider_calls: internal/service/autoscaling/group.go).
        update=("autoscaling:UpdateAutoScalingGroup", "autoscaling:DetachLoadBalancerTargetGroups",
                "autoscaling:AttachTrafficSources", "autoscaling:DetachTrafficSources",
                "autoscaling:StartInstanceRefresh", "autoscaling:DescribeInstanceRefreshes",
                "autoscaling:CancelInstanceRefresh"),
        # Delete drains the group: scale-in protection off, capacity to 0.
        delete=("autoscaling:DeleteAutoScalingGroup", "autoscaling:SetInstanceProtection"),
        tag=("autoscaling:CreateOrUpdateTags", "autoscaling:DeleteTags"),
        service_linked_roles=("autoscaling.amazonaws.com",),
    ),
    # ---- IAM ------------------------------------------------------------------
    "aws:iam/role:Role": Actions(
        create=("iam:CreateRole",),
        read=("iam:GetRole", "iam:ListRolePolicies", "iam:GetRolePolicy", "iam:ListAttachedRolePolicies"),
        update=("iam:UpdateRole", "iam:UpdateAssumeRolePolicy", "iam:UpdateRoleDescription"),
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
    # Fleet provisioning: creating a template passes its provisioning role to IoT Core (iam:PassRole,
    # granted per role by the deployer policy's role statements).
    "aws:iot/provisioningTemplate:ProvisioningTemplate": Actions(
        create=("iot:CreateProvisioningTemplate",),
        read=("iot:DescribeProvisioningTemplate", "iot:ListTagsForResource"),
        update=("iot:CreateProvisioningTemplateVersion", "iot:UpdateProvisioningTemplate"),
        delete=("iot:DeleteProvisioningTemplate",),
        tag=("iot:TagResource", "iot:UntagResource"),
    ),
    "aws:iot/caCertificate:CaCertificate": Actions(
        # RegisterCACertificate takes no resource ARN (deployer_scope._UNSCOPED).
        create=("iot:RegisterCACertificate",),
        read=("iot:DescribeCACertificate", "iot:ListTagsForResource"),
        # An active CA certificate is set INACTIVE before it can be deleted.
        update=("iot:UpdateCACertificate",),
        delete=("iot:DeleteCACertificate",),
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
        # A changed kms_key_id is associated (or removed) in place.
        update=("logs:DeleteRetentionPolicy", "logs:AssociateKmsKey", "logs:DisassociateKmsKey"),
        delete=("logs:DeleteLogGroup",),
        tag=("logs:TagResource", "logs:UntagResource"),
    ),
    "aws:dynamodb/table:Table": Actions(
        # A table encrypted with a customer managed key: DynamoDB creates a grant on the key
        # with the caller's permissions (DynamoDB developer guide, encryption at rest).
        create=("dynamodb:CreateTable", "dynamodb:UpdateContinuousBackups", "kms:DescribeKey", "kms:CreateGrant"),
        # Read compares the table's key with DynamoDB's AWS managed key (kms:DescribeKey).
        read=("dynamodb:DescribeTable", "dynamodb:DescribeContinuousBackups", "dynamodb:DescribeTimeToLive",
              "dynamodb:ListTagsOfResource", "kms:DescribeKey"),
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
    ),
    "aws:kms/alias:Alias": Actions(
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
    # EventBridge: rules and targets take the rule's ARN as resource (Service Authorization
    # Reference, Amazon EventBridge: rule), so the events statement is scoped to this account and
    # Region. The target is an SNS topic with a resource policy: no role is passed.
    "aws:cloudwatch/eventRule:EventRule": Actions(
        create=("events:PutRule",),
        read=("events:DescribeRule",),
        delete=("events:DeleteRule",),
        tag=("events:TagResource", "events:UntagResource", "events:ListTagsForResource"),
    ),
    "aws:cloudwatch/eventTarget:EventTarget": Actions(
        create=("events:PutTargets",),
        read=("events:ListTargetsByRule",),
        delete=("events:RemoveTargets",),
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
