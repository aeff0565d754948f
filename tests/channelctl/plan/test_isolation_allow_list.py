"""``isolation`` and the policy pack share the allow-list: a type the channel does not declare, from any
provider, and the public forms of the types it does declare fail the plan as they fail the pack."""

from __future__ import annotations

import pytest

from channelctl.plan.checks import Channel
from channelctl.plan.checks.isolation import check_isolation
from tests.channelctl.plan.test_plan_support import add, example_plan, resource, stacks_of


@pytest.fixture(scope="module")
def plan():
    return example_plan()


@pytest.fixture()
def stacks(plan):
    return stacks_of(plan)


def isolation(stacks):
    return check_isolation(Channel(stacks))


def native_internet_gateway(s):
    add(s, "consumer", "aws-native:ec2:InternetGateway", "consumer-igw", "igw-0123", {})


def instance_connect_endpoint(s):
    add(s, "iot", "aws:ec2transitgateway/instanceConnectEndpoint:InstanceConnectEndpoint", "gatekeeper-eice", "eice-0123",
        {"subnetId": resource(s, "iot", "gatekeeper-rt").inputs["vpcId"]})


def other_provider(s):
    add(s, "network", "azure-native:network:PublicIPAddress", "channel-pip", "pip-0123", {})


def route_to_network_interface(s):
    add(s, "network", "aws:ec2/route:Route", "channel-route-appliance", "r-0123",
        {"routeTableId": resource(s, "network", "channel-rt").id, "destinationCidrBlock": "10.77.0.0/16",
         "networkInterfaceId": "eni-0123456789abcdef0"})


def data_access_managed_policy(s):
    add(s, "iot", "aws:iam/rolePolicyAttachment:RolePolicyAttachment", "gatekeeper-authorizer-data", "att-0123",
        {"role": "gatekeeper-authorizer-role", "policyArn": "arn:aws:iam::aws:policy/AWSIoTDataAccess"})


def authorizer_permission_without_source(s):
    permission = resource(s, "iot", "gatekeeper-authorizer-invoke")
    del permission.inputs["sourceArn"]
    del permission.inputs["sourceAccount"]


@pytest.mark.parametrize(
    "mutate, rule",
    [
        (native_internet_gateway, "allowed-types-only"),
        (instance_connect_endpoint, "allowed-types-only"),
        (other_provider, "allowed-types-only"),
        (route_to_network_interface, "no-internet-path"),
        (data_access_managed_policy, "managed-policies-allowed"),
        (authorizer_permission_without_source, "no-public-entry-points"),
    ],
    ids=lambda v: getattr(v, "__name__", v),
)
def test_isolation_refuses_what_the_allow_list_refuses(stacks, mutate, rule):
    assert isolation(stacks).passed
    mutate(stacks)
    result = isolation(stacks)
    assert not result.passed
    assert any(f"breaks the policy pack's {rule}: " in p for p in result.problems), result.problems
