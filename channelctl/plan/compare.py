"""`channelctl plan --compare OLD.json`: what a change does to each stack, and whether AWS will take it.

OLD is an earlier ``channelctl plan --format json`` (its resources carry their inputs and
options). Each resource of the new plan is matched with the old one of the same URN:
added, deleted, changed in place, or replaced when a changed input is one the provider
replaces on (``channelctl.plan.replacements``). A replacement changes the resource's ID, so
every input that carried the old ID changes too: the comparison follows that through the
stacks until nothing more changes.

Every change gets a verdict:

- **refused**: AWS will reject the update. Pulumi creates a replacement (and every added
  resource) before it deletes anything, so a new resource that needs what an old one still
  holds fails: a fixed name, domain or IP, a record set (or a record of another routing
  policy under the same name), a subnet range overlapping one of the same VPC.
- **disruptive**: the update succeeds, but an address or name that something outside the
  stack depends on changes or disappears: the Resolver inbound IPs (on-premises DNS
  forwarders), the interface endpoints' and the NLB's IPs, the endpoint service (consumer
  endpoints), the answers for the data host and the custom domain, what the custom
  domain's listeners lead to; or live device sessions end: a new launch template version
  (user data, AMI, instance type) that the proxy fleet rolls out replaces every proxy, and
  the comparison says how many devices reconnect and how long they take at the account's
  CONNECT quota (``channelctl.plan.fleet_refresh``).
- **safe**: everything else.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from channelctl.plan.fleet_refresh import FleetBasis, refresh_reasons, starts_refresh
from channelctl.plan.replacements import (
    REPLACE_ON_CHANGE,
    UnknownType,
    identity_keys,
    is_logical,
    record_policy,
    replace_properties,
    subnets_overlap,
)

SAFE, DISRUPTIVE, REFUSED = "safe", "disruptive", "refused"
_RANK = {SAFE: 0, DISRUPTIVE: 1, REFUSED: 2}
ADDED, UPDATED, REPLACED, DELETED = "added", "changed in place", "replaced", "deleted"
# A replaced resource's ID as the inputs that carried it see it after the update.
REPLACED_MARK = "(replaced)"
# Shorter values (ports, flags) are not IDs: they never mark a dependent input as changed.
MIN_TOKEN_LENGTH = 8

T_RECORD = "aws:route53/record:Record"
T_ZONE = "aws:route53/zone:Zone"
T_SUBNET = "aws:ec2/subnet:Subnet"
T_RESOLVER = "aws:route53/resolverEndpoint:ResolverEndpoint"
T_ENDPOINT = "aws:ec2/vpcEndpoint:VpcEndpoint"
T_LB = "aws:lb/loadBalancer:LoadBalancer"
T_LISTENER = "aws:lb/listener:Listener"
T_TARGET_GROUP = "aws:lb/targetGroup:TargetGroup"
T_SERVICE = "aws:ec2/vpcEndpointService:VpcEndpointService"
T_ASG = "aws:autoscaling/group:Group"
T_LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"
T_PROVISIONING_TEMPLATE = "aws:iot/provisioningTemplate:ProvisioningTemplate"
# AWS keeps at most 5 versions of a provisioning template, and the provider adds one for every change
# of templateBody (CreateProvisioningTemplateVersion) without ever deleting one (terraform-provider-aws
# iot/provisioning_template.go, resourceProvisioningTemplateUpdate; pruning was asked for in
# hashicorp/terraform-provider-aws#35392 and not built): the sixth change fails with
# VersionsLimitExceededException (IoT API reference, CreateProvisioningTemplateVersion, Errors).
PROVISIONING_TEMPLATE_VERSIONS = 5


class CompareInputError(Exception):
    """OLD is not a plan this comparison can read; the message says what to do."""


@dataclass
class Resource:
    stack: str
    type: str
    name: str
    urn: str
    id: str
    inputs: dict[str, Any]
    options: dict[str, Any]
    outputs: dict[str, Any] = field(default_factory=dict)
    tokens: tuple[str, ...] = ()
    provider: str = ""

    @property
    def label(self) -> str:
        short = self.type.split(":")[-1] if self.type.startswith("pulumi:") else (
            f"{self.type.split(':')[1].split('/')[0]}.{self.type.split(':')[-1]}")
        return f"{short} {self.name}"


@dataclass
class Change:
    stack: str
    kind: str
    resource: Resource
    properties: list[str] = field(default_factory=list)
    replace_properties: list[str] = field(default_factory=list)
    verdict: str = SAFE
    reasons: list[str] = field(default_factory=list)

    def judge(self, verdict: str, reason: str) -> None:
        if _RANK[verdict] > _RANK[self.verdict]:
            self.verdict = verdict
        if reason not in self.reasons:
            self.reasons.append(reason)

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"type": self.resource.type, "name": self.resource.name, "verdict": self.verdict}
        if self.properties:
            data["properties"] = self.properties
        if self.replace_properties:
            data["replaceOn"] = self.replace_properties
        if self.kind == REPLACED:
            data["deleteBeforeReplace"] = bool(self.resource.options.get("deleteBeforeReplace"))
        if self.reasons:
            data["reasons"] = self.reasons
        return data


@dataclass
class Comparison:
    old_file: str
    stacks: dict[str, list[Change]]
    checks_passed: bool = True

    @property
    def changes(self) -> list[Change]:
        return [c for changes in self.stacks.values() for c in changes]

    @property
    def verdict(self) -> str:
        return max((c.verdict for c in self.changes), key=_RANK.__getitem__, default=SAFE)

    def exit_code(self, *, allow_disruptive: bool = False) -> int:
        verdict = self.verdict
        if verdict == REFUSED or (verdict == DISRUPTIVE and not allow_disruptive) or not self.checks_passed:
            return 1
        return 0


# --------------------------------------------------------------------------- #
# Loading both plans into one shape
# --------------------------------------------------------------------------- #


def resources_of_plan(data: Any, where: str) -> dict[str, list[Resource]]:
    if not isinstance(data, Mapping) or not isinstance(data.get("stacks"), list):
        raise CompareInputError(f"--compare {where}: no 'stacks' list — give the output of "
                                "`channelctl plan --format json`")
    stacks: dict[str, list[Resource]] = {}
    for stack in data["stacks"]:
        name = stack.get("name") if isinstance(stack, Mapping) else None
        if not name or not isinstance(stack.get("resources"), list):
            raise CompareInputError(f"--compare {where}: a stack without 'name' or 'resources' — give the output of "
                                    "`channelctl plan --format json`")
        resources = []
        for raw in stack["resources"]:
            if not isinstance(raw, Mapping) or "inputs" not in raw or "urn" not in raw:
                raise CompareInputError(
                    f"--compare {where}: stack {name!r}: resources carry no inputs (an older channelctl wrote it) — "
                    "render the old revision again with this channelctl: `channelctl plan --format json`"
                )
            outputs = raw.get("outputs") or {}
            tokens = tuple(
                str(v) for v in (raw.get("id"), *outputs.values()) if isinstance(v, str) and len(v) >= MIN_TOKEN_LENGTH
            )
            resources.append(Resource(stack=name, type=raw["type"], name=raw["name"], urn=raw["urn"],
                                      id=str(raw.get("id") or ""), inputs=dict(raw["inputs"] or {}),
                                      options=dict(raw.get("options") or {}), outputs=dict(outputs),
                                      tokens=tokens, provider=str(raw.get("provider") or "")))
        stacks[name] = resources
    return stacks


# --------------------------------------------------------------------------- #
# The comparison
# --------------------------------------------------------------------------- #


def compare(old: Mapping[str, list[Resource]], new: Mapping[str, list[Resource]], old_file: str = "OLD",
            basis: Mapping[str, FleetBasis] | None = None) -> Comparison:
    """Classify every difference between two plans (stack -> resources), stack by stack.

    ``basis``: per stack, the new plan's device count and CONNECT quota (``fleet_refresh.fleet_basis``),
    for the figures of a proxy fleet refresh; without it they are bounded by the fleet's own size."""
    unknown = sorted({r.type for rs in new.values() for r in rs if not is_logical(r.type)} - set(REPLACE_ON_CHANGE))
    if unknown:
        raise CompareInputError(
            f"no replace-on-change properties known for {', '.join(unknown)} — add the type to "
            "channelctl/plan/replacements.py from its Terraform schema (ForceNew fields)"
        )
    names = list(dict.fromkeys([*new, *old]))
    old_by = {s: {r.urn: r for r in old.get(s, []) if not is_logical(r.type)} for s in names}
    new_by = {s: {r.urn: r for r in new.get(s, []) if not is_logical(r.type)} for s in names}
    new_by = _keep_ids(old_by, new_by)

    # Replacements change IDs: mark every input that carried a replaced ID, until nothing more changes.
    replaced_tokens: set[str] = set()
    while True:
        changes = {s: _diff(old_by[s], new_by[s], replaced_tokens) for s in names}
        tokens = {t for cs in changes.values() for c in cs if c.kind == REPLACED
                  for t in old_by[c.stack][c.resource.urn].tokens}
        if tokens <= replaced_tokens:
            break
        replaced_tokens |= tokens

    for stack in names:
        _judge_collisions(stack, changes[stack], old_by[stack], replaced_tokens)
        _judge_surface(stack, changes[stack], old_by[stack], new_by[stack], replaced_tokens)
        _judge_refresh(changes[stack], new_by[stack], (basis or {}).get(stack))
        _note_template_versions(changes[stack])
    order = {ADDED: 0, UPDATED: 1, REPLACED: 2, DELETED: 3}
    return Comparison(
        old_file=old_file,
        stacks={s: sorted(changes[s], key=lambda c: (order[c.kind], c.resource.type, c.resource.name)) for s in names},
    )


