"""Where each account-dependent figure of a check came from: read from a facts file (named, with its
age) or assumed (a documented default, with why and how to read the real one).

A check asks the stack's ``AccountWorld`` (``channelctl.plan.world``) — the same answers the renderer
gave the program — and records one line per figure with ``Findings.source``:

    read: facts/iot.json (3 h old): IoT Core connect quota 3,000/s
    assumed: Lambda concurrency quota 1,000 (AWS default; run channelctl discover iot)
"""

from __future__ import annotations

from channelctl.plan.checks.model import PlannedStack
from channelctl.plan.world import NO_FACTS, Answer, AccountWorld


def world(stack: PlannedStack) -> AccountWorld:
    """The stack's account as the render saw it."""
    return AccountWorld(stack.account_id, stack.region, stack.facts)


def facts_file(stack: PlannedStack) -> str:
    """``facts/iot.json (3 h old)``; only for a stack with facts."""
    facts = stack.facts
    if facts is None:
        return f"no facts for {stack.name}"
    return f"{facts.path if facts.path is not None else f'facts of {stack.name}'} ({facts.age_text()} old)"


def discover_hint(stack: PlannedStack) -> str:
    return f"run channelctl discover {stack.name}"


def read(stack: PlannedStack, figure: str) -> str:
    return f"read: {facts_file(stack)}: {figure}"


def assumed(stack: PlannedStack, figure: str, default: str, why: str = NO_FACTS) -> str:
    """``assumed: <figure> (<default>[; <facts file>: <why>]; run channelctl discover <stack>)``."""
    missing = f"; {stack.facts.path}: {why}" if stack.facts is not None and why != NO_FACTS else ""
    return f"assumed: {figure} ({default}{missing}; {discover_hint(stack)})"


def answer_line(stack: PlannedStack, answer: Answer, figure: str, default: str) -> str:
    """The line for one answer of the stack's world: read, or assumed with ``default`` and why."""
    return read(stack, figure) if answer.read else assumed(stack, figure, default, answer.why)


# What the default world is, as a sources line says it was assumed.
DEFAULT_ZONES = "AZ names rotated per account, the default world"
DEFAULT_SERVICE_ZONES = "AWS services in zone IDs az1-az3, the default world"
DEFAULT_ENDPOINT_SERVICE_ZONES = "its NLBs' zones, named as this account names them"


def zones_line(stack: PlannedStack, names: list[str] | None = None) -> str:
    """Where the stack's zone names and IDs came from; ``names`` picks the zones the stack uses."""
    account = world(stack)
    answer = account.zones()
    wanted = [(n, i) for n, i in answer.value if names is None or n in names]
    figure = f"zones of account {stack.account_id}: " + ", ".join(f"{n} = {i}" for n, i in wanted)
    return answer_line(stack, answer, figure, DEFAULT_ZONES)


def service_zones_line(stack: PlannedStack, service: str, zone_ids: list[str] | None = None) -> str:
    """Where the zones offering ``service`` to the stack's account came from."""
    answer = world(stack).service_zones(service, zone_ids)
    figure = f"{service} offered in {', '.join(answer.value) or 'no zone'}"
    return answer_line(stack, answer, figure, DEFAULT_SERVICE_ZONES if zone_ids is None
                       else DEFAULT_ENDPOINT_SERVICE_ZONES)


def grouped(items: list[tuple[PlannedStack, Answer, str, str]]) -> list[str]:
    """The lines for several figures, (stack, answer, figure, default) each: the figures read from one
    facts file on one line, those assumed for one stack with one reason on another."""
    read_figures: dict[str, tuple[PlannedStack, list[str]]] = {}
    assumed_figures: dict[tuple[str, str, str], tuple[PlannedStack, list[str]]] = {}
    for stack, answer, figure, default in items:
        if answer.read:
            read_figures.setdefault(stack.name, (stack, []))[1].append(figure)
        else:
            assumed_figures.setdefault((stack.name, default, answer.why), (stack, []))[1].append(figure)
    lines = [read(stack, ", ".join(dict.fromkeys(figures))) for stack, figures in read_figures.values()]
    lines += [assumed(stack, ", ".join(dict.fromkeys(figures)), default, why)
              for (_, default, why), (stack, figures) in assumed_figures.items()]
    return lines
