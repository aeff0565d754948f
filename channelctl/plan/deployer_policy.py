"""The IAM policy a stack's deployer role needs, built from what the plan renders.

``channelctl plan --deployer-policy STACK`` renders the project in release
order (every render of the stack counts: a resource the first pass declares
and the second drops is deleted by the second ``pulumi up``), collects the
Pulumi resource types and invokes of STACK, and maps each one through
``RESOURCE_ACTIONS`` / ``INVOKE_ACTIONS`` to the IAM actions that
hashicorp/terraform-provider-aws (which pulumi-aws bridges) calls to create,
read, update, delete and tag it. A type or invoke missing from the tables is
an error, never a silently narrower policy.

Sources for the tables: the provider's ``internal/service/<service>/*.go``
(Create/Read/Update/Delete functions and their finders) and the AWS Service
Authorization Reference (action names, which actions take resource ARNs).
Checked in the provider source: the Direct Connect gateway association reads
the Transit Gateway attachment through ``ec2:DescribeTransitGatewayAttachments``
(``FindTransitGatewayAttachmentByTransitGatewayIDAndDirectConnectGatewayID``);
the Auto Scaling group attaches ``target_group_arns`` with
``AttachLoadBalancerTargetGroups`` and ``traffic_source`` with
``AttachTrafficSources``; the load balancer listener reads its attributes with
``DescribeListenerAttributes`` (``findListenerAttributesByARN``).

Resources are scoped to the stack's account and region wherever the service
has resource-level permissions; Route 53 ARNs carry neither (global service),
EC2 ``Describe*`` and a few ``Create*``/``List*`` actions take no resource
(Service Authorization Reference) and get ``*``. Actions that touch another
stack's resources (the network account's Transit Gateway from the iot stack,
the iot account's endpoint service from a consumer, RAM invitations) are
scoped to the accounts of the stacks this stack references.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from channelctl.plan.deployer_actions import (  # noqa: F401 -- the tables, as this module always offered them
    MANAGED_POLICY_MAX_CHARS,
    MANAGED_POLICIES_PER_ROLE_DEFAULT,
    ACTION_PATTERN,
    NON_AWS_TYPE_PREFIXES,
    PROVIDER_ACTIONS,
    DeployerPolicyError,
    Actions,
    RESOURCE_ACTIONS,
    INVOKE_ACTIONS,
    _UNSCOPED_PREFIXES,
    _UNSCOPED,
    PEER_RESOURCES,
)


# --------------------------------------------------------------------------- #
# Building the policy
# --------------------------------------------------------------------------- #


@dataclass(frozen=True)
class StackUsage:
    """What one stack's renders declare and call, as the policy needs it."""

    stack: str
    account_id: str
    region: str
    role: str
    # (account, role) of every stack this stack references.
    peers: tuple[tuple[str, str], ...]
    resources: tuple[Any, ...]  # RenderedResource
    invokes: tuple[tuple[str, Mapping[str, Any]], ...]


def unmapped(usage: StackUsage) -> tuple[list[str], list[str]]:
    """Resource types and invoke tokens of the renders the tables do not cover."""
    types = sorted({r.type for r in usage.resources
                    if not r.type.startswith(NON_AWS_TYPE_PREFIXES) and r.type not in RESOURCE_ACTIONS})
    tokens = sorted({token for token, _ in usage.invokes if token not in INVOKE_ACTIONS})
    return types, tokens


def validate_action(action: str) -> None:
    if not ACTION_PATTERN.match(action):
        raise DeployerPolicyError(f"action {action!r} is not of the form service:Action — fix the table entry")


def policy_chars(document: Mapping[str, Any]) -> int:
    """A policy's size as IAM counts it: its JSON without white space."""
    return len(re.sub(r"\s", "", json.dumps(document)))


