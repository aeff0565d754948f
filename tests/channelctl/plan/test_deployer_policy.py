"""`channelctl plan --deployer-policy STACK`: the deployer role's IAM policy from what the stacks render."""

from __future__ import annotations

import copy
import functools
import inspect
import json
import re
from pathlib import Path

import pulumi
import pulumi_aws as aws
import pytest

from channelctl.plan import deployer_policy as dp
from channelctl.cli import main
from channelctl.plan.build import EXIT_BAD_INPUT, EXIT_OK
from channelctl.plan.render import RenderedResource
from tests.channelctl.plan.test_plan_support import ROOT, example_plan

ACCOUNTS = {"network": "111111111111", "iot": "222222222222", "consumer": "333333333333"}
REGION = "us-west-2"


@pytest.fixture(scope="module")
def plan():
    return example_plan()


@pytest.fixture(scope="module")
def policies(plan):
    return {stack: dp.deployer_policies(dp.stack_usage(plan, stack)) for stack in plan.stacks}


def _actions(documents) -> set[str]:
    found: set[str] = set()
    for document in documents:
        for statement in document["Statement"]:
            action = statement["Action"]
            found.update([action] if isinstance(action, str) else action)
    return found


def _statements(documents):
    return [s for d in documents for s in d["Statement"]]


def _resources(statement) -> list[str]:
    resource = statement["Resource"]
    return [resource] if isinstance(resource, str) else list(resource)


def _resource(type_: str, name: str, inputs: dict | None = None) -> RenderedResource:
    return RenderedResource(urn=f"urn:pulumi:s::p::{type_}::{name}", type=type_, name=name, id=f"{name}-id",
                            inputs=inputs or {}, state={}, parent="", provider="", dependencies=[])


def _usage(resources, invokes=(), peers=()) -> dp.StackUsage:
    return dp.StackUsage(stack="s", account_id="444444444444", region=REGION, role="iot", peers=tuple(peers),
                         resources=tuple(resources), invokes=tuple(invokes))


# --------------------------------------------------------------------------- #
# Coverage: every type and invoke the program uses is in the tables
# --------------------------------------------------------------------------- #


def test_every_type_and_invoke_of_every_example_render_is_mapped(plan):
    stacks_seen = set()
    for stack, rendered in plan.renders:
        aws_types = {r.type for r in rendered.resources if r.type.startswith("aws:")}
        assert aws_types, f"render of {stack} declared no AWS resource"
        assert aws_types <= set(dp.RESOURCE_ACTIONS), aws_types - set(dp.RESOURCE_ACTIONS)
        assert {t for t, _ in rendered.invokes} <= set(dp.INVOKE_ACTIONS)
        stacks_seen.add(stack)
    assert stacks_seen == set(ACCOUNTS)


def test_each_rendered_type_gets_its_create_read_update_delete_and_tag_actions(plan, policies):
    for stack in plan.stacks:
        granted = _actions(policies[stack])
        usage = dp.stack_usage(plan, stack)
        for type_ in {r.type for r in usage.resources if r.type in dp.RESOURCE_ACTIONS}:
            entry = dp.RESOURCE_ACTIONS[type_]
            assert set(entry.all()) <= granted, (stack, type_, set(entry.all()) - granted)
        for token, _ in usage.invokes:
            assert set(dp.INVOKE_ACTIONS[token]) <= granted, (stack, token)
        assert "sts:GetCallerIdentity" in granted


