"""Which input changes make the AWS provider replace a resource, and what a replacement collides with.

pulumi-aws bridges hashicorp/terraform-provider-aws: a property marked ``ForceNew`` in the
Terraform schema is a replace-on-change property in Pulumi. The installed Python package
does not ship the provider schema, so the table below is taken from the Terraform
resources (``internal/service/<service>/<file>.go``, named per type) and kept in step with
the installed package by tests/channelctl/test_replacements.py: every property named here
is an input of the installed resource class, every type the example stacks render is here.

Pulumi replaces create-before-delete unless the resource sets ``delete_before_replace``:
the new resource must be able to exist next to the old one. ``identity_keys`` says what
AWS allows only once (a fixed name, a fixed IP, a record set), so a replacement or an
addition that needs a value still held by an old resource is refused by AWS.
"""

from __future__ import annotations

import ipaddress
from typing import Any, Callable, Iterable, Mapping

# type token -> (replace-on-change input properties, Terraform source file)
REPLACE_ON_CHANGE: dict[str, tuple[frozenset[str], str]] = {}


def _table(type_: str, source: str, *properties: str) -> None:
    REPLACE_ON_CHANGE[type_] = (frozenset(properties), source)


# --- EC2 / VPC ---------------------------------------------------------------
_table("aws:ec2/vpc:Vpc", "ec2/vpc_.go", "cidrBlock", "ipv4IpamPoolId", "ipv4NetmaskLength")
_table("aws:ec2/subnet:Subnet", "ec2/vpc_subnet.go",
       "vpcId", "cidrBlock", "availabilityZone", "availabilityZoneId", "outpostArn", "ipv6Native")
_table("aws:ec2/subnetCidrReservation:SubnetCidrReservation", "ec2/vpc_subnet_cidr_reservation.go",
       "cidrBlock", "description", "reservationType", "subnetId")
_table("aws:ec2/routeTable:RouteTable", "ec2/vpc_route_table.go", "vpcId")
_table("aws:ec2/routeTableAssociation:RouteTableAssociation", "ec2/vpc_route_table_association.go",
       "subnetId", "gatewayId")
_table("aws:ec2/route:Route", "ec2/vpc_route.go",
       "routeTableId", "destinationCidrBlock", "destinationIpv6CidrBlock", "destinationPrefixListId")
_table("aws:ec2/securityGroup:SecurityGroup", "ec2/vpc_security_group.go", "name", "namePrefix", "description", "vpcId")
_table("aws:ec2/vpcEndpoint:VpcEndpoint", "ec2/vpc_endpoint.go",
       "vpcId", "serviceName", "vpcEndpointType", "serviceRegion", "resourceConfigurationArn", "serviceNetworkArn")
_table("aws:ec2/vpcEndpointService:VpcEndpointService", "ec2/vpc_endpoint_service.go")
_table("aws:ec2/vpcEndpointConnectionAccepter:VpcEndpointConnectionAccepter",
       "ec2/vpc_endpoint_connection_accepter.go", "vpcEndpointId", "vpcEndpointServiceId")
_table("aws:ec2/instance:Instance", "ec2/ec2_instance.go",
       "ami", "availabilityZone", "subnetId", "privateIp", "keyName", "launchTemplate", "placementGroup",
       "tenancy", "hostId", "ebsBlockDevices", "ephemeralBlockDevices", "networkInterfaces", "associatePublicIpAddress",
       "cpuOptions", "hibernation", "enclaveOptions")
_table("aws:ec2/launchTemplate:LaunchTemplate", "ec2/ec2_launch_template.go", "name", "namePrefix")
# --- Transit Gateway -----------------------------------------------------------
_table("aws:ec2transitgateway/transitGateway:TransitGateway", "ec2/transitgateway_.go",
       "amazonSideAsn", "multicastSupport")
_table("aws:ec2transitgateway/vpcAttachment:VpcAttachment", "ec2/transitgateway_vpc_attachment.go",
       "transitGatewayId", "vpcId")
_table("aws:ec2transitgateway/vpcAttachmentAccepter:VpcAttachmentAccepter",
       "ec2/transitgateway_vpc_attachment_accepter.go", "transitGatewayAttachmentId")
