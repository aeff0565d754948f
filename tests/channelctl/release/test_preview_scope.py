"""The pull-request preview in every state of the backend: from empty accounts to a full release.

``decide`` is tested over the committed stack files with the backend's state given; ``main``
drives the Automation API through the recording stand-in for the pulumi CLI; the workflow
test reads ``.github/workflows/preview.yml``.
"""

from __future__ import annotations

import copy
import json
import shutil
from collections.abc import Mapping
from pathlib import Path

import pytest
import yaml
from pulumi.automation import CommandResult

from channelctl.project import load_project
from channelctl.release import preview_scope as scope
from tests.channelctl.release.test_up import RecordingPulumi

ROOT = Path(__file__).resolve().parents[3]
PREVIEW_WORKFLOW = ROOT / ".github" / "workflows" / "preview.yml"
ORG = "acme"
NETWORK, IOT, CONSUMER = (f"{ORG}/private-mqtt-channel/{s}" for s in ("network", "iot", "consumer"))
M, E, D = scope.MISSING, scope.EMPTY, scope.DEPLOYED


@pytest.fixture(scope="module")
def project():
    return load_project(ROOT, ["network", "iot", "consumer"])


def _state(states: Mapping[str, str]):
    def state(name: str) -> str:
        short = name.rsplit("/", 1)[-1]
        return states.get(short, M)

    return state


def _decide(project, states):
    return {s: scope.decide(project, s, _state(states), ORG) for s in ("network", "iot", "consumer")}


def test_from_empty_accounts_no_stack_is_previewed_and_each_says_why(project):
    decided = _decide(project, {})
    assert [d.preview for d in decided.values()] == [False, False, False]
    assert "stack 'acme/network' does not exist yet" in decided["network"].reason
    assert "step 1 of a first release creates it" in decided["network"].reason
    assert "step 2 of a first release creates it" in decided["iot"].reason


def test_a_backward_reference_to_a_missing_stack_is_left_out(project):
    """The state the issue names: the network stack exists, the iot stack does not yet; its
    iotStack reference would fail the preview with 'unknown stack'."""
    decided = _decide(project, {"network": D})
    network = decided["network"]
    assert network.preview and [r.key for r in network.left_out] == ["iotStack"]
    assert "previewed without iotStack ('acme/private-mqtt-channel/iot')" in network.reason
    assert not decided["iot"].preview


def test_a_backward_reference_to_an_existing_stack_stays(project):
    decided = _decide(project, {"network": D, "iot": E})
    assert decided["network"].preview and decided["network"].left_out == ()


def test_an_upstream_stack_without_exports_stops_the_preview(project):
    decided = _decide(project, {"network": E, "iot": E})
    iot = decided["iot"]
    assert not iot.preview
    assert iot.reason.startswith("networkStack 'acme/private-mqtt-channel/network' has exported nothing yet")


def test_half_way_through_a_first_release(project):
    # After steps 1-3: the consumer stack does not exist; the iot stack leaves its entry out.
    decided = _decide(project, {"network": D, "iot": D})
    iot = decided["iot"]
    assert iot.preview and [r.key for r in iot.left_out] == ["consumers[0].stack"]
    assert not decided["consumer"].preview and "step 4 of a first release creates it" in decided["consumer"].reason
    # A consumer stack created ahead of its iot stack waits for it.
    consumer = _decide(project, {"consumer": E})["consumer"]
    assert not consumer.preview
    assert consumer.reason.startswith("iotStack 'acme/private-mqtt-channel/iot' does not exist yet: the consumer "
                                      "stack cannot be previewed")
    # Once the consumer stack exists, it is previewed against the iot stack's exports.
    decided = _decide(project, {"network": D, "iot": D, "consumer": E})
    assert decided["consumer"].preview and decided["iot"].left_out == ()


def test_after_a_release_every_stack_is_previewed_as_committed(project):
    decided = _decide(project, {"network": D, "iot": D, "consumer": D})
    assert all(d.preview and not d.left_out for d in decided.values())


# --------------------------------------------------------------------------- #
# The command, through the Automation API
# --------------------------------------------------------------------------- #


class BackendPulumi(RecordingPulumi):
    """The recording CLI, with the outputs of the deployed stacks."""

    def __init__(self, *, existing: set[str], deployed: set[str] = frozenset(), fail_select: str = "") -> None:
        super().__init__(existing=existing)
        self.deployed = {self.canonical(n) for n in deployed}
        self.fail_select = fail_select

    def run(self, args, cwd, additional_env, on_output=None, on_error=None):
        if self.fail_select and args[:2] == ["stack", "select"]:
            return self._fail(self.fail_select, 255)
        if args[:2] == ["stack", "output"]:
            name = self.canonical(args[args.index("--stack") + 1])
            return CommandResult(json.dumps({"accountId": "111111111111"} if name in self.deployed else {}), "", 0)
        return super().run(args, cwd, additional_env, on_output, on_error)


@pytest.fixture
def checkout(tmp_path):
    for name in ("Pulumi.yaml", "Pulumi.network.yaml", "Pulumi.iot.yaml", "Pulumi.consumer.yaml"):
        shutil.copy(ROOT / name, tmp_path / name)
    return tmp_path