def _program_tokens() -> tuple[set[str], set[str]]:
    """The pulumi_aws resource types and invoke tokens named anywhere in the program's source."""
    types, invokes = set(), set()
    sources = [*(ROOT / "components").glob("*.py"), ROOT / "__main__.py"]
    for path in sources:
        for module, name in re.findall(r"\baws\.([a-z0-9_]+)\.([A-Za-z_]\w*)\(", path.read_text()):
            target = getattr(getattr(aws, module), name)
            if inspect.isclass(target) and issubclass(target, pulumi.CustomResource):
                source = inspect.getsource(target._internal_init)
                types.add(re.search(r"'(aws:[\w/]+:\w+)'", source).group(1))
            elif inspect.isfunction(target) and name.startswith("get_"):
                source = inspect.getsource(target)
                invokes.add(re.search(r"'(aws:[\w/]+:\w+)'", source).group(1))
    return types, invokes


def test_every_resource_class_and_data_source_in_the_program_source_is_mapped():
    # Catches types only some configurations render (existingVpc, no device access, ...).
    types, invokes = _program_tokens()
    assert "aws:ec2/vpc:Vpc" in types and "aws:iot/getEndpoint:getEndpoint" in invokes
    assert types - set(dp.RESOURCE_ACTIONS) == set()
    assert invokes - set(dp.INVOKE_ACTIONS) == set()


def test_an_unmapped_resource_type_fails_naming_it():
    usage = _usage([_resource("aws:ec2/vpc:Vpc", "vpc"), _resource("aws:s3/bucketV2:BucketV2", "bucket"),
                    _resource("channel:iot:GatekeeperVpc", "gatekeeper")])
    assert dp.unmapped(usage) == (["aws:s3/bucketV2:BucketV2"], [])
    with pytest.raises(dp.DeployerPolicyError, match=r"resource type aws:s3/bucketV2:BucketV2"):
        dp.deployer_policies(usage)


def test_a_type_from_another_provider_is_not_silently_skipped():
    usage = _usage([_resource("tls:index/privateKey:PrivateKey", "key")])
    with pytest.raises(dp.DeployerPolicyError, match=r"tls:index/privateKey:PrivateKey"):
        dp.deployer_policies(usage)


def test_an_unmapped_invoke_fails_naming_it():
    usage = _usage([_resource("aws:ec2/vpc:Vpc", "vpc")], invokes=[("aws:ec2/getAmi:getAmi", {})])
    with pytest.raises(dp.DeployerPolicyError, match=r"invoke aws:ec2/getAmi:getAmi"):
        dp.deployer_policies(usage)


def test_command_exits_2_naming_a_type_missing_from_the_table(plan, monkeypatch, capsys):
    monkeypatch.setattr("channelctl.plan.command.build_plan", lambda *args, **kwargs: plan)
    table = dict(dp.RESOURCE_ACTIONS)
    del table["aws:ec2/vpcEndpoint:VpcEndpoint"]
    monkeypatch.setattr(dp, "RESOURCE_ACTIONS", table)
    code = main(["plan", "--cwd", str(ROOT), "--deployer-policy", "consumer"])
    captured = capsys.readouterr()
    assert code == EXIT_BAD_INPUT
    assert captured.out == ""
    assert len(captured.err.strip().splitlines()) == 1
    assert "aws:ec2/vpcEndpoint:VpcEndpoint" in captured.err


# --------------------------------------------------------------------------- #
# Action names and size
# --------------------------------------------------------------------------- #


def test_every_action_in_the_tables_is_service_colon_action():
    named = {a for entry in dp.RESOURCE_ACTIONS.values() for a in entry.all()}
    named |= {a for actions in dp.INVOKE_ACTIONS.values() for a in actions}
    for action in named:
        dp.validate_action(action)
    assert len(named) > 150


