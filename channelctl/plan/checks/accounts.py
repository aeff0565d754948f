"""``accounts``: what must already be true of the accounts for the release to go through, read from the
facts ``channelctl discover`` wrote (``PlannedStack.facts``).

Each prerequisite is one finding, named with the facts file it was read from and the file's age:

- every IAM role the config names exists (``assumeRoleArn``, ``authorizer.operatorRoleArns``,
  ``authorizer.keyAdminArns``): the provider assumes the first, and KMS refuses a key policy naming a
  principal that does not exist (MalformedPolicyDocumentException);
- ``sameOrganization`` agrees with RAM's sharing with the Organization in the network account: inside an
  Organization RAM sends no invitation (the iot stack's accepter would wait forever), outside it the
  iot stack must accept one;
- the iot stack has a pending RAM invitation to accept (informational: before step 1 there is none,
  and after step 2 it is accepted);
- no log group the stack creates with a fixed name (``AWSIotLogsV2``, the authorizer's) exists yet:
  CreateLogGroup would fail, so it is imported instead;
- the custom domain's ACM certificate is ISSUED, in the stack's Region, for the domain;
- the Direct Connect connection is ``available``; the account's DX gateways and their states.

A prerequisite whose fact is unknown (refused, throttled, not offered) is reported as unknown with its
reason — neither met nor failed; a stack without facts has its prerequisites assumed (no facts).
"""

from __future__ import annotations

from typing import Any

from channelctl.accounts.facts import (
    FACT_CERTIFICATES,
    FACT_DIRECT_CONNECT,
    FACT_LOG_GROUPS,
    FACT_RAM_INVITATIONS,
    FACT_RAM_ORGANIZATION,
    FACT_ROLES,
)
from channelctl.plan.checks.model import ACCOUNTS, Channel, CheckResult, Findings, PlannedStack, as_flag
from channelctl.plan.checks.sources import discover_hint, facts_file
from channelctl.plan.world import short_reason

T_LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
T_RAM_ACCEPTER = "aws:ram/resourceShareAccepter:ResourceShareAccepter"
ISSUED = "ISSUED"
DX_AVAILABLE = "available"
# What to do about a Direct Connect connection in each state but available (Direct Connect user guide,
# "Connection states" / DescribeConnections connectionState).
DX_FIXES = {
    None: "the account has no such connection — check directConnect.connectionId (a hosted connection belongs to "
          "the account the partner provisioned it for)",
    "ordering": "a hosted connection waiting for this account to accept it — accept it (Direct Connect console, or "
                "aws directconnect confirm-connection)",
    "requested": "the cross-connect is not made yet — give the LOA-CFA to the colocation provider",
    "pending": "AWS is still provisioning it — wait until it is available",
    "down": "the link is down — check the cross-connect and the router with the colocation provider",
    "deleting": "the connection is being deleted — order a new one and set directConnect.connectionId",
    "deleted": "the connection is deleted — order a new one and set directConnect.connectionId",
    "rejected": "the hosted connection was rejected — ask the partner for a new one and set directConnect.connectionId",
}
CERTIFICATE_FIXES = {
    None: "it does not exist in that account and Region — request (or import) it in ACM and set "
          "customDomainCertificateArn",
    "PENDING_VALIDATION": "wait for validation: create the DNS validation record ACM shows for it "
                          "(aws acm describe-certificate), then run channelctl discover iot again",
}


class _Tally:
    def __init__(self) -> None:
        self.met = 0
        self.unknown: list[str] = []
        self.notes: list[str] = []
        self.assumed: list[str] = []


