"""One explicit provider per stack; no resource on a default provider."""

import json

import pytest

from components.config import load_config
from components.providers import default_tags
from tests.support import broken, example_config, on_wrong_provider

STEPS = ["network-1", "iot-1", "network-2", "consumer", "iot-2"]


@pytest.mark.parametrize("step", STEPS)
def test_every_aws_resource_uses_the_stack_provider(chain, step):
    rendered = chain[step]
    assert [r for r in rendered.resources if r.type.startswith("aws:")]
    assert on_wrong_provider(rendered) == []


def test_a_resource_on_the_default_provider_is_caught(chain):
    rendered = chain["iot-1"]
    bad = broken(rendered, "gatekeeper-vpc")
    next(r for r in bad.resources if r.name == "gatekeeper-vpc").provider = ""
    assert on_wrong_provider(bad) == ["gatekeeper-vpc"]


@pytest.mark.parametrize("step,account", [("network-1", "111111111111"), ("iot-1", "222222222222"), ("consumer", "333333333333")])
def test_provider_pins_the_account_and_assumes_the_configured_role(chain, step, account):
    (provider,) = chain[step].of_type("pulumi:providers:aws")
    # Provider inputs reach the engine JSON-encoded.
    assert json.loads(provider.inputs["allowedAccountIds"]) == [account]
    (assume,) = json.loads(provider.inputs["assumeRoles"])
    assert assume["roleArn"] == f"arn:aws:iam::{account}:role/mqtt-channel-deployer"
    assert provider.inputs["region"] == "us-west-2"


def test_default_tags_carry_project_stack_role_and_user_tags(chain):
    (provider,) = chain["network-1"].of_type("pulumi:providers:aws")
    tags = json.loads(provider.inputs["defaultTags"])["tags"]
    assert tags == {
        "project": "private-mqtt-channel",
        "stack": "network",
        "role": "network",
        "owner": "iot-platform",
        "cost-center": "plant-ops",
    }


def test_user_tags_cannot_override_the_projects_own():
    cfg = load_config(example_config("network") | {"tags": {"project": "other", "team": "x"}}, stack="network")
    tags = default_tags(cfg.common)
    assert tags["project"] == "private-mqtt-channel" and tags["team"] == "x"


def test_no_assume_role_when_not_configured():
    from tests.support import render
    cfg = example_config("network")
    del cfg["assumeRoleArn"]
    (provider,) = render("network", cfg).of_type("pulumi:providers:aws")
    assert not provider.inputs.get("assumeRoles")
