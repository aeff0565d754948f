"""The ``addresses`` and ``ordering`` checks: each passes on the example plan and fails, naming
what is wrong, on a copy broken in one place."""

from __future__ import annotations

import pytest

from channelctl.plan.checks import run_checks
from channelctl.plan.checks.addresses import ADDRESSES, check_addresses
from channelctl.plan.checks.model import Channel
from channelctl.plan.checks.ordering import ORDERING, check_ordering
from tests.channelctl.plan.test_plan_support import example_plan, remove, resource, stacks_of

RESERVATION = "aws:ec2/subnetCidrReservation:SubnetCidrReservation"


@pytest.fixture(scope="module")
def plan():
    return example_plan()


def test_example_passes_both(plan):
    results = {r.name: r for r in run_checks(plan.stacks)}
    assert results[ADDRESSES].passed, results[ADDRESSES].detail
    assert results[ORDERING].passed, results[ORDERING].detail
    # Interface endpoints, the NLB and the Resolver endpoint: every fixed address was looked at.
    assert len(results[ADDRESSES].verified) >= 14
    assert any("evidence-flow-device" in v and "evidence-flow-logs-role" in v for v in results[ORDERING].verified)


def test_address_outside_every_reservation_fails(plan):
    stacks = stacks_of(plan)
    remove(stacks, "iot", "gatekeeper-reserved-us-west-2a-10.20.0.8-29", RESERVATION)
    result = check_addresses(Channel(stacks))
    assert not result.passed
    assert any(
        "iot:gatekeeper-iot-data-0" in p and "10.20.0.10" in p and "outside every explicit" in p for p in result.problems
    ), result.problems
    assert any("iot:gatekeeper-s3" in p and "10.20.0.8" in p for p in result.problems), result.problems


def test_prefix_reservation_does_not_count(plan):
    stacks = stacks_of(plan)
    resource(stacks, "network", "channel-reserved-us-west-2a-10.10.0.8-29", RESERVATION).inputs["reservationType"] = "prefix"
    result = check_addresses(Channel(stacks))
    assert [p for p in result.problems if "network:channel-resolver" in p and "10.10.0.10" in p], result.problems


def test_fixed_address_not_waiting_for_its_reservation_fails(plan):
    stacks = stacks_of(plan)
    nlb = resource(stacks, "iot", "gatekeeper-nlb", "aws:lb/loadBalancer:LoadBalancer")
    nlb.dependencies = [d for d in nlb.dependencies if "gatekeeper-reserved-us-west-2a-10.20.0.4-30" not in d]
    result = check_addresses(Channel(stacks))
    assert not result.passed
    assert list(result.problems) == [
        "iot:gatekeeper-nlb (lb.LoadBalancer) fixes 10.20.0.5 in reservation "
        "iot:gatekeeper-reserved-us-west-2a-10.20.0.4-30 (10.20.0.4/30) but does not depend on it: it may be "
        "created first — add depends_on=[gatekeeper-reserved-us-west-2a-10.20.0.4-30]"
    ]


def test_flow_log_not_waiting_for_its_role_policy_fails(plan):
    stacks = stacks_of(plan)
    flow_log = resource(stacks, "network", "evidence-flow-device", "aws:ec2/flowLog:FlowLog")
    flow_log.dependencies = [d for d in flow_log.dependencies if "rolePolicy:RolePolicy" not in d]
    result = check_ordering(Channel(stacks))
    assert not result.passed
    assert list(result.problems) == [
        "network:evidence-flow-device (ec2.FlowLog) uses role network:evidence-flow-logs-role but does not depend "
        "on its iam.RolePolicy network:evidence-flow-logs-write: it may be created before the role may do "
        "anything — add depends_on=[evidence-flow-logs-write]"
    ]


def test_lambda_not_waiting_for_a_policy_attachment_fails(plan):
    stacks = stacks_of(plan)
    function = resource(stacks, "iot", "gatekeeper-authorizer-function", "aws:lambda/function:Function")
    function.dependencies = [d for d in function.dependencies if "gatekeeper-authorizer-vpc-access" not in d]
    result = check_ordering(Channel(stacks))
    assert [p for p in result.problems if "iot:gatekeeper-authorizer-function" in p
            and "iot:gatekeeper-authorizer-vpc-access" in p], result.problems


def test_dependency_through_a_parent_component_counts(plan):
    stacks = stacks_of(plan)
    function = resource(stacks, "iot", "gatekeeper-authorizer-function", "aws:lambda/function:Function")
    moved = [d for d in function.dependencies if "gatekeeper-authorizer-vpc-access" in d]
    function.dependencies = [d for d in function.dependencies if d not in moved]
    parent = next(r for r in stacks["iot"].rendered.resources if r.urn == function.parent)
    parent.dependencies = [*parent.dependencies, *moved]
    assert check_ordering(Channel(stacks)).passed
