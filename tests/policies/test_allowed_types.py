"""The pack is an allow-list: crafted public paths, from every provider and in every form, pass it 0 times.

Pure tests: the pack's checks over resource inputs (``policies.rules.evaluate``, the same call the
engine's Analyze makes), and the program's source read for the types it constructs.
"""

from __future__ import annotations

import ast
import functools
import importlib.util
import json
import re
import subprocess
from pathlib import Path

import pytest

from policies.allowed_types import ALLOWED_MANAGED_POLICIES, ALLOWED_TYPES, ENDPOINT_SERVICES, check_allowed_type
from policies.rules import evaluate

ROOT = Path(__file__).resolve().parents[2]
ENGINE_TYPES = {"pulumi:pulumi:Stack"}  # registered by the engine itself, never by the program's source

# (type token, where the class lives in the installed provider or None for another provider, inputs,
# the rule expected to refuse it beyond allowed-types-only or None). Each aws/aws-native token is
# checked against the installed package below, so a typo cannot make a case fail for the wrong reason.
SOURCE_ARN = "arn:aws:iot:us-west-2:222222222222:authorizer/mqtt-password-iot"
PUBLIC_PATHS = [
    # named by the review: Client VPN, EC2 Instance Connect endpoints, CloudFront VPC origins,
    # Verified Access, TGW peering, public Amazon MQ
    ("aws:ec2clientvpn/endpoint:Endpoint", "pulumi_aws.ec2clientvpn.Endpoint", {"clientCidrBlock": "10.99.0.0/22"}),
    ("aws:ec2clientvpn/networkAssociation:NetworkAssociation", "pulumi_aws.ec2clientvpn.NetworkAssociation", {"subnetId": "subnet-1"}),
    ("aws:ec2transitgateway/instanceConnectEndpoint:InstanceConnectEndpoint",
     "pulumi_aws.ec2transitgateway.InstanceConnectEndpoint", {"subnetId": "subnet-1"}),
    ("aws-native:ec2:InstanceConnectEndpoint", "pulumi_aws_native.ec2.InstanceConnectEndpoint", {"subnetId": "subnet-1"}),
    ("aws:cloudfront/vpcOrigin:VpcOrigin", "pulumi_aws.cloudfront.VpcOrigin", {"vpcOriginEndpointConfig": {"arn": "arn:nlb"}}),
    ("aws-native:cloudfront:VpcOrigin", "pulumi_aws_native.cloudfront.VpcOrigin", {"vpcOriginEndpointConfig": {"arn": "arn:nlb"}}),
    ("aws:verifiedaccess/instance:Instance", "pulumi_aws.verifiedaccess.Instance", {}),
    ("aws:verifiedaccess/endpoint:Endpoint", "pulumi_aws.verifiedaccess.Endpoint", {"endpointType": "network-interface"}),
    ("aws-native:ec2:VerifiedAccessEndpoint", "pulumi_aws_native.ec2.VerifiedAccessEndpoint", {"endpointType": "load-balancer"}),
    ("aws:ec2transitgateway/peeringAttachment:PeeringAttachment", "pulumi_aws.ec2transitgateway.PeeringAttachment",
     {"transitGatewayId": "tgw-1", "peerTransitGatewayId": "tgw-2", "peerAccountId": "999999999999"}),
    ("aws-native:ec2:TransitGatewayPeeringAttachment", "pulumi_aws_native.ec2.TransitGatewayPeeringAttachment",
     {"transitGatewayId": "tgw-1", "peerTransitGatewayId": "tgw-2"}),
    ("aws:mq/broker:Broker", "pulumi_aws.mq.Broker", {"publiclyAccessible": True, "engineType": "ActiveMQ"}),
    ("aws-native:amazonmq:Broker", "pulumi_aws_native.amazonmq.Broker", {"publiclyAccessible": True}),
    # the forms the old pack forbade, through Cloud Control: 0 of them may pass either
    ("aws-native:ec2:InternetGateway", "pulumi_aws_native.ec2.InternetGateway", {}),
    ("aws-native:ec2:EgressOnlyInternetGateway", "pulumi_aws_native.ec2.EgressOnlyInternetGateway", {"vpcId": "vpc-1"}),
    ("aws-native:ec2:NatGateway", "pulumi_aws_native.ec2.NatGateway", {"subnetId": "subnet-1"}),
    ("aws-native:ec2:Eip", "pulumi_aws_native.ec2.Eip", {}),
    ("aws-native:ec2:CarrierGateway", "pulumi_aws_native.ec2.CarrierGateway", {"vpcId": "vpc-1"}),
    ("aws-native:ec2:VpcPeeringConnection", "pulumi_aws_native.ec2.VpcPeeringConnection", {"vpcId": "vpc-1", "peerVpcId": "vpc-2"}),
    ("aws-native:ec2:VpnConnection", "pulumi_aws_native.ec2.VpnConnection", {"type": "ipsec.1"}),
    ("aws-native:ec2:CustomerGateway", "pulumi_aws_native.ec2.CustomerGateway", {"ipAddress": "203.0.113.1"}),
    ("aws-native:ec2:TransitGatewayConnect", "pulumi_aws_native.ec2.TransitGatewayConnect", {}),
    ("aws-native:ec2:Route", "pulumi_aws_native.ec2.Route", {"destinationCidrBlock": "0.0.0.0/0", "gatewayId": "igw-1"}),
    ("aws-native:ec2:RouteTable", "pulumi_aws_native.ec2.RouteTable", {"vpcId": "vpc-1"}),
    ("aws-native:ec2:Subnet", "pulumi_aws_native.ec2.Subnet", {"mapPublicIpOnLaunch": True}),
    ("aws-native:ec2:Instance", "pulumi_aws_native.ec2.Instance",
     {"networkInterfaces": [{"associatePublicIpAddress": True, "deviceIndex": "0"}]}),
    ("aws-native:ec2:SecurityGroup", "pulumi_aws_native.ec2.SecurityGroup",
     {"securityGroupIngress": [{"cidrIp": "0.0.0.0/0", "ipProtocol": "-1"}]}),
    ("aws-native:ec2:SecurityGroupIngress", "pulumi_aws_native.ec2.SecurityGroupIngress", {"cidrIp": "0.0.0.0/0"}),
    ("aws-native:elasticloadbalancingv2:LoadBalancer", "pulumi_aws_native.elasticloadbalancingv2.LoadBalancer",
     {"scheme": "internet-facing"}),
    ("aws-native:lambda:Url", "pulumi_aws_native.lambda_.Url", {"authType": "NONE"}),
    ("aws-native:lambda:Permission", "pulumi_aws_native.lambda_.Permission", {"principal": "iot.amazonaws.com"}),
    ("aws-native:apigateway:RestApi", "pulumi_aws_native.apigateway.RestApi", {}),
    ("aws-native:apigatewayv2:Api", "pulumi_aws_native.apigatewayv2.Api", {"protocolType": "HTTP"}),
    ("aws-native:globalaccelerator:Accelerator", "pulumi_aws_native.globalaccelerator.Accelerator", {}),
    ("aws-native:iot:Policy", "pulumi_aws_native.iot.Policy",
     {"policyDocument": {"Statement": [{"Effect": "Allow", "Action": "iot:Connect", "Resource": "*"}]}}),
    ("aws-native:iot:DomainConfiguration", "pulumi_aws_native.iot.DomainConfiguration", {"domainName": "iot.example.com"}),
    ("aws-native:iam:Role", "pulumi_aws_native.iam.Role",
     {"managedPolicyArns": ["arn:aws:iam::aws:policy/AWSIoTDataAccess"]}),
    ("aws-native:iam:User", "pulumi_aws_native.iam.User", {"managedPolicyArns": ["arn:aws:iam::aws:policy/AWSIoTFullAccess"]}),
    ("aws-native:iam:ManagedPolicy", "pulumi_aws_native.iam.ManagedPolicy",
     {"policyDocument": {"Statement": [{"Effect": "Allow", "Action": "iot:*", "Resource": "*"}]}, "roles": ["r"]}),
    # other public forms of pulumi-aws the old pack did not name
    ("aws:ec2/networkInterface:NetworkInterface", "pulumi_aws.ec2.NetworkInterface", {"subnetId": "subnet-1"}),
    ("aws:directconnect/publicVirtualInterface:PublicVirtualInterface", "pulumi_aws.directconnect.PublicVirtualInterface", {}),
    ("aws:ec2transitgateway/connect:Connect", "pulumi_aws.ec2transitgateway.Connect", {"transitGatewayId": "tgw-1"}),
    ("aws:ec2/customerGateway:CustomerGateway", "pulumi_aws.ec2.CustomerGateway", {"ipAddress": "203.0.113.1"}),
    ("aws:networkmanager/coreNetwork:CoreNetwork", "pulumi_aws.networkmanager.CoreNetwork", {"globalNetworkId": "g-1"}),
    ("aws:lightsail/instance:Instance", "pulumi_aws.lightsail.Instance", {"blueprintId": "ubuntu"}),
    ("aws:apprunner/service:Service", "pulumi_aws.apprunner.Service", {"serviceName": "s"}),
    ("aws:rds/instance:Instance", "pulumi_aws.rds.Instance", {"publiclyAccessible": True}),
    ("aws:opensearch/domain:Domain", "pulumi_aws.opensearch.Domain", {"domainName": "d"}),
    ("aws:iam/accessKey:AccessKey", "pulumi_aws.iam.AccessKey", {"user": "u"}),
    ("aws:iam/policyAttachment:PolicyAttachment", "pulumi_aws.iam.PolicyAttachment",
     {"policyArn": "arn:aws:iam::aws:policy/AWSIoTDataAccess", "roles": ["r"]}),
    ("aws:iam/userPolicyAttachment:UserPolicyAttachment", "pulumi_aws.iam.UserPolicyAttachment",
     {"policyArn": "arn:aws:iam::aws:policy/AWSIoTDataAccess", "user": "u"}),
    ("aws:iam/groupPolicyAttachment:GroupPolicyAttachment", "pulumi_aws.iam.GroupPolicyAttachment",
     {"policyArn": "arn:aws:iam::aws:policy/AWSIoTFullAccess", "group": "g"}),
    ("aws:iam/rolePolicyAttachmentsExclusive:RolePolicyAttachmentsExclusive", "pulumi_aws.iam.RolePolicyAttachmentsExclusive",
     {"roleName": "r", "policyArns": ["arn:aws:iam::aws:policy/AWSIoTDataAccess"]}),
    ("aws:lambda/functionUrl:FunctionUrl", "pulumi_aws.lambda_.FunctionUrl", {"authorizationType": "NONE"}),
    # other providers: the list knows nothing of them, so nothing of them passes
    ("azure-native:network:PublicIPAddress", None, {"publicIPAllocationMethod": "Static"}),
    ("gcp:compute/address:Address", None, {"addressType": "EXTERNAL"}),
    ("kubernetes:core/v1:Service", None, {"spec": {"type": "LoadBalancer"}}),
    ("cloudflare:index/tunnel:Tunnel", None, {"name": "t"}),
    ("command:local:Command", None, {"create": "aws ec2 create-internet-gateway"}),
    ("tailscale:index/tailnetKey:TailnetKey", None, {}),
]

