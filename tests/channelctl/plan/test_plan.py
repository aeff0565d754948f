"""`channelctl plan` end to end on the example stacks and on broken copies of them."""

from __future__ import annotations

import copy
import fcntl
import json
import os
import re
import subprocess
import sys

import pytest
import yaml

from channelctl.cli import EXIT_BROKEN_PIPE, main
from benchmarks.plan_bench import generate_consumers
from channelctl.plan.checks import CheckResult, short_type
from channelctl.plan.build import (
    EXIT_BAD_INPUT,
    EXIT_CHECK_FAILED,
    EXIT_OK,
    build_plan,
    counted,
    find_config_key,
)
from channelctl.plan.output import DEFAULT_WIDTH, to_json, to_text
from channelctl.plan.describe import device_access
from tests.channelctl.plan.test_plan_support import ROOT, copy_project, example_plan
from tests.docs import read_doc

# The page that shows channelctl plan's bad-input examples.
PLAN_DOC = read_doc("docs/release-and-review.md")

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
    assert re.search(r"^       adds (?:[^\n]|\n {12})*ec2transitgateway.VpcAttachmentAccepter", out, re.MULTILINE)
    # A wrapped list continues on lines indented by eight spaces.
    assert re.search(r"transitGatewayAttachmentId = tgw-attach-\w+ ->(?:[^\n]|\n {8})*"
                     r"ec2transitgateway.VpcAttachmentAccepter channel-gatekeeper-accepter", out)
    assert re.search(r"consumerEndpointId = vpce-\w+ ->(?:[^\n]|\n {8})*ec2.VpcEndpointConnectionAccepter "
                     r"gatekeeper-accept-analytics", out)
    verdicts = re.findall(r"^  (PASS|FAIL) ([\w:-]+):", out, re.MULTILINE)
    assert [name for _, name in verdicts] == ["devices-path", "devices-dns", "consumer-path:consumer", "isolation",
                                              "capacity", "coherence", "observability", "addresses", "ordering",
                                              "accounts", "deployable"]
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
    _assert_bad_input(tmp_path, capsys, breaks, expected)


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
        "Pulumi.consumer.yaml's vpcCidr 10.30.0.0/16 — set the consumer VPC's range in the entry"
    ]


def _subset_without_upstream_stack(project):
    return ["--stacks", "iot", "consumer"]


def _referenced_file_missing(project):
    (project / "Pulumi.network.yaml").unlink()
    return []


def _misspelled_namespace(project):
    path = project / "Pulumi.consumer.yaml"
    path.write_text(path.read_text().replace("private-mqtt-channel:region:", "private-mqtt-chanel:region:"))
    return []


def _provider_region(project):
    path = project / "Pulumi.iot.yaml"
    path.write_text(path.read_text().replace("private-mqtt-channel:region:", "aws:region:"))
    return []


def _unquoted_octal_account(project):
    path = project / "Pulumi.network.yaml"
    path.write_text(path.read_text().replace('accountId: "111111111111"', "accountId: 011111111111"))
    return []


def _unquoted_leading_zero_account(project):
    path = project / "Pulumi.iot.yaml"
    path.write_text(path.read_text().replace('accountId: "333333333333"', "accountId: 012345678901"))
    return []


def _iot_config_error(project):
    def change(config):
        config[f"{PREFIX}gatekeeperVpcCidr"] = "10.20.0.0/8"

    _edit(project / "Pulumi.iot.yaml", change)
    return []


def _proxy_settings_error(project):
    def change(config):
        config[f"{PREFIX}deviceAccess"]["families"][1]["port"] = 8080

    _edit(project / "Pulumi.iot.yaml", change)
    return []


