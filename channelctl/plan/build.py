"""`channelctl plan`, the plan itself: every stack of the project rendered offline, wired, and checked.

The stacks are rendered in the release order (network, iot, network again, each consumer, iot
again) on Pulumi's mock runtime; each render's exports feed the stack references of the renders
after it, so the last render of each stack is what the release leaves behind. ``build_plan``
returns the renders, which export feeds which reference, and the results of the checks of
``channelctl.plan.checks`` over the final renders. ``channelctl.plan.output`` shows a plan as text
or JSON; ``channelctl.plan.command`` is the command line.

Each stack's look-ups (zones, where services are offered, quotas) are answered from its account's
facts, ``facts/<stack>.json`` as ``channelctl discover`` writes it, where that file exists
(``channelctl.plan.account_facts``), else from documented defaults; the checks say which.

Exit codes: 0 every check passed, 1 a check failed, 2 bad input (a stack
file missing or malformed, a reference to a stack outside the plan, a
configuration the program refuses, a facts file that is not one or is of
another account, a zone the account does not have).
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from channelctl.accounts.facts import Facts
from channelctl.plan import crossstack
from channelctl.plan.account_facts import FactsInputError, facts_note, load_plan_facts, refusal_message
from channelctl.plan.checks import (
    T_STACK_REFERENCE,
    CheckResult,
    PlannedStack,
    run_checks,
    short_type,
)
from channelctl.plan.checks.pending import Completion, settle
from channelctl.plan.render import AwsRefusal, RenderedResource, RenderedStack, render_stack
from channelctl.project import (
    PROJECT_FILE,
    RELEASE_ORDER,
    Project,
    Step,
    deployment_steps,
    load_project,
    misplaced_keys,
    stack_references,
)


EXIT_OK = 0


EXIT_CHECK_FAILED = 1


EXIT_BAD_INPUT = 2


# Export values shorter than this (flags, small numbers) say nothing about wiring.
MIN_WIRED_VALUE_LENGTH = 6


class PlanInputError(Exception):
    """The plan's input is wrong; the one-line message names the file and the key."""


@dataclass(frozen=True)
class StepRender:
    """One render of the release: which stack, what it declared, what changed since its last render."""

    number: int
    stack: str
    role: str
    description: str
    resource_count: int
    added: tuple[str, ...]
    removed: tuple[str, ...]
    logs: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Wire:
    """One export of one stack as another stack reads it, and the resource inputs that carry it."""

    source: str
    export: str
    value: Any
    reference: str
    target: str
    used_by: tuple[str, ...]
    in_own_config: bool


@dataclass
class Plan:
    project: str
    directory: Path
    files: dict[str, str]
    stacks: dict[str, PlannedStack]
    steps: list[StepRender]
    wiring: list[Wire]
    elapsed_s: float
    checks: list[CheckResult] = field(default_factory=list)
    # Every render of the release, in order: (stack, render).
    renders: list[tuple[str, RenderedStack]] = field(default_factory=list)
    # The facts each stack's account was planned with (a stack without a facts file has none), and
    # whether facts were looked for at all (False: --no-facts).
    facts: dict[str, Facts] = field(default_factory=dict)
    facts_read: bool = True

    @property
    def passed(self) -> bool:
        """Every check passed, or is pending until a later step of the release completes it."""
        return all(c.passed or c.pending for c in self.checks)


class _Peers(Mapping[str, Mapping[str, Any]]):
    """The exports rendered so far, found by any form of stack name the program references.

    A reference to a stack of the plan that has not been rendered yet (the
    backward references of the release order) reads no exports, as it would on
    a first ``pulumi up``; a reference to a stack outside the plan is recorded
    so the plan can refuse it.
    """

    def __init__(self, project: str, names: set[str], exports: Mapping[str, Mapping[str, Any]]):
        self.project = project
        self.names = names
        self.exports = exports
        self.unknown: list[str] = []

    def stack_of(self, reference: str) -> str | None:
        parts = reference.split("/")
        if len(parts) == 3 and parts[1] != self.project:
            return None
        return parts[-1] if parts[-1] in self.names else None

    def get(self, key: Any, default: Any = None) -> Mapping[str, Any]:
        stack = self.stack_of(str(key))
        if stack is None:
            self.unknown.append(str(key))
            return {}
        return self.exports.get(stack, {})

    def __getitem__(self, key: str) -> Mapping[str, Any]:
        return self.get(key)

    def __iter__(self) -> Iterator[str]:
        return iter(self.exports)

    def __len__(self) -> int:
        return len(self.exports)