# IAM action prefix -> botocore service name (boto3 ships every service's API model).
BOTOCORE_SERVICES = {
    "ec2": "ec2", "elasticloadbalancing": "elbv2", "autoscaling": "autoscaling", "iam": "iam",
    "route53": "route53", "route53resolver": "route53resolver", "directconnect": "directconnect", "ram": "ram",
    "iot": "iot", "lambda": "lambda", "logs": "logs", "dynamodb": "dynamodb", "kms": "kms", "ssm": "ssm",
    "sts": "sts", "servicequotas": "service-quotas", "sns": "sns", "cloudwatch": "cloudwatch", "events": "events",
    # Cloud Control API's actions carry the IAM prefix cloudformation.
    "cloudformation": "cloudcontrol",
}
# Permissions that are no API operation of their own (Service Authorization Reference).
PERMISSION_ONLY = {"iam:PassRole", "logs:CreateLogDelivery", "logs:GetLogDelivery", "logs:UpdateLogDelivery",
                   "logs:DeleteLogDelivery", "logs:ListLogDeliveries"}


@functools.cache
def _api_operations(prefix: str) -> frozenset[str]:
    import botocore.session

    return frozenset(botocore.session.get_session().get_service_model(BOTOCORE_SERVICES[prefix]).operation_names)


def test_every_action_names_a_real_api_operation(policies):
    # A misspelt action is valid JSON and silently grants nothing; botocore's models know every operation.
    named = {a for entry in dp.RESOURCE_ACTIONS.values() for a in entry.all()}
    named |= {a for actions in dp.INVOKE_ACTIONS.values() for a in actions}
    for documents in policies.values():
        named |= _actions(documents)
    for action in sorted(named - PERMISSION_ONLY):
        prefix, operation = action.split(":")
        assert operation in _api_operations(prefix), action


def test_a_misspelt_action_is_not_an_api_operation():
    assert "DescribeVpcs" in _api_operations("ec2")
    assert "DescribeVpc" not in _api_operations("ec2")
    assert "DescribeVpcEndpointServicePermission" not in _api_operations("ec2")


@pytest.mark.parametrize("bad", ["ec2:describeVpcs", "ec2 DescribeVpcs", "ec2:*", "ec2:Describe*", "EC2:DescribeVpcs",
                                 "DescribeVpcs", "ec2:Describe Vpcs"])
def test_malformed_action_names_are_refused(bad):
    with pytest.raises(dp.DeployerPolicyError, match="service:Action"):
        dp.validate_action(bad)


def test_a_malformed_action_in_a_table_entry_fails_the_build(monkeypatch):
    table = dict(dp.RESOURCE_ACTIONS)
    table["aws:ec2/vpc:Vpc"] = dp.Actions(create=("ec2:createVpc",), read=("ec2:DescribeVpcs",))
    monkeypatch.setattr(dp, "RESOURCE_ACTIONS", table)
    with pytest.raises(dp.DeployerPolicyError, match="'ec2:createVpc'"):
        dp.deployer_policies(_usage([_resource("aws:ec2/vpc:Vpc", "vpc")]))


def test_every_document_fits_a_managed_policy(policies):
    for stack, documents in policies.items():
        assert 1 <= len(documents) <= dp.MANAGED_POLICIES_PER_ROLE_DEFAULT
        for document in documents:
            assert dp.policy_chars(document) <= dp.MANAGED_POLICY_MAX_CHARS, stack
            assert document["Version"] == "2012-10-17"
        sids = [s["Sid"] for s in _statements(documents)]
        assert len(sids) == len(set(sids))
        assert all(re.fullmatch(r"[A-Za-z0-9]+", sid) for sid in sids)


def test_policy_size_ignores_white_space():
    document = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "a:B", "Resource": "*"}]}
    compact = json.dumps(document, separators=(",", ":"))
    assert dp.policy_chars(document) == len(compact)


def test_splitting_keeps_every_statement_and_each_part_within_the_limit(plan):
    statements = dp.build_statements(dp.stack_usage(plan, "iot"))
    whole = dp.policy_chars({"Version": "2012-10-17", "Statement": statements})
    limit = 1500
    assert whole > limit
    parts = dp.split_policies(statements, limit=limit)
    assert len(parts) > 1
    assert all(dp.policy_chars(p) <= limit for p in parts)
    granted = _actions(parts)
    assert granted == _actions([{"Statement": statements}])
    sids = [s["Sid"] for s in _statements(parts)]
    assert len(sids) == len(set(sids))
    # The EC2 statement alone is over the limit: it is split by its actions.
    assert {"Ec2A", "Ec2B"} <= {sid[:4] for sid in sids}


