"""The stack's customer managed keys: who may use them, and through which service (rendered key policies)."""

from __future__ import annotations

import fnmatch
import json

import pytest

from components.custom_authorizer import credentials_key_policy
from tests.support import FQ, example_config, render

ACCOUNT = "222222222222"
REGION = "us-west-2"
DEPLOYER = f"arn:aws:iam::{ACCOUNT}:role/mqtt-channel-deployer"
OPERATORS = f"arn:aws:iam::{ACCOUNT}:role/mqtt-channel-operators"
# What DynamoDB does with the key on the caller's behalf (KMS developer guide, "How Amazon
# DynamoDB uses AWS KMS", key policy for a customer managed key).
DYNAMODB_ACTIONS = ("kms:CreateGrant", "kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey",
                    "kms:GenerateDataKeyWithoutPlaintext", "kms:ReEncryptFrom", "kms:ReEncryptTo")
# The deploying role also administers the key (Pulumi.iot.yaml names no keyAdminArns): as
# administrator it describes the key directly, which the provider's read does. Every action that
# touches data it may call only through DynamoDB.
DATA_ACTIONS = tuple(a for a in DYNAMODB_ACTIONS if a != "kms:DescribeKey")
VIA = {"dynamodb": f"dynamodb.{REGION}.amazonaws.com", "sns": f"sns.{REGION}.amazonaws.com",
       "logs": f"logs.{REGION}.amazonaws.com", "s3": f"s3.{REGION}.amazonaws.com"}


@pytest.fixture(scope="module")
def iot():
    network = render("network", example_config("network"))
    return render("iot", example_config("iot"), {FQ("network"): network.exports})


def key_policy(rendered, name: str) -> dict:
    (key,) = [r for r in rendered.of_type("aws:kms/key:Key") if r.name == name]
    return json.loads(key.inputs["policy"])


def _list(value) -> list:
    return value if isinstance(value, list) else [value]


def _condition_holds(condition: dict, context: dict) -> bool:
    for operator, pairs in condition.items():
        for key, expected in pairs.items():
            actual = context.get(key)
            if actual is None:
                return False
            if operator in ("StringEquals", "ArnEquals", "Bool"):
                ok = str(actual) in [str(e) for e in _list(expected)]
            elif operator in ("StringLike", "ArnLike"):
                ok = any(fnmatch.fnmatchcase(str(actual), e) for e in _list(expected))
            else:
                raise AssertionError(f"condition operator {operator} not modelled")
            if not ok:
                return False
    return True


def allows(policy: dict, principal: dict, action: str, context: dict) -> bool:
    """Whether an Allow statement of the key policy itself grants the request (IAM policies aside)."""
    for st in policy["Statement"]:
        if st["Effect"] != "Allow":
            continue
        (kind, who), = principal.items()
        if who not in _list(st["Principal"].get(kind, [])):
            continue
        if not any(fnmatch.fnmatchcase(action, a) for a in _list(st["Action"])):
            continue
        if _condition_holds(st.get("Condition", {}), context):
            return True
    return False


def _through(service: str, account: str = ACCOUNT, **extra) -> dict:
    return {"kms:ViaService": VIA[service], "kms:CallerAccount": account, **extra}


def _dynamodb(context: dict) -> dict:
    # DynamoDB's CreateGrant is for its own resource (kms:GrantIsForAWSResource true).
    return {**context, "kms:GrantIsForAWSResource": "true"}


# --------------------------------------------------------------------------- #
# The credentials table's key
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize("action", DYNAMODB_ACTIONS)
def test_the_deployer_may_use_the_credentials_key_through_dynamodb(iot, action):
    policy = key_policy(iot, "gatekeeper-authorizer-key")
    assert allows(policy, {"AWS": DEPLOYER}, action, _dynamodb(_through("dynamodb")))


@pytest.mark.parametrize("action", DATA_ACTIONS)
@pytest.mark.parametrize("context", [
    {},                                                            # directly, not through a service
    {"kms:CallerAccount": ACCOUNT, "kms:GrantIsForAWSResource": "true"},
    _dynamodb(_through("sns")),                                    # through another service
    _dynamodb(_through("s3")),
    _dynamodb({"kms:ViaService": "dynamodb.eu-west-1.amazonaws.com", "kms:CallerAccount": ACCOUNT}),
    _dynamodb(_through("dynamodb", account="999999999999")),       # another account's caller
], ids=["direct", "no-via-service", "sns", "s3", "other-region", "other-account"])
def test_the_deployer_may_use_the_credentials_key_only_through_dynamodb(iot, action, context):
    policy = key_policy(iot, "gatekeeper-authorizer-key")
    assert not allows(policy, {"AWS": DEPLOYER}, action, context)


