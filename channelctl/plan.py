"""`channelctl plan`: every stack of the project rendered offline, wired, and checked.

The stacks are rendered in the release order (network, iot,
network again, each consumer, iot again) on Pulumi's mock runtime; each
render's exports feed the stack references of the renders after it, so the
last render of each stack is what the release leaves behind. The plan prints,
per account, what will exist there and which export feeds which reference,
then runs the checks of ``channelctl.checks`` over the final renders.

Exit codes: 0 every check passed, 1 a check failed, 2 bad input (a stack
file missing or malformed, a reference to a stack outside the plan, a
configuration the program refuses).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import textwrap
import time
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from channelctl.checks import (
    T_STACK_REFERENCE,
    CheckResult,
    PlannedStack,
    endpoint_kind,
    run_checks,
    short_type,
)
from channelctl import crossstack
from channelctl.checks.pending import Completion, settle
from channelctl.project import (
    RELEASE_ORDER,
    Project,
    ProjectError,
    Step,
    deployment_steps,
    load_project,
    misplaced_keys,
    stack_references,
)
from channelctl.render import RenderedResource, RenderedStack, render_stack

EXIT_OK = 0
EXIT_CHECK_FAILED = 1
EXIT_BAD_INPUT = 2

# Logs of one step shown in the text output; the JSON output has them all.
MAX_NOTES_PER_STEP = 4
# Export values shorter than this (flags, small numbers) say nothing about wiring.
MIN_WIRED_VALUE_LENGTH = 6


class PlanInputError(Exception):
    """The plan's input is wrong; the one-line message names the file and the key."""


# --------------------------------------------------------------------------- #
# The plan
# --------------------------------------------------------------------------- #


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


def build_plan(directory: Path, stack_names: list[str] | None = None) -> Plan:
    """Render the project's stacks in release order and check the result."""
    started = time.perf_counter()
    project = load_project(Path(directory), stack_names)
    if not project.stacks:
        raise PlanInputError(f"{directory}: no Pulumi.<stack>.yaml file found — create the stacks' files or pass --cwd")
    misplaced_keys(project)
    _refuse_references_outside_plan(project)
    # Stack files that do not describe one channel cannot be released: refuse them before rendering.
    crossstack.validate(project)
    rendered_steps, planned, renders = _render_release(project)
    plan = Plan(
        project=project.name,
        directory=project.directory,
        files={name: project.stacks[name].path.name for name in planned},
        stacks=planned,
        steps=rendered_steps,
        wiring=wiring(planned, project.name),
        elapsed_s=0.0,
        renders=renders,
    )
    results = run_checks(plan.stacks)
    if not all(r.passed for r in results):
        completions = []
        for completion_project, step, stack, switch_on in _completions(project):
            try:
                _, completed, _ = _render_release(completion_project)
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
    project: Project,
) -> tuple[list[StepRender], dict[str, PlannedStack], list[tuple[str, RenderedStack]]]:
    """Every step of the release rendered in order: the steps, the last render of each stack (in release
    order), and every render as (stack, render)."""
    steps = deployment_steps(project)
    exports: dict[str, dict[str, Any]] = {}
    last: dict[str, RenderedStack] = {}
    rendered_steps: list[StepRender] = []
    renders: list[tuple[str, RenderedStack]] = []
    for step in steps:
        peers = _Peers(project.name, set(project.stacks), exports)
        rendered = _render(project, step, peers)
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
            config=dict(project.stacks[name].config),
            rendered=rendered,
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


def _render(project: Project, step: Step, peers: _Peers) -> RenderedStack:
    from pulumi.errors import RunError

    from components.config import ConfigError

    stack_file = project.stacks[step.stack]
    file_name = stack_file.path.name
    try:
        rendered = render_stack(project.directory, step.stack, stack_file.config, project=project.name, peers=peers)
    except (RunError, ConfigError) as exc:
        _refuse_unknown_references(project, step.stack, peers)
        raise PlanInputError(f"{file_name}: {_one_line(str(exc))}") from None
    except ValueError as exc:
        # Config validation outside components.config (the device-access proxy
        # settings) raises its own ValueError subclass.
        if type(exc).__module__.startswith("components."):
            _refuse_unknown_references(project, step.stack, peers)
            raise PlanInputError(f"{file_name}: configuration error: {_one_line(str(exc))}") from None
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


