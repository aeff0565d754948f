"""Reading a base plan of another shape for `channelctl plan --compare`.

The base plan of a pull request is rendered by the base branch's own channelctl, so on the
first pull request after the plan's JSON changes shape it is written in the earlier shape:
resources without ``inputs`` (and without ``urn``, ``options`` or ``outputs``) before
`--compare` existed, or a ``schemaVersion`` newer than this channelctl knows. Rather than
refuse the comparison, this module compares what the base can tell and says what it cannot:

- a resource without inputs is matched with the new plan's by URN, else by stack, type and
  name (a plan without URNs); matched, it is taken as unchanged and listed as not compared;
  unmatched, it is deleted, and what it held (names, IPs, answers) is unknown;
- a base whose ``schemaVersion`` this channelctl does not know is compared by which
  resources exist only: its inputs may mean something else.

Everything the base cannot tell goes into ``BaseGaps.notes``, printed with the comparison.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from channelctl.plan.compare import CompareInputError, Resource, resources_of_plan
from channelctl.plan.output import SCHEMA_VERSION as PLAN_SCHEMA_VERSION

# What a plan written before `--compare` existed carries per resource (type, name, id).
_REQUIRED = ("type", "name")


@dataclass
class BaseGaps:
    """What the base plan could not tell, per stack: resources whose inputs it lacks."""

    where: str
    reason: str = ""
    """Why inputs were not compared: empty when every resource of the base carries them."""
    uncompared: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    """stack -> (type, name) of each base resource without inputs."""
    matched: dict[str, int] = field(default_factory=dict)
    """stack -> how many of those the new plan has too (taken as unchanged)."""
    unmatched: dict[str, list[str]] = field(default_factory=dict)
    """stack -> labels of base resources without inputs the new plan no longer has (deleted)."""

    @property
    def complete(self) -> bool:
        return not any(self.uncompared.values())

    @property
    def notes(self) -> list[str]:
        """One line per stack with resources the comparison could not judge, and why."""
        if self.complete:
            return []
        lines = []
        for stack, resources in self.uncompared.items():
            if not resources:
                continue
            line = (f"stack {stack}: {len(resources)} resources of the base not compared input by input "
                    f"({self.reason}); "
                    f"{self.matched.get(stack, 0)} the new plan also has are taken as unchanged (changes in place "
                    f"and replacements of them are not seen)")
            gone = self.unmatched.get(stack, [])
            if gone:
                line += (f"; {len(gone)} deleted, whose names, addresses and answers are unknown (what they held "
                         f"cannot be refused or reported as disruptive)")
            lines.append(line)
        lines.append(f"added resources are compared with nothing the base held: a collision with a base resource "
                     f"without inputs is not seen — render {self.where} again with this channelctl "
                     f"(`channelctl plan --format json`) for a full comparison")
        return lines


class BasePlan(dict):
    """stack -> resources of the base plan (what ``compare.compare`` takes), with its gaps."""

    gaps: BaseGaps


def load_base(path: Path) -> BasePlan:
    """The base plan at ``path``; bad input raises ``CompareInputError`` (exit 2)."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise CompareInputError(f"--compare {path}: cannot read ({exc.strerror}) — give the file an earlier "
                                "`channelctl plan --format json` wrote") from None
    except json.JSONDecodeError as exc:
        raise CompareInputError(f"--compare {path}: not JSON ({exc.msg} at line {exc.lineno}) — give the output of "
                                "`channelctl plan --format json`") from None
    return read_base(data, str(path))


