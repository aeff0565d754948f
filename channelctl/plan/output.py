"""A plan as text (for a terminal, CI logs and pull requests) and as JSON (for tools and ``--compare``)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from channelctl.plan.build import Plan, Wire, _ordered, counted
from channelctl.plan.checks import short_type
from channelctl.plan.describe import device_access, important, resource_json, verdict
from channelctl.width import DEFAULT_WIDTH


# Logs of one step shown in the text output; the JSON output has them all.
MAX_NOTES_PER_STEP = 4

# The shape of to_json's output, described in docs/plan.schema.json: raised when a key changes
# meaning or goes away (added keys keep it).
SCHEMA_VERSION = 1


def to_json(plan: Plan, diagram: Path | None = None) -> dict[str, Any]:
    return {
        "schemaVersion": SCHEMA_VERSION,
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
                "facts": _facts_json(plan, s.name),
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
        "cost": _cost(plan).to_json(),
    }


def _cost(plan: Plan):
    """The plan's monthly cost estimate (channelctl.plan.cost), computed from its final renders."""
    from channelctl.plan.cost.estimate import estimate

    return estimate(plan.stacks)


def _facts_json(plan: Plan, stack: str) -> dict[str, Any] | None:
    facts = plan.facts.get(stack)
    if facts is None:
        return None
    return {
        "file": str(facts.path),
        "readAt": facts.to_json()["readAt"],
        "unknown": [name for name, fact in facts.facts.items() if not fact.known],
    }


# What the text says, near the top, of the facts the plan read (or did not).
DISCOVER_HINT = "read them with .venv/bin/channelctl discover STACK for each stack"
NO_FACTS_TEXT = ("the account-dependent figures (zones, where services are offered, quotas, account prerequisites) "
                 "are assumed from documented defaults, and each check's sources line says which; " + DISCOVER_HINT)


def facts_line(plan: Plan) -> str:
    """One line: the facts files the plan read, with their age and unknown facts, or that it read none."""
    if not plan.facts:
        why = "--no-facts" if not plan.facts_read else "no facts/<stack>.json found"
        return f"Facts from the accounts: none read ({why}) — {NO_FACTS_TEXT}"
    read = []
    for name in [n for n in plan.stacks if n in plan.facts]:
        facts = plan.facts[name]
        unknown = [n for n, fact in facts.facts.items() if not fact.known]
        read.append(f"{facts.path} ({facts.age_text()} old" + (f"; unknown: {', '.join(unknown)})" if unknown else ")"))
    missing = [name for name in plan.stacks if name not in plan.facts]
    text = f"Facts from the accounts: {', '.join(read)}"
    if missing:
        text += (f"; none for {', '.join(missing)}, whose account-dependent figures are assumed — run "
                 f".venv/bin/channelctl discover {missing[0] if len(missing) == 1 else 'STACK for each'}")
    return text


# An "adds" line of a step longer than this many lines gives way to its count (--verbose lists it).
MAX_ADDS_LINES = 2

# Where a word too long for a line of its own breaks: at a space inside it (a list item is one
# word), before a dot, after a slash, colon, comma or equals sign (host names, ARNs, input paths),
# and only failing those after a hyphen (inside a resource name).
_GOOD_BREAK_BEFORE, _GOOD_BREAK_AFTER, _POOR_BREAK_AFTER = " .", "/:,=", "-"
# Joins two words that no line break may separate ("value ->").
_GLUE = "\u00a0"
# What stands in for a list without --verbose, on one line.
VERBOSE_HINT = _GLUE.join(["(--verbose", "lists", "them)"])


