"""A plan as text (for a terminal, CI logs and pull requests) and as JSON (for tools and ``--compare``)."""

from __future__ import annotations

import textwrap
from collections import Counter
from pathlib import Path
from typing import Any

from channelctl.plan.build import Plan, Wire, _ordered, counted
from channelctl.plan.checks import short_type
from channelctl.plan.describe import device_access, important, resource_json, verdict


# Logs of one step shown in the text output; the JSON output has them all.
MAX_NOTES_PER_STEP = 4


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