def _keep_ids(old: Mapping[str, Mapping[str, Resource]], new: Mapping[str, Mapping[str, Resource]]
              ) -> dict[str, dict[str, Resource]]:
    """The new plan with the old IDs of every resource both plans have.

    A resource keeps its ID (and ARN, service name, ...) until it is replaced; a render
    may derive a different one (the mocks derive IDs from what they are given), which
    says nothing about the update. Replacements are marked afterwards (``_marked``).
    """
    same: dict[str, str] = {}
    for stack, resources in new.items():
        for urn, res in resources.items():
            before = old.get(stack, {}).get(urn)
            if before is None:
                continue
            pairs = [(res.id, before.id)] + [(res.outputs.get(k), before.outputs.get(k)) for k in res.outputs]
            for now, then in pairs:
                if isinstance(now, str) and isinstance(then, str) and now != then and len(now) >= MIN_TOKEN_LENGTH:
                    same[now] = then
    if not same:
        return {stack: dict(resources) for stack, resources in new.items()}

    def translate(value: Any) -> Any:
        if isinstance(value, str):
            for now, then in same.items():
                if now in value:
                    value = value.replace(now, then)
            return value
        if isinstance(value, Mapping):
            return {k: translate(v) for k, v in value.items()}
        if isinstance(value, list):
            return [translate(v) for v in value]
        return value

    return {
        stack: {
            urn: replace(res, id=translate(res.id), inputs=translate(res.inputs), outputs=translate(res.outputs),
                         tokens=tuple(translate(t) for t in res.tokens), provider=translate(res.provider))
            for urn, res in resources.items()
        }
        for stack, resources in new.items()
    }


