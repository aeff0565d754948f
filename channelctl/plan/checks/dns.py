"""DNS on the model: which hosts devices use, and what a private zone answers for them."""

from __future__ import annotations

from dataclasses import dataclass

from channelctl.plan.checks.model import (
    NLB_MODES,
    T_ENDPOINT,
    T_LB,
    T_RECORD,
    T_ZONE,
    Channel,
    Core,
    PlannedStack,
    Res,
    device_access_mode,
    device_access_nlbs,
    endpoint_ips,
    greengrass_enabled,
    host_name,
    is_interface,
    nlb_ips,
)


def expected_hosts(ch: Channel, c: Core) -> list[tuple[str, str, list[str], str]]:
    """(host, what, IPs it must resolve to, the resources those IPs belong to) for devices."""
    iot = c.iot
    if iot is None:
        return []
    exports = iot.rendered.exports
    region = iot.region
    hosts: list[tuple[str, str, list[str], str]] = []
    data_host = exports.get("dataEndpointHost")
    if data_host:
        hosts.append((host_name(data_host), "iot.data", c.data_ips, "the iot.data endpoints"))
    creds = ch.endpoints(iot, "credentials")
    if creds:
        host = exports.get("credentialsEndpointHost")
        ips = [ip for e in creds for ip in endpoint_ips(e)]
        if host:
            hosts.append((host_name(host), "iot.credentials", ips, "the iot.credentials endpoint"))
        else:
            hosts.append(("(credentialsEndpointHost not exported)", "iot.credentials", ips, "the iot.credentials endpoint"))
    greengrass = ch.endpoints(iot, "greengrass")
    if greengrass:
        ips = [ip for e in greengrass for ip in endpoint_ips(e)]
        hosts.append((f"greengrass.{region}.amazonaws.com", "Greengrass control plane", ips, "the Greengrass endpoint"))
        # Greengrass core devices reach their data plane through iot.data.
        hosts.append((f"greengrass-ats.iot.{region}.amazonaws.com", "Greengrass data plane", c.data_ips,
                      "the iot.data endpoints"))
    if greengrass_enabled(iot):
        # Core devices download component artifacts from S3: the regional host
        # and the virtual-hosted bucket names below it, through the S3
        # interface endpoint (a gateway endpoint is unreachable from on-premises).
        s3_ips = [ip for e in ch.endpoints(iot, "s3") if is_interface(e) for ip in endpoint_ips(e)]
        s3_host = f"s3.{region}.amazonaws.com"
        hosts.append((s3_host, "S3", s3_ips, "the S3 interface endpoint"))
        hosts.append((f"*.{s3_host}", "S3 bucket names", s3_ips, "the S3 interface endpoint"))
    domain = exports.get("customDomain") or iot.config.get("customDomain")
    if domain:
        mode, ports = device_access_mode(iot)
        if mode in NLB_MODES:
            nlbs = device_access_nlbs(ch, iot, ports)
            ips = [ip for nlb in nlbs for ip in nlb_ips(nlb)]
            hosts.append((host_name(domain), f"custom domain ({mode})", ips, "the device-access NLB"))
        else:
            hosts.append((host_name(domain), f"custom domain ({mode})", c.data_ips, "the iot.data endpoints"))
    return hosts


def zone_named(ch: Channel, stack: PlannedStack, host: str) -> Res | None:
    """The zone answering for ``host``; a wildcard name ``*.<host>`` is answered by ``<host>``'s zone."""
    host = host[2:] if host.startswith("*.") else host
    for zone in ch.of_type(T_ZONE, stack):
        if host_name(zone.get("name")) == host:
            return zone
    return None


@dataclass(frozen=True)
class Answer:
    """What a private zone answers for one host: weighted sets of addresses or alias targets."""

    sets: tuple[tuple[float, tuple[str, ...]], ...]  # (weight, addresses)
    aliases: tuple[str, ...]
    records: tuple[str, ...]  # labels


def zone_answer(ch: Channel, zone: Res, host: str) -> Answer:
    sets: list[tuple[float, tuple[str, ...]]] = []
    aliases: list[str] = []
    labels: list[str] = []
    for record in ch.of_type(T_RECORD, zone.stack):
        if record.get("zoneId") != zone.id or host_name(record.get("name")) != host or record.get("type") != "A":
            continue
        labels.append(record.label)
        for alias in record.get("aliases") or []:
            aliases.append(host_name(alias.get("name")))
        addresses = tuple(record.get("records") or ())
        if addresses:
            policies = record.get("weightedRoutingPolicies") or []
            weight = float(policies[0].get("weight", 0)) if policies else 1.0
            sets.append((weight, addresses))
    return Answer(sets=tuple(sets), aliases=tuple(aliases), records=tuple(labels))


def resolve_alias(ch: Channel, dns_name: str) -> tuple[Res | None, list[str]]:
    """The endpoint or NLB a DNS name belongs to, and its addresses where they are fixed."""
    for endpoint in ch.of_type(T_ENDPOINT):
        for entry in endpoint.get("dnsEntries") or []:
            if host_name(entry.get("dnsName")) == dns_name:
                return endpoint, endpoint_ips(endpoint)
    for nlb in ch.of_type(T_LB):
        if host_name(nlb.get("dnsName")) == dns_name:
            return nlb, nlb_ips(nlb)
    return None, []