def test_a_statement_that_cannot_fit_is_refused():
    statement = {"Sid": "Big", "Effect": "Allow", "Action": "ec2:DescribeVpcs", "Resource": ["arn:" + "x" * 300]}
    with pytest.raises(dp.DeployerPolicyError, match="Big alone exceeds 100"):
        dp.split_policies([statement], limit=100)


# --------------------------------------------------------------------------- #
# Scope: account and region, PassRole, service-linked roles
# --------------------------------------------------------------------------- #


def _allowed_accounts(plan, stack):
    return {ACCOUNTS[stack]} | {account for account, _ in dp.stack_usage(plan, stack).peers}


def test_resources_name_the_stacks_account_and_region_or_a_referenced_stacks(plan, policies):
    for stack, documents in policies.items():
        for statement in _statements(documents):
            for arn in _resources(statement):
                if arn == "*":
                    continue
                parts = arn.split(":")
                assert parts[:2] == ["arn", "aws"], arn
                if parts[2] in ("route53", "iam"):
                    continue
                assert parts[3] in (REGION, ""), arn
                assert parts[4] in _allowed_accounts(plan, stack) | {""}, arn
                if parts[4] == "":
                    # Only Amazon's AMIs, public SSM parameters and global DX gateways carry no account.
                    assert parts[5].startswith(("image/", "parameter/aws/service/")), arn
            for arn in _resources(statement):
                if arn.startswith("arn:aws:iam::"):
                    assert arn.split(":")[4] == ACCOUNTS[stack], arn


def test_star_is_granted_only_for_actions_without_resource_level_permissions(policies):
    for stack, documents in policies.items():
        for statement in _statements(documents):
            if "*" not in _resources(statement):
                continue
            actions = [statement["Action"]] if isinstance(statement["Action"], str) else statement["Action"]
            for action in actions:
                assert action in dp._UNSCOPED or action.startswith(dp._UNSCOPED_PREFIXES), (stack, action)
                assert not action.startswith("iam:"), action


def test_other_accounts_appear_only_for_the_resources_this_stack_touches_there(policies):
    network_only = ("arn:aws:ec2:us-west-2:111111111111:transit-gateway/*",
                    "arn:aws:ram:us-west-2:111111111111:resource-share-invitation/*")
    iot_arns = {a for s in _statements(policies["iot"]) for a in _resources(s)}
    assert set(network_only) <= iot_arns
    assert not any(":333333333333:" in a for a in iot_arns)
    consumer_arns = {a for s in _statements(policies["consumer"]) for a in _resources(s)}
    assert "arn:aws:ec2:us-west-2:222222222222:vpc-endpoint-service/*" in consumer_arns
    assert not any(":111111111111:" in a for a in consumer_arns)
    assert not any("transit-gateway" in a for a in consumer_arns)
    network_arns = {a for s in _statements(policies["network"]) for a in _resources(s)}
    assert "arn:aws:ec2:us-west-2:222222222222:transit-gateway-attachment/*" in network_arns
    assert not any("vpc-endpoint-service" in a for a in network_arns)