_table("aws:ec2transitgateway/routeTable:RouteTable", "ec2/transitgateway_route_table.go", "transitGatewayId")
_table("aws:ec2transitgateway/route:Route", "ec2/transitgateway_route.go",
       "destinationCidrBlock", "transitGatewayRouteTableId", "transitGatewayAttachmentId", "blackhole")
_table("aws:ec2transitgateway/routeTableAssociation:RouteTableAssociation",
       "ec2/transitgateway_route_table_association.go", "transitGatewayAttachmentId", "transitGatewayRouteTableId")
_table("aws:ec2transitgateway/routeTablePropagation:RouteTablePropagation",
       "ec2/transitgateway_route_table_propagation.go", "transitGatewayAttachmentId", "transitGatewayRouteTableId")
# --- Direct Connect, RAM ---------------------------------------------------------
_table("aws:directconnect/gateway:Gateway", "directconnect/gateway.go", "amazonSideAsn")
_table("aws:directconnect/gatewayAssociation:GatewayAssociation", "directconnect/gateway_association.go",
       "dxGatewayId", "associatedGatewayId", "associatedGatewayOwnerAccountId", "proposalId")
_table("aws:directconnect/transitVirtualInterface:TransitVirtualInterface",
       "directconnect/transit_virtual_interface.go",
       "connectionId", "vlan", "bgpAsn", "addressFamily", "amazonAddress", "customerAddress", "bgpAuthKey", "dxGatewayId")
_table("aws:ram/resourceShare:ResourceShare", "ram/resource_share.go", "permissionArns")
_table("aws:ram/resourceShareAccepter:ResourceShareAccepter", "ram/resource_share_accepter.go", "shareArn")
_table("aws:ram/principalAssociation:PrincipalAssociation", "ram/principal_association.go",
       "principal", "resourceShareArn")
_table("aws:ram/resourceAssociation:ResourceAssociation", "ram/resource_association.go",
       "resourceArn", "resourceShareArn")
# --- Route 53 ----------------------------------------------------------------------
_table("aws:route53/zone:Zone", "route53/zone.go", "name", "delegationSetId")
_table("aws:route53/record:Record", "route53/record.go", "name", "zoneId")
_table("aws:route53/zoneAssociation:ZoneAssociation", "route53/zone_association.go", "zoneId", "vpcId", "vpcRegion")
_table("aws:route53/vpcAssociationAuthorization:VpcAssociationAuthorization",
       "route53/vpc_association_authorization.go", "zoneId", "vpcId", "vpcRegion")
_table("aws:route53/resolverEndpoint:ResolverEndpoint", "route53resolver/endpoint.go",
       "direction", "securityGroupIds")
# --- Load balancing ------------------------------------------------------------------
# Subnet mappings of a network load balancer can only be added: see _lb_replaces.
_table("aws:lb/loadBalancer:LoadBalancer", "elbv2/load_balancer.go",
       "name", "namePrefix", "internal", "loadBalancerType", "customerOwnedIpv4Pool")
_table("aws:lb/listener:Listener", "elbv2/listener.go", "loadBalancerArn")
_table("aws:lb/targetGroup:TargetGroup", "elbv2/target_group.go",
       "name", "namePrefix", "port", "protocol", "protocolVersion", "targetType", "vpcId", "ipAddressType")
_table("aws:lb/targetGroupAttachment:TargetGroupAttachment", "elbv2/target_group_attachment.go",
       "targetGroupArn", "targetId", "port", "availabilityZone")
_table("aws:autoscaling/group:Group", "autoscaling/group.go", "name", "namePrefix")
# --- IAM, KMS, logs, Lambda, DynamoDB ------------------------------------------------
_table("aws:iam/role:Role", "iam/role.go", "name", "namePrefix", "path")
_table("aws:iam/rolePolicy:RolePolicy", "iam/role_policy.go", "name", "namePrefix", "role")
_table("aws:iam/rolePolicyAttachment:RolePolicyAttachment", "iam/role_policy_attachment.go", "role", "policyArn")
_table("aws:iam/instanceProfile:InstanceProfile", "iam/instance_profile.go", "name", "namePrefix", "path")
_table("aws:kms/key:Key", "kms/key.go", "customerMasterKeySpec", "keyUsage", "multiRegion", "customKeyStoreId",
       "xksKeyId")
