"""`channelctl plan` end to end on the example stacks and on broken copies of them."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest
import yaml

from channelctl.cli import main
from channelctl.plan import EXIT_BAD_INPUT, EXIT_CHECK_FAILED, EXIT_OK, find_config_key
from tests.channelctl.test_plan_support import ROOT, copy_project, example_plan

ACCOUNTS = {"network": "111111111111", "iot": "222222222222", "consumer": "333333333333"}
PREFIX = "private-mqtt-channel:"


def _edit(path, change):
    document = yaml.safe_load(path.read_text())
    change(document["config"])
    path.write_text(yaml.safe_dump(document, sort_keys=False))


@pytest.fixture(scope="module")
def plan():
    return example_plan()


def test_text_output_shows_accounts_wiring_and_checks(capsys):
    code = main(["plan", "--cwd", str(ROOT)])
    out = capsys.readouterr().out
    for stack, account in ACCOUNTS.items():
        assert re.search(rf"^Account {account}: stack {stack} \(role {stack}", out, re.MULTILINE)
    # Release order: network, iot, network, consumer, iot.
    steps = re.findall(r"^  (\d)\. (\w+) \(account", out, re.MULTILINE)
    assert steps == [("1", "network"), ("2", "iot"), ("3", "network"), ("4", "consumer"), ("5", "iot")]
    assert re.search(r"^       adds .*ec2transitgateway.VpcAttachmentAccepter", out, re.MULTILINE)
    assert re.search(r"transitGatewayAttachmentId = tgw-attach-\w+ -> .*ec2transitgateway.VpcAttachmentAccepter "
                     r"channel-gatekeeper-accepter", out)
    assert re.search(r"consumerEndpointId = vpce-\w+ -> .*ec2.VpcEndpointConnectionAccepter gatekeeper-accept-analytics",
                     out)
    verdicts = re.findall(r"^  (PASS|FAIL) ([\w:-]+):", out, re.MULTILINE)
    assert [name for _, name in verdicts] == ["devices-path", "devices-dns", "consumer-path:consumer", "isolation",
                                              "capacity", "coherence", "observability", "deployable"]
    # The committed example channel is proven private and complete.
    assert {v for v, _ in verdicts} == {"PASS"}
    assert code == EXIT_OK


def test_json_and_diagram(tmp_path, capsys):
    diagram = tmp_path / "channel.mmd"
    code = main(["plan", "--cwd", str(ROOT), "--format", "json", "--diagram", str(diagram)])
    data = json.loads(capsys.readouterr().out)
    assert {s["name"]: s["accountId"] for s in data["stacks"]} == ACCOUNTS
    assert [s["stack"] for s in data["steps"]] == ["network", "iot", "network", "consumer", "iot"]
    for check in data["checks"]:
        assert set(check) >= {"name", "passed", "detail"}
        assert isinstance(check["passed"], bool) and check["detail"]
    assert data["passed"] is all(c["passed"] for c in data["checks"])
    assert code == (EXIT_OK if data["passed"] else EXIT_CHECK_FAILED)
    wires = {(w["from"], w["export"], w["to"]) for w in data["wiring"] if w["usedBy"]}
    assert ("iot", "transitGatewayAttachmentId", "network") in wires
    assert ("network", "transitGatewayId", "iot") in wires
    assert ("iot", "endpointServiceName", "consumer") in wires
    text = diagram.read_text()
    assert text.startswith("flowchart LR\n")
    for account in ACCOUNTS.values():
        assert f"account {account}" in text


def test_a_failing_check_exits_1(tmp_path, capsys):
    """Without a Direct Connect connection, on-premises reaches nothing: the plan says so and exits 1."""
    project = copy_project(tmp_path)

    def no_connection(config):
        config[f"{PREFIX}directConnect"] = {"gatewayAsn": 64513}

    _edit(project / "Pulumi.network.yaml", no_connection)
    code = main(["plan", "--cwd", str(project), "--format", "json"])
    data = json.loads(capsys.readouterr().out)
    assert code == EXIT_CHECK_FAILED
    devices = next(c for c in data["checks"] if c["name"] == "devices-path")
    assert not devices["passed"] and "no transit virtual interface" in devices["detail"]


def _reference_outside_plan(project):
    def change(config):
        config[f"{PREFIX}consumers"][0]["stack"] = "acme/private-mqtt-channel/consumer-legacy"

    _edit(project / "Pulumi.iot.yaml", change)
    return []


def _bad_cidr(project):
    def change(config):
        config[f"{PREFIX}deviceVpcCidr"] = "10.10.0.0/33"

    _edit(project / "Pulumi.network.yaml", change)
    return []


def _malformed_yaml(project):
    path = project / "Pulumi.consumer.yaml"
    path.write_text(path.read_text() + "  private-mqtt-channel:tags: [unclosed\n")
    return []


def _missing_stack_file(project):
    return ["--stacks", "network", "iot", "consumer", "legacy"]


def _subset_without_referenced_stack(project):
    return ["--stacks", "network", "iot"]


def _setting(file, key, value):
    def breaks(project):
        def change(config):
            node, *path = key.split(".")
            if not path:
                config[PREFIX + node] = value
                return
            target = config[PREFIX + node]
            for part in path[:-1]:
                target = target[int(part)] if part.isdigit() else target[part]
            target[path[-1]] = value

        _edit(project / file, change)
        return []

    breaks.__name__ = f"{file}:{key}={value}"
    return breaks


# Stack files that do not describe one channel: refused before anything is rendered.
CROSS_STACK = [
    (_setting("Pulumi.consumer.yaml", "iotStack", "acme2/private-mqtt-channel/iot"),
     [r"^Pulumi\.consumer\.yaml: key 'private-mqtt-channel:iotStack': stack reference "
      r"'acme2/private-mqtt-channel/iot' names organization 'acme2', but Pulumi\.network\.yaml: key "
      r"'private-mqtt-channel:iotStack' names 'acme'"]),
    (_setting("Pulumi.iot.yaml", "networkStack", "acme/other-project/network"),
     [r"^Pulumi\.iot\.yaml: key 'private-mqtt-channel:networkStack': stack reference "
      r"'acme/other-project/network' names project 'other-project', not this project 'private-mqtt-channel'"]),
    (_setting("Pulumi.network.yaml", "iotStack", "acme/private-mqtt-channel/consumer"),
     [r"^Pulumi\.network\.yaml: key 'private-mqtt-channel:iotStack': .* names stack 'consumer', whose role is "
      r"consumer — point the key at the iot stack"]),
    (_setting("Pulumi.network.yaml", "region", "eu-west-1"),
     [r"^Pulumi\.iot\.yaml: key 'private-mqtt-channel:region': us-west-2 differs from Pulumi\.network\.yaml's "
      r"region eu-west-1 — a VPC attaches only to a Transit Gateway of its own Region"]),
    (_setting("Pulumi.consumer.yaml", "region", "us-east-1"),
     [r"^Pulumi\.consumer\.yaml: key 'private-mqtt-channel:region': us-east-1 differs from Pulumi\.iot\.yaml's "
      r"region us-west-2 — .*does not use cross-Region PrivateLink"]),
    (_setting("Pulumi.network.yaml", "iotAccountId", "444444444444"),
     [r"^Pulumi\.network\.yaml: key 'private-mqtt-channel:iotAccountId': 444444444444 is not the account of the "
      r"iot stack \(Pulumi\.iot\.yaml accountId 222222222222\)"]),
    (_setting("Pulumi.network.yaml", "gatekeeperVpcCidr", "10.21.0.0/16"),
     [r"^Pulumi\.network\.yaml: key 'private-mqtt-channel:gatekeeperVpcCidr': 10\.21\.0\.0/16 differs from "
      r"Pulumi\.iot\.yaml's gatekeeperVpcCidr 10\.20\.0\.0/16"]),
    (_setting("Pulumi.iot.yaml", "sameOrganization", True),
     [r"^Pulumi\.iot\.yaml: key 'private-mqtt-channel:sameOrganization': true differs from Pulumi\.network\.yaml's "
      r"sameOrganization false"]),
    (_setting("Pulumi.iot.yaml", "consumers", [{"name": "legacy", "accountId": "444444444444"}]),
     [r"^Pulumi\.consumer\.yaml: key 'private-mqtt-channel:accountId': account 333333333333 is in no entry of "
      r"Pulumi\.iot\.yaml key 'private-mqtt-channel:consumers'"]),
    (_setting("Pulumi.iot.yaml", "consumers.0.accountId", "444444444444"),
     [r"^Pulumi\.iot\.yaml: key 'private-mqtt-channel:consumers\[0\]\.accountId': 444444444444 is not the "
      r"account of the stack its 'stack' key names \(Pulumi\.consumer\.yaml accountId 333333333333\)"]),
    (_setting("Pulumi.iot.yaml", "consumers.0.vpcCidr", "10.31.0.0/16"),
     [r"^Pulumi\.iot\.yaml: key 'private-mqtt-channel:consumers\[0\]\.vpcCidr': 10\.31\.0\.0/16 differs from "
      r"Pulumi\.consumer\.yaml's vpcCidr 10\.30\.0\.0/16"]),
]


@pytest.mark.parametrize("breaks, expected", CROSS_STACK, ids=[b.__name__ for b, _ in CROSS_STACK])
def test_stack_files_of_different_channels_are_bad_input(tmp_path, capsys, breaks, expected):
    test_bad_input_is_one_line_exit_2(tmp_path, capsys, breaks, expected)


def test_a_consumer_range_unlike_its_entry_without_stack_fails_coherence(tmp_path, capsys):
    """The entry has no stack: yet (step 2 of adding a consumer): the plan renders and the check names both files."""
    project = copy_project(tmp_path)

    def unbound_entry(config):
        entry = config[f"{PREFIX}consumers"][0]
        del entry["stack"]
        entry["vpcCidr"] = "10.31.0.0/16"

    _edit(project / "Pulumi.iot.yaml", unbound_entry)
    code = main(["plan", "--cwd", str(project), "--format", "json"])
    data = json.loads(capsys.readouterr().out)
    assert code == EXIT_CHECK_FAILED
    checks = {c["name"]: c for c in data["checks"]}
    assert checks["coherence"]["problems"] == [
        "Pulumi.iot.yaml: key 'private-mqtt-channel:consumers[0].vpcCidr': 10.31.0.0/16 differs from "
        "Pulumi.consumer.yaml's vpcCidr 10.30.0.0/16 — the iot stack checks the consumer's range against the "
        "channel's with the wrong value"
    ]


@pytest.mark.parametrize(
    "breaks, expected",
    [
        (_reference_outside_plan, [r"^Pulumi\.iot\.yaml: key 'private-mqtt-channel:consumers\[0\]\.stack'",
                                   "consumer-legacy", "not in the plan"]),
        (_bad_cidr, [r"^Pulumi\.network\.yaml: ", "deviceVpcCidr", "10.10.0.0/33"]),
        (_malformed_yaml, [r"^Pulumi\.consumer\.yaml: line \d+", "fix the YAML"]),
        (_missing_stack_file, [r"^Pulumi\.legacy\.yaml: no such file"]),
        (_subset_without_referenced_stack, [r"^Pulumi\.iot\.yaml: key 'private-mqtt-channel:consumers\[0\]\.stack'",
                                            "'consumer'"]),
    ],
    ids=["reference-outside-plan", "config-error", "malformed-yaml", "missing-file", "stack-subset"],
)
def test_bad_input_is_one_line_exit_2(tmp_path, capsys, breaks, expected):
    project = copy_project(tmp_path)
    extra = breaks(project)
    code = main(["plan", "--cwd", str(project), *extra])
    captured = capsys.readouterr()
    assert code == EXIT_BAD_INPUT
    assert captured.out == ""
    lines = captured.err.splitlines()
    assert len(lines) == 1, captured.err
    message = lines[0].removeprefix("channelctl plan: ")
    for pattern in expected:
        assert re.search(pattern, message), (pattern, message)


def test_bad_input_prints_no_traceback(tmp_path):
    project = copy_project(tmp_path)
    _bad_cidr(project)
    done = subprocess.run(
        [sys.executable, "-m", "channelctl", "plan", "--cwd", str(project)],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == EXIT_BAD_INPUT
    assert "Traceback" not in done.stderr
    assert done.stderr.startswith("channelctl plan: Pulumi.network.yaml: ") and done.stderr.count("\n") == 1


def test_find_config_key():
    config = {"iotStack": "a/p/iot", "consumers": [{"name": "x", "stack": "a/p/c1"}, {"stack": "a/p/c2"}]}
    assert find_config_key(config, "a/p/iot") == "iotStack"
    assert find_config_key(config, "a/p/c2") == "consumers[1].stack"
    assert find_config_key(config, "a/p/none") is None


def test_steps_show_what_the_second_pass_adds(plan):
    third, fifth = plan.steps[2], plan.steps[4]
    assert (third.number, third.stack) == (3, "network")
    assert any(a.startswith("route53.ZoneAssociation") for a in third.added)
    assert any("iotStack" not in m and "has not exported" in m for _, m in plan.steps[0].logs)
    assert (fifth.number, fifth.stack) == (5, "iot")
    # The gatekeeper VPC's routes wait for step 3's acceptance of its attachment.
    assert sorted(fifth.added) == [
        "ec2.Route gatekeeper-route-device-10-10-0-0-16",
        "ec2.Route gatekeeper-route-onprem-192-168-0-0-16",
        "ec2.VpcEndpointConnectionAccepter gatekeeper-accept-analytics",
    ]


def test_the_readme_example_of_stack_files_of_different_channels_is_what_the_plan_prints(tmp_path, capsys):
    project = copy_project(tmp_path)
    _setting("Pulumi.network.yaml", "iotAccountId", "444444444444")(project)
    assert main(["plan", "--cwd", str(project)]) == EXIT_BAD_INPUT
    printed = capsys.readouterr().err.strip()
    readme = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    assert printed in readme
