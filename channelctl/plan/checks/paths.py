"""Paths on the model: from on-premises through Direct Connect and the Transit Gateway to an
address and back, and from a load balancer listener to its targets."""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

from channelctl.plan.checks.model import (
    HAPROXY_SERVER,
    T_ASG,
    T_ASG_ATTACHMENT,
    T_DX_ASSOC,
    T_DX_VIFS,
    T_LAUNCH_TEMPLATE,
    T_TARGET_ATTACHMENT,
    T_TARGET_GROUP,
    Attachment,
    Channel,
    Core,
    Findings,
    Res,
    as_flag,
    as_int,
    as_network,
    covers,
    endpoint_ips,
    nlb_ips,
)


@dataclass
class OnPremLink:
    """The on-premises side of the Transit Gateway: DX association, attachment, route table."""

    tgw: Res
    attachments: dict[str, Attachment]
    dx: Res | None
    dx_attachment: Attachment | None
    dx_table: str | None


def on_prem_link(ch: Channel, c: Core, f: Findings) -> OnPremLink | None:
    if c.tgw is None:
        return None
    attachments = ch.tgw_attachments(c.tgw)
    dx = next((d for d in ch.of_type(T_DX_ASSOC) if d.get("associatedGatewayId") == c.tgw.id), None)
    if dx is None:
        f.bad(f"no Direct Connect gateway is associated with {c.tgw.label}: on-premises cannot reach it", c.tgw.label)
        return OnPremLink(c.tgw, attachments, None, None, None)
    dx_attachment = attachments.get(dx.get("transitGatewayAttachmentId"))
    gateway_id = dx.get("dxGatewayId")
    vifs = [v for token in T_DX_VIFS for v in ch.of_type(token) if v.get("dxGatewayId") == gateway_id]
    if vifs:
        f.ok(f"on-premises connects to Direct Connect gateway {gateway_id} through {', '.join(v.label for v in vifs)}",
             *(v.label for v in vifs))
    else:
        f.bad(f"Direct Connect gateway {gateway_id} has no transit virtual interface: no connection from "
              "on-premises reaches it (set directConnect.connectionId, or accept a hosted transit VIF)", dx.label)
    table = ch.tgw_route_table_of(c.tgw, dx_attachment) if dx_attachment else None
    if dx_attachment is None:
        f.bad(f"{dx.label} has no Transit Gateway attachment", dx.label)
    elif table is None:
        f.bad(f"the Direct Connect attachment of {dx.label} is associated with no route table of {c.tgw.label}",
              dx.label)
    f.involve(c.tgw.label, dx.label)
    return OnPremLink(c.tgw, attachments, dx, dx_attachment, table)