def build_plan(directory: Path, stack_names: list[str] | None = None, facts_dir: Path | None = None, *,
               read_facts: bool = True) -> Plan:
    """Render the project's stacks in release order and check the result.

    Each stack's look-ups are answered from ``<facts_dir>/<stack>.json`` (default: ``facts/`` in the
    project directory) when that file exists; ``read_facts=False`` plans as if none existed.
    """
    started = time.perf_counter()
    project = load_project(Path(directory), stack_names)
    if not project.stacks:
        raise PlanInputError(f"{directory}: no Pulumi.<stack>.yaml file found — create the stacks' files or pass --cwd")
    if not (project.directory / "__main__.py").is_file():
        raise PlanInputError(
            f"__main__.py: not found in {project.directory}, which holds {PROJECT_FILE} but not the project's program "
            "— the plan runs the program: point --cwd at the project directory (the repository's root, holding "
            f"{PROJECT_FILE}, __main__.py and components/), with the Pulumi.<stack>.yaml files there")
    misplaced_keys(project)
    _refuse_references_outside_plan(project)
    # Stack files that do not describe one channel cannot be released: refuse them before rendering.
    crossstack.validate(project)
    try:
        facts = load_plan_facts(project, facts_dir) if read_facts else {}
    except FactsInputError as exc:
        raise PlanInputError(str(exc)) from None
    rendered_steps, planned, renders = _render_release(project, facts)
    plan = Plan(
        project=project.name,
        directory=project.directory,
        files={name: project.stacks[name].path.name for name in planned},
        stacks=planned,
        steps=rendered_steps,
        wiring=wiring(planned, project.name),
        elapsed_s=0.0,
        renders=renders,
        facts=facts,
        facts_read=read_facts,
    )
    results = run_checks(plan.stacks)
    if not all(r.passed for r in results):
        completions = []
        for completion_project, step, stack, switch_on in _completions(project):
            try:
                _, completed, _ = _render_release(completion_project, facts)
            except PlanInputError:
                break  # what the later step would render is refused: nothing is pending, it fails
            what = next(d for n, _, d in RELEASE_ORDER if n == step).removeprefix("again: ")
            completion = Completion(step=step, stack=stack, what=what, switch_on=switch_on, stacks=completed)
            completions.append((completion, run_checks(completed)))
        results = settle(results, completions)
    plan.checks = results
    plan.elapsed_s = time.perf_counter() - started
    return plan


def _render_release(
    project: Project, facts: Mapping[str, Facts],
) -> tuple[list[StepRender], dict[str, PlannedStack], list[tuple[str, RenderedStack]]]:
    """Every step of the release rendered in order, each stack's look-ups answered from its ``facts``: the
    steps, the last render of each stack (in release order), and every render as (stack, render)."""
    steps = deployment_steps(project)
    exports: dict[str, dict[str, Any]] = {}
    last: dict[str, RenderedStack] = {}
    rendered_steps: list[StepRender] = []
    renders: list[tuple[str, RenderedStack]] = []
    for step in steps:
        peers = _Peers(project.name, set(project.stacks), exports)
        rendered = _render(project, step, peers, facts)
        renders.append((step.stack, rendered))
        rendered_steps.append(_step_render(step, rendered, last.get(step.stack)))
        last[step.stack] = rendered
        exports[step.stack] = dict(rendered.exports)
    planned = {
        name: PlannedStack(
            name=name,
            role=project.stacks[name].role,
            account_id=str(project.stacks[name].config.get("accountId", rendered.exports.get("accountId", ""))),
            region=str(project.stacks[name].config.get("region", rendered.exports.get("region", ""))),
            # Parsed once, here: every check reads the stack's config from the model.
            config=crossstack.decoded(project.stacks[name].config),
            rendered=rendered,
            facts=facts.get(name),
        )
        for name, rendered in _in_release_order(last, steps)
    }
    return rendered_steps, planned, renders