# Public forms of the types the channel does declare: the allow-list lets the type through, the
# type's own check (itself an allow-list where the type has public forms) refuses the form.
LISTED_TYPE_PUBLIC_FORMS = [
    ("route-to-network-interface", "aws:ec2/route:Route",
     {"routeTableId": "rtb-1", "destinationCidrBlock": "0.0.0.0/0", "networkInterfaceId": "eni-1"}, "no-internet-path"),
    ("route-to-core-network", "aws:ec2/route:Route",
     {"routeTableId": "rtb-1", "destinationCidrBlock": "10.0.0.0/8",
      "coreNetworkArn": "arn:aws:networkmanager::1:core-network/core-network-1"}, "no-internet-path"),
    ("route-to-gwlb-endpoint", "aws:ec2/route:Route",
     {"routeTableId": "rtb-1", "destinationCidrBlock": "0.0.0.0/0", "vpcEndpointId": "vpce-1"}, "no-internet-path"),
    ("route-to-local-gateway", "aws:ec2/route:Route",
     {"routeTableId": "rtb-1", "destinationCidrBlock": "0.0.0.0/0", "localGatewayId": "lgw-1"}, "no-internet-path"),
    ("route-to-a-future-target", "aws:ec2/route:Route",
     {"routeTableId": "rtb-1", "destinationCidrBlock": "0.0.0.0/0", "someNewGatewayId": "x-1"}, "no-internet-path"),
    ("route-table-inline-eni", "aws:ec2/routeTable:RouteTable",
     {"vpcId": "vpc-1", "routes": [{"cidrBlock": "0.0.0.0/0", "networkInterfaceId": "eni-1"}]}, "no-internet-path"),
    ("role-attachment-iot-data-access", "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
     {"role": "r", "policyArn": "arn:aws:iam::aws:policy/AWSIoTDataAccess"}, "managed-policies-allowed"),
    ("role-attachment-customer-managed", "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
     {"role": "r", "policyArn": "arn:aws:iam::222222222222:policy/anything"}, "managed-policies-allowed"),
    ("role-managed-policy-arns", "aws:iam/role:Role",
     {"assumeRolePolicy": "{}", "managedPolicyArns": ["arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore",
                                                      "arn:aws:iam::aws:policy/AWSIoTFullAccess"]}, "managed-policies-allowed"),
    ("permission-service-without-source", "aws:lambda/permission:Permission",
     {"function": "f", "principal": "iot.amazonaws.com", "action": "lambda:InvokeFunction"}, "no-public-entry-points"),
    ("permission-service-blank-source", "aws:lambda/permission:Permission",
     {"function": "f", "principal": "s3.amazonaws.com", "sourceArn": " ", "action": "lambda:InvokeFunction"},
     "no-public-entry-points"),
    ("public-hosted-zone", "aws:route53/zone:Zone", {"name": "iot.plant.example.com"}, "no-public-entry-points"),
    ("internet-facing-nlb", "aws:lb/loadBalancer:LoadBalancer", {"loadBalancerType": "network"}, "no-public-addresses"),
    ("endpoint-gateway-load-balancer", "aws:ec2/vpcEndpoint:VpcEndpoint",
     {"serviceName": "com.amazonaws.vpce.us-west-2.vpce-svc-0123456789abcdef0", "vpcEndpointType": "GatewayLoadBalancer"},
     "endpoints-to-listed-services"),
    ("endpoint-resource", "aws:ec2/vpcEndpoint:VpcEndpoint",
     {"resourceConfigurationArn": "arn:aws:vpc-lattice:us-west-2:1:resourceconfiguration/rcfg-1",
      "vpcEndpointType": "Resource"}, "endpoints-to-listed-services"),
    ("endpoint-service-network", "aws:ec2/vpcEndpoint:VpcEndpoint",
     {"serviceNetworkArn": "arn:aws:vpc-lattice:us-west-2:1:servicenetwork/sn-1", "vpcEndpointType": "ServiceNetwork"},
     "endpoints-to-listed-services"),
    ("endpoint-to-execute-api", "aws:ec2/vpcEndpoint:VpcEndpoint",
     {"serviceName": "com.amazonaws.us-west-2.execute-api", "vpcEndpointType": "Interface"}, "endpoints-to-listed-services"),
    ("endpoint-to-a-lookalike", "aws:ec2/vpcEndpoint:VpcEndpoint",
     {"serviceName": "com.amazonaws.us-west-2.iot.data.evil", "vpcEndpointType": "Interface"}, "endpoints-to-listed-services"),
    ("role-trusting-everyone", "aws:iam/role:Role",
     {"assumeRolePolicy": json.dumps({"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "sts:AssumeRole"}]})},
     "roles-trust-services-only"),
    ("role-trusting-any-aws-principal", "aws:iam/role:Role",
     {"assumeRolePolicy": json.dumps({"Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"},
                                                     "Action": "sts:AssumeRole"}]})}, "roles-trust-services-only"),
    ("role-trusting-another-account", "aws:iam/role:Role",
     {"assumeRolePolicy": json.dumps({"Statement": [{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::999999999999:root"},
                                                     "Action": "sts:AssumeRole"}]})}, "roles-trust-services-only"),
    ("role-trusting-a-web-identity", "aws:iam/role:Role",
     {"assumeRolePolicy": json.dumps({"Statement": [{"Effect": "Allow", "Principal": {
         "Federated": "token.actions.githubusercontent.com"}, "Action": "sts:AssumeRoleWithWebIdentity"}]})},
     "roles-trust-services-only"),
    ("role-trusting-not-principal", "aws:iam/role:Role",
     {"assumeRolePolicy": json.dumps({"Statement": [{"Effect": "Allow", "NotPrincipal": {"Service": "ec2.amazonaws.com"},
                                                     "Action": "sts:AssumeRole"}]})}, "roles-trust-services-only"),
    ("topic-open-to-anyone", "aws:sns/topicPolicy:TopicPolicy",
     {"arn": "arn:aws:sns:us-west-2:2:alarms", "policy": json.dumps({"Statement": [
         {"Effect": "Allow", "Principal": "*", "Action": "sns:Subscribe", "Resource": "*"}]})},
     "resource-policies-name-principals"),
    ("topic-open-to-any-aws-principal", "aws:sns/topic:Topic",
     {"policy": json.dumps({"Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sns:Subscribe"}]})},
     "resource-policies-name-principals"),
    ("key-open-to-a-wildcard-arn", "aws:kms/key:Key",
     {"policy": json.dumps({"Statement": [{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::*:root"},
                                           "Action": "kms:Decrypt"}]})}, "resource-policies-name-principals"),
    ("tgw-auto-accepts", "aws:ec2transitgateway/transitGateway:TransitGateway",
     {"autoAcceptSharedAttachments": "enable"}, "transit-stays-private"),
    ("dx-advertises-public", "aws:directconnect/gatewayAssociation:GatewayAssociation",
     {"dxGatewayId": "dx-1", "allowedPrefixes": ["10.20.0.0/16", "0.0.0.0/1"]}, "transit-stays-private"),
    ("event-target-to-a-function", "aws:cloudwatch/eventTarget:EventTarget",
     {"rule": "r", "arn": "arn:aws:lambda:us-west-2:222222222222:function:anything"}, "events-reach-topics-only"),
    ("event-target-to-an-http-endpoint", "aws:cloudwatch/eventTarget:EventTarget",
     {"rule": "r", "arn": "arn:aws:events:us-west-2:222222222222:api-destination/out/1",
      "httpTarget": {"headerParameters": {}}, "roleArn": "arn:aws:iam::222222222222:role/x"}, "events-reach-topics-only"),
    ("event-target-with-a-role", "aws:cloudwatch/eventTarget:EventTarget",
     {"rule": "r", "arn": "arn:aws:sns:us-west-2:222222222222:alarms", "roleArn": "arn:aws:iam::222222222222:role/x"},
     "events-reach-topics-only"),
    ("event-rule-on-another-bus", "aws:cloudwatch/eventRule:EventRule",
     {"eventPattern": "{}", "eventBusName": "arn:aws:events:us-west-2:999999999999:event-bus/elsewhere"},
     "events-reach-topics-only"),
    ("event-rule-with-a-role", "aws:cloudwatch/eventRule:EventRule",
     {"eventPattern": "{}", "roleArn": "arn:aws:iam::222222222222:role/x"}, "events-reach-topics-only"),
    ("iot-policy-without-source-vpce", "aws:iot/policy:Policy",
     {"policy": json.dumps({"Statement": [{"Effect": "Allow", "Action": "iot:*", "Resource": "*"}]})},
     "iot-connect-requires-source-vpce"),
]