def build_statements(usage: StackUsage, *, read_only: bool = False) -> list[dict[str, Any]]:
    """The statements of the stack's deployer policy (or, ``read_only``, of its preview policy)."""
    types, tokens = unmapped(usage)
    if types or tokens:
        missing = [f"resource type {t}" for t in types] + [f"invoke {t}" for t in tokens]
        raise DeployerPolicyError(
            f"stack {usage.stack!r}: no IAM actions known for {', '.join(missing)} — "
            "add it to RESOURCE_ACTIONS or INVOKE_ACTIONS in channelctl/plan/deployer_policy.py "
            "with the actions the provider calls for it"
        )
    region, account = usage.region, usage.account_id
    present = sorted({r.type for r in usage.resources if r.type in RESOURCE_ACTIONS})

    actions: set[str] = set(PROVIDER_ACTIONS)
    service_linked: set[str] = set()
    for type_ in present:
        entry = RESOURCE_ACTIONS[type_]
        actions.update(entry.all(read_only=read_only))
        if not read_only:
            service_linked.update(entry.service_linked_roles)
    ssm_parameters: set[str] = set()
    quotas: set[str] = set()
    for token, inputs in usage.invokes:
        actions.update(INVOKE_ACTIONS[token])
        if token == "aws:ssm/getParameter:getParameter":
            ssm_parameters.add(str(inputs.get("name", "")))
        if token == "aws:servicequotas/getServiceQuota:getServiceQuota":
            quotas.add(f"{inputs.get('serviceCode', '*')}/{inputs.get('quotaCode', '*')}")
    # IAM actions on roles and instance profiles are granted by _role_statements, per name.
    iam_actions = {a for a in actions if a.startswith("iam:")}
    actions -= iam_actions
    for action in sorted(actions | iam_actions):
        validate_action(action)

    statements: list[dict[str, Any]] = []
    unscoped = sorted(a for a in actions if a in _UNSCOPED or a.startswith(_UNSCOPED_PREFIXES))
    if unscoped:
        statements.append(_statement("ReadWithoutResourceLevelPermissions", unscoped, ["*"]))
    scoped = sorted(set(actions) - set(unscoped))
    by_service: dict[str, list[str]] = {}
    for action in scoped:
        by_service.setdefault(action.split(":", 1)[0], []).append(action)
    for service, service_actions in sorted(by_service.items()):
        resources = _service_resources(service, region, account, usage.role, usage.peers,
                                       ssm_parameters=ssm_parameters, quotas=quotas)
        statements.append(_statement(_sid(service), service_actions, resources))
    statements.extend(_role_statements(usage, iam_actions, read_only=read_only))
    if service_linked:
        statements.append({
            "Sid": "ServiceLinkedRoles",
            "Effect": "Allow",
            "Action": "iam:CreateServiceLinkedRole",
            "Resource": f"arn:aws:iam::{account}:role/aws-service-role/*",
            "Condition": {"StringEquals": {"iam:AWSServiceName": sorted(service_linked)}},
        })
    return statements


def _statement(sid: str, actions: list[str], resources: list[str]) -> dict[str, Any]:
    return {
        "Sid": sid,
        "Effect": "Allow",
        "Action": actions if len(actions) > 1 else actions[0],
        "Resource": resources if len(resources) > 1 else resources[0],
    }


def _sid(service: str) -> str:
    return "".join(part.capitalize() for part in re.split(r"[^a-z0-9]", service)) or "Service"


def _service_resources(service: str, region: str, account: str, role: str, peers: Iterable[tuple[str, str]], *,
                       ssm_parameters: set[str], quotas: set[str]) -> list[str]:
    if service == "route53":
        # Hosted zones and changes have no region or account in their ARNs.
        return ["arn:aws:route53:::hostedzone/*", "arn:aws:route53:::change/*"]
    if service == "ssm":
        # Public parameters (/aws/service/...) belong to no account.
        return sorted(
            f"arn:aws:ssm:{region}::parameter{name}" if name.startswith("/aws/service/")
            else f"arn:aws:ssm:{region}:{account}:parameter/{name.lstrip('/')}"
            for name in ssm_parameters
        ) or [f"arn:aws:ssm:{region}:{account}:parameter/*"]
    if service == "servicequotas":
        return sorted(f"arn:aws:servicequotas:{region}:{account}:{q}" for q in quotas) or ["*"]
    if service == "directconnect":
        # Direct Connect gateways are global: no region in their ARN.
        return [f"arn:aws:directconnect::{account}:dx-gateway/*", f"arn:aws:directconnect:{region}:{account}:*"]
    if service == "logs":
        return [f"arn:aws:logs:{region}:{account}:log-group:*"]
    if service == "cloudwatch":
        # Dashboards are global: no region in their ARN.
        return [f"arn:aws:cloudwatch:{region}:{account}:alarm:*", f"arn:aws:cloudwatch::{account}:dashboard/*"]
    resources = [f"arn:aws:{service}:{region}:{account}:*"]
    if service == "ec2":
        # Amazon's own AMIs (RunInstances, launch templates) have no account in their ARN.
        resources.append(f"arn:aws:ec2:{region}::image/*")
    for peer, peer_role in sorted(set(peers)):
        if peer == account:
            continue
        resources.extend(f"arn:aws:{service}:{region}:{peer}:{kind}"
                         for kind_service, kind in PEER_RESOURCES.get((role, peer_role), ()) if kind_service == service)
    return resources


