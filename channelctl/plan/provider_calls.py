"""The AWS API calls the provider makes for each resource type and data source the program uses.

``channelctl.plan.deployer_actions`` says which IAM actions the deployer role is granted; this
table says what hashicorp/terraform-provider-aws actually calls, function by function, so a test
can hold the first to the second (tests/channelctl/plan/test_provider_calls.py). An operation
is written ``<AWS SDK for Go v2 client>.<Operation>`` exactly as the provider calls it
(``conn.StartInstanceRefresh`` on the ``autoscaling`` client is ``autoscaling.StartInstanceRefresh``);
``iam_action`` turns it into the IAM action IAM authorizes it under.

Source: pulumi-aws 7.51.1 (pulumi-plugin.json of the installed package) bridges
terraform-provider-aws v6 (pulumi-aws 7.x tracks the provider's v6 series: pulumi/pulumi-aws
#5665 "Upgrade terraform-provider-aws to v6 major version", v6.21.0 by #5976). Read at
hashicorp/terraform-provider-aws commit 00a919d1548eb437816d4838f320502ad34183ff, each entry's
``source`` under ``internal/service/``: the resource's Create, Read, Update and Delete functions
with the finders, waiters and tag helpers they call (tags: the service's ``updateTags`` from
``tags_gen.go``, called from Update; Create sends tags in the create request).
Calls only arguments the program does not set would make (warm pools, classic load balancers,
lifecycle hooks, ...) are left out; a waiter's calls are in the step that waits.
"""

from __future__ import annotations

from channelctl.plan.calls import Calls, _ops  # noqa: F401 -- Calls: this table's entries, as offered here

PROVIDER = "hashicorp/terraform-provider-aws"
PROVIDER_COMMIT = "00a919d1548eb437816d4838f320502ad34183ff"

# SDK client package -> IAM service prefix, where they differ (Service Authorization Reference).
SDK_TO_IAM_PREFIX = {
    "elasticloadbalancingv2": "elasticloadbalancing",
    "cloudwatchlogs": "logs",
    "cloudcontrol": "cloudformation",  # Cloud Control API's actions carry the prefix cloudformation
    "eventbridge": "events",  # EventBridge's actions carry the prefix events
}

# Operations IAM authorizes under another action name. None of the operations below needs
# one today; a future entry (S3's ListObjectsV2 is s3:ListBucket, for instance) goes here.
OPERATION_TO_IAM_ACTION: dict[str, str] = {}


def iam_action(operation: str) -> str:
    """``elasticloadbalancingv2.CreateListener`` -> ``elasticloadbalancing:CreateListener``."""
    if operation in OPERATION_TO_IAM_ACTION:
        return OPERATION_TO_IAM_ACTION[operation]
    client, name = operation.split(".")
    return f"{SDK_TO_IAM_PREFIX.get(client, client)}:{name}"


_EC2_TAGS = _ops("ec2", "CreateTags", "DeleteTags")
_ELB_TAGS = _ops("elasticloadbalancingv2", "AddTags", "RemoveTags")
_TGW_ROUTING = _ops("ec2", "GetTransitGatewayRouteTableAssociations", "GetTransitGatewayRouteTablePropagations",
                    "DescribeTransitGateways")
_IOT_TAGS = _ops("iot", "TagResource", "UntagResource")

from channelctl.plan.cloud_control_calls import CLOUD_CONTROL_CALLS  # noqa: E402