# Every bad-input case: how to break a copy of the project, and what the one line must say.
BAD_INPUT = {
    "reference-outside-plan": (_reference_outside_plan, [
        r"^Pulumi\.iot\.yaml: key 'private-mqtt-channel:consumers\[0\]\.stack'", "consumer-legacy", "not in the plan",
        "there is no Pulumi.consumer-legacy.yaml", "pulumi stack init consumer-legacy"]),
    "config-error": (_bad_cidr, [r"^Pulumi\.network\.yaml: ", "deviceVpcCidr", "10.10.0.0/33"]),
    "iot-config-error": (_iot_config_error, [r"^Pulumi\.iot\.yaml: ", "gatekeeperVpcCidr", "10.20.0.0/8"]),
    "proxy-settings-error": (_proxy_settings_error, [r"^Pulumi\.iot\.yaml: ", r"deviceAccess\.families\[1\]\.port 8080"]),
    "malformed-yaml": (_malformed_yaml, [r"^Pulumi\.consumer\.yaml: line \d+", "fix the YAML"]),
    "missing-file": (_missing_stack_file, [r"^Pulumi\.legacy\.yaml: no such file"]),
    "stack-subset": (_subset_without_referenced_stack, [
        r"^Pulumi\.iot\.yaml: key 'private-mqtt-channel:consumers\[0\]\.stack'", "'consumer'",
        "--stacks leaves out of the plan", "--stacks network iot consumer$"]),
    "upstream-left-out": (_subset_without_upstream_stack, [
        r"^Pulumi\.iot\.yaml: key 'private-mqtt-channel:networkStack'", "--stacks leaves out of the plan",
        "--stacks iot consumer network$"]),
    "referenced-file-missing": (_referenced_file_missing, [
        r"^Pulumi\.iot\.yaml: key 'private-mqtt-channel:networkStack'", "there is no Pulumi.network.yaml",
        r"\(consumer, iot\)$"]),
    "misspelled-namespace": (_misspelled_namespace, [
        r"^Pulumi\.consumer\.yaml: config key 'private-mqtt-chanel:region'", "write it as 'private-mqtt-channel:region'"]),
    "provider-region": (_provider_region, [
        r"^Pulumi\.iot\.yaml: config key 'aws:region' is not read", "set 'private-mqtt-channel:region' instead"]),
    "unquoted-octal-account": (_unquoted_octal_account, [
        r"^Pulumi\.network\.yaml: key 'private-mqtt-channel:accountId': 011111111111 is unquoted",
        "octal number 1227133513", 'quote it: "011111111111"$']),
    "unquoted-leading-zero-account": (_unquoted_leading_zero_account, [
        r"^Pulumi\.iot\.yaml: key 'private-mqtt-channel:consumers\[0\]\.accountId': 012345678901 is unquoted",
        'quote it: "012345678901"$']),
}


@pytest.mark.parametrize("case", list(BAD_INPUT))
def test_bad_input_is_one_line_exit_2(tmp_path, capsys, case):
    _assert_bad_input(tmp_path, capsys, *BAD_INPUT[case])


def _assert_bad_input(tmp_path, capsys, breaks, expected):
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


