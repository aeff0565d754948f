"""``deployable``: what AWS would refuse although the Pulumi provider accepts it.

Each rule reads its limit from ``components.aws_limits``, where the source
(AWS API reference page or Service Quotas code, with its URL) sits next to
the number; the program's own validation reads the same constants.
"""

from __future__ import annotations

from typing import Any, Iterable

from channelctl.plan.checks.model import (
    DEPLOYABLE,
    T_ASG,
    T_ENDPOINT,
    T_LAMBDA,
    T_LB,
    T_SG,
    T_SG_IN,
    T_SG_OUT,
    T_SG_RULE,
    T_TARGET_ATTACHMENT,
    T_TARGET_GROUP,
    Channel,
    CheckResult,
    Findings,
    PlannedStack,
    Res,
    as_flag,
    as_int,
    as_network,
    listeners_of,
)
from channelctl.plan.checks.paths import listener_target_groups
from channelctl.plan.checks.sources import grouped, world
from channelctl.plan.world import Answer
from components import aws_limits as limits

T_IAM_ROLE = "aws:iam/role:Role"
T_LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
T_IOT_DOMAIN = "aws:iot/domainConfiguration:DomainConfiguration"
T_IOT_AUTHORIZER = "aws:iot/authorizer:Authorizer"

# Resource type -> (the name rule, whether the provider has name_prefix).
NAMED = {
    T_LB: (limits.NLB_NAME, True),
    T_TARGET_GROUP: (limits.TARGET_GROUP_NAME, True),
    T_LAMBDA: (limits.LAMBDA_NAME, False),
    T_IAM_ROLE: (limits.IAM_ROLE_NAME, True),
    T_LOG_GROUP: (limits.LOG_GROUP_NAME, True),
    T_IOT_DOMAIN: (limits.IOT_DOMAIN_CONFIGURATION_NAME, False),
    T_IOT_AUTHORIZER: (limits.IOT_AUTHORIZER_NAME, False),
}


def check_deployable(ch: Channel) -> CheckResult:
    f = Findings()
    quotas: list[tuple[PlannedStack, Answer, str, str]] = []
    counts = {
        "descriptions": _descriptions(ch, f),
        "names": _names(ch, f),
        "security groups": _rule_counts(ch, f, quotas),
        "VPCs": _interface_endpoints(ch, f, quotas),
        "NLBs": _load_balancers(ch, f),
        "functions": _concurrency(ch, f, quotas),
    }
    # Where each account's quotas came from: one line per facts file read, one per reason assumed.
    f.source(*grouped(sorted(quotas, key=lambda q: list(ch.stacks).index(q[0].name))))
    summary = (f"{counts['descriptions']} security-group descriptions, {counts['names']} names, rules of "
               f"{counts['security groups']} security groups, interface endpoints of {counts['VPCs']} VPCs, "
               f"{counts['NLBs']} NLBs and {counts['functions']} reserved concurrencies are within what AWS accepts")
    return f.result(DEPLOYABLE, summary)


# --------------------------------------------------------------------------- #
# Security-group descriptions (EC2 charset and length)
# --------------------------------------------------------------------------- #


def _descriptions(ch: Channel, f: Findings) -> int:
    seen = 0
    for sg in ch.of_type(T_SG):
        texts = [("the group", sg.r.inputs.get("description"))]
        for direction in ("ingress", "egress"):
            for i, entry in enumerate(sg.r.inputs.get(direction) or []):
                texts.append((f"{direction}[{i}]", entry.get("description")))
        seen += _check_texts(sg, texts, f)
    for token in (T_SG_RULE, T_SG_IN, T_SG_OUT):
        for rule in ch.of_type(token):
            seen += _check_texts(rule, [("the rule", rule.r.inputs.get("description"))], f)
    return seen


def _check_texts(res: Res, texts: list[tuple[str, Any]], f: Findings) -> int:
    seen = 0
    for where, text in texts:
        if text is None:
            continue
        seen += 1
        problem = limits.sg_description_problem(text)
        if problem:
            f.bad(f"{res.label} ({where}): {problem} (EC2 CreateSecurityGroup / IpRange Description)", res.label)
    if seen:
        f.involve(res.label)
    return seen


# --------------------------------------------------------------------------- #
# Names (length and charset, counting what the provider appends)
# --------------------------------------------------------------------------- #


def planned_name(res: Res) -> tuple[str, int, str]:
    """(name, characters the provider appends, how the name is made)."""
    inputs = res.r.inputs
    if inputs.get("name"):
        return str(inputs["name"]), 0, "name"
    if inputs.get("namePrefix"):
        return str(inputs["namePrefix"]), limits.NAME_PREFIX_SUFFIX, "namePrefix"
    # Neither: Pulumi auto-names it after the logical name.
    return res.r.name, limits.AUTONAME_SUFFIX, "auto-named"


