"""Shared helpers (no tests here) for the plan, checks and diagram tests: the example plan and ways to break it."""

from __future__ import annotations

import copy
from pathlib import Path

from channelctl.plan.checks import PlannedStack
from benchmarks.plan_bench import copy_project  # noqa: F401  (one copy of the project layout for tests and benchmark)
from channelctl.plan.build import Plan, build_plan
from channelctl.plan.render import RenderedResource

ROOT = Path(__file__).resolve().parents[3]


def example_plan() -> Plan:
    return build_plan(ROOT)


def stacks_of(plan: Plan) -> dict[str, PlannedStack]:
    return copy.deepcopy(plan.stacks)


def resource(stacks: dict[str, PlannedStack], stack: str, name: str, type_: str | None = None) -> RenderedResource:
    """The resource of that name (names are unique per type only; pass the type where two share one)."""
    for res in stacks[stack].rendered.resources:
        if res.name == name and (type_ is None or res.type == type_) and not res.type.startswith("channel:"):
            return res
    raise KeyError(f"{stack}:{name}")


def resources_of(stacks: dict[str, PlannedStack], stack: str, type_: str) -> list[RenderedResource]:
    return [r for r in stacks[stack].rendered.resources if r.type == type_]


def remove(stacks: dict[str, PlannedStack], stack: str, name: str, type_: str | None = None) -> None:
    res = resource(stacks, stack, name, type_)
    stacks[stack].rendered.resources.remove(res)


def add(stacks: dict[str, PlannedStack], stack: str, type_: str, name: str, rid: str, inputs: dict,
        state: dict | None = None) -> None:
    stacks[stack].rendered.resources.append(
        RenderedResource(
            urn=f"urn:pulumi:{stack}::private-mqtt-channel::{type_}::{name}",
            type=type_, name=name, id=rid, inputs=inputs, state={"id": rid} | (state or {}), parent="", provider="",
            dependencies=[],
        )
    )


def failing(results) -> set[str]:
    return {r.name for r in results if not r.passed}