_table("aws:cloudwatch/logGroup:LogGroup", "logs/group.go", "name", "namePrefix", "logGroupClass")
_table("aws:lambda/function:Function", "lambda/function.go", "name", "packageType")
_table("aws:lambda/permission:Permission", "lambda/permission.go",
       "action", "function", "principal", "qualifier", "sourceArn", "sourceAccount", "statementId",
       "statementIdPrefix", "eventSourceToken", "principalOrgId", "functionUrlAuthType")
_table("aws:dynamodb/table:Table", "dynamodb/table.go", "name", "hashKey", "rangeKey")
# --- IoT --------------------------------------------------------------------------------
_table("aws:iot/policy:Policy", "iot/policy.go", "name")
_table("aws:iot/authorizer:Authorizer", "iot/authorizer.go", "name", "signingDisabled")
_table("aws:iot/domainConfiguration:DomainConfiguration", "iot/domain_configuration.go",
       "name", "domainName", "serverCertificateArns", "serviceType", "validationCertificateArn")
_table("aws:iot/provisioningTemplate:ProvisioningTemplate", "iot/provisioning_template.go", "name", "type")
_table("aws:iot/caCertificate:CaCertificate", "iot/ca_certificate.go",
       "caCertificatePem", "certificateMode", "verificationCertificatePem")
# --- Monitoring and evidence ------------------------------------------------------------
_table("aws:cloudwatch/dashboard:Dashboard", "cloudwatch/dashboard.go", "dashboardName")
_table("aws:cloudwatch/metricAlarm:MetricAlarm", "cloudwatch/metric_alarm.go", "name")
_table("aws:cloudwatch/logMetricFilter:LogMetricFilter", "logs/metric_filter.go", "name", "logGroupName")
_table("aws:ec2/flowLog:FlowLog", "ec2/vpc_flow_log.go",
       "vpcId", "subnetId", "eniId", "transitGatewayId", "transitGatewayAttachmentId", "trafficType",
       "logDestination", "logDestinationType", "iamRoleArn", "logFormat", "maxAggregationInterval",
       "destinationOptions", "deliverCrossAccountRole")
_table("aws:iot/loggingOptions:LoggingOptions", "iot/logging_options.go")
_table("aws:kms/alias:Alias", "kms/alias.go", "name", "namePrefix")
_table("aws:route53/resolverQueryLogConfig:ResolverQueryLogConfig", "route53resolver/query_log_config.go",
       "name", "destinationArn")
_table("aws:route53/resolverQueryLogConfigAssociation:ResolverQueryLogConfigAssociation",
       "route53resolver/query_log_config_association.go", "resolverQueryLogConfigId", "resourceId")
_table("aws:sns/topic:Topic", "sns/topic.go", "name", "namePrefix", "fifoTopic")
_table("aws:sns/topicPolicy:TopicPolicy", "sns/topic_policy.go", "arn")
_table("aws:sns/topicSubscription:TopicSubscription", "sns/topic_subscription.go", "topic", "protocol", "endpoint")
_table("aws:cloudwatch/eventRule:EventRule", "events/rule.go", "name", "namePrefix", "eventBusName")
_table("aws:cloudwatch/eventTarget:EventTarget", "events/target.go", "rule", "targetId", "eventBusName")
# Cloud Control resources (pulumi-aws-native): the CloudFormation schema's createOnlyProperties.
_table("aws-native:iot:AccountAuditConfiguration", "CloudFormation AWS::IoT::AccountAuditConfiguration", "accountId")
_table("aws-native:iot:ScheduledAudit", "CloudFormation AWS::IoT::ScheduledAudit", "scheduledAuditName")
_table("pulumi:providers:aws-native", "pulumi-aws-native provider configuration", "region")
# The engine replaces an explicit provider when its region changes; other settings
# (default tags, assumed role) are updated in place.
_table("pulumi:providers:aws", "pulumi-aws provider configuration", "region")

# Resources of these kinds have no physical counterpart in the cloud.
LOGICAL_PREFIXES = ("channel:", "pulumi:pulumi:")


