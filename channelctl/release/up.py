"""``channelctl up``: release the selected stacks in the five-step release order.

Each step runs ``pulumi preview`` or ``pulumi up`` on one stack of the local program through
Pulumi's Automation API, with the project's policy pack, streaming the CLI's output. The release
stops at the first failing step: later steps read outputs the failed one was meant to produce.
"""

from __future__ import annotations

import argparse
import builtins
import re
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

import yaml
from pulumi.automation import (
    CommandError,
    InvalidVersionError,
    LocalWorkspaceOptions,
    PulumiCommand,
    StackNotFoundError,
    create_stack,
    select_stack,
)

from channelctl.plan import crossstack
from channelctl.project import (
    RELEASE_ORDER,
    Project,
    ProjectError,
    StackReferenceKey,
    Step,
    deployment_steps,
    load_project,
    stack_references,
)

EXIT_OK = 0
EXIT_STEP_FAILED = 1
EXIT_USAGE = 2
EXIT_PLAN_FAILED = 3

POLICY_PACK_DIR = "policies"
POLICY_PACK_FILE = "PulumiPolicy.yaml"
LAST_STEP = RELEASE_ORDER[-1][0]
_REASON_LIMIT = 300
_ORGANIZATION = re.compile(r"^[A-Za-z0-9_.-]+\Z")

Printer = Callable[[str], None]


@dataclass(frozen=True)
class PlanVerdict:
    """What the offline plan says of the stack files: passed (pending allowed), and one line."""

    passed: bool
    summary: str
    bad_input: bool = False


def check_plan(directory: Path) -> PlanVerdict:
    """The offline plan of every stack file of the project, as ``channelctl plan`` renders it."""
    from channelctl.plan.build import PlanInputError, build_plan
    from channelctl.plan.describe import verdict

    try:
        plan = build_plan(directory)
    except (ProjectError, PlanInputError) as exc:
        return PlanVerdict(passed=False, summary=" ".join(str(exc).split()), bad_input=True)
    return PlanVerdict(passed=plan.passed, summary=verdict(plan))


@dataclass(frozen=True)
class StepFailure:
    """The step that failed, why (one line), and the steps that therefore did not run."""

    step: Step
    reason: str
    not_run: tuple[Step, ...]

    def message(self) -> str:
        skipped = ", ".join(f"step {s.number} '{s.stack}'" for s in self.not_run) or "none"
        return (
            f"step {self.step.number} of {LAST_STEP} failed on stack '{self.step.stack}' "
            f"({self.step.role}: {self.step.description}): {self.reason}; not run: {skipped}"
        )


@dataclass(frozen=True)
class Release:
    """What a release did: every planned step, the ones that completed, and the failure if any."""

    steps: tuple[Step, ...]
    completed: tuple[Step, ...]
    failure: StepFailure | None