def _role_statements(usage: StackUsage, iam_actions: set[str], *, read_only: bool) -> list[dict[str, Any]]:
    """IAM on the roles and instance profiles the stack creates, by name; PassRole per service."""
    account = usage.account_id
    roles = [r for r in usage.resources if r.type == "aws:iam/role:Role"]
    profiles = [r for r in usage.resources if r.type == "aws:iam/instanceProfile:InstanceProfile"]
    role_arns = sorted({f"arn:aws:iam::{account}:role/{_iam_name(r)}" for r in roles})
    profile_arns = sorted({f"arn:aws:iam::{account}:instance-profile/{_iam_name(r)}" for r in profiles})
    statements: list[dict[str, Any]] = []
    role_actions = sorted(a for a in iam_actions if "InstanceProfile" not in a or a == "iam:ListInstanceProfilesForRole")
    profile_actions = sorted(a for a in iam_actions if a not in role_actions)
    # IAM actions are granted on the stack's own roles and profiles only: a role policy or
    # attachment on a role the stack does not create would otherwise lose its actions silently.
    for actions, arns, what in ((role_actions, role_arns, "roles"), (profile_actions, profile_arns, "instance profiles")):
        if actions and not arns:
            raise DeployerPolicyError(
                f"stack {usage.stack!r}: {', '.join(actions)} needed on {what} the stack does not create — "
                "name those resources in channelctl/plan/deployer_policy.py"
            )
    if role_actions and role_arns:
        statements.append(_statement("StackRoles", role_actions, role_arns))
    if profile_actions and profile_arns:
        statements.append(_statement("StackInstanceProfiles", profile_actions, profile_arns))
    if read_only:
        return statements
    attached = sorted({str(r.inputs.get("policyArn")) for r in usage.resources
                       if r.type == "aws:iam/rolePolicyAttachment:RolePolicyAttachment" and r.inputs.get("policyArn")})
    if attached and role_arns:
        statements.append({
            "Sid": "AttachOnlyTheStacksPolicies",
            "Effect": "Allow",
            "Action": ["iam:AttachRolePolicy", "iam:DetachRolePolicy"],
            "Resource": role_arns if len(role_arns) > 1 else role_arns[0],
            "Condition": {"ArnEquals": {"iam:PolicyARN": attached}},
        })
    # PassRole: RunInstances, CreateAutoScalingGroup (launch template), CreateFunction and
    # AddRoleToInstanceProfile ("the caller ... must be granted the PassRole permission on the
    # IAM role", IAM API reference) all pass the role; each role only to the service its trust
    # policy names.
    passed: dict[str, set[str]] = {}
    for role in roles:
        for service in _trusted_services(role):
            passed.setdefault(service, set()).add(f"arn:aws:iam::{account}:role/{_iam_name(role)}")
    for service, arns in sorted(passed.items()):
        statements.append({
            "Sid": f"PassRoleTo{_sid(service.split('.')[0])}",
            "Effect": "Allow",
            "Action": "iam:PassRole",
            "Resource": sorted(arns) if len(arns) > 1 else next(iter(arns)),
            "Condition": {"StringEquals": {"iam:PassedToService": service}},
        })
    return statements


def _iam_name(resource: Any) -> str:
    """The role or profile name, or the pattern of Pulumi's auto-name (`<name>-<7 random chars>`)."""
    if resource.inputs.get("name"):
        return str(resource.inputs["name"])
    if resource.inputs.get("namePrefix"):
        return f"{resource.inputs['namePrefix']}*"
    return f"{resource.name}-*"


def _trusted_services(role: Any) -> list[str]:
    document = role.inputs.get("assumeRolePolicy")
    if isinstance(document, str):
        try:
            document = json.loads(document)
        except ValueError:
            return []
    services: list[str] = []
    for statement in (document or {}).get("Statement", []):
        principal = statement.get("Principal") or {}
        value = principal.get("Service") if isinstance(principal, Mapping) else None
        services.extend([value] if isinstance(value, str) else list(value or []))
    return sorted(set(services))