PROVIDER_CALLS: dict[str, Calls] = {
    # ---- EC2 / VPC (internal/service/ec2) ----------------------------------------
    "aws:ec2/vpc:Vpc": Calls(
        "internal/service/ec2/vpc_.go",
        create=_ops("ec2", "CreateVpc", "DescribeVpcs", "ModifyVpcAttribute"),
        read=_ops("ec2", "DescribeVpcs", "DescribeVpcAttribute", "DescribeRouteTables", "DescribeSecurityGroups",
                  "DescribeNetworkAcls"),
        update=_ops("ec2", "ModifyVpcAttribute") + _EC2_TAGS,
        delete=_ops("ec2", "DeleteVpc", "DescribeVpcs")),
    "aws:ec2/subnet:Subnet": Calls(
        "internal/service/ec2/vpc_subnet.go",
        create=_ops("ec2", "CreateSubnet", "DescribeSubnets", "ModifySubnetAttribute"),
        read=_ops("ec2", "DescribeSubnets"),
        update=_ops("ec2", "ModifySubnetAttribute") + _EC2_TAGS,
        # deleteLingeringENIs: Lambda's and endpoints' network interfaces in the subnet.
        delete=_ops("ec2", "DeleteSubnet", "DescribeNetworkInterfaces")),
    "aws:ec2/subnetCidrReservation:SubnetCidrReservation": Calls(
        "internal/service/ec2/vpc_subnet_cidr_reservation.go",
        create=_ops("ec2", "CreateSubnetCidrReservation", "GetSubnetCidrReservations"),
        read=_ops("ec2", "GetSubnetCidrReservations"),
        delete=_ops("ec2", "DeleteSubnetCidrReservation")),
    "aws:ec2/routeTable:RouteTable": Calls(
        "internal/service/ec2/vpc_route_table.go",
        create=_ops("ec2", "CreateRouteTable", "DescribeRouteTables", "CreateRoute"),
        read=_ops("ec2", "DescribeRouteTables"),
        update=_ops("ec2", "CreateRoute", "ReplaceRoute", "DeleteRoute") + _EC2_TAGS,
        delete=_ops("ec2", "DeleteRouteTable", "DescribeRouteTables")),
    "aws:ec2/route:Route": Calls(
        "internal/service/ec2/vpc_route.go",
        create=_ops("ec2", "CreateRoute", "DescribeRouteTables"),
        read=_ops("ec2", "DescribeRouteTables"),
        update=_ops("ec2", "ReplaceRoute"),
        delete=_ops("ec2", "DeleteRoute")),
    "aws:ec2/routeTableAssociation:RouteTableAssociation": Calls(
        "internal/service/ec2/vpc_route_table_association.go",
        create=_ops("ec2", "AssociateRouteTable", "DescribeRouteTables"),
        read=_ops("ec2", "DescribeRouteTables"),
        update=_ops("ec2", "ReplaceRouteTableAssociation"),
        delete=_ops("ec2", "DisassociateRouteTable")),
    "aws:ec2/securityGroup:SecurityGroup": Calls(
        "internal/service/ec2/vpc_security_group.go",
        create=_ops("ec2", "CreateSecurityGroup", "DescribeSecurityGroups", "RevokeSecurityGroupEgress",
                    "AuthorizeSecurityGroupIngress", "AuthorizeSecurityGroupEgress"),
        read=_ops("ec2", "DescribeSecurityGroups", "DescribeSecurityGroupRules"),
        update=_ops("ec2", "AuthorizeSecurityGroupIngress", "AuthorizeSecurityGroupEgress",
                    "RevokeSecurityGroupIngress", "RevokeSecurityGroupEgress",
                    "UpdateSecurityGroupRuleDescriptionsIngress", "UpdateSecurityGroupRuleDescriptionsEgress")
        + _EC2_TAGS,
        delete=_ops("ec2", "DeleteSecurityGroup", "DescribeNetworkInterfaces", "DescribeSecurityGroups")),
    "aws:ec2/vpcEndpoint:VpcEndpoint": Calls(
        "internal/service/ec2/vpc_endpoint.go",
        create=_ops("ec2", "CreateVpcEndpoint", "DescribeVpcEndpoints"),
        read=_ops("ec2", "DescribeVpcEndpoints", "DescribePrefixLists"),
        update=_ops("ec2", "ModifyVpcEndpoint", "DescribeVpcEndpoints") + _EC2_TAGS,
        delete=_ops("ec2", "DeleteVpcEndpoints", "DescribeVpcEndpoints")),
    "aws:ec2/vpcEndpointService:VpcEndpointService": Calls(
        "internal/service/ec2/vpc_endpoint_service.go",
        create=_ops("ec2", "CreateVpcEndpointServiceConfiguration", "DescribeVpcEndpointServiceConfigurations",
                    "ModifyVpcEndpointServicePermissions"),
        read=_ops("ec2", "DescribeVpcEndpointServiceConfigurations", "DescribeVpcEndpointServicePermissions"),
        update=_ops("ec2", "ModifyVpcEndpointServiceConfiguration", "ModifyVpcEndpointServicePermissions")
        + _EC2_TAGS,
        delete=_ops("ec2", "DeleteVpcEndpointServiceConfigurations", "DescribeVpcEndpointServiceConfigurations")),
    "aws:ec2/vpcEndpointConnectionAccepter:VpcEndpointConnectionAccepter": Calls(
        "internal/service/ec2/vpc_endpoint_connection_accepter.go",
        create=_ops("ec2", "AcceptVpcEndpointConnections", "DescribeVpcEndpointConnections"),
        read=_ops("ec2", "DescribeVpcEndpointConnections"),
        delete=_ops("ec2", "RejectVpcEndpointConnections")),
    "aws:ec2/launchTemplate:LaunchTemplate": Calls(
        "internal/service/ec2/ec2_launch_template.go",
        create=_ops("ec2", "CreateLaunchTemplate"),
        read=_ops("ec2", "DescribeLaunchTemplates", "DescribeLaunchTemplateVersions"),
        update=_ops("ec2", "CreateLaunchTemplateVersion", "ModifyLaunchTemplate") + _EC2_TAGS,
        delete=_ops("ec2", "DeleteLaunchTemplate")),
    "aws:ec2/instance:Instance": Calls(
        "internal/service/ec2/ec2_instance.go",
        create=_ops("ec2", "RunInstances", "DescribeInstances"),
        read=_ops("ec2", "DescribeInstances", "DescribeInstanceAttribute", "DescribeInstanceTypes",
                  "DescribeInstanceCreditSpecifications", "DescribeVolumes", "DescribeImages"),
        update=_ops("ec2", "ModifyInstanceAttribute", "ModifyInstanceMetadataOptions", "StopInstances",
                    "StartInstances", "DescribeInstances") + _EC2_TAGS,
        delete=_ops("ec2", "TerminateInstances", "DescribeInstances")),
    "aws:ec2/flowLog:FlowLog": Calls(
        "internal/service/ec2/vpc_flow_log.go",
        create=_ops("ec2", "CreateFlowLogs"),
        read=_ops("ec2", "DescribeFlowLogs"),
        update=_EC2_TAGS,
        delete=_ops("ec2", "DeleteFlowLogs")),
    # ---- Transit Gateway (internal/service/ec2/transitgateway_*.go) -----------------
    "aws:ec2transitgateway/transitGateway:TransitGateway": Calls(
        "internal/service/ec2/transitgateway_.go",
        create=_ops("ec2", "CreateTransitGateway", "DescribeTransitGateways"),
        read=_ops("ec2", "DescribeTransitGateways"),
        update=_ops("ec2", "ModifyTransitGateway", "DescribeTransitGateways") + _EC2_TAGS,
        delete=_ops("ec2", "DeleteTransitGateway", "DescribeTransitGateways")),
    "aws:ec2transitgateway/routeTable:RouteTable": Calls(
        "internal/service/ec2/transitgateway_route_table.go",
        create=_ops("ec2", "CreateTransitGatewayRouteTable", "DescribeTransitGatewayRouteTables"),
        read=_ops("ec2", "DescribeTransitGatewayRouteTables"),
        update=_EC2_TAGS,
        delete=_ops("ec2", "DeleteTransitGatewayRouteTable", "DescribeTransitGatewayRouteTables")),
    "aws:ec2transitgateway/route:Route": Calls(
        "internal/service/ec2/transitgateway_route.go",
        create=_ops("ec2", "CreateTransitGatewayRoute", "SearchTransitGatewayRoutes"),
        read=_ops("ec2", "SearchTransitGatewayRoutes"),
        delete=_ops("ec2", "DeleteTransitGatewayRoute", "SearchTransitGatewayRoutes")),
    "aws:ec2transitgateway/routeTableAssociation:RouteTableAssociation": Calls(
        "internal/service/ec2/transitgateway_route_table_association.go",
        create=_ops("ec2", "AssociateTransitGatewayRouteTable", "GetTransitGatewayRouteTableAssociations",
                    "DescribeTransitGatewayAttachments"),
        read=_ops("ec2", "GetTransitGatewayRouteTableAssociations", "DescribeTransitGatewayAttachments"),
        delete=_ops("ec2", "DisassociateTransitGatewayRouteTable", "GetTransitGatewayRouteTableAssociations")),
    "aws:ec2transitgateway/routeTablePropagation:RouteTablePropagation": Calls(
        "internal/service/ec2/transitgateway_route_table_propagation.go",
        create=_ops("ec2", "EnableTransitGatewayRouteTablePropagation", "GetTransitGatewayRouteTablePropagations"),
        read=_ops("ec2", "GetTransitGatewayRouteTablePropagations"),
        delete=_ops("ec2", "DisableTransitGatewayRouteTablePropagation",
                    "GetTransitGatewayRouteTablePropagations")),
    "aws:ec2transitgateway/vpcAttachment:VpcAttachment": Calls(
        "internal/service/ec2/transitgateway_vpc_attachment.go",
        create=_ops("ec2", "CreateTransitGatewayVpcAttachment", "DescribeTransitGatewayVpcAttachments"),
        read=_ops("ec2", "DescribeTransitGatewayVpcAttachments") + _TGW_ROUTING,
        update=_ops("ec2", "ModifyTransitGatewayVpcAttachment", "DescribeTransitGatewayVpcAttachments") + _EC2_TAGS,
        delete=_ops("ec2", "DeleteTransitGatewayVpcAttachment", "DescribeTransitGatewayVpcAttachments")),
    "aws:ec2transitgateway/vpcAttachmentAccepter:VpcAttachmentAccepter": Calls(
        "internal/service/ec2/transitgateway_vpc_attachment_accepter.go",
        create=_ops("ec2", "AcceptTransitGatewayVpcAttachment", "DescribeTransitGatewayVpcAttachments"),
        read=_ops("ec2", "DescribeTransitGatewayVpcAttachments") + _TGW_ROUTING,
        update=_ops("ec2", "ModifyTransitGatewayVpcAttachment") + _EC2_TAGS,
        delete=_ops("ec2", "DeleteTransitGatewayVpcAttachment", "DescribeTransitGatewayVpcAttachments")),
    # ---- Direct Connect (internal/service/directconnect) --------------------------
    "aws:directconnect/gateway:Gateway": Calls(
        "internal/service/directconnect/gateway.go",
        create=_ops("directconnect", "CreateDirectConnectGateway", "DescribeDirectConnectGateways"),
        read=_ops("directconnect", "DescribeDirectConnectGateways"),
        update=_ops("directconnect", "UpdateDirectConnectGateway"),
        delete=_ops("directconnect", "DeleteDirectConnectGateway", "DescribeDirectConnectGateways")),
    "aws:directconnect/gatewayAssociation:GatewayAssociation": Calls(
        "internal/service/directconnect/gateway_association.go",
        create=_ops("directconnect", "CreateDirectConnectGatewayAssociation",
                    "DescribeDirectConnectGatewayAssociations"),
        read=_ops("directconnect", "DescribeDirectConnectGatewayAssociations")
        + _ops("ec2", "DescribeTransitGatewayAttachments"),
        update=_ops("directconnect", "UpdateDirectConnectGatewayAssociation",
                    "DescribeDirectConnectGatewayAssociations"),
        delete=_ops("directconnect", "DeleteDirectConnectGatewayAssociation",
                    "DescribeDirectConnectGatewayAssociations")),
    "aws:directconnect/transitVirtualInterface:TransitVirtualInterface": Calls(
        "internal/service/directconnect/transit_virtual_interface.go",
        create=_ops("directconnect", "CreateTransitVirtualInterface", "DescribeVirtualInterfaces"),
        read=_ops("directconnect", "DescribeVirtualInterfaces", "DescribeTags"),
        update=_ops("directconnect", "UpdateVirtualInterfaceAttributes", "DescribeVirtualInterfaces",
                    "TagResource", "UntagResource"),
        delete=_ops("directconnect", "DeleteVirtualInterface", "DescribeVirtualInterfaces")),
    # ---- RAM (internal/service/ram) --------------------------------------------------
    "aws:ram/resourceShare:ResourceShare": Calls(
        "internal/service/ram/resource_share.go",
        create=_ops("ram", "CreateResourceShare", "GetResourceShares"),
        read=_ops("ram", "GetResourceShares"),
        update=_ops("ram", "UpdateResourceShare", "TagResource", "UntagResource"),
        delete=_ops("ram", "DeleteResourceShare", "GetResourceShares")),
    "aws:ram/resourceAssociation:ResourceAssociation": Calls(
        "internal/service/ram/resource_association.go",
        create=_ops("ram", "AssociateResourceShare", "GetResourceShareAssociations"),
        read=_ops("ram", "GetResourceShareAssociations"),
        delete=_ops("ram", "DisassociateResourceShare", "GetResourceShareAssociations")),
    "aws:ram/principalAssociation:PrincipalAssociation": Calls(
        "internal/service/ram/principal_association.go",
        create=_ops("ram", "AssociateResourceShare", "GetResourceShareAssociations"),
        read=_ops("ram", "GetResourceShareAssociations"),
        delete=_ops("ram", "DisassociateResourceShare", "GetResourceShareAssociations")),
    "aws:ram/resourceShareAccepter:ResourceShareAccepter": Calls(
        "internal/service/ram/resource_share_accepter.go",
        create=_ops("ram", "GetResourceShareInvitations", "AcceptResourceShareInvitation"),
        read=_ops("ram", "GetResourceShares", "ListResources"),
        delete=_ops("ram", "DisassociateResourceShare", "GetResourceShares")),
    # ---- Route 53 and Resolver ---------------------------------------------------------
    "aws:route53/zone:Zone": Calls(
        "internal/service/route53/zone.go",
        create=_ops("route53", "CreateHostedZone", "GetChange", "ChangeTagsForResource"),
        read=_ops("route53", "GetHostedZone", "ListTagsForResource"),
        update=_ops("route53", "UpdateHostedZoneComment", "AssociateVPCWithHostedZone",
                    "DisassociateVPCFromHostedZone", "GetChange", "ChangeTagsForResource"),
        delete=_ops("route53", "DeleteHostedZone", "GetChange")),
    "aws:route53/record:Record": Calls(
        "internal/service/route53/record.go",
        create=_ops("route53", "GetHostedZone", "ChangeResourceRecordSets", "GetChange"),
        read=_ops("route53", "ListResourceRecordSets", "GetHostedZone"),
        update=_ops("route53", "ChangeResourceRecordSets", "GetChange"),
        delete=_ops("route53", "ChangeResourceRecordSets", "GetChange")),
    "aws:route53/zoneAssociation:ZoneAssociation": Calls(
        "internal/service/route53/zone_association.go",
        create=_ops("route53", "AssociateVPCWithHostedZone", "GetChange"),
        read=_ops("route53", "ListHostedZonesByVPC", "GetHostedZone"),
        delete=_ops("route53", "DisassociateVPCFromHostedZone", "GetChange")),
    "aws:route53/vpcAssociationAuthorization:VpcAssociationAuthorization": Calls(
        "internal/service/route53/vpc_association_authorization.go",
        create=_ops("route53", "CreateVPCAssociationAuthorization"),
        read=_ops("route53", "ListVPCAssociationAuthorizations"),
        delete=_ops("route53", "DeleteVPCAssociationAuthorization")),
    "aws:route53/resolverEndpoint:ResolverEndpoint": Calls(
        "internal/service/route53resolver/endpoint.go",
        create=_ops("route53resolver", "CreateResolverEndpoint", "GetResolverEndpoint"),
        read=_ops("route53resolver", "GetResolverEndpoint", "ListResolverEndpointIpAddresses"),
        update=_ops("route53resolver", "UpdateResolverEndpoint", "AssociateResolverEndpointIpAddress",
                    "DisassociateResolverEndpointIpAddress", "GetResolverEndpoint", "TagResource", "UntagResource"),
        delete=_ops("route53resolver", "DeleteResolverEndpoint", "GetResolverEndpoint")),
    "aws:route53/resolverQueryLogConfig:ResolverQueryLogConfig": Calls(
        "internal/service/route53resolver/query_log_config.go",
        create=_ops("route53resolver", "CreateResolverQueryLogConfig", "GetResolverQueryLogConfig"),
        read=_ops("route53resolver", "GetResolverQueryLogConfig"),
        update=_ops("route53resolver", "TagResource", "UntagResource"),
        delete=_ops("route53resolver", "DeleteResolverQueryLogConfig", "GetResolverQueryLogConfig")),
    "aws:route53/resolverQueryLogConfigAssociation:ResolverQueryLogConfigAssociation": Calls(
        "internal/service/route53resolver/query_log_config_association.go",
        create=_ops("route53resolver", "AssociateResolverQueryLogConfig", "GetResolverQueryLogConfigAssociation"),
        read=_ops("route53resolver", "GetResolverQueryLogConfigAssociation"),
        delete=_ops("route53resolver", "DisassociateResolverQueryLogConfig",
                    "GetResolverQueryLogConfigAssociation")),
    # ---- Load balancing (internal/service/elbv2) --------------------------------------
    "aws:lb/loadBalancer:LoadBalancer": Calls(
        "internal/service/elbv2/load_balancer.go",
        create=_ops("elasticloadbalancingv2", "CreateLoadBalancer", "DescribeLoadBalancers",
                    "ModifyLoadBalancerAttributes"),
        read=_ops("elasticloadbalancingv2", "DescribeLoadBalancers", "DescribeLoadBalancerAttributes"),
        update=_ops("elasticloadbalancingv2", "ModifyLoadBalancerAttributes", "SetSubnets", "SetSecurityGroups",
                    "DescribeLoadBalancers") + _ELB_TAGS,
        # waitForNLBNetworkInterfacesToDetach
        delete=_ops("elasticloadbalancingv2", "DeleteLoadBalancer") + _ops("ec2", "DescribeNetworkInterfaces")),
    "aws:lb/listener:Listener": Calls(
        "internal/service/elbv2/listener.go",
        create=_ops("elasticloadbalancingv2", "CreateListener", "DescribeListeners"),
        read=_ops("elasticloadbalancingv2", "DescribeListeners", "DescribeListenerAttributes"),
        update=_ops("elasticloadbalancingv2", "ModifyListener", "ModifyListenerAttributes") + _ELB_TAGS,
        delete=_ops("elasticloadbalancingv2", "DeleteListener")),
    "aws:lb/targetGroup:TargetGroup": Calls(
        "internal/service/elbv2/target_group.go",
        create=_ops("elasticloadbalancingv2", "CreateTargetGroup", "DescribeTargetGroups",
                    "ModifyTargetGroupAttributes"),
        read=_ops("elasticloadbalancingv2", "DescribeTargetGroups", "DescribeTargetGroupAttributes"),
        update=_ops("elasticloadbalancingv2", "ModifyTargetGroup", "ModifyTargetGroupAttributes") + _ELB_TAGS,
        delete=_ops("elasticloadbalancingv2", "DeleteTargetGroup")),
    "aws:lb/targetGroupAttachment:TargetGroupAttachment": Calls(
        "internal/service/elbv2/target_group_attachment.go",
        create=_ops("elasticloadbalancingv2", "RegisterTargets"),
        read=_ops("elasticloadbalancingv2", "DescribeTargetHealth"),
        delete=_ops("elasticloadbalancingv2", "DeregisterTargets")),
    # ---- Auto Scaling ------------------------------------------------------------------
    "aws:autoscaling/group:Group": Calls(
        "internal/service/autoscaling/group.go",
        # Create waits for capacity (statusGroupCapacity): scaling activities, the group and
        # the health of its instances in its target groups (findELBV2InstanceStates).
        create=_ops("autoscaling", "CreateAutoScalingGroup", "DescribeAutoScalingGroups",
                    "DescribeScalingActivities", "DescribeLoadBalancerTargetGroups")
        + _ops("elasticloadbalancingv2", "DescribeTargetHealth"),
        read=_ops("autoscaling", "DescribeAutoScalingGroups", "DescribeTrafficSources"),
        # A changed launch_template (or mixed_instances_policy) sets shouldRefreshInstances:
        # startInstanceRefresh calls StartInstanceRefresh; on InstanceRefreshInProgress it
        # cancels the running refresh (CancelInstanceRefresh), waits on DescribeInstanceRefreshes
        # (statusInstanceRefresh) and starts again.
        update=_ops("autoscaling", "UpdateAutoScalingGroup", "AttachLoadBalancerTargetGroups",
                    "DetachLoadBalancerTargetGroups", "DescribeLoadBalancerTargetGroups",
                    "AttachTrafficSources", "DetachTrafficSources", "CreateOrUpdateTags", "DeleteTags",
                    "StartInstanceRefresh", "DescribeInstanceRefreshes", "CancelInstanceRefresh",
                    "DescribeScalingActivities")
        + _ops("elasticloadbalancingv2", "DescribeTargetHealth"),
        # drainGroup: capacity to 0, scale-in protection off, wait for the instances to go.
        delete=_ops("autoscaling", "DescribeAutoScalingGroups", "UpdateAutoScalingGroup", "SetInstanceProtection",
                    "DeleteAutoScalingGroup")),
    # ---- IAM (internal/service/iam) ----------------------------------------------------
    "aws:iam/role:Role": Calls(
        "internal/service/iam/role.go",
        create=_ops("iam", "CreateRole", "GetRole"),
        # Read reads the inline policies (deprecated inline_policy) one by one.
        read=_ops("iam", "GetRole", "ListRolePolicies", "GetRolePolicy", "ListAttachedRolePolicies"),
        update=_ops("iam", "UpdateAssumeRolePolicy", "UpdateRoleDescription", "UpdateRole", "TagRole",
                    "UntagRole"),
        # deleteRoleInstanceProfiles also removes the role from each profile it is in: the
        # stack's own InstanceProfile resources, whose entry holds RemoveRoleFromInstanceProfile.
        delete=_ops("iam", "ListInstanceProfilesForRole", "DeleteRole")),
    "aws:iam/rolePolicy:RolePolicy": Calls(
        "internal/service/iam/role_policy.go",
        create=_ops("iam", "PutRolePolicy", "GetRolePolicy"),
        read=_ops("iam", "GetRolePolicy"),
        update=_ops("iam", "PutRolePolicy"),
        delete=_ops("iam", "DeleteRolePolicy")),
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": Calls(
        "internal/service/iam/role_policy_attachment.go",
        create=_ops("iam", "AttachRolePolicy", "ListAttachedRolePolicies"),
        read=_ops("iam", "ListAttachedRolePolicies"),
        delete=_ops("iam", "DetachRolePolicy")),
    "aws:iam/instanceProfile:InstanceProfile": Calls(
        "internal/service/iam/instance_profile.go",
        create=_ops("iam", "CreateInstanceProfile", "GetInstanceProfile", "AddRoleToInstanceProfile"),
        read=_ops("iam", "GetInstanceProfile"),
        update=_ops("iam", "AddRoleToInstanceProfile", "RemoveRoleFromInstanceProfile", "TagInstanceProfile",
                    "UntagInstanceProfile"),
        delete=_ops("iam", "RemoveRoleFromInstanceProfile", "DeleteInstanceProfile")),
    # ---- IoT Core (internal/service/iot) -----------------------------------------------
    "aws:iot/policy:Policy": Calls(
        "internal/service/iot/policy.go",
        create=_ops("iot", "CreatePolicy", "GetPolicy"),
        read=_ops("iot", "GetPolicy"),
        update=_ops("iot", "CreatePolicyVersion", "ListPolicyVersions", "DeletePolicyVersion") + _IOT_TAGS,
        delete=_ops("iot", "ListPolicyVersions", "DeletePolicyVersion", "DeletePolicy")),
    "aws:iot/authorizer:Authorizer": Calls(
        "internal/service/iot/authorizer.go",
        create=_ops("iot", "CreateAuthorizer", "DescribeAuthorizer"),
        read=_ops("iot", "DescribeAuthorizer"),
        update=_ops("iot", "UpdateAuthorizer") + _IOT_TAGS,
        # An ACTIVE authorizer is set INACTIVE before it can be deleted.
        delete=_ops("iot", "UpdateAuthorizer", "DeleteAuthorizer")),
    "aws:iot/domainConfiguration:DomainConfiguration": Calls(
        "internal/service/iot/domain_configuration.go",
        create=_ops("iot", "CreateDomainConfiguration", "DescribeDomainConfiguration"),
        read=_ops("iot", "DescribeDomainConfiguration"),
        update=_ops("iot", "UpdateDomainConfiguration") + _IOT_TAGS,
        # An ENABLED domain configuration is set DISABLED before it can be deleted.
        delete=_ops("iot", "UpdateDomainConfiguration", "DeleteDomainConfiguration")),
    # Fleet provisioning (components/fleet_provisioning.py). Tags: @Tags(identifierAttribute="arn"), the
    # service's updateTags and ListTagsForResource on read, as for the other IoT types.
    "aws:iot/provisioningTemplate:ProvisioningTemplate": Calls(
        "internal/service/iot/provisioning_template.go",
        create=_ops("iot", "CreateProvisioningTemplate", "DescribeProvisioningTemplate"),
        read=_ops("iot", "DescribeProvisioningTemplate"),
        # A changed template_body is a new default version; the rest is UpdateProvisioningTemplate.
        update=_ops("iot", "CreateProvisioningTemplateVersion", "UpdateProvisioningTemplate") + _IOT_TAGS,
        delete=_ops("iot", "DeleteProvisioningTemplate")),
    "aws:iot/caCertificate:CaCertificate": Calls(
        "internal/service/iot/ca_certificate.go",
        create=_ops("iot", "RegisterCACertificate", "DescribeCACertificate"),
        read=_ops("iot", "DescribeCACertificate"),
        update=_ops("iot", "UpdateCACertificate") + _IOT_TAGS,
        # An active CA certificate is set INACTIVE before it can be deleted.
        delete=_ops("iot", "UpdateCACertificate", "DeleteCACertificate")),
    "aws:iot/loggingOptions:LoggingOptions": Calls(
        "internal/service/iot/logging_options.go",
        create=_ops("iot", "SetV2LoggingOptions"),
        read=_ops("iot", "GetV2LoggingOptions"),
        update=_ops("iot", "SetV2LoggingOptions")),
    # ---- Lambda, logs, DynamoDB, KMS -------------------------------------------------
    "aws:lambda/function:Function": Calls(
        "internal/service/lambda/function.go",
        create=_ops("lambda", "CreateFunction", "GetFunction", "PutFunctionConcurrency"),
        read=_ops("lambda", "GetFunction", "GetFunctionCodeSigningConfig", "ListVersionsByFunction",
                  "GetRuntimeManagementConfig"),
        update=_ops("lambda", "UpdateFunctionConfiguration", "UpdateFunctionCode", "GetFunction",
                    "PutFunctionConcurrency", "DeleteFunctionConcurrency", "TagResource", "UntagResource"),
        delete=_ops("lambda", "DeleteFunction")),
    "aws:lambda/permission:Permission": Calls(
        "internal/service/lambda/permission.go",
        create=_ops("lambda", "AddPermission", "GetPolicy"),
        read=_ops("lambda", "GetPolicy"),
        delete=_ops("lambda", "RemovePermission", "GetPolicy")),
    "aws:cloudwatch/logGroup:LogGroup": Calls(
        "internal/service/logs/group.go",
        create=_ops("cloudwatchlogs", "CreateLogGroup", "PutRetentionPolicy"),
        read=_ops("cloudwatchlogs", "DescribeLogGroups"),
        update=_ops("cloudwatchlogs", "PutRetentionPolicy", "DeleteRetentionPolicy", "AssociateKmsKey",
                    "DisassociateKmsKey", "TagResource", "UntagResource"),
        delete=_ops("cloudwatchlogs", "DeleteLogGroup")),
    "aws:cloudwatch/logMetricFilter:LogMetricFilter": Calls(
        "internal/service/logs/metric_filter.go",
        create=_ops("cloudwatchlogs", "PutMetricFilter", "DescribeMetricFilters"),
        read=_ops("cloudwatchlogs", "DescribeMetricFilters"),
        update=_ops("cloudwatchlogs", "PutMetricFilter"),
        delete=_ops("cloudwatchlogs", "DeleteMetricFilter")),
    "aws:dynamodb/table:Table": Calls(
        "internal/service/dynamodb/table.go",
        create=_ops("dynamodb", "CreateTable", "DescribeTable", "UpdateContinuousBackups",
                    "DescribeContinuousBackups"),
        # clearSSEDefaultKey: kms.FindDefaultKeyARNForService describes alias/aws/dynamodb.
        read=_ops("dynamodb", "DescribeTable", "DescribeContinuousBackups", "DescribeTimeToLive")
        + _ops("kms", "DescribeKey"),
        update=_ops("dynamodb", "UpdateTable", "DescribeTable", "UpdateContinuousBackups", "UpdateTimeToLive",
                    "TagResource", "UntagResource"),
        delete=_ops("dynamodb", "DeleteTable", "DescribeTable")),
    "aws:kms/key:Key": Calls(
        "internal/service/kms/key.go",
        create=_ops("kms", "CreateKey", "DescribeKey", "EnableKeyRotation", "GetKeyRotationStatus",
                    "GetKeyPolicy"),
        read=_ops("kms", "DescribeKey", "GetKeyPolicy", "GetKeyRotationStatus", "ListResourceTags"),
        update=_ops("kms", "PutKeyPolicy", "EnableKeyRotation", "DisableKeyRotation", "UpdateKeyDescription",
                    "TagResource", "UntagResource"),
        delete=_ops("kms", "ScheduleKeyDeletion", "DescribeKey")),
    "aws:kms/alias:Alias": Calls(
        "internal/service/kms/alias.go",
        create=_ops("kms", "CreateAlias", "ListAliases"),
        read=_ops("kms", "ListAliases"),
        update=_ops("kms", "UpdateAlias"),
        delete=_ops("kms", "DeleteAlias")),
    # ---- CloudWatch and SNS ------------------------------------------------------------
    "aws:cloudwatch/metricAlarm:MetricAlarm": Calls(
        "internal/service/cloudwatch/metric_alarm.go",
        create=_ops("cloudwatch", "PutMetricAlarm", "DescribeAlarms"),
        read=_ops("cloudwatch", "DescribeAlarms"),
        update=_ops("cloudwatch", "PutMetricAlarm", "TagResource", "UntagResource"),
        delete=_ops("cloudwatch", "DeleteAlarms")),
    "aws:cloudwatch/dashboard:Dashboard": Calls(
        "internal/service/cloudwatch/dashboard.go",
        create=_ops("cloudwatch", "PutDashboard", "GetDashboard"),
        read=_ops("cloudwatch", "GetDashboard"),
        update=_ops("cloudwatch", "PutDashboard"),
        delete=_ops("cloudwatch", "DeleteDashboards")),
    "aws:sns/topic:Topic": Calls(
        "internal/service/sns/topic.go",
        create=_ops("sns", "CreateTopic", "SetTopicAttributes", "GetTopicAttributes"),
        read=_ops("sns", "GetTopicAttributes"),
        update=_ops("sns", "SetTopicAttributes", "TagResource", "UntagResource"),
        delete=_ops("sns", "DeleteTopic", "GetTopicAttributes")),
    "aws:sns/topicPolicy:TopicPolicy": Calls(
        "internal/service/sns/topic_policy.go",
        create=_ops("sns", "SetTopicAttributes", "GetTopicAttributes"),
        read=_ops("sns", "GetTopicAttributes"),
        update=_ops("sns", "SetTopicAttributes"),
        # Delete puts back the topic's default policy.
        delete=_ops("sns", "SetTopicAttributes", "GetTopicAttributes")),
    "aws:sns/topicSubscription:TopicSubscription": Calls(
        "internal/service/sns/topic_subscription.go",
        create=_ops("sns", "Subscribe", "GetSubscriptionAttributes"),
        read=_ops("sns", "GetSubscriptionAttributes"),
        update=_ops("sns", "SetSubscriptionAttributes"),
        delete=_ops("sns", "Unsubscribe", "GetSubscriptionAttributes")),
    # ---- EventBridge (internal/service/events) ------------------------------------------
    # Create retries PutRule and waits for DescribeRule; tags go in PutRule's request.
    "aws:cloudwatch/eventRule:EventRule": Calls(
        "internal/service/events/rule.go",
        create=_ops("eventbridge", "PutRule", "DescribeRule"),
        read=_ops("eventbridge", "DescribeRule"),
        update=_ops("eventbridge", "PutRule", "TagResource", "UntagResource"),
        delete=_ops("eventbridge", "DeleteRule")),
    # Read finds the target among the rule's targets (findTargetByThreePartKey).
    "aws:cloudwatch/eventTarget:EventTarget": Calls(
        "internal/service/events/target.go",
        create=_ops("eventbridge", "PutTargets", "ListTargetsByRule"),
        read=_ops("eventbridge", "ListTargetsByRule"),
        update=_ops("eventbridge", "PutTargets"),
        delete=_ops("eventbridge", "RemoveTargets")),
    # Device Defender: pulumi-aws-native through Cloud Control (cloud_control_calls.py).
    **CLOUD_CONTROL_CALLS,
}