def _marked(value: Any, tokens: set[str]) -> Any:
    """The value with every replaced ID marked, as the engine will see it after the replacement."""
    if not tokens:
        return value
    if isinstance(value, str):
        for token in tokens:
            if token in value:
                value = value.replace(token, f"{token}{REPLACED_MARK}")
        return value
    if isinstance(value, Mapping):
        return {k: _marked(v, tokens) for k, v in value.items()}
    if isinstance(value, list):
        return [_marked(v, tokens) for v in value]
    return value


def _new_inputs(resource: Resource, tokens: set[str]) -> dict[str, Any]:
    return _marked(resource.inputs, tokens)


def _diff(old: Mapping[str, Resource], new: Mapping[str, Resource], tokens: set[str]) -> list[Change]:
    changes: list[Change] = []
    for urn, res in new.items():
        before = old.get(urn)
        if before is None:
            changes.append(Change(res.stack, ADDED, res))
            continue
        after_inputs = _new_inputs(res, tokens)
        ignored = set(res.options.get("ignoreChanges") or [])
        # Both sides went through JSON (compare_base.load_base, plan_resources): plain equality holds.
        keys = sorted(k for k in set(before.inputs) | set(after_inputs)
                      if k not in ignored and before.inputs.get(k) != after_inputs.get(k))
        # A replaced provider (another region) replaces every resource it manages.
        provider_replaced = bool(res.provider) and any(token in res.provider for token in tokens)
        if not keys and not provider_replaced:
            continue
        try:
            forced = replace_properties(res.type, before.inputs, after_inputs, keys)
        except UnknownType as exc:  # pragma: no cover - compare() refuses unknown types first
            raise CompareInputError(f"unknown resource type {exc}") from None
        forced += [k for k in res.options.get("replaceOnChanges") or [] if k in keys and k not in forced]
        if provider_replaced:
            keys, forced = [*keys, "provider"], [*forced, "provider"]
        kind = REPLACED if forced else UPDATED
        changes.append(Change(res.stack, kind, res, properties=keys, replace_properties=sorted(forced)))
    for urn, res in old.items():
        if urn not in new:
            changes.append(Change(res.stack, DELETED, res))
    return changes