def _fit_indent(indent: str, width: int) -> str:
    """At most half the width, so that even a narrow line has room for words."""
    return indent[: width // 2]


def _word_break(word: str, room: int) -> int:
    """Where ``word`` breaks to put at most ``room`` characters on this line: at the last good break
    that fills at least a quarter of it, else the last poor one, else at ``room`` itself."""
    good = poor = 0
    for at in range(1, min(room, len(word) - 1) + 1):
        if word[at] in _GOOD_BREAK_BEFORE or word[at - 1] in _GOOD_BREAK_AFTER:
            good = at
        elif word[at - 1] in _POOR_BREAK_AFTER:
            poor = at
    for at in (good, poor):
        if at > room // 4:
            return at
    return room


def _fill(words: list[str], width: int, indent: str, items_from: int | None = None) -> list[str]:
    """``words`` (the first one carrying the line's own indent) on lines of at most ``width``.

    Lines break between words, continuing at ``indent``. A word too long for a line of its own
    (an identifier, a list item) breaks inside (``_word_break``); it starts on the line before when
    a third of that line is still free. Items (the words from index ``items_from`` on) always start
    a line of their own and continue two columns deeper, apart from the next item.
    """
    items_from = len(words) if items_from is None else items_from
    first = words[0] if words else ""
    lead = _fit_indent(first[: len(first) - len(first.lstrip(" "))], width)
    indent = _fit_indent(indent, width)
    deeper = _fit_indent(indent + "  ", width)
    lines: list[str] = []
    line = lead
    for index, word in enumerate([first.lstrip(" "), *words[1:]]):
        sep = " " if line.strip() else ""
        if len(line) + len(sep) + len(word) <= width:
            line += sep + word
            continue
        if sep and (len(indent) + len(word) <= width or index >= items_from
                    or width - len(line) - 1 <= (width - len(indent)) // 3):
            lines.append(line)
            line, sep = indent, ""
        while len(line) + len(sep) + len(word) > width:
            at = _word_break(word, width - len(line) - len(sep))
            lines.append((line + sep + word[:at]).rstrip(" "))
            line, sep, word = deeper if index >= items_from else indent, "", word[at:].lstrip(" ")
        line += sep + word
    lines.append(line)
    return [text.replace(_GLUE, " ") for text in lines]


def _words(text: str) -> list[str]:
    """The words of ``text``, the first one keeping the line's indent."""
    lead, words = text[: len(text) - len(text.lstrip(" "))], [w for w in text.split(" ") if w]
    return [lead + words[0], *words[1:]] if words else [text]


def _text(text: str, width: int, indent: str) -> list[str]:
    """One line, or several broken at spaces when longer than ``width``."""
    return _fill(_words(text), width, indent)


def fit_lines(text: str, width: int, markers: tuple[str, ...] = ("- ",)) -> str:
    """``text`` (lines of another report: the comparison, its cost) with each line longer than
    ``width`` broken at spaces, continuing under its first word, past the first of ``markers`` (list
    marks, longest first) the line starts with."""
    out: list[str] = []
    for line in text.split("\n"):
        if len(line) <= width:
            out.append(line)
            continue
        body = line.lstrip(" ")
        marker = next((m for m in markers if body.startswith(m)), "")
        out.extend(_text(line, width, " " * (len(line) - len(body) + len(marker))))
    return "\n".join(out)


def _items(head: str, items: list[str], width: int, indent: str, tail: str = "") -> list[str]:
    """``head`` followed by comma-separated items, then ``tail``: lines break between items (an
    item, or the tail, breaks inside only when it does not fit a line of its own)."""
    words = _words(head)
    listed = [item + ("," if index < len(items) - 1 else "") for index, item in enumerate(items)]
    return _fill([*words, *listed, *([tail] if tail else [])], width, indent, items_from=len(words))


def _sources(sources: list[str], width: int) -> list[str]:
    """``sources:`` and where each figure came from, separated by semicolons; each source starts a line
    of its own when the line is full (a figure holds commas)."""
    words = _words("       sources:")
    listed = [item + (";" if index < len(sources) - 1 else "") for index, item in enumerate(sources)]
    return _fill([*words, *listed], width, " " * 9, items_from=len(words))


def _verdict_line(plan: Plan, width: int) -> list[str]:
    """The verdict, on one line at any sensible width: when it is wider than the text, the checks it
    names give way to "+N more" (the check lines above name them all)."""
    line = verdict(plan)
    if len(line) <= width:
        return [line]
    text, _, names = line.removesuffix(")").rpartition(" (")
    if text and line.endswith(")"):
        named = names.split(", ")
        for keep in range(len(named) - 1, 0, -1):
            shorter = f"{text} ({', '.join(named[:keep])}, +{len(named) - keep} more)"
            if len(shorter) <= width:
                return [shorter]
        line = text
    return _text(line, width, "  ")


def to_text(plan: Plan, diagram: Path | None = None, *, width: int = DEFAULT_WIDTH, verbose: bool = False) -> str:
    """The plan for a reader, in lines of at most ``width`` characters, the verdict last.

    Without ``verbose``, the lists a reviewer rarely reads (each account's resources by type, a
    step's long "adds" list, the exports no resource carries) are counted instead of listed.
    """
    out: list[str] = []
    accounts = {s.name: s.account_id for s in plan.stacks.values()}
    out += _text(f"Plan of {plan.project}: {len(plan.stacks)} stacks, {len(plan.steps)} steps, rendered offline "
                 f"in {plan.elapsed_s:.1f} s", width, "    ")
    out += _text(facts_line(plan), width, "    ")
    out.append("")
    out += _text("Release order", width, "  ")
    for step in plan.steps:
        change = ""
        if step.added or step.removed:
            change = f", +{len(step.added)} -{len(step.removed)} since its last step"
        out += _text(f"  {step.number}. {step.stack} (account {accounts.get(step.stack, '?')}): "
                     f"{step.resource_count} resources{change}", width, " " * 7)
        shown = Counter(a.split(" ", 1)[0] for a in step.added)
        if shown:
            adds = _items("       adds", [f"{t} x{n}" if n > 1 else t for t, n in shown.items()], width, " " * 12)
            if len(adds) > MAX_ADDS_LINES and not verbose:
                adds = _text(f"       adds {len(step.added)} resources: {len(shown)} types {VERBOSE_HINT}", width,
                             " " * 12)
            out += adds
        notes = [m for level, m in step.logs if level in ("info", "warn", "error")]
        for message in notes[:MAX_NOTES_PER_STEP]:
            out += _text(f"       note: {message}", width, " " * 13)
        if len(notes) > MAX_NOTES_PER_STEP:
            out += _text(f"       ({len(notes) - MAX_NOTES_PER_STEP} more notes in --format json)", width, " " * 8)
    for stack in plan.stacks.values():
        out.append("")
        out += _text(f"Account {stack.account_id}: stack {stack.name} (role {stack.role}, {stack.region}, "
                     f"{plan.files[stack.name]})", width, " " * 4)
        counts = Counter(short_type(r.type) for r in counted(stack.rendered.resources))
        if verbose:
            out += _items(f"  {sum(counts.values())} resources:", [f"{t} x{n}" for t, n in sorted(counts.items())],
                          width, " " * 4)
        else:
            out += _text(f"  {sum(counts.values())} resources: {len(counts)} types {VERBOSE_HINT}", width, " " * 4)
        access = device_access(stack)
        if access is not None:
            out += _text(f"  device access: {access}", width, " " * 4)
        for type_, name, description in important(stack):
            out += _text(f"  - {name}: {description}", width, " " * 4)
    out.append("")
    out += _text("Cross-account wiring (export -> reference -> resource inputs)", width, "  ")
    groups: dict[tuple[str, str, str], list[Wire]] = {}
    for wire in plan.wiring:
        groups.setdefault((wire.source, wire.target, wire.reference), []).append(wire)
    for (source, target, reference), wires in groups.items():
        out += _text(f"  {source} ({accounts.get(source, '?')}) -> {target} ({accounts.get(target, '?')}) "
                     f"via {reference}", width, " " * 6)
        unused = []
        for wire in wires:
            if wire.used_by:
                carriers = list(wire.used_by[:3]) + ([f"(+{len(wire.used_by) - 3})"] if len(wire.used_by) > 3 else [])
                own = "(same value in its own config)" if wire.in_own_config else ""
                out += _items(f"    {wire.export} = {wire.value}{_GLUE}->", carriers, width, " " * 8, tail=own)
            else:
                unused.append(wire.export)
        if unused and verbose:
            out += _items("    also exported, carried by no resource input:", unused, width, " " * 8)
        elif unused:
            out += _text(f"    also exported, carried by no resource input: {len(unused)} exports {VERBOSE_HINT}",
                         width, " " * 8)
    out.append("")
    from channelctl.plan.cost.text import cost_lines

    for index, line in enumerate(cost_lines(_cost(plan))):
        out += _text(line, width, "  " if index == 0 else " " * 6)
    out.append("")
    failed = [c for c in plan.checks if c.status == "FAIL"]
    pending = [c for c in plan.checks if c.status == "PENDING"]
    out += _text(f"Checks: {len(plan.checks) - len(failed) - len(pending)} passed, "
                 + (f"{len(pending)} pending, " if pending else "") + f"{len(failed)} failed", width, "  ")
    for check in plan.checks:
        if check.pending:
            out += _text(f"  PENDING {check.name}: completed by {check.pending}; until then:", width, " " * 7)
        else:
            out += _text(f"  {check.status} {check.name}: {check.detail}", width, " " * 7)
        if not check.passed:
            for problem in check.problems:
                out += _text(f"       - {problem}", width, " " * 9)
        if check.sources:
            out += _sources(list(check.sources), width)
        if check.resources:
            shown_resources = list(check.resources[:12])
            if len(check.resources) > 12:
                shown_resources.append(f"(+{len(check.resources) - 12} more)")
            out += _items("       resources:", shown_resources, width, " " * 9)
    if diagram is not None:
        out.append("")
        out += _text(f"Diagram: Mermaid flowchart of the channel written to {diagram}", width, " " * 4)
    out.append("")
    out += _verdict_line(plan, width)
    return "\n".join(out) + "\n"