def check_accounts(ch: Channel) -> CheckResult:
    """Every account prerequisite the facts can show, met, unmet (with its fix) or unknown (with why)."""
    f = Findings()
    t = _Tally()
    network = ch.single("network")
    for stack in ch.stacks.values():
        if stack.facts is None:
            t.assumed.append(stack.name)
            for prerequisite in _prerequisites(stack):
                f.ok(f"{stack.name}: {prerequisite}: assumed (no facts) — {discover_hint(stack)}")
            f.source(f"assumed: {stack.name}'s account prerequisites (no facts; {discover_hint(stack)})")
            continue
        f.source(f"read: {facts_file(stack)}")
        _roles(stack, f, t)
        if stack.role == "network":
            _organization(stack, f, t)
            _direct_connect(stack, f, t)
        elif stack.role == "iot":
            _invitation(stack, network, f, t)
            _log_groups(ch, stack, f, t)
            _certificate(stack, f, t)
    for unknown in t.unknown:
        f.source(f"unknown: {unknown}")
    parts = [f"{t.met} prerequisite{'s' if t.met != 1 else ''} met"] if t.met or not t.assumed else []
    if t.unknown:
        parts.append(f"unknown: {'; '.join(t.unknown)}")
    if t.assumed:
        parts.append(f"assumed (no facts): the account prerequisites of {', '.join(t.assumed)} — run channelctl "
                     f"discover {t.assumed[0] if len(t.assumed) == 1 else 'STACK for each'}")
    parts += [f"note: {note}" for note in t.notes]
    return f.result(ACCOUNTS, "; ".join(parts))


def _prerequisites(stack: PlannedStack) -> list[str]:
    """What the check would read of this stack's account, for a stack without facts."""
    found = ["the roles its config names exist"]
    config = stack.config
    if stack.role == "network":
        found.append("sameOrganization agrees with RAM's sharing with the Organization")
        if (config.get("directConnect") or {}).get("connectionId"):
            found.append("the Direct Connect connection is available")
    elif stack.role == "iot":
        if not as_flag(config.get("sameOrganization"), False):
            found.append("a pending RAM invitation from the network account")
        found.append("no log group it creates exists yet")
        if config.get("customDomainCertificateArn"):
            found.append("the custom domain's certificate is ISSUED in its Region")
    return found


def _fact(stack: PlannedStack, name: str, what: str, t: _Tally) -> Any:
    """The fact's value, or None after noting it unknown (with why) or not read."""
    assert stack.facts is not None
    fact = stack.facts.get(name)
    if fact is None:
        t.unknown.append(f"{stack.name} {what} (not read into {stack.facts.path}: {discover_hint(stack)} again)")
        return None
    if not fact.known:
        t.unknown.append(f"{stack.name} {what} ({facts_file(stack)}: {short_reason(fact.unknown or '')})")
        return None
    return fact.value


def _met(f: Findings, t: _Tally, message: str, *labels: str) -> None:
    t.met += 1
    f.ok(message, *labels)


# --------------------------------------------------------------------------- #
# Roles
# --------------------------------------------------------------------------- #


def role_keys(config: dict[str, Any]) -> list[tuple[str, str]]:
    """(key, role ARN) for every IAM role the config names."""
    found = [("assumeRoleArn", str(config["assumeRoleArn"]))] if config.get("assumeRoleArn") else []
    authorizer = config.get("authorizer") if isinstance(config.get("authorizer"), dict) else {}
    for key in ("operatorRoleArns", "keyAdminArns"):
        values = authorizer.get(key) or []
        found += [(f"authorizer.{key}[{i}]", str(arn)) for i, arn in enumerate(values if isinstance(values, list) else [])]
    return found


def _roles(stack: PlannedStack, f: Findings, t: _Tally) -> None:
    keys = role_keys(stack.config)
    if not keys:
        return
    roles = _fact(stack, FACT_ROLES, "roles", t)
    if roles is None:
        return
    where = facts_file(stack)
    for key, arn in keys:
        if arn not in roles:
            t.unknown.append(f"{stack.name} role {arn} ({key}: not in {where}: {discover_hint(stack)} again)")
        elif roles[arn]:
            _met(f, t, f"{stack.name}: {key} {arn} exists ({where})")
        elif key == "assumeRoleArn":
            f.bad(f"Pulumi.{stack.name}.yaml {key}: role {arn} does not exist in account {stack.account_id} ({where}) "
                  f"— create the role first (its policy: channelctl plan --deployer-policy {stack.name}): the stack's "
                  "provider assumes it for every call")
        else:
            f.bad(f"Pulumi.{stack.name}.yaml {key}: role {arn} does not exist in account {stack.account_id} ({where}) "
                  "— create the role first: KMS refuses a key policy naming a missing principal "
                  "(MalformedPolicyDocumentException), so the credentials table's key would not be created")


