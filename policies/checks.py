"""The pure checks behind the policy pack's resource rules, and the rules' names.

Each ``check_*(resource_type, props) -> list[str]`` returns one message per violation. ``props``
are a resource's inputs as the engine passes them: camelCase names, nested maps and lists.
This module imports nothing of ``pulumi-policy``, so ``channelctl plan`` (whose ``isolation``
check runs these same functions over every rendered resource) works with the runtime
dependencies alone; ``policies.rules`` wraps each check as a CrossGuard rule.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from policies.addresses import public_range_problem
from policies.allowed_types import (
    ALLOWED_MANAGED_POLICIES,
    ROUTE_INPUTS,
    ROUTE_TABLE_ROUTE_INPUTS,
    check_allowed_type,
)

Check = Callable[[str, Mapping[str, Any]], list[str]]

# Type tokens of pulumi-aws 7 (checked against the installed package's @pulumi.type_token).
INTERNET_GATEWAY = "aws:ec2/internetGateway:InternetGateway"
INTERNET_GATEWAY_ATTACHMENT = "aws:ec2/internetGatewayAttachment:InternetGatewayAttachment"
EGRESS_ONLY_INTERNET_GATEWAY = "aws:ec2/egressOnlyInternetGateway:EgressOnlyInternetGateway"
NAT_GATEWAY = "aws:ec2/natGateway:NatGateway"
EIP = "aws:ec2/eip:Eip"
EIP_ASSOCIATION = "aws:ec2/eipAssociation:EipAssociation"
INSTANCE = "aws:ec2/instance:Instance"
LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"
SUBNET = "aws:ec2/subnet:Subnet"
LOAD_BALANCERS = ("aws:lb/loadBalancer:LoadBalancer", "aws:alb/loadBalancer:LoadBalancer")
SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup"
DEFAULT_SECURITY_GROUP = "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup"
SECURITY_GROUP_RULE = "aws:ec2/securityGroupRule:SecurityGroupRule"
VPC_INGRESS_RULE = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
VPC_EGRESS_RULE = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"
VPC_ENDPOINT = "aws:ec2/vpcEndpoint:VpcEndpoint"
VPC_ENDPOINT_SERVICE = "aws:ec2/vpcEndpointService:VpcEndpointService"
VPC_ENDPOINT_SERVICE_PRINCIPAL = "aws:ec2/vpcEndpointServiceAllowedPrinciple:VpcEndpointServiceAllowedPrinciple"
IOT_POLICY = "aws:iot/policy:Policy"
LAMBDA_FUNCTION = "aws:lambda/function:Function"
DYNAMODB_TABLE = "aws:dynamodb/table:Table"
ROUTE = "aws:ec2/route:Route"
ROUTE_TABLE = "aws:ec2/routeTable:RouteTable"
DEFAULT_ROUTE_TABLE = "aws:ec2/defaultRouteTable:DefaultRouteTable"
VPC_PEERING_CONNECTION = "aws:ec2/vpcPeeringConnection:VpcPeeringConnection"
VPC_PEERING_ACCEPTER = "aws:ec2/vpcPeeringConnectionAccepter:VpcPeeringConnectionAccepter"
VPN_CONNECTION = "aws:ec2/vpnConnection:VpnConnection"
VPN_GATEWAY = "aws:ec2/vpnGateway:VpnGateway"
VPN_GATEWAY_ATTACHMENT = "aws:ec2/vpnGatewayAttachment:VpnGatewayAttachment"
VPN_GATEWAY_ROUTE_PROPAGATION = "aws:ec2/vpnGatewayRoutePropagation:VpnGatewayRoutePropagation"
CARRIER_GATEWAY = "aws:ec2/carrierGateway:CarrierGateway"
DEFAULT_VPC = "aws:ec2/defaultVpc:DefaultVpc"
DEFAULT_SUBNET = "aws:ec2/defaultSubnet:DefaultSubnet"
LAUNCH_CONFIGURATION = "aws:ec2/launchConfiguration:LaunchConfiguration"
SPOT_INSTANCE_REQUEST = "aws:ec2/spotInstanceRequest:SpotInstanceRequest"
SPOT_FLEET_REQUEST = "aws:ec2/spotFleetRequest:SpotFleetRequest"
CLASSIC_LOAD_BALANCER = "aws:elb/loadBalancer:LoadBalancer"
FUNCTION_URL = "aws:lambda/functionUrl:FunctionUrl"
LAMBDA_PERMISSION = "aws:lambda/permission:Permission"
GLOBAL_ACCELERATOR = "aws:globalaccelerator/accelerator:Accelerator"
REST_API = "aws:apigateway/restApi:RestApi"
HTTP_API = "aws:apigatewayv2/api:Api"
IAM_POLICY = "aws:iam/policy:Policy"
IAM_ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
IAM_USER_POLICY = "aws:iam/userPolicy:UserPolicy"
IAM_GROUP_POLICY = "aws:iam/groupPolicy:GroupPolicy"
IAM_ROLE = "aws:iam/role:Role"
ROUTE53_ZONE = "aws:route53/zone:Zone"
# Every way the two providers attach a managed policy by ARN (pulumi-aws 7 and pulumi-aws-native
# type tokens; the aws-native types are not allowed either, but the check holds if one is added).
MANAGED_POLICY_ARN_INPUTS = {
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": "policyArn",
    "aws:iam/userPolicyAttachment:UserPolicyAttachment": "policyArn",
    "aws:iam/groupPolicyAttachment:GroupPolicyAttachment": "policyArn",
    "aws:iam/policyAttachment:PolicyAttachment": "policyArn",
    "aws:iam/rolePolicyAttachmentsExclusive:RolePolicyAttachmentsExclusive": "policyArns",
    "aws:iam/userPolicyAttachmentsExclusive:UserPolicyAttachmentsExclusive": "policyArns",
    "aws:iam/groupPolicyAttachmentsExclusive:GroupPolicyAttachmentsExclusive": "policyArns",
    IAM_ROLE: "managedPolicyArns",
    "aws-native:iam:Role": "managedPolicyArns",
    "aws-native:iam:User": "managedPolicyArns",
    "aws-native:iam:Group": "managedPolicyArns",
}
LAMBDA_PERMISSIONS = ("aws:lambda/permission:Permission", "aws-native:lambda:Permission")

# Route targets that leave the channel's private network (EC2 CreateRoute): an internet gateway
# or virtual private gateway (gatewayId igw-/vgw-), an egress-only internet gateway, a NAT
# gateway, a VPC peering connection (a network outside the channel's Transit Gateway), a carrier
# gateway (Wavelength: the carrier's network and the internet). The channel routes only through
# its Transit Gateway and gateway/interface endpoints.
ROUTE_TARGETS = {
    "gatewayId": "an internet gateway or VPN gateway",
    "vpnGatewayId": "a VPN gateway",
    "egressOnlyGatewayId": "an egress-only internet gateway",
    "natGatewayId": "a NAT gateway",
    "vpcPeeringConnectionId": "a VPC peering connection",
    "carrierGatewayId": "a carrier gateway",
    "networkInterfaceId": "a network interface (an appliance or instance that can forward anywhere)",
    "coreNetworkArn": "a Cloud WAN core network (networks outside the channel)",
    "localGatewayId": "an Outposts local gateway (the on-site network)",
    "vpcEndpointId": "a Gateway Load Balancer endpoint (an appliance that can forward anywhere)",
    "odbNetworkArn": "an Oracle Database@AWS network",
}

# iot.data and iot.credentials do not support private DNS (IoTCore-VPC guide): the channel
# serves their names from its own private hosted zones instead.
NO_PRIVATE_DNS_SERVICE_SUFFIXES = (".iot.data", ".iot.credentials")

SOURCE_VPCE_KEY = "aws:sourcevpce"
# Operators under which aws:SourceVpce restricts the caller. Negated operators, "...IfExists"
# and "ForAllValues:" all evaluate to true when the key is absent, i.e. for a connection that
# did not come through any endpoint, so they do not count.
_RESTRICTING_OPERATORS = ("stringequals", "stringequalsignorecase", "stringlike")
# The value aws:SourceVpce takes: the endpoint's ID, "vpce-" and 8 or 17 hex digits (EC2 resource
# IDs). Anything else (a VPC ID, an endpoint ARN, a ${...} policy variable, a name) never equals
# the key, or equals whatever the variable resolves to.
VPC_ENDPOINT_ID = re.compile(r"vpce-[0-9a-f]{8}(?:[0-9a-f]{9})?")
IAM_POLICY_TYPES = (IAM_POLICY, IAM_ROLE_POLICY, IAM_USER_POLICY, IAM_GROUP_POLICY)


# --- checks -----------------------------------------------------------------------------------


def check_no_internet_path(resource_type: str, props: Mapping[str, Any]) -> list[str]:
    """No internet gateway (also egress-only), NAT gateway, Elastic IP, peering, VPN, carrier
    gateway or default VPC/subnet in any stack, and no route to anything but the Transit Gateway."""
    named = {
        VPC_PEERING_CONNECTION: "a VPC peering connection (a path to a network outside the channel)",
        VPC_PEERING_ACCEPTER: "a VPC peering connection accepter (a path to a network outside the channel)",
        VPN_CONNECTION: "a Site-to-Site VPN connection (a path over the internet)",
        VPN_GATEWAY: "a virtual private gateway (VPN)",
        VPN_GATEWAY_ATTACHMENT: "a virtual private gateway attachment (VPN)",
        VPN_GATEWAY_ROUTE_PROPAGATION: "a virtual private gateway route propagation (VPN)",
        CARRIER_GATEWAY: "a carrier gateway (Wavelength traffic to the carrier network and the internet)",
        # A default VPC comes with an internet gateway and default subnets that give every
        # instance a public IP (VPC user guide, "Default VPCs").
        DEFAULT_VPC: "the default VPC (it has an internet gateway and public default subnets)",
        DEFAULT_SUBNET: "a default subnet (public: mapPublicIpOnLaunch and a route to the internet gateway)",
        INTERNET_GATEWAY: "an internet gateway",
        INTERNET_GATEWAY_ATTACHMENT: "an internet gateway attachment",
        EGRESS_ONLY_INTERNET_GATEWAY: "an egress-only internet gateway (IPv6 route to the internet)",
        NAT_GATEWAY: "a NAT gateway",
        EIP: "an Elastic IP (a public address)",
        EIP_ASSOCIATION: "an Elastic IP association (a public address)",
    }
    if resource_type in (ROUTE, ROUTE_TABLE, DEFAULT_ROUTE_TABLE):
        return _route_problems(resource_type, props)
    if resource_type not in named:
        return []
    return [
        f"{resource_type} declares {named[resource_type]} — the channel is private by construction: "
        f"reach AWS services through interface or gateway endpoints and on-prem through the Transit Gateway"
    ]


def _route_problems(resource_type: str, props: Mapping[str, Any]) -> list[str]:
    """A route may name only the Transit Gateway (a route table's also the VPC's "local" gateway).

    An allow-list of inputs: every other target a route can take (policies/allowed_types.py
    ROUTE_INPUTS) fails, including ones the provider adds later.
    """
    fix = "route through the Transit Gateway: the channel has no path off its private network"
    routes: list[tuple[str, Any, frozenset[str]]] = []
    if resource_type == ROUTE:
        routes.append(("", props, ROUTE_INPUTS))
    else:
        routes.extend((f"routes[{index}].", route, ROUTE_TABLE_ROUTE_INPUTS)
                      for index, route in enumerate(_items(props.get("routes"))))
    messages = []
    for prefix, route, allowed in routes:
        if not isinstance(route, Mapping):
            continue
        # Keys are read without their values, so an unknown allowed input (the TGW's ID during a
        # preview) does not stop the check; "__"-keys are the bridge's own metadata.
        for key in route:
            if key in allowed or key.startswith("__"):
                continue
            target = route[key]
            # gatewayId "local" is the VPC's own local route (allowed in route tables).
            if target is None or target == "" or (prefix and key == "gatewayId" and target == "local"):
                continue
            what = ROUTE_TARGETS.get(key, "a target that is not the Transit Gateway")
            messages.append(f"{prefix}{key} is {_shown(target)}: a route to {what} — {fix}")
    if resource_type != ROUTE:
        for gateway in _items(props.get("propagatingVgws")):
            messages.append(f"propagatingVgws has {_shown(gateway)}: routes propagated from a VPN gateway — {fix}")
    return messages


def check_no_public_addresses(resource_type: str, props: Mapping[str, Any]) -> list[str]:
    """No instance, launch template, launch configuration, spot request/fleet or subnet hands out public IPs;
    load balancers (also classic) are internal."""
    fix = "remove it (or set it false): nothing in the channel may be reachable from the internet"
    if resource_type == INSTANCE and _is_true(props.get("associatePublicIpAddress")):
        return [f"associatePublicIpAddress is {_shown(props.get('associatePublicIpAddress'))} — {fix}"]
    if resource_type == SUBNET and _is_true(props.get("mapPublicIpOnLaunch")):
        return [f"mapPublicIpOnLaunch is {_shown(props.get('mapPublicIpOnLaunch'))} — {fix}"]
    if resource_type == LAUNCH_TEMPLATE:
        return [
            f"networkInterfaces[{index}].associatePublicIpAddress is {_shown(nic.get('associatePublicIpAddress'))} — {fix}"
            for index, nic in enumerate(_items(props.get("networkInterfaces")))
            if isinstance(nic, Mapping) and _is_true(nic.get("associatePublicIpAddress"))
        ]
    if resource_type in (LAUNCH_CONFIGURATION, SPOT_INSTANCE_REQUEST) and _is_true(props.get("associatePublicIpAddress")):
        return [f"associatePublicIpAddress is {_shown(props.get('associatePublicIpAddress'))} — {fix}"]
    if resource_type == SPOT_FLEET_REQUEST:
        return [
            f"launchSpecifications[{index}].associatePublicIpAddress is {_shown(spec.get('associatePublicIpAddress'))} — {fix}"
            for index, spec in enumerate(_items(props.get("launchSpecifications")))
            if isinstance(spec, Mapping) and _is_true(spec.get("associatePublicIpAddress"))
        ]
    if resource_type in (*LOAD_BALANCERS, CLASSIC_LOAD_BALANCER) and props.get("internal") is not True:
        return [
            f"internal is {_shown(props.get('internal'))} (the provider default is false, an internet-facing "
            f"load balancer) — set internal=True"
        ]
    return []


def check_no_public_entry_points(resource_type: str, props: Mapping[str, Any]) -> list[str]:
    """Nothing reachable from the internet: function URLs, open Lambda permissions, accelerators, API Gateway APIs,
    public hosted zones."""
    if resource_type == FUNCTION_URL:
        # A function URL is a public HTTPS endpoint whatever its auth type; there is no VPC-only
        # variant (Lambda developer guide, "Lambda function URLs"). NONE lets anyone invoke it.
        auth = props.get("authorizationType")
        who = "anyone on the internet" if auth != "AWS_IAM" else "any holder of AWS credentials, from the internet"
        return [
            f"authorizationType is {_shown(auth)}: a function URL is a public endpoint {who} can call — remove it; "
            f"the channel invokes its functions only from IoT Core"
        ]
    if resource_type in LAMBDA_PERMISSIONS:
        messages = []
        if _is_wildcard_principal(props.get("principal")):
            messages.append(
                f"principal is {_shown(props.get('principal'))}: any AWS account or anonymous caller may invoke the "
                f"function — name the one service principal (iot.amazonaws.com) with sourceArn and sourceAccount"
            )
        if props.get("functionUrlAuthType") == "NONE":
            messages.append("functionUrlAuthType is 'NONE': unauthenticated function URL calls — remove the permission")
        messages.extend(_service_permission_problems(props))
        return messages
    if resource_type == ROUTE53_ZONE and not _items(props.get("vpcs")):
        # A hosted zone without a VPC is a public hosted zone, answered by Route 53's public name
        # servers (Route 53 developer guide, "Working with private hosted zones": a private zone
        # is one associated with VPCs).
        return [
            f"vpcs is {_shown(props.get('vpcs'))}: a zone without VPCs is a public hosted zone — associate it with the "
            f"channel's VPC (vpcs=[{{'vpc_id': ...}}]); the channel answers its names only privately"
        ]
    if resource_type == GLOBAL_ACCELERATOR:
        return ["a Global Accelerator has public anycast addresses on the internet — remove it; the channel is private"]
    if resource_type == REST_API:
        config = props.get("endpointConfiguration")
        types = _items(config.get("types")) if isinstance(config, Mapping) else []
        if types != ["PRIVATE"]:
            return [
                f"endpointConfiguration.types is {_shown(types or None)} (unset means EDGE, a public endpoint) — set "
                f"endpoint_configuration={{'types': 'PRIVATE'}} and reach it through an execute-api endpoint"
            ]
        return []
    if resource_type == HTTP_API:
        # HTTP and WebSocket APIs have only public endpoints (API Gateway developer guide,
        # "Choose between REST APIs and HTTP APIs", endpoint types: Private is REST-only; the
        # private API Gateway whitepaper: "there is no private endpoint type" for WebSocket APIs).
        return [
            f"an API Gateway v2 API ({_shown(props.get('protocolType'))}) always has a public endpoint — use a REST API "
            f"with a PRIVATE endpoint or remove it"
        ]
    return []


def check_security_group_rules(resource_type: str, props: Mapping[str, Any]) -> list[str]:
    """No security-group rule from or to a range holding a public address (policies/addresses.py), ingress or egress.

    Egress is closed as well: nothing in the channel talks to the internet, and an open egress
    rule is what turns a leaked credential into exfiltration. Name the peers instead: on-prem
    CIDRs, VPC CIDRs, prefix lists (for gateway endpoints) or security groups.
    """
    rules: list[tuple[str, str, Mapping[str, Any], tuple[str, ...]]] = []
    if resource_type in (SECURITY_GROUP, DEFAULT_SECURITY_GROUP):
        for direction in ("ingress", "egress"):
            for index, rule in enumerate(_items(props.get(direction))):
                if isinstance(rule, Mapping):
                    rules.append((f"{direction}[{index}].", direction, rule, ("cidrBlocks", "ipv6CidrBlocks")))
    elif resource_type == SECURITY_GROUP_RULE:
        rules.append(("", str(props.get("type", "ingress")), props, ("cidrBlocks", "ipv6CidrBlocks")))
    elif resource_type == VPC_INGRESS_RULE:
        rules.append(("", "ingress", props, ("cidrIpv4", "cidrIpv6")))
    elif resource_type == VPC_EGRESS_RULE:
        rules.append(("", "egress", props, ("cidrIpv4", "cidrIpv6")))

    messages = []
    for prefix, direction, rule, keys in rules:
        for key in keys:
            for cidr in _items(rule.get(key)):
                problem = public_range_problem(cidr)
                if problem:
                    towards = "from" if direction == "ingress" else "to"
                    messages.append(
                        f"{prefix}{key} has {_shown(cidr)}: {direction} {towards} {problem} — name the peers instead "
                        f"(on-prem or VPC CIDRs, a prefix list, a security group); egress to the internet is "
                        f"closed too"
                    )
    return messages


def check_iot_endpoint_private_dns(resource_type: str, props: Mapping[str, Any]) -> list[str]:
    """Interface endpoints for iot.data and iot.credentials keep private DNS off."""
    if resource_type != VPC_ENDPOINT:
        return []
    service = props.get("serviceName")
    if not isinstance(service, str) or not service.endswith(NO_PRIVATE_DNS_SERVICE_SUFFIXES):
        return []
    if _is_true(props.get("privateDnsEnabled")):
        return [
            f"privateDnsEnabled is True for {service} — this service does not support private DNS: "
            f"set private_dns_enabled=False and serve the host name from a private hosted zone"
        ]
    return []


def check_iot_connect_source_vpce(resource_type: str, props: Mapping[str, Any]) -> list[str]:
    """Every IoT or IAM policy statement that allows iot:Connect is conditioned on aws:SourceVpce.

    An IAM identity may connect to IoT Core with SigV4 (over WebSockets) as well as a device with
    its IoT policy, so an IAM policy granting iot:Connect (also through iot:* or *) needs the same
    condition, or the holder connects from anywhere.
    """
    if resource_type in (IOT_POLICY, *IAM_POLICY_TYPES):
        return _connect_statements_problems("policy", props.get("policy"))
    if resource_type == IAM_ROLE:
        messages = []
        for index, inline in enumerate(_items(props.get("inlinePolicies"))):
            if isinstance(inline, Mapping) and inline.get("policy") not in (None, ""):
                messages.extend(_connect_statements_problems(f"inlinePolicies[{index}].policy", inline.get("policy")))
        return messages
    return []


def _connect_statements_problems(key: str, document: Any) -> list[str]:
    if isinstance(document, str):
        try:
            document = json.loads(document)
        except json.JSONDecodeError as exc:
            return [f"{key} is not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno}) — fix the document"]
    if not isinstance(document, Mapping):
        return [f"{key} is {type(document).__name__}, not a JSON policy document — pass the document as a JSON string"]
    statements = document.get("Statement", [])
    if isinstance(statements, Mapping):
        statements = [statements]
    if isinstance(statements, str) or not isinstance(statements, Sequence):
        return [f"{key} Statement is {type(statements).__name__} — make it an object or a list of objects"]

    messages = []
    for index, statement in enumerate(statements):
        if not isinstance(statement, Mapping):
            messages.append(f"{key} Statement[{index}] is {type(statement).__name__} — make it an object")
            continue
        if not _allows_connect(statement):
            continue
        label = f"Statement[{index}]" + (f" (Sid {_shown(statement['Sid'])})" if "Sid" in statement else "")
        problem = _source_vpce_problem(statement.get("Condition"))
        if problem:
            messages.append(f"{key} {label} allows iot:Connect {problem}")
    return messages


def check_endpoint_service_access(resource_type: str, props: Mapping[str, Any]) -> list[str]:
    """Endpoint services require acceptance and never allow the principal ``*``."""
    messages = []
    if resource_type == VPC_ENDPOINT_SERVICE:
        if props.get("acceptanceRequired") is not True:
            messages.append(
                f"acceptanceRequired is {_shown(props.get('acceptanceRequired'))} — set acceptance_required=True so "
                f"the IoT stack accepts each consumer endpoint explicitly"
            )
        for index, principal in enumerate(_items(props.get("allowedPrincipals"))):
            if _is_wildcard_principal(principal):
                messages.append(
                    f"allowedPrincipals[{index}] is {_shown(principal)} — list consumer accounts as "
                    f"'arn:aws:iam::<account>:root'; '*' lets any AWS account connect"
                )
    elif resource_type == VPC_ENDPOINT_SERVICE_PRINCIPAL:
        principal = props.get("principalArn")
        if _is_wildcard_principal(principal):
            messages.append(
                f"principalArn is {_shown(principal)} — name one consumer account as 'arn:aws:iam::<account>:root'; "
                f"'*' lets any AWS account connect"
            )
    return messages


def check_lambda_in_vpc(resource_type: str, props: Mapping[str, Any]) -> list[str]:
    """Lambda functions run inside a VPC (subnets and security groups set)."""
    if resource_type != LAMBDA_FUNCTION:
        return []
    vpc_config = props.get("vpcConfig")
    if not isinstance(vpc_config, Mapping):
        return [
            f"vpcConfig is {_shown(vpc_config)} — set vpc_config with subnet_ids and security_group_ids of the "
            f"gatekeeper VPC so the function reaches AWS only through endpoints"
        ]
    return [
        f"vpcConfig.{key} is {_shown(vpc_config.get(key))} — list at least one {what}"
        for key, what in (("subnetIds", "private subnet"), ("securityGroupIds", "security group"))
        if not _items(vpc_config.get(key))
    ]


def check_dynamodb_protection(resource_type: str, props: Mapping[str, Any]) -> list[str]:
    """DynamoDB tables are KMS-encrypted and have point-in-time recovery on."""
    if resource_type != DYNAMODB_TABLE:
        return []
    messages = []
    for key, arg in (("serverSideEncryption", "server_side_encryption"), ("pointInTimeRecovery", "point_in_time_recovery")):
        block = props.get(key)
        enabled = block.get("enabled") if isinstance(block, Mapping) else None
        if enabled is not True:
            messages.append(f"{key}.enabled is {_shown(enabled)} — set {arg}={{'enabled': True}}")
    return messages


def _service_permission_problems(props: Mapping[str, Any]) -> list[str]:
    """A Lambda permission for an AWS service names the source resource or account.

    Without sourceArn or sourceAccount, any account can point that service (an IoT authorizer,
    an S3 bucket, ...) at the function (Lambda API reference, AddPermission, SourceArn and
    SourceAccount; AWS Security Hub control Lambda.1 counts such a permission as public access).
    """
    principal = props.get("principal")
    if not isinstance(principal, str) or "*" in principal or not principal.strip().lower().endswith(
            (".amazonaws.com", ".amazonaws.com.cn")):
        return []
    if any(isinstance(props.get(key), str) and props.get(key).strip() for key in ("sourceArn", "sourceAccount")):
        return []
    return [
        f"principal is {_shown(principal)} without sourceArn or sourceAccount: any account's {principal} resource could "
        f"invoke the function — set source_arn (the authorizer's ARN) and source_account"
    ]


def check_managed_policies(resource_type: str, props: Mapping[str, Any]) -> list[str]:
    """A managed policy attached by ARN is one of ALLOWED_MANAGED_POLICIES (none grants iot:Connect)."""
    key = MANAGED_POLICY_ARN_INPUTS.get(resource_type)
    if key is None:
        return []
    return [
        f"{key} has {_shown(arn)}, which is not on the list of managed policies the channel attaches "
        f"(policies/allowed_types.py ALLOWED_MANAGED_POLICIES: {', '.join(sorted(ALLOWED_MANAGED_POLICIES))}) — a "
        f"managed policy can grant iot:Connect without aws:SourceVpce (AWSIoTDataAccess does) and its document is not "
        f"checked here: write the permissions as an inline policy, or add the ARN there with the reason"
        for arn in _items(props.get(key))
        if arn not in ALLOWED_MANAGED_POLICIES
    ]


# --- the rules: name, description, check ---------------------------------------------------------


@dataclass(frozen=True)
class ResourceRule:
    """One resource rule of the pack: its name, what it requires, and its check."""

    name: str
    description: str
    check: Check


NO_INTERNET_PATH = ResourceRule(
    "no-internet-path",
    "No internet gateway (also egress-only), internet gateway attachment, NAT gateway, Elastic IP, VPC "
    "peering, VPN, carrier gateway, default VPC or subnet, and no route (Route, RouteTable, "
    "DefaultRouteTable) to anything but the Transit Gateway: the channel is private by construction.",
    check_no_internet_path,
)
NO_PUBLIC_ADDRESSES = ResourceRule(
    "no-public-addresses",
    "No public IP on instances, launch templates, launch configurations, spot requests, spot fleets or "
    "subnets; load balancers (also classic) are internal.",
    check_no_public_addresses,
)
NO_PUBLIC_ENTRY_POINTS = ResourceRule(
    "no-public-entry-points",
    "No function URL, Lambda permission for a '*' principal, an unauthenticated URL or a service without "
    "sourceArn/sourceAccount, Global Accelerator, API Gateway v2 API, REST API other than PRIVATE, or public "
    "hosted zone.",
    check_no_public_entry_points,
)
NO_ANY_ADDRESS_SECURITY_GROUP_RULES = ResourceRule(
    "no-any-address-security-group-rules",
    "No security-group rule (inline, SecurityGroupRule, vpc.SecurityGroupIngressRule/EgressRule) from or to "
    "a range holding public addresses (0.0.0.0/0, 0.0.0.0/1, ::/1, ...) — egress included: nothing in the "
    "channel talks to the internet.",
    check_security_group_rules,
)
IOT_ENDPOINTS_PRIVATE_DNS_OFF = ResourceRule(
    "iot-endpoints-private-dns-off",
    "Interface endpoints for iot.data and iot.credentials have private DNS off (the services do not "
    "support it; private hosted zones serve their names).",
    check_iot_endpoint_private_dns,
)
IOT_CONNECT_REQUIRES_SOURCE_VPCE = ResourceRule(
    "iot-connect-requires-source-vpce",
    "Every IoT or IAM policy statement (Policy, RolePolicy, UserPolicy, GroupPolicy, a role's inline "
    "policies) that allows iot:Connect is conditioned on aws:SourceVpce (StringEquals/StringLike, literal "
    "vpce- IDs), so IoT Core refuses connections that bypass the gatekeeper.",
    check_iot_connect_source_vpce,
)
ENDPOINT_SERVICE_RESTRICTED = ResourceRule(
    "endpoint-service-restricted",
    "VPC endpoint services require acceptance and never allow the principal '*'.",
    check_endpoint_service_access,
)
LAMBDA_IN_VPC = ResourceRule(
    "lambda-in-vpc",
    "Lambda functions run inside a VPC: vpcConfig with subnetIds and securityGroupIds.",
    check_lambda_in_vpc,
)
DYNAMODB_ENCRYPTED_WITH_PITR = ResourceRule(
    "dynamodb-encrypted-with-pitr",
    "DynamoDB tables have server-side encryption (KMS) and point-in-time recovery enabled.",
    check_dynamodb_protection,
)

ALLOWED_TYPES_ONLY = ResourceRule(
    "allowed-types-only",
    "Only the resource types the channel declares, each listed with why it is private "
    "(policies/allowed_types.py); any other type fails, whatever its provider (aws, aws-native, any other).",
    check_allowed_type,
)
MANAGED_POLICIES_ALLOWED = ResourceRule(
    "managed-policies-allowed",
    "A managed policy attached by ARN (policy attachments, a role's managedPolicyArns, also in aws-native) is one "
    "of the listed AWS managed policies, none of which grants iot:Connect.",
    check_managed_policies,
)

RESOURCE_RULES: tuple[ResourceRule, ...] = (
    ALLOWED_TYPES_ONLY,
    MANAGED_POLICIES_ALLOWED,
    NO_INTERNET_PATH,
    NO_PUBLIC_ADDRESSES,
    NO_PUBLIC_ENTRY_POINTS,
    NO_ANY_ADDRESS_SECURITY_GROUP_RULES,
    IOT_ENDPOINTS_PRIVATE_DNS_OFF,
    IOT_CONNECT_REQUIRES_SOURCE_VPCE,
    ENDPOINT_SERVICE_RESTRICTED,
    LAMBDA_IN_VPC,
    DYNAMODB_ENCRYPTED_WITH_PITR,
)


# --- helpers -----------------------------------------------------------------------------------


def _items(value: Any) -> list[Any]:
    """A list input as a list; a lone string counts as one item, a missing input as none."""
    if value is None:
        return []
    if isinstance(value, str) or not isinstance(value, Iterable) or isinstance(value, Mapping):
        return [value]
    return list(value)


def _shown(value: Any) -> str:
    """A value as the user wrote it: the engine's read-only proxies shown as plain dicts and lists."""
    return repr(_plain(value))


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {key: _plain(value[key]) for key in value}
    if isinstance(value, Sequence) and not isinstance(value, str):
        return [_plain(item) for item in value]
    return value