# Data sources: the SDK operations of each one's Read function.
_EC2_DATA = "internal/service/ec2/"
INVOKE_CALLS: dict[str, Calls] = {
    "aws:ec2/getVpcEndpointService:getVpcEndpointService": Calls(
        _EC2_DATA + "vpc_endpoint_service_data_source.go", (), _ops("ec2", "DescribeVpcEndpointServices")),
    "aws:ec2/getSubnet:getSubnet": Calls(_EC2_DATA + "vpc_subnet_data_source.go", (), _ops("ec2", "DescribeSubnets")),
    "aws:ec2/getPrefixList:getPrefixList": Calls(
        _EC2_DATA + "vpc_prefix_list_data_source.go", (), _ops("ec2", "DescribePrefixLists")),
    "aws:index/getAvailabilityZones:getAvailabilityZones": Calls(
        _EC2_DATA + "ec2_availability_zones_data_source.go", (), _ops("ec2", "DescribeAvailabilityZones")),
    "aws:iot/getEndpoint:getEndpoint": Calls(
        "internal/service/iot/endpoint_data_source.go", (), _ops("iot", "DescribeEndpoint")),
    "aws:ssm/getParameter:getParameter": Calls(
        "internal/service/ssm/parameter_data_source.go", (), _ops("ssm", "GetParameter")),
    "aws:index/getCallerIdentity:getCallerIdentity": Calls(
        "internal/service/sts/caller_identity_data_source.go", (), _ops("sts", "GetCallerIdentity")),
    # Falls back to the AWS default when the account has no applied value.
    "aws:servicequotas/getServiceQuota:getServiceQuota": Calls(
        "internal/service/servicequotas/service_quota_data_source.go", (),
        _ops("servicequotas", "GetServiceQuota", "GetAWSDefaultServiceQuota")),
    # Rendered by the provider itself: no AWS call.
    "aws:iam/getPolicyDocument:getPolicyDocument": Calls("internal/service/iam/policy_document_data_source.go", (), ()),
}
