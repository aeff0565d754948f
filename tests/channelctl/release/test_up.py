"""``channelctl up`` drives the Automation API through a recording stand-in for the pulumi CLI."""

from __future__ import annotations

import io
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import grpc
import pytest
from pulumi.automation import CommandResult, OnOutput, PulumiCommand
from pulumi.automation.errors import create_command_error
from pulumi.runtime.proto import events_pb2, events_pb2_grpc
import yaml
from semver import VersionInfo

from channelctl import cli
from channelctl.release import up
from channelctl.project import deployment_steps, load_project
from tests.channelctl.plan.test_plan_support import copy_project

STACKS = {
    "network": "",
    "iot": "",
    "consumer-a": "",
    "consumer-b": "",
}


@dataclass(frozen=True)
class Call:
    args: tuple[str, ...]
    cwd: str

    @property
    def stack(self) -> str:
        return self.args[self.args.index("--stack") + 1]


class RecordingPulumi(PulumiCommand):
    """Answers the Automation API like the pulumi CLI would, without the binary.

    ``fail_operation`` makes the n-th preview/up (1-based) exit non-zero with ``error_line`` on stderr.
    """

    def __init__(self, *, existing: set[str], fail_operation: int | None = None,
                 error_line: str = "error: update failed") -> None:
        # Deliberately no super().__init__(): that would run `pulumi version`.
        self.command = "pulumi"
        self.version = VersionInfo(3, 272, 0)
        self.existing = {self.canonical(name) for name in existing}
        self.fail_operation = fail_operation
        self.error_line = error_line
        self.calls: list[Call] = []
        self.operations = 0
        self.config_files: dict[int, str | None] = {}  # operation number -> the --config-file's text

    @staticmethod
    def canonical(name: str) -> str:
        """`org/project/stack` and `org/stack` name the same stack of the current project."""
        parts = name.split("/")
        return f"{parts[0]}/{parts[2]}" if len(parts) == 3 else name

    def run(self, args: list[str], cwd: str, additional_env: Mapping[str, str],
            on_output: OnOutput | None = None, on_error: OnOutput | None = None) -> CommandResult:
        call = Call(tuple(args), cwd)
        self.calls.append(call)
        if args[:2] == ["stack", "select"]:
            if self.canonical(call.stack) not in self.existing:
                return self._fail(f"error: no stack named '{call.stack}' found", 255)
            return CommandResult("", "", 0)
        if args[:2] == ["stack", "init"]:
            self.existing.add(self.canonical(args[2]))
            return CommandResult(f"Created stack '{args[2]}'", "", 0)
        if args[0] in ("preview", "up"):
            self.operations += 1
            if "--config-file" in args:
                self.config_files[self.operations] = Path(args[args.index("--config-file") + 1]).read_text()
            else:
                self.config_files[self.operations] = None
            line = f"{'Previewing update' if args[0] == 'preview' else 'Updating'} ({call.stack})"
            if on_output:
                on_output(line)
            if self.operations == self.fail_operation:
                if on_error:
                    on_error(self.error_line)
                return self._fail(self.error_line, 255, stdout=line)
            if args[0] == "preview":
                self._send_summary(args[args.index("--event-log") + 1])
            return CommandResult(line, "", 0)
        if args[:2] == ["stack", "output"]:
            return CommandResult("{}", "", 0)
        if args[:2] == ["stack", "history"]:
            return CommandResult(json.dumps([{
                "kind": "update", "startTime": "2025-01-01T00:00:00.000Z", "endTime": "2025-01-01T00:01:00.000Z",
                "message": "", "environment": {}, "config": {}, "result": "succeeded",
                "resourceChanges": {"create": 3, "same": 1},
            }]), "", 0)
        raise AssertionError(f"unexpected pulumi command: {args}")

    @staticmethod
    def _fail(stderr: str, code: int, stdout: str = "") -> CommandResult:
        # The real PulumiCommand.run raises for a non-zero exit; so does this one.
        raise create_command_error(CommandResult(stdout, stderr, code))

    @staticmethod
    def _send_summary(event_log: str) -> None:
        event = json.dumps({"sequence": 1, "timestamp": 0,
                            "summaryEvent": {"resourceChanges": {"create": 2}, "durationSeconds": 1}})
        if event_log.startswith("tcp://"):
            with grpc.insecure_channel(event_log.removeprefix("tcp://")) as channel:
                events_pb2_grpc.EventsStub(channel).StreamEvents(iter([events_pb2.EventRequest(event=event)]), timeout=10)
        else:
            with open(event_log, "a", encoding="utf-8") as log:
                log.write(event + "\n")

    def operations_run(self) -> list[tuple[str, str]]:
        return [(c.args[0], c.stack) for c in self.calls if c.args[0] in ("preview", "up")]

    def created(self) -> list[str]:
        return [c.args[2] for c in self.calls if c.args[:2] == ("stack", "init")]


