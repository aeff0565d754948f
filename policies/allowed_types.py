"""What the channel's stacks may declare: one list of resource types, each with why it is private.

The policy pack allows, it does not forbid. A resource whose type is not in ``ALLOWED_TYPES`` fails
the pack's ``allowed-types-only`` rule and the plan's ``isolation`` check, whatever provider it comes
from (``aws``, ``aws-native``, any other): a list of forbidden forms always misses the next one
(a Client VPN endpoint, an EC2 Instance Connect endpoint, a CloudFront VPC origin, Verified Access,
Transit Gateway peering, a public Amazon MQ broker, every Cloud Control twin of a forbidden type).
The types listed are then held to the per-type checks of ``policies/checks.py``; where a listed
type has a public form (a route's target, an internet-facing load balancer, a managed policy, a
Lambda permission), that check is an allow-list as well.

To declare a new type on purpose, add ONE line here: the type token (the class's ``pulumi_type``,
e.g. ``aws.ec2.Vpc.pulumi_type``) and why it cannot make the channel reachable from, or reach, the
internet. ``tests/policies/test_allowed_types.py`` fails until every type the program's source
constructs is listed and every listed type is one the program constructs, so the list is reviewed
like code, in the same pull request as the resource.

Pure standard library, so ``channelctl plan`` and the pack (run as ``python policies/``) share it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

_COMPONENT = "a component of this project: it groups children and creates nothing in the cloud; each child is checked by its own type"

ALLOWED_TYPES: Mapping[str, str] = {
    # --- the engine and the stack's providers -------------------------------------------------
    # The engine analyzes every registered resource, the root stack and providers included
    # (pulumi/pulumi pkg/resource/deploy/step_generator.go, "Send the resource off to any Analyzers").
    "pulumi:pulumi:Stack": "the stack's root resource: holds its outputs, creates nothing in the cloud",
    "pulumi:pulumi:StackReference": "reads another stack's outputs from the Pulumi backend; creates nothing in the cloud",
    "pulumi:providers:aws": "the stack's one explicit AWS provider (components/providers.py), pinned to its account by allowed_account_ids; creates nothing",
    "pulumi:providers:aws-native": "the stack's Cloud Control provider (components/providers.py), same account pin; creates nothing, and only the aws-native types below may use it",
    # --- the project's components ---------------------------------------------------------------
    "channel:network:PrivateIotChannel": _COMPONENT,
    "channel:iot:GatekeeperVpc": _COMPONENT,
    "channel:iot:CustomAuthorizer": _COMPONENT,
    "channel:iot:DeviceAccess": _COMPONENT,
    "channel:consumer:ConsumerEndpoint": _COMPONENT,
    "channel:dns:PrivateHostZone": _COMPONENT,
    "channel:ops:FleetMonitoring": _COMPONENT,
    "channel:ops:NetworkEvidence": _COMPONENT,
    "channel:iot:FleetProvisioning": _COMPONENT,
    "channel:iot:DeviceAdvisor": _COMPONENT,
    # --- networks: private until something public is attached, and nothing public is listed -------
    "aws:ec2/vpc:Vpc": "a VPC reaches the internet only through an internet or egress-only gateway, NAT, peering or VPN, none of which is listed",
    "aws:ec2/subnet:Subnet": "a subnet of a channel VPC; mapPublicIpOnLaunch is refused (no-public-addresses)",
    "aws:ec2/subnetCidrReservation:SubnetCidrReservation": "reserves addresses inside a private subnet; no network surface",
    "aws:ec2/routeTable:RouteTable": "a private subnet's route table; inline routes may only name the Transit Gateway (no-internet-path)",
    "aws:ec2/routeTableAssociation:RouteTableAssociation": "binds a private subnet to its route table",
    "aws:ec2/route:Route": "a VPC route whose only allowed target is the Transit Gateway (no-internet-path: network interfaces, core networks, endpoints and gateways are refused)",
    "aws:ec2/securityGroup:SecurityGroup": "rules name their peers; a range holding a public address is refused, egress included (no-any-address-security-group-rules)",
    "aws:ec2/flowLog:FlowLog": "records a VPC's traffic into CloudWatch Logs; no network surface",
    "aws:ec2/vpcEndpoint:VpcEndpoint": "an interface or gateway endpoint from private addresses to one of ENDPOINT_SERVICES or the gatekeeper's endpoint service (endpoints-to-listed-services); iot.data/iot.credentials keep private DNS off",
    "aws:ec2/vpcEndpointService:VpcEndpointService": "the channel's PrivateLink service: acceptance required, consumers named, never '*' (endpoint-service-restricted)",
    "aws:ec2/vpcEndpointConnectionAccepter:VpcEndpointConnectionAccepter": "accepts one named consumer's endpoint on the channel's endpoint service",
    "aws:ec2/instance:Instance": "a consumer application host in a private subnet; a public IP is refused (no-public-addresses)",
    "aws:ec2/launchTemplate:LaunchTemplate": "the proxy fleet's template; a public IP on its network interfaces is refused (no-public-addresses)",
    "aws:autoscaling/group:Group": "the proxy fleet in the gatekeeper's private subnets; its instances' addressing comes from the checked launch template",
    # --- Transit Gateway, RAM and Direct Connect: private routing between the channel's networks ---
    "aws:ec2transitgateway/transitGateway:TransitGateway": "a regional router between the channel's VPC attachments and Direct Connect; no internet attachment of its own, shared attachments accepted one by one (transit-stays-private)",
    "aws:ec2transitgateway/vpcAttachment:VpcAttachment": "attaches a channel VPC to the Transit Gateway (peering, VPN and Connect attachments are other types, not listed)",
    "aws:ec2transitgateway/vpcAttachmentAccepter:VpcAttachmentAccepter": "the Transit Gateway owner accepts the IoT account's VPC attachment",
    "aws:ec2transitgateway/routeTable:RouteTable": "routes among the Transit Gateway's attachments, all of them listed types",
    "aws:ec2transitgateway/routeTableAssociation:RouteTableAssociation": "binds an attachment to a Transit Gateway route table",
    "aws:ec2transitgateway/routeTablePropagation:RouteTablePropagation": "propagates an attachment's routes into a Transit Gateway route table",
    "aws:ec2transitgateway/route:Route": "a static Transit Gateway route to one of its attachments",
    "aws:ram/resourceShare:ResourceShare": "shares the Transit Gateway with the channel's own accounts",
    "aws:ram/resourceAssociation:ResourceAssociation": "puts the Transit Gateway into the share",
    "aws:ram/principalAssociation:PrincipalAssociation": "names the account (or organization) the Transit Gateway is shared with",
    "aws:ram/resourceShareAccepter:ResourceShareAccepter": "the IoT account accepts the network account's share",
    "aws:directconnect/gateway:Gateway": "a Direct Connect gateway: routes on-premises prefixes over the private Direct Connect link",
    "aws:directconnect/gatewayAssociation:GatewayAssociation": "joins the Direct Connect gateway to the Transit Gateway; allowedPrefixes only private ranges (transit-stays-private)",
    "aws:directconnect/transitVirtualInterface:TransitVirtualInterface": "a transit virtual interface: a private BGP session on the Direct Connect link (public virtual interfaces are another type, not listed)",
    # --- load balancing -----------------------------------------------------------------------------
    "aws:lb/loadBalancer:LoadBalancer": "the gatekeeper's Network Load Balancer, internal (no-public-addresses refuses internet-facing)",
    "aws:lb/listener:Listener": "a listener of the internal load balancer",
    "aws:lb/targetGroup:TargetGroup": "targets inside the gatekeeper VPC (endpoint IPs, proxies)",
    "aws:lb/targetGroupAttachment:TargetGroupAttachment": "registers one private target address",
    # --- DNS ------------------------------------------------------------------------------------------
    "aws:route53/zone:Zone": "a private hosted zone: it answers only inside its associated VPCs (no-public-entry-points refuses a zone without vpcs, which is public)",
    "aws:route53/record:Record": "a record in one of the channel's private hosted zones",
    "aws:route53/vpcAssociationAuthorization:VpcAssociationAuthorization": "lets one named VPC associate with a private zone",
    "aws:route53/zoneAssociation:ZoneAssociation": "associates a private zone with one of the channel's VPCs",
    "aws:route53/resolverEndpoint:ResolverEndpoint": "the inbound Resolver endpoint: private addresses in the device VPC answering on-premises queries",
    "aws:route53/resolverQueryLogConfig:ResolverQueryLogConfig": "logs DNS queries into CloudWatch Logs",
    "aws:route53/resolverQueryLogConfigAssociation:ResolverQueryLogConfigAssociation": "turns query logging on for one VPC",
    # --- IoT Core -------------------------------------------------------------------------------------
    "aws:iot/policy:Policy": "an IoT policy; every statement allowing iot:Connect requires aws:SourceVpce (iot-connect-requires-source-vpce)",
    "aws:iot/authorizer:Authorizer": "the custom authorizer; it runs the stack's own function (iot-authorizer-function-in-stack), whose policies allow Connect only with aws:SourceVpce",
    # Not private in itself: IoT Core serves a domain configuration on its public endpoint too
    # (docs/security-model.md, "The public face of the custom domain"); Connect still requires the
    # gatekeeper's endpoints, which the authorizer's policies and the isolation check enforce.
    "aws:iot/domainConfiguration:DomainConfiguration": "the custom domain; reachable by SNI on IoT Core's public endpoint, but every policy the authorizer returns allows Connect only with aws:SourceVpce",
    "aws:iot/loggingOptions:LoggingOptions": "the account's IoT Core log level; no network surface",
    # Fleet provisioning (components/fleet_provisioning.py): provisioned devices get the channel's
    # certificate-device policy (Connect only with aws:SourceVpce), the claim certificate an IoT policy
    # held to the same rule.
    "aws:iot/provisioningTemplate:ProvisioningTemplate": "creates a thing, activates its certificate and attaches the channel's certificate-device policy (Connect only with aws:SourceVpce); invoked over MQTT by devices already connected through the gatekeeper; no network surface of its own",
    "aws:iot/caCertificate:CaCertificate": "registers the company CA for just-in-time provisioning; devices it signs get the channel's policy (Connect only with aws:SourceVpce); no network surface of its own",
    # Device Defender exists only in pulumi-aws-native (Cloud Control).
    "aws-native:iot:AccountAuditConfiguration": "Device Defender audit settings of the account; no network surface",
    "aws-native:iot:ScheduledAudit": "a scheduled Device Defender audit; no network surface",
    "aws-native:iot:SecurityProfile": "Device Defender Detect behaviours (opt-in); alerts go to the channel's SNS topic",
    # --- the authorizer's function and data ---------------------------------------------------------
    "aws:lambda/function:Function": "the authorizer function and the provisioning hook, inside the gatekeeper VPC (lambda-in-vpc); function URLs are another type, not listed",
    "aws:lambda/permission:Permission": "lets iot.amazonaws.com invoke the authorizer for one source ARN/account; '*' and a service without sourceArn/sourceAccount are refused",
    "aws:dynamodb/table:Table": "the credentials table and the provisioning allow-list, reached through the DynamoDB API with IAM only; encrypted, point-in-time recovery on",
    "aws:kms/key:Key": "a customer managed key for the channel's table and logs; used through IAM and its key policy",
    "aws:kms/alias:Alias": "a name for one of the channel's keys",
    # --- IAM: who may do what, held to the Connect and managed-policy checks -------------------------
    "aws:iam/role:Role": "a role assumed only by AWS services (roles-trust-services-only); inline policies may grant iot:Connect only with aws:SourceVpce, managedPolicyArns only from ALLOWED_MANAGED_POLICIES",
    "aws:iam/rolePolicy:RolePolicy": "an inline policy; iot:Connect only with aws:SourceVpce",
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": "attaches an AWS managed policy named in ALLOWED_MANAGED_POLICIES, none of which grants iot:Connect",
    "aws:iam/instanceProfile:InstanceProfile": "hands a role to the channel's instances; no network surface",
    # --- monitoring ---------------------------------------------------------------------------------
    "aws:cloudwatch/logGroup:LogGroup": "log storage in CloudWatch Logs, read through the API with IAM only",
    "aws:cloudwatch/logMetricFilter:LogMetricFilter": "a metric derived from a log group; no network surface",
    "aws:cloudwatch/metricAlarm:MetricAlarm": "an alarm on the channel's metrics; notifies the channel's SNS topic",
    "aws:cloudwatch/dashboard:Dashboard": "a console view of the channel's metrics, shown only to IAM principals of the account",
    "aws:sns/topic:Topic": "the alarm topic, published to through the SNS API with IAM only",
    "aws:sns/topicPolicy:TopicPolicy": "names the AWS services that may publish alarms to the topic",
    # Matches CloudTrail records of AWS KMS on the default event bus; it opens nothing.
    "aws:cloudwatch/eventRule:EventRule": "matches the account's own CloudTrail events on the default bus (changes to the credentials key); no network surface, no role (events-reach-topics-only)",
    "aws:cloudwatch/eventTarget:EventTarget": "delivers a matched event to an SNS topic (the alarm topic, which lets EventBridge publish only for that rule), no role, no other kind of target (events-reach-topics-only)",
    # A subscription delivers alarm notifications to the operators' address outside the channel:
    # a path out for alarms, none in.
    "aws:sns/topicSubscription:TopicSubscription": "delivers alarm notifications to the operators; opens no path into the channel",
}

# AWS managed policies the channel's roles may carry, each read from AWS's managed policy reference
# (docs.aws.amazon.com/aws-managed-policy/latest/reference/<name>.html); none grants iot:Connect.
# Any other managed policy ARN fails: e.g. AWSIoTDataAccess allows iot:Connect on "*" without a
# condition (same reference, AWSIoTDataAccess v3), and a customer managed policy's document is not
# visible to the pack. AWS may add permissions to a managed policy later (IAM user guide, "AWS
# managed policies"): re-read a policy's reference page before adding or keeping it here.
ALLOWED_MANAGED_POLICIES: Mapping[str, str] = {
    "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore":
        "Session Manager on the proxies and application hosts: ssm:*, ssmmessages:*, ec2messages:* actions only (v2)",
    "arn:aws:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole":
        "the authorizer's network interfaces and logs: logs:* and ec2 network-interface actions only (v3)",
    "arn:aws:iam::aws:policy/service-role/AWSIoTDeviceDefenderAudit":
        "Device Defender audit: \"read access for IoT and related resources\" (its description; iot Get/List/Describe actions, v3)",
}

# The AWS services the channel's VPC endpoints reach (com.amazonaws.<region>.<service>), each for
# what needs it (components/config/iot.py gatekeeper_interface_endpoints, components/private_vpc.py
# SSM_SERVICES, the authorizer's gateway endpoint). An endpoint to any other service fails
# (policies/forms.py endpoints-to-listed-services): it is a way out of the channel.
ENDPOINT_SERVICES: Mapping[str, str] = {
    "iot.data": "devices and consumers reach IoT Core's data plane",
    "iot.credentials": "certificate devices exchange their certificate for temporary credentials",
    "greengrass": "Greengrass core devices reach the Greengrass control plane (AWS IoT Greengrass guide, core device in VPC)",
    "s3": "Greengrass core devices download components (same guide); a gateway endpoint for the proxies' packages",
    "dynamodb": "the authorizer and the provisioning hook read their tables (gateway endpoints)",
    "ssm": "Systems Manager manages the proxies and application hosts without an internet path",
    "ssmmessages": "Session Manager sessions to the proxies and application hosts",
    "ec2messages": "the SSM agent's message channel",
}

# Inputs a route may carry: where it applies, and the one target the channel routes through.
# Every other target (internet, egress-only, NAT, VPN, carrier, local or ODB gateway, network
# interface, Gateway Load Balancer endpoint, peering connection, core network, and whatever the
# provider adds next) fails: pulumi-aws 7 aws.ec2.Route and RouteTableRoute name them.
ROUTE_INPUTS = frozenset({"routeTableId", "destinationCidrBlock", "destinationIpv6CidrBlock", "destinationPrefixListId",
                          "region", "transitGatewayId"})
ROUTE_TABLE_ROUTE_INPUTS = frozenset({"cidrBlock", "ipv6CidrBlock", "destinationPrefixListId", "transitGatewayId"})

EXTEND = "policies/allowed_types.py"


def check_allowed_type(resource_type: str, props: Mapping[str, Any]) -> list[str]:
    """A resource of a type not in ``ALLOWED_TYPES`` fails, whatever its provider."""
    if resource_type in ALLOWED_TYPES:
        return []
    provider = resource_type.split(":", 1)[0] or "(none)"
    return [
        f"{resource_type} (provider {provider!r}) is not a type the channel declares — the pack allows only the types "
        f"listed in {EXTEND}, each with why it is private; remove it, or if it is private by construction add one "
        f"line there with the reason, reviewed like code"
    ]