def round_trip(
    ch: Channel, c: Core, link: OnPremLink, f: Findings, *, on_prem: str, ip: str, vpc: Res, what: str
) -> bool:
    """On-premises ``on_prem`` -> ``ip`` in ``vpc`` and back; findings name each broken hop."""
    ok = True
    target = f"{what} {ip}"
    if link.dx is None or link.dx_attachment is None:
        return False
    prefixes = list(link.dx.get("allowedPrefixes") or [])
    covering = [p for p in prefixes if covers(p, ip)]
    if not covering:
        f.bad(f"{target}: no Direct Connect allowed prefix covers it ({', '.join(prefixes) or 'none'}), so it is "
              "never advertised on-premises", link.dx.label)
        ok = False
    # There: the DX attachment's route table must send ip to this VPC's accepted attachment.
    att, how = ch.tgw_lookup(link.tgw, link.dx_table, ip, link.attachments, c.on_prem)
    if att is None or att.kind != "vpc" or att.vpc_id != vpc.id:
        f.bad(f"{target}: the Direct Connect attachment's TGW route table sends it to "
              f"{att.label if att else 'nowhere'} ({how}), not to {vpc.label}'s attachment", link.tgw.label)
        return False
    f.involve(att.label)
    if att.accepted_by is None:
        f.bad(f"{target}: TGW attachment {att.label} is in another account and nothing accepts it "
              "(no VpcAttachmentAccepter in the Transit Gateway's account)", att.label)
        ok = False
    subnet = ch.subnet_of_ip(vpc.id, ip)
    if subnet is None:
        f.bad(f"{target}: no subnet of {vpc.label} contains it", vpc.label)
        return False
    zones = {s.get("availabilityZone") for s in (ch.by_id(sid) for sid in att.subnet_ids) if s is not None}
    if subnet.get("availabilityZone") not in zones:
        f.bad(f"{target}: TGW attachment {att.label} has no subnet in {subnet.get('availabilityZone')}, so the "
              "Transit Gateway cannot deliver to it", att.label, subnet.label)
        ok = False
    # Back: the subnet's route table must send on_prem to the TGW, whose table for this
    # attachment must send it to Direct Connect.
    table = ch.route_table_of(subnet)
    hop, route = ch.vpc_next_hop(table, vpc.id, on_prem)
    if hop != link.tgw.id:
        f.bad(f"{target}: the route table of {subnet.label} ({table.label if table else 'main, local only'}) sends "
              f"{on_prem} to {hop or 'nowhere'}, not to {link.tgw.label}", subnet.label,
              *(x for x in (table.label if table else None, route) if x))
        ok = False
    else:
        f.involve(subnet.label, table.label if table else "", route or "")
    back_table = ch.tgw_route_table_of(link.tgw, att)
    back, back_how = ch.tgw_lookup(link.tgw, back_table, on_prem, link.attachments, c.on_prem)
    if back is None or back.id != link.dx_attachment.id:
        f.bad(f"{target}: the TGW route table of {att.label} sends {on_prem} to "
              f"{back.label if back else 'nowhere'} ({back_how}), not to Direct Connect", att.label)
        ok = False
    if ok:
        f.ok(f"{on_prem} -> {target}: DX prefix {covering[0]}, TGW {how} -> {att.label} "
             f"(accepted: {att.accepted_by}), {subnet.get('availabilityZone')}; back via "
             f"{route or 'route'} -> TGW, {back_how}")
    return ok


@dataclass(frozen=True)
class Backend:
    ip: str
    port: int
    via: str  # how the listener reaches it
    proxied: bool = False


@dataclass(frozen=True)
class Targets:
    """What one target group sends to: IP targets, and instances (an Auto Scaling group or instances)."""

    group: Res
    ips: tuple[tuple[str, int], ...]
    fleets: tuple[Res, ...]
    port: int


def listener_target_groups(listener: Res) -> list[Any]:
    arns: list[Any] = []
    for action in listener.get("defaultActions") or []:
        if action.get("targetGroupArn"):
            arns.append(action.get("targetGroupArn"))
        for entry in (action.get("forward") or {}).get("targetGroups") or []:
            arns.append(entry.get("arn"))
    return arns


def targets_of(ch: Channel, tg_arn: Any, listener_port: Any = None) -> Targets | None:
    tg = ch.by_arn(tg_arn)
    if tg is None or tg.type != T_TARGET_GROUP:
        return None
    default_port = as_int(tg.get("port")) or as_int(listener_port) or 0
    ips: list[tuple[str, int]] = []
    fleets: list[Res] = []
    for att in ch.of_type(T_TARGET_ATTACHMENT):
        if att.get("targetGroupArn") != tg_arn:
            continue
        target = str(att.get("targetId") or "")
        port = as_int(att.get("port")) or default_port
        if as_network(target) is not None:
            ips.append((target, port))
        elif ch.by_id(target) is not None:
            fleets.append(ch.by_id(target))
    fleets += [g for g in ch.of_type(T_ASG) if tg_arn in (g.get("targetGroupArns") or [])]
    for attachment in ch.of_type(T_ASG_ATTACHMENT):
        if attachment.get("lbTargetGroupArn") == tg_arn:
            group = _by_name(ch, T_ASG, attachment.get("autoscalingGroupName"))
            if group is not None:
                fleets.append(group)
    return Targets(group=tg, ips=tuple(ips), fleets=tuple(fleets), port=default_port)