def _run(checkout, pulumi, stack, capsys):
    output = checkout / "github-output"
    code = scope.main(["--cwd", str(checkout), "--org", ORG, "--stack", stack, "--github-output", str(output)],
                      command=pulumi)
    captured = capsys.readouterr()
    written = dict(line.split("=", 1) for line in output.read_text().splitlines()) if output.exists() else {}
    return code, captured, written


def test_the_command_skips_a_stack_that_does_not_exist(checkout, capsys):
    before = (checkout / "Pulumi.network.yaml").read_text()
    code, captured, written = _run(checkout, BackendPulumi(existing=set()), "network", capsys)
    assert code == scope.EXIT_OK and written["preview"] == "false"
    assert "does not exist yet" in written["reason"] and "network:" in captured.out
    assert (checkout / "Pulumi.network.yaml").read_text() == before


def test_the_command_leaves_a_missing_stack_out_of_the_checkout(checkout, capsys):
    pulumi = BackendPulumi(existing={"acme/network"}, deployed={"acme/network"})
    code, _, written = _run(checkout, pulumi, "network", capsys)
    assert code == scope.EXIT_OK and written["preview"] == "true"
    config = yaml.safe_load((checkout / "Pulumi.network.yaml").read_text())["config"]
    assert "private-mqtt-channel:iotStack" not in config
    original = yaml.safe_load((ROOT / "Pulumi.network.yaml").read_text())["config"]
    assert config == {k: v for k, v in original.items() if k != "private-mqtt-channel:iotStack"}


def test_the_command_keeps_a_reference_to_an_existing_stack(checkout, capsys):
    pulumi = BackendPulumi(existing={"acme/network", "acme/iot"}, deployed={"acme/network"})
    before = (checkout / "Pulumi.network.yaml").read_text()
    code, _, written = _run(checkout, pulumi, "network", capsys)
    assert code == scope.EXIT_OK and written["preview"] == "true"
    assert (checkout / "Pulumi.network.yaml").read_text() == before


def test_a_backend_that_cannot_be_read_fails(checkout, capsys):
    pulumi = BackendPulumi(existing=set(), fail_select="error: [401] Unauthorized: No credentials provided")
    code, captured, written = _run(checkout, pulumi, "network", capsys)
    assert code == scope.EXIT_USAGE and written == {}
    assert "cannot read the stacks from the backend" in captured.err and "401" in captured.err


# --------------------------------------------------------------------------- #
# The workflow
# --------------------------------------------------------------------------- #


def preview_path_problems(workflow: dict) -> list[str]:
    """What keeps the preview job from working in every state of the backend (empty = none)."""
    job = workflow["jobs"]["preview"]
    steps = job["steps"]
    names = [s.get("name", "") for s in steps]
    problems = []
    install = next((i for i, s in enumerate(steps) if str(s.get("uses", "")).startswith("pulumi/actions@")
                    and "command" not in (s.get("with") or {})), None)
    decided = next((i for i, s in enumerate(steps) if "channelctl.release.preview_scope" in str(s.get("run", ""))), None)
    previews = [i for i, s in enumerate(steps) if (s.get("with") or {}).get("command") == "preview"]
    if decided is None:
        return ["no step decides what the preview can run against (channelctl.release.preview_scope)"]
    run, env = steps[decided]["run"], steps[decided].get("env", {})
    if steps[decided].get("id") != "scope":
        problems.append("the deciding step has no id 'scope'")
    if install is None or install > decided:
        problems.append("the Pulumi CLI is not installed before the deciding step")
    if '--stack "$STACK"' not in run or env.get("STACK") != "${{ matrix.stack }}":
        problems.append("the deciding step does not decide for the matrix's stack")
    if '--github-output "$GITHUB_OUTPUT"' not in run:
        problems.append("the deciding step does not write its decision to $GITHUB_OUTPUT")
    if "PULUMI_ACCESS_TOKEN" not in env:
        problems.append("the deciding step cannot read the backend (no PULUMI_ACCESS_TOKEN)")
    for index in previews:
        if index < decided:
            problems.append(f"step '{names[index]}' previews before the decision")
        if steps[index].get("if") != "${{ steps.scope.outputs.preview == 'true' }}":
            problems.append(f"step '{names[index]}' previews whatever the decision")
    if not previews:
        problems.append("no pulumi preview step")
    return problems


def test_the_preview_workflow_previews_only_what_the_backend_allows():
    workflow = yaml.safe_load(PREVIEW_WORKFLOW.read_text(encoding="utf-8"))
    assert preview_path_problems(workflow) == []
    stacks = [entry["stack"] for entry in workflow["jobs"]["preview"]["strategy"]["matrix"]["include"]]
    assert stacks == ["network", "iot", "consumer"]


def test_a_preview_workflow_that_ignores_the_decision_is_caught():
    workflow = yaml.safe_load(PREVIEW_WORKFLOW.read_text(encoding="utf-8"))
    unconditional = copy.deepcopy(workflow)
    for step in unconditional["jobs"]["preview"]["steps"]:
        if (step.get("with") or {}).get("command") == "preview":
            step.pop("if")
    assert preview_path_problems(unconditional) == ["step 'pulumi preview with the policy pack' previews whatever "
                                                    "the decision"]
    undecided = copy.deepcopy(workflow)
    undecided["jobs"]["preview"]["steps"] = [s for s in undecided["jobs"]["preview"]["steps"]
                                             if "preview_scope" not in str(s.get("run", ""))]
    assert preview_path_problems(undecided) == [
        "no step decides what the preview can run against (channelctl.release.preview_scope)"]