def _names(ch: Channel, f: Findings) -> int:
    seen = 0
    for token, (rule, _) in NAMED.items():
        for res in ch.of_type(token):
            seen += 1
            name, generated, how = planned_name(res)
            problem = limits.name_problem(rule, name, generated=generated)
            if problem:
                fix = "give it an explicit name that fits" if how == "auto-named" else f"shorten or fix {how}"
                f.bad(f"{res.label} ({how}): {problem} — {fix}", res.label)
            if token == T_IAM_ROLE:
                problem = limits.iam_path_problem(res.r.inputs.get("path"))
                if problem:
                    f.bad(f"{res.label}: {problem}", res.label)
    return seen


# --------------------------------------------------------------------------- #
# Rules per security group and direction (IPv4 and IPv6 apart)
# --------------------------------------------------------------------------- #


def rule_weights(cidrs: Iterable[Any], ipv6_cidrs: Iterable[Any], references: int) -> tuple[int, int]:
    """(IPv4 rules, IPv6 rules) one rule entry counts for.

    One per CIDR of its family; a referenced security group or prefix list
    counts once in each (the AWS-managed S3 and DynamoDB prefix lists weigh 1:
    https://docs.aws.amazon.com/vpc/latest/userguide/working-with-aws-managed-prefix-lists.html).
    """
    v4 = v6 = 0
    for cidr in [*cidrs, *ipv6_cidrs]:
        net = as_network(cidr)
        if net is not None and net.version == 6:
            v6 += 1
        else:
            v4 += 1
    return v4 + references, v6 + references


def security_group_rule_counts(ch: Channel) -> dict[tuple[str, str], tuple[int, int]]:
    """(group id, "ingress"|"egress") -> (IPv4 rules, IPv6 rules), inline and separate rules together."""
    counts: dict[tuple[str, str], tuple[int, int]] = {}

    def add(sg_id: Any, direction: str, weights: tuple[int, int]) -> None:
        if not isinstance(sg_id, str):
            return
        v4, v6 = counts.get((sg_id, direction), (0, 0))
        counts[(sg_id, direction)] = (v4 + weights[0], v6 + weights[1])

    for sg in ch.of_type(T_SG):
        for direction in ("ingress", "egress"):
            for entry in sg.r.inputs.get(direction) or []:
                refs = len(entry.get("securityGroups") or []) + len(entry.get("prefixListIds") or [])
                refs += 1 if as_flag(entry.get("self"), False) else 0
                add(sg.id, direction, rule_weights(entry.get("cidrBlocks") or [], entry.get("ipv6CidrBlocks") or [], refs))
    for rule in ch.of_type(T_SG_RULE):
        refs = (1 if rule.get("sourceSecurityGroupId") else 0) + len(rule.get("prefixListIds") or [])
        refs += 1 if as_flag(rule.get("self"), False) else 0
        add(rule.get("securityGroupId"), str(rule.get("type")),
            rule_weights(rule.get("cidrBlocks") or [], rule.get("ipv6CidrBlocks") or [], refs))
    for token, direction in ((T_SG_IN, "ingress"), (T_SG_OUT, "egress")):
        for rule in ch.of_type(token):
            refs = 1 if rule.get("referencedSecurityGroupId") or rule.get("prefixListId") else 0
            add(rule.get("securityGroupId"), direction,
                rule_weights([c for c in [rule.get("cidrIpv4")] if c], [c for c in [rule.get("cidrIpv6")] if c], refs))
    return counts


Quotas = list[tuple[PlannedStack, Answer, str, str]]


def _quota(stack: PlannedStack | None, code: str, default: int, what: str, quotas: Quotas) -> int:
    """The stack's account's VPC quota ``code``: read from its facts, else AWS's default; ``quotas`` keeps which."""
    if stack is None:
        return default
    answer = world(stack).quota(limits.VPC_QUOTA_SERVICE_CODE, code, default)
    quota = int(answer.value)
    quotas.append((stack, answer, what.format(f"{quota:,}"), "AWS default"))
    return quota