# The same listed types in the forms the channel uses: each passes every rule.
LISTED_TYPE_PRIVATE_FORMS = [
    ("route-via-tgw", "aws:ec2/route:Route",
     {"routeTableId": "rtb-1", "destinationCidrBlock": "192.168.0.0/16", "transitGatewayId": "tgw-1", "__defaults": []}),
    ("route-table-local-and-tgw", "aws:ec2/routeTable:RouteTable",
     {"vpcId": "vpc-1", "routes": [{"cidrBlock": "10.20.0.0/16", "gatewayId": "local"},
                                   {"cidrBlock": "192.168.0.0/16", "transitGatewayId": "tgw-1"}]}),
    *((f"attachment-{arn.rsplit('/', 1)[1]}", "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
       {"role": "r", "policyArn": arn}) for arn in ALLOWED_MANAGED_POLICIES),
    ("role-listed-managed-policy", "aws:iam/role:Role",
     {"assumeRolePolicy": "{}", "managedPolicyArns": ["arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"]}),
    ("permission-iot-with-source-arn", "aws:lambda/permission:Permission",
     {"function": "f", "principal": "iot.amazonaws.com", "sourceArn": SOURCE_ARN, "action": "lambda:InvokeFunction"}),
    ("permission-iot-with-source-account", "aws:lambda/permission:Permission",
     {"function": "f", "principal": "iot.amazonaws.com", "sourceAccount": "222222222222", "action": "lambda:InvokeFunction"}),
    ("private-hosted-zone", "aws:route53/zone:Zone", {"name": "iot.plant.example.com", "vpcs": [{"vpcId": "vpc-1"}]}),
    *((f"endpoint-{service}", "aws:ec2/vpcEndpoint:VpcEndpoint",
       {"serviceName": f"com.amazonaws.eu-central-1.{service}", "vpcEndpointType": "Interface"}) for service in ENDPOINT_SERVICES),
    ("gateway-endpoint-by-default", "aws:ec2/vpcEndpoint:VpcEndpoint", {"serviceName": "com.amazonaws.us-west-2.dynamodb"}),
    ("endpoint-to-the-gatekeeper-service", "aws:ec2/vpcEndpoint:VpcEndpoint",
     {"serviceName": "com.amazonaws.vpce.us-west-2.vpce-svc-7fe2864239131b913", "vpcEndpointType": "Interface"}),
    ("role-for-a-service", "aws:iam/role:Role",
     {"assumeRolePolicy": json.dumps({"Statement": [{"Effect": "Allow", "Principal": {"Service": ["iot.amazonaws.com"]},
                                                     "Action": "sts:AssumeRole",
                                                     "Condition": {"StringEquals": {"aws:SourceAccount": "2"}}}]})}),
    ("topic-for-its-account-and-cloudwatch", "aws:sns/topicPolicy:TopicPolicy",
     {"arn": "arn:aws:sns:us-west-2:2:alarms", "policy": json.dumps({"Statement": [
         {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::222222222222:root"}, "Action": "sns:Publish"},
         {"Effect": "Allow", "Principal": {"Service": "cloudwatch.amazonaws.com"}, "Action": "sns:Publish"}]})}),
    ("key-for-a-role-and-logs", "aws:kms/key:Key",
     {"policy": json.dumps({"Statement": [
         {"Effect": "Allow", "Principal": {"AWS": ["arn:aws:iam::222222222222:role/mqtt-channel-deployer"]}, "Action": "kms:*"},
         {"Effect": "Allow", "Principal": {"Service": "logs.us-west-2.amazonaws.com"}, "Action": "kms:Encrypt*"}]})}),
    ("tgw-accepts-one-by-one", "aws:ec2transitgateway/transitGateway:TransitGateway", {"autoAcceptSharedAttachments": "disable"}),
    ("event-rule-on-the-default-bus", "aws:cloudwatch/eventRule:EventRule",
     {"eventPattern": '{"source": ["aws.kms"]}', "description": "d", "eventBusName": "default", "forceDestroy": False,
      "__defaults": []}),
    ("event-target-to-a-topic", "aws:cloudwatch/eventTarget:EventTarget",
     {"rule": "r", "arn": "arn:aws:sns:us-west-2:222222222222:alarms", "eventBusName": "default", "targetId": "t"}),
    ("dx-advertises-private", "aws:directconnect/gatewayAssociation:GatewayAssociation",
     {"dxGatewayId": "dx-1", "allowedPrefixes": ["10.20.0.0/16", "10.10.0.0/16"]}),
]


# The providers' resource classes read from their source, not imported: importing the dozens of
# pulumi-aws and pulumi-aws-native modules named here costs about 20 s, reading them 0.3 s.
RESOURCE_CLASS = re.compile(r'@pulumi\.type_token\("([^"]+)"\)\s*\nclass (\w+)\(pulumi\.(?:CustomResource|ProviderResource)\)')


@functools.cache
def resource_classes(package: str, module: str) -> dict[str, str]:
    """Class name -> type token of the resources a provider package's module declares ("" = the top level)."""
    root = Path(importlib.util.find_spec(package).submodule_search_locations[0])
    files = sorted((root / module).glob("*.py")) if module else sorted(root.glob("*.py"))
    return {name: token for path in files for token, name in RESOURCE_CLASS.findall(path.read_text())}


def rules_refusing(resource_type: str, props: dict) -> set[str]:
    return {v.rule for v in evaluate(resource_type, props, name="crafted")}


@pytest.mark.parametrize(("resource_type", "where", "props"), PUBLIC_PATHS, ids=[p[0] for p in PUBLIC_PATHS])
def test_an_unlisted_type_fails_whatever_its_provider(resource_type, where, props):
    assert "allowed-types-only" in rules_refusing(resource_type, props)


def test_every_crafted_provider_type_is_a_real_type_of_the_installed_provider():
    checked = 0
    for resource_type, where, _ in PUBLIC_PATHS:
        if where is None:
            assert resource_type.split(":", 1)[0] not in ("aws", "aws-native", "pulumi")
            continue
        package, module, name = where.split(".")
        assert resource_classes(package, module).get(name) == resource_type, where
        checked += 1
    assert checked >= 50


@pytest.mark.parametrize(("case", "resource_type", "props", "rule"), LISTED_TYPE_PUBLIC_FORMS,
                         ids=[p[0] for p in LISTED_TYPE_PUBLIC_FORMS])
def test_a_listed_type_in_a_public_form_fails_its_own_check(case, resource_type, props, rule):
    assert resource_type in ALLOWED_TYPES
    assert rules_refusing(resource_type, props) == {rule}


@pytest.mark.parametrize(("case", "resource_type", "props"), LISTED_TYPE_PRIVATE_FORMS,
                         ids=[p[0] for p in LISTED_TYPE_PRIVATE_FORMS])
def test_a_listed_type_in_the_channel_s_form_passes(case, resource_type, props):
    assert rules_refusing(resource_type, props) == set()


def test_the_refusal_names_the_list_and_how_to_extend_it():
    (message,) = check_allowed_type("aws-native:ec2:InternetGateway", {})
    assert "provider 'aws-native'" in message and "policies/allowed_types.py" in message
    assert check_allowed_type("aws:ec2/vpc:Vpc", {}) == []


def test_every_listed_type_says_why_it_is_private():
    assert all(isinstance(reason, str) and len(reason) > 20 for reason in ALLOWED_TYPES.values())
    assert all(isinstance(reason, str) and len(reason) > 20 for reason in ALLOWED_MANAGED_POLICIES.values())
    assert all(isinstance(reason, str) and len(reason) > 20 for reason in ENDPOINT_SERVICES.values())


# --- the list is the program's: every type its source constructs, and nothing else ---------------


def program_files() -> list[Path]:
    """The program's source as a pull request holds it: the files git tracks under components/ and __main__.py
    (files not yet added are someone's work in progress, not the program)."""
    listed = subprocess.run(["git", "ls-files", "components", "__main__.py"], cwd=ROOT, capture_output=True, text=True)
    if listed.returncode != 0:  # not a git checkout (an exported copy): every file there is the program
        return sorted((ROOT / "components").rglob("*.py")) + [ROOT / "__main__.py"]
    return [ROOT / name for name in listed.stdout.split() if name.endswith(".py")]


def constructed_types() -> dict[str, set[str]]:
    """Type token -> the program's files that construct it: provider resource classes called
    (``aws.ec2.Vpc(...)``, ``aws_native.iot.ScheduledAudit(...)``, ``aws.Provider(...)``),
    ``pulumi.StackReference(...)`` and the components' own tokens (``super().__init__("channel:...", ...)``)."""
    found: dict[str, set[str]] = {}
    for path in program_files():
        tree = ast.parse(path.read_text())
        aliases = {a.asname or a.name: a.name for node in ast.walk(tree) if isinstance(node, ast.Import)
                   for a in node.names if a.name in ("pulumi", "pulumi_aws", "pulumi_aws_native")}
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            token = None
            if (isinstance(node.func, ast.Attribute) and node.func.attr == "__init__" and node.args
                    and isinstance(node.args[0], ast.Constant) and str(node.args[0].value).startswith("channel:")):
                token = node.args[0].value
            parts, func = [], node.func
            while isinstance(func, ast.Attribute):
                parts.insert(0, func.attr)
                func = func.value
            if isinstance(func, ast.Name) and aliases.get(func.id) == "pulumi" and parts == ["StackReference"]:
                token = "pulumi:pulumi:StackReference"
            elif isinstance(func, ast.Name) and aliases.get(func.id, "").startswith("pulumi_aws") and len(parts) <= 2:
                token = resource_classes(aliases[func.id], parts[0] if len(parts) == 2 else "").get(parts[-1])
            if token:
                found.setdefault(token, set()).add(path.name)
    return found


def test_the_list_holds_every_type_the_program_constructs_and_no_other():
    constructed = constructed_types()
    assert len(constructed) > 60
    unlisted = {t: sorted(files) for t, files in constructed.items() if t not in ALLOWED_TYPES}
    assert unlisted == {}, "add each to policies/allowed_types.py with why it is private"
    assert set(ALLOWED_TYPES) - set(constructed) - ENGINE_TYPES == set(), "listed but never constructed: remove"


def test_the_type_is_refused_during_a_preview_too():
    # The allow-list reads no input, so an input unknown during `pulumi preview` does not postpone it to `up`.
    from pulumi_policy.proxy import UNKNOWN_STRING_VALUE, UnknownValueError

    assert rules_refusing("aws-native:ec2:NatGateway", {"subnetId": UNKNOWN_STRING_VALUE}) == {"allowed-types-only"}
    with pytest.raises(UnknownValueError):  # a listed type's own check waits for the value
        evaluate("aws:ec2/route:Route", {"routeTableId": "rtb-1", "networkInterfaceId": UNKNOWN_STRING_VALUE})


def test_the_event_input_allow_lists_name_inputs_of_the_installed_classes():
    import inspect

    import pulumi_aws as aws

    from policies.forms import EVENT_RULE_INPUTS, EVENT_TARGET_INPUTS

    def inputs(cls) -> set[str]:
        return {re.sub(r"_([a-z])", lambda m: m.group(1).upper(), p)
                for p in list(inspect.signature(cls.__init__).parameters)[1:]}

    assert EVENT_RULE_INPUTS <= inputs(aws.cloudwatch.EventRuleArgs)
    assert EVENT_TARGET_INPUTS <= inputs(aws.cloudwatch.EventTargetArgs)
    # What the lists leave out is what sends or acts elsewhere.
    assert inputs(aws.cloudwatch.EventRuleArgs) - EVENT_RULE_INPUTS == {"roleArn", "scheduleExpression"}
    assert "roleArn" in inputs(aws.cloudwatch.EventTargetArgs) - EVENT_TARGET_INPUTS
