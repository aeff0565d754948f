"""CrossGuard stack rule: every IoT Core custom authorizer runs a Lambda function of its own stack.

The authorizer decides who may connect, so an ``authorizerFunctionArn`` naming a function the
stack does not build (another account's, a hand-made one, a typo of an old one) hands the
channel's front door to code nobody reviewed here. The pack cannot know the function's ARN
statically, so the rule relates the two the way ``policies/observability.py`` relates a flow log
to its VPC: by the input's dependency on a declared ``aws.lambda_.Function`` (known during
``pulumi preview``), or by the ARN once the function exists.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pulumi_policy import EnforcementLevel, PolicyResource, StackValidationArgs, StackValidationPolicy

IOT_AUTHORIZER = "aws:iot/authorizer:Authorizer"
LAMBDA_FUNCTION = "aws:lambda/function:Function"


def _get(res: PolicyResource, key: str) -> Any:
    try:
        return res.props.get(key) if hasattr(res.props, "get") else res.props[key]
    except (KeyError, TypeError):
        return None


def _function_name(arn: Any) -> str | None:
    """The function name of a Lambda function ARN (``arn:<partition>:lambda:<region>:<account>:function:<name>[:<qualifier>]``)."""
    if not isinstance(arn, str):
        return None
    parts = arn.split(":")
    if len(parts) in (7, 8) and parts[0] == "arn" and parts[2] == "lambda" and parts[5] == "function":
        return parts[6]
    return None


def _same_function(arn: Any, function: PolicyResource) -> bool:
    """The ARN is the function's (a version or alias of it counts), as far as the function's outputs are known."""
    function_arn = _get(function, "arn")
    if isinstance(function_arn, str) and function_arn and isinstance(arn, str):
        return arn == function_arn or arn.startswith(function_arn + ":")
    name = _get(function, "name")
    if isinstance(name, str) and name and isinstance(arn, str):
        return _function_name(arn) == name
    return True  # both still unknown (preview): the dependency is all there is


def check_authorizer_functions(resources: Sequence[PolicyResource]) -> list[str]:
    """One message per IoT authorizer whose function is not a Lambda function of the same stack."""
    functions = [r for r in resources if r.resource_type == LAMBDA_FUNCTION]
    messages = []
    for authorizer in (r for r in resources if r.resource_type == IOT_AUTHORIZER):
        arn = _get(authorizer, "authorizerFunctionArn")
        # The engine resolves each input's dependencies; without them (older engines) the
        # resource's dependencies stand in, which also include depends_on.
        property_deps = (authorizer.property_dependencies or {}).get("authorizerFunctionArn")
        deps = property_deps if property_deps else (authorizer.dependencies or [])
        by_dependency = [d for d in deps if d.resource_type == LAMBDA_FUNCTION]
        if by_dependency:
            if any(_same_function(arn, f) for f in by_dependency):
                continue
        elif any(isinstance(_get(f, "arn"), str) and _get(f, "arn") and _same_function(arn, f) for f in functions):
            continue
        declared = ", ".join(repr(f.name) for f in functions) or "none"
        messages.append(
            f"IoT authorizer '{authorizer.name}' runs {arn!r}, which is not a Lambda function of this stack "
            f"(functions declared: {declared}) — set authorizer_function_arn to the arn of the stack's "
            f"authorizer function"
        )
    return messages


def _validate(args: StackValidationArgs, report_violation) -> None:
    for message in check_authorizer_functions(args.resources):
        report_violation(message, None)


iot_authorizer_function_in_stack = StackValidationPolicy(
    name="iot-authorizer-function-in-stack",
    description="Every IoT Core custom authorizer's authorizerFunctionArn is a Lambda function declared in the same "
    "stack (by its dependency on the function, or by the function's ARN).",
    validate=_validate,
    enforcement_level=EnforcementLevel.MANDATORY,
)

AUTHORIZER_RULES: tuple[StackValidationPolicy, ...] = (iot_authorizer_function_in_stack,)