# --------------------------------------------------------------------------- #
# RAM: the Organization and the invitation
# --------------------------------------------------------------------------- #


def _organization(stack: PlannedStack, f: Findings, t: _Tally) -> None:
    sharing = _fact(stack, FACT_RAM_ORGANIZATION, "RAM sharing with the Organization", t)
    if sharing is None:
        return
    same = as_flag(stack.config.get("sameOrganization"), False)
    where = facts_file(stack)
    if bool(sharing) == same:
        state = "enabled" if sharing else "not enabled"
        _met(f, t, f"{stack.name}: sameOrganization {str(same).lower()} and RAM sharing with the Organization {state} "
                   f"in account {stack.account_id} ({where})")
    elif sharing:
        f.bad(f"Pulumi.{stack.name}.yaml sameOrganization false, but RAM sharing with the Organization is enabled in "
              f"account {stack.account_id} ({where}): inside an Organization RAM sends no invitation, and the iot "
              "stack's share accepter would wait for one forever — set sameOrganization: true in the network and iot "
              "stacks")
    else:
        f.bad(f"Pulumi.{stack.name}.yaml sameOrganization true, but RAM sharing with the Organization is not enabled "
              f"in account {stack.account_id} ({where}): the share then sends the IoT account an invitation that no "
              "stack accepts — enable it (aws ram enable-sharing-with-aws-organization, in the Organization's "
              "management account) or set sameOrganization: false in the network and iot stacks")


def _invitation(stack: PlannedStack, network: PlannedStack | None, f: Findings, t: _Tally) -> None:
    if as_flag(stack.config.get("sameOrganization"), False):
        return  # inside the Organization nothing is accepted
    invitations = _fact(stack, FACT_RAM_INVITATIONS, "RAM invitations", t)
    if invitations is None:
        return
    sender = network.account_id if network is not None else None
    pending = [i for i in invitations if isinstance(i, dict) and (sender is None or i.get("sender") == sender)] \
        if isinstance(invitations, list) else []
    where = facts_file(stack)
    if pending:
        _met(f, t, f"{stack.name}: pending RAM invitation {pending[0].get('arn')} from account "
                   f"{pending[0].get('sender')} ({where}): the stack's share accepter accepts it")
        return
    note = (f"no pending RAM invitation from account {sender or 'of the network stack'} in {where}: the network "
            f"stack has not run yet (step 1 sends it) or the share is accepted already — before step 2, "
            f"{discover_hint(stack)} again and expect one")
    t.notes.append(note)
    f.ok(f"note: {note}")


# --------------------------------------------------------------------------- #
# Log groups the stack creates with a fixed name
# --------------------------------------------------------------------------- #


def _unqualified(urn: str) -> str:
    # The mock runtime parents top-level resources to the stack in their URNs; the engine does not.
    return urn.replace("pulumi:pulumi:Stack$", "")


def import_command(stack: PlannedStack, resource: Any, group: str) -> str:
    """The ``pulumi import`` that adopts an existing log group as the program's resource (same name,
    parent and provider, so the next ``pulumi up`` finds it where the program declares it)."""
    provider = _unqualified(resource.provider.rsplit("::", 1)[0]) if resource.provider else ""
    parent = f" --parent 'parent={_unqualified(resource.parent)}'" if resource.parent else ""
    provider_flag = f" --provider 'aws={provider}'" if provider else ""
    return f"pulumi import {T_LOG_GROUP} {resource.name} {group}{parent}{provider_flag} -s {stack.name}"


def _log_groups(ch: Channel, stack: PlannedStack, f: Findings, t: _Tally) -> None:
    declared = {str(r.inputs.get("name")): r for r in stack.rendered.resources
                if r.type == T_LOG_GROUP and r.inputs.get("name")}
    if not declared:
        return
    existing = _fact(stack, FACT_LOG_GROUPS, "log groups", t)
    if existing is None:
        return
    where = facts_file(stack)
    for group, resource in sorted(declared.items()):
        label = f"{stack.name}:{resource.name}"
        if group not in existing:
            t.unknown.append(f"{stack.name} log group {group} (not in {where}: {discover_hint(stack)} again)")
        elif existing[group]:
            f.bad(f"log group {group} already exists in account {stack.account_id} ({where}): CreateLogGroup would "
                  f"fail (ResourceAlreadyExistsException) — import it as {label}: "
                  f"{import_command(stack, resource, group)} (the parent exists once a pulumi up of the stack has run; "
                  "it stops at this group), or delete the group if its events need not be kept", label)
        else:
            _met(f, t, f"{stack.name}: log group {group} does not exist yet ({where}): {label} creates it", label)


