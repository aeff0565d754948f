"""Event values in log lines: one escaped word, whatever they hold."""

from __future__ import annotations

import pytest

from authorizer.logfields import field


@pytest.mark.parametrize("value", ["e56f08c3-c559-490f-aa9f-7e8427d0f57b", "meter-0001", "a.b_c:d@e/f+g"])
def test_safe_values_pass_unchanged(value):
    assert field(value) == value


@pytest.mark.parametrize("value, escaped", [
    ("a\nb", "a%0Ab"),
    ("a\r\nreason=Allow", "a%0D%0Areason%3DAllow"),
    ("x principal=admin", "x%20principal%3Dadmin"),
    ("100%", "100%25"),
    ("é", "%C3%A9"),
    ("\u2028", "%E2%80%A8"),  # a Unicode line separator
])
def test_anything_else_is_percent_escaped_into_one_word(value, escaped):
    assert field(value) == escaped
    assert len(field(value).split()) == 1 and "\n" not in field(value)


def test_long_values_are_cut_and_say_so():
    assert field("a" * 200, limit=128) == "a" * 128 + "..."
    assert field(None) == "None"
