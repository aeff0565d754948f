"""Shared by the check tests (test_checks*.py; no tests here): the example plan they read and what
their breaks have in common."""

from __future__ import annotations

import functools

import pytest

from channelctl.plan.build import Plan
from channelctl.plan.checks import run_checks
from tests.channelctl.plan.test_plan_support import example_plan, failing, stacks_of

ASG = "aws:autoscaling/group:Group"


@functools.cache
def shared_plan() -> Plan:
    """The example plan, built once per process for every check test module. They only read it:
    each test breaks its own deep copy (``stacks_of``)."""
    return example_plan()


def ingress_rule(sg, port):
    """The inline ingress rule of security group ``sg`` whose range starts at ``port``."""
    return next(r for r in sg.inputs["ingress"] if int(r["fromPort"]) == port)


@pytest.fixture(scope="module")
def plan() -> Plan:
    """The example plan (imported by the test modules as a fixture)."""
    return shared_plan()


@pytest.fixture()
def stacks(plan):
    """A deep copy of the example plan's stacks for one test to break."""
    return stacks_of(plan)


def assert_break_fails_exactly(stacks, mutate, expected) -> None:
    """``mutate`` breaks one thing: exactly the checks ``expected`` fail, each saying why first."""
    mutate(stacks)
    results = run_checks(stacks)
    assert failing(results) == expected
    for result in results:
        if not result.passed:
            assert result.problems and result.detail
            assert result.detail.startswith(result.problems[0][:40])