# --------------------------------------------------------------------------- #
# Refused: what a new resource needs while an old one still holds it
# --------------------------------------------------------------------------- #


def _judge_collisions(stack: str, changes: list[Change], old: Mapping[str, Resource], tokens: set[str]) -> None:
    # Deleted first: only replacements with delete_before_replace. Everything else old
    # (updated, replaced create-before-delete, deleted at the end) exists while new
    # resources are created.
    deleted_first = {c.resource.urn for c in changes if c.kind == REPLACED and c.resource.options.get("deleteBeforeReplace")}
    held: dict[tuple, Resource] = {}
    rrsets: dict[tuple, list[tuple[str, Resource]]] = {}
    old_subnets = []
    for urn, res in old.items():
        if urn in deleted_first:
            continue
        for key in identity_keys(res.type, res.inputs):
            held.setdefault(key, res)
        if res.type == T_RECORD:
            rrsets.setdefault(_rrset(res.inputs), []).append((record_policy(res.inputs), res))
        if res.type == T_SUBNET:
            old_subnets.append(res)
    for change in changes:
        if change.kind not in (ADDED, REPLACED):
            continue
        if change.kind == REPLACED and change.resource.urn in deleted_first:
            continue
        res = change.resource
        inputs = _new_inputs(res, tokens)
        for key in identity_keys(res.type, inputs):
            holder = held.get(key)
            if holder is not None:
                who = "the resource it replaces" if holder.urn == res.urn else holder.label
                change.judge(REFUSED, f"needs {_describe_key(key)}, which {who} still holds: Pulumi creates before it "
                                      "deletes" + (" (set delete_before_replace, or change the name too)"
                                                   if change.kind == REPLACED else ""))
        if res.type == T_RECORD:
            policy = record_policy(inputs)
            for other_policy, holder in rrsets.get(_rrset(inputs), []):
                if other_policy != policy and holder.urn != res.urn:
                    change.judge(REFUSED, f"a {policy} record for {_rrset(inputs)[1]} next to the {other_policy} "
                                          f"record {holder.name}, which is deleted only afterwards: Route 53 keeps one "
                                          "routing policy per name and type")
        if res.type == T_SUBNET:
            for holder in old_subnets:
                if holder.urn == res.urn and change.kind == ADDED:
                    continue
                if subnets_overlap(inputs, holder.inputs) and (holder.urn != res.urn or change.kind == REPLACED):
                    who = "the subnet it replaces" if holder.urn == res.urn else f"subnet {holder.name}"
                    change.judge(REFUSED, f"range {inputs.get('cidrBlock')} overlaps {holder.inputs.get('cidrBlock')} "
                                          f"of {who}, which still exists when Pulumi creates the new one")


