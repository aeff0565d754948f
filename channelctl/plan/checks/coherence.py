"""``coherence``: the stacks build one channel — one organization and project, one region, the right
accounts, and the values one stack repeats from another are the same in both.

The stack files are compared before rendering (``channelctl.plan.crossstack`` refuses what the program
would refuse); this check proves the same facts on what was rendered — the providers' regions and
accounts, the resources that cross stacks — and reports what the program cannot see: a consumer stack
whose VPC range differs from the entry that lists it by account (an entry without ``stack:``). Each
problem names the stack file and the key to change.
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
    decoded,
    entry_for,
    listed,
    parse_reference,
    reference_key,
    same_cidr,
)
from components.config import PRIVATELINK_REGION_RULE, SAME_ORGANIZATION_RULE, TGW_REGION_RULE

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
        if named_project is not None and named_project != project:
            f.bad(f"{where(ref.stack, key)}: stack reference {value!r} names project {named_project!r}, not "
                  f"{project!r} (the name in Pulumi.yaml)", ref.label)
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
    attachments = ch.of_type(T_TGW_ATTACHMENT, iot)
    for attachment in attachments:
        tgw = ch.by_id(attachment.get("transitGatewayId"))
        if tgw is not None and tgw.stack is not network:
            continue
        if region != iot_region:
            f.bad(f"{where(iot, 'region')}: {iot_region} differs from Pulumi.{network.name}.yaml's region {region}, "
                  f"where {attachment.label} attaches to the Transit Gateway — {TGW_REGION_RULE}",
                  attachment.label)
        else:
            f.ok(f"{attachment.label} and the Transit Gateway are both in {region}", attachment.label)
    config = decoded(network.config)
    iot_account = account_of(iot)
    shared_with = config.get("iotAccountId")
    if shared_with is not None and str(shared_with) != iot_account:
        f.bad(f"{where(network, 'iotAccountId')}: {shared_with} is not the iot stack's account {iot_account} "
              f"(Pulumi.{iot.name}.yaml accountId): the Transit Gateway is shared with the wrong account")
    for share in ch.of_type(T_RAM_PRINCIPAL, network):
        principal = str(share.get("principal"))
        if principal != iot_account:
            f.bad(f"{where(network, 'iotAccountId')}: {share.label} shares the Transit Gateway with {principal}, "
                  f"not the iot stack's account {iot_account}", share.label)
        else:
            f.ok(f"{share.label} shares the Transit Gateway with the iot stack's account {iot_account}", share.label)
    shares = ch.of_type(T_RAM_SHARE, network)
    accepters = ch.of_type(T_RAM_ACCEPTER, iot)
    for share in shares:
        inside = not as_flag(share.get("allowExternalPrincipals"), True)
        if inside and accepters:
            f.bad(f"{where(iot, 'sameOrganization')}: {accepters[0].label} waits for an invitation, but {share.label} "
                  f"shares inside the organization (Pulumi.{network.name}.yaml sameOrganization true), which sends "
                  f"none — {SAME_ORGANIZATION_RULE}", share.label, accepters[0].label)
        elif not inside and not accepters:
            f.bad(f"{where(iot, 'sameOrganization')}: {share.label} allows external principals "
                  f"(Pulumi.{network.name}.yaml sameOrganization false), but nothing in {iot.name} accepts its "
                  f"invitation — {SAME_ORGANIZATION_RULE}", share.label)
        else:
            f.ok(f"{share.label} is accepted the way it is shared "
                 f"({'inside the organization' if inside else 'by ' + accepters[0].label})", share.label)
    gatekeeper = ch.vpc(iot.rendered.exports.get("gatekeeperVpcId"))
    built = gatekeeper.get("cidrBlock") if gatekeeper else decoded(iot.config).get("gatekeeperVpcCidr")
    routed = config.get("gatekeeperVpcCidr")
    if same_cidr(routed, built) is False:
        f.bad(f"{where(network, 'gatekeeperVpcCidr')}: {routed} differs from the gatekeeper VPC's range {built} "
              f"(Pulumi.{iot.name}.yaml gatekeeperVpcCidr): the network stack routes and advertises the wrong range",
              *([gatekeeper.label] if gatekeeper else []))
    elif routed is not None:
        f.ok(f"the network stack routes the gatekeeper VPC's range {built}")


def _consumer(ch: Channel, consumer: PlannedStack, iot: PlannedStack, iot_region: str, f: Findings) -> None:
    region = region_of(consumer)
    services = {s.get("serviceName") for s in ch.of_type(T_ENDPOINT_SERVICE, iot)}
    for endpoint in ch.endpoints(consumer, "privatelink"):
        if endpoint.get("serviceName") not in services:
            continue
        if region != iot_region:
            f.bad(f"{where(consumer, 'region')}: {region} differs from Pulumi.{iot.name}.yaml's region {iot_region}, "
                  f"where {endpoint.label}'s endpoint service is — {PRIVATELINK_REGION_RULE}", endpoint.label)
        else:
            f.ok(f"{endpoint.label} and its endpoint service are both in {region}", endpoint.label)
    account = account_of(consumer)
    iot_config = decoded(iot.config)
    found = entry_for(iot_config, consumer.name, account)
    if found is None:
        if listed(iot_config, account):
            f.ok(f"account {account} of stack {consumer.name} is listed in consumers (by an entry bound to "
                 f"another stack)")
        else:
            f.bad(f"{where(consumer, 'accountId')}: account {account} is in no entry of Pulumi.{iot.name}.yaml key "
                  f"'{iot.rendered.project}:consumers' — add {{name: <name>, accountId: \"{account}\", "
                  f"vpcCidr: <its range>}} there, or point iotStack at the iot stack that serves this consumer")
        return
    index, entry, matched_by = found
    how = f"by its stack reference {entry.get('stack')!r}" if matched_by == "stack" else f"by account {account}"
    if str(entry.get("accountId", "")) != account:
        f.bad(f"{where(iot, f'consumers[{index}].accountId')}: {entry.get('accountId')} is not the account of stack "
              f"{consumer.name} ({account}), which the entry names {how}")
    else:
        f.ok(f"consumers[{index}] ({entry.get('name')}) is stack {consumer.name}, matched {how}")
    key, cidr = consumer_cidr(decoded(consumer.config))
    cidr = consumer.rendered.exports.get("consumerVpcCidr") or cidr
    entry_cidr = entry.get("vpcCidr")
    if entry_cidr is not None and same_cidr(entry_cidr, cidr) is False:
        f.bad(f"{where(iot, f'consumers[{index}].vpcCidr')}: {entry_cidr} differs from Pulumi.{consumer.name}.yaml's "
              f"{key} {cidr} — the iot stack checks the consumer's range against the channel's with the wrong value")
    elif entry_cidr is not None:
        f.ok(f"consumers[{index}].vpcCidr {entry_cidr} is stack {consumer.name}'s VPC range")