def _is_true(value: Any) -> bool:
    """A flag set true in any form the provider accepts.

    Launch templates carry associatePublicIpAddress as a string the provider parses with Go's
    strconv.ParseBool ("1", "t", "T", "TRUE", "true", "True"; terraform-provider-aws
    internal/types/nullable/bool.go — newer releases refuse all but "true"/"false", older ones
    accept every ParseBool form); a number 1 is true as well. Anything of these counts.
    """
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return value == 1
    return isinstance(value, str) and value.strip().lower() in ("true", "t", "1")


def _is_wildcard_principal(principal: Any) -> bool:
    return isinstance(principal, str) and "*" in principal


def _iam_match(pattern: Any, action: str) -> bool:
    """IAM action matching: case-insensitive, '*' any run of characters, '?' one character."""
    if not isinstance(pattern, str):
        return False
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, action, flags=re.IGNORECASE) is not None


def _allows_connect(statement: Mapping[str, Any]) -> bool:
    if statement.get("Effect") != "Allow":
        return False
    if "Action" in statement:
        return any(_iam_match(p, "iot:Connect") for p in _items(statement["Action"]))
    if "NotAction" in statement:
        return not any(_iam_match(p, "iot:Connect") for p in _items(statement["NotAction"]))
    return False


def _source_vpce_problem(condition: Any) -> str:
    """Why a Connect-allowing statement's Condition does not pin aws:SourceVpce ('' if it does)."""
    fix = 'add "Condition": {"StringEquals": {"aws:SourceVpce": [<gatekeeper iot.data endpoint IDs>]}}'
    if not isinstance(condition, Mapping):
        return f"without a Condition — {fix}"
    weak_operators = []
    for operator, block in condition.items():
        if not isinstance(block, Mapping):
            continue
        values = next((v for k, v in block.items() if isinstance(k, str) and k.lower() == SOURCE_VPCE_KEY), None)
        if values is None:
            continue
        base = str(operator).lower().removeprefix("foranyvalue:")
        if base not in _RESTRICTING_OPERATORS:
            weak_operators.append(str(operator))
            continue
        endpoint_ids = _items(values)
        if not endpoint_ids:
            return f"with an empty aws:SourceVpce list under {operator} — list the gatekeeper's iot.data endpoint IDs"
        for endpoint_id in endpoint_ids:
            if not isinstance(endpoint_id, str) or "*" in endpoint_id or "?" in endpoint_id:
                return (
                    f"with aws:SourceVpce {_shown(endpoint_id)} under {operator}, which matches more than the "
                    f"gatekeeper's endpoints — list the endpoint IDs exactly"
                )
            if not VPC_ENDPOINT_ID.fullmatch(endpoint_id):
                return (
                    f"with aws:SourceVpce {_shown(endpoint_id)} under {operator}, which is not a VPC endpoint ID "
                    f"(vpce- and hex digits; not a VPC ID, an ARN, a policy variable or a name) — list the "
                    f"gatekeeper's iot.data endpoint IDs exactly"
                )
        return ""
    if weak_operators:
        return (
            f"with aws:SourceVpce only under {', '.join(weak_operators)}, which also matches connections that "
            f"did not come through an endpoint — use StringEquals"
        )
    return f"without a condition on aws:SourceVpce — {fix}"