def release(
    project: Project,
    *,
    preview: bool,
    command: PulumiCommand,
    policy_packs: Sequence[Path] = (),
    organization: str | None = None,
    create: bool = False,
    only_steps: Sequence[int] = (),
    out: Printer = print,
    err: Printer | None = None,
) -> Release:
    """Run every step of the project's release order; stop at the first failure.

    With ``organization``, stacks are selected as ``<organization>/<stack>`` (the form the stacks'
    references use), else in the backend's default organization.
    """
    err = err or out
    steps = tuple(s for s in deployment_steps(project) if not only_steps or s.number in only_steps)
    verb = "preview" if preview else "up"
    seen: set[str] = set()
    completed: list[Step] = []
    for index, step in enumerate(steps):
        out(f"== step {step.number} of {LAST_STEP}: pulumi {verb} on stack '{step.stack}' ({step.role}: {step.description})")
        if preview and step.stack in seen:
            out(f"   (a preview of a repeated step shows changes against the current state of the stacks it reads,"
                f" not against what the earlier steps of this release would deploy)")
        seen.add(step.stack)
        try:
            summary = _run_step(project, step, preview, command, policy_packs, organization, create, out, err)
        except (CommandError, InvalidVersionError, builtins.RuntimeError, OSError) as exc:
            # The Automation API raises CommandError for a failed CLI run, a plain RuntimeError when a
            # preview ends without its summary event, OSError when the CLI cannot be started.
            failure = StepFailure(step=step, reason=_one_line_reason(exc), not_run=steps[index + 1:])
            return Release(steps=steps, completed=tuple(completed), failure=failure)
        out(f"== step {step.number} of {LAST_STEP}: '{step.stack}' {verb} done{summary}")
        completed.append(step)
    return Release(steps=steps, completed=tuple(completed), failure=None)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "up",
        help="deploy (or preview) the stacks in the five-step release order",
        description=(
            "Run pulumi up (or preview) on the selected stacks in the release order: 1 network, 2 iot, "
            "3 network again, 4 each consumer, 5 iot again. Stops at the first failing step."
        ),
    )
    parser.add_argument("--preview", action="store_true", help="run pulumi preview instead of pulumi up")
    parser.add_argument(
        "--stacks", nargs="+", metavar="STACK", help="stacks to include (default: every Pulumi.<stack>.yaml)"
    )
    parser.add_argument(
        "--cwd", type=Path, default=None, metavar="DIR", help="project directory (default: the current one)"
    )
    parser.add_argument(
        "--policy-pack",
        dest="policy_packs",
        action="append",
        type=Path,
        metavar="DIR",
        help=f"policy pack to apply (repeatable; default: the project's {POLICY_PACK_DIR}/ pack)",
    )
    parser.add_argument(
        "--org", metavar="ORG", help="Pulumi organization of the stacks (default: the backend's default organization)"
    )
    parser.add_argument(
        "--pulumi-root", type=Path, metavar="DIR", help="Pulumi CLI installation (DIR/bin/pulumi; default: PATH)"
    )
    parser.add_argument(
        "--steps", nargs="+", type=int, choices=[n for n, _, _ in RELEASE_ORDER], metavar="N",
        help="run only these steps of the release order (1-5; a CI job runs one step)",
    )
    parser.add_argument(
        "--create", action="store_true",
        help="create a selected stack that does not exist in the backend yet (a first release); without it "
             "a missing stack is refused before anything runs",
    )
    parser.add_argument("--yes", action="store_true", help="deploy without asking for confirmation")
    parser.set_defaults(func=run)