def _rrset(inputs: Mapping[str, Any]) -> tuple:
    return (inputs.get("zoneId"), str(inputs.get("name", "")).rstrip(".").lower(), inputs.get("type"))


def _describe_key(key: tuple) -> str:
    kind = key[0]
    if kind == "name":
        return f"the {key[1]} {key[2]!r}"
    if kind == "ip":
        return f"the IP {key[1]}"
    if kind == "record":
        return f"the record set {key[2]} {key[3]}" + (f" (set identifier {key[4]})" if key[4] else "")
    if kind == "route":
        return f"the route to {key[2]}"
    return " ".join(str(k) for k in key)


# --------------------------------------------------------------------------- #
# Disruptive: what the outside depends on
# --------------------------------------------------------------------------- #


def _surface(resources: Mapping[str, Resource], tokens: set[str], *, after: bool) -> dict[str, dict[str, str]]:
    """What others depend on: (item -> {value: URN of the resource that provides it})."""
    def inputs(r: Resource) -> dict[str, Any]:
        return _new_inputs(r, tokens) if after else r.inputs

    zones = {r.id: str(inputs(r).get("name", "")).rstrip(".") for r in resources.values() if r.type == T_ZONE}
    groups = {}
    for r in resources.values():
        if r.type == T_TARGET_GROUP:
            arn = str(r.outputs.get("arn", r.id))
            groups[_marked(arn, tokens) if after else arn] = inputs(r)
    surface: dict[str, dict[str, str]] = {}

    def add(item: str, value: str, r: Resource) -> None:
        surface.setdefault(item, {})[value] = r.urn

    for r in resources.values():
        i = inputs(r)
        if r.type == T_RESOLVER and str(i.get("direction", "")).upper() == "INBOUND":
            for entry in i.get("ipAddresses") or []:
                add("Resolver inbound IPs (on-premises DNS forwarders point at them)", str(entry.get("ip")), r)
            add("Resolver inbound endpoint (on-premises DNS forwarders)", _marked(r.id, tokens) if after else r.id, r)
        elif r.type == T_ENDPOINT and i.get("vpcEndpointType") == "Interface" and i.get("subnetConfigurations"):
            for entry in i["subnetConfigurations"]:
                add(f"IPs of endpoint {r.name} (DNS records, NLB targets)", str(entry.get("ipv4")), r)
        elif r.type == T_LB:
            for entry in i.get("subnetMappings") or []:
                if entry.get("privateIpv4Address"):
                    add("NLB IPs (the custom domain's records)", str(entry["privateIpv4Address"]), r)
        elif r.type == T_SERVICE:
            add("endpoint service name (consumer endpoints connect to it)", _marked(r.id, tokens) if after else r.id, r)
        elif r.type == T_RECORD:
            zone_id = str(r.inputs.get("zoneId"))
            host = zones.get(zone_id, str(i.get("name", "")))
            values = [str(v) for v in i.get("records") or []] + [str(a.get("name")) for a in i.get("aliases") or []]
            for value in values:
                add(f"answers for {host}", value, r)
        elif r.type == T_LISTENER:
            actions = i.get("defaultActions") or []
            targets = []
            for action in actions:
                group = groups.get(str(action.get("targetGroupArn")))
                if group is not None:
                    targets.append(f"{group.get('protocol')} {group.get('targetType')} targets on "
                                   f"{_int(group.get('port'))}")
                else:
                    targets.append(f"{action.get('type')} {action.get('targetGroupArn')}")
            add(f"what NLB port {_int(i.get('port'))} leads to", f"{i.get('protocol')} -> {', '.join(targets)}", r)
    return surface


