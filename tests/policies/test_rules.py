"""Each policy rule against a compliant and a non-compliant resource, called as the engine calls it."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from pulumi_policy import (
    EnforcementLevel,
    PolicyCustomTimeouts,
    PolicyResourceOptions,
    ResourceValidationArgs,
    ResourceValidationPolicy,
)
from pulumi_policy.deserialize import deserialize_properties
from pulumi_policy.proxy import UNKNOWN_OBJECT_VALUE, UNKNOWN_STRING_VALUE, UnknownValueError, unknown_checking_proxy

from policies import rules
from policies.rules import (
    RULES,
    allowed_types_only,
    endpoints_to_listed_services,
    managed_policies_allowed,
    resource_policies_name_principals,
    roles_trust_services_only,
    transit_stays_private,
    events_reach_topics_only,
    dynamodb_encrypted_with_pitr,
    endpoint_service_restricted,
    iot_connect_requires_source_vpce,
    iot_endpoints_private_dns_off,
    lambda_in_vpc,
    no_any_address_security_group_rules,
    no_internet_path,
    no_public_addresses,
    no_public_entry_points,
)

VPCE_IDS = ["vpce-0a1b2c3d4e5f60718", "vpce-0f1e2d3c4b5a69788"]


def validate(rule: ResourceValidationPolicy, resource_type: str, props: dict[str, Any]) -> list[str]:
    """Call the rule's validate exactly as the pack's Analyze does: deserialized, unknown-checking props."""
    args = ResourceValidationArgs(
        resource_type,
        unknown_checking_proxy(deserialize_properties(props)),
        f"urn:pulumi:test::private-mqtt-channel::{resource_type}::r",
        "r",
        PolicyResourceOptions(False, [], None, [], PolicyCustomTimeouts(0, 0, 0), [], None),
        None,
    )
    reported: list[str] = []

    def report_violation(message: str, urn: str | None = None) -> None:
        reported.append(message)

    assert rule.validate(args, report_violation) is None  # synchronous rules: nothing to await
    return reported


def iot_policy(*statements: dict[str, Any], as_list: bool = True) -> dict[str, Any]:
    body = list(statements) if as_list else statements[0]
    return {"policy": json.dumps({"Version": "2012-10-17", "Statement": body})}


def connect(condition: dict[str, Any] | None = None, action: Any = "iot:Connect", **extra: Any) -> dict[str, Any]:
    statement: dict[str, Any] = {"Effect": "Allow", "Action": action, "Resource": "arn:aws:iot:us-west-2:1:client/*"}
    if condition is not None:
        statement["Condition"] = condition
    statement.update(extra)
    return statement


PINNED = {"StringEquals": {"aws:SourceVpce": VPCE_IDS}}
INGRESS_443 = {"protocol": "tcp", "fromPort": 443, "toPort": 443}
IGW = rules.INTERNET_GATEWAY
SG = rules.SECURITY_GROUP
SG_RULE = rules.SECURITY_GROUP_RULE
ENDPOINT = rules.VPC_ENDPOINT
SERVICE = rules.VPC_ENDPOINT_SERVICE
PRINCIPAL = rules.VPC_ENDPOINT_SERVICE_PRINCIPAL
FUNCTION = rules.LAMBDA_FUNCTION
TABLE = rules.DYNAMODB_TABLE
VPC_SUBNETS = {"subnetIds": ["subnet-a", "subnet-b"], "securityGroupIds": ["sg-authorizer"]}

TGW_ROUTE = {"destinationCidrBlock": "192.168.0.0/16", "transitGatewayId": "tgw-0a1b2c3d"}
TGW_TABLE_ROUTE = {"cidrBlock": "192.168.0.0/16", "transitGatewayId": "tgw-0a1b2c3d"}  # RouteTableRoute names
SSM_CORE = "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"

COMPLIANT = [
    pytest.param(allowed_types_only, rules.VPC_ENDPOINT, {"serviceName": "com.amazonaws.us-west-2.iot.data"}, id="listed-type"),
    pytest.param(
        managed_policies_allowed, "aws:iam/rolePolicyAttachment:RolePolicyAttachment", {"role": "r", "policyArn": SSM_CORE},
        id="listed-managed-policy",
    ),
    pytest.param(endpoints_to_listed_services, ENDPOINT, {"serviceName": "com.amazonaws.us-west-2.ssm",
                                                          "vpcEndpointType": "Interface"}, id="endpoint-to-ssm"),
    pytest.param(roles_trust_services_only, rules.IAM_ROLE, {"assumeRolePolicy": json.dumps({"Statement": [
        {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]})},
        id="role-for-lambda"),
    pytest.param(transit_stays_private, "aws:ec2transitgateway/transitGateway:TransitGateway",
                 {"autoAcceptSharedAttachments": "disable"}, id="tgw-accepts-explicitly"),
    pytest.param(events_reach_topics_only, "aws:cloudwatch/eventTarget:EventTarget",
                 {"rule": "r", "arn": "arn:aws:sns:us-west-2:222222222222:alarms"}, id="event-target-to-a-topic"),
    pytest.param(resource_policies_name_principals, "aws:sns/topicPolicy:TopicPolicy", {"policy": json.dumps({"Statement": [
        {"Effect": "Allow", "Principal": {"Service": "cloudwatch.amazonaws.com"}, "Action": "sns:Publish"}]})},
        id="topic-for-cloudwatch"),
    pytest.param(no_internet_path, rules.ROUTE, {"routeTableId": "rtb-1", **TGW_ROUTE}, id="route-via-tgw"),
    pytest.param(
        no_internet_path, rules.ROUTE_TABLE, {"vpcId": "vpc-1", "routes": [TGW_TABLE_ROUTE, {"cidrBlock": "10.0.0.0/16",
        "gatewayId": "local"}]}, id="route-table-tgw-and-local",
    ),
    pytest.param(
        no_internet_path, rules.DEFAULT_ROUTE_TABLE,
        {"defaultRouteTableId": "rtb-1", "routes": [], "propagatingVgws": []}, id="default-route-table-empty",
    ),
    pytest.param(no_public_addresses, rules.LAUNCH_CONFIGURATION, {"associatePublicIpAddress": False}, id="launch-config-private"),
    pytest.param(no_public_addresses, rules.SPOT_INSTANCE_REQUEST, {"spotPrice": "0.03"}, id="spot-request-default"),
    pytest.param(
        no_public_addresses, rules.SPOT_FLEET_REQUEST,
        {"launchSpecifications": [{"ami": "ami-1", "associatePublicIpAddress": "0"}]}, id="spot-fleet-private",
    ),
    pytest.param(no_public_addresses, rules.CLASSIC_LOAD_BALANCER, {"internal": True}, id="classic-lb-internal"),
    pytest.param(
        no_public_entry_points, rules.LAMBDA_PERMISSION,
        {"principal": "iot.amazonaws.com", "sourceArn": "arn:aws:iot:us-west-2:2:authorizer/a", "action": "lambda:InvokeFunction"},
        id="permission-for-iot",
    ),
    pytest.param(
        no_public_entry_points, rules.REST_API, {"endpointConfiguration": {"types": "PRIVATE"}}, id="rest-api-private",
    ),
    pytest.param(
        no_public_entry_points, rules.REST_API, {"endpointConfiguration": {"types": ["PRIVATE"]}}, id="rest-api-private-list",
    ),
    pytest.param(no_internet_path, "aws:ec2/vpc:Vpc", {"cidrBlock": "10.20.0.0/16"}, id="vpc"),
    pytest.param(no_internet_path, ENDPOINT, {"serviceName": "com.amazonaws.us-west-2.s3"}, id="gateway-endpoint"),
    pytest.param(no_public_addresses, rules.INSTANCE, {"associatePublicIpAddress": False}, id="instance-private"),
    pytest.param(no_public_addresses, rules.INSTANCE, {"instanceType": "t3.micro"}, id="instance-default"),
    pytest.param(no_public_addresses, rules.SUBNET, {"mapPublicIpOnLaunch": False}, id="subnet-private"),
    pytest.param(
        no_public_addresses, rules.LAUNCH_TEMPLATE,
        {"networkInterfaces": [{"associatePublicIpAddress": "false"}]}, id="launch-template-private",
    ),
    pytest.param(
        no_public_addresses, "aws:lb/loadBalancer:LoadBalancer",
        {"internal": True, "loadBalancerType": "network"}, id="internal-nlb",
    ),
    pytest.param(
        no_any_address_security_group_rules, SG,
        {"ingress": [{**INGRESS_443, "cidrBlocks": ["192.168.0.0/16", "10.10.0.0/16"]}]}, id="sg-named-sources",
    ),
    pytest.param(
        no_any_address_security_group_rules, SG,
        {"egress": [{**INGRESS_443, "prefixListIds": ["pl-63a5400a"]}]}, id="sg-egress-prefix-list",
    ),
    pytest.param(no_any_address_security_group_rules, rules.DEFAULT_SECURITY_GROUP, {"vpcId": "vpc-1"}, id="default-sg-empty"),
    pytest.param(
        no_any_address_security_group_rules, SG_RULE,
        {"type": "ingress", "cidrBlocks": ["10.10.0.0/16"], "ipv6CidrBlocks": ["fd00::/8"]}, id="sg-rule-named",
    ),
    pytest.param(
        no_any_address_security_group_rules, SG_RULE,
        {"type": "egress", "cidrBlocks": ["10.0.0.0/8", "172.16.0.0/12", "100.64.0.0/10"]}, id="sg-rule-private-ranges",
    ),
    pytest.param(
        no_any_address_security_group_rules, rules.VPC_INGRESS_RULE,
        {"referencedSecurityGroupId": "sg-nlb", "ipProtocol": "tcp"}, id="vpc-ingress-sg-reference",
    ),
    pytest.param(
        no_any_address_security_group_rules, rules.VPC_EGRESS_RULE, {"cidrIpv4": "10.20.0.0/16"}, id="vpc-egress-vpc-cidr",
    ),
    pytest.param(
        iot_endpoints_private_dns_off, ENDPOINT,
        {"serviceName": "com.amazonaws.us-west-2.iot.data", "privateDnsEnabled": False}, id="iot-data-dns-off",
    ),
    pytest.param(
        iot_endpoints_private_dns_off, ENDPOINT,
        {"serviceName": "com.amazonaws.us-west-2.iot.credentials"}, id="iot-credentials-provider-default",
    ),
    pytest.param(
        iot_endpoints_private_dns_off, ENDPOINT,
        {"serviceName": "com.amazonaws.us-west-2.greengrass", "privateDnsEnabled": True}, id="greengrass-supports-dns",
    ),
    pytest.param(iot_connect_requires_source_vpce, rules.IOT_POLICY, iot_policy(connect(PINNED)), id="connect-pinned"),
    pytest.param(
        iot_connect_requires_source_vpce, rules.IOT_POLICY,
        iot_policy(connect({"StringEquals": {"AWS:SourceVpce": VPCE_IDS[0]}}, action="IoT:*"), as_list=False),
        id="single-statement-case-insensitive",
    ),
    pytest.param(
        iot_connect_requires_source_vpce, rules.IOT_POLICY,
        iot_policy(connect({"ForAnyValue:StringLike": {"aws:SourceVpce": VPCE_IDS}, "Bool": {"x": "true"}})),
        id="connect-foranyvalue-exact",
    ),
    pytest.param(
        iot_connect_requires_source_vpce, rules.IOT_POLICY,
        iot_policy({"Effect": "Allow", "Action": ["iot:Publish", "iot:Receive"], "Resource": "*"}),
        id="no-connect-statement",
    ),
    pytest.param(
        iot_connect_requires_source_vpce, rules.IOT_POLICY,
        iot_policy({"Effect": "Deny", "Action": "iot:Connect", "Resource": "*"}, connect(PINNED)),
        id="deny-needs-no-condition",
    ),
    pytest.param(
        iot_connect_requires_source_vpce, rules.IOT_POLICY,
        iot_policy({"Effect": "Allow", "NotAction": ["iot:Connect"], "Resource": "*"}),
        id="notaction-excluding-connect",
    ),
    pytest.param(
        iot_connect_requires_source_vpce, rules.IAM_ROLE_POLICY, iot_policy(connect(PINNED, action="iot:*")),
        id="iam-role-policy-pinned",
    ),
    pytest.param(
        iot_connect_requires_source_vpce, rules.IAM_POLICY,
        iot_policy({"Effect": "Allow", "Action": ["logs:PutLogEvents"], "Resource": "*"}), id="iam-policy-no-connect",
    ),
    pytest.param(
        iot_connect_requires_source_vpce, rules.IAM_ROLE,
        {"inlinePolicies": [{"name": "p", **iot_policy(connect(PINNED, action="*"))}, {"name": "empty"}]},
        id="iam-role-inline-pinned",
    ),
    pytest.param(
        iot_connect_requires_source_vpce, rules.IOT_POLICY,
        iot_policy(connect({"StringEquals": {"aws:SourceVpce": ["vpce-0a1b2c3d"]}})), id="short-endpoint-id",
    ),
    pytest.param(
        endpoint_service_restricted, SERVICE,
        {"acceptanceRequired": True, "allowedPrincipals": ["arn:aws:iam::333333333333:root"]}, id="service-restricted",
    ),
    pytest.param(
        endpoint_service_restricted, PRINCIPAL, {"principalArn": "arn:aws:iam::333333333333:root"}, id="one-principal",
    ),
    pytest.param(lambda_in_vpc, FUNCTION, {"vpcConfig": VPC_SUBNETS, "runtime": "python3.12"}, id="lambda-in-vpc"),
    pytest.param(
        dynamodb_encrypted_with_pitr, TABLE,
        {"serverSideEncryption": {"enabled": True}, "pointInTimeRecovery": {"enabled": True}}, id="table-protected",
    ),
]

VIOLATING = [
    pytest.param(
        no_internet_path, rules.ROUTE, {"routeTableId": "rtb-1", "destinationCidrBlock": "0.0.0.0/0", "gatewayId": "igw-1"},
        "gatewayId is 'igw-1': a route to an internet gateway or VPN gateway", id="route-to-igw",
    ),
    pytest.param(
        no_internet_path, rules.ROUTE, {"destinationCidrBlock": "192.168.0.0/16", "gatewayId": "vgw-1"},
        "gatewayId is 'vgw-1'", id="route-to-vgw",
    ),
    pytest.param(
        no_internet_path, rules.ROUTE, {"destinationIpv6CidrBlock": "::/0", "egressOnlyGatewayId": "eigw-1"},
        "an egress-only internet gateway", id="route-to-eigw",
    ),
    pytest.param(no_internet_path, rules.ROUTE, {"natGatewayId": "nat-1"}, "a route to a NAT gateway", id="route-to-nat"),
    pytest.param(
        no_internet_path, rules.ROUTE, {"vpcPeeringConnectionId": "pcx-1"}, "a VPC peering connection", id="route-to-peering",
    ),
    pytest.param(no_internet_path, rules.ROUTE, {"carrierGatewayId": "cagw-1"}, "a carrier gateway", id="route-to-carrier"),
    pytest.param(
        no_internet_path, rules.ROUTE_TABLE, {"routes": [TGW_TABLE_ROUTE, {"cidrBlock": "0.0.0.0/0", "natGatewayId": "nat-1"}]},
        r"routes\[1\]\.natGatewayId is 'nat-1'", id="route-table-inline-nat",
    ),
    pytest.param(
        no_internet_path, rules.DEFAULT_ROUTE_TABLE, {"routes": [{"cidrBlock": "10.9.0.0/16", "vpnGatewayId": "vgw-1"}]},
        r"routes\[0\]\.vpnGatewayId is 'vgw-1': a route to a VPN gateway", id="default-route-table-vpn",
    ),
    pytest.param(
        no_internet_path, rules.ROUTE_TABLE, {"propagatingVgws": ["vgw-1"]}, "propagated from a VPN gateway",
        id="route-table-vgw-propagation",
    ),
    pytest.param(
        no_internet_path, rules.VPC_PEERING_CONNECTION, {"vpcId": "vpc-1", "peerVpcId": "vpc-2"}, "VPC peering connection",
        id="peering",
    ),
    pytest.param(no_internet_path, rules.VPN_CONNECTION, {"type": "ipsec.1"}, "Site-to-Site VPN", id="vpn-connection"),
    pytest.param(no_internet_path, rules.VPN_GATEWAY, {"vpcId": "vpc-1"}, r"virtual private gateway \(VPN\)", id="vpn-gateway"),
    pytest.param(no_internet_path, rules.CARRIER_GATEWAY, {"vpcId": "vpc-1"}, "a carrier gateway", id="carrier-gateway"),
    pytest.param(no_internet_path, rules.DEFAULT_VPC, {}, "the default VPC", id="default-vpc"),
    pytest.param(no_internet_path, rules.DEFAULT_SUBNET, {"availabilityZone": "us-west-2a"}, "a default subnet", id="default-subnet"),
    pytest.param(
        no_public_addresses, rules.LAUNCH_TEMPLATE, {"networkInterfaces": [{"associatePublicIpAddress": "True"}]},
        r"networkInterfaces\[0\]\.associatePublicIpAddress is 'True'", id="launch-template-capitalised",
    ),
    pytest.param(
        no_public_addresses, rules.LAUNCH_TEMPLATE, {"networkInterfaces": [{"associatePublicIpAddress": True}]},
        r"associatePublicIpAddress is True", id="launch-template-bool",
    ),
    pytest.param(
        no_public_addresses, rules.LAUNCH_TEMPLATE, {"networkInterfaces": [{"associatePublicIpAddress": "1"}]},
        r"associatePublicIpAddress is '1'", id="launch-template-parsebool-one",
    ),
    pytest.param(
        no_public_addresses, rules.LAUNCH_CONFIGURATION, {"associatePublicIpAddress": True},
        "associatePublicIpAddress is True", id="launch-config-public",
    ),
    pytest.param(
        no_public_addresses, rules.SPOT_INSTANCE_REQUEST, {"associatePublicIpAddress": "true"},
        "associatePublicIpAddress is 'true'", id="spot-request-public",
    ),
    pytest.param(
        no_public_addresses, rules.SPOT_FLEET_REQUEST,
        {"launchSpecifications": [{"ami": "ami-1"}, {"ami": "ami-1", "associatePublicIpAddress": True}]},
        r"launchSpecifications\[1\]\.associatePublicIpAddress is True", id="spot-fleet-public",
    ),
    pytest.param(
        no_public_addresses, rules.CLASSIC_LOAD_BALANCER, {"internal": False}, "internal is False", id="classic-lb-public",
    ),
    pytest.param(
        no_public_entry_points, rules.FUNCTION_URL, {"functionName": "f", "authorizationType": "NONE"},
        "authorizationType is 'NONE': a function URL is a public endpoint anyone on the internet", id="function-url-none",
    ),
    pytest.param(
        no_public_entry_points, rules.FUNCTION_URL, {"functionName": "f", "authorizationType": "AWS_IAM"},
        "any holder of AWS credentials", id="function-url-iam",
    ),
    pytest.param(
        allowed_types_only, "aws:ec2clientvpn/endpoint:Endpoint", {"serverCertificateArn": "arn:aws:acm:x"},
        "not a type the channel declares", id="unlisted-type",
    ),
    pytest.param(
        managed_policies_allowed, "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
        {"role": "r", "policyArn": "arn:aws:iam::aws:policy/AWSIoTDataAccess"}, "policyArn has .*AWSIoTDataAccess",
        id="unlisted-managed-policy",
    ),
    pytest.param(endpoints_to_listed_services, ENDPOINT, {"serviceName": "com.amazonaws.us-west-2.execute-api"},
                 "serviceName is 'com.amazonaws.us-west-2.execute-api'", id="endpoint-to-execute-api"),
    pytest.param(roles_trust_services_only, rules.IAM_ROLE, {"assumeRolePolicy": json.dumps({"Statement": [
        {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}]})}, "Principal AWS \\['\\*'\\]",
        id="role-for-anyone"),
    pytest.param(transit_stays_private, "aws:ec2transitgateway/transitGateway:TransitGateway",
                 {"autoAcceptSharedAttachments": "enable"}, "autoAcceptSharedAttachments is 'enable'", id="tgw-auto-accepts"),
    pytest.param(events_reach_topics_only, "aws:cloudwatch/eventTarget:EventTarget",
                 {"rule": "r", "arn": "arn:aws:sqs:us-west-2:222222222222:queue"}, "is not an SNS topic",
                 id="event-target-to-a-queue"),
    pytest.param(resource_policies_name_principals, "aws:sns/topicPolicy:TopicPolicy", {"policy": json.dumps({"Statement": [
        {"Effect": "Allow", "Principal": "*", "Action": "sns:Subscribe"}]})}, "Principal is '\\*': anyone",
        id="topic-for-anyone"),
    pytest.param(
        no_public_entry_points, rules.LAMBDA_PERMISSION, {"principal": "*", "action": "lambda:InvokeFunction"},
        "principal is '\\*'", id="permission-star",
    ),
    pytest.param(
        no_public_entry_points, rules.LAMBDA_PERMISSION, {"principal": "arn:aws:iam::*:root", "action": "lambda:InvokeFunction"},
        "principal is 'arn:aws:iam::\\*:root'", id="permission-star-account",
    ),
    pytest.param(
        no_public_entry_points, rules.LAMBDA_PERMISSION,
        {"principal": "123456789012", "action": "lambda:InvokeFunctionUrl", "functionUrlAuthType": "NONE"},
        "functionUrlAuthType is 'NONE'", id="permission-url-none",
    ),
    pytest.param(no_public_entry_points, rules.GLOBAL_ACCELERATOR, {"name": "a"}, "public anycast", id="global-accelerator"),
    pytest.param(no_public_entry_points, rules.REST_API, {"name": "a"}, "types is None .*EDGE", id="rest-api-default-edge"),
    pytest.param(
        no_public_entry_points, rules.REST_API, {"endpointConfiguration": {"types": "REGIONAL"}}, "types is \\['REGIONAL'\\]",
        id="rest-api-regional",
    ),
    pytest.param(
        no_public_entry_points, rules.HTTP_API, {"protocolType": "HTTP"}, "always has a public endpoint", id="http-api",
    ),
    pytest.param(no_internet_path, IGW, {"vpcId": "vpc-1"}, "declares an internet gateway", id="igw"),
    pytest.param(
        no_internet_path, rules.EGRESS_ONLY_INTERNET_GATEWAY, {"vpcId": "vpc-1"}, "egress-only internet gateway", id="eigw",
    ),
    pytest.param(no_internet_path, rules.NAT_GATEWAY, {"subnetId": "subnet-a"}, "a NAT gateway", id="nat"),
    pytest.param(no_internet_path, rules.EIP, {}, r"an Elastic IP \(a public address\)", id="eip"),
    pytest.param(
        no_public_addresses, rules.INSTANCE, {"associatePublicIpAddress": True},
        "associatePublicIpAddress is True — remove it", id="instance-public",
    ),
    pytest.param(no_public_addresses, rules.SUBNET, {"mapPublicIpOnLaunch": True}, "mapPublicIpOnLaunch is True", id="subnet-public"),
    pytest.param(
        no_public_addresses, rules.LAUNCH_TEMPLATE,
        {"networkInterfaces": [{"deviceIndex": 0}, {"associatePublicIpAddress": "true"}]},
        r"networkInterfaces\[1\]\.associatePublicIpAddress is 'true'", id="launch-template-public",
    ),
    pytest.param(
        no_public_addresses, "aws:alb/loadBalancer:LoadBalancer", {"loadBalancerType": "network"},
        "internal is None .* set internal=True", id="lb-internet-facing-by-default",
    ),
    pytest.param(
        no_any_address_security_group_rules, SG,
        {"ingress": [{**INGRESS_443, "cidrBlocks": ["10.10.0.0/16", "0.0.0.0/0"]}]},
        r"ingress\[0\]\.cidrBlocks has '0\.0\.0\.0/0': ingress from any address", id="sg-ingress-any",
    ),
    pytest.param(
        no_any_address_security_group_rules, SG,
        {"egress": [{"protocol": "-1", "fromPort": 0, "toPort": 0, "ipv6CidrBlocks": ["::/0"]}]},
        r"egress\[0\]\.ipv6CidrBlocks has '::/0': egress to any address", id="sg-egress-any-ipv6",
    ),
    pytest.param(
        no_any_address_security_group_rules, SG_RULE,
        {"type": "egress", "cidrBlocks": ["0.0.0.0/0"], "protocol": "-1"},
        r"cidrBlocks has '0\.0\.0\.0/0': egress to any address", id="sg-rule-egress-any",
    ),
    pytest.param(
        no_any_address_security_group_rules, SG_RULE, {"type": "ingress", "cidrBlocks": ["10.1.2.3/0"]},
        r"'10\.1\.2\.3/0': ingress from any address", id="sg-rule-host-bits-zero-prefix",
    ),
    pytest.param(
        no_any_address_security_group_rules, rules.VPC_INGRESS_RULE, {"cidrIpv4": "0.0.0.0/0", "ipProtocol": "tcp"},
        r"cidrIpv4 has '0\.0\.0\.0/0': ingress from any address", id="vpc-ingress-any",
    ),
    pytest.param(
        no_any_address_security_group_rules, rules.VPC_EGRESS_RULE, {"cidrIpv6": "::/0"},
        r"cidrIpv6 has '::/0': egress to any address", id="vpc-egress-any",
    ),
    pytest.param(
        no_any_address_security_group_rules, SG_RULE, {"type": "egress", "cidrBlocks": ["10.0.0.0/8", "0.0.0.0/1"]},
        r"'0\.0\.0\.0/1': egress to a range holding public addresses", id="sg-rule-half-the-internet",
    ),
    pytest.param(
        no_any_address_security_group_rules, SG_RULE, {"type": "egress", "cidrBlocks": ["128.0.0.0/1"]},
        r"'128\.0\.0\.0/1': egress to a range holding public addresses", id="sg-rule-other-half",
    ),
    pytest.param(
        no_any_address_security_group_rules, rules.VPC_EGRESS_RULE, {"cidrIpv6": "::/1"},
        r"'::/1': egress to a range holding public addresses", id="vpc-egress-half-ipv6",
    ),
    pytest.param(
        no_any_address_security_group_rules, rules.VPC_INGRESS_RULE, {"cidrIpv4": "8.8.8.0/24"},
        r"'8\.8\.8\.0/24': ingress from a range holding public addresses", id="vpc-ingress-public-network",
    ),
    pytest.param(
        no_any_address_security_group_rules, SG_RULE, {"type": "ingress", "cidrBlocks": ["office"]},
        "ingress from something that is not a CIDR", id="sg-rule-not-a-cidr",
    ),
    pytest.param(
        iot_endpoints_private_dns_off, ENDPOINT,
        {"serviceName": "com.amazonaws.us-west-2.iot.credentials", "privateDnsEnabled": True},
        "privateDnsEnabled is True for com.amazonaws.us-west-2.iot.credentials — this service does not support",
        id="iot-credentials-dns-on",
    ),
    pytest.param(
        iot_endpoints_private_dns_off, ENDPOINT,
        {"serviceName": "com.amazonaws.eu-central-1.iot.data", "privateDnsEnabled": True},
        "set private_dns_enabled=False", id="iot-data-dns-on",
    ),
    pytest.param(
        iot_connect_requires_source_vpce, rules.IOT_POLICY, iot_policy(connect(action="iot:*")),
        r"Statement\[0\] allows iot:Connect without a Condition", id="iot-star-unconditioned",
    ),
    pytest.param(
        iot_connect_requires_source_vpce, rules.IOT_POLICY,
        iot_policy(connect({"StringEquals": {"aws:SourceVpc": "vpc-1"}}, action="*", Sid="All")),
        r"Statement\[0\] \(Sid 'All'\) allows iot:Connect without a condition on aws:SourceVpce", id="star-wrong-key",
    ),
    pytest.param(
        iot_connect_requires_source_vpce, rules.IOT_POLICY,
        iot_policy(connect(PINNED), connect(action=["iot:Publish", "iot:Conn*"])),
        r"Statement\[1\] allows iot:Connect without a Condition", id="second-statement-wildcard-action",
    ),
    pytest.param(
        iot_connect_requires_source_vpce, rules.IOT_POLICY,
        iot_policy({"Effect": "Allow", "NotAction": "iot:Publish", "Resource": "*"}),
        r"Statement\[0\] allows iot:Connect without a Condition", id="notaction-allows-connect",
    ),
    pytest.param(
        iot_connect_requires_source_vpce, rules.IOT_POLICY,
        iot_policy(connect({"StringNotEquals": {"aws:SourceVpce": VPCE_IDS}})),
        "only under StringNotEquals, which also matches connections that did not come through an endpoint",
        id="negated-operator",
    ),
    pytest.param(
        iot_connect_requires_source_vpce, rules.IOT_POLICY,
        iot_policy(connect({"StringEqualsIfExists": {"aws:SourceVpce": VPCE_IDS}})),
        "only under StringEqualsIfExists", id="ifexists-operator",
    ),
    pytest.param(
        iot_connect_requires_source_vpce, rules.IOT_POLICY,
        iot_policy(connect({"StringLike": {"aws:SourceVpce": "vpce-*"}})),
        "aws:SourceVpce 'vpce-\\*' under StringLike, which matches more than", id="wildcard-endpoint",
    ),
    pytest.param(
        iot_connect_requires_source_vpce, rules.IOT_POLICY,
        iot_policy(connect({"StringEquals": {"aws:SourceVpce": []}})),
        "empty aws:SourceVpce list", id="empty-endpoint-list",
    ),
    pytest.param(
        iot_connect_requires_source_vpce, rules.IOT_POLICY, {"policy": '{"Statement": [}'},
        r"policy is not valid JSON \(Expecting value at line 1 column 16\)", id="invalid-json",
    ),
    pytest.param(
        iot_connect_requires_source_vpce, rules.IOT_POLICY, {"policy": json.dumps({"Statement": "iot:Connect"})},
        "policy Statement is str", id="statement-not-object",
    ),
    pytest.param(
        iot_connect_requires_source_vpce, rules.IOT_POLICY,
        iot_policy(connect({"StringEquals": {"aws:SourceVpce": [VPCE_IDS[0], "vpc-0a1b2c3d4e5f60718"]}})),
        "aws:SourceVpce 'vpc-0a1b2c3d4e5f60718' under StringEquals, which is not a VPC endpoint ID", id="vpc-id-not-endpoint",
    ),
    pytest.param(
        iot_connect_requires_source_vpce, rules.IOT_POLICY,
        iot_policy(connect({"StringEquals": {"aws:SourceVpce": "${iot:Connection.Thing.ThingName}"}})),
        "not a VPC endpoint ID", id="policy-variable-not-endpoint",
    ),
    pytest.param(
        iot_connect_requires_source_vpce, rules.IOT_POLICY,
        iot_policy(connect({"StringEquals": {"aws:SourceVpce": "arn:aws:ec2:us-west-2:1:vpc-endpoint/" + VPCE_IDS[0]}})),
        "not a VPC endpoint ID", id="endpoint-arn-not-id",
    ),
    pytest.param(
        iot_connect_requires_source_vpce, rules.IOT_POLICY,
        iot_policy(connect({"StringEquals": {"aws:SourceVpce": " " + VPCE_IDS[0]}})),
        "not a VPC endpoint ID", id="endpoint-id-with-space",
    ),
    pytest.param(
        iot_connect_requires_source_vpce, rules.IAM_POLICY, iot_policy(connect(action="iot:*")),
        r"policy Statement\[0\] allows iot:Connect without a Condition", id="iam-policy-iot-star",
    ),
    pytest.param(
        iot_connect_requires_source_vpce, rules.IAM_ROLE_POLICY, iot_policy(connect(action="*")),
        r"policy Statement\[0\] allows iot:Connect without a Condition", id="iam-role-policy-star",
    ),
    pytest.param(
        iot_connect_requires_source_vpce, rules.IAM_USER_POLICY, iot_policy(connect()),
        "allows iot:Connect without a Condition", id="iam-user-policy-connect",
    ),
    pytest.param(
        iot_connect_requires_source_vpce, rules.IAM_GROUP_POLICY,
        iot_policy(connect({"StringEqualsIfExists": {"aws:SourceVpce": VPCE_IDS}})), "only under StringEqualsIfExists",
        id="iam-group-policy-ifexists",
    ),
    pytest.param(
        iot_connect_requires_source_vpce, rules.IAM_ROLE,
        {"inlinePolicies": [{"name": "ok", **iot_policy(connect(PINNED))}, {"name": "open", **iot_policy(connect(action="iot:Conn*"))}]},
        r"inlinePolicies\[1\]\.policy Statement\[0\] allows iot:Connect without a Condition", id="iam-role-inline-open",
    ),
    pytest.param(
        endpoint_service_restricted, SERVICE, {"acceptanceRequired": False, "allowedPrincipals": []},
        "acceptanceRequired is False — set acceptance_required=True", id="auto-accept",
    ),
    pytest.param(
        endpoint_service_restricted, SERVICE,
        {"acceptanceRequired": True, "allowedPrincipals": ["arn:aws:iam::333333333333:root", "*"]},
        r"allowedPrincipals\[1\] is '\*'", id="any-principal",
    ),
    pytest.param(
        endpoint_service_restricted, PRINCIPAL, {"principalArn": "*"}, "principalArn is '\\*'", id="allowed-principle-star",
    ),
    pytest.param(lambda_in_vpc, FUNCTION, {"runtime": "python3.12"}, "vpcConfig is None — set vpc_config", id="lambda-no-vpc"),
    pytest.param(
        lambda_in_vpc, FUNCTION, {"vpcConfig": {"subnetIds": [], "securityGroupIds": ["sg-1"]}},
        r"vpcConfig\.subnetIds is \[\] — list at least one private subnet", id="lambda-no-subnets",
    ),
    pytest.param(
        dynamodb_encrypted_with_pitr, TABLE, {"pointInTimeRecovery": {"enabled": True}},
        "serverSideEncryption.enabled is None", id="table-unencrypted",
    ),
    pytest.param(
        dynamodb_encrypted_with_pitr, TABLE,
        {"serverSideEncryption": {"enabled": True}, "pointInTimeRecovery": {"enabled": False}},
        r"pointInTimeRecovery\.enabled is False — set point_in_time_recovery=\{'enabled': True\}", id="table-no-pitr",
    ),
]


@pytest.mark.parametrize(("rule", "resource_type", "props"), COMPLIANT)
def test_compliant_resource_passes(rule: ResourceValidationPolicy, resource_type: str, props: dict[str, Any]) -> None:
    assert validate(rule, resource_type, props) == []


@pytest.mark.parametrize(("rule", "resource_type", "props", "pattern"), VIOLATING)
def test_non_compliant_resource_is_reported(
    rule: ResourceValidationPolicy, resource_type: str, props: dict[str, Any], pattern: str
) -> None:
    messages = validate(rule, resource_type, props)

    assert len(messages) == 1, messages
    assert re.search(pattern, messages[0]), messages[0]
    assert "—" in messages[0]  # every message says how to fix it


def test_every_rule_has_a_compliant_and_a_violating_case() -> None:
    compliant = {p.values[0].name for p in COMPLIANT}
    violating = {p.values[0].name for p in VIOLATING}
    names = {rule.name for rule in RULES}
    assert compliant == names
    assert violating == names


def test_rules_are_mandatory_and_uniquely_named() -> None:
    assert all(rule.enforcement_level is EnforcementLevel.MANDATORY for rule in RULES)
    assert len({rule.name for rule in RULES}) == len(RULES)
    assert all(isinstance(rule, ResourceValidationPolicy) and rule.description for rule in RULES)


def test_several_findings_on_one_resource_are_all_reported() -> None:
    messages = validate(
        no_any_address_security_group_rules,
        SG,
        {"ingress": [{**INGRESS_443, "cidrBlocks": ["0.0.0.0/0"]}], "egress": [{**INGRESS_443, "cidrBlocks": ["0.0.0.0/0"]}]},
    )
    assert [m.split(" has ")[0] for m in messages] == ["ingress[0].cidrBlocks", "egress[0].cidrBlocks"]


def test_rules_leave_unrelated_resource_types_alone() -> None:
    open_everything = {
        "cidrBlocks": ["0.0.0.0/0"], "internal": False, "privateDnsEnabled": True, "policy": "{}",
        "acceptanceRequired": False, "associatePublicIpAddress": True,
    }
    for rule in RULES:
        if rule is not allowed_types_only:  # which refuses every type it does not list
            assert validate(rule, "aws:s3/bucket:Bucket", open_everything) == [], rule.name
    assert len(validate(allowed_types_only, "aws:s3/bucket:Bucket", open_everything)) == 1


@pytest.mark.parametrize(
    ("rule", "resource_type", "props"),
    [
        pytest.param(lambda_in_vpc, FUNCTION, {"vpcConfig": UNKNOWN_OBJECT_VALUE}, id="lambda-vpc-config"),
        pytest.param(no_internet_path, rules.ROUTE, {"gatewayId": UNKNOWN_STRING_VALUE}, id="route-target"),
        pytest.param(
            no_public_entry_points, rules.LAMBDA_PERMISSION, {"principal": UNKNOWN_STRING_VALUE}, id="permission-principal",
        ),
        pytest.param(iot_connect_requires_source_vpce, rules.IOT_POLICY, {"policy": UNKNOWN_STRING_VALUE}, id="iot-policy"),
        pytest.param(
            no_any_address_security_group_rules, SG_RULE, {"type": "ingress", "cidrBlocks": [UNKNOWN_STRING_VALUE]},
            id="sg-cidr",
        ),
    ],
)
def test_unknown_preview_values_are_not_taken_as_compliant(
    rule: ResourceValidationPolicy, resource_type: str, props: dict[str, Any]
) -> None:
    # The pack turns this into "can't run during preview"; `pulumi up` re-runs the rule with the value known.
    with pytest.raises(UnknownValueError):
        validate(rule, resource_type, props)


def test_evaluate_runs_every_rule_over_one_resource() -> None:
    assert rules.evaluate(SERVICE, {"acceptanceRequired": True, "allowedPrincipals": ["arn:aws:iam::3:root"]}) == []

    found = rules.evaluate(SERVICE, {"acceptanceRequired": False, "allowedPrincipals": ["*"]}, name="svc")

    assert [(v.rule, v.resource_type, v.name) for v in found] == [("endpoint-service-restricted", SERVICE, "svc")] * 2
    assert "acceptanceRequired is False" in found[0].message
    assert "allowedPrincipals[0] is '*'" in found[1].message
