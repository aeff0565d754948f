"""The pack's stack rules for flow logs and IoT logging, called as the engine calls them, over
the example stacks as rendered (compliant) and over copies with one thing taken away (violating)."""

from __future__ import annotations

import copy

import pytest
from pulumi_policy import PolicyResource, StackValidationArgs

from policies.observability import STACK_RULES, iot_logging_on, vpc_flow_logs
from policies.rules import _no_options as _options


def policy_resources(rendered) -> list[PolicyResource]:
    """The stack's resources as a stack rule sees them, dependencies resolved to resources."""
    by_urn: dict[str, PolicyResource] = {}
    for r in rendered.resources:
        by_urn[r.urn] = PolicyResource(r.type, dict(r.inputs), r.urn, r.name, _options(), None, None, [], {})
    for r in rendered.resources:
        by_urn[r.urn].dependencies = [by_urn[d] for d in r.dependencies if d in by_urn]
    return list(by_urn.values())


def violations(rule, rendered) -> list[str]:
    found: list[str] = []
    rule.validate(StackValidationArgs(policy_resources(rendered), {}, {}), lambda message, _urn=None: found.append(message))
    return found


@pytest.mark.parametrize("step", ["network-2", "iot-2", "consumer"])
def test_example_stacks_pass_every_stack_rule(chain, step):
    for rule in STACK_RULES:
        assert violations(rule, chain[step]) == [], rule.name


def without(rendered, type_):
    copy_ = copy.deepcopy(rendered)
    copy_.resources = [r for r in copy_.resources if r.type != type_]
    return copy_


def test_a_vpc_without_its_flow_log_is_a_violation(chain):
    assert violations(vpc_flow_logs, without(chain["consumer"], "aws:ec2/flowLog:FlowLog")) == [
        "VPC 'consumer-vpc' has no flow log of all traffic (aws.ec2.FlowLog, traffic_type ALL)"]


def test_a_flow_log_of_rejected_traffic_only_is_a_violation(chain):
    rendered = copy.deepcopy(chain["network-2"])
    for r in rendered.of_type("aws:ec2/flowLog:FlowLog"):
        r.inputs["trafficType"] = "REJECT"
    assert violations(vpc_flow_logs, rendered) == [
        "VPC 'channel-vpc' has no flow log of all traffic (aws.ec2.FlowLog, traffic_type ALL)"]


def test_an_iot_stack_without_logging_options_is_a_violation(chain):
    assert violations(iot_logging_on, without(chain["iot-2"], "aws:iot/loggingOptions:LoggingOptions")) == [
        "the stack builds AWS IoT Core resources but no aws.iot.LoggingOptions: IoT Core logs nothing"]


def test_disabled_iot_logging_is_a_violation(chain):
    rendered = copy.deepcopy(chain["iot-2"])
    (options,) = rendered.of_type("aws:iot/loggingOptions:LoggingOptions")
    options.inputs["defaultLogLevel"] = "DISABLED"
    assert len(violations(iot_logging_on, rendered)) == 1


def test_stacks_without_iot_resources_need_no_iot_logging(chain):
    assert violations(iot_logging_on, chain["network-2"]) == []