def _int(value: Any) -> Any:
    try:
        return int(value)
    except (TypeError, ValueError):
        return value


def _judge_surface(stack: str, changes: list[Change], old: Mapping[str, Resource], new: Mapping[str, Resource],
                   tokens: set[str]) -> None:
    before = _surface(old, set(), after=False)
    after = _surface(new, tokens, after=True)
    by_urn = {c.resource.urn: c for c in changes}
    for item, values in before.items():
        now = after.get(item, {})
        lost = [v for v in values if v not in now]
        if not lost:
            continue
        for value in lost:
            change = by_urn.get(values[value])
            if f"{value}{REPLACED_MARK}" in now:
                reason = f"{item}: replaced by a new one"
            else:
                reason = f"{item}: {value} goes away" + (f" (now {', '.join(sorted(now))})" if now else "")
            if change is None:  # pragma: no cover - a lost value always comes from a changed resource
                continue
            change.judge(DISRUPTIVE, reason)
    for change in changes:
        if change.kind == REPLACED and change.resource.options.get("deleteBeforeReplace"):
            change.judge(DISRUPTIVE, "deleted before its replacement is created: absent in between")
    # Removing a value's provider while its item stays (the fleet behind a listener) shows in
    # the listener; list what goes with it.
    for change in changes:
        if change.kind == DELETED and any(r.startswith("what NLB port") for c in changes for r in c.reasons
                                          if c.verdict == DISRUPTIVE):
            if change.resource.type in ("aws:autoscaling/group:Group", "aws:ec2/launchTemplate:LaunchTemplate",
                                        T_TARGET_GROUP, "aws:lb/targetGroupAttachment:TargetGroupAttachment"):
                change.judge(DISRUPTIVE, "removed with the custom domain's former target")


def _judge_refresh(changes: list[Change], new: Mapping[str, Resource], basis: FleetBasis | None) -> None:
    """A group that replaces its instances ends every device session on them (``fleet_refresh``)."""
    templates = {r.id: r for r in new.values() if r.type == T_LAUNCH_TEMPLATE}
    target_groups = [r for r in new.values() if r.type == T_TARGET_GROUP]
    by_id = {c.resource.id: c for c in changes if c.resource.type == T_LAUNCH_TEMPLATE}
    for change in changes:
        group = change.resource
        if group.type != T_ASG:
            continue
        if change.kind == REPLACED:
            change.judge(DISRUPTIVE, "a new group replaces this one: every proxy instance goes, with its devices, "
                                     "when the old group is deleted")
            continue
        if change.kind != UPDATED or not starts_refresh(group.inputs, change.properties):
            continue
        for reason in refresh_reasons(group, templates, target_groups, basis):
            change.judge(DISRUPTIVE, reason)
        template = by_id.get(str((group.inputs.get("launchTemplate") or {}).get("id")))
        if template is not None and template.kind in (UPDATED, REPLACED):
            template.judge(DISRUPTIVE, f"a new version ({', '.join(template.properties)}): group {group.name} "
                                       "replaces every proxy instance with it (the group's instance refresh)")