# --------------------------------------------------------------------------- #
# The custom domain's certificate
# --------------------------------------------------------------------------- #


def covers(names: list[str], domain: str) -> bool:
    """Whether a certificate for ``names`` serves ``domain`` (a wildcard covers one label)."""
    for name in names:
        if name == domain or (name.startswith("*.") and domain.split(".", 1)[-1] == name[2:] and "." in domain):
            return True
    return False


def _certificate(stack: PlannedStack, f: Findings, t: _Tally) -> None:
    arn = stack.config.get("customDomainCertificateArn")
    if not arn:
        return
    certificates = _fact(stack, FACT_CERTIFICATES, "the custom domain's certificate", t)
    if certificates is None:
        return
    where = facts_file(stack)
    entry = certificates.get(arn)
    key = f"Pulumi.{stack.name}.yaml customDomainCertificateArn"
    if not isinstance(entry, dict):
        t.unknown.append(f"{stack.name} certificate {arn} (not in {where}: {discover_hint(stack)} again)")
        return
    status, region = entry.get("status"), entry.get("region")
    domain = stack.config.get("customDomain")
    if status != ISSUED:
        fix = CERTIFICATE_FIXES.get(status, f"request a new certificate for {domain or 'the custom domain'} in "
                                            f"{stack.region} and set customDomainCertificateArn")
        f.bad(f"{key}: certificate {arn} is {status or 'missing'} ({where}) — {fix}")
    elif region != stack.region:
        f.bad(f"{key}: certificate {arn} is in {region}, the stack deploys in {stack.region} ({where}) — an IoT "
              f"domain configuration takes a certificate of its own Region: use (request or import) one in "
              f"{stack.region}")
    elif domain and not covers([str(n) for n in entry.get("names") or []], str(domain)):
        f.bad(f"{key}: certificate {arn} names {', '.join(entry.get('names') or []) or 'nothing'}, not customDomain "
              f"{domain} ({where}) — use a certificate for {domain}")
    else:
        _met(f, t, f"{stack.name}: certificate {arn} is ISSUED in {region} for {domain} ({where})")


# --------------------------------------------------------------------------- #
# Direct Connect
# --------------------------------------------------------------------------- #


def _direct_connect(stack: PlannedStack, f: Findings, t: _Tally) -> None:
    connection = (stack.config.get("directConnect") or {}).get("connectionId")
    dx = _fact(stack, FACT_DIRECT_CONNECT, "Direct Connect", t)
    if dx is None:
        return
    where = facts_file(stack)
    if connection:
        states = dx.get("connections") or {}
        if connection not in states:
            t.unknown.append(f"{stack.name} connection {connection} (not in {where}: {discover_hint(stack)} again)")
        elif states[connection] == DX_AVAILABLE:
            _met(f, t, f"{stack.name}: Direct Connect connection {connection} is available ({where})")
        else:
            state = states[connection]
            fix = DX_FIXES.get(state, "see the Direct Connect console for what the connection waits for")
            f.bad(f"Pulumi.{stack.name}.yaml directConnect.connectionId: connection {connection} is "
                  f"{state or 'not in the account'} ({where}), so the transit VIF cannot come up — {fix}")
    gateways = dx.get("gateways") or {}
    listed = ", ".join(f"{g} {s}" for g, s in sorted(gateways.items())) or "none"
    note = (f"Direct Connect gateways in account {stack.account_id} ({where}): {listed}; the stack creates its own")
    waiting = [g for g, s in gateways.items() if s != DX_AVAILABLE]
    if waiting:
        t.notes.append(f"Direct Connect gateways not available in account {stack.account_id} ({where}): "
                       f"{', '.join(f'{g} {gateways[g]}' for g in sorted(waiting))}")
    f.ok(f"note: {note}")
