"""The parts every Lambda function and service role is built from."""

import json
import re

import pytest

from components.lambda_parts import FUNCTION_NAME_MAX, function_name, service_trust_policy

# Lambda API reference, CreateFunction, FunctionName.
LAMBDA_NAME = re.compile(r"[a-zA-Z0-9-_]{1,64}\Z")


@pytest.mark.parametrize("stack", ["iot", "iot.prod", "plant_7-iot", "x" * 80])
def test_function_names_are_names_lambda_accepts(stack):
    name = function_name("mqtt-provisioning-hook", stack)
    assert LAMBDA_NAME.match(name), name
    assert len(name) <= FUNCTION_NAME_MAX


def test_a_period_in_the_stack_name_is_not_kept():
    assert function_name("mqtt-authorizer", "iot.prod") == "mqtt-authorizer-iot-prod"
    assert not LAMBDA_NAME.match("mqtt-authorizer-iot.prod")


def test_the_trust_policy_names_only_the_service():
    policy = json.loads(service_trust_policy("lambda.amazonaws.com"))
    (statement,) = policy["Statement"]
    assert statement == {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