def test_the_deployer_describes_the_key_as_its_administrator(iot):
    statements = {st["Sid"]: st for st in key_policy(iot, "gatekeeper-authorizer-key")["Statement"]}
    assert statements["Administration"]["Principal"] == {"AWS": [DEPLOYER]}
    assert allows(key_policy(iot, "gatekeeper-authorizer-key"), {"AWS": DEPLOYER}, "kms:DescribeKey", {})


def test_the_check_catches_the_deployer_granted_without_via_service(iot):
    policy = key_policy(iot, "gatekeeper-authorizer-key")
    policy["Statement"].append({"Sid": "Loose", "Effect": "Allow", "Principal": {"AWS": DEPLOYER},
                                "Action": ["kms:Decrypt", "kms:Encrypt"], "Resource": "*"})
    assert allows(policy, {"AWS": DEPLOYER}, "kms:Decrypt", {})
    assert allows(policy, {"AWS": DEPLOYER}, "kms:Encrypt", _through("s3"))


def test_the_credentials_key_statements_are_the_guides(iot):
    statements = {st["Sid"]: st for st in key_policy(iot, "gatekeeper-authorizer-key")["Statement"]}
    deployer = statements["DeployerThroughDynamoDBOnly"]
    assert deployer["Principal"] == {"AWS": [DEPLOYER]}
    assert sorted(deployer["Action"]) == ["kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey*",
                                          "kms:ReEncrypt*"]
    assert deployer["Condition"] == {"StringEquals": {"kms:ViaService": VIA["dynamodb"], "kms:CallerAccount": ACCOUNT}}
    assert DEPLOYER in statements["DynamoDBGrantsForTheTable"]["Principal"]["AWS"]
    # Operators use the key through DynamoDB as before; DynamoDB itself only describes it.
    assert allows({"Statement": [statements["UseThroughDynamoDBOnly"]]}, {"AWS": OPERATORS}, "kms:Decrypt",
                  _through("dynamodb"))
    assert statements["DynamoDBDescribesTheKey"]["Principal"] == {"Service": "dynamodb.amazonaws.com"}


def test_without_assume_role_arn_no_deployer_is_named():
    policy = credentials_key_policy(account_id=ACCOUNT, region=REGION, admin_arns=[f"arn:aws:iam::{ACCOUNT}:root"],
                                    user_arns=[OPERATORS])
    assert "DeployerThroughDynamoDBOnly" not in {st["Sid"] for st in policy["Statement"]}
    assert not allows(policy, {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "kms:Decrypt", _through("dynamodb"))


# --------------------------------------------------------------------------- #
# The stack's monitoring key: log groups and the alarm topic
# --------------------------------------------------------------------------- #


def test_cloudwatch_logs_uses_the_key_for_this_accounts_log_groups_only(iot):
    policy = key_policy(iot, "evidence-key")
    logs = {"Service": f"logs.{REGION}.amazonaws.com"}
    context = {"kms:EncryptionContext:aws:logs:arn": f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/lambda/x"}
    for action in ("kms:Encrypt", "kms:Decrypt", "kms:ReEncryptFrom", "kms:GenerateDataKey", "kms:DescribeKey"):
        assert allows(policy, logs, action, context), action
    assert not allows(policy, logs, "kms:Decrypt",
                      {"kms:EncryptionContext:aws:logs:arn": f"arn:aws:logs:{REGION}:999999999999:log-group:x"})
    assert not allows(policy, logs, "kms:Decrypt", {})
    assert not allows(policy, logs, "kms:CreateGrant", context)


def test_cloudwatch_alarms_may_publish_to_the_encrypted_topic(iot):
    policy = key_policy(iot, "evidence-key")
    alarms = {"Service": "cloudwatch.amazonaws.com"}
    for action in ("kms:Decrypt", "kms:GenerateDataKey"):
        assert allows(policy, alarms, action, {"aws:SourceAccount": ACCOUNT})
        assert not allows(policy, alarms, action, {"aws:SourceAccount": "999999999999"})
    assert not allows(policy, alarms, "kms:Encrypt", {"aws:SourceAccount": ACCOUNT})


def test_the_deployer_may_use_the_topic_key_only_through_sns(iot):
    policy = key_policy(iot, "evidence-key")
    deployer = {"AWS": DEPLOYER}
    for action in ("kms:Decrypt", "kms:GenerateDataKey"):
        assert allows(policy, deployer, action, _through("sns"))
        for context in ({}, _through("logs"), _through("dynamodb"), _through("sns", account="999999999999")):
            assert not allows(policy, deployer, action, context), (action, context)
    assert not allows(policy, deployer, "kms:Encrypt", _through("sns"))


def test_a_stack_without_a_topic_names_no_deployer_on_its_key():
    network = render("network", example_config("network"))
    sids = {st["Sid"] for st in key_policy(network, "evidence-key")["Statement"]}
    assert "DeployerThroughSnsOnly" not in sids