def test_pass_role_only_for_the_stacks_roles_and_only_to_the_service_they_trust(policies):
    def pass_role(stack):
        return [s for s in _statements(policies[stack]) if s["Action"] == "iam:PassRole"]

    network = pass_role("network")
    assert [(s["Resource"], s["Condition"]) for s in network] == [
        ("arn:aws:iam::111111111111:role/evidence-flow-logs-role-*",
         {"StringEquals": {"iam:PassedToService": "vpc-flow-logs.amazonaws.com"}}),
    ]
    consumer = pass_role("consumer")
    assert sorted((s["Resource"], s["Condition"]["StringEquals"]["iam:PassedToService"]) for s in consumer) == [
        ("arn:aws:iam::333333333333:role/consumer-app-role-*", "ec2.amazonaws.com"),
        ("arn:aws:iam::333333333333:role/evidence-flow-logs-role-*", "vpc-flow-logs.amazonaws.com"),
    ]
    iot = {s["Condition"]["StringEquals"]["iam:PassedToService"]: s["Resource"] for s in pass_role("iot")}
    assert iot == {
        "ec2.amazonaws.com": "arn:aws:iam::222222222222:role/gatekeeper-access-proxy-role-*",
        "lambda.amazonaws.com": "arn:aws:iam::222222222222:role/gatekeeper-authorizer-role-*",
        "vpc-flow-logs.amazonaws.com": "arn:aws:iam::222222222222:role/evidence-flow-logs-role-*",
        # IoT Core logging, the audit and the Device Defender notifications each pass their role.
        "iot.amazonaws.com": [f"arn:aws:iam::222222222222:role/{name}-*" for name in
                              ("monitoring-audit-role", "monitoring-defender-publish-role", "monitoring-iot-logging-role")],
    }
    for stack in policies:
        for statement in _statements(policies[stack]):
            actions = [statement["Action"]] if isinstance(statement["Action"], str) else statement["Action"]
            if "iam:PassRole" in actions:
                assert actions == ["iam:PassRole"] or actions == "iam:PassRole"
                assert "iam:PassedToService" in statement["Condition"]["StringEquals"]


def test_pass_role_follows_a_roles_trust_policy_and_its_explicit_name():
    trust = json.dumps({"Statement": [{"Effect": "Allow", "Principal": {"Service": ["lambda.amazonaws.com"]},
                                       "Action": "sts:AssumeRole"}]})
    usage = _usage([_resource("aws:iam/role:Role", "fn-role", {"assumeRolePolicy": trust, "name": "fixed-name"})])
    statements = dp.build_statements(usage)
    passing = [s for s in statements if s["Action"] == "iam:PassRole"]
    assert passing == [{
        "Sid": "PassRoleToLambda", "Effect": "Allow", "Action": "iam:PassRole",
        "Resource": "arn:aws:iam::444444444444:role/fixed-name",
        "Condition": {"StringEquals": {"iam:PassedToService": "lambda.amazonaws.com"}},
    }]


def test_iam_actions_on_a_role_the_stack_does_not_create_fail_loudly():
    usage = _usage([_resource("aws:iam/rolePolicy:RolePolicy", "extra", {"role": "someone-elses-role"})])
    with pytest.raises(dp.DeployerPolicyError, match=r"iam:PutRolePolicy.*roles the stack does not create"):
        dp.deployer_policies(usage)


def test_managed_policies_attach_only_those_the_stack_attaches(policies):
    attach = [s for s in _statements(policies["consumer"]) if "iam:AttachRolePolicy" in s["Action"]]
    assert [s["Condition"] for s in attach] == [
        {"ArnEquals": {"iam:PolicyARN": ["arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"]}}
    ]


def test_service_linked_roles_only_for_the_services_the_stack_uses(policies):
    def services(stack):
        found = [s for s in _statements(policies[stack]) if s["Action"] == "iam:CreateServiceLinkedRole"]
        return found[0]["Condition"]["StringEquals"]["iam:AWSServiceName"] if found else []

    assert services("iot") == ["autoscaling.amazonaws.com", "elasticloadbalancing.amazonaws.com",
                               "transitgateway.amazonaws.com"]
    assert services("network") == ["transitgateway.amazonaws.com"]
    assert services("consumer") == []


def test_ssm_parameter_is_scoped_to_the_public_ami_parameter_read(policies):
    ssm = [s for s in _statements(policies["consumer"]) if s["Action"] == "ssm:GetParameter"]
    assert [s["Resource"] for s in ssm] == [
        "arn:aws:ssm:us-west-2::parameter/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64"
    ]