def _rule_counts(ch: Channel, f: Findings, quotas: Quotas) -> int:
    counts = security_group_rule_counts(ch)
    groups = set()
    for (sg_id, direction), (v4, v6) in sorted(counts.items()):
        sg = ch.by_id(sg_id)
        label = sg.label if sg is not None else sg_id
        quota = _quota(sg.stack if sg is not None else None, limits.SG_RULES_QUOTA_CODE,
                       limits.SG_RULES_PER_DIRECTION, "security-group rules quota {} per direction", quotas)
        groups.add(label)
        for family, n in (("IPv4", v4), ("IPv6", v6)):
            if n > quota:
                f.bad(f"{label}: {n} {family} {direction} rules, more than the {quota} per direction a security group "
                      f"holds in its account (Service Quotas {limits.SG_RULES_QUOTA_CODE}) — reference a security group "
                      "or a wider CIDR instead of one rule per address", label)
        worst = max(v4, v6)
        if worst <= quota:
            f.ok(f"{label}: {v4} IPv4 / {v6} IPv6 {direction} rules (quota {quota})", label)
    return len(groups)


# --------------------------------------------------------------------------- #
# Interface endpoints per VPC
# --------------------------------------------------------------------------- #


def _interface_endpoints(ch: Channel, f: Findings, quotas: Quotas) -> int:
    per_vpc: dict[str, list[Res]] = {}
    for endpoint in ch.of_type(T_ENDPOINT):
        # The provider's default endpoint type is Gateway, which this quota does not count.
        if str(endpoint.get("vpcEndpointType") or "Gateway") in ("Interface", "GatewayLoadBalancer"):
            per_vpc.setdefault(str(endpoint.get("vpcId")), []).append(endpoint)
    for vpc_id, endpoints in sorted(per_vpc.items()):
        vpc = ch.vpc(vpc_id)
        label = vpc.label if vpc is not None else vpc_id
        quota = _quota(endpoints[0].stack, limits.INTERFACE_ENDPOINTS_QUOTA_CODE, limits.INTERFACE_ENDPOINTS_PER_VPC,
                       "interface endpoints quota {} per VPC", quotas)
        if len(endpoints) > quota:
            f.bad(f"{label}: {len(endpoints)} interface endpoints, more than the {quota} a VPC holds in its account "
                  f"(Service Quotas {limits.INTERFACE_ENDPOINTS_QUOTA_CODE}) — lower expectedDevices or split the fleet",
                  label)
        else:
            f.ok(f"{label}: {len(endpoints)} interface endpoints (quota {quota})", label)
    return len(per_vpc)


# --------------------------------------------------------------------------- #
# Network Load Balancers: listeners, targets, target groups per action
# --------------------------------------------------------------------------- #


def _group_targets(ch: Channel, group: Res) -> list[tuple[str, Res | None]]:
    """(target id, its availability zone's subnet or None) for each registration; a fleet counts at its maximum size."""
    arn = group.get("arn")
    found: list[tuple[str, Res | None]] = []
    for attachment in ch.of_type(T_TARGET_ATTACHMENT):
        if attachment.get("targetGroupArn") == arn:
            ip = str(attachment.get("targetId"))
            found.append((ip, ch.subnet_of_ip(group.get("vpcId"), ip)))
    for fleet in ch.of_type(T_ASG):
        if arn in (fleet.get("targetGroupArns") or []):
            size = as_int(fleet.get("maxSize")) or 0
            subnets = [ch.by_id(s) for s in fleet.get("vpcZoneIdentifiers") or []] or [None]
            # The group spreads its instances evenly over its subnets' zones.
            found += [(f"{fleet.label}#{i}", subnets[i % len(subnets)]) for i in range(size)]
    return found


