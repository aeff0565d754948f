"""``channelctl verify``'s ``dns`` check: the names devices use answer with the addresses of what they front.

For each private zone of the stack it reads the record sets (ListResourceRecordSets) and compares each
planned record with the real addresses of the endpoint or load balancer the plan points it at
(DescribeVpcEndpoints, DescribeNetworkInterfaces; DescribeLoadBalancers, DescribeTags), or, for an alias,
with the real endpoint's DNS name; records the plan does not declare fail too.
"""

from __future__ import annotations

from typing import Any

from channelctl.accounts.verify_aws import DNS, CallFailed, Target, joined, result_not_run
from channelctl.plan.checks import CheckResult, Res, endpoint_ips, endpoint_kind, nlb_ips
from channelctl.plan.checks.model import T_ENDPOINT, T_LB, T_RECORD, T_ZONE, Findings

# Route 53 Resolver answers a VPC from the zones associated with it; asking it from inside the VPC
# needs an instance (or a Lambda function) there, which verify does not create. So the check reads
# what the zones answer (their record sets) and compares it with the endpoints' addresses.
DNS_METHOD = ("read from the zones' record sets (not resolved through Route 53 Resolver from inside the VPC: "
              "that needs an instance there)")


def check_dns(t: Target) -> CheckResult:
    records = t.res(T_RECORD)
    if not records:
        return result_not_run(DNS, f"stack {t.stack.name} declares no DNS records (role {t.stack.role}): the names "
                                   "devices use live in the iot stack's zones — `channelctl verify` on the iot stack "
                                   "reads them; this account's part (zone associations, Resolver) is under resources")
    f = Findings()
    answered = 0
    for zone_res in t.res(T_ZONE):
        planned = [r for r in records if r.get("zoneId") == zone_res.id]
        try:
            zone = t.zone_for(zone_res)
            if zone is None:
                f.bad(f"{zone_res.label}: zone {zone_res.get('name')} not found: its names answer nothing here — "
                      f"{t.up()}", zone_res.label)
                continue
            sets = t.account.pages("route53", "ListResourceRecordSets", "ResourceRecordSets", HostedZoneId=zone["Id"])
            for record in planned:
                answered += _record(t, f, zone, record, sets)
            _strays(f, zone_res, zone, planned, sets)
        except CallFailed as exc:
            f.bad(f"cannot read: {exc} — grant the stack's role that read, then run verify again", zone_res.label)
    return f.result(DNS, f"{answered} names of stack {t.stack.name} answer with the addresses of what they front, "
                         f"{DNS_METHOD}")


def _norm(name: Any) -> str:
    return str(name or "").rstrip(".").lower().replace("\\052", "*")


def _record(t: Target, f: Findings, zone: dict[str, Any], record: Res, sets: list[dict[str, Any]]) -> int:
    name, rtype, set_id = _norm(record.get("name")), record.get("type"), record.get("setIdentifier")
    label = f"{name} {rtype}" + (f" ({set_id})" if set_id else "")
    found = [s for s in sets if _norm(s.get("Name")) == name and s.get("Type") == rtype
             and s.get("SetIdentifier") == set_id]
    if not found:
        f.bad(f"{record.label}: zone {zone['Name']} has no record {label} — {t.up()}", record.label)
        return 0
    real = found[0]
    if record.get("aliases"):
        return _alias(t, f, record, label, real)
    answers = sorted(r.get("Value", "") for r in real.get("ResourceRecords") or [])
    planned = sorted(record.get("records") or [])
    target, addresses = _front(t, planned)
    if addresses is not None and answers != addresses:
        f.bad(f"{record.label}: {label} answers {joined(answers)}, but {target} has {joined(addresses)} — {t.up()} "
              "restores the record", record.label)
    elif answers != planned:
        f.bad(f"{record.label}: {label} answers {joined(answers)}, the plan {joined(planned)} — {t.up()} restores the "
              "record", record.label)
    else:
        f.ok(f"{record.label}: {label} answers {joined(answers)}" + (f" = {target}" if target else ""), record.label)
        return 1
    return 0


def _front(t: Target, planned: list[str]) -> tuple[str, list[str] | None]:
    """What a record's planned addresses belong to, and that resource's real addresses (None: not read)."""
    for res in t.res(T_ENDPOINT):
        if planned and set(planned) <= set(endpoint_ips(res)):
            endpoint = t.endpoint(res)
            if endpoint is None:
                return f"endpoint {res.label} (not found)", None
            ips = sorted(t.eni_ips(endpoint.get("NetworkInterfaceIds") or []).values())
            return f"{endpoint_kind(res.get('serviceName'))} endpoint {res.label} ({endpoint['VpcEndpointId']})", ips
    for res in t.res(T_LB):
        if planned and set(planned) <= set(nlb_ips(res)):
            balancer = t.load_balancer(res)
            if balancer is None:
                return f"load balancer {res.label} (not found)", None
            return f"load balancer {res.label} ({balancer.get('LoadBalancerName')})", t.load_balancer_ips(balancer)
    return "", None


def _alias(t: Target, f: Findings, record: Res, label: str, real: dict[str, Any]) -> int:
    planned = _norm((record.get("aliases") or [{}])[0].get("name"))
    got = _norm((real.get("AliasTarget") or {}).get("DNSName"))
    for res in t.res(T_ENDPOINT):
        if planned in {_norm(e.get("dnsName")) for e in res.get("dnsEntries") or []}:
            endpoint = t.endpoint(res)
            names = {_norm(e.get("DnsName")) for e in (endpoint or {}).get("DnsEntries") or []}
            if endpoint is None or got not in names:
                f.bad(f"{record.label}: {label} is an alias of {got or '(nothing)'}, not of endpoint {res.label}"
                      f"{' ' + endpoint['VpcEndpointId'] if endpoint else ' (not found)'} — {t.up()} restores it",
                      record.label)
                return 0
            f.ok(f"{record.label}: {label} is an alias of endpoint {res.label} {endpoint['VpcEndpointId']} ({got})",
                 record.label)
            return 1
    f.ok(f"{record.label}: {label} is an alias of {got}", record.label)
    return 1


def _strays(f: Findings, zone_res: Res, zone: dict[str, Any], planned: list[Res], sets: list[dict[str, Any]]) -> None:
    """Address records the plan does not declare answer devices too (one of several weighted answers)."""
    declared = {(_norm(r.get("name")), r.get("type"), r.get("setIdentifier")) for r in planned}
    for s in sets:
        key = (_norm(s.get("Name")), s.get("Type"), s.get("SetIdentifier"))
        if s.get("Type") in ("A", "AAAA") and key not in declared:
            values = [r.get("Value", "") for r in s.get("ResourceRecords") or []]
            f.bad(f"{zone_res.label}: zone {zone['Name']} also answers {key[0]} {key[1]}"
                  f"{' (' + key[2] + ')' if key[2] else ''} with {joined(values) if values else 'an alias'}, which the "
                  "plan does not declare — delete that record", zone_res.label)
