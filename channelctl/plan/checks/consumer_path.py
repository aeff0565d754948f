"""``consumer-path:<stack>``: a consumer reaches iot.data through the endpoint service."""

from __future__ import annotations

from channelctl.plan.checks.dns import (
    zone_answer,
    zone_named,
)
from channelctl.plan.checks.model import (
    CONSUMER_PATH,
    DATA_PORTS,
    T_CONNECTION_ACCEPTER,
    T_ENDPOINT_SERVICE,
    T_SERVICE_PRINCIPAL,
    T_ZONE_ASSOC,
    Channel,
    CheckResult,
    Core,
    Findings,
    PlannedStack,
    Res,
    as_flag,
    as_int,
    core,
    host_name,
    listeners_of,
)
from channelctl.plan.checks.paths import (
    listener_path,
    service_nlbs,
)
from channelctl.plan.checks.sources import service_zones_line, zones_line


def check_consumer_path(ch: Channel, consumer: PlannedStack) -> CheckResult:
    """One consumer: zone -> own endpoint -> the iot stack's endpoint service -> NLB -> iot.data IPs."""
    name = f"{CONSUMER_PATH}:{consumer.name}"
    f = Findings()
    c = core(ch)
    if c.iot is None:
        f.bad("the plan has no single iot stack: the consumer's endpoint service is unknown")
        return f.result(name, "")
    services = ch.of_type(T_ENDPOINT_SERVICE, c.iot)
    by_service_name = {s.get("serviceName"): s for s in services}
    endpoints = ch.endpoints(consumer, "privatelink")
    ours = [(e, by_service_name.get(e.get("serviceName"))) for e in endpoints]
    channel = [(e, s) for e, s in ours if s is not None]
    for endpoint, _ in ours:
        f.involve(endpoint.label)
    if not channel:
        wanted = ", ".join(sorted(str(k) for k in by_service_name)) or "(the iot stack has none)"
        got = ", ".join(str(e.get("serviceName")) for e in endpoints) or "no PrivateLink endpoint"
        f.bad(f"no endpoint of {consumer.name} targets the iot stack's endpoint service {wanted} (found: {got})")
        return f.result(name, "")
    account = consumer.account_id
    principal = f"arn:aws:iam::{account}:root"
    for endpoint, service in channel:
        f.ok(f"{endpoint.label} targets {service.get('serviceName')} ({service.label})", service.label)
        principals = set(service.get("allowedPrincipals") or [])
        principals |= {p.get("principalArn") for p in ch.of_type(T_SERVICE_PRINCIPAL)
                       if p.get("vpcEndpointServiceId") == service.id}
        if principal in principals:
            f.ok(f"account {account} is an allowed principal of {service.label}")
        else:
            f.bad(f"account {account} ({principal}) is not an allowed principal of {service.label}", service.label)
        if as_flag(service.get("acceptanceRequired"), True):
            accepters = [a for a in ch.of_type(T_CONNECTION_ACCEPTER) if a.get("vpcEndpointId") == endpoint.id
                         and a.get("vpcEndpointServiceId") == service.id]
            if accepters:
                f.ok(f"{accepters[0].label} accepts {endpoint.label}", accepters[0].label)
            else:
                f.bad(f"{service.label} requires acceptance and nothing accepts {endpoint.label} "
                      "(no VpcEndpointConnectionAccepter for it)", service.label, endpoint.label)
        _consumer_side(ch, c, consumer, endpoint, f)
        offered = _endpoint_zones(ch, service, endpoint, f)
        used = sorted({str(s.get("availabilityZone")) for s in (ch.by_id(i) for i in endpoint.get("subnetIds") or [])
                       if s is not None and s.get("availabilityZone")})
        f.source(zones_line(consumer, used), service_zones_line(consumer, str(service.get("serviceName")), offered))
        _service_to_data(ch, c, service, endpoint, f)
    return f.result(name, f"{consumer.name} (account {account}) reaches the iot.data endpoints through "
                          f"PrivateLink: {', '.join(s.label for _, s in channel)}")


