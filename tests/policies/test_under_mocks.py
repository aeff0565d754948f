"""The rules read resource inputs as a Pulumi program registers them (camelCase, nested)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pulumi
import pytest

from policies.rules import evaluate


@dataclass(frozen=True)
class Registered:
    type: str
    name: str
    inputs: dict[str, Any]


class RecordingMocks(pulumi.runtime.Mocks):
    def __init__(self) -> None:
        self.registered: list[Registered] = []

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        self.registered.append(Registered(args.typ, args.name, dict(args.inputs)))
        return f"{args.name}-id", dict(args.inputs)

    def call(self, args: pulumi.runtime.MockCallArgs) -> dict[str, Any]:
        return {}


@pytest.fixture
def mocks() -> Iterator[RecordingMocks]:
    recording = RecordingMocks()
    pulumi.runtime.set_mocks(recording, project="private-mqtt-channel", stack="iot", preview=False)
    yield recording
    pulumi.runtime.settings.ROOT.set(None)


def declare(*, open_egress: bool) -> None:
    import pulumi_aws as aws

    sg = aws.ec2.SecurityGroup(
        "authorizer-sg",
        vpc_id="vpc-1",
        egress=[{"protocol": "tcp", "from_port": 443, "to_port": 443,
                 "cidr_blocks": ["0.0.0.0/0"] if open_egress else ["10.20.0.0/16"]}],
    )
    aws.lambda_.Function(
        "authorizer",
        role="arn:aws:iam::222222222222:role/authorizer",
        runtime="python3.12",
        handler="handler.handle",
        code=pulumi.AssetArchive({}),
        vpc_config={"subnet_ids": ["subnet-a", "subnet-b"], "security_group_ids": [sg.id]},
    )
    aws.dynamodb.Table(
        "credentials",
        attributes=[{"name": "username", "type": "S"}],
        hash_key="username",
        billing_mode="PAY_PER_REQUEST",
        server_side_encryption={"enabled": True},
        point_in_time_recovery={"enabled": True},
    )
    aws.ec2.VpcEndpoint(
        "data-endpoint",
        vpc_id="vpc-1",
        service_name="com.amazonaws.us-west-2.iot.data",
        vpc_endpoint_type="Interface",
        private_dns_enabled=False,
        subnet_configurations=[{"subnet_id": "subnet-a", "ipv4": "10.20.0.10"}],
    )
    aws.iot.Policy(
        "thing-policy",
        policy=json.dumps({
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "iot:Connect", "Resource": "*",
                           "Condition": {"StringEquals": {"aws:SourceVpce": ["vpce-0a1b2c3d"]}}}],
        }),
    )
    aws.ec2.VpcEndpointService(
        "endpoint-service",
        acceptance_required=True,
        allowed_principals=["arn:aws:iam::333333333333:root"],
        network_load_balancer_arns=["arn:aws:elasticloadbalancing:us-west-2:222222222222:loadbalancer/net/x/1"],
    )
    aws.lb.LoadBalancer("nlb", load_balancer_type="network", internal=True, subnets=["subnet-a"])


def run(mocks: RecordingMocks, *, open_egress: bool) -> list:
    @pulumi.runtime.test
    def program() -> None:
        declare(open_egress=open_egress)

    program()
    assert len(mocks.registered) == 7
    return [v for r in mocks.registered for v in evaluate(r.type, r.inputs, name=r.name)]


def test_a_compliant_program_has_no_violations(mocks: RecordingMocks) -> None:
    assert run(mocks, open_egress=False) == []


def test_an_open_egress_rule_in_a_program_is_found(mocks: RecordingMocks) -> None:
    found = run(mocks, open_egress=True)

    assert [(v.rule, v.name) for v in found] == [("no-any-address-security-group-rules", "authorizer-sg")]
    assert found[0].message.startswith("egress[0].cidrBlocks has '0.0.0.0/0': egress to any address")