def _load_balancers(ch: Channel, f: Findings) -> int:
    groups_seen: set[str] = set()
    for group in ch.of_type(T_TARGET_GROUP):
        n = len(_group_targets(ch, group))
        groups_seen.add(group.label)
        if n > limits.TARGETS_PER_TARGET_GROUP:
            f.bad(f"{group.label}: {n} targets, more than the {limits.TARGETS_PER_TARGET_GROUP:,} per target group "
                  "(Elastic Load Balancing quotas)", group.label)
    nlbs = ch.of_type(T_LB)
    for nlb in nlbs:
        listeners = listeners_of(ch, nlb)
        if len(listeners) > limits.LISTENERS_PER_NLB:
            f.bad(f"{nlb.label}: {len(listeners)} listeners, more than the {limits.LISTENERS_PER_NLB} an NLB takes "
                  "(Elastic Load Balancing quotas, not adjustable)", nlb.label)
        registrations: list[tuple[str, Res | None]] = []
        by_arn = {g.get("arn"): g for g in ch.of_type(T_TARGET_GROUP)}
        for listener in listeners:
            _per_action(listener, f)
            for arn in listener_target_groups(listener):
                group = by_arn.get(arn)
                if group is not None:
                    registrations += _group_targets(ch, group)
        cross_zone = as_flag(nlb.get("enableCrossZoneLoadBalancing"), False)
        total = len(registrations)
        limit = limits.TARGETS_PER_NLB_CROSS_ZONE if cross_zone else limits.TARGETS_PER_NLB
        why = "with cross-zone load balancing on" if cross_zone else "in all its zones"
        if total > limit:
            f.bad(f"{nlb.label}: {total} target registrations (a target in N groups counts N times), more than the "
                  f"{limit:,} an NLB takes {why} (Elastic Load Balancing quotas)", nlb.label)
        per_zone: dict[str, int] = {}
        for _, subnet in registrations:
            zone = str(subnet.get("availabilityZone")) if subnet is not None else "?"
            per_zone[zone] = per_zone.get(zone, 0) + 1
        for zone, n in sorted(per_zone.items()):
            if n > limits.TARGETS_PER_AZ_PER_NLB:
                f.bad(f"{nlb.label}: {n} target registrations in {zone}, more than the {limits.TARGETS_PER_AZ_PER_NLB} "
                      "per zone an NLB takes (Elastic Load Balancing quotas)", nlb.label)
        if total <= limit and all(n <= limits.TARGETS_PER_AZ_PER_NLB for n in per_zone.values()):
            f.ok(f"{nlb.label}: {len(listeners)} listeners (limit {limits.LISTENERS_PER_NLB}), {total} target "
                 f"registrations (limit {limit:,} {why}, {limits.TARGETS_PER_AZ_PER_NLB} per zone)", nlb.label)
    return len(nlbs)


def _per_action(listener: Res, f: Findings) -> None:
    for action in listener.get("defaultActions") or []:
        forward = action.get("forward") or {}
        groups = [g.get("arn") for g in forward.get("targetGroups") or []]
        if action.get("targetGroupArn"):
            groups.append(action.get("targetGroupArn"))
        if len(set(groups)) > limits.TARGET_GROUPS_PER_ACTION:
            f.bad(f"{listener.label}: a forward action to {len(set(groups))} target groups — an NLB listener forwards "
                  f"to {limits.TARGET_GROUPS_PER_ACTION} (Elastic Load Balancing quotas, target groups per action)",
                  listener.label)


# --------------------------------------------------------------------------- #
# Lambda reserved concurrency against the quota the render read
# --------------------------------------------------------------------------- #


def _concurrency(ch: Channel, f: Findings, quotas: Quotas) -> int:
    """Reservations add up per account (and Region): every stack of one account shares its quota."""
    key = f"{limits.LAMBDA_QUOTA_SERVICE_CODE}/{limits.LAMBDA_CONCURRENCY_QUOTA_CODE}"
    seen = 0
    accounts: dict[tuple[str, str], list] = {}
    for stack in ch.stacks.values():
        accounts.setdefault((stack.account_id, stack.region), []).append(stack)
    for (account, region), stacks in sorted(accounts.items()):
        functions = [fn for stack in stacks for fn in ch.of_type(T_LAMBDA, stack)
                     if (as_int(fn.r.inputs.get("reservedConcurrentExecutions")) or -1) >= 0]
        if not functions:
            continue
        reserved = sum(as_int(fn.r.inputs.get("reservedConcurrentExecutions")) or 0 for fn in functions)
        labels = [fn.label for fn in functions]
        seen += len(functions)
        where = f"account {account} ({region})"
        read = [s.rendered.quotas[key] for s in stacks if key in s.rendered.quotas]
        if not read:
            f.bad(f"{where}: {', '.join(labels)} reserve {reserved} Lambda concurrent executions without any stack "
                  f"reading the account's quota (Service Quotas {key})", *labels)
            continue
        quota = int(min(read))
        for stack in stacks:
            answer = world(stack).quota(limits.LAMBDA_QUOTA_SERVICE_CODE, limits.LAMBDA_CONCURRENCY_QUOTA_CODE)
            if key in stack.rendered.quotas:
                quotas.append((stack, answer, f"Lambda concurrency quota {int(stack.rendered.quotas[key]):,}",
                               "AWS default"))
        if reserved > limits.max_reserved_concurrency(quota):
            f.bad(f"{where}: {', '.join(labels)} reserve {reserved} of the account's {quota:,} Lambda concurrent "
                  f"executions; at least {limits.LAMBDA_UNRESERVED_MIN} must stay unreserved (Service Quotas {key}) — "
                  "request a quota increase or lower authorizer.reservedConcurrency", *labels)
        else:
            f.ok(f"{where}: {reserved} reserved of the account's {quota:,} Lambda concurrent executions, "
                 f"{quota - reserved:,} unreserved (at least {limits.LAMBDA_UNRESERVED_MIN})", *labels)
    return seen
