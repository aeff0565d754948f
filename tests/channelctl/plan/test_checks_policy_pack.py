"""The plan's isolation check refuses what the policy pack refuses (the two share the check
functions), and more where the plan knows more than the pack: each break is a deep copy of the
rendered example plan with one thing changed."""

from __future__ import annotations

import json

import pytest

from channelctl.plan.checks import ISOLATION, run_checks
from tests.channelctl.plan.checks_support import plan, stacks  # noqa: F401 (fixtures)
from tests.channelctl.plan.test_plan_support import add, resource


# --------------------------------------------------------------------------- #
# The plan and the policy pack agree: what the pack refuses, isolation refuses
# --------------------------------------------------------------------------- #


def gatekeeper_inline_route_to_nat(s):
    resource(s, "iot", "gatekeeper-rt").inputs["routes"] = [{"cidrBlock": "10.99.0.0/16", "natGatewayId": "nat-0123"}]


def consumer_peered(s):
    add(s, "consumer", "aws:ec2/vpcPeeringConnection:VpcPeeringConnection", "consumer-peer", "pcx-0123",
        {"vpcId": resource(s, "consumer", "consumer-vpc").id, "peerVpcId": "vpc-0123456789abcdef0"})


def proxy_template_public_ip_capitalised(s):
    template = resource(s, "iot", "gatekeeper-access-proxy", "aws:ec2/launchTemplate:LaunchTemplate")
    template.inputs["networkInterfaces"][0]["associatePublicIpAddress"] = "True"


def authorizer_invocable_by_anyone(s):
    add(s, "iot", "aws:lambda/permission:Permission", "gatekeeper-authorizer-open", "perm-open",
        {"function": "mqtt-authorizer-iot", "principal": "*", "action": "lambda:InvokeFunction"})


def edge_rest_api(s):
    add(s, "iot", "aws:apigateway/restApi:RestApi", "gatekeeper-api", "api-0123", {"name": "gatekeeper-api"})


# The pack allows, it does not forbid (policies/allowed_types.py): types the channel does not declare,
# from any provider, and public forms of the types it does declare.


def native_internet_gateway(s):
    add(s, "consumer", "aws-native:ec2:InternetGateway", "consumer-igw", "igw-0123", {})


def instance_connect_endpoint(s):
    add(s, "iot", "aws:ec2transitgateway/instanceConnectEndpoint:InstanceConnectEndpoint", "gatekeeper-eice", "eice-0123",
        {"subnetId": "subnet-0123456789abcdef0"})


def other_provider(s):
    add(s, "network", "azure-native:network:PublicIPAddress", "channel-pip", "pip-0123", {})


def route_to_network_interface(s):
    add(s, "network", "aws:ec2/route:Route", "channel-route-appliance", "r-0123",
        {"routeTableId": resource(s, "network", "channel-rt").id, "destinationCidrBlock": "10.77.0.0/16",
         "networkInterfaceId": "eni-0123456789abcdef0"})


def data_access_managed_policy(s):
    resource(s, "iot", "gatekeeper-access-proxy-ssm").inputs["policyArn"] = "arn:aws:iam::aws:policy/AWSIoTDataAccess"


def authorizer_permission_without_source(s):
    permission = resource(s, "iot", "gatekeeper-authorizer-invoke")
    del permission.inputs["sourceArn"]
    del permission.inputs["sourceAccount"]


def endpoint_to_execute_api(s):
    add(s, "consumer", "aws:ec2/vpcEndpoint:VpcEndpoint", "consumer-api", "vpce-0123456789abcdef0",
        {"vpcId": resource(s, "consumer", "consumer-rt").inputs["vpcId"], "vpcEndpointType": "Interface",
         "serviceName": "com.amazonaws.us-west-2.execute-api"})


def alarm_topic_open_to_anyone(s):
    policy = resource(s, "iot", "monitoring-alarms-policy")
    document = json.loads(policy.inputs["policy"])
    document["Statement"].append({"Effect": "Allow", "Principal": "*", "Action": "sns:Subscribe", "Resource": "*"})
    policy.inputs["policy"] = json.dumps(document)


def key_change_target_with_a_role(s):
    # Still the alarm topic (observability holds), but EventBridge would act as a role.
    target = resource(s, "iot", "monitoring-credentials-key-changes", "aws:cloudwatch/eventTarget:EventTarget")
    target.inputs["roleArn"] = "arn:aws:iam::222222222222:role/anything"


def consumer_endpoint_to_a_foreign_service(s):
    add(s, "consumer", "aws:ec2/vpcEndpoint:VpcEndpoint", "consumer-foreign", "vpce-0fedcba9876543210",
        {"vpcId": resource(s, "consumer", "consumer-rt").inputs["vpcId"], "vpcEndpointType": "Interface",
         "serviceName": "com.amazonaws.vpce.us-west-2.vpce-svc-0123456789abcdef0"})


def app_role_trusts_another_account(s):
    resource(s, "consumer", "consumer-app-role").inputs["assumeRolePolicy"] = json.dumps({"Statement": [
        {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::999999999999:root"}, "Action": "sts:AssumeRole"}]})


@pytest.mark.parametrize(
    "mutate, rule",
    [
        (gatekeeper_inline_route_to_nat, "no-internet-path"),
        (native_internet_gateway, "allowed-types-only"),
        (instance_connect_endpoint, "allowed-types-only"),
        (other_provider, "allowed-types-only"),
        (route_to_network_interface, "no-internet-path"),
        (data_access_managed_policy, "managed-policies-allowed"),
        (authorizer_permission_without_source, "no-public-entry-points"),
        (endpoint_to_execute_api, "endpoints-to-listed-services"),
        (app_role_trusts_another_account, "roles-trust-services-only"),
        (alarm_topic_open_to_anyone, "resource-policies-name-principals"),
        (key_change_target_with_a_role, "events-reach-topics-only"),
        (consumer_peered, "no-internet-path"),
        (proxy_template_public_ip_capitalised, "no-public-addresses"),
        (authorizer_invocable_by_anyone, "no-public-entry-points"),
        (edge_rest_api, "no-public-entry-points"),
    ],
    ids=lambda v: getattr(v, "__name__", v),
)
def test_isolation_refuses_what_the_policy_pack_refuses(stacks, mutate, rule):
    mutate(stacks)
    results = {r.name: r for r in run_checks(stacks)}
    assert {name for name, r in results.items() if not r.passed} == {ISOLATION}
    assert any(f"breaks the policy pack's {rule}: " in p for p in results[ISOLATION].problems), results[ISOLATION].problems


def test_isolation_refuses_an_endpoint_to_an_endpoint_service_the_plan_does_not_build(stacks):
    # The pack lets any vpce-svc name through (it cannot know whose service it is); the plan knows.
    assert isolation_passes(stacks)
    consumer_endpoint_to_a_foreign_service(stacks)
    results = {r.name: r for r in run_checks(stacks)}
    assert {name for name, r in results.items() if not r.passed} == {ISOLATION}
    assert [p for p in results[ISOLATION].problems if "breaks the policy pack" in p] == []
    assert any("vpce-svc-0123456789abcdef0, which no stack of the plan builds" in p for p in results[ISOLATION].problems)


def isolation_passes(stacks):
    return next(r for r in run_checks(stacks) if r.name == ISOLATION).passed
