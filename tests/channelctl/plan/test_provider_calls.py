"""The deployer policy allows every call the provider makes for what each example stack renders."""

from __future__ import annotations

import functools

import pytest

from channelctl.plan import deployer_policy as dp
from channelctl.plan import provider_calls as pc
from tests.channelctl.plan.test_plan_support import example_plan

PROVIDER_SOURCE_PREFIXES = ("internal/service/", "pulumi/pulumi-aws-native")


@pytest.fixture(scope="module")
def plan():
    return example_plan()


def _granted(documents) -> set[str]:
    found: set[str] = set()
    for document in documents:
        for statement in document["Statement"]:
            action = statement["Action"]
            found.update([action] if isinstance(action, str) else action)
    return found


def _required(usage: dp.StackUsage) -> dict[str, set[str]]:
    """IAM action -> the types/invokes whose provider functions call it; a type missing from the table fails."""
    required: dict[str, set[str]] = {}
    for type_ in {r.type for r in usage.resources if not r.type.startswith(dp.NON_AWS_TYPE_PREFIXES)}:
        assert type_ in pc.PROVIDER_CALLS, f"{usage.stack}: {type_} has no entry in provider_calls.PROVIDER_CALLS"
        for operation in pc.PROVIDER_CALLS[type_].operations():
            required.setdefault(pc.iam_action(operation), set()).add(type_)
    for token, _ in usage.invokes:
        assert token in pc.INVOKE_CALLS, f"{usage.stack}: {token} has no entry in provider_calls.INVOKE_CALLS"
        for operation in pc.INVOKE_CALLS[token].operations():
            required.setdefault(pc.iam_action(operation), set()).add(token)
    return required


@pytest.mark.parametrize("stack", ["network", "iot", "consumer"])
def test_the_deployer_policy_allows_every_call_the_provider_makes(plan, stack):
    usage = dp.stack_usage(plan, stack)
    granted = _granted(dp.deployer_policies(usage))
    missing = {action: sorted(types) for action, types in _required(usage).items() if action not in granted}
    assert missing == {}


def test_instance_refresh_is_allowed_to_the_iot_stack(plan):
    # Growing expectedDevices changes the proxy launch template: the provider starts an instance
    # refresh, and cancels and waits on one already running.
    granted = _granted(dp.deployer_policies(dp.stack_usage(plan, "iot")))
    assert {"autoscaling:StartInstanceRefresh", "autoscaling:DescribeInstanceRefreshes",
            "autoscaling:CancelInstanceRefresh"} <= granted


def test_a_type_missing_from_the_call_table_fails(plan, monkeypatch):
    table = dict(pc.PROVIDER_CALLS)
    del table["aws:autoscaling/group:Group"]
    monkeypatch.setattr(pc, "PROVIDER_CALLS", table)
    with pytest.raises(AssertionError, match="aws:autoscaling/group:Group has no entry"):
        _required(dp.stack_usage(plan, "iot"))


def test_a_call_the_policy_lacks_is_reported(plan, monkeypatch):
    table = dict(pc.PROVIDER_CALLS)
    group = table["aws:autoscaling/group:Group"]
    table["aws:autoscaling/group:Group"] = pc.Calls(group.source, group.create, group.read,
                                                    group.update + ("autoscaling.PutWarmPool",), group.delete)
    monkeypatch.setattr(pc, "PROVIDER_CALLS", table)
    usage = dp.stack_usage(plan, "iot")
    granted = _granted(dp.deployer_policies(usage))
    assert [a for a in _required(usage) if a not in granted] == ["autoscaling:PutWarmPool"]


def test_every_type_the_policy_maps_has_its_provider_calls():
    assert set(dp.RESOURCE_ACTIONS) <= set(pc.PROVIDER_CALLS)
    assert set(dp.INVOKE_ACTIONS) <= set(pc.INVOKE_CALLS)


def test_every_entry_names_its_source_in_the_provider():
    for token, calls in {**pc.PROVIDER_CALLS, **pc.INVOKE_CALLS}.items():
        assert calls.source.startswith(PROVIDER_SOURCE_PREFIXES), token
        if calls.source.startswith("internal/service/"):
            assert calls.source.endswith(".go"), token
    assert len(pc.PROVIDER_COMMIT) == 40


@pytest.mark.parametrize("operation, action", [
    ("autoscaling.StartInstanceRefresh", "autoscaling:StartInstanceRefresh"),
    ("elasticloadbalancingv2.DescribeListenerAttributes", "elasticloadbalancing:DescribeListenerAttributes"),
    ("cloudwatchlogs.CreateLogGroup", "logs:CreateLogGroup"),
    ("cloudcontrol.GetResource", "cloudformation:GetResource"),
    ("eventbridge.PutTargets", "events:PutTargets"),
])
def test_sdk_clients_map_to_their_iam_prefix(operation, action):
    assert pc.iam_action(operation) == action


# SDK client -> botocore service name (boto3 ships every service's API model).
BOTOCORE = {"elasticloadbalancingv2": "elbv2", "cloudwatchlogs": "logs", "servicequotas": "service-quotas",
            "eventbridge": "events"}


@functools.cache
def _operations(client: str) -> frozenset[str]:
    import botocore.session

    return frozenset(botocore.session.get_session().get_service_model(BOTOCORE.get(client, client)).operation_names)


def test_every_operation_in_the_table_is_a_real_api_operation():
    for token, calls in {**pc.PROVIDER_CALLS, **pc.INVOKE_CALLS}.items():
        for operation in calls.operations():
            client, name = operation.split(".")
            assert name in _operations(client), (token, operation)