# --------------------------------------------------------------------------- #
# Cross-account wiring
# --------------------------------------------------------------------------- #


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


# --------------------------------------------------------------------------- #
# What to show of each account
# --------------------------------------------------------------------------- #


def important(stack: PlannedStack) -> list[tuple[str, str, str]]:
    """(type, name, what it is) for the resources a reviewer looks for first."""
    rows: list[tuple[str, str, str]] = []
    order = list(_DESCRIBERS)
    for r in sorted(stack.rendered.resources, key=lambda r: (order.index(r.type) if r.type in order else 0, r.name)):
        describe = _DESCRIBERS.get(r.type)
        if describe is None:
            continue
        text = describe(r)
        if text is not None:
            rows.append((short_type(r.type), r.name, text))
    return rows


def _val(r: RenderedResource, key: str) -> Any:
    value = r.inputs.get(key)
    return r.state.get(key) if value is None else value


def _join(values: Any) -> str:
    return ", ".join(str(v) for v in values or []) or "-"


def _describe_endpoint(r: RenderedResource) -> str:
    service = _val(r, "serviceName")
    kind = endpoint_kind(service)
    ips = [c.get("ipv4") for c in _val(r, "subnetConfigurations") or [] if c.get("ipv4")]
    where = _join(ips) if ips else "IPs assigned by AWS"
    label = {"privatelink": "PrivateLink endpoint to"}.get(kind, "interface endpoint")
    return f"{label} {service} ({r.id}; {where}; private DNS {'on' if _val(r, 'privateDnsEnabled') else 'off'})"


_DESCRIBERS: dict[str, Any] = {
    "aws:ec2/vpc:Vpc": lambda r: f"VPC {_val(r, 'cidrBlock')} ({r.id})",
    "aws:ec2transitgateway/transitGateway:TransitGateway": lambda r: f"Transit Gateway {r.id}, ASN {_int(_val(r, 'amazonSideAsn'))}",
    "aws:ec2transitgateway/vpcAttachment:VpcAttachment": lambda r: f"TGW attachment {r.id} of {_val(r, 'vpcId')}",
    "aws:ec2transitgateway/vpcAttachmentAccepter:VpcAttachmentAccepter": lambda r: f"accepts TGW attachment {_val(r, 'transitGatewayAttachmentId')}",
    "aws:directconnect/gateway:Gateway": lambda r: f"Direct Connect gateway {r.id}, ASN {_val(r, 'amazonSideAsn')}",
    "aws:directconnect/gatewayAssociation:GatewayAssociation": lambda r: f"DX gateway <-> {_val(r, 'associatedGatewayId')}, allowed prefixes {_join(_val(r, 'allowedPrefixes'))}",
    "aws:directconnect/transitVirtualInterface:TransitVirtualInterface": lambda r: f"transit VIF on {_val(r, 'connectionId')}, VLAN {_int(_val(r, 'vlan'))}",
    "aws:route53/resolverEndpoint:ResolverEndpoint": lambda r: f"Resolver {str(_val(r, 'direction')).lower()} endpoint, IPs {_join(e.get('ip') for e in _val(r, 'ipAddresses') or [])}",
    "aws:ec2/vpcEndpoint:VpcEndpoint": lambda r: (
        _describe_endpoint(r)
        if endpoint_kind(_val(r, "serviceName")) != "other" and str(_val(r, "vpcEndpointType")).lower() == "interface"
        else None
    ),
    "aws:route53/zone:Zone": lambda r: f"private zone {_val(r, 'name')} ({r.id})",
    "aws:lb/loadBalancer:LoadBalancer": lambda r: f"{'internal' if _val(r, 'internal') else 'INTERNET-FACING'} {_val(r, 'loadBalancerType')} load balancer, IPs {_join(m.get('privateIpv4Address') for m in _val(r, 'subnetMappings') or [])}",
    "aws:lb/listener:Listener": lambda r: f"listener {_val(r, 'protocol')} {_int(_val(r, 'port'))}",
    "aws:ec2/vpcEndpointService:VpcEndpointService": lambda r: f"endpoint service {_val(r, 'serviceName')}, principals {_join(_val(r, 'allowedPrincipals'))}, acceptance {'required' if _val(r, 'acceptanceRequired') else 'automatic'}",
    "aws:ec2/vpcEndpointConnectionAccepter:VpcEndpointConnectionAccepter": lambda r: f"accepts endpoint {_val(r, 'vpcEndpointId')}",
    "aws:iot/policy:Policy": lambda r: "IoT policy for certificate devices",
    "aws:iot/authorizer:Authorizer": lambda r: f"IoT custom authorizer {_val(r, 'name')}",
    "aws:iot/domainConfiguration:DomainConfiguration": lambda r: f"IoT domain configuration {_val(r, 'domainName')}",
    "aws:lambda/function:Function": lambda r: f"Lambda function {_val(r, 'name') or r.name} ({_val(r, 'runtime')})",
    "aws:dynamodb/table:Table": lambda r: f"DynamoDB table {_val(r, 'name') or r.name}",
    "aws:autoscaling/group:Group": lambda r: f"Auto Scaling group, {_int(_val(r, 'minSize'))}-{_int(_val(r, 'maxSize'))} instances",
    "aws:ec2/instance:Instance": lambda r: f"EC2 instance {_val(r, 'instanceType')} ({r.id})",
}