@pytest.mark.parametrize("case", ["config-error", "iot-config-error", "proxy-settings-error", "provider-region"])
def test_bad_input_leaves_nothing_for_interpreter_exit(tmp_path, case):
    """One run per case is enough: with ResourceWarnings shown, an event loop left open prints every time.

    Left open, the loops Pulumi's mock runtime opens print "Exception ignored in: BaseEventLoop.__del__"
    in about one run in six without the warning filter (benchmarks/bad_input_runs.py runs each case 50
    times without it).
    """
    breaks, _ = BAD_INPUT[case]
    project = copy_project(tmp_path)
    extra = breaks(project)
    done = subprocess.run(
        [sys.executable, "-W", "always::ResourceWarning", "-m", "channelctl", "plan", "--cwd", str(project), *extra],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == EXIT_BAD_INPUT, done.stderr
    assert done.stdout == ""
    assert done.stderr.startswith("channelctl plan: Pulumi.") and done.stderr.count("\n") == 1, done.stderr


def test_close_runtime_loops_closes_every_loop_a_render_opened(tmp_path, capsys, monkeypatch):
    from channelctl.plan import render

    monkeypatch.setattr(render.RENDER_CACHE, "enabled", False)  # a real render opens the loops
    project = copy_project(tmp_path)
    _iot_config_error(project)  # network renders, then iot fails mid-render
    assert main(["plan", "--cwd", str(project)]) == EXIT_BAD_INPUT
    capsys.readouterr()
    # cli.main closed them on its way out; render again to see what is left open without it.
    from channelctl.project import load_project

    stack = load_project(project, ["network"]).stacks["network"]
    render.render_stack(project, "network", stack.config, peers={})
    loops = list(render._thread_loops.values())
    assert loops and not all(loop.is_closed() for loop in loops)
    render.close_runtime_loops()
    assert all(loop.is_closed() for loop in loops)
    assert render._thread_loops == {}


def test_json_into_a_closed_pipe_prints_no_traceback(tmp_path):
    """`channelctl plan --format json | head -1`: the reader leaves after one line."""
    # The network stack alone (one render, not five) writes far more JSON than the pipe holds.
    project = copy_project(tmp_path)
    for stack in ("iot", "consumer"):
        (project / f"Pulumi.{stack}.yaml").unlink()
    _edit(project / "Pulumi.network.yaml", lambda config: config.pop(f"{PREFIX}iotStack"))
    read_end, write_end = os.pipe()
    # A one-page pipe: the plan cannot fit its JSON into the pipe before the reader leaves.
    fcntl.fcntl(write_end, fcntl.F_SETPIPE_SZ, 4096)
    with os.fdopen(read_end, "rb", buffering=0) as reader:
        process = subprocess.Popen(
            [sys.executable, "-m", "channelctl", "plan", "--cwd", str(project), "--format", "json"],
            cwd=ROOT, stdout=write_end, stderr=subprocess.PIPE, text=True,
        )
        os.close(write_end)
        assert reader.read(1) == b"{"
    stderr = process.stderr.read()
    process.wait(timeout=300)
    assert stderr == ""
    assert process.returncode == EXIT_BROKEN_PIPE


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
    assert printed in PLAN_DOC.splitlines()


def test_text_lines_fit_the_default_width_and_end_with_one_verdict(plan):
    text = to_text(plan)
    lines = text.splitlines()
    assert max(len(line) for line in lines) <= DEFAULT_WIDTH
    # Long lists wrap rather than being cut: with --verbose, every resource type of every account is listed.
    verbose = to_text(plan, verbose=True)
    assert max(len(line) for line in verbose.splitlines()) <= DEFAULT_WIDTH
    for stack in plan.stacks.values():
        for type_ in {short_type(r.type) for r in counted(stack.rendered.resources)}:
            assert f"{type_} x" in verbose
    assert lines[-1] == f"PASS: all {len(plan.checks)} checks passed"
    assert sum(line.startswith(("PASS:", "FAIL:")) for line in lines) == 1


def test_many_consumers_wrap_too(tmp_path):
    project = copy_project(tmp_path)
    generate_consumers(project, 12)
    text = to_text(build_plan(project))
    assert max(len(line) for line in text.splitlines()) <= DEFAULT_WIDTH
    assert text.count("arn:aws:iam::4000000000") >= 12  # every principal of the endpoint service is listed


def test_a_failing_plan_ends_with_a_fail_verdict(plan):
    broken = copy.copy(plan)
    broken.checks = [*plan.checks[:1], CheckResult(name="devices-dns", passed=False, detail="broken", problems=("x",)),
                     *plan.checks[2:]]
    assert to_text(broken).splitlines()[-1] == f"FAIL: 1 of {len(plan.checks)} checks failed (devices-dns)"
    assert to_json(broken)["verdict"] == f"FAIL: 1 of {len(plan.checks)} checks failed (devices-dns)"


def test_account_header_counts_agree_with_the_last_step_of_each_stack(plan):
    text = to_text(plan)
    steps = dict(re.findall(r"^  \d\. (\S+) \(account \d+\): (\d+) resources", text, re.MULTILINE))
    headers = re.findall(r"^Account \d+: stack (\S+) .*\n  (\d+) resources:", text, re.MULTILINE)
    assert len(headers) == len(plan.stacks)
    for stack, count in headers:
        assert steps[stack] == count  # the dict kept each stack's last step
    data = to_json(plan)
    for stack in data["stacks"]:
        last = [s for s in data["steps"] if s["stack"] == stack["name"]][-1]
        assert sum(stack["resourceCounts"].values()) == last["resourceCount"]


def test_the_device_access_mode_is_named(plan):
    assert "  device access: tls-proxy (NLB TLS listeners" in to_text(plan)
    iot = copy.deepcopy(plan.stacks["iot"])
    for mode, says in (("tcp-passthrough", "NLB TCP listeners"), ("direct", "resolves to the iot.data endpoint IPs")):
        iot.rendered.exports["deviceAccessMode"] = mode
        assert device_access(iot).startswith(f"{mode} (") and says in device_access(iot)
    iot.rendered.exports["deviceAccessMode"] = None
    assert device_access(iot).startswith("none")
    assert device_access(plan.stacks["network"]) is None


def test_the_diagram_line_says_where_it_wrote(tmp_path, plan):
    target = tmp_path / "channel.mmd"
    lines = to_text(plan, target).splitlines()
    # The line breaks before a path too long for it.
    assert f"Diagram: Mermaid flowchart of the channel written to {target}" in " ".join(" ".join(lines).split())
    assert lines[-1].startswith("PASS")
    assert to_json(plan, target)["diagram"] == str(target)
    assert "Diagram:" not in to_text(plan)


def test_the_readme_bad_input_example_is_what_the_plan_prints(tmp_path, capsys):
    example = re.search(r"^channelctl plan: Pulumi\.iot\.yaml: .*$", PLAN_DOC, re.MULTILINE).group(0)
    project = copy_project(tmp_path)
    _reference_outside_plan(project)
    assert main(["plan", "--cwd", str(project)]) == EXIT_BAD_INPUT
    assert capsys.readouterr().err.strip() == example
