"""What a pull request's ``pulumi preview`` of one stack can run against, in the backend as it is.

The pull-request workflow (``.github/workflows/preview.yml``) previews every stack, whatever
the state of the accounts: from empty accounts (no stack exists yet), half-way through a first
release, and afterwards. Real Pulumi fails a preview in two such states:

- the stack itself does not exist: ``pulumi preview`` (like ``pulumi stack select`` without
  ``--create``) refuses a stack the backend does not have (Pulumi CLI reference,
  ``pulumi stack select``: "If selected stack does not exist" only ``--create`` creates it);
  a pull request must not create stacks, so such a stack is not previewed;
- its config names another stack, through a ``StackReference``, that does not exist: the
  reference fails the whole preview ("Preview failed: unknown stack", pulumi/pulumi issue
  #2407), and the program cannot catch it (pulumi/pulumi issue #3540). A stack's program
  skips a step whose upstream *output* is not there yet, but a missing *stack* never gets
  that far.

So, per stack (``decide``):

- the stack does not exist: not previewed — the first release creates it;
- a reference the stack cannot exist without (``networkStack`` of the iot stack, ``iotStack``
  of a consumer) names a stack that does not exist or has exported nothing yet: not previewed
  — its program refuses to run before that stack's step;
- a reference that points backwards in the release order (``iotStack`` of the network
  stack, ``consumers[].stack`` of the iot stack) names a stack that does not exist: previewed
  without that key, the stack file rewritten in the job's checkout the way ``channelctl up``
  leaves it out of a pass;
- otherwise: previewed as committed.

``python -m channelctl.release.preview_scope --stack NAME [--org ORG] [--github-output FILE]``
prints the decision, rewrites the stack file when a key is left out, and writes
``preview=true|false`` and ``reason=...`` to FILE (``$GITHUB_OUTPUT``). It exits 0 once it has
decided, 2 when the project or the backend cannot be read (a wrong token or organization must
fail the job, not look like empty accounts).
"""

from __future__ import annotations

import argparse
import builtins
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from pulumi.automation import (
    CommandError,
    InvalidVersionError,
    PulumiCommand,
    StackNotFoundError,
    select_stack,
)

from channelctl.project import (
    RELEASE_ORDER,
    Project,
    ProjectError,
    StackReferenceKey,
    load_project,
    stack_references,
)
from channelctl.release.up import _config_without, _qualified, _workspace_options

EXIT_OK = 0
EXIT_USAGE = 2

# A stack's state in the backend: missing, created but never deployed (no outputs), deployed.
MISSING, EMPTY, DEPLOYED = "missing", "empty", "deployed"


@dataclass(frozen=True)
class PreviewScope:
    """Whether the stack is previewed, which backward references are left out, and why (one line)."""

    stack: str
    preview: bool
    left_out: tuple[StackReferenceKey, ...]
    reason: str


def _first_step(role: str) -> int | None:
    return next((n for n, r, _ in RELEASE_ORDER if r == role), None)


def decide(project: Project, stack: str, state: Callable[[str], str], organization: str | None = None) -> PreviewScope:
    """The preview of ``stack`` the backend's current state allows; ``state(name)`` answers
    MISSING, EMPTY or DEPLOYED for a fully qualified or organization-relative stack name."""
    stack_file = project.stacks[stack]
    own = _qualified(stack, organization)
    step = _first_step(stack_file.role)
    if state(own) == MISSING:
        return PreviewScope(stack, False, (), (
            f"stack '{own}' does not exist yet: nothing to preview against — step {step} of a first release "
            f"creates it (deploy.yml, run with 'first release'); the offline plan above covers it"))
    left_out = []
    for ref in stack_references(stack_file):
        upstream = state(ref.value)
        if ref.backward:
            if upstream == MISSING:
                left_out.append(ref)
            continue
        if upstream != DEPLOYED:
            what = "does not exist yet" if upstream == MISSING else "has exported nothing yet"
            return PreviewScope(stack, False, (), (
                f"{ref.key} '{ref.value}' {what}: the {stack_file.role} stack cannot be previewed before that "
                f"stack's first update (its program refuses to run without its exports); the offline plan above "
                f"covers it"))
    if left_out:
        keys = ", ".join(f"{r.key} ('{r.value}')" for r in left_out)
        return PreviewScope(stack, True, tuple(left_out), (
            f"previewed without {keys}: that stack does not exist yet, and a reference to a missing stack fails "
            f"the preview; a later release step runs with it"))
    return PreviewScope(stack, True, (), "previewed as committed: every stack it references exists")


def backend_state(project: Project, command: PulumiCommand) -> Callable[[str], str]:
    """``state(name)`` read from the backend with the Pulumi CLI (``pulumi stack select``, then
    ``pulumi stack output``); errors other than a missing stack propagate."""
    opts = _workspace_options(command)

    def state(name: str) -> str:
        try:
            stack = select_stack(name, work_dir=str(project.directory), opts=opts)
        except StackNotFoundError:
            return MISSING
        return DEPLOYED if stack.outputs() else EMPTY

    return state


def apply(project: Project, scope: PreviewScope) -> None:
    """Rewrite the stack file without the left-out keys (in the job's checkout, never committed)."""
    if scope.left_out:
        path = project.stacks[scope.stack].path
        _config_without(path, project.name, scope.left_out, path)


def _one_line(text: str) -> str:
    return " ".join(text.split())


def main(argv: Sequence[str] | None = None, command: PulumiCommand | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m channelctl.release.preview_scope", description=__doc__.split(
        "\n\n", 1)[0])
    parser.add_argument("--stack", required=True, help="the stack to preview (its Pulumi.<stack>.yaml)")
    parser.add_argument("--org", help="Pulumi organization of the stacks (default: the backend's default)")
    parser.add_argument("--cwd", type=Path, default=Path.cwd(), help="project directory (default: the current one)")
    parser.add_argument("--github-output", type=Path, metavar="FILE",
                        help="append preview=true|false and reason=... to FILE ($GITHUB_OUTPUT)")
    args = parser.parse_args(argv)
    try:
        project = load_project(args.cwd, [args.stack])
    except ProjectError as exc:
        print(f"preview scope: {exc}", file=sys.stderr)
        return EXIT_USAGE
    try:
        command = command or PulumiCommand()
        scope = decide(project, args.stack, backend_state(project, command), args.org)
    except (CommandError, InvalidVersionError, builtins.RuntimeError, OSError) as exc:
        print(f"preview scope: cannot read the stacks from the backend ({_one_line(str(exc))[:300]}) — check "
              f"'pulumi login', the token and --org; nothing was decided", file=sys.stderr)
        return EXIT_USAGE
    apply(project, scope)
    print(f"preview scope: {args.stack}: {scope.reason}")
    if args.github_output is not None:
        with args.github_output.open("a", encoding="utf-8") as out:
            out.write(f"preview={'true' if scope.preview else 'false'}\nreason={_one_line(scope.reason)}\n")
    return EXIT_OK


if __name__ == "__main__":  # pragma: no cover - the workflow's entry
    sys.exit(main())