@pytest.fixture
def project_dir(tmp_path: Path) -> Path:
    (tmp_path / "Pulumi.yaml").write_text("name: private-mqtt-channel\nruntime: python\n", encoding="utf-8")
    for stack in STACKS:
        (tmp_path / f"Pulumi.{stack}.yaml").write_text("config: {}\n", encoding="utf-8")
    (tmp_path / "policies").mkdir()
    (tmp_path / "policies" / "PulumiPolicy.yaml").write_text("runtime: python\n", encoding="utf-8")
    return tmp_path


class Terminal(io.StringIO):
    """A stdin that is a terminal, with what the operator types."""

    def isatty(self) -> bool:
        return True


def passing_plan(directory: Path) -> up.PlanVerdict:
    return up.PlanVerdict(passed=True, summary="PASS: all 5 checks passed")


def main(argv: list[str], command: PulumiCommand | None, plan_checker=passing_plan,
         stdin: io.StringIO | None = None) -> int:
    args = cli.build_parser().parse_args(["up", *argv])
    assert args.func is up.run
    return up.run(args, command=command, plan_checker=plan_checker, stdin=stdin or io.StringIO(""))


FULL_ORDER = ["network", "iot", "network", "consumer-a", "consumer-b", "iot"]


def test_up_runs_the_five_steps_in_order(project_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pulumi = RecordingPulumi(existing=set(STACKS))

    assert main(["--cwd", str(project_dir), "--yes"], pulumi) == up.EXIT_OK

    assert pulumi.operations_run() == [("up", stack) for stack in FULL_ORDER]
    selected = [c.stack for c in pulumi.calls if c.args[:2] == ("stack", "select")]
    # Every stack is looked up before anything runs, then each step selects its own stack.
    assert selected == ["network", "iot", "consumer-a", "consumer-b", *FULL_ORDER]
    assert {c.cwd for c in pulumi.calls} == {str(project_dir)}  # the local program, never a temp dir
    for call in pulumi.calls:
        if call.args[0] == "up":
            assert "--skip-preview" in call.args and "--yes" in call.args
            assert call.args[call.args.index("--policy-pack") + 1] == str(project_dir / "policies")
    out = capsys.readouterr().out
    assert "[consumer-b] Updating (consumer-b)" in out  # the CLI's output is streamed, prefixed by stack
    assert "== step 3 of 5: pulumi up on stack 'network' (network: again: accept the TGW attachment" in out
    assert "channelctl up: 6 steps deployed: 1 'network', 2 'iot', 3 'network', 4 'consumer-a', 4 'consumer-b', 5 'iot'" in out


def test_preview_runs_preview_in_the_same_order(project_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pulumi = RecordingPulumi(existing=set(STACKS))

    assert main(["--cwd", str(project_dir), "--preview"], pulumi) == up.EXIT_OK

    assert pulumi.operations_run() == [("preview", stack) for stack in FULL_ORDER]
    assert not any(c.args[0] == "up" for c in pulumi.calls)
    out = capsys.readouterr().out
    assert "'network' preview done (create 2)" in out  # the summary event reached the Automation API
    assert out.count("a preview of a repeated step") == 2  # steps 3 and 5


@pytest.mark.parametrize(
    ("fail_operation", "step", "stack", "not_run"),
    [
        (1, 1, "network", "step 2 'iot', step 3 'network', step 4 'consumer-a', step 4 'consumer-b', step 5 'iot'"),
        (3, 3, "network", "step 4 'consumer-a', step 4 'consumer-b', step 5 'iot'"),
        (5, 4, "consumer-b", "step 5 'iot'"),
        (6, 5, "iot", "none"),
    ],
)
def test_a_failing_step_stops_the_release_and_is_named(
    project_dir: Path, capsys: pytest.CaptureFixture[str], fail_operation: int, step: int, stack: str, not_run: str
) -> None:
    pulumi = RecordingPulumi(existing=set(STACKS), fail_operation=fail_operation,
                             error_line="error: resource 'channel-tgw-accepter' failed: AccessDenied")

    assert main(["--cwd", str(project_dir), "--yes"], pulumi) == up.EXIT_STEP_FAILED

    assert pulumi.operations_run() == [("up", s) for s in FULL_ORDER[:fail_operation]]
    assert pulumi.calls[-1].args[0] == "up"  # nothing at all ran after the failing step
    failed = deployment_steps(load_project(project_dir))[fail_operation - 1]
    assert (failed.number, failed.stack) == (step, stack)
    stderr_lines = capsys.readouterr().err.strip().splitlines()
    assert f"[{stack}] error: resource 'channel-tgw-accepter' failed: AccessDenied" in stderr_lines
    assert stderr_lines[-1] == (
        f"channelctl up: step {step} of 5 failed on stack '{stack}' ({failed.role}: {failed.description}): "
        f"error: resource 'channel-tgw-accepter' failed: AccessDenied (exit code 255); not run: {not_run}"
    )


def test_a_failing_preview_also_stops(project_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pulumi = RecordingPulumi(existing=set(STACKS), fail_operation=2, error_line="error: preview failed")

    assert main(["--cwd", str(project_dir), "--preview"], pulumi) == up.EXIT_STEP_FAILED

    assert pulumi.operations_run() == [("preview", "network"), ("preview", "iot")]
    assert "step 2 of 5 failed on stack 'iot'" in capsys.readouterr().err


def test_a_stack_not_yet_in_the_backend_is_created_with_create(project_dir: Path) -> None:
    pulumi = RecordingPulumi(existing={"network", "iot", "consumer-a"})

    assert main(["--cwd", str(project_dir), "--yes", "--create"], pulumi) == up.EXIT_OK

    assert pulumi.created() == ["consumer-b"]
    assert pulumi.operations_run() == [("up", stack) for stack in FULL_ORDER]


def test_a_missing_stack_without_create_is_refused_before_anything_runs(
    project_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A typo in --org names stacks that do not exist: nothing is created, nothing deployed."""
    pulumi = RecordingPulumi(existing={f"acme/{s}" for s in STACKS})

    assert main(["--cwd", str(project_dir), "--org", "acmee", "--yes"], pulumi) == up.EXIT_USAGE

    assert pulumi.operations_run() == [] and pulumi.created() == []
    err = capsys.readouterr().err
    assert "stack 'acmee/network', 'acmee/iot', 'acmee/consumer-a', 'acmee/consumer-b' does not exist" in err
    assert "pass --create for a first release; nothing was run" in err


def test_selected_stacks_keep_the_release_order(project_dir: Path) -> None:
    pulumi = RecordingPulumi(existing=set(STACKS))

    assert main(["--cwd", str(project_dir), "--stacks", "consumer-a", "iot", "--yes"], pulumi) == up.EXIT_OK

    assert pulumi.operations_run() == [("up", "iot"), ("up", "consumer-a"), ("up", "iot")]


def test_an_explicit_policy_pack_replaces_the_default(project_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    pack = tmp_path_factory.mktemp("pack")
    (pack / "PulumiPolicy.yaml").write_text("runtime: python\n", encoding="utf-8")
    pulumi = RecordingPulumi(existing=set(STACKS))

    assert main(["--cwd", str(project_dir), "--stacks", "network", "--policy-pack", str(pack), "--yes"], pulumi) == up.EXIT_OK

    ups = [c for c in pulumi.calls if c.args[0] == "up"]
    assert [c.args[c.args.index("--policy-pack") + 1] for c in ups] == [str(pack), str(pack)]
    assert sum(arg == "--policy-pack" for arg in ups[0].args) == 1


def test_a_directory_without_a_policy_pack_is_refused(project_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pulumi = RecordingPulumi(existing=set(STACKS))

    assert main(["--cwd", str(project_dir), "--policy-pack", str(project_dir)], pulumi) == up.EXIT_USAGE

    assert pulumi.calls == []
    assert f"--policy-pack {project_dir}: no PulumiPolicy.yaml there" in capsys.readouterr().err


def test_a_project_error_exits_2_before_any_pulumi_call(project_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (project_dir / "Pulumi.iot.yaml").write_text("config:\n  private-mqtt-channel:role: gateway\n", encoding="utf-8")
    pulumi = RecordingPulumi(existing=set(STACKS))

    assert main(["--cwd", str(project_dir), "--yes"], pulumi) == up.EXIT_USAGE

    assert pulumi.calls == []
    assert capsys.readouterr().err.strip() == (
        "channelctl up: Pulumi.iot.yaml: config key 'private-mqtt-channel:role': 'gateway' is not a role "
        "— use network, iot or consumer"
    )


def test_an_unknown_stack_exits_2(project_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--cwd", str(project_dir), "--stacks", "staging"], RecordingPulumi(existing=set())) == up.EXIT_USAGE
    assert "Pulumi.staging.yaml: no such file for stack 'staging'" in capsys.readouterr().err


def test_a_missing_pulumi_cli_exits_2(project_dir: Path, tmp_path_factory: pytest.TempPathFactory,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    empty_root = tmp_path_factory.mktemp("no-pulumi")

    assert main(["--cwd", str(project_dir), "--pulumi-root", str(empty_root)], None) == up.EXIT_USAGE

    err = capsys.readouterr().err
    assert f"the pulumi CLI under {empty_root} cannot be used" in err
    assert "install the Pulumi CLI or pass --pulumi-root" in err


def test_an_organization_qualifies_every_stack(project_dir: Path) -> None:
    pulumi = RecordingPulumi(existing={f"acme/{s}" for s in STACKS})

    assert main(["--cwd", str(project_dir), "--org", "acme", "--yes"], pulumi) == up.EXIT_OK

    assert pulumi.operations_run() == [("up", f"acme/{stack}") for stack in FULL_ORDER]


def test_a_bad_organization_is_refused(project_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pulumi = RecordingPulumi(existing=set(STACKS))

    assert main(["--cwd", str(project_dir), "--org", "acme/x"], pulumi) == up.EXIT_USAGE

    assert pulumi.calls == []
    assert "--org 'acme/x' is not an organization name" in capsys.readouterr().err


def _references(project_dir: Path, org: str) -> None:
    (project_dir / "Pulumi.network.yaml").write_text(
        f"config:\n  private-mqtt-channel:iotStack: {org}/private-mqtt-channel/iot\n", encoding="utf-8")
    (project_dir / "Pulumi.iot.yaml").write_text(
        f"config:\n  private-mqtt-channel:networkStack: {org}/private-mqtt-channel/network\n", encoding="utf-8")


def test_stack_files_of_different_channels_exit_2_before_any_pulumi_call(
    project_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (project_dir / "Pulumi.network.yaml").write_text(
        "config:\n  private-mqtt-channel:iotAccountId: '444444444444'\n", encoding="utf-8")
    (project_dir / "Pulumi.iot.yaml").write_text(
        "config:\n  private-mqtt-channel:accountId: '222222222222'\n"
        "  private-mqtt-channel:networkStack: acme/private-mqtt-channel/network\n", encoding="utf-8")
    pulumi = RecordingPulumi(existing=set(STACKS))

    assert main(["--cwd", str(project_dir)], pulumi) == up.EXIT_USAGE

    assert pulumi.calls == []
    assert capsys.readouterr().err.startswith(
        "channelctl up: Pulumi.network.yaml: key 'private-mqtt-channel:iotAccountId': 444444444444 is not the account "
        "of the iot stack (Pulumi.iot.yaml accountId 222222222222)"
    )


def test_an_organization_other_than_the_references_is_refused(
    project_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _references(project_dir, "acme")
    pulumi = RecordingPulumi(existing={f"acme2/{s}" for s in STACKS})

    assert main(["--cwd", str(project_dir), "--org", "acme2"], pulumi) == up.EXIT_USAGE

    assert pulumi.calls == []
    assert capsys.readouterr().err.startswith(
        "channelctl up: --org 'acme2' is not the organization the stack references name (Pulumi.network.yaml: key "
        "'private-mqtt-channel:iotStack' names 'acme')"
    )


def test_the_organization_of_the_references_is_released(project_dir: Path) -> None:
    _references(project_dir, "acme")
    pulumi = RecordingPulumi(existing={f"acme/{s}" for s in STACKS})

    assert main(["--cwd", str(project_dir), "--org", "acme", "--yes"], pulumi) == up.EXIT_OK

    assert pulumi.operations_run() == [("up", f"acme/{stack}") for stack in FULL_ORDER]


# --------------------------------------------------------------------------- #
# Before anything runs: the plan, confirmation
# --------------------------------------------------------------------------- #


def test_a_failing_plan_refuses_before_any_pulumi_call(project_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    def failing(directory: Path) -> up.PlanVerdict:
        return up.PlanVerdict(passed=False, summary="FAIL: 1 of 5 checks failed (devices-path)")

    pulumi = RecordingPulumi(existing=set(STACKS))

    assert main(["--cwd", str(project_dir), "--yes"], pulumi, plan_checker=failing) == up.EXIT_PLAN_FAILED

    assert pulumi.calls == []
    assert capsys.readouterr().err.strip() == (
        "channelctl up: the plan of the stack files fails — FAIL: 1 of 5 checks failed (devices-path); "
        "run 'channelctl plan' to see why; nothing was run")


def test_the_real_plan_of_broken_stack_files_refuses(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    project = copy_project(tmp_path)
    path = project / "Pulumi.network.yaml"
    path.write_text(path.read_text().replace("deviceVpcCidr: 10.10.0.0/16", "deviceVpcCidr: 10.10.0.0/33"))
    (project / "policies").mkdir()
    (project / "policies" / "PulumiPolicy.yaml").write_text("runtime: python\n")
    pulumi = RecordingPulumi(existing={"network", "iot", "consumer"})

    assert main(["--cwd", str(project), "--yes"], pulumi, plan_checker=up.check_plan) == up.EXIT_USAGE

    assert pulumi.calls == []
    err = capsys.readouterr().err
    assert err.startswith("channelctl up: the plan refuses the stack files: Pulumi.network.yaml: ")
    assert "10.10.0.0/33" in err and err.rstrip().endswith("nothing was run")


def test_without_yes_a_non_terminal_stdin_refuses(project_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pulumi = RecordingPulumi(existing=set(STACKS))

    assert main(["--cwd", str(project_dir)], pulumi, stdin=io.StringIO("yes\n")) == up.EXIT_USAGE

    assert pulumi.operations_run() == []
    assert "stdin is not a terminal" in capsys.readouterr().err


@pytest.mark.parametrize(("typed", "code", "ran"), [("yes\n", up.EXIT_OK, 6), ("y\n", up.EXIT_OK, 6),
                                                    ("no\n", up.EXIT_USAGE, 0), ("\n", up.EXIT_USAGE, 0)])
def test_on_a_terminal_it_asks(project_dir: Path, capsys: pytest.CaptureFixture[str], typed: str, code: int,
                               ran: int) -> None:
    pulumi = RecordingPulumi(existing=set(STACKS))

    assert main(["--cwd", str(project_dir)], pulumi, stdin=Terminal(typed)) == code

    assert len(pulumi.operations_run()) == ran
    out = capsys.readouterr()
    assert "Deploy? Type 'yes' to continue: " in out.out
    if not ran:
        assert "not confirmed; nothing was run" in out.err


def test_a_preview_needs_no_confirmation(project_dir: Path) -> None:
    pulumi = RecordingPulumi(existing=set(STACKS))
    assert main(["--cwd", str(project_dir), "--preview"], pulumi) == up.EXIT_OK
    assert len(pulumi.operations_run()) == 6


def test_steps_selects_one_step_of_the_release(project_dir: Path) -> None:
    pulumi = RecordingPulumi(existing=set(STACKS))

    assert main(["--cwd", str(project_dir), "--stacks", "network", "--steps", "3", "--yes"], pulumi) == up.EXIT_OK

    assert pulumi.operations_run() == [("up", "network")]


# --------------------------------------------------------------------------- #
# A first release from empty accounts, with the committed files
# --------------------------------------------------------------------------- #


def test_a_first_release_from_empty_accounts_leaves_backward_references_out_of_the_first_passes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = copy_project(tmp_path)
    committed = {p.name: p.read_bytes() for p in project.glob("Pulumi*.yaml")}
    pulumi = RecordingPulumi(existing=set())

    assert main(["--cwd", str(project), "--org", "acme", "--create", "--yes"], pulumi) == up.EXIT_OK

    assert pulumi.operations_run() == [("up", f"acme/{s}") for s in ("network", "iot", "network", "consumer", "iot")]
    assert pulumi.created() == ["acme/network", "acme/iot", "acme/consumer"]
    files = pulumi.config_files
    # Step 1: the iot stack does not exist yet, so network runs without iotStack, everything else as committed.
    step1 = yaml.safe_load(files[1])["config"]
    assert "private-mqtt-channel:iotStack" not in step1
    committed_network = yaml.safe_load(committed["Pulumi.network.yaml"])["config"]
    assert step1 == {k: v for k, v in committed_network.items() if k != "private-mqtt-channel:iotStack"}
    # Step 2: no consumer stack exists yet, so iot runs without consumers[].stack.
    step2 = yaml.safe_load(files[2])["config"]
    assert step2["private-mqtt-channel:consumers"] == [
        {k: v for k, v in e.items() if k != "stack"}
        for e in yaml.safe_load(committed["Pulumi.iot.yaml"])["config"]["private-mqtt-channel:consumers"]]
    assert step2["private-mqtt-channel:networkStack"] == "acme/private-mqtt-channel/network"  # forward: kept
    # Steps 3, 4, 5 read the committed files as they are.
    assert files[3] is None and files[4] is None and files[5] is None
    # The committed files were never edited.
    assert {p.name: p.read_bytes() for p in project.glob("Pulumi*.yaml")} == committed
    out = capsys.readouterr().out
    assert "iotStack left out of this pass: stack 'acme/private-mqtt-channel/iot' does not exist yet" in out


def test_a_later_release_keeps_every_backward_reference(tmp_path: Path) -> None:
    """Once the stacks exist, no pass leaves a reference out: nothing step 3 or 5 built is removed."""
    project = copy_project(tmp_path)
    pulumi = RecordingPulumi(existing={"acme/network", "acme/iot", "acme/consumer"})

    assert main(["--cwd", str(project), "--org", "acme", "--yes"], pulumi) == up.EXIT_OK

    assert set(pulumi.config_files.values()) == {None}
    assert pulumi.created() == []
