"""Shared by the check tests (test_checks*.py; no tests here): the example plan they read and what
their breaks have in common."""

from __future__ import annotations

import functools

from channelctl.plan.build import Plan
from tests.channelctl.plan.test_plan_support import example_plan

ASG = "aws:autoscaling/group:Group"


@functools.cache
def shared_plan() -> Plan:
    """The example plan, built once per process for every check test module. They only read it:
    each test breaks its own deep copy (``stacks_of``)."""
    return example_plan()


def ingress_rule(sg, port):
    """The inline ingress rule of security group ``sg`` whose range starts at ``port``."""
    return next(r for r in sg.inputs["ingress"] if int(r["fromPort"]) == port)