def _consumer_side(ch: Channel, c: Core, consumer: PlannedStack, endpoint: Res, f: Findings) -> None:
    vpc_id = endpoint.get("vpcId")
    vpc_cidr = ch.vpc_cidr(vpc_id) or consumer.rendered.exports.get("consumerVpcCidr")
    data_host = host_name(c.iot.rendered.exports.get("dataEndpointHost")) if c.iot else ""
    own_names = {host_name(e.get("dnsName")) for e in endpoint.get("dnsEntries") or []}
    zone = zone_named(ch, consumer, data_host)
    if zone is None:
        f.bad(f"{consumer.name} has no private hosted zone for the data host {data_host}")
    else:
        f.involve(zone.label)
        if vpc_id not in {v.get("vpcId") for v in zone.get("vpcs") or []} and not any(
            a.get("zoneId") == zone.id and a.get("vpcId") == vpc_id for a in ch.of_type(T_ZONE_ASSOC, consumer)
        ):
            f.bad(f"zone {data_host} ({zone.label}) is not associated with the endpoint's VPC {vpc_id}", zone.label)
        answer = zone_answer(ch, zone, data_host)
        f.involve(*answer.records)
        targets = set(answer.aliases)
        if answer.sets or not targets or not targets <= own_names:
            shown = ", ".join(sorted(targets | {ip for _, a in answer.sets for ip in a})) or "nothing"
            f.bad(f"in {consumer.name}, {data_host} resolves to {shown}, not to its own endpoint {endpoint.label}",
                  *answer.records)
        else:
            f.ok(f"in {consumer.name}, {data_host} resolves to its own endpoint {endpoint.label}")
    if not vpc_cidr:
        f.bad(f"the VPC of {endpoint.label} has no known CIDR: its clients' access cannot be checked")
        return
    for port in DATA_PORTS:
        rule = ch.admits(endpoint.get("securityGroupIds") or [], "ingress", "tcp", port, vpc_cidr)
        if rule is None:
            f.bad(f"{endpoint.label}: no security group rule admits tcp {port} from its VPC {vpc_cidr}", endpoint.label)
        else:
            f.ok(f"{endpoint.label}: tcp {port} from {vpc_cidr} admitted by {rule.label}", rule.label)


def _endpoint_zones(ch: Channel, service: Res, endpoint: Res, f: Findings) -> list[str]:
    """The endpoint's subnets lie in zones the service is offered in, compared by
    AZ ID: AZ names map to different physical zones in different accounts, and
    an endpoint service is offered only in its NLBs' zones ("does not support the
    Availability Zone of the subnet", AWS Knowledge Center,
    interface-endpoint-availability-zone)."""
    offered = {
        ch.by_id(m.get("subnetId")).get("availabilityZoneId")
        for nlb in service_nlbs(ch, service)
        for m in nlb.get("subnetMappings") or []
        if ch.by_id(m.get("subnetId")) is not None
    } - {None}
    for subnet_id in endpoint.get("subnetIds") or []:
        subnet = ch.by_id(subnet_id)
        if subnet is None or subnet.get("availabilityZoneId") is None:
            continue  # an existing subnet outside the plan: the consumer stack placed it by its own look-up
        zone_id, zone = subnet.get("availabilityZoneId"), subnet.get("availabilityZone")
        if zone_id in offered:
            f.ok(f"{endpoint.label}: subnet {subnet.label} in {zone} ({zone_id}), where {service.label} is offered",
                 subnet.label)
        else:
            f.bad(f"{endpoint.label}: subnet {subnet.label} is in {zone} ({zone_id}), where {service.label} is not "
                  f"offered (its NLB zones: {', '.join(sorted(offered)) or 'none'})", subnet.label, endpoint.label)
    return sorted(offered)


def _service_to_data(ch: Channel, c: Core, service: Res, endpoint: Res, f: Findings) -> None:
    nlbs = service_nlbs(ch, service)
    if not nlbs:
        f.bad(f"{service.label} has no network load balancer in the plan", service.label)
        return
    data = set(c.data_ips)
    for nlb in nlbs:
        f.involve(nlb.label)
        listeners = listeners_of(ch, nlb)
        ports = {as_int(l.get("port")) for l in listeners}
        for port in DATA_PORTS:
            if port not in ports:
                f.bad(f"{nlb.label} has no listener on {port}, which consumers' clients use", nlb.label)
        for listener in listeners:
            reached = listener_path(ch, c, nlb, listener, f, clients=(), privatelink=True)
            missing = sorted(data - reached)
            if missing:
                f.bad(f"listener {listener.label} (port {as_int(listener.get('port'))}) does not reach iot.data "
                      f"endpoint IPs {', '.join(missing)}", listener.label)
            else:
                f.ok(f"listener {listener.label} (port {as_int(listener.get('port'))}) reaches all "
                     f"{len(data)} iot.data endpoint IPs")
