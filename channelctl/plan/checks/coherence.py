"""``coherence``: the stacks build one channel — one organization and project, one region, the right
accounts, and the values one stack repeats from another are the same in both.

The stack files are compared before rendering (``channelctl.plan.crossstack`` refuses what the program
would refuse); this check applies the same rules (the functions of ``crossstack``, so each rule exists
once) to what was rendered — the providers' regions and accounts, the resources that cross stacks — and
reports what the program cannot see: a consumer stack whose VPC range differs from the entry that lists
it by account (an entry without ``stack:``). Each problem names the stack file and the key to change.
Each stack's config is read from the model (``PlannedStack.config``, parsed once when the plan is built).
"""

from __future__ import annotations

import json
from channelctl.plan.checks.model import (
    COHERENCE,
    T_ENDPOINT_SERVICE,
    T_STACK_REFERENCE,
    T_TGW_ATTACHMENT,
    Channel,
    CheckResult,
    Findings,
    PlannedStack,
    as_flag,
    core,
)
from channelctl.plan.crossstack import (
    consumer_cidr,
    entry_account_problem,
    entry_for,
    entry_range_problem,
    gatekeeper_range_problem,
    parse_reference,
    reference_key,
    reference_project_problem,
    region_problem,
    same_organization_problem,
    shared_account_problem,
    unlisted_account_problem,
)

T_PROVIDER = "pulumi:providers:aws"
T_RAM_PRINCIPAL = "aws:ram/principalAssociation:PrincipalAssociation"
T_RAM_SHARE = "aws:ram/resourceShare:ResourceShare"
T_RAM_ACCEPTER = "aws:ram/resourceShareAccepter:ResourceShareAccepter"


def check_coherence(ch: Channel) -> CheckResult:
    """One organization and project, one region, the right accounts and matching ranges across the stacks."""
    f = Findings()
    c = core(ch)
    if c.iot is None:
        f.bad("the plan has no single iot stack: the stacks cannot be compared with it")
        return f.result(COHERENCE, "")
    iot = c.iot
    _references(ch, iot, f)
    iot_region = region_of(iot)
    if c.network is not None:
        _network(ch, c.network, iot, iot_region, f)
    for consumer in sorted(ch.role("consumer"), key=lambda s: s.name):
        _consumer(ch, consumer, iot, iot_region, f)
    return f.result(COHERENCE, f"{len(ch.stacks)} stacks in one organization, region {iot_region}, with matching "
                               f"accounts and VPC ranges")


def region_of(stack: PlannedStack) -> str:
    """The region the stack's provider deploys to (the stack's ``region`` when no provider was rendered)."""
    for r in stack.rendered.resources:
        if r.type == T_PROVIDER and r.inputs.get("region"):
            return str(r.inputs["region"])
    return stack.region


def account_of(stack: PlannedStack) -> str:
    """The only account the stack's provider may deploy into (``allowed_account_ids``)."""
    for r in stack.rendered.resources:
        if r.type == T_PROVIDER and r.inputs.get("allowedAccountIds"):
            allowed = r.inputs["allowedAccountIds"]
            if isinstance(allowed, str):
                allowed = json.loads(allowed)
            if len(allowed) == 1:
                return str(allowed[0])
    return stack.account_id


def where(stack: PlannedStack, key: str) -> str:
    return f"Pulumi.{stack.name}.yaml: key '{stack.rendered.project}:{key}'"


def _references(ch: Channel, iot: PlannedStack, f: Findings) -> None:
    project = iot.rendered.project
    orgs: dict[str, str] = {}
    for ref in ch.of_type(T_STACK_REFERENCE):
        value = str(ref.r.state.get("name") or ref.id)
        org, named_project, name = parse_reference(value)
        key = reference_key(ref.stack.role, ref.stack.config, value) or "(a stack reference)"
        problem = reference_project_problem(value, org, named_project, name, project)
        if problem:
            f.bad(f"{where(ref.stack, key)}: {problem}", ref.label)
        if org is not None:
            orgs.setdefault(org, f"{where(ref.stack, key)} ({value})")
    if len(orgs) > 1:
        f.bad("stack references name more than one organization: " + "; ".join(f"{org!r} in {at}" for org, at in
                                                                              sorted(orgs.items()))
              + " — use the stacks' one organization in every reference")
    elif orgs:
        f.ok(f"every stack reference names organization {next(iter(orgs))!r} and project {project!r}")