def _int(value: Any) -> Any:
    try:
        return int(value)
    except (TypeError, ValueError):
        return value


# --------------------------------------------------------------------------- #
# Output
# --------------------------------------------------------------------------- #


def to_json(plan: Plan, diagram: Path | None = None) -> dict[str, Any]:
    return {
        "project": plan.project,
        "passed": plan.passed,
        "verdict": verdict(plan),
        "diagram": str(diagram) if diagram is not None else None,
        "elapsedSeconds": round(plan.elapsed_s, 3),
        "stacks": [
            {
                "name": s.name,
                "role": s.role,
                "accountId": s.account_id,
                "region": s.region,
                "file": plan.files[s.name],
                "resourceCounts": dict(sorted(Counter(short_type(r.type) for r in counted(s.rendered.resources)).items())),
                "deviceAccess": device_access(s),
                "important": [{"type": t, "name": n, "description": d} for t, n, d in important(s)],
                "resources": [resource_json(r) for r in _ordered(s.rendered.resources)],
                "exports": s.rendered.exports,
            }
            for s in plan.stacks.values()
        ],
        "steps": [
            {
                "number": step.number,
                "stack": step.stack,
                "role": step.role,
                "description": step.description,
                "resourceCount": step.resource_count,
                "added": list(step.added),
                "removed": list(step.removed),
                "logs": [{"level": level, "message": message} for level, message in step.logs],
            }
            for step in plan.steps
        ],
        "wiring": [
            {
                "from": w.source,
                "export": w.export,
                "value": w.value,
                "reference": w.reference,
                "to": w.target,
                "usedBy": list(w.used_by),
                "alsoInOwnConfig": w.in_own_config,
            }
            for w in plan.wiring
        ],
        "checks": [c.to_json() for c in plan.checks],
    }


# Longest line of the text output: plan.txt is read in CI logs and pull-request artifacts.
MAX_LINE = 160


def counted(resources) -> list[RenderedResource]:
    """The resources a count reports: everything but Pulumi's own providers and stack references.

    Steps and account headers count the same set, so the last step of a stack shows the number
    its account header shows.
    """
    return [r for r in resources if not r.type.startswith("pulumi:")]


