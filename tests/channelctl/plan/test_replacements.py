"""The replace-on-change table against the installed pulumi-aws and the types the program renders."""

from __future__ import annotations

import importlib
import inspect
import re

import pytest

from channelctl.plan import compare as cmp
from channelctl.plan.replacements import REPLACE_ON_CHANGE, UnknownType, is_logical, replace_properties
from tests.channelctl.plan.test_plan_support import example_plan


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def _input_properties(type_: str) -> set[str]:
    """The input properties of the installed pulumi_aws resource class for a type token."""
    native = re.match(r"^aws-native:(\w+):(\w+)$", type_)
    if native:
        module_path, cls = native.groups()
        module = importlib.import_module(f"pulumi_aws_native.{module_path}")
    else:
        module_path, _, cls = re.match(r"^aws:([\w]+)/(\w+):(\w+)$", type_).groups()
        package = module_path if module_path != "lambda" else "lambda_"
        module = importlib.import_module(f"pulumi_aws.{package}")
    args = getattr(module, f"{cls}Args")
    return {_camel(p) for p in inspect.signature(args.__init__).parameters if p not in ("self", "__self__")}


@pytest.mark.parametrize("type_", sorted(t for t in REPLACE_ON_CHANGE if t.startswith(("aws:", "aws-native:"))))
def test_every_replace_property_is_an_input_of_the_installed_resource(type_):
    properties, source = REPLACE_ON_CHANGE[type_]
    inputs = _input_properties(type_)
    assert properties <= inputs, f"{type_} ({source}): not inputs of the installed class: {sorted(properties - inputs)}"


def test_every_type_the_examples_render_is_in_the_table():
    plan = example_plan()
    rendered = {r.type for s in plan.stacks.values() for r in s.rendered.resources if not is_logical(r.type)}
    assert rendered - set(REPLACE_ON_CHANGE) == set()


def test_an_unknown_type_is_refused():
    with pytest.raises(UnknownType):
        replace_properties("aws:sqs/queue:Queue", {}, {"name": "q"}, ["name"])


def test_network_load_balancer_subnet_mappings_can_only_be_added():
    lb = "aws:lb/loadBalancer:LoadBalancer"
    a, b = {"subnetId": "subnet-a", "privateIpv4Address": "10.0.0.5"}, {"subnetId": "subnet-b",
                                                                       "privateIpv4Address": "10.0.32.5"}
    old = {"loadBalancerType": "network", "subnetMappings": [a]}
    assert replace_properties(lb, old, {**old, "subnetMappings": [a, b]}, ["subnetMappings"]) == []
    assert replace_properties(lb, old, {**old, "subnetMappings": [b]}, ["subnetMappings"]) == ["subnetMappings"]


def test_docstrings_that_say_replace_are_in_the_table():
    """Where the installed package documents a replacement for an input we set, the table has it."""
    from pulumi_aws.ec2 import instance

    text = inspect.getsource(instance)
    assert re.search(r"user_data_replace_on_change", text)
    # user_data replaces only with userDataReplaceOnChange: the special rule says so.
    it = "aws:ec2/instance:Instance"
    assert replace_properties(it, {}, {"userData": "b"}, ["userData"]) == []
    assert replace_properties(it, {}, {"userData": "b", "userDataReplaceOnChange": True}, ["userData"]) == ["userData"]


def test_compare_uses_the_table_for_logical_types_only_by_skipping_them():
    component = cmp.Resource(stack="s", type="channel:iot:GatekeeperVpc", name="g", urn="urn:g", id="", inputs={},
                             options={})
    assert cmp.compare({"s": []}, {"s": [component]}).changes == []
