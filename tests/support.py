"""Helpers for tests that render the program on Pulumi's mocks."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml

from channelctl.plan.render import RenderedStack, render_stack

PROJECT_DIR = Path(__file__).resolve().parents[1]
PREFIX = "private-mqtt-channel:"


def FQ(stack: str) -> str:
    return f"acme/private-mqtt-channel/{stack}"


def example_config(stack: str) -> dict[str, Any]:
    data = yaml.safe_load((PROJECT_DIR / f"Pulumi.{stack}.yaml").read_text())
    return {k[len(PREFIX):]: copy.deepcopy(v) for k, v in data["config"].items() if k.startswith(PREFIX)}


def render(stack: str, config: dict[str, Any], peers: dict[str, dict] | None = None) -> RenderedStack:
    return render_stack(PROJECT_DIR, stack, config, peers=peers or {})


def render_chain(configs: dict[str, dict] | None = None) -> dict[str, RenderedStack]:
    """network -> iot -> network -> consumer -> iot, each fed the exports so far."""
    configs = configs or {s: example_config(s) for s in ("network", "iot", "consumer")}
    exports: dict[str, dict] = {}
    steps: dict[str, RenderedStack] = {}
    for label, stack in (("network-1", "network"), ("iot-1", "iot"), ("network-2", "network"),
                         ("consumer", "consumer"), ("iot-2", "iot")):
        rendered = render(stack, configs[stack], peers=dict(exports))
        exports[FQ(stack)] = rendered.exports
        steps[label] = rendered
    return steps


def open_rules(rendered: RenderedStack) -> list[str]:
    """Security-group rules that admit or reach the whole internet."""
    found = []
    for r in rendered.of_type("aws:ec2/securityGroup:SecurityGroup"):
        for direction in ("ingress", "egress"):
            for rule in r.inputs.get(direction) or []:
                if {"0.0.0.0/0", "::/0"} & (set(rule.get("cidrBlocks") or []) | set(rule.get("ipv6CidrBlocks") or [])):
                    found.append(f"{r.name} {direction} {int(rule.get('fromPort') or 0)}")
    return found


def broken(rendered: RenderedStack, resource_name: str, **changes) -> RenderedStack:
    """A deep copy with the named resource's inputs changed (None deletes)."""
    copy_ = copy.deepcopy(rendered)
    for r in copy_.resources:
        if r.name == resource_name:
            for key, value in changes.items():
                if value is None:
                    r.inputs.pop(key, None)
                else:
                    r.inputs[key] = value
            return copy_
    raise KeyError(resource_name)


def without(rendered: RenderedStack, name: str) -> RenderedStack:
    copy_ = copy.deepcopy(rendered)
    copy_.resources = [r for r in copy_.resources if r.name != name]
    return copy_


def on_wrong_provider(rendered: RenderedStack) -> list[str]:
    """AWS resources not on the stack's one explicit provider."""
    providers = [r for r in rendered.resources if r.type == "pulumi:providers:aws"]
    if len(providers) != 1:
        return [f"{len(providers)} aws providers"]
    ref = f"{providers[0].urn}::{providers[0].id}"
    return [r.name for r in rendered.resources if r.type.startswith("aws:") and r.provider != ref]
