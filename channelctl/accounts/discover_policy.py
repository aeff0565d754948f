"""The read-only IAM policy ``channelctl discover`` needs in a stack's account.

A separate document beside the deployer policy (``channelctl plan --deployer-policy STACK``): attach
both to the stack's ``assumeRoleArn`` role, or this one alone to a role used only to discover.
``channelctl discover STACK --policy`` prints it. One statement per service; where a service has
actions with and without resource-level permissions, the ones without get a second statement with
``Resource: "*"``, so that ``*`` is granted only to what nothing narrower grants.

Which actions take a resource ARN is the Service Authorization Reference's "Resource types" column
(https://docs.aws.amazon.com/service-authorization/latest/reference/ — list_amazonec2.html,
list_servicequotas.html, list_awsidentityandaccessmanagementiam.html, list_amazoncloudwatchlogs.html,
list_awsorganizations.html, list_awsdirectconnect.html, list_awsresourceaccessmanager.html,
list_awscertificatemanager.html, list_awsiot.html, list_awssecuritytokenservice.html,
list_awscloudtrail.html); the deployer policy's table (``channelctl/plan/deployer_actions.py``,
``_UNSCOPED``) agrees for every action both name.
``sts:AssumeRole`` is not here: the caller's own permissions and the role's trust policy grant it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from channelctl.accounts.reads import quotas_for

ROLES = ("network", "iot", "consumer")
# The resource of an action granted per quota (servicequotas:GetServiceQuota): the quotas' own ARNs.
QUOTA_ARNS = "<each quota read>"
# Any trail in any Region and account: multi-Region trails and organization trails (channelctl.accounts.trails).
TRAIL_ARNS = "arn:{partition}:cloudtrail:*:*:trail/*"


@dataclass(frozen=True)
class DiscoverAction:
    """One API call discover makes, the ARN it is granted on and the roles whose account it reads."""

    action: str
    # ARN pattern ({partition}, {region}, {account}); None: no resource type in the Service
    # Authorization Reference, so only "*" grants it.
    resource: str | None
    roles: tuple[str, ...] = ROLES


ACTIONS: tuple[DiscoverAction, ...] = (
    # Needs no permission of its own, but an explicit deny can still block it.
    DiscoverAction("sts:GetCallerIdentity", None),
    DiscoverAction("ec2:DescribeAvailabilityZones", None),
    DiscoverAction("ec2:DescribeVpcEndpointServices", None, ("iot", "consumer")),
    DiscoverAction("servicequotas:GetServiceQuota", QUOTA_ARNS),
    DiscoverAction("servicequotas:GetAWSDefaultServiceQuota", None),
    DiscoverAction("iam:GetRole", "arn:{partition}:iam::{account}:role/*"),
    DiscoverAction("logs:DescribeLogGroups", None, ("iot",)),
    DiscoverAction("organizations:ListAWSServiceAccessForOrganization", None, ("network",)),
    DiscoverAction("directconnect:DescribeConnections", "arn:{partition}:directconnect:{region}:{account}:dxcon/*",
                   ("network",)),
    DiscoverAction("directconnect:DescribeDirectConnectGateways", None, ("network",)),
    DiscoverAction("ram:GetResourceShareInvitations", None, ("iot",)),
    # The stack's config requires the certificate in the stack's own Region and account.
    DiscoverAction("acm:DescribeCertificate", "arn:{partition}:acm:{region}:{account}:certificate/*", ("iot",)),
    DiscoverAction("iot:GetV2LoggingOptions", None, ("iot",)),
    # DescribeTrails takes no resource; GetTrailStatus and GetEventSelectors take the trail (the
    # condition key aws:ResourceTag applies to them, not to DescribeTrails: list_awscloudtrail.html, as
    # udondan/iam-floyd's generated policy-statements/cloudtrail.ts carries it). The trails that count may
    # live in another Region (a multi-Region trail's home Region) and another account (an organization
    # trail belongs to the management account), so the trail ARN names neither.
    DiscoverAction("cloudtrail:DescribeTrails", None, ("iot",)),
    DiscoverAction("cloudtrail:GetTrailStatus", TRAIL_ARNS, ("iot",)),
    DiscoverAction("cloudtrail:GetEventSelectors", TRAIL_ARNS, ("iot",)),
)


def partition_of(region: str) -> str:
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


def policy_document(role: str, account_id: str, region: str) -> dict[str, Any]:
    """The policy for discover in a stack of ``role`` in ``account_id`` and ``region``."""
    if role not in ROLES:
        raise ValueError(f"role {role!r} is not one of {', '.join(ROLES)}")
    partition = partition_of(region)
    quota_arns = [f"arn:{partition}:servicequotas:{region}:{account_id}:{q.key}" for q in quotas_for(role)]
    scoped: dict[str, tuple[list[str], list[str]]] = {}
    unscoped: dict[str, list[str]] = {}
    for entry in ACTIONS:
        if role not in entry.roles:
            continue
        service = entry.action.split(":", 1)[0]
        if entry.resource is None:
            unscoped.setdefault(service, []).append(entry.action)
            continue
        resources = quota_arns if entry.resource == QUOTA_ARNS else [
            entry.resource.format(partition=partition, region=region, account=account_id)]
        actions, arns = scoped.setdefault(service, ([], []))
        actions.append(entry.action)
        arns.extend(a for a in resources if a not in arns)
    statements = []
    for service in dict.fromkeys(e.action.split(":", 1)[0] for e in ACTIONS):
        if service in scoped:
            actions, arns = scoped[service]
            statements.append(_statement(f"Discover{_sid(service)}", actions, arns))
        if service in unscoped:
            suffix = "AnyResource" if service in scoped else ""
            statements.append(_statement(f"Discover{_sid(service)}{suffix}", unscoped[service], ["*"]))
    return {"Version": "2012-10-17", "Statement": statements}


def policy_for(config: Any) -> dict[str, Any]:
    """The policy for the stack whose typed config (``components.config.load_config``) is ``config``."""
    common = config.common
    return policy_document(common.role, common.account_id, common.region)


def actions_of(document: dict[str, Any]) -> set[str]:
    """Every action a policy document grants."""
    found: set[str] = set()
    for statement in document["Statement"]:
        action = statement["Action"]
        found.update([action] if isinstance(action, str) else action)
    return found


def _statement(sid: str, actions: list[str], resources: list[str]) -> dict[str, Any]:
    return {"Sid": sid, "Effect": "Allow", "Action": sorted(actions) if len(actions) > 1 else actions[0],
            "Resource": resources if len(resources) > 1 else resources[0]}


def _sid(service: str) -> str:
    return "".join(part.capitalize() for part in re.split(r"[^a-z0-9]", service))
