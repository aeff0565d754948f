"""``devices-dns``: devices resolve every host they use to the right private addresses."""

from __future__ import annotations

from channelctl.plan.checks.dns import (
    expected_hosts,
    resolve_alias,
    zone_answer,
    zone_named,
)
from channelctl.plan.checks.model import (
    DEVICES_DNS,
    DNS_PORT,
    T_RESOLVER,
    T_ZONE_ASSOC,
    T_ZONE_AUTH,
    Channel,
    CheckResult,
    Findings,
    as_flag,
    core,
    subnet_vpc,
)
from channelctl.plan.checks.paths import (
    on_prem_link,
    round_trip,
)


def check_devices_dns(ch: Channel) -> CheckResult:
    """Resolver inbound endpoint reachable on 53; device VPC associated with every zone; right answers."""
    f = Findings()
    c = core(ch)
    for message in c.missing:
        f.bad(message)
    if c.network is None or c.iot is None or c.device_vpc is None:
        return f.result(DEVICES_DNS, "")
    vpc = c.device_vpc
    f.involve(vpc.label)
    for flag in ("enableDnsSupport", "enableDnsHostnames"):
        if not as_flag(vpc.get(flag), flag == "enableDnsSupport"):
            f.bad(f"{vpc.label} has {flag} off: private hosted zones do not answer in it", vpc.label)
    # --- the Resolver inbound endpoint and the way to it ---
    resolvers = [r for r in ch.of_type(T_RESOLVER, c.network) if str(r.get("direction")).upper() == "INBOUND"]
    link = on_prem_link(ch, c, f)
    resolver_ips: list[str] = []
    for resolver in resolvers:
        f.involve(resolver.label)
        entries = resolver.get("ipAddresses") or []
        in_vpc = [e for e in entries if subnet_vpc(ch, e.get("subnetId")) == vpc.id]
        if not in_vpc:
            continue
        resolver_ips += [e.get("ip") for e in in_vpc if e.get("ip")]
        for on_prem in c.on_prem:
            for proto in ("tcp", "udp"):
                rule = ch.admits(resolver.get("securityGroupIds") or [], "ingress", proto, DNS_PORT, on_prem)
                if rule is None:
                    f.bad(f"{resolver.label}: no security group rule admits {proto} {DNS_PORT} from {on_prem}",
                          resolver.label)
                else:
                    f.ok(f"{resolver.label}: {proto} {DNS_PORT} from {on_prem} admitted by {rule.label}", rule.label)
    if not resolver_ips:
        f.bad(f"no Route 53 Resolver inbound endpoint with fixed IPs in {vpc.label}: on-premises DNS has "
              "nothing to forward to")
    elif link is not None:
        for on_prem in c.on_prem:
            for ip in resolver_ips:
                round_trip(ch, c, link, f, on_prem=on_prem, ip=ip, vpc=vpc, what="Resolver inbound")
    # --- every host devices use: zone, authorization, association, answer ---
    authorizations = {(a.get("zoneId"), a.get("vpcId")): a for a in ch.of_type(T_ZONE_AUTH, c.iot)}
    associations = {(a.get("zoneId"), a.get("vpcId")): a for a in ch.of_type(T_ZONE_ASSOC, c.network)}
    hosts = expected_hosts(ch, c)
    for host, what, ips, owner in hosts:
        zone = zone_named(ch, c.iot, host)
        if zone is None:
            f.bad(f"{what} host {host}: no private hosted zone for it in stack {c.iot.name}")
            continue
        f.involve(zone.label)
        own_vpcs = {v.get("vpcId") for v in zone.get("vpcs") or []}
        if vpc.id in own_vpcs:
            f.ok(f"zone {host} is created with {vpc.label}")
        else:
            auth = authorizations.get((zone.id, vpc.id))
            assoc = associations.get((zone.id, vpc.id))
            if auth is None:
                f.bad(f"zone {host} ({zone.label}) does not authorize {vpc.label} to associate "
                      "(no VpcAssociationAuthorization in the zone's account)", zone.label)
            if assoc is None:
                f.bad(f"zone {host} ({zone.label}) is not associated with {vpc.label} "
                      f"(no ZoneAssociation in stack {c.network.name})", zone.label)
            if auth is not None and assoc is not None:
                f.ok(f"zone {host} associated with {vpc.label}: {auth.label} + {assoc.label}", auth.label, assoc.label)
        answer = zone_answer(ch, zone, host)
        got = sorted({ip for _, addresses in answer.sets for ip in addresses})
        for alias in answer.aliases:
            _, alias_ips = resolve_alias(ch, alias)
            got = sorted(set(got) | set(alias_ips))
        f.involve(*answer.records)
        if not answer.records:
            f.bad(f"zone {host} has no A record for {host}", zone.label)
        elif set(got) != set(ips) or not ips:
            f.bad(f"{host} resolves to {', '.join(got) or 'nothing'}, expected {', '.join(sorted(ips)) or '(none)'} "
                  f"({owner})", *answer.records)
        else:
            weights = {w for w, _ in answer.sets}
            if len(weights) > 1:
                f.bad(f"{host}: weighted records have unequal weights {sorted(weights)}", *answer.records)
            else:
                f.ok(f"{host} ({what}) resolves to {', '.join(got)} = {owner}")
    summary = (f"Resolver inbound {', '.join(resolver_ips)} reachable from {', '.join(c.on_prem)} on tcp/udp 53; "
               f"{len(hosts)} host names resolve privately in {vpc.label}")
    return f.result(DEVICES_DNS, summary)
