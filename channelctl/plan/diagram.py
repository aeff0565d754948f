"""A Mermaid flowchart of the rendered channel, generated from the plan.

Accounts are subgraphs (with their IDs), VPCs are subgraphs inside them; the
nodes are the resources a reviewer follows (Direct Connect and Transit
Gateway, Resolver, interface endpoints, load balancers, proxy fleet,
endpoint service, private zones, application hosts) and the arrows are the
ones the plan itself contains: attachments, targets, DNS answers, endpoint
services. Thick arrows carry MQTT traffic, dotted arrows are DNS.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from channelctl.plan.checks import (
    T_ASG,
    T_DX_ASSOC,
    T_DX_GATEWAY,
    T_ENDPOINT_SERVICE,
    T_INSTANCE,
    T_LB,
    T_RESOLVER,
    T_SUBNET,
    T_TGW,
    T_ZONE,
    Channel,
    PlannedStack,
    Res,
    endpoint_ips,
    is_interface,
    listener_target_groups,
    listeners_of,
    nlb_ips,
    proxy_upstreams,
    resolve_alias,
    service_nlbs,
    targets_of,
    zone_answer,
)

ON_PREM = "onprem"
IOT_CORE = "iotcore"
ENDPOINT_KINDS = ("data", "credentials", "greengrass", "s3", "privatelink")
_ENDPOINT_LABEL = {
    "data": "iot.data endpoint",
    "credentials": "iot.credentials endpoint",
    "greengrass": "Greengrass endpoint",
    "s3": "S3 endpoint",
    "privatelink": "endpoint to the channel",
}


@dataclass
class Graph:
    """Nodes by subgraph, edges in order, each written once."""

    ids: dict[str, str] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)
    shapes: dict[str, str] = field(default_factory=dict)
    edges: list[tuple[str, str, str, str]] = field(default_factory=list)

    def node(self, key: str, label: str, shape: str = "box") -> str:
        if key not in self.ids:
            base = "n_" + re.sub(r"[^A-Za-z0-9_]", "_", key)
            node_id = base
            suffix = 1
            while node_id in self.ids.values():
                suffix += 1
                node_id = f"{base}_{suffix}"
            self.ids[key] = node_id
            self.labels[node_id] = label
            self.shapes[node_id] = shape
        return self.ids[key]

    def edge(self, a: str, b: str, style: str = "==>", label: str = "") -> None:
        item = (a, b, style, label)
        if a != b and item not in self.edges:
            self.edges.append(item)


def _text(label: str) -> str:
    """A label Mermaid takes inside double quotes."""
    escaped = label.replace("&", "#amp;").replace('"', "#quot;").replace("<", "#lt;").replace(">", "#gt;")
    return escaped.replace("\n", "<br/>")


def _shape(node_id: str, label: str, shape: str) -> str:
    text = _text(label)
    if shape == "round":
        return f'{node_id}(["{text}"])'
    if shape == "cylinder":
        return f'{node_id}[("{text}")]'
    if shape == "hexagon":
        return f'{node_id}{{{{"{text}"}}}}'
    return f'{node_id}["{text}"]'


def render_mermaid(stacks: Mapping[str, PlannedStack]) -> str:
    ch = Channel(stacks)
    g = Graph()
    placement: dict[str, tuple[str, str | None]] = {}  # node id -> (account, vpc id or None)

    def put(res: Res, label: str, shape: str = "box", vpc: str | None = None) -> str:
        node_id = g.node(res.label, label, shape)
        placement[node_id] = (res.stack.account_id, vpc)
        return node_id

    on_prem = sorted({c for s in ch.role("network") for c in s.rendered.exports.get("onPremCidrs") or []})
    onprem = g.node(ON_PREM, "On-premises devices\n" + ", ".join(on_prem), "round")
    iotcore = g.node(IOT_CORE, "AWS IoT Core", "round")
    vpcs = {v.id: v for v in ch.of_type("aws:ec2/vpc:Vpc")}
    subnet_vpc = {s.id: s.get("vpcId") for s in ch.of_type(T_SUBNET)}

    # --- resources inside VPCs ---
    endpoint_nodes: dict[str, str] = {}
    ip_owner: dict[str, str] = {}
    for kind in ENDPOINT_KINDS:
        for endpoint in ch.endpoints(kind=kind):
            if not is_interface(endpoint):
                continue  # a gateway endpoint is a route, not a place devices connect to
            ips = endpoint_ips(endpoint)
            label = f"{_ENDPOINT_LABEL[kind]}\n{endpoint.r.name}" + (f"\n{', '.join(ips)}" if ips else "")
            node = put(endpoint, label, "hexagon", endpoint.get("vpcId"))
            endpoint_nodes[endpoint.id] = node
            for ip in ips:
                ip_owner[ip] = node
            if kind in ("data", "credentials", "greengrass"):
                g.edge(node, iotcore)
    resolvers = []
    for resolver in ch.of_type(T_RESOLVER):
        ips = [e.get("ip") for e in resolver.get("ipAddresses") or [] if e.get("ip")]
        vpc = next((subnet_vpc.get(e.get("subnetId")) for e in resolver.get("ipAddresses") or []), None)
        node = put(resolver, f"Resolver {str(resolver.get('direction')).lower()}\n{', '.join(ips)}", "box", vpc)
        resolvers.append((resolver, node, vpc))
    nlb_nodes: dict[str, str] = {}
    for nlb in ch.of_type(T_LB):
        ips = nlb_ips(nlb)
        ports = sorted({int(l.get("port")) for l in listeners_of(ch, nlb) if l.get("port") is not None})
        vpc = next((subnet_vpc.get(m.get("subnetId")) for m in nlb.get("subnetMappings") or []), None)
        label = f"NLB {nlb.r.name}\n{', '.join(ips)}\nports {', '.join(map(str, ports))}"
        node = put(nlb, label, "box", vpc)
        nlb_nodes[nlb.get("arn")] = node
        for ip in ips:
            ip_owner[ip] = node
    for fleet in ch.of_type(T_ASG):
        vpc = next((subnet_vpc.get(s) for s in fleet.get("vpcZoneIdentifiers") or []), None)
        put(fleet, f"proxy fleet {fleet.r.name}\nHAProxy, {_count(fleet.get('minSize'))}-{_count(fleet.get('maxSize'))} instances",
            "box", vpc)
    for instance in ch.of_type(T_INSTANCE):
        put(instance, f"application host\n{instance.r.name}", "box", subnet_vpc.get(instance.get("subnetId")))

    # --- account-level resources ---
    tgws = {t.id: put(t, f"Transit Gateway\n{t.r.name}", "box") for t in ch.of_type(T_TGW)}
    dx_gateways = {d.id: put(d, f"Direct Connect gateway\n{d.r.name}", "box") for d in ch.of_type(T_DX_GATEWAY)}
    services = {}
    for service in ch.of_type(T_ENDPOINT_SERVICE):
        services[service.get("serviceName")] = put(service, f"endpoint service\n{service.r.name}", "box")
        for nlb in service_nlbs(ch, service):
            g.edge(services[service.get("serviceName")], nlb_nodes[nlb.get("arn")])
    zone_nodes: dict[str, str] = {}
    for zone in ch.of_type(T_ZONE):
        zone_nodes[zone.id] = put(zone, f"private zone\n{zone.get('name')}", "cylinder")

    # --- device path: on-premises -> DX -> TGW -> attached VPCs ---
    for assoc in ch.of_type(T_DX_ASSOC):
        dx_node = dx_gateways.get(assoc.get("dxGatewayId"))
        tgw_node = tgws.get(assoc.get("associatedGatewayId"))
        if dx_node:
            g.edge(onprem, dx_node, "==>", "Direct Connect")
        if dx_node and tgw_node:
            g.edge(dx_node, tgw_node)
    for tgw in ch.of_type(T_TGW):
        for attachment in ch.tgw_attachments(tgw).values():
            if attachment.kind != "vpc":
                continue
            for node, (_, vpc) in placement.items():
                if vpc == attachment.vpc_id and _device_facing(node, endpoint_nodes, nlb_nodes, resolvers):
                    g.edge(tgws[tgw.id], node)
    for nlb in ch.of_type(T_LB):
        nlb_node = nlb_nodes[nlb.get("arn")]
        for listener in listeners_of(ch, nlb):
            for arn in listener_target_groups(listener):
                targets = targets_of(ch, arn, listener.get("port"))
                if targets is None:
                    continue
                for ip, _ in targets.ips:
                    if ip in ip_owner:
                        g.edge(nlb_node, ip_owner[ip])
                for fleet in targets.fleets:
                    fleet_node = g.ids.get(fleet.label)
                    if fleet_node is None:
                        continue
                    g.edge(nlb_node, fleet_node, "==>", f"{listener.get('protocol')} {int(listener.get('port'))}")
                    for ip, _ in proxy_upstreams(ch, fleet):
                        if ip in ip_owner:
                            g.edge(fleet_node, ip_owner[ip])

    # --- DNS: Resolver -> zones associated with its VPC -> what they answer ---
    associated: dict[str, set[str]] = {}
    for zone in ch.of_type(T_ZONE):
        for entry in zone.get("vpcs") or []:
            associated.setdefault(entry.get("vpcId"), set()).add(zone.id)
    for assoc in ch.of_type("aws:route53/zoneAssociation:ZoneAssociation"):
        associated.setdefault(assoc.get("vpcId"), set()).add(assoc.get("zoneId"))
    for resolver, node, vpc in resolvers:
        g.edge(onprem, node, "-.->", "DNS 53")
        for zone_id in sorted(associated.get(vpc, ())):
            if zone_id in zone_nodes:
                g.edge(node, zone_nodes[zone_id], "-.->")
    for zone in ch.of_type(T_ZONE):
        answer = zone_answer(ch, zone, str(zone.get("name") or "").rstrip(".").lower())
        targets = {ip_owner[ip] for _, addresses in answer.sets for ip in addresses if ip in ip_owner}
        for alias in answer.aliases:
            res, _ = resolve_alias(ch, alias)
            if res is not None and res.label in g.ids:
                targets.add(g.ids[res.label])
        for target in sorted(targets):
            g.edge(zone_nodes[zone.id], target, "-.->")

    # --- consumers: application -> own endpoint -> endpoint service ---
    for endpoint in ch.endpoints(kind="privatelink"):
        service_node = services.get(endpoint.get("serviceName"))
        node = endpoint_nodes[endpoint.id]
        if service_node:
            g.edge(node, service_node, "==>", "PrivateLink")
        for instance in ch.of_type(T_INSTANCE, endpoint.stack):
            if subnet_vpc.get(instance.get("subnetId")) == endpoint.get("vpcId"):
                g.edge(g.ids[instance.label], node, "==>", "MQTT")
    return _write(ch, g, placement, vpcs, onprem, iotcore)


def _device_facing(node: str, endpoints: Mapping[str, str], nlbs: Mapping[str, str], resolvers: list) -> bool:
    return node in endpoints.values() or node in nlbs.values() or any(node == n for _, n, _ in resolvers)


def _write(ch: Channel, g: Graph, placement: Mapping[str, tuple[str, str | None]], vpcs: Mapping[str, Res],
           onprem: str, iotcore: str) -> str:
    lines = ["flowchart LR", f"  {_shape(onprem, g.labels[onprem], 'round')}"]
    accounts: dict[str, list[PlannedStack]] = {}
    for stack in ch.stacks.values():
        accounts.setdefault(stack.account_id, []).append(stack)
    for account, stacks in accounts.items():
        names = ", ".join(f"{s.name} ({s.role})" for s in stacks)
        lines.append(f'  subgraph acct_{re.sub(r"[^0-9A-Za-z]", "_", account)}["{_text(f"account {account}: {names}")}"]')
        in_account = [n for n, (a, _) in placement.items() if a == account]
        for vpc_id in dict.fromkeys(v for n, (a, v) in placement.items() if a == account and v):
            vpc = vpcs.get(vpc_id)
            title = f"VPC {vpc.r.name} {vpc.get('cidrBlock')}" if vpc else f"VPC {vpc_id}"
            lines.append(f'    subgraph vpc_{re.sub(r"[^0-9A-Za-z]", "_", str(vpc_id))}["{_text(title)}"]')
            for node in in_account:
                if placement[node][1] == vpc_id:
                    lines.append(f"      {_shape(node, g.labels[node], g.shapes[node])}")
            lines.append("    end")
        for node in in_account:
            if placement[node][1] is None:
                lines.append(f"    {_shape(node, g.labels[node], g.shapes[node])}")
        lines.append("  end")
    lines.append(f"  {_shape(iotcore, g.labels[iotcore], 'round')}")
    for a, b, style, label in g.edges:
        arrow = f'{style}|"{_text(label)}"|' if label else style
        lines.append(f"  {a} {arrow} {b}")
    return "\n".join(lines) + "\n"


def _count(value: object) -> object:
    return int(value) if isinstance(value, float) else value
