"""Ordering the provider cannot infer: a resource that uses an IAM role waits for the role's permissions.

Passing ``role.arn`` orders a resource after the role, never after the role's inline policies
(``aws.iam.RolePolicy``) or policy attachments (``aws.iam.RolePolicyAttachment``): those are
separate resources that reference the role, not the other way round. A service that receives
the role before its permissions exist fails in its own way: a VPC flow log created before its
role may write to CloudWatch Logs stays in a failed delivery state; a Lambda function in a VPC
is refused without ``ec2:CreateNetworkInterface``; IoT Core logging and Device Defender
audits lose what they write. So each such resource must ``depends_on`` every permission of the
role, directly or through a parent component (a child is registered only after its parent,
and a component with ``depends_on`` only after what it names, so the wait is inherited), or
through a dependency on a component that holds the permission.

``depends_on`` below is the one dependency test the plan's checks share (the ``addresses``
check asks it too).
"""

from __future__ import annotations

from typing import Any, Iterable, Iterator, Mapping

from channelctl.plan.checks.model import Channel, CheckResult, Findings, PlannedStack, Res, short_type

ORDERING = "ordering"

T_ROLE = "aws:iam/role:Role"
T_ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
T_ROLE_POLICY_ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
PERMISSION_TYPES = (T_ROLE_POLICY, T_ROLE_POLICY_ATTACHMENT)
# Resources that name a role to hold or grant it, not to use it.
NOT_USERS = {T_ROLE, *PERMISSION_TYPES, "aws:iam/rolePoliciesExclusive:RolePoliciesExclusive",
             "aws:iam/rolePolicyAttachmentsExclusive:RolePolicyAttachmentsExclusive"}


class Dependencies:
    """What each rendered resource waits for, as Pulumi orders it: its own dependencies and its
    ancestors', a dependency on a component counting for everything under that component."""

    def __init__(self, ch: Channel):
        self.by_urn: dict[str, Res] = {res.r.urn: res for res in ch.all}
        self._waits: dict[str, frozenset[str]] = {}

    def ancestors(self, res: Res) -> Iterator[Res]:
        seen: set[str] = set()
        parent = self.by_urn.get(res.r.parent)
        while parent is not None and parent.r.urn not in seen:
            seen.add(parent.r.urn)
            yield parent
            parent = self.by_urn.get(parent.r.parent)

    def waits_for(self, res: Res) -> frozenset[str]:
        if res.r.urn not in self._waits:
            urns = set(res.r.dependencies)
            for ancestor in self.ancestors(res):
                urns.update(ancestor.r.dependencies)
            self._waits[res.r.urn] = frozenset(urns)
        return self._waits[res.r.urn]

    def depends_on(self, res: Res, target: Res) -> bool:
        """Whether Pulumi creates ``res`` only after ``target``."""
        waits = self.waits_for(res)
        return target.r.urn in waits or any(a.r.urn in waits for a in self.ancestors(target))


def role_references(inputs: Any, key: str = "") -> Iterator[str]:
    """Every string an input names a role by: the values of keys ``role``, ``roleArn``,
    ``iamRoleArn``, ``executionRoleArn``, ... at any depth (policy documents name roles as
    principals, which is no use of the role)."""
    if isinstance(inputs, Mapping):
        for k, v in inputs.items():
            yield from role_references(v, str(k))
    elif isinstance(inputs, (list, tuple)):
        for v in inputs:
            yield from role_references(v, key)
    elif isinstance(inputs, str) and key.lower().endswith(("role", "rolearn")):
        yield inputs


def _role_keys(role: Res) -> set[str]:
    return {v for v in (role.id, role.r.state.get("arn"), role.r.state.get("name"), role.r.inputs.get("name")) if v}


def roles_of(ch: Channel, stack: PlannedStack) -> dict[str, Res]:
    """Each name, id and ARN of the stack's roles -> the role."""
    return {key: role for role in ch.of_type(T_ROLE, stack) for key in _role_keys(role)}


def permissions_of(ch: Channel, stack: PlannedStack, role: Res) -> list[Res]:
    keys = _role_keys(role)
    return [p for t in PERMISSION_TYPES for p in ch.of_type(t, stack) if p.get("role") in keys]


def check_ordering(ch: Channel) -> CheckResult:
    f = Findings()
    deps = Dependencies(ch)
    users = 0
    for stack in sorted(ch.stacks.values(), key=lambda s: s.name):
        roles = roles_of(ch, stack)
        if not roles:
            continue
        for res in (r for r in ch.all if r.stack is stack):
            if res.type in NOT_USERS or res.type.startswith("pulumi:"):
                continue
            used = _unique(roles[ref] for ref in role_references(res.r.inputs) if ref in roles)
            for role in used:
                users += 1
                permissions = permissions_of(ch, stack, role)
                missing = [p for p in permissions if not deps.depends_on(res, p)]
                for p in missing:
                    f.bad(
                        f"{res.label} ({short_type(res.type)}) uses role {role.label} but does not depend on its "
                        f"{short_type(p.type)} {p.label}: it may be created before the role may do anything "
                        f"— add depends_on=[{p.r.name}]",
                        res.label, role.label, p.label,
                    )
                if permissions and not missing:
                    f.ok(f"{res.label} waits for the {len(permissions)} permission(s) of role {role.label}", res.label)
    return f.result(ORDERING, f"{users} uses of an IAM role wait for the role's inline policies and attachments")


def _unique(items: Iterable[Res]) -> list[Res]:
    found: dict[str, Res] = {}
    for item in items:
        found.setdefault(item.r.urn, item)
    return list(found.values())