def _items(head: str, items: list[str], indent: str) -> list[str]:
    """``head`` followed by comma-separated items, wrapped at MAX_LINE between items."""
    lines: list[str] = []
    line = head
    for index, item in enumerate(items):
        piece = item + ("," if index < len(items) - 1 else "")
        candidate = f"{line} {piece}" if line.strip() else f"{line}{piece}"
        if len(candidate) > MAX_LINE and line.strip() and line != indent:
            lines.append(line)
            line = f"{indent}{piece}"
        else:
            line = candidate
    lines.append(line)
    return [wrapped for text in lines for wrapped in _text(text, indent)]


def _text(text: str, indent: str) -> list[str]:
    """One line, or several at word boundaries when longer than MAX_LINE."""
    if len(text) <= MAX_LINE:
        return [text]
    first_indent = text[: len(text) - len(text.lstrip())]
    return textwrap.wrap(
        text.strip(), width=MAX_LINE, initial_indent=first_indent, subsequent_indent=indent,
        break_on_hyphens=False, break_long_words=True,
    )


def device_access(stack: PlannedStack) -> str | None:
    """How devices reach the custom domain, for an iot stack: the mode and its family ports."""
    if stack.role != "iot":
        return None
    mode = stack.rendered.exports.get("deviceAccessMode")
    if not mode:
        return "none (no deviceAccess: devices use the iot.data endpoints on 8883/443 only)"
    families = (stack.config.get("deviceAccess") or {}).get("families") or []
    ports = ", ".join(f"{f.get('name')} on {f.get('port')}" for f in families if isinstance(f, Mapping))
    how = {
        "tls-proxy": "NLB TLS listeners -> proxy fleet -> iot.data :443 with ALPN mqtt and SNI",
        "tcp-passthrough": "NLB TCP listeners -> iot.data :443, the devices' own TLS",
        "direct": "the custom domain resolves to the iot.data endpoint IPs",
    }.get(str(mode), "")
    return f"{mode}" + (f" ({how})" if how else "") + (f"; families {ports}" if ports else "")


def verdict(plan: Plan) -> str:
    """The plan's one-line verdict, the last line of the text output."""
    failed = [c.name for c in plan.checks if c.status == "FAIL"]
    if failed:
        return f"FAIL: {len(failed)} of {len(plan.checks)} checks failed ({', '.join(failed)})"
    pending = [c for c in plan.checks if c.pending]
    if pending:
        steps = sorted({c.pending.split(" (", 1)[0] for c in pending}, key=lambda s: int(s.split()[1]))
        return (f"PASS: {len(plan.checks) - len(pending)} of {len(plan.checks)} checks passed, {len(pending)} pending "
                f"until {' and '.join(steps)} of the release ({', '.join(c.name for c in pending)})")
    return f"PASS: all {len(plan.checks)} checks passed"


def resource_json(r: RenderedResource) -> dict[str, Any]:
    """A resource as ``--format json`` shows it: with the inputs and options ``plan --compare`` reads."""
    return {
        "type": r.type,
        "name": r.name,
        "id": r.id,
        "urn": r.urn,
        "parent": r.parent,
        "provider": r.provider,
        "inputs": _jsonable(r.inputs),
        "options": r.options,
        # What other resources' inputs carry of it, computed by the provider (not an input
        # echoed back, like a record's zoneId): a replacement changes these.
        "outputs": {k: r.state[k] for k in _REFERENCED_OUTPUTS if isinstance(r.state.get(k), str) and k not in r.inputs},
    }


_REFERENCED_OUTPUTS = ("arn", "zoneId", "serviceName", "dnsName")


def _jsonable(value: Any) -> Any:
    """Inputs as JSON; an asset or archive as the SHA-256 of its content, so that a copy of the
    project elsewhere (the base branch's checkout) compares equal."""
    import hashlib

    import pulumi

    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, pulumi.AssetArchive):
        return {"archive": {k: _jsonable(v) for k, v in sorted(value.assets.items())}}
    if isinstance(value, pulumi.FileAsset):
        try:
            return {"sha256": hashlib.sha256(Path(value.path).read_bytes()).hexdigest()}
        except OSError:
            return {"file": str(value.path)}
    if isinstance(value, pulumi.StringAsset):
        return {"sha256": hashlib.sha256(value.text.encode()).hexdigest()}
    if isinstance(value, (pulumi.Asset, pulumi.Archive)):
        return {"asset": type(value).__name__, "path": str(getattr(value, "path", getattr(value, "uri", "")))}
    return value