def _completions(project: Project) -> list[tuple[Project, int, str, tuple[str, ...]]]:
    """The project as steps 3 and 5 of the release leave it: switched-off backward references switched on.

    Step 3 sets the network stack's ``iotStack`` to the plan's iot stack; step 5 (cumulative) sets
    ``consumers[i].stack`` of each entry whose account is the account of exactly one consumer stack
    of the plan. Nothing else changes. Returns (project, step, stack, the keys switched on) per step
    that switches something on.
    """
    iot = [s for s in project.stacks.values() if s.role == "iot"]
    if len(iot) != 1:
        return []
    iot_file = iot[0]
    organization = next(
        (r.value.split("/")[0] for s in project.stacks.values() for r in stack_references(s) if r.value.count("/") == 2),
        "organization",
    )

    def qualified(stack: str) -> str:
        return f"{organization}/{project.name}/{stack}"

    stacks = dict(project.stacks)
    completions = []
    switched: list[str] = []
    for name, stack_file in project.stacks.items():
        if stack_file.role == "network" and not stack_file.config.get("iotStack"):
            stacks[name] = dataclasses.replace(stack_file, config={**stack_file.config, "iotStack": qualified(iot_file.name)})
            switched.append(f"{stack_file.path.name}: iotStack = {qualified(iot_file.name)}")
    if switched:
        networks = [s for s in project.stacks.values() if s.role == "network"]
        completions.append((dataclasses.replace(project, stacks=dict(stacks)), 3, networks[0].name, tuple(switched)))
    consumers = [s for s in project.stacks.values() if s.role == "consumer"]
    entries = iot_file.config.get("consumers")
    if isinstance(entries, list):
        new_entries = []
        switched_consumers: list[str] = []
        for index, entry in enumerate(entries):
            if isinstance(entry, Mapping) and not entry.get("stack"):
                owners = [c for c in consumers if str(c.config.get("accountId")) == str(entry.get("accountId"))]
                if len(owners) == 1:
                    entry = {**entry, "stack": qualified(owners[0].name)}
                    switched_consumers.append(f"{iot_file.path.name}: consumers[{index}].stack = {entry['stack']}")
            new_entries.append(entry)
        if switched_consumers:
            stacks[iot_file.name] = dataclasses.replace(iot_file, config={**iot_file.config, "consumers": new_entries})
            # Cumulative: step 5 runs after step 3, so its plan has step 3's references on too.
            completions.append((dataclasses.replace(project, stacks=dict(stacks)), 5, iot_file.name,
                                tuple(switched_consumers)))
    return completions


def _in_release_order(last: Mapping[str, RenderedStack], steps: list[Step]) -> list[tuple[str, RenderedStack]]:
    seen = dict.fromkeys(step.stack for step in steps)
    return [(name, last[name]) for name in seen]


def _render(project: Project, step: Step, peers: _Peers, facts: Mapping[str, Facts]) -> RenderedStack:
    from pulumi.errors import RunError

    from components.config import ConfigError

    stack_file = project.stacks[step.stack]
    file_name = stack_file.path.name
    note = facts_note(facts, step.stack)
    try:
        rendered = render_stack(project.directory, step.stack, stack_file.config, project=project.name, peers=peers,
                                facts=facts.get(step.stack))
    except AwsRefusal as refusal:
        key = find_config_key(stack_file.config, refusal.value)
        raise PlanInputError(refusal_message(file_name, project.name, key, refusal, facts.get(step.stack),
                                             str(stack_file.config.get("accountId", "")))) from None
    except (RunError, ConfigError) as exc:
        _refuse_unknown_references(project, step.stack, peers)
        raise PlanInputError(f"{file_name}: {_one_line(str(exc))}{note}") from None
    except ValueError as exc:
        # Config validation outside components.config (the device-access proxy
        # settings) raises its own ValueError subclass.
        if type(exc).__module__.startswith("components."):
            _refuse_unknown_references(project, step.stack, peers)
            raise PlanInputError(f"{file_name}: configuration error: {_one_line(str(exc))}{note}") from None
        raise
    _refuse_unknown_references(project, step.stack, peers)
    return rendered


def _refuse_references_outside_plan(project: Project) -> None:
    """Before any render: every stack a stack's config references must be a stack of the plan.

    Read from the config, not from the renders, so the message names the real fix (a missing
    stack file, a stack left out of --stacks) rather than the program's "not exported yet".
    """
    for stack_file in project.stacks.values():
        for ref in stack_references(stack_file):
            parts = ref.value.split("/")
            if len(parts) == 3 and parts[1] != project.name:
                why = f"names project {parts[1]!r}, not this project {project.name!r} — point it at <org>/{project.name}/<stack>"
            elif ref.stack in project.stacks:
                continue
            elif (project.directory / f"Pulumi.{ref.stack}.yaml").is_file():
                selected = " ".join([*project.stacks, ref.stack])
                why = (f"names stack {ref.stack!r}, which --stacks leaves out of the plan — add it: "
                       f"--stacks {selected}")
            else:
                known = sorted(p.name[len("Pulumi."):-len(".yaml")] for p in project.directory.glob("Pulumi.*.yaml"))
                why = (f"names stack {ref.stack!r}, which is not in the plan: there is no Pulumi.{ref.stack}.yaml next to "
                       f"Pulumi.yaml — create it ('pulumi stack init {ref.stack}', then its config), or point the key "
                       f"at a stack of the project ({', '.join(known) or 'none found'})")
            raise PlanInputError(
                f"{stack_file.path.name}: key '{project.name}:{ref.key}': stack reference {ref.value!r} {why}"
            )