def _network(ch: Channel, network: PlannedStack, iot: PlannedStack, iot_region: str, f: Findings) -> None:
    region = region_of(network)
    network_file, iot_file = f"Pulumi.{network.name}.yaml", f"Pulumi.{iot.name}.yaml"
    for attachment in ch.of_type(T_TGW_ATTACHMENT, iot):
        tgw = ch.by_id(attachment.get("transitGatewayId"))
        if tgw is not None and tgw.stack is not network:
            continue
        problem = region_problem(iot_region, network_file, region, kind="network-iot")
        if problem:
            f.bad(f"{where(iot, 'region')}: {problem} ({attachment.label} attaches to its Transit Gateway)",
                  attachment.label)
        else:
            f.ok(f"{attachment.label} and the Transit Gateway are both in {region}", attachment.label)
    config = network.config
    iot_account = account_of(iot)
    problem = shared_account_problem(config.get("iotAccountId"), iot_account, iot_file)
    if problem:
        f.bad(f"{where(network, 'iotAccountId')}: {problem}")
    for share in ch.of_type(T_RAM_PRINCIPAL, network):
        problem = shared_account_problem(share.get("principal"), iot_account, iot_file)
        if problem:
            f.bad(f"{where(network, 'iotAccountId')}: {problem} ({share.label} shares it with "
                  f"{share.get('principal')})", share.label)
        else:
            f.ok(f"{share.label} shares the Transit Gateway with the iot stack's account {iot_account}", share.label)
    accepters = ch.of_type(T_RAM_ACCEPTER, iot)
    for share in ch.of_type(T_RAM_SHARE, network):
        shares_inside = not as_flag(share.get("allowExternalPrincipals"), True)
        # An accepter waits for an invitation: the iot stack accepts as outside the organization.
        problem = same_organization_problem(shares_inside, not accepters, network_file)
        if problem:
            how = (f"{share.label} shares inside the organization, which sends no invitation, but "
                   f"{accepters[0].label} waits for one" if shares_inside else
                   f"{share.label} allows external principals, but nothing in {iot.name} accepts its invitation")
            f.bad(f"{where(iot, 'sameOrganization')}: {problem} ({how})", share.label, *[a.label for a in accepters[:1]])
        else:
            f.ok(f"{share.label} is accepted the way it is shared "
                 f"({'inside the organization' if shares_inside else 'by ' + accepters[0].label})", share.label)
    gatekeeper = ch.vpc(iot.rendered.exports.get("gatekeeperVpcId"))
    built = gatekeeper.get("cidrBlock") if gatekeeper else iot.config.get("gatekeeperVpcCidr")
    routed = config.get("gatekeeperVpcCidr")
    problem = gatekeeper_range_problem(routed, built, iot_file)
    if problem:
        f.bad(f"{where(network, 'gatekeeperVpcCidr')}: {problem}", *([gatekeeper.label] if gatekeeper else []))
    elif routed is not None:
        f.ok(f"the network stack routes the gatekeeper VPC's range {built}")


def _consumer(ch: Channel, consumer: PlannedStack, iot: PlannedStack, iot_region: str, f: Findings) -> None:
    region = region_of(consumer)
    consumer_file, iot_file = f"Pulumi.{consumer.name}.yaml", f"Pulumi.{iot.name}.yaml"
    services = {s.get("serviceName") for s in ch.of_type(T_ENDPOINT_SERVICE, iot)}
    for endpoint in ch.endpoints(consumer, "privatelink"):
        if endpoint.get("serviceName") not in services:
            continue
        problem = region_problem(region, iot_file, iot_region, kind="consumer-iot")
        if problem:
            f.bad(f"{where(consumer, 'region')}: {problem} ({endpoint.label} connects to its endpoint service)",
                  endpoint.label)
        else:
            f.ok(f"{endpoint.label} and its endpoint service are both in {region}", endpoint.label)
    account = account_of(consumer)
    iot_config = iot.config
    found = entry_for(iot_config, consumer.name, account)
    if found is None:
        problem = unlisted_account_problem(account, iot_config, iot_file, iot.rendered.project)
        if problem:
            f.bad(f"{where(consumer, 'accountId')}: {problem}")
        else:
            f.ok(f"account {account} of stack {consumer.name} is listed in consumers (by an entry bound to "
                 f"another stack)")
        return
    index, entry, matched_by = found
    how = f"by its stack reference {entry.get('stack')!r}" if matched_by == "stack" else f"by account {account}"
    problem = entry_account_problem(entry, account, consumer_file, matched_by)
    if problem:
        f.bad(f"{where(iot, f'consumers[{index}].accountId')}: {problem}")
    else:
        f.ok(f"consumers[{index}] ({entry.get('name')}) is stack {consumer.name}, matched {how}")
    key, cidr = consumer_cidr(consumer.config)
    cidr = consumer.rendered.exports.get("consumerVpcCidr") or cidr
    problem = entry_range_problem(entry, key, cidr, consumer_file)
    if problem:
        f.bad(f"{where(iot, f'consumers[{index}].vpcCidr')}: {problem}")
    elif entry.get("vpcCidr") is not None:
        f.ok(f"consumers[{index}].vpcCidr {entry.get('vpcCidr')} is stack {consumer.name}'s VPC range")
