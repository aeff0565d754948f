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
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from pulumi.automation import (
    CommandError,
    InvalidVersionError,
    LocalWorkspaceOptions,
    PulumiCommand,
    create_or_select_stack,
)

from channelctl import crossstack
from channelctl.project import RELEASE_ORDER, Project, ProjectError, Step, deployment_steps, load_project

EXIT_OK = 0
EXIT_STEP_FAILED = 1
EXIT_USAGE = 2

POLICY_PACK_DIR = "policies"
POLICY_PACK_FILE = "PulumiPolicy.yaml"
LAST_STEP = RELEASE_ORDER[-1][0]
_REASON_LIMIT = 300
_ORGANIZATION = re.compile(r"^[A-Za-z0-9_.-]+$")

Printer = Callable[[str], None]


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
    out: Printer = print,
    err: Printer | None = None,
) -> Release:
    """Run every step of the project's release order; stop at the first failure.

    With ``organization``, stacks are selected as ``<organization>/<stack>`` (the form the stacks'
    references use), else in the backend's default organization.
    """
    err = err or out
    steps = tuple(deployment_steps(project))
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
            summary = _run_step(project, step, preview, command, policy_packs, organization, out, err)
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
    parser.set_defaults(func=run)


def run(args: argparse.Namespace, command: PulumiCommand | None = None) -> int:
    """The command's entry: load the project, find the CLI, run the release, report one line."""
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
    if command is None:
        try:
            command = PulumiCommand(root=str(args.pulumi_root) if args.pulumi_root else None)
        except (OSError, CommandError, InvalidVersionError) as exc:
            where = f"under {args.pulumi_root}" if args.pulumi_root else "on PATH"
            print(f"channelctl up: the pulumi CLI {where} cannot be used ({_one_line_reason(exc)}) — install the "
                  f"Pulumi CLI or pass --pulumi-root", file=sys.stderr)
            return EXIT_USAGE

    outcome = release(
        project,
        preview=args.preview,
        command=command,
        policy_packs=packs,
        organization=args.org,
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


def _run_step(
    project: Project,
    step: Step,
    preview: bool,
    command: PulumiCommand,
    policy_packs: Sequence[Path],
    organization: str | None,
    out: Printer,
    err: Printer,
) -> str:
    stack = create_or_select_stack(
        f"{organization}/{step.stack}" if organization else step.stack,
        work_dir=str(project.directory),
        opts=LocalWorkspaceOptions(pulumi_command=command),
    )
    packs = [str(p) for p in policy_packs] or None
    prefix = f"[{step.stack}] "
    if preview:
        result = stack.preview(
            policy_packs=packs, on_output=lambda line: out(prefix + line), on_error=lambda line: err(prefix + line)
        )
        changes = result.change_summary
    else:
        up = stack.up(
            policy_packs=packs, on_output=lambda line: out(prefix + line), on_error=lambda line: err(prefix + line)
        )
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