def run(
    args: argparse.Namespace,
    command: PulumiCommand | None = None,
    plan_checker: Callable[[Path], PlanVerdict] = check_plan,
    stdin: TextIO | None = None,
) -> int:
    """The command's entry: check the plan, find the CLI and the stacks, confirm, release, report one line."""
    stdin = stdin if stdin is not None else sys.stdin
    try:
        project = load_project(args.cwd or Path.cwd(), args.stacks)
        # Stack files of different channels are refused before the first step: step 1 alone would
        # already share the Transit Gateway with the account the network stack names.
        crossstack.validate(project)
    except ProjectError as exc:
        print(f"channelctl up: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if args.org is not None and not _ORGANIZATION.match(args.org):
        print(f"channelctl up: --org {args.org!r} is not an organization name — letters, digits, '-', '_' and '.'",
              file=sys.stderr)
        return EXIT_USAGE
    named = next((r for r in crossstack.references(project) if r.org is not None), None)
    if args.org is not None and named is not None and named.org != args.org:
        print(f"channelctl up: --org {args.org!r} is not the organization the stack references name "
              f"({named.stack.path.name}: key '{project.name}:{named.key}' names {named.org!r}) — the stacks would "
              f"read another organization's stacks: pass --org {named.org} or change the references", file=sys.stderr)
        return EXIT_USAGE
    if not project.stacks:
        print(
            f"channelctl up: no Pulumi.<stack>.yaml in {project.directory} — create a stack with 'pulumi stack init'",
            file=sys.stderr,
        )
        return EXIT_USAGE
    packs = _policy_packs(project, args.policy_packs)
    missing = [p for p in packs if not (p / POLICY_PACK_FILE).is_file()]
    if missing:
        print(f"channelctl up: --policy-pack {missing[0]}: no {POLICY_PACK_FILE} there — pass a policy pack directory",
              file=sys.stderr)
        return EXIT_USAGE
    steps = [s for s in deployment_steps(project) if not args.steps or s.number in args.steps]
    if not steps:
        print(f"channelctl up: --steps {' '.join(map(str, args.steps))} has no step for the selected stacks "
              f"({', '.join(project.stacks)}) — pick steps of their roles", file=sys.stderr)
        return EXIT_USAGE

    verdict = plan_checker(project.directory)
    if not verdict.passed:
        if verdict.bad_input:
            print(f"channelctl up: the plan refuses the stack files: {verdict.summary}; nothing was run",
                  file=sys.stderr)
            return EXIT_USAGE
        print(f"channelctl up: the plan of the stack files fails — {verdict.summary}; run 'channelctl plan' to see "
              f"why; nothing was run", file=sys.stderr)
        return EXIT_PLAN_FAILED
    print(f"channelctl up: plan {verdict.summary}", flush=True)

    if command is None:
        try:
            command = PulumiCommand(root=str(args.pulumi_root) if args.pulumi_root else None)
        except (OSError, CommandError, InvalidVersionError) as exc:
            where = f"under {args.pulumi_root}" if args.pulumi_root else "on PATH"
            print(f"channelctl up: the pulumi CLI {where} cannot be used ({_one_line_reason(exc)}) — install the "
                  f"Pulumi CLI or pass --pulumi-root", file=sys.stderr)
            return EXIT_USAGE

    try:
        absent = [name for name in dict.fromkeys(s.stack for s in steps)
                  if not _stack_exists(project, _qualified(name, args.org), command)]
    except (CommandError, InvalidVersionError, builtins.RuntimeError, OSError) as exc:
        print(f"channelctl up: cannot read the stacks from the backend ({_one_line_reason(exc)}) — check "
              f"'pulumi login' and --org; nothing was run", file=sys.stderr)
        return EXIT_USAGE
    if absent and not args.create:
        names = ", ".join(f"'{_qualified(n, args.org)}'" for n in absent)
        print(f"channelctl up: stack {names} does not exist in the backend — check --org and 'pulumi whoami' (a "
              f"misspelled organization would start a second channel), or pass --create for a first release; "
              f"nothing was run", file=sys.stderr)
        return EXIT_USAGE

    if not args.preview and not args.yes:
        if not stdin.isatty():
            print("channelctl up: stdin is not a terminal, so nothing can be confirmed — pass --yes to deploy "
                  "without confirmation; nothing was run", file=sys.stderr)
            return EXIT_USAGE
        print("channelctl up will run pulumi up on: " + ", ".join(
            f"step {s.number} '{_qualified(s.stack, args.org)}'" for s in steps)
            + (f" (creating {', '.join(absent)})" if absent else ""))
        print("Deploy? Type 'yes' to continue: ", end="", flush=True)
        answer = stdin.readline().strip().lower()
        if answer not in ("y", "yes"):
            print("channelctl up: not confirmed; nothing was run", file=sys.stderr)
            return EXIT_USAGE

    outcome = release(
        project,
        preview=args.preview,
        command=command,
        policy_packs=packs,
        organization=args.org,
        create=args.create,
        only_steps=tuple(args.steps or ()),
        out=lambda line: print(line, flush=True),
        err=lambda line: print(line, file=sys.stderr, flush=True),
    )
    if outcome.failure is not None:
        print(f"channelctl up: {outcome.failure.message()}", file=sys.stderr)
        return EXIT_STEP_FAILED
    verb = "previewed" if args.preview else "deployed"
    print(f"channelctl up: {len(outcome.completed)} steps {verb}: "
          + ", ".join(f"{s.number} '{s.stack}'" for s in outcome.completed))
    return EXIT_OK


def _qualified(stack: str, organization: str | None) -> str:
    return f"{organization}/{stack}" if organization else stack


def _workspace_options(command: PulumiCommand) -> LocalWorkspaceOptions:
    return LocalWorkspaceOptions(pulumi_command=command)


def _stack_exists(project: Project, name: str, command: PulumiCommand) -> bool:
    """Whether the backend has the stack (``pulumi stack select`` succeeds); other errors propagate."""
    try:
        select_stack(name, work_dir=str(project.directory), opts=_workspace_options(command))
    except StackNotFoundError:
        return False
    return True


def _switched_off(project: Project, step: Step, command: PulumiCommand) -> list[StackReferenceKey]:
    """The step's backward references whose stack does not exist yet: this pass runs without them."""
    return [ref for ref in stack_references(project.stacks[step.stack])
            if ref.backward and not _stack_exists(project, ref.value, command)]


def _config_without(path: Path, project_name: str, refs: Sequence[StackReferenceKey], target: Path) -> None:
    """Write the stack file to ``target`` without the given reference keys; everything else as committed."""
    document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    config = dict(document.get("config") or {})
    for ref in refs:
        if "[" in ref.key:  # consumers[<i>].stack
            list_key, index = ref.key.split("[", 1)[0], int(ref.key.split("[", 1)[1].split("]", 1)[0])
            entries = [dict(e) for e in config[f"{project_name}:{list_key}"]]
            entries[index].pop("stack", None)
            config[f"{project_name}:{list_key}"] = entries
        else:
            config.pop(f"{project_name}:{ref.key}", None)
    document["config"] = config
    target.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")


def _run_step(
    project: Project,
    step: Step,
    preview: bool,
    command: PulumiCommand,
    policy_packs: Sequence[Path],
    organization: str | None,
    create: bool,
    out: Printer,
    err: Printer,
) -> str:
    name = _qualified(step.stack, organization)
    opts = _workspace_options(command)
    if create and not _stack_exists(project, name, command):
        stack = create_stack(name, work_dir=str(project.directory), opts=opts)
    else:
        stack = select_stack(name, work_dir=str(project.directory), opts=opts)
    packs = [str(p) for p in policy_packs] or None
    prefix = f"[{step.stack}] "
    off = _switched_off(project, step, command)
    with tempfile.TemporaryDirectory(prefix="channelctl-up-") as scratch:
        config_file = None
        if off:
            stack_file = project.stacks[step.stack]
            config_file = Path(scratch) / stack_file.path.name
            _config_without(stack_file.path, project.name, off, config_file)
            for ref in off:
                out(f"   {ref.key} left out of this pass: stack {ref.value!r} does not exist yet "
                    f"({stack_file.path.name} is read without it; a later step runs with it)")
        kwargs = {"policy_packs": packs, "on_output": lambda line: out(prefix + line),
                  "on_error": lambda line: err(prefix + line)}
        if config_file is not None:
            kwargs["config_file"] = str(config_file)
        if preview:
            result = stack.preview(**kwargs)
            changes = result.change_summary
        else:
            up = stack.up(**kwargs)
            changes = up.summary.resource_changes or {}
    counted = ", ".join(f"{op} {n}" for op, n in sorted(changes.items()) if n)
    return f" ({counted})" if counted else ""


def _policy_packs(project: Project, given: list[Path] | None) -> list[Path]:
    if given:
        return [p if p.is_absolute() else (Path.cwd() / p) for p in given]
    default = project.directory / POLICY_PACK_DIR
    return [default] if (default / POLICY_PACK_FILE).is_file() else []


def _one_line_reason(exc: BaseException) -> str:
    """The CLI's first error line (CommandError text is 'code: / stdout: / stderr:'), else the exception."""
    text = str(exc)
    candidates: list[str] = []
    if " stderr: " in text:
        candidates += text.split(" stderr: ", 1)[1].splitlines()
    if " stdout: " in text:
        candidates += text.split(" stdout: ", 1)[1].split(" stderr: ", 1)[0].splitlines()
    lines = [line.strip() for line in candidates if line.strip()]
    reason = next((line for line in lines if line.lower().startswith("error")), lines[0] if lines else "")
    if not reason:
        reason = " ".join(text.split()) or type(exc).__name__
    if " code: " in text and "exit code" not in reason:
        code = text.split(" code: ", 1)[1].split()[0]
        reason = f"{reason} (exit code {code})"
    return reason if len(reason) <= _REASON_LIMIT else reason[: _REASON_LIMIT - 1] + "…"