def _refuse_unknown_references(project: Project, stack: str, peers: _Peers) -> None:
    if not peers.unknown:
        return
    reference = peers.unknown[0]
    stack_file = project.stacks[stack]
    key = find_config_key(stack_file.config, reference) or "(a stack reference)"
    short = reference.rsplit("/", 1)[-1]
    parts = reference.split("/")
    if len(parts) == 3 and parts[1] != project.name:
        why = f"names project {parts[1]!r}, not this project {project.name!r}"
    else:
        why = f"names stack {short!r}, which is not in the plan (stacks: {', '.join(project.stacks)})"
    raise PlanInputError(
        f"{stack_file.path.name}: key '{project.name}:{key}': stack reference {reference!r} {why} — "
        f"add Pulumi.{short}.yaml (and name it in --stacks), or point the key at a stack of the plan"
    )


def find_config_key(config: Mapping[str, Any], value: str) -> str | None:
    """The config key path (``consumers[0].stack``) holding ``value``."""

    def walk(node: Any, path: str) -> str | None:
        if node == value:
            return path
        if isinstance(node, Mapping):
            for key, child in node.items():
                found = walk(child, f"{path}.{key}" if path else str(key))
                if found:
                    return found
        elif isinstance(node, list):
            for index, child in enumerate(node):
                found = walk(child, f"{path}[{index}]")
                if found:
                    return found
        return None

    return walk(dict(config), "")


def _ordered(resources) -> list[RenderedResource]:
    """Resources in a stable order: renders register them as their inputs resolve."""
    return sorted(resources, key=lambda r: (r.type, r.name))


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _step_render(step: Step, rendered: RenderedStack, previous: RenderedStack | None) -> StepRender:
    now = {r.urn: r for r in rendered.resources}
    before = {r.urn: r for r in previous.resources} if previous else {}
    added = _ordered(r for urn, r in now.items() if urn not in before) if previous else []
    removed = _ordered(r for urn, r in before.items() if urn not in now)
    return StepRender(
        number=step.number,
        stack=step.stack,
        role=step.role,
        description=step.description,
        resource_count=len(counted(rendered.resources)),
        added=tuple(f"{short_type(r.type)} {r.name}" for r in added),
        removed=tuple(f"{short_type(r.type)} {r.name}" for r in removed),
        logs=tuple(rendered.logs),
    )


def wiring(stacks: Mapping[str, PlannedStack], project: str) -> list[Wire]:
    """For each stack reference of each final render: every export it read, and where its value went."""
    wires: list[Wire] = []
    for target in stacks.values():
        carriers = _value_index(target.rendered.resources)
        own_values = set(_leaf_strings(target.config))
        for ref in target.rendered.resources:
            if ref.type != T_STACK_REFERENCE:
                continue
            reference = str(ref.state.get("name") or ref.id)
            source = _stack_of(reference, project, stacks)
            for export, value in _leaves(ref.state.get("outputs") or {}):
                if isinstance(value, str) and len(value) >= MIN_WIRED_VALUE_LENGTH:
                    used_by = tuple(carriers.get(value, ()))
                else:
                    used_by = ()
                wires.append(
                    Wire(
                        source=source or reference,
                        export=export,
                        value=value,
                        reference=reference,
                        target=target.name,
                        used_by=used_by,
                        in_own_config=isinstance(value, str) and value in own_values,
                    )
                )
    return wires


def _stack_of(reference: str, project: str, stacks: Mapping[str, PlannedStack]) -> str | None:
    parts = reference.split("/")
    if len(parts) == 3 and parts[1] != project:
        return None
    return parts[-1] if parts[-1] in stacks else None


def _leaves(value: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    if isinstance(value, Mapping):
        for key in sorted(value, key=str):
            text = str(key)
            # Host names as keys would read as nested paths.
            child = f"{path}[{text}]" if path and ("." in text or "/" in text) else (f"{path}.{text}" if path else text)
            yield from _leaves(value[key], child)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _leaves(item, f"{path}[{index}]")
    elif value is not None:
        yield path, value


def _leaf_strings(value: Any) -> Iterator[str]:
    for _, leaf in _leaves(value):
        if isinstance(leaf, str):
            yield leaf
        else:
            yield str(leaf)


def _value_index(resources: list[RenderedResource]) -> dict[str, list[str]]:
    """String input value -> the resource inputs that carry it (``ec2.Route name.destinationCidrBlock``)."""
    index: dict[str, list[str]] = {}
    for res in _ordered(resources):
        if res.type == T_STACK_REFERENCE or res.type.startswith("pulumi:providers:"):
            continue
        for path, leaf in _leaves(res.inputs):
            if isinstance(leaf, str):
                where = f"{short_type(res.type)} {res.name}.{path}"
                index.setdefault(leaf, [])
                if where not in index[leaf]:
                    index[leaf].append(where)
    return index


def counted(resources) -> list[RenderedResource]:
    """The resources a count reports: everything but Pulumi's own providers and stack references.

    Steps and account headers count the same set, so the last step of a stack shows the number
    its account header shows.
    """
    return [r for r in resources if not r.type.startswith("pulumi:")]
