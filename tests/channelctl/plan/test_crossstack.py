"""Stack files of one channel agree with each other (``channelctl.plan.crossstack``), without rendering anything."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

from channelctl.plan import crossstack
from channelctl.project import ProjectError, load_project

REPO_ROOT = Path(__file__).resolve().parents[3]
PREFIX = "private-mqtt-channel:"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    for name in ("Pulumi.yaml", "Pulumi.network.yaml", "Pulumi.iot.yaml", "Pulumi.consumer.yaml"):
        shutil.copy(REPO_ROOT / name, tmp_path / name)
    return tmp_path


def edit(path: Path, change) -> None:
    document = yaml.safe_load(path.read_text())
    change(document["config"])
    path.write_text(yaml.safe_dump(document, sort_keys=False))


def refused(directory: Path, stacks: list[str] | None = None) -> str:
    with pytest.raises(ProjectError) as caught:
        crossstack.validate(load_project(directory, stacks))
    return str(caught.value)


@pytest.mark.parametrize(
    "value, parts",
    [
        ("acme/private-mqtt-channel/iot", ("acme", "private-mqtt-channel", "iot")),
        ("acme/iot", ("acme", None, "iot")),
        ("iot", (None, None, "iot")),
    ],
)
def test_parse_reference(value, parts):
    assert crossstack.parse_reference(value) == parts


def test_the_example_stacks_describe_one_channel():
    crossstack.validate(load_project(REPO_ROOT))


def test_references_are_found_in_every_key_that_holds_one():
    refs = crossstack.references(load_project(REPO_ROOT))
    assert [(r.stack.name, r.key, r.expected_role, r.name) for r in refs] == [
        ("network", "iotStack", "iot", "iot"),
        ("iot", "networkStack", "network", "network"),
        ("iot", "consumers[0].stack", "consumer", "consumer"),
        ("consumer", "iotStack", "iot", "iot"),
    ]


def test_references_without_organization_agree_with_any(project):
    """``iot`` and ``acme/private-mqtt-channel/iot`` both name the current organization's stack."""
    edit(project / "Pulumi.consumer.yaml", lambda c: c.__setitem__(f"{PREFIX}iotStack", "iot"))
    crossstack.validate(load_project(project))


def test_a_second_organization_is_refused_naming_both_references(project):
    edit(project / "Pulumi.consumer.yaml", lambda c: c.__setitem__(f"{PREFIX}iotStack", "acme2/iot"))
    message = refused(project)
    assert message.startswith("Pulumi.consumer.yaml: key 'private-mqtt-channel:iotStack': stack reference "
                              "'acme2/iot' names organization 'acme2', but Pulumi.network.yaml: key "
                              "'private-mqtt-channel:iotStack' names 'acme'")


def test_consumers_set_as_json_text_are_read_like_the_program_reads_them(project):
    """``pulumi config set consumers '[...]'`` (without --path) stores the list as JSON text."""

    def as_text(config):
        entries = config[f"{PREFIX}consumers"]
        entries[0]["accountId"] = "444444444444"
        config[f"{PREFIX}consumers"] = json.dumps(entries)

    edit(project / "Pulumi.iot.yaml", as_text)
    assert "key 'private-mqtt-channel:consumers[0].accountId': 444444444444" in refused(project)


def test_only_stacks_of_the_plan_are_compared(project):
    edit(project / "Pulumi.network.yaml", lambda c: c.__setitem__(f"{PREFIX}iotAccountId", "444444444444"))
    assert "iotAccountId" in refused(project)
    crossstack.validate(load_project(project, ["iot", "consumer"]))


def test_an_existing_vpc_range_is_compared_with_the_entry(project):
    def existing(config):
        del config[f"{PREFIX}vpcCidr"]
        del config[f"{PREFIX}availabilityZones"]
        config[f"{PREFIX}existingVpc"] = {"vpcId": "vpc-0abc", "vpcCidr": "10.31.0.0/16",
                                          "subnetIds": ["subnet-1", "subnet-2"]}

    edit(project / "Pulumi.consumer.yaml", existing)
    assert refused(project).startswith(
        "Pulumi.iot.yaml: key 'private-mqtt-channel:consumers[0].vpcCidr': 10.30.0.0/16 differs from "
        "Pulumi.consumer.yaml's existingVpc.vpcCidr 10.31.0.0/16"
    )


@pytest.mark.parametrize("network, iot", [("true", True), (True, "true"), (False, None), ("false", False)])
def test_same_organization_agrees_in_any_spelling(project, network, iot):
    """Pulumi writes flags as text (``pulumi config set sameOrganization true``); unset means false."""

    def setter(value):
        def change(config):
            if value is None:
                config.pop(f"{PREFIX}sameOrganization", None)
            else:
                config[f"{PREFIX}sameOrganization"] = value
        return change

    edit(project / "Pulumi.network.yaml", setter(network))
    edit(project / "Pulumi.iot.yaml", setter(iot))
    crossstack.validate(load_project(project))


def test_same_organization_on_one_side_only_is_refused(project):
    edit(project / "Pulumi.network.yaml", lambda c: c.__setitem__(f"{PREFIX}sameOrganization", "true"))
    assert refused(project).startswith(
        "Pulumi.iot.yaml: key 'private-mqtt-channel:sameOrganization': false differs from Pulumi.network.yaml's "
        "sameOrganization true"
    )


@pytest.mark.parametrize(
    "entry, found",
    [
        ({"name": "analytics", "accountId": "333333333333", "stack": "acme/private-mqtt-channel/consumer"}, "stack"),
        ({"name": "analytics", "accountId": "333333333333"}, "accountId"),
        # Bound by its stack: reference to another consumer stack, so not this stack's by account.
        ({"name": "analytics", "accountId": "333333333333", "stack": "acme/private-mqtt-channel/consumer-b"}, None),
        ({"name": "consumer", "accountId": "444444444444"}, None),
    ],
)
def test_entry_for_matches_by_stack_then_by_account(entry, found):
    match = crossstack.entry_for({"consumers": [entry]}, "consumer", "333333333333")
    assert (match[2] if match else None) == found
