"""fleetProvisioning.migratingFamilies: validated before any resource, and handed to the authorizer as
the settings it reads (one render of the iot stack with a migrating family)."""

from __future__ import annotations

import pytest

from authorizer.settings import load_settings
from channelctl.plan.render import render_stack
from components.config import load_config
from components.config.provisioning import load_fleet_provisioning
from components.config.shared import ConfigError
from tests.channelctl.plan.test_plan_support import example_plan
from tests.support import FQ, PROJECT_DIR, example_config


def test_migrating_families_are_read_sorted_and_unique():
    cfg = load_fleet_provisioning({"enabled": True, "migratingFamilies": ["family2", "family1", "family2"]}, stack="iot")
    assert cfg.migrating_families == ("family1", "family2")
    assert load_fleet_provisioning({"enabled": True}, stack="iot").migrating_families == ()


@pytest.mark.parametrize(
    ("value", "match"),
    [
        ({"enabled": True, "migratingFamilies": "family1"}, r"fleetProvisioning.migratingFamilies 'family1' is not a list"),
        ({"enabled": True, "migratingFamilies": ["fam ily"]}, r"migratingFamilies\[0\] 'fam ily' is not a family name"),
        ({"migratingFamilies": ["family1"]}, r"needs fleetProvisioning.enabled: true"),
    ],
)
def test_bad_migrating_families_name_the_key_and_the_fix(value, match):
    with pytest.raises(ConfigError, match=match):
        load_fleet_provisioning(value, stack="iot")


def test_the_authorizer_reads_the_migrating_families_and_the_claim_template():
    plan = example_plan()
    config = example_config("iot") | {"fleetProvisioning": {"enabled": True, "migratingFamilies": ["family1"]}}
    peers = {FQ(name): plan.stacks[name].rendered.exports for name in ("network", "consumer")}
    rendered = render_stack(PROJECT_DIR, "iot", config, peers=peers, facts=plan.facts.get("iot"))
    (function,) = [r for r in rendered.of_type("aws:lambda/function:Function") if "authorizer" in r.name]
    env = function.inputs["environment"]["variables"]
    template = rendered.named("provisioning-template").inputs["name"]
    assert env["MIGRATING_FAMILIES"] == "family1" and env["PROVISIONING_TEMPLATE"] == template
    settings = load_settings({**env, "DATA_ENDPOINT_IDS": "vpce-0123456789abcdef0"})
    assert settings.migrating_families == {"family1"} and settings.provisioning_template == template
    # The example stack itself migrates nothing: no provisioning topics for anyone.
    (example,) = [r for r in plan.stacks["iot"].rendered.of_type("aws:lambda/function:Function") if "authorizer" in r.name]
    assert "MIGRATING_FAMILIES" not in example.inputs["environment"]["variables"]


def test_migrating_families_need_the_authorizer():
    config = example_config("iot") | {"fleetProvisioning": {"enabled": True, "migratingFamilies": ["family1"]}}
    assert load_config(config, stack="iot").fleet_provisioning.migrating_families == ("family1",)
    config["authorizer"] = {**config["authorizer"], "enabled": False}
    with pytest.raises(ConfigError, match=r"migratingFamilies \['family1'\] needs authorizer.enabled true"):
        load_config(config, stack="iot")