def preserves_client_ip(tg: Res) -> bool:
    """NLB default: on for instance targets, off for IP targets over TCP/TLS."""
    return as_flag(tg.get("preserveClientIp"), str(tg.get("targetType") or "instance") == "instance")


def listener_backends(ch: Channel, listener: Res) -> list[Backend]:
    """The addresses one listener's traffic ends at: IP targets, or the proxies' upstream servers."""
    backends: list[Backend] = []
    for arn in listener_target_groups(listener):
        targets = targets_of(ch, arn, listener.get("port"))
        if targets is None:
            continue
        for ip, port in targets.ips:
            backends.append(Backend(ip, port, f"{targets.group.label} -> {ip}:{port}"))
        for fleet in targets.fleets:
            for ip, port in proxy_upstreams(ch, fleet):
                backends.append(Backend(ip, port, f"{targets.group.label} -> {fleet.label} (HAProxy) -> {ip}:{port}",
                                        proxied=True))
    return backends


def _by_name(ch: Channel, token: str, name: Any) -> Res | None:
    for res in ch.of_type(token):
        if res.get("name") == name or res.r.name == name or res.id == name:
            return res
    return None


def proxy_upstreams(ch: Channel, fleet: Res) -> list[tuple[str, int]]:
    """The servers of the HAProxy configuration carried in an instance's or a group's user data."""
    return [(ip, int(port)) for ip, port in HAPROXY_SERVER.findall(user_data_text(ch, fleet))]


def proxy_max_connections(ch: Channel, fleet: Res) -> int | None:
    match = re.search(r"^global\b.*?^\s*maxconn\s+(\d+)", user_data_text(ch, fleet), re.MULTILINE | re.DOTALL)
    return int(match.group(1)) if match else None


def launch_template_of(ch: Channel, fleet: Res) -> Res | None:
    template = fleet.get("launchTemplate")
    if not isinstance(template, Mapping):
        return None
    return ch.by_id(template.get("id")) or _by_name(ch, T_LAUNCH_TEMPLATE, template.get("name"))