def read_base(data: Any, where: str) -> BasePlan:
    """The base plan's resources; those without inputs (or of an unknown schema) are kept without them."""
    if not isinstance(data, Mapping) or not isinstance(data.get("stacks"), list):
        raise CompareInputError(f"--compare {where}: no 'stacks' list — give the output of "
                                "`channelctl plan --format json`")
    version = data.get("schemaVersion")
    newer = isinstance(version, int) and version > PLAN_SCHEMA_VERSION
    full = not newer and all(
        isinstance(raw, Mapping) and "inputs" in raw and "urn" in raw
        for stack in data["stacks"] if isinstance(stack, Mapping)
        for raw in (stack.get("resources") if isinstance(stack.get("resources"), list) else [None])
    )
    if full:
        plan = BasePlan(resources_of_plan(data, where))
        plan.gaps = BaseGaps(where=where)
        return plan
    reason = (f"its schemaVersion {version} is newer than this channelctl's {PLAN_SCHEMA_VERSION}, so its inputs "
              "may mean something else" if newer else "they carry no inputs: an earlier channelctl wrote it")
    plan = BasePlan()
    plan.gaps = BaseGaps(where=where, reason=reason)
    for stack in data["stacks"]:
        name = stack.get("name") if isinstance(stack, Mapping) else None
        if not name or not isinstance(stack.get("resources"), list):
            raise CompareInputError(f"--compare {where}: a stack without 'name' or 'resources' — give the output of "
                                    "`channelctl plan --format json`")
        resources, uncompared = [], []
        for raw in stack["resources"]:
            if not isinstance(raw, Mapping) or any(not isinstance(raw.get(k), str) for k in _REQUIRED):
                raise CompareInputError(f"--compare {where}: stack {name!r}: a resource without 'type' or 'name' — "
                                        "give the output of `channelctl plan --format json`")
            if "inputs" in raw and "urn" in raw and not newer:
                resources.append(resources_of_plan({"stacks": [{"name": name, "resources": [raw]}]}, where)[name][0])
                continue
            uncompared.append((raw["type"], raw["name"]))
            resources.append(Resource(stack=name, type=raw["type"], name=raw["name"], urn=str(raw.get("urn") or ""),
                                      id=str(raw.get("id") or ""), inputs={}, options={}))
        plan[name] = resources
        plan.gaps.uncompared[name] = uncompared
    return plan


def align(base: Mapping[str, list[Resource]], new: Mapping[str, list[Resource]]) -> dict[str, list[Resource]]:
    """The base with each resource it has no inputs for taken from the new plan (unchanged, by
    URN or else by type and name), so the comparison judges only what the base can tell.

    Records in ``base.gaps`` (a ``BasePlan``) what was matched and what was not."""
    gaps = getattr(base, "gaps", None)
    if gaps is None or gaps.complete:
        return dict(base)
    aligned: dict[str, list[Resource]] = {}
    for stack, resources in base.items():
        missing = set(gaps.uncompared.get(stack, []))
        now = new.get(stack, [])
        by_urn = {r.urn: r for r in now}
        by_name: dict[tuple[str, str], list[Resource]] = {}
        for r in now:
            by_name.setdefault((r.type, r.name), []).append(r)
        kept, matched, gone = [], 0, []
        for res in resources:
            if (res.type, res.name) not in missing:
                kept.append(res)
                continue
            if res.urn:
                twin = by_urn.get(res.urn)
            else:
                candidates = by_name.get((res.type, res.name), [])
                twin = candidates[0] if len(candidates) == 1 else None
            if twin is None:
                gone.append(res.label)
                # Matched by nothing: deleted. Without a URN, one that cannot clash with a new one.
                kept.append(res if res.urn else replace(res, urn=f"base::{stack}::{res.type}::{res.name}"))
                continue
            matched += 1
            kept.append(replace(twin))
        aligned[stack] = kept
        gaps.matched[stack] = matched
        gaps.unmatched[stack] = gone
    return aligned


def notes_text(gaps: BaseGaps | None) -> str:
    """The text section listing what was not compared, or nothing."""
    if gaps is None or gaps.complete:
        return ""
    return "\nNot compared (the base plan cannot tell):\n" + "".join(f"  - {line}\n" for line in gaps.notes)