def _note_template_versions(changes: list[Change]) -> None:
    """A new provisioning template body is a new template version: safe, until the fifth."""
    for change in changes:
        if (change.kind == UPDATED and change.resource.type == T_PROVISIONING_TEMPLATE
                and "templateBody" in change.properties):
            name = change.resource.inputs.get("name", change.resource.name)
            change.judge(SAFE, f"a new version of the template: AWS keeps {PROVISIONING_TEMPLATE_VERSIONS} and the "
                               "provider never deletes one, so when `aws iot list-provisioning-template-versions "
                               f"--template-name {name}` lists {PROVISIONING_TEMPLATE_VERSIONS}, delete the oldest "
                               "that is not the default (`aws iot delete-provisioning-template-version`) before "
                               "this release")


# --------------------------------------------------------------------------- #
# Output
# --------------------------------------------------------------------------- #

_SYMBOL = {ADDED: "+", UPDATED: "~", REPLACED: "+-", DELETED: "-"}
# What starts a line of to_text after its indent: a change's symbol (padded to two), then a reason's dash.
TEXT_MARKERS = (*(f"{symbol:2} " for symbol in _SYMBOL.values()), "- ")


# The shape of to_json's output, described in docs/plan-compare.schema.json: raised when a key
# changes meaning or goes away (added keys keep it).
SCHEMA_VERSION = 1


def to_json(comparison: Comparison, *, allow_disruptive: bool = False) -> dict[str, Any]:
    return {
        "schemaVersion": SCHEMA_VERSION,
        "old": comparison.old_file,
        "verdict": comparison.verdict,
        "checksPassed": comparison.checks_passed,
        "exitCode": comparison.exit_code(allow_disruptive=allow_disruptive),
        "stacks": [
            {
                "name": stack,
                **{key: [c.to_json() for c in changes if c.kind == kind]
                   for key, kind in (("added", ADDED), ("changed", UPDATED), ("replaced", REPLACED),
                                     ("deleted", DELETED))},
            }
            for stack, changes in comparison.stacks.items()
        ],
    }


def to_text(comparison: Comparison, *, allow_disruptive: bool = False) -> str:
    out = [f"Changes against {comparison.old_file}"]
    for stack, changes in comparison.stacks.items():
        counts = {kind: sum(1 for c in changes if c.kind == kind) for kind in (ADDED, UPDATED, REPLACED, DELETED)}
        out.append("")
        out.append(f"Stack {stack}: " + ", ".join(f"{n} {kind}" for kind, n in counts.items()))
        for change in changes:
            props = ""
            if change.kind == REPLACED:
                props = f" (replaced on {', '.join(change.replace_properties)}" + (
                    ", delete before replace)" if change.resource.options.get("deleteBeforeReplace") else ")")
            elif change.kind == UPDATED:
                props = f" ({', '.join(change.properties)})"
            verdict = "" if change.verdict == SAFE else f"  {change.verdict.upper()}"
            out.append(f"  {_SYMBOL[change.kind]:2} {change.resource.label}{props}{verdict}")
            for reason in change.reasons:
                out.append(f"       - {reason}")
    counts = {v: sum(1 for c in comparison.changes if c.verdict == v) for v in (REFUSED, DISRUPTIVE, SAFE)}
    out.append("")
    out.append(f"Verdict: {comparison.verdict} ({counts[REFUSED]} refused by AWS, {counts[DISRUPTIVE]} disruptive, "
               f"{counts[SAFE]} safe changes)" + ("" if comparison.checks_passed else
                                                   "; the new plan FAILS its checks (run channelctl plan)"))
    if comparison.verdict == DISRUPTIVE and allow_disruptive:
        out.append("Disruptive changes allowed (--allow-disruptive).")
    return "\n".join(out) + "\n"


def plan_resources(stacks: Mapping[str, Any]) -> dict[str, list[Resource]]:
    """The new plan's resources in the shape of a loaded OLD plan (JSON round trip included)."""
    from channelctl.plan.describe import resource_json

    data = {"stacks": [{"name": name, "resources": [resource_json(r) for r in s.rendered.resources]}
                       for name, s in stacks.items()]}
    return resources_of_plan(json.loads(json.dumps(data, default=str)), "the new plan")