class UnknownType(Exception):
    """A resource type whose replace-on-change properties are not known: a comparison cannot classify it."""


def is_logical(type_: str) -> bool:
    return type_.startswith(LOGICAL_PREFIXES)


def replace_properties(type_: str, old: Mapping[str, Any], new: Mapping[str, Any], changed: Iterable[str]) -> list[str]:
    """The changed properties that make the provider replace a resource of this type."""
    if type_ not in REPLACE_ON_CHANGE:
        raise UnknownType(type_)
    keys, _ = REPLACE_ON_CHANGE[type_]
    found = [key for key in changed if key in keys]
    special = _SPECIAL.get(type_)
    if special:
        found += [key for key in special(old, new, changed) if key not in found]
    return sorted(found)


def _lb_replaces(old: Mapping[str, Any], new: Mapping[str, Any], changed: Iterable[str]) -> list[str]:
    # elbv2/load_balancer.go customizeDiffLoadBalancerNLB: a network load balancer's
    # subnets and subnet mappings can only be added; removing or changing one, or
    # adding security groups to an NLB created without (or removing all), replaces it.
    if (new.get("loadBalancerType") or old.get("loadBalancerType")) != "network":
        return []
    found = []
    if "subnetMappings" in changed:
        before = [_canonical(m) for m in old.get("subnetMappings") or []]
        after = [_canonical(m) for m in new.get("subnetMappings") or []]
        if any(m not in after for m in before):
            found.append("subnetMappings")
    if "subnets" in changed and set(old.get("subnets") or []) - set(new.get("subnets") or []):
        found.append("subnets")
    if "securityGroups" in changed and bool(old.get("securityGroups")) != bool(new.get("securityGroups")):
        found.append("securityGroups")
    return found


def _instance_replaces(old: Mapping[str, Any], new: Mapping[str, Any], changed: Iterable[str]) -> list[str]:
    # ec2/ec2_instance.go: user data forces a new instance only with user_data_replace_on_change.
    if new.get("userDataReplaceOnChange"):
        return [key for key in ("userData", "userDataBase64") if key in changed]
    return []


def _canonical(value: Any) -> Any:
    if isinstance(value, Mapping):
        return tuple(sorted((k, _canonical(v)) for k, v in value.items()))
    if isinstance(value, list):
        return tuple(_canonical(v) for v in value)
    return value


_SPECIAL: dict[str, Callable[[Mapping[str, Any], Mapping[str, Any], Iterable[str]], list[str]]] = {
    "aws:lb/loadBalancer:LoadBalancer": _lb_replaces,
    "aws:ec2/instance:Instance": _instance_replaces,
}


# --------------------------------------------------------------------------- #
# What AWS holds once: a new resource cannot take it while an old one has it
# --------------------------------------------------------------------------- #


def identity_keys(type_: str, inputs: Mapping[str, Any]) -> list[tuple]:
    """Values AWS allows only once per account and region (or per parent), as hashable keys.

    Only values the program sets count: an auto-named resource gets a fresh name from the engine.
    """
    keyer = _IDENTITY.get(type_)
    return keyer(inputs) if keyer else []


def _named(*props: str) -> Callable[[Mapping[str, Any]], list[tuple]]:
    def keys(inputs: Mapping[str, Any]) -> list[tuple]:
        return [("name", prop, str(inputs[prop])) for prop in props if inputs.get(prop)]

    return keys


def _ips(field: str, ip_key: str) -> Callable[[Mapping[str, Any]], list[tuple]]:
    def keys(inputs: Mapping[str, Any]) -> list[tuple]:
        return [("ip", str(entry[ip_key])) for entry in inputs.get(field) or [] if entry.get(ip_key)]

    return keys


def _record_keys(inputs: Mapping[str, Any]) -> list[tuple]:
    zone, name, kind = inputs.get("zoneId"), str(inputs.get("name", "")).rstrip(".").lower(), inputs.get("type")
    return [("record", zone, name, kind, inputs.get("setIdentifier") or "")]


def _route_keys(table: str, destination: str) -> Callable[[Mapping[str, Any]], list[tuple]]:
    def keys(inputs: Mapping[str, Any]) -> list[tuple]:
        return [("route", inputs.get(table), inputs.get(destination))] if inputs.get(destination) else []

    return keys