def to_text(plan: Plan, diagram: Path | None = None) -> str:
    out: list[str] = []
    accounts = {s.name: s.account_id for s in plan.stacks.values()}
    out.append(f"Plan of {plan.project}: {len(plan.stacks)} stacks, {len(plan.steps)} steps, rendered offline "
               f"in {plan.elapsed_s:.1f} s")
    out.append("")
    out.append("Release order")
    for step in plan.steps:
        change = ""
        if step.added or step.removed:
            change = f", +{len(step.added)} -{len(step.removed)} since its last step"
        out.append(f"  {step.number}. {step.stack} (account {accounts.get(step.stack, '?')}): "
                   f"{step.resource_count} resources{change}")
        shown = Counter(a.split(" ", 1)[0] for a in step.added)
        if shown:
            out += _items("       adds", [f"{t} x{n}" if n > 1 else t for t, n in shown.items()], " " * 12)
        notes = [m for level, m in step.logs if level in ("info", "warn", "error")]
        for message in notes[:MAX_NOTES_PER_STEP]:
            out += _text(f"       note: {message}", " " * 13)
        if len(notes) > MAX_NOTES_PER_STEP:
            out.append(f"       ({len(notes) - MAX_NOTES_PER_STEP} more notes in --format json)")
    for stack in plan.stacks.values():
        out.append("")
        out.append(f"Account {stack.account_id}: stack {stack.name} (role {stack.role}, {stack.region}, "
                   f"{plan.files[stack.name]})")
        counts = Counter(short_type(r.type) for r in counted(stack.rendered.resources))
        out += _items(f"  {sum(counts.values())} resources:", [f"{t} x{n}" for t, n in sorted(counts.items())],
                      " " * 4)
        access = device_access(stack)
        if access is not None:
            out += _text(f"  device access: {access}", " " * 4)
        for type_, name, description in important(stack):
            out += _text(f"  - {name}: {description}", " " * 4)
    out.append("")
    out.append("Cross-account wiring (export -> reference -> resource inputs)")
    groups: dict[tuple[str, str, str], list[Wire]] = {}
    for wire in plan.wiring:
        groups.setdefault((wire.source, wire.target, wire.reference), []).append(wire)
    for (source, target, reference), wires in groups.items():
        out.append(f"  {source} ({accounts.get(source, '?')}) -> {target} ({accounts.get(target, '?')}) "
                   f"via {reference}")
        unused = []
        for wire in wires:
            if wire.used_by:
                carriers = list(wire.used_by[:3]) + ([f"(+{len(wire.used_by) - 3})"] if len(wire.used_by) > 3 else [])
                own = " (same value in its own config)" if wire.in_own_config else ""
                carriers[-1] += own
                out += _items(f"    {wire.export} = {wire.value} ->", carriers, " " * 8)
            else:
                unused.append(wire.export)
        if unused:
            out += _items("    also exported, carried by no resource input:", unused, " " * 8)
    out.append("")
    failed = [c for c in plan.checks if c.status == "FAIL"]
    pending = [c for c in plan.checks if c.status == "PENDING"]
    out.append(f"Checks: {len(plan.checks) - len(failed) - len(pending)} passed, "
               + (f"{len(pending)} pending, " if pending else "") + f"{len(failed)} failed")
    for check in plan.checks:
        if check.pending:
            out += _text(f"  PENDING {check.name}: completed by {check.pending}; until then:", " " * 7)
        else:
            out += _text(f"  {check.status} {check.name}: {check.detail}", " " * 7)
        if not check.passed:
            for problem in check.problems:
                out += _text(f"       - {problem}", " " * 9)
        if check.resources:
            shown = list(check.resources[:12])
            if len(check.resources) > 12:
                shown.append(f"(+{len(check.resources) - 12} more)")
            out += _items("       resources:", shown, " " * 9)
    if diagram is not None:
        out.append("")
        out += _text(f"Diagram: Mermaid flowchart of the channel written to {diagram}", " " * 4)
    out.append("")
    out.append(verdict(plan))
    return "\n".join(out) + "\n"


