"""A small evaluator of CloudWatch Logs JSON filter patterns, for the forms this project uses.

CloudWatch Logs user guide, "Filter pattern syntax for metric filters, subscription filters, and
filter log events" (JSON log events): a pattern is ``{ <expression> }``; an expression compares a
selector (``$.eventType``, ``$.a.b``) with ``=`` or ``!=`` to a quoted string (``*`` is a
wildcard) or a number (``=``, ``!=``, ``<``, ``<=``, ``>``, ``>=``), and combines comparisons with
``&&`` and ``||`` and parentheses. A selector that names no field never matches ``=``.

Anything outside that subset is refused (``FilterSyntaxError``) rather than guessed at, so a check
that evaluates a pattern never passes on a pattern it did not understand.
"""

from __future__ import annotations

import fnmatch
import json
import re
from typing import Any

_TOKEN = re.compile(
    r'\s*(?:(?P<lparen>\()|(?P<rparen>\))|(?P<and>&&)|(?P<or>\|\|)'
    r'|(?P<op>!=|<=|>=|=|<|>)|(?P<selector>\$(?:\.[A-Za-z0-9_]+)+)'
    r'|(?P<string>"(?:[^"\\]|\\.)*")|(?P<number>-?\d+(?:\.\d+)?))'
)


class FilterSyntaxError(ValueError):
    """The pattern is not a JSON filter pattern of the supported subset."""


def _tokens(body: str) -> list[tuple[str, str]]:
    tokens, pos = [], 0
    while pos < len(body):
        if body[pos:].strip() == "":
            break
        m = _TOKEN.match(body, pos)
        if not m or m.end() == pos:
            raise FilterSyntaxError(f"unexpected text at {body[pos:pos + 20]!r}")
        kind = m.lastgroup or ""
        tokens.append((kind, m.group(kind)))
        pos = m.end()
    return tokens


class _Parser:
    def __init__(self, tokens: list[tuple[str, str]]):
        self.tokens, self.i = tokens, 0

    def peek(self) -> str | None:
        return self.tokens[self.i][0] if self.i < len(self.tokens) else None

    def take(self, kind: str) -> str:
        if self.peek() != kind:
            raise FilterSyntaxError(f"expected {kind}, found {self.tokens[self.i][1] if self.peek() else 'the end'}")
        self.i += 1
        return self.tokens[self.i - 1][1]

    def expression(self):
        left = self.conjunction()
        while self.peek() == "or":
            self.take("or")
            right = self.conjunction()
            left = ("or", left, right)
        return left

    def conjunction(self):
        left = self.term()
        while self.peek() == "and":
            self.take("and")
            right = self.term()
            left = ("and", left, right)
        return left

    def term(self):
        if self.peek() == "lparen":
            self.take("lparen")
            inner = self.expression()
            self.take("rparen")
            return inner
        selector = self.take("selector")
        op = self.take("op")
        if self.peek() == "string":
            raw = self.take("string")
            if op not in ("=", "!="):
                raise FilterSyntaxError(f"strings compare with = or != only, not {op}")
            return ("cmp", selector, op, json.loads(raw))
        return ("cmp", selector, op, float(self.take("number")))


def parse(pattern: str):
    text = pattern.strip()
    if not (text.startswith("{") and text.endswith("}")):
        raise FilterSyntaxError("a JSON filter pattern is enclosed in { }")
    parser = _Parser(_tokens(text[1:-1]))
    tree = parser.expression()
    if parser.peek() is not None:
        raise FilterSyntaxError(f"unexpected {parser.tokens[parser.i][1]!r}")
    return tree


def _select(event: Any, selector: str) -> tuple[bool, Any]:
    value = event
    for part in selector[2:].split("."):
        if not isinstance(value, dict) or part not in value:
            return False, None
        value = value[part]
    return True, value


def _evaluate(tree, event: Any) -> bool:
    kind = tree[0]
    if kind == "and":
        return _evaluate(tree[1], event) and _evaluate(tree[2], event)
    if kind == "or":
        return _evaluate(tree[1], event) or _evaluate(tree[2], event)
    _, selector, op, expected = tree
    found, value = _select(event, selector)
    if not found:
        return False
    if isinstance(expected, str):
        equal = isinstance(value, str) and fnmatch.fnmatchcase(value, expected)
        return equal if op == "=" else not equal
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    return {"=": value == expected, "!=": value != expected, "<": value < expected, "<=": value <= expected,
            ">": value > expected, ">=": value >= expected}[op]


def matches(pattern: str, log_line: str) -> bool:
    """Whether CloudWatch would count ``log_line`` for the JSON filter ``pattern``.

    A line that is not a JSON object never matches a JSON pattern.
    """
    tree = parse(pattern)
    try:
        event = json.loads(log_line)
    except ValueError:
        return False
    return isinstance(event, dict) and _evaluate(tree, event)
