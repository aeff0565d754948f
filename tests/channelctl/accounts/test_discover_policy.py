"""The read-only policy of `channelctl discover`: real actions, `*` only where nothing narrower grants,
scoped to the stack's account and Region. That it covers every call discover makes is checked where the
calls are recorded (test_discover.py)."""

from __future__ import annotations

import functools

import pytest

from channelctl.accounts import discover_policy as dp
from channelctl.plan.deployer_actions import _UNSCOPED, _UNSCOPED_PREFIXES

ACCOUNT, REGION = "222222222222", "us-west-2"
ANY_TRAIL = "arn:aws:cloudtrail:*:*:trail/*"
# IAM action prefix -> botocore service name.
BOTOCORE_SERVICES = {
    "sts": "sts", "ec2": "ec2", "servicequotas": "service-quotas", "iam": "iam", "logs": "logs",
    "organizations": "organizations", "directconnect": "directconnect", "ram": "ram", "acm": "acm", "iot": "iot",
    "cloudtrail": "cloudtrail",
}


@functools.cache
def api_operations(prefix: str) -> frozenset[str]:
    import botocore.session

    return frozenset(botocore.session.get_session().get_service_model(BOTOCORE_SERVICES[prefix]).operation_names)


@pytest.fixture(scope="module", params=dp.ROLES)
def document(request):
    return request.param, dp.policy_document(request.param, ACCOUNT, REGION)


def test_every_action_is_a_real_api_operation():
    for entry in dp.ACTIONS:
        prefix, operation = entry.action.split(":")
        assert operation in api_operations(prefix), entry.action
    assert "DescribeAvailabilityZone" not in api_operations("ec2")  # the check can fail


def test_only_reads_are_granted(document):
    _, policy = document
    for action in dp.actions_of(policy):
        assert action.split(":")[1].startswith(("Describe", "Get", "List")), action


def test_star_only_where_the_action_takes_no_resource(document):
    _, policy = document
    assert policy["Version"] == "2012-10-17"
    for statement in policy["Statement"]:
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        assert statement["Effect"] == "Allow" and len({a.split(":")[0] for a in actions}) == 1, statement
        unscoped = {e.action for e in dp.ACTIONS if e.resource is None}
        if resources == ["*"]:
            assert set(actions) <= unscoped, statement
        else:
            assert not set(actions) & unscoped, statement
            assert all(f":{ACCOUNT}:" in arn and (f":{REGION}:" in arn or arn.startswith("arn:aws:iam::"))
                       or arn == ANY_TRAIL for arn in resources), statement


def test_trails_are_granted_in_any_region_and_account_and_only_trails():
    """A multi-Region trail lives in its home Region and an organization trail in the management account,
    so the trail reads name neither; nothing else is granted that way."""
    policy = dp.policy_document("iot", ACCOUNT, REGION)
    anywhere = [s for s in policy["Statement"] if s["Resource"] == ANY_TRAIL]
    assert [s["Action"] for s in anywhere] == [["cloudtrail:GetEventSelectors", "cloudtrail:GetTrailStatus"]]
    (describe,) = [s for s in policy["Statement"] if s["Action"] == "cloudtrail:DescribeTrails"]
    assert describe["Resource"] == "*"


def test_the_deployer_tables_agree_on_which_actions_take_no_resource():
    for entry in dp.ACTIONS:
        named_there = entry.action in _UNSCOPED or entry.action.startswith(_UNSCOPED_PREFIXES)
        if entry.resource is not None:
            assert not named_there, entry.action


def test_each_role_reads_only_its_own_services():
    network = dp.actions_of(dp.policy_document("network", "111111111111", REGION))
    iot = dp.actions_of(dp.policy_document("iot", ACCOUNT, REGION))
    consumer = dp.actions_of(dp.policy_document("consumer", "333333333333", REGION))
    assert "organizations:ListAWSServiceAccessForOrganization" in network - iot - consumer
    assert {"ram:GetResourceShareInvitations", "acm:DescribeCertificate", "iot:GetV2LoggingOptions",
            "cloudtrail:DescribeTrails", "cloudtrail:GetTrailStatus", "cloudtrail:GetEventSelectors"} <= \
        iot - network - consumer
    assert "ec2:DescribeVpcEndpointServices" in consumer - network


def test_quotas_are_granted_one_by_one():
    policy = dp.policy_document("iot", ACCOUNT, REGION)
    (statement,) = [s for s in policy["Statement"] if s["Action"] == "servicequotas:GetServiceQuota"]
    assert f"arn:aws:servicequotas:{REGION}:{ACCOUNT}:iotcore/L-AEA1E176" in statement["Resource"]
    assert f"arn:aws:servicequotas:{REGION}:{ACCOUNT}:vpc/L-0EA8095F" in statement["Resource"]


def test_partitions():
    assert dp.partition_of("cn-north-1") == "aws-cn" and dp.partition_of("us-gov-west-1") == "aws-us-gov"
    arns = dp.policy_document("network", "111111111111", "cn-north-1")["Statement"]
    assert any("arn:aws-cn:iam::111111111111:role/*" == s["Resource"] for s in arns)
    with pytest.raises(ValueError, match="role 'other'"):
        dp.policy_document("other", ACCOUNT, REGION)