# --------------------------------------------------------------------------- #
# Command
# --------------------------------------------------------------------------- #


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "plan",
        help="render every stack offline, show what each account gets, and prove the channel private",
        description=(
            "Render the project's stacks offline on Pulumi's mock runtime in release order, feeding each "
            "stack's exports to the next stack's references; print each account's resources and the "
            "cross-account wiring, and check the channel. Exit 0: all checks passed; 1: a check failed; "
            "2: bad input."
        ),
    )
    parser.add_argument("--cwd", type=Path, default=Path("."), help="the Pulumi project directory (default: .)")
    parser.add_argument("--stacks", nargs="+", metavar="STACK", help="stacks to plan (default: every Pulumi.<stack>.yaml)")
    parser.add_argument("--format", choices=("text", "json"), default="text", help="output format (default: text)")
    parser.add_argument("--diagram", type=Path, metavar="PATH", help="also write a Mermaid flowchart of the channel")
    from channelctl import deployer_policy

    deployer_policy.add_arguments(parser)
    parser.add_argument(
        "--compare", type=Path, metavar="OLD.json",
        help="print what changes against an earlier `plan --format json` (added, changed in place, replaced, "
             "deleted) and whether each change is safe, disruptive or refused by AWS; exit 1 unless all are safe",
    )
    parser.add_argument("--allow-disruptive", action="store_true",
                        help="with --compare: exit 0 for disruptive changes (never for refused ones)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from channelctl import compare

    old, load_s = None, 0.0
    try:
        if getattr(args, "compare", None) is not None:
            started = time.perf_counter()
            old = compare.load_plan_json(args.compare)
            load_s = time.perf_counter() - started
        plan = build_plan(args.cwd, args.stacks)
    except (ProjectError, PlanInputError, compare.CompareInputError) as exc:
        print(f"channelctl plan: {_one_line(str(exc))}", file=sys.stderr)
        return EXIT_BAD_INPUT
    if args.deployer_policy is not None or args.read_only:
        from channelctl.deployer_policy import print_policies

        return print_policies(plan, args.deployer_policy, read_only=args.read_only)
    if args.diagram is not None:
        from channelctl.diagram import render_mermaid

        try:
            args.diagram.write_text(render_mermaid(plan.stacks), encoding="utf-8")
        except OSError as exc:
            print(f"channelctl plan: --diagram {args.diagram}: cannot write ({exc.strerror}) — pick a writable path",
                  file=sys.stderr)
            return EXIT_BAD_INPUT
    if old is not None:
        return _run_compare(args, plan, old, load_s)
    if args.format == "json":
        json.dump(to_json(plan, args.diagram), sys.stdout, indent=2, default=str)
        sys.stdout.write("\n")
    else:
        sys.stdout.write(to_text(plan, args.diagram))
    return EXIT_OK if plan.passed else EXIT_CHECK_FAILED


def _run_compare(args: argparse.Namespace, plan: Plan, old, load_s: float) -> int:
    from channelctl import compare

    started = time.perf_counter()
    try:
        comparison = compare.compare(old, compare.plan_resources(plan.stacks), old_file=str(args.compare))
    except compare.CompareInputError as exc:
        print(f"channelctl plan: {_one_line(str(exc))}", file=sys.stderr)
        return EXIT_BAD_INPUT
    comparison.checks_passed = plan.passed
    allow = bool(args.allow_disruptive)
    if args.format == "json":
        data = compare.to_json(comparison, allow_disruptive=allow)
        data["planSeconds"] = round(plan.elapsed_s, 3)
        # Reading OLD and comparing: what --compare adds to the plan.
        data["compareSeconds"] = round(load_s + time.perf_counter() - started, 3)
        json.dump(data, sys.stdout, indent=2, default=str)
        sys.stdout.write("\n")
    else:
        sys.stdout.write(compare.to_text(comparison, allow_disruptive=allow))
    return comparison.exit_code(allow_disruptive=allow)
