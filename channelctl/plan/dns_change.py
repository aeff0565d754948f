"""A renamed private zone in `channelctl plan --compare`: what the VPCs of other accounts resolve meanwhile.

A private hosted zone cannot be renamed: a new ``customDomain`` replaces the iot stack's zone
for it (``name`` forces replacement, terraform-provider-aws
``internal/service/route53/zone.go``). The zone owner's update creates the new zone with only
its own VPC, and deletes the old one at its end (Pulumi creates before it deletes). Route 53
deletes a private zone even while a VPC of another account is still associated with it, and
that account's later delete of the gone association succeeds (hashicorp/terraform-provider-aws
issue #17016, fixed by pull request #17023), so the update goes through. But the VPC of
another account (the device VPC) is associated with the new zone only by its own stack's
``ZoneAssociation``, at that stack's next update (release step 3 after step 2). In between,
that VPC has a private zone for neither name, and its Resolver answers both from public DNS
(Route 53 developer guide, "Considerations when working with a private hosted zone":
overlapping public and private namespaces, a query with no matching private zone goes to
public DNS) — never the channel's private addresses.

Keeping the old zone until the new one is associated would close only half of that window:
the same iot update replaces the IoT domain configuration (its ``domain_name`` forces
replacement), after which IoT Core no longer serves the old name at all. So a domain change
is reported as disruptive, with the window, rather than staged.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from channelctl.plan.compare import ADDED, DELETED, DISRUPTIVE, REPLACED, T_ZONE, Change, Comparison, Resource
from channelctl.project import RELEASE_ORDER

T_ZONE_ASSOCIATION = "aws:route53/zoneAssociation:ZoneAssociation"
T_DOMAIN_CONFIGURATION = "aws:iot/domainConfiguration:DomainConfiguration"


@dataclass(frozen=True)
class DomainMove:
    """One private zone of ``owner`` that answers ``after`` instead of ``before``."""

    owner: str
    zone: str
    before: str
    after: str
    associated: tuple[str, ...]
    """Stacks whose VPCs were associated with the old zone from their own account."""
    reassociated: tuple[str, ...]
    """Those of them whose new plan associates the new zone."""


def _host(resource: Resource) -> str:
    return str(resource.inputs.get("name", "")).rstrip(".").lower()


def _ids(resource: Resource) -> set[str]:
    return {v for v in (resource.id, resource.outputs.get("zoneId")) if isinstance(v, str) and v}


def _associations(plan: Mapping[str, list[Resource]], owner: str, zone: Resource) -> tuple[str, ...]:
    ids = _ids(zone)
    return tuple(sorted({stack for stack, resources in plan.items() if stack != owner for r in resources
                         if r.type == T_ZONE_ASSOCIATION and str(r.inputs.get("zoneId")) in ids}))


def domain_moves(old: Mapping[str, list[Resource]], new: Mapping[str, list[Resource]]) -> list[DomainMove]:
    """Every zone whose name changes: the same resource renamed, or in one stack one zone gone
    and one new (a zone named after its host)."""
    moves = []
    for owner in dict.fromkeys([*old, *new]):
        # A zone whose name the plan does not carry (a base of an earlier shape) moves nothing.
        before = {r.urn: r for r in old.get(owner, []) if r.type == T_ZONE and _host(r)}
        after = {r.urn: r for r in new.get(owner, []) if r.type == T_ZONE and _host(r)}
        pairs = [(before[u], after[u]) for u in before.keys() & after.keys() if _host(before[u]) != _host(after[u])]
        gone = [r for u, r in before.items() if u not in after and _host(r) not in {_host(a) for a in after.values()}]
        came = [r for u, r in after.items() if u not in before and _host(r) not in {_host(b) for b in before.values()}]
        if len(gone) == 1 and len(came) == 1:
            pairs.append((gone[0], came[0]))
        for was, now in sorted(pairs, key=lambda p: p[1].name):
            moves.append(DomainMove(owner=owner, zone=now.name, before=_host(was), after=_host(now),
                                    associated=_associations(old, owner, was),
                                    reassociated=_associations(new, owner, now)))
    return moves


def _role(stack: str, roles: Mapping[str, str]) -> str:
    return roles.get(stack) or stack.split("-", 1)[0]


def _steps(role: str) -> list[int]:
    return [number for number, r, _ in RELEASE_ORDER if r == role]


def window(owner_role: str, vpc_role: str) -> tuple[int | None, int | None]:
    """The release step that replaces the zone, and the later step that associates the new one."""
    first = next(iter(_steps(owner_role)), None)
    later = next((n for n in _steps(vpc_role) if first is not None and n > first), None)
    return first, later


def judge_domain_changes(comparison: Comparison, old: Mapping[str, list[Resource]],
                         new: Mapping[str, list[Resource]], roles: Mapping[str, str] | None = None) -> list[DomainMove]:
    """Mark each renamed zone disruptive, saying what the VPCs of other accounts resolve and when."""
    roles = roles or {}
    moves = domain_moves(old, new)
    for move in moves:
        zone_change = _change(comparison, move.owner, T_ZONE, move.zone)
        if zone_change is None:  # pragma: no cover - a renamed zone is always a change
            continue
        owner_role = _role(move.owner, roles)
        for vpc_stack in move.associated:
            first, later = window(owner_role, _role(vpc_stack, roles))
            when = (f"from release step {first} ({move.owner}) until step {later} ({vpc_stack})"
                    if first and later else f"from this update of {move.owner} until the next update of {vpc_stack}")
            if vpc_stack in move.reassociated:
                fix = f"{vpc_stack}'s ZoneAssociation for {move.after} closes the gap: run that step right after"
            else:
                fix = (f"nothing in {vpc_stack}'s new plan associates the zone for {move.after}: its VPC will not "
                       f"resolve it at all")
            zone_change.judge(
                DISRUPTIVE,
                f"DNS gap for the VPC of stack {vpc_stack} ({move.before} becomes {move.after}): {when} that VPC "
                f"resolves neither name to the channel's addresses: the zone for {move.before} is deleted at the end "
                f"of {move.owner}'s update, the zone for {move.after} is associated with that VPC only by {vpc_stack} "
                f"itself; devices that look either name up in between get public DNS's answer. {fix}",
            )
        served_in = _serving_stack(comparison, move.after)
        if served_in is not None and served_in != move.owner:
            # A zone of its own (a consumer's): it follows the domain only at its stack's own update,
            # while IoT Core stops serving the old name at the serving stack's.
            first, later = window(_role(served_in, roles), owner_role)
            when = (f"from release step {first} ({served_in}) until step {later} ({move.owner})" if first and later
                    else f"from the update of {served_in} until the next update of {move.owner}")
            zone_change.judge(
                DISRUPTIVE,
                f"No working name for the VPC of stack {move.owner} {when}: IoT Core serves only {move.after} from "
                f"{served_in}'s update, and this VPC resolves {move.after} only once {move.owner}'s zone for it "
                f"replaces the one for {move.before}",
            )
        served = _change(comparison, move.owner, T_DOMAIN_CONFIGURATION, None, domain=move.after)
        if served is not None and served.kind in (REPLACED, ADDED):
            served.judge(
                DISRUPTIVE,
                f"IoT Core serves {move.after} instead of {move.before} from {move.owner}'s update: devices and "
                f"applications that still connect with {move.before} fail their TLS handshake (no domain "
                f"configuration answers that SNI any more) — move them to {move.after}",
            )
    return moves


def _serving_stack(comparison: Comparison, domain: str) -> str | None:
    """The stack whose changed domain configuration serves ``domain`` in the new plan."""
    for stack in comparison.stacks:
        if _change(comparison, stack, T_DOMAIN_CONFIGURATION, None, domain=domain) is not None:
            return stack
    return None


def _change(comparison: Comparison, stack: str, type_: str, name: str | None, *, domain: str = "") -> Change | None:
    for change in comparison.stacks.get(stack, []):
        if change.resource.type != type_ or change.kind == DELETED:
            continue
        if name is not None and change.resource.name == name:
            return change
        if domain and str(change.resource.inputs.get("domainName", "")).rstrip(".").lower() == domain:
            return change
    return None
