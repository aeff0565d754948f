"""The AWS rules shared by the program and the plan's deployable check, on their edges."""

from __future__ import annotations

import pytest

from components import aws_limits as limits


@pytest.mark.parametrize(
    "text, refused",
    [
        ("Gatekeeper NLB: MQTT ports in from the channel ranges (8883, 443) & more: a-z_[x]{y}!$*=+;@#/", None),
        ("x" * 255, None),
        ("x" * 256, "256 characters"),
        ("the channel's ranges", "\"'\""),
        ("plant 1 – devices", "'–'"),
        ('say "hi"', "'\"'"),
        ("tab\there", "'\\t'"),
    ],
)
def test_security_group_descriptions(text, refused):
    problem = limits.sg_description_problem(text)
    if refused is None:
        assert problem is None
        assert limits.sg_description(text) == text
    else:
        assert problem is not None and refused in problem, problem
        with pytest.raises(ValueError):
            limits.sg_description(text)


@pytest.mark.parametrize(
    "rule, name, generated, ok",
    [
        (limits.TARGET_GROUP_NAME, "a" * 32, 0, True),
        (limits.TARGET_GROUP_NAME, "a" * 33, 0, False),
        (limits.TARGET_GROUP_NAME, "a" * 24, limits.AUTONAME_SUFFIX, True),
        (limits.TARGET_GROUP_NAME, "a" * 25, limits.AUTONAME_SUFFIX, False),
        (limits.TARGET_GROUP_NAME, "-abc", 0, False),
        (limits.TARGET_GROUP_NAME, "abc-", 0, False),
        # auto-naming appends "-" and random characters: a trailing hyphen is not the name's end then
        (limits.TARGET_GROUP_NAME, "abc-", limits.AUTONAME_SUFFIX, True),
        (limits.TARGET_GROUP_NAME, "abc_def", 0, False),
        (limits.NLB_NAME, "internal-mqtt", 0, False),
        (limits.TARGET_GROUP_NAME, "internal-mqtt", 0, True),
        (limits.NLB_NAME, "mqtt-gk", limits.NAME_PREFIX_SUFFIX, False),
        (limits.NLB_NAME, "mqtt-g", limits.NAME_PREFIX_SUFFIX, True),
        (limits.LAMBDA_NAME, "mqtt_authorizer-iot", 0, True),
        (limits.LAMBDA_NAME, "mqtt-authorizer.iot", 0, False),
        (limits.LAMBDA_NAME, "a" * 65, 0, False),
        (limits.IAM_ROLE_NAME, "role+=,.@-_1", 0, True),
        (limits.IAM_ROLE_NAME, "a" * 57, limits.AUTONAME_SUFFIX, False),
        (limits.LOG_GROUP_NAME, "/aws/lambda/mqtt-authorizer#1", 0, True),
        (limits.LOG_GROUP_NAME, "/aws/lambda/a:b", 0, False),
        (limits.IOT_DOMAIN_CONFIGURATION_NAME, "mqtt-iot.plant_1", 0, True),
        (limits.IOT_DOMAIN_CONFIGURATION_NAME, "a" * 129, 0, False),
        (limits.IOT_AUTHORIZER_NAME, "mqtt-password=,@_1", 0, True),
        (limits.IOT_AUTHORIZER_NAME, "mqtt.password", 0, False),
    ],
)
def test_names(rule, name, generated, ok):
    assert (limits.name_problem(rule, name, generated=generated) is None) is ok


@pytest.mark.parametrize("path, ok", [(None, True), ("/", True), ("/mqtt/channel/", True), ("/mqtt", False),
                                      ("mqtt/", False), ("/a b/", False), ("/" + "a" * 511 + "/", False)])
def test_iam_paths(path, ok):
    assert (limits.iam_path_problem(path) is None) is ok


def test_reserved_concurrency_leaves_100():
    assert limits.max_reserved_concurrency(1_000) == 900
    assert limits.max_reserved_concurrency(10) < 1
