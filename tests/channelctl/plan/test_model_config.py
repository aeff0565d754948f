"""The checks read each stack's config from the model, parsed once when the plan is built.

`pulumi config set KEY '<json>'` (without `--path`) stores a structured value as a JSON string; the
program decodes it (components.config.parse_raw). The plan decodes it once, into
``PlannedStack.config``, so no check meets a string where the program sees a map or a list.
"""

from __future__ import annotations

import dataclasses
import json

import pytest
import yaml

from channelctl.plan.build import build_plan
from channelctl.plan.describe import device_access
from tests.channelctl.plan.test_plan_support import copy_project

PREFIX = "private-mqtt-channel:"


@pytest.fixture(scope="module")
def json_encoded_plan(tmp_path_factory):
    """The example project with the iot stack's consumers and deviceAccess stored as JSON strings."""
    project = copy_project(tmp_path_factory.mktemp("json-config"))
    path = project / "Pulumi.iot.yaml"
    data = yaml.safe_load(path.read_text())
    for key in ("consumers", "deviceAccess"):
        data["config"][PREFIX + key] = json.dumps(data["config"][PREFIX + key])
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return build_plan(project)


def test_structured_values_stored_as_json_strings_are_decoded_once_in_the_model(json_encoded_plan):
    iot = json_encoded_plan.stacks["iot"]
    assert isinstance(iot.config["consumers"], list) and isinstance(iot.config["deviceAccess"], dict)
    assert json_encoded_plan.passed, [c.problems for c in json_encoded_plan.checks if not c.passed]


def test_what_the_plan_shows_reads_the_decoded_config(json_encoded_plan):
    shown = device_access(json_encoded_plan.stacks["iot"])
    assert "families" in shown and " on " in shown


def test_without_the_model_s_decoding_the_same_stack_breaks_what_the_plan_shows(json_encoded_plan):
    # The stack as its file has it: what the plan shows, given the raw value, fails.
    iot = json_encoded_plan.stacks["iot"]
    raw = {k[len(PREFIX):]: v for k, v in yaml.safe_load(
        (json_encoded_plan.directory / "Pulumi.iot.yaml").read_text())["config"].items() if k.startswith(PREFIX)}
    assert isinstance(raw["deviceAccess"], str)
    with pytest.raises(AttributeError):
        device_access(dataclasses.replace(iot, config=raw))
