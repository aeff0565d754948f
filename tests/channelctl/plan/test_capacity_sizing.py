"""The capacity check names the reserved concurrency the authorizer needs, computed as the configuration's
refusals compute it (components.proxy_capacity.authorizer_sizing)."""

from __future__ import annotations

import pytest

from channelctl.plan.checks import CAPACITY, run_checks
from tests.channelctl.plan.test_plan_support import example_plan, resource, stacks_of

FUNCTION = "aws:lambda/function:Function"
# 150,000 devices, target 900 s, refresh 900 s, a scrypt table at the example's 1,769 MB:
# (166.7 CONNECT/s + 166.7 refreshes/s) x 210.4 ms (one scrypt verification each) -> 71.
SIZED = ("authorizer.reservedConcurrency to at least 71 (166.7 CONNECT/s x 210.4 ms + 166.7 policy refreshes/s x "
         "210.4 ms: CONNECT/s = expectedDevices 150,000 / capacity.reconnectTargetSeconds 900, refreshes/s = "
         "expectedDevices / authorizer.refreshAfterSeconds 900; unknownUserHash scrypt at 1769 MB, registry "
         "scrypt:ln=15,r=8,p=1: 210.4 ms of one vCPU per CONNECT (each verified), 210.4 ms per policy refresh, "
         "DynamoDB latency not included)")


@pytest.fixture(scope="module")
def plan():
    return example_plan()


def with_authorizer(plan, concurrency):
    stacks = stacks_of(plan)
    function = resource(stacks, "iot", "gatekeeper-authorizer-function", FUNCTION)
    function.inputs["environment"]["variables"]["UNKNOWN_USER_HASH"] = "scrypt"
    # -1: the provider's value for a function without a reservation.
    function.inputs["reservedConcurrentExecutions"] = float(-1 if concurrency is None else concurrency)
    return next(r for r in run_checks(stacks) if r.name == CAPACITY)


def test_an_authorizer_too_slow_for_the_storm_is_told_the_value_to_raise_it_to(plan):
    (problem,) = with_authorizer(plan, 20).problems
    assert "bottleneck custom authorizer" in problem
    assert f"raise {SIZED} (or authorizer.memorySize up to 1769 MB)" in problem


def test_the_suggested_value_passes_the_check(plan):
    result = with_authorizer(plan, 71)
    assert result.passed, result.problems
    # The storm alone needs 36 (166.7 CONNECT/s x 210.4 ms); the suggestion also serves the refreshes.
    assert with_authorizer(plan, 36).passed and not with_authorizer(plan, 35).passed


def test_no_reservation_is_told_the_value_to_set(plan):
    (problem,) = with_authorizer(plan, None).problems
    assert problem == (f"iot:gatekeeper-authorizer-function has no reserved concurrency: the authorizer's share of a "
                       f"reconnect storm is unbounded and unknown — set {SIZED}")