def user_data_text(ch: Channel, fleet: Res) -> str:
    raw = fleet.get("userData") or fleet.get("userDataBase64")
    if raw is None:
        template = launch_template_of(ch, fleet)
        raw = template.get("userData") if template is not None else None
    if not isinstance(raw, str):
        return ""
    try:
        return base64.b64decode(raw, validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        return raw


def fleet_security_groups(ch: Channel, fleet: Res) -> list[Any]:
    groups = list(fleet.get("vpcSecurityGroupIds") or [])
    template = launch_template_of(ch, fleet) if fleet.type == T_ASG else None
    if template is not None:
        groups += list(template.get("vpcSecurityGroupIds") or [])
        for nic in template.get("networkInterfaces") or []:
            groups += list(nic.get("securityGroups") or [])
    return groups


def fleet_subnet_cidrs(ch: Channel, fleet: Res) -> list[str]:
    subnet_ids = fleet.get("vpcZoneIdentifiers") or ([fleet.get("subnetId")] if fleet.get("subnetId") else [])
    return [s.get("cidrBlock") for s in (ch.by_id(i) for i in subnet_ids) if s is not None and s.get("cidrBlock")]


def service_nlbs(ch: Channel, service: Res) -> list[Res]:
    return [n for n in (ch.by_arn(a) for a in service.get("networkLoadBalancerArns") or []) if n is not None]


def listener_path(
    ch: Channel, c: Core, nlb: Res, listener: Res, f: Findings, *, clients: Sequence[str], privatelink: bool
) -> set[str]:
    """Every hop from one listener to the iot.data endpoints, security groups included.

    Returns the iot.data IPs the listener reaches. The source a target sees is
    the client's address when the target group preserves it (never for
    PrivateLink traffic), else the NLB's own addresses.
    """
    reached: set[str] = set()
    data = set(c.data_ips)
    nlb_groups = list(nlb.get("securityGroups") or [])
    port_label = f"{listener.label} (port {as_int(listener.get('port'))})"
    f.involve(listener.label)
    for arn in listener_target_groups(listener):
        targets = targets_of(ch, arn, listener.get("port"))
        if targets is None:
            f.bad(f"{port_label} forwards to a target group that is not in the plan ({arn})", listener.label)
            continue
        tg = targets.group
        f.involve(tg.label)
        preserved = preserves_client_ip(tg) and not privatelink
        sources = list(clients) if preserved else nlb_ips(nlb)
        seen_as = (f"the clients' own addresses: {tg.label} preserves client IPs" if preserved
                   else f"the NLB's addresses: {tg.label} does not preserve client IPs")
        if not targets.ips and not targets.fleets:
            f.bad(f"{tg.label} behind {port_label} has no target", tg.label)
        for ip, port in targets.ips:
            owner = next((e for e in c.data_endpoints if ip in endpoint_ips(e)), None)
            if owner is None:
                continue  # not an iot.data address: the isolation check reports it
            if nlb_groups and ch.admits(nlb_groups, "egress", "tcp", port, ip,
                                        groups=owner.get("securityGroupIds") or []) is None:
                f.bad(f"{nlb.label}: no egress rule lets tcp {port} out to target {ip}", nlb.label)
                continue
            if _admits_all(ch, owner.get("securityGroupIds") or [], port, sources, nlb_groups):
                reached.add(ip)
            else:
                f.bad(f"{owner.label}: its security group does not admit tcp {port} from {', '.join(sources)} "
                      f"({seen_as})", owner.label)
        for fleet in targets.fleets:
            f.involve(fleet.label)
            reached |= _proxy_hops(ch, c, nlb, tg, targets.port, fleet, sources, seen_as, nlb_groups, data, f)
    return reached


def _admits_all(ch: Channel, groups: Sequence[Any], port: int, sources: Sequence[str], via_groups: Sequence[Any]) -> bool:
    return bool(sources) and all(ch.admits(groups, "ingress", "tcp", port, s, groups=via_groups) for s in sources)


def _proxy_hops(
    ch: Channel, c: Core, nlb: Res, tg: Res, port: int, fleet: Res, sources: Sequence[str], seen_as: str,
    nlb_groups: Sequence[Any], data: set[str], f: Findings,
) -> set[str]:
    reached: set[str] = set()
    proxy_groups = fleet_security_groups(ch, fleet)
    cidrs = fleet_subnet_cidrs(ch, fleet)
    if not cidrs:
        f.bad(f"proxy fleet {fleet.label} has no subnet in the plan", fleet.label)
    for cidr in cidrs:
        if nlb_groups and ch.admits(nlb_groups, "egress", "tcp", port, cidr) is None:
            f.bad(f"{nlb.label}: no egress rule lets tcp {port} out to the proxy subnet {cidr}", nlb.label)
    if not _admits_all(ch, proxy_groups, port, sources, nlb_groups):
        f.bad(f"proxy fleet {fleet.label}: its security group does not admit tcp {port} from "
              f"{', '.join(sources) or '(nothing)'}, the source it sees ({seen_as})",
              fleet.label, *(g.label for g in (ch.by_id(x) for x in proxy_groups) if g))
        return reached
    upstreams = proxy_upstreams(ch, fleet)
    if not upstreams:
        f.bad(f"proxy fleet {fleet.label}: no HAProxy server in its user data", fleet.label)
    for ip, upstream_port in upstreams:
        if ip not in data:
            continue  # the isolation check reports it
        owner = next(e for e in c.data_endpoints if ip in endpoint_ips(e))
        if ch.admits(proxy_groups, "egress", "tcp", upstream_port, ip,
                     groups=owner.get("securityGroupIds") or []) is None:
            f.bad(f"proxy fleet {fleet.label}: no egress rule lets tcp {upstream_port} out to {ip}", fleet.label)
        elif not _admits_all(ch, owner.get("securityGroupIds") or [], upstream_port, cidrs, proxy_groups):
            f.bad(f"{owner.label}: its security group does not admit tcp {upstream_port} from the proxy subnets "
                  f"{', '.join(cidrs)}", owner.label)
        else:
            reached.add(ip)
    return reached
