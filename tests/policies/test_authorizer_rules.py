"""The pack's stack rule for IoT authorizers, called as the engine calls it, over the example iot
stack as rendered (compliant) and over copies whose authorizer runs another function (violating)."""

from __future__ import annotations

import copy

from pulumi_policy import PolicyResource, StackValidationArgs

from policies.authorizers import IOT_AUTHORIZER, LAMBDA_FUNCTION, iot_authorizer_function_in_stack
from policies.rules import _no_options as _options
from tests.policies.test_observability_rules import policy_resources

FOREIGN_ARN = "arn:aws:lambda:us-west-2:999999999999:function:someone-elses-authorizer"


def violations(resources: list[PolicyResource]) -> list[str]:
    found: list[str] = []
    iot_authorizer_function_in_stack.validate(
        StackValidationArgs(resources, {}, {}), lambda message, _urn=None: found.append(message)
    )
    return found


def resource(type_: str, name: str, props: dict, dependencies=(), property_dependencies=None) -> PolicyResource:
    return PolicyResource(
        type_, props, f"urn:pulumi:iot::p::{type_}::{name}", name, _options(), None, None,
        list(dependencies), property_dependencies or {},
    )


def test_the_example_authorizer_runs_its_stacks_function(chain):
    resources = policy_resources(chain["iot-2"])
    assert [r.name for r in resources if r.resource_type == IOT_AUTHORIZER]  # the rule has something to judge
    assert violations(resources) == []


def test_an_authorizer_without_a_function_of_its_stack_is_a_violation(chain):
    rendered = copy.deepcopy(chain["iot-2"])
    (authorizer,) = rendered.of_type(IOT_AUTHORIZER)
    authorizer.inputs["authorizerFunctionArn"] = FOREIGN_ARN
    authorizer.dependencies = [d for d in authorizer.dependencies if LAMBDA_FUNCTION not in d]
    (message,) = violations(policy_resources(rendered))
    assert message.startswith(f"IoT authorizer '{authorizer.name}' runs '{FOREIGN_ARN}', which is not a Lambda function")


def test_a_dependency_on_a_function_with_another_name_is_a_violation(chain):
    # depends_on a stack function while the ARN names another one: the ARN decides.
    rendered = copy.deepcopy(chain["iot-2"])
    (authorizer,) = rendered.of_type(IOT_AUTHORIZER)
    authorizer.inputs["authorizerFunctionArn"] = FOREIGN_ARN
    assert len(violations(policy_resources(rendered))) == 1


def test_an_input_dependency_on_the_function_or_its_arn_is_compliant():
    arn = "arn:aws:lambda:us-west-2:222222222222:function:auth"
    function = resource(LAMBDA_FUNCTION, "fn", {"name": "auth", "arn": arn})
    by_input = resource(IOT_AUTHORIZER, "a", {"authorizerFunctionArn": arn}, property_dependencies={"authorizerFunctionArn": [function]})
    by_arn = resource(IOT_AUTHORIZER, "b", {"authorizerFunctionArn": arn + ":live"})
    assert violations([function, by_input, by_arn]) == []


def test_an_input_dependency_on_another_resource_is_a_violation():
    function = resource(LAMBDA_FUNCTION, "fn", {"name": "auth"})
    other = resource("aws:ssm/parameter:Parameter", "p", {"value": FOREIGN_ARN})
    authorizer = resource(
        IOT_AUTHORIZER, "a", {"authorizerFunctionArn": FOREIGN_ARN}, dependencies=[function],
        property_dependencies={"authorizerFunctionArn": [other]},
    )
    assert violations([function, other, authorizer]) == [
        f"IoT authorizer 'a' runs '{FOREIGN_ARN}', which is not a Lambda function of this stack (functions declared: "
        f"'fn') — set authorizer_function_arn to the arn of the stack's authorizer function"
    ]