def test_every_render_of_the_stack_counts_not_only_the_last(plan):
    # A type only an earlier render declared is deleted by the later `pulumi up`: its delete
    # action must be granted.
    fake = copy.copy(plan)
    first = copy.deepcopy(plan.stacks["consumer"].rendered)
    first.resources.append(_resource("aws:dynamodb/table:Table", "old-table"))
    fake.renders = [("consumer", first)] + [(s, r) for s, r in plan.renders if s == "consumer"]
    assert "dynamodb:DeleteTable" in _actions(dp.deployer_policies(dp.stack_usage(fake, "consumer")))
    assert "dynamodb:DeleteTable" not in _actions(dp.deployer_policies(dp.stack_usage(plan, "consumer")))


def test_read_only_policy_grants_no_change(plan):
    documents = dp.deployer_policies(dp.stack_usage(plan, "iot"), read_only=True)
    actions = _actions(documents)
    assert "ec2:DescribeVpcs" in actions and "iot:DescribeEndpoint" in actions
    for action in actions:
        assert re.match(r"[a-z0-9-]+:(Describe|Get|List|Search)", action), action
    assert not any(s.get("Condition") for s in _statements(documents))


# --------------------------------------------------------------------------- #
# The command
# --------------------------------------------------------------------------- #


def test_command_prints_the_policy_json_and_exits_0(capsys):
    code = main(["plan", "--cwd", str(ROOT), "--deployer-policy", "consumer"])
    captured = capsys.readouterr()
    assert code == EXIT_OK
    documents = json.loads(captured.out)
    assert isinstance(documents, list) and len(documents) == 1
    assert "ec2:CreateVpcEndpoint" in _actions(documents)
    assert "Checks:" not in captured.out


def test_command_says_when_it_splits(plan, monkeypatch, capsys):
    monkeypatch.setattr("channelctl.plan.command.build_plan", lambda *args, **kwargs: plan)
    code = main(["plan", "--cwd", str(ROOT), "--deployer-policy", "iot"])
    captured = capsys.readouterr()
    documents = json.loads(captured.out)
    assert code == EXIT_OK
    assert len(documents) > 1
    assert f"split into {len(documents)} documents" in captured.err


def test_command_refuses_a_stack_outside_the_project(plan, monkeypatch, capsys):
    monkeypatch.setattr("channelctl.plan.command.build_plan", lambda *args, **kwargs: plan)
    code = main(["plan", "--cwd", str(ROOT), "--deployer-policy", "consumer-legacy"])
    captured = capsys.readouterr()
    assert code == EXIT_BAD_INPUT
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1
    assert "consumer-legacy" in lines[0] and "network, iot, consumer" in lines[0]


def test_read_only_alone_is_refused(plan, monkeypatch, capsys):
    monkeypatch.setattr("channelctl.plan.command.build_plan", lambda *args, **kwargs: plan)
    code = main(["plan", "--cwd", str(ROOT), "--read-only"])
    captured = capsys.readouterr()
    assert code == EXIT_BAD_INPUT
    assert captured.out == ""
    assert "--deployer-policy STACK" in captured.err


def test_read_only_command_prints_the_preview_policy(plan, monkeypatch, capsys):
    monkeypatch.setattr("channelctl.plan.command.build_plan", lambda *args, **kwargs: plan)
    code = main(["plan", "--cwd", str(ROOT), "--deployer-policy", "network", "--read-only"])
    documents = json.loads(capsys.readouterr().out)
    assert code == EXIT_OK
    actions = _actions(documents)
    assert "ec2:DescribeTransitGateways" in actions
    assert not any(a.startswith(("ec2:Create", "iam:")) and not a.startswith(("iam:Get", "iam:List")) for a in actions)