_IDENTITY: dict[str, Callable[[Mapping[str, Any]], list[tuple]]] = {
    "aws:dynamodb/table:Table": _named("name"),
    "aws:iot/domainConfiguration:DomainConfiguration": _named("name", "domainName"),
    "aws:iot/authorizer:Authorizer": _named("name"),
    "aws:iot/policy:Policy": _named("name"),
    "aws:iot/provisioningTemplate:ProvisioningTemplate": _named("name"),
    "aws:lambda/function:Function": _named("name"),
    "aws:cloudwatch/logGroup:LogGroup": _named("name"),
    "aws:iam/role:Role": _named("name"),
    "aws:iam/instanceProfile:InstanceProfile": _named("name"),
    "aws:ec2/launchTemplate:LaunchTemplate": _named("name"),
    "aws:autoscaling/group:Group": _named("name"),
    "aws:lb/loadBalancer:LoadBalancer": lambda i: _named("name")(i) + _ips("subnetMappings", "privateIpv4Address")(i),
    "aws:lb/targetGroup:TargetGroup": _named("name"),
    "aws:cloudwatch/dashboard:Dashboard": _named("dashboardName"),
    "aws:cloudwatch/metricAlarm:MetricAlarm": _named("name"),
    "aws:kms/alias:Alias": _named("name"),
    "aws:sns/topic:Topic": _named("name"),
    "aws:route53/resolverQueryLogConfigAssociation:ResolverQueryLogConfigAssociation": lambda i: [
        ("query-log-association", i.get("resourceId"))],
    # Reservations of one VPC must not overlap (Amazon VPC user guide, "Subnet CIDR reservations").
    "aws:ec2/subnetCidrReservation:SubnetCidrReservation": lambda i: [
        ("reservation", i.get("subnetId"), i.get("cidrBlock"))],
    "aws:ec2/vpcEndpoint:VpcEndpoint": _ips("subnetConfigurations", "ipv4"),
    "aws:route53/resolverEndpoint:ResolverEndpoint": _ips("ipAddresses", "ip"),
    "aws:ec2/instance:Instance": lambda i: [("ip", i["privateIp"])] if i.get("privateIp") else [],
    "aws:route53/record:Record": _record_keys,
    "aws:route53/zoneAssociation:ZoneAssociation": lambda i: [("zone-association", i.get("zoneId"), i.get("vpcId"))],
    "aws:ec2/route:Route": _route_keys("routeTableId", "destinationCidrBlock"),
    "aws:ec2transitgateway/route:Route": _route_keys("transitGatewayRouteTableId", "destinationCidrBlock"),
    "aws:ec2/routeTableAssociation:RouteTableAssociation": lambda i: [("subnet-association", i.get("subnetId"))],
    "aws:ec2transitgateway/routeTableAssociation:RouteTableAssociation": lambda i: [
        ("tgw-association", i.get("transitGatewayAttachmentId"))
    ],
    "aws:lb/listener:Listener": lambda i: [("listener", i.get("loadBalancerArn"), i.get("port"))],
    "aws:lambda/permission:Permission": lambda i: [("statement", i.get("function"), i.get("statementId"))]
    if i.get("statementId") else [],
}


def record_policy(inputs: Mapping[str, Any]) -> str:
    """A record's routing policy; Route 53 keeps one policy per name and type."""
    for policy in ("weightedRoutingPolicies", "latencyRoutingPolicies", "failoverRoutingPolicies",
                   "geolocationRoutingPolicies", "multivalueAnswerRoutingPolicy"):
        if inputs.get(policy):
            return policy.replace("RoutingPolicies", "").replace("RoutingPolicy", "")
    return "simple"


def subnets_overlap(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    """Two subnets of one VPC whose ranges overlap (CreateSubnet refuses: InvalidSubnet.Conflict)."""
    if a.get("vpcId") != b.get("vpcId") or not a.get("cidrBlock") or not b.get("cidrBlock"):
        return False
    return ipaddress.ip_network(a["cidrBlock"]).overlaps(ipaddress.ip_network(b["cidrBlock"]))