def split_policies(statements: list[dict[str, Any]], limit: int = MANAGED_POLICY_MAX_CHARS) -> list[dict[str, Any]]:
    """Policy documents of at most ``limit`` characters each, statements kept whole and in order.

    A statement too large for a policy of its own is split by its actions.
    """
    documents: list[dict[str, Any]] = []
    current: list[dict[str, Any]] = []
    for statement in _fitting(statements, limit):
        if current and policy_chars(_document(current + [statement])) > limit:
            documents.append(_document(current))
            current = []
        current.append(statement)
    if current:
        documents.append(_document(current))
    return documents


def _fitting(statements: list[dict[str, Any]], limit: int) -> Iterable[dict[str, Any]]:
    for statement in statements:
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        if policy_chars(_document([statement])) <= limit or len(actions) == 1:
            if policy_chars(_document([statement])) > limit:
                raise DeployerPolicyError(
                    f"statement {statement['Sid']} alone exceeds {limit} characters — scope its resources more widely"
                )
            yield statement
            continue
        half = len(actions) // 2
        for part, suffix in ((actions[:half], "A"), (actions[half:], "B")):
            yield from _fitting([statement | {"Sid": statement["Sid"] + suffix, "Action": part}], limit)


def _document(statements: list[dict[str, Any]]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": statements}


def deployer_policies(usage: StackUsage, *, read_only: bool = False) -> list[dict[str, Any]]:
    """The stack's deployer (or read-only preview) policy documents, each within IAM's managed-policy size."""
    documents = split_policies(build_statements(usage, read_only=read_only))
    if len(documents) > MANAGED_POLICIES_PER_ROLE_DEFAULT:
        raise DeployerPolicyError(
            f"stack {usage.stack!r}: {len(documents)} managed policies exceed the "
            f"{MANAGED_POLICIES_PER_ROLE_DEFAULT} a role holds by default — raise the quota first"
        )
    return documents


def stack_usage(plan: Any, stack: str) -> StackUsage:
    """Everything every render of ``stack`` in ``plan`` declared and called."""
    planned = plan.stacks[stack]
    renders = [r for name, r in plan.renders if name == stack] or [planned.rendered]
    resources = [res for render in renders for res in render.resources]
    invokes = [invoke for render in renders for invoke in render.invokes]
    peers: set[tuple[str, str]] = set()
    for res in resources:
        if res.type != "pulumi:pulumi:StackReference":
            continue
        other = plan.stacks.get(str(res.state.get("name") or res.id).rsplit("/", 1)[-1])
        if other is not None and other.account_id:
            peers.add((other.account_id, other.role))
    return StackUsage(
        stack=stack,
        account_id=planned.account_id,
        region=planned.region,
        role=planned.role,
        peers=tuple(sorted(peers)),
        resources=tuple(resources),
        invokes=tuple(invokes),
    )


# --------------------------------------------------------------------------- #
# Command line (an option of `channelctl plan`)
# --------------------------------------------------------------------------- #


def add_arguments(parser: Any) -> None:
    parser.add_argument(
        "--deployer-policy", metavar="STACK",
        help="print, as a JSON list of IAM policy documents, what STACK's deployer role needs "
             "(each within IAM's 6,144-character managed-policy size), instead of the plan",
    )
    parser.add_argument(
        "--read-only", action="store_true",
        help="with --deployer-policy: only the reads and lookups a `pulumi preview --refresh` makes",
    )


def print_policies(plan: Any, stack: str | None, *, read_only: bool = False) -> int:
    """Write STACK's policy documents to stdout; 0, or 2 with one line on stderr."""
    import sys

    if stack is None:
        print("channelctl plan: --read-only applies to --deployer-policy STACK — name the stack", file=sys.stderr)
        return 2
    if stack not in plan.stacks:
        print(f"channelctl plan: --deployer-policy {stack}: no such stack in the plan "
              f"(stacks: {', '.join(plan.stacks)}) — name one of them", file=sys.stderr)
        return 2
    try:
        documents = deployer_policies(stack_usage(plan, stack), read_only=read_only)
    except DeployerPolicyError as exc:
        print(f"channelctl plan: --deployer-policy {stack}: {exc}", file=sys.stderr)
        return 2
    json.dump(documents, sys.stdout, indent=2)
    sys.stdout.write("\n")
    if len(documents) > 1:
        print(f"channelctl plan: the policy of stack {stack!r} is split into {len(documents)} documents "
              f"to keep each within {MANAGED_POLICY_MAX_CHARS} characters: attach each as its own managed policy",
              file=sys.stderr)
    return 0
