"""Verification of a rendered channel: pure functions over the rendered stacks.

Each check walks the resources the program declared (as ``channelctl.render``
recorded them, cross-linked by the IDs the mocks computed) the way traffic and
DNS queries would walk the deployed channel, and reports what it proved, what
it found missing, and the resources it looked at. Nothing here renders,
reads files or talks to AWS: a check's only input is the planned stacks, so a
test can break a deep copy of a plan and watch exactly that check fail.

The checks read a resource's declared inputs first and fall back to the
outputs the mocks computed (IDs, ARNs, DNS names): the inputs are what a
reviewer changes, the outputs are what AWS would hand back for them.
"""

from __future__ import annotations

import base64
import binascii
import fnmatch
import ipaddress
import json
import re
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping, Sequence

from channelctl.render import RenderedResource, RenderedStack
from components.config import CONNECTIONS_PER_DATA_ENDPOINT, CONNECTIONS_PER_NLB_TARGET

# Check names, in the order they are run and printed.
DEVICES_PATH = "devices-path"
DEVICES_DNS = "devices-dns"
CONSUMER_PATH = "consumer-path"  # one check per consumer stack: "consumer-path:<stack>"
ISOLATION = "isolation"
CAPACITY = "capacity"

# Ports devices use on each IoT interface endpoint: MQTT over TLS (8883) and
# MQTT/HTTPS with ALPN on 443 for iot.data, HTTPS for the credential provider
# and the Greengrass control plane.
DATA_PORTS = (8883, 443)
CREDENTIALS_PORTS = (443,)
GREENGRASS_PORTS = (443,)
DNS_PORT = 53

# The custom domain resolves to the NLB's IPs in these device-access modes
# and to the iot.data endpoint IPs otherwise (DESIGN.md, device access).
NLB_MODES = ("tls-proxy", "tcp-passthrough")
DEFAULT_MODE = "direct"
DEFAULT_EXPECTED_DEVICES = 10_000

# Resource types that give a VPC a way to or from the internet.
INTERNET_TYPES = {
    "aws:ec2/internetGateway:InternetGateway": "internet gateway",
    "aws:ec2/internetGatewayAttachment:InternetGatewayAttachment": "internet gateway attachment",
    "aws:ec2/egressOnlyInternetGateway:EgressOnlyInternetGateway": "egress-only internet gateway",
    "aws:ec2/natGateway:NatGateway": "NAT gateway",
    "aws:ec2/eip:Eip": "Elastic IP",
    "aws:ec2/eipAssociation:EipAssociation": "Elastic IP association",
    "aws:ec2/carrierGateway:CarrierGateway": "carrier gateway",
    "aws:ec2/defaultVpc:DefaultVpc": "default VPC (has an internet gateway)",
    "aws:ec2/defaultSubnet:DefaultSubnet": "default subnet (public IPs on launch)",
    "aws:lambda/functionUrl:FunctionUrl": "Lambda function URL (public HTTPS endpoint)",
}

T_VPC = "aws:ec2/vpc:Vpc"
T_SUBNET = "aws:ec2/subnet:Subnet"
T_RT = "aws:ec2/routeTable:RouteTable"
T_RT_ASSOC = "aws:ec2/routeTableAssociation:RouteTableAssociation"
T_MAIN_RT_ASSOC = "aws:ec2/mainRouteTableAssociation:MainRouteTableAssociation"
T_ROUTE = "aws:ec2/route:Route"
T_SG = "aws:ec2/securityGroup:SecurityGroup"
T_SG_RULE = "aws:ec2/securityGroupRule:SecurityGroupRule"
T_SG_IN = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
T_SG_OUT = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"
T_NACL = "aws:ec2/networkAcl:NetworkAcl"
T_NACL_RULE = "aws:ec2/networkAclRule:NetworkAclRule"
T_ENDPOINT = "aws:ec2/vpcEndpoint:VpcEndpoint"
T_ENDPOINT_SERVICE = "aws:ec2/vpcEndpointService:VpcEndpointService"
T_SERVICE_PRINCIPAL = "aws:ec2/vpcEndpointServiceAllowedPrinciple:VpcEndpointServiceAllowedPrinciple"
T_CONNECTION_ACCEPTER = "aws:ec2/vpcEndpointConnectionAccepter:VpcEndpointConnectionAccepter"
T_TGW = "aws:ec2transitgateway/transitGateway:TransitGateway"
T_TGW_ATTACHMENT = "aws:ec2transitgateway/vpcAttachment:VpcAttachment"
T_TGW_ACCEPTER = "aws:ec2transitgateway/vpcAttachmentAccepter:VpcAttachmentAccepter"
T_TGW_RT_ASSOC = "aws:ec2transitgateway/routeTableAssociation:RouteTableAssociation"
T_TGW_RT_PROP = "aws:ec2transitgateway/routeTablePropagation:RouteTablePropagation"
T_TGW_ROUTE = "aws:ec2transitgateway/route:Route"
T_DX_GATEWAY = "aws:directconnect/gateway:Gateway"
T_DX_ASSOC = "aws:directconnect/gatewayAssociation:GatewayAssociation"
T_DX_VIFS = (
    "aws:directconnect/transitVirtualInterface:TransitVirtualInterface",
    "aws:directconnect/hostedTransitVirtualInterfaceAcceptor:HostedTransitVirtualInterfaceAcceptor",
)
T_RESOLVER = "aws:route53/resolverEndpoint:ResolverEndpoint"
T_ZONE = "aws:route53/zone:Zone"
T_RECORD = "aws:route53/record:Record"
T_ZONE_ASSOC = "aws:route53/zoneAssociation:ZoneAssociation"
T_ZONE_AUTH = "aws:route53/vpcAssociationAuthorization:VpcAssociationAuthorization"
T_LB = "aws:lb/loadBalancer:LoadBalancer"
T_LISTENER = "aws:lb/listener:Listener"
T_TARGET_GROUP = "aws:lb/targetGroup:TargetGroup"
T_TARGET_ATTACHMENT = "aws:lb/targetGroupAttachment:TargetGroupAttachment"
T_ASG = "aws:autoscaling/group:Group"
T_ASG_ATTACHMENT = "aws:autoscaling/attachment:Attachment"
T_LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"
T_INSTANCE = "aws:ec2/instance:Instance"
T_IOT_POLICY = "aws:iot/policy:Policy"
T_IOT_AUTHORIZER = "aws:iot/authorizer:Authorizer"
T_LAMBDA = "aws:lambda/function:Function"
T_STACK_REFERENCE = "pulumi:pulumi:StackReference"

# Security-group protocol spellings: any protocol, and protocol numbers for tcp and udp.
ANY_PROTOCOL = {"-1", "all"}
PROTOCOL_NUMBERS = {"6": "tcp", "17": "udp"}
_HAPROXY_SERVER = re.compile(r"^\s*server\s+\S+\s+(\d{1,3}(?:\.\d{1,3}){3}):(\d+)\b", re.MULTILINE)


# --------------------------------------------------------------------------- #
# Inputs and results
# --------------------------------------------------------------------------- #


@dataclass
class PlannedStack:
    """One stack as the plan rendered it last (its final state in the release).

    ``config`` holds the project-namespace keys without prefix, as the stack
    file has them; ``rendered`` is the last render of the stack.
    """

    name: str
    role: str
    account_id: str
    region: str
    config: dict[str, Any]
    rendered: RenderedStack


@dataclass(frozen=True)
class CheckResult:
    """One check: passed or not, a one-line detail, and the evidence."""

    name: str
    passed: bool
    detail: str
    problems: tuple[str, ...] = ()
    verified: tuple[str, ...] = ()
    resources: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "passed": self.passed,
            "detail": self.detail,
            "problems": list(self.problems),
            "verified": list(self.verified),
            "resources": list(self.resources),
        }


@dataclass
class Findings:
    """What one check proved and what it found broken, with the resources involved."""

    problems: list[str] = field(default_factory=list)
    verified: list[str] = field(default_factory=list)
    resources: dict[str, None] = field(default_factory=dict)

    def involve(self, *labels: str) -> None:
        for label in labels:
            if label:
                self.resources[label] = None

    def ok(self, message: str, *labels: str) -> None:
        self.verified.append(message)
        self.involve(*labels)

    def bad(self, message: str, *labels: str) -> None:
        self.problems.append(message)
        self.involve(*labels)

    def result(self, name: str, summary: str) -> CheckResult:
        passed = not self.problems
        if passed:
            detail = summary
        else:
            shown = "; ".join(self.problems[:3])
            more = f" (and {len(self.problems) - 3} more)" if len(self.problems) > 3 else ""
            detail = f"{shown}{more}"
        return CheckResult(
            name=name,
            passed=passed,
            detail=detail,
            problems=tuple(self.problems),
            verified=tuple(self.verified),
            resources=tuple(self.resources),
        )


# --------------------------------------------------------------------------- #
# The rendered channel, indexed
# --------------------------------------------------------------------------- #


@dataclass(frozen=True)
class Res:
    """A rendered resource together with the stack that declares it."""

    stack: PlannedStack
    r: RenderedResource

    @property
    def id(self) -> str:
        return self.r.id

    @property
    def type(self) -> str:
        return self.r.type

    @property
    def label(self) -> str:
        return f"{self.stack.name}:{self.r.name}"

    def get(self, key: str, default: Any = None) -> Any:
        """The declared input, else the computed output."""
        if key in self.r.inputs and self.r.inputs[key] is not None:
            return self.r.inputs[key]
        value = self.r.state.get(key)
        return default if value is None else value


def short_type(token: str) -> str:
    """``aws:ec2/vpc:Vpc`` -> ``ec2.Vpc``; component tokens stay as they are."""
    if token.startswith("aws:") and "/" in token:
        module = token.split(":", 2)[1].split("/")[0]
        return f"{module}.{token.rsplit(':', 1)[-1]}"
    return token


@dataclass(frozen=True)
class Attachment:
    """A Transit Gateway attachment: a VPC's, or the Direct Connect gateway's."""

    id: str
    kind: str  # "vpc" or "dx"
    vpc_id: str | None
    subnet_ids: tuple[str, ...]
    label: str
    accepted_by: str | None  # label of what makes it usable (accepter, same account, ...)
    default_association: bool
    default_propagation: bool


class Channel:
    """Every resource of every planned stack, with the look-ups the checks share."""

    def __init__(self, stacks: Mapping[str, PlannedStack]):
        self.stacks = dict(stacks)
        self.all: list[Res] = [Res(s, r) for s in self.stacks.values() for r in s.rendered.resources]
        self._by_type: dict[str, list[Res]] = {}
        self._by_id: dict[str, Res] = {}
        self._by_arn: dict[str, Res] = {}
        # Renders register resources in whatever order their inputs resolve: sort,
        # so that findings come out in the same order every run.
        self.all.sort(key=lambda res: (res.stack.name, res.r.name, res.type))
        for res in self.all:
            self._by_type.setdefault(res.type, []).append(res)
            if res.id and res.type != T_STACK_REFERENCE:
                self._by_id.setdefault(res.id, res)
            arn = res.r.state.get("arn")
            if isinstance(arn, str):
                self._by_arn.setdefault(arn, res)

    # -- roles -----------------------------------------------------------------
    def role(self, role: str) -> list[PlannedStack]:
        return [s for s in self.stacks.values() if s.role == role]

    def single(self, role: str) -> PlannedStack | None:
        found = self.role(role)
        return found[0] if len(found) == 1 else None

    # -- look-ups --------------------------------------------------------------
    def of_type(self, token: str, stack: PlannedStack | None = None) -> list[Res]:
        found = self._by_type.get(token, [])
        return [r for r in found if stack is None or r.stack is stack]

    def by_id(self, rid: Any) -> Res | None:
        return self._by_id.get(rid) if isinstance(rid, str) else None

    def by_arn(self, arn: Any) -> Res | None:
        return self._by_arn.get(arn) if isinstance(arn, str) else None

    def vpc(self, vpc_id: Any) -> Res | None:
        res = self.by_id(vpc_id)
        return res if res and res.type == T_VPC else None

    def vpc_cidr(self, vpc_id: Any) -> str | None:
        res = self.vpc(vpc_id)
        return res.get("cidrBlock") if res else None

    def subnets(self, vpc_id: Any) -> list[Res]:
        return [s for s in self.of_type(T_SUBNET) if s.get("vpcId") == vpc_id]

    def subnet_of_ip(self, vpc_id: Any, ip: str) -> Res | None:
        for subnet in self.subnets(vpc_id):
            if _contains(subnet.get("cidrBlock"), ip):
                return subnet
        return None

    # -- endpoints -------------------------------------------------------------
    def endpoints(self, stack: PlannedStack | None = None, kind: str | None = None) -> list[Res]:
        return [
            e for e in self.of_type(T_ENDPOINT, stack) if kind is None or endpoint_kind(e.get("serviceName")) == kind
        ]

    # -- security groups -------------------------------------------------------
    def sg_rules(self, sg_id: Any, direction: str) -> list[Rule]:
        """Every rule of one security group in one direction ("ingress"/"egress")."""
        rules: list[Rule] = []
        sg = self.by_id(sg_id)
        if sg and sg.type == T_SG:
            for entry in sg.get(direction) or []:
                rules.append(
                    Rule(
                        protocol=_protocol(entry.get("protocol")),
                        from_port=_int(entry.get("fromPort")),
                        to_port=_int(entry.get("toPort")),
                        cidrs=tuple(entry.get("cidrBlocks") or ()) + tuple(entry.get("ipv6CidrBlocks") or ()),
                        groups=tuple(entry.get("securityGroups") or ()) + ((sg_id,) if entry.get("self") else ()),
                        label=sg.label,
                    )
                )
        for rule in self.of_type(T_SG_RULE):
            if rule.get("securityGroupId") == sg_id and rule.get("type") == direction:
                source = rule.get("sourceSecurityGroupId")
                rules.append(
                    Rule(
                        protocol=_protocol(rule.get("protocol")),
                        from_port=_int(rule.get("fromPort")),
                        to_port=_int(rule.get("toPort")),
                        cidrs=tuple(rule.get("cidrBlocks") or ()) + tuple(rule.get("ipv6CidrBlocks") or ()),
                        groups=((source,) if source else ()) + ((sg_id,) if rule.get("self") else ()),
                        label=rule.label,
                    )
                )
        token = T_SG_IN if direction == "ingress" else T_SG_OUT
        for rule in self.of_type(token):
            if rule.get("securityGroupId") == sg_id:
                ref = rule.get("referencedSecurityGroupId")
                rules.append(
                    Rule(
                        protocol=_protocol(rule.get("ipProtocol")),
                        from_port=_int(rule.get("fromPort")),
                        to_port=_int(rule.get("toPort")),
                        cidrs=tuple(c for c in (rule.get("cidrIpv4"), rule.get("cidrIpv6")) if c),
                        groups=(ref,) if ref else (),
                        label=rule.label,
                    )
                )
        return rules

    def admits(
        self, sg_ids: Iterable[Any], direction: str, protocol: str, port: int, cidr: str, groups: Iterable[str] = ()
    ) -> Rule | None:
        """The first rule of the groups that lets ``protocol``/``port`` from (or to) ``cidr``."""
        wanted_groups = set(groups)
        for sg_id in sg_ids:
            for rule in self.sg_rules(sg_id, direction):
                if rule.matches(protocol, port) and (
                    any(_covers(c, cidr) for c in rule.cidrs) or wanted_groups.intersection(rule.groups)
                ):
                    return rule
        return None

    # -- VPC routing -----------------------------------------------------------
    def route_table_of(self, subnet: Res) -> Res | None:
        for assoc in self.of_type(T_RT_ASSOC):
            if assoc.get("subnetId") == subnet.id:
                return self.by_id(assoc.get("routeTableId"))
        vpc_id = subnet.get("vpcId")
        for main in self.of_type(T_MAIN_RT_ASSOC):
            if main.get("vpcId") == vpc_id:
                return self.by_id(main.get("routeTableId"))
        return None

    def vpc_routes(self, table: Res) -> list[VpcRoute]:
        routes = []
        for entry in table.get("routes") or []:
            routes.append(_vpc_route(entry, "cidrBlock", "ipv6CidrBlock", table.label))
        for route in self.of_type(T_ROUTE):
            if route.get("routeTableId") == table.id:
                values = {**route.r.state, **{k: v for k, v in route.r.inputs.items() if v is not None}}
                routes.append(_vpc_route(values, "destinationCidrBlock", "destinationIpv6CidrBlock", route.label))
        return routes

    def vpc_next_hop(self, table: Res | None, vpc_id: Any, destination: str) -> tuple[str | None, str | None]:
        """Where a VPC sends ``destination`` (a CIDR or IP): ("local"|target id, route label)."""
        vpc_cidr = self.vpc_cidr(vpc_id)
        best: VpcRoute | None = None
        if table is not None:
            for route in self.vpc_routes(table):
                if route.cidr and _covers(route.cidr, destination):
                    if best is None or _prefixlen(route.cidr) > _prefixlen(best.cidr):
                        best = route
        if vpc_cidr and _covers(vpc_cidr, destination) and (best is None or _prefixlen(vpc_cidr) >= _prefixlen(best.cidr)):
            return "local", None
        if best is None:
            return None, None
        return best.target, best.label

    # -- Transit Gateway -------------------------------------------------------
    def tgw(self, tgw_id: Any) -> Res | None:
        res = self.by_id(tgw_id)
        return res if res and res.type == T_TGW else None

    def tgw_attachments(self, tgw: Res) -> dict[str, Attachment]:
        owner_account = tgw.stack.account_id
        auto_accept = tgw.get("autoAcceptSharedAttachments") == "enable"
        accepters = {a.get("transitGatewayAttachmentId"): a for a in self.of_type(T_TGW_ACCEPTER)}
        found: dict[str, Attachment] = {}
        for att in self.of_type(T_TGW_ATTACHMENT):
            if att.get("transitGatewayId") != tgw.id:
                continue
            accepter = accepters.get(att.id)
            if att.stack.account_id == owner_account:
                accepted_by = "same account"
            elif accepter is not None and accepter.stack.account_id == owner_account:
                accepted_by = accepter.label
            elif auto_accept:
                accepted_by = f"{tgw.label} (autoAcceptSharedAttachments)"
            else:
                accepted_by = None
            # The accepter's settings apply to a cross-account attachment.
            settings = accepter if accepter is not None else att
            found[att.id] = Attachment(
                id=att.id,
                kind="vpc",
                vpc_id=att.get("vpcId"),
                subnet_ids=tuple(att.get("subnetIds") or ()),
                label=att.label,
                accepted_by=accepted_by,
                default_association=_flag(settings.get("transitGatewayDefaultRouteTableAssociation"), True),
                default_propagation=_flag(settings.get("transitGatewayDefaultRouteTablePropagation"), True),
            )
        for dx in self.of_type(T_DX_ASSOC):
            att_id = dx.get("transitGatewayAttachmentId")
            if dx.get("associatedGatewayId") == tgw.id and att_id:
                found[att_id] = Attachment(
                    id=att_id, kind="dx", vpc_id=None, subnet_ids=(), label=dx.label,
                    accepted_by="same account", default_association=True, default_propagation=True,
                )
        return found

    def tgw_route_table_of(self, tgw: Res, attachment: Attachment) -> str | None:
        for assoc in self.of_type(T_TGW_RT_ASSOC):
            if assoc.get("transitGatewayAttachmentId") == attachment.id:
                return assoc.get("transitGatewayRouteTableId")
        if tgw.get("defaultRouteTableAssociation", "enable") != "disable" and attachment.default_association:
            return default_tgw_table(tgw)
        return None

    def tgw_lookup(
        self, tgw: Res, table_id: str | None, destination: str, attachments: Mapping[str, Attachment], on_prem: Sequence[str]
    ) -> tuple[Attachment | None, str]:
        """Longest-prefix match in one TGW route table: (attachment, how it was found)."""
        if table_id is None:
            return None, "no route table"
        candidates: list[tuple[int, int, str | None, str]] = []  # (prefixlen, static?, attachment, how)
        for route in self.of_type(T_TGW_ROUTE):
            if route.get("transitGatewayRouteTableId") != table_id:
                continue
            cidr = route.get("destinationCidrBlock")
            if cidr and _covers(cidr, destination):
                target = None if _flag(route.get("blackhole"), False) else route.get("transitGatewayAttachmentId")
                how = f"static route {cidr} ({route.label})" if target else f"blackhole route {cidr} ({route.label})"
                candidates.append((_prefixlen(cidr), 1, target, how))
        propagating = [p.get("transitGatewayAttachmentId") for p in self.of_type(T_TGW_RT_PROP)
                       if p.get("transitGatewayRouteTableId") == table_id]
        if table_id == default_tgw_table(tgw) and tgw.get("defaultRouteTablePropagation", "enable") != "disable":
            propagating += [a.id for a in attachments.values() if a.default_propagation]
        for att_id in propagating:
            att = attachments.get(att_id)
            if att is None:
                continue
            prefixes = list(on_prem) if att.kind == "dx" else [self.vpc_cidr(att.vpc_id)]
            for cidr in prefixes:
                if cidr and _covers(cidr, destination):
                    candidates.append((_prefixlen(cidr), 0, att.id, f"propagated {cidr} from {att.label}"))
        if not candidates:
            return None, "no route"
        candidates.sort(key=lambda c: (c[0], c[1]), reverse=True)
        _, _, target, how = candidates[0]
        return (attachments.get(target) if target else None), how


@dataclass(frozen=True)
class Rule:
    protocol: str
    from_port: int | None
    to_port: int | None
    cidrs: tuple[str, ...]
    groups: tuple[str, ...]
    label: str

    def matches(self, protocol: str, port: int) -> bool:
        if self.protocol in ANY_PROTOCOL:
            return True
        if self.protocol != protocol:
            return False
        if self.from_port is None or self.to_port is None:
            return False
        return self.from_port <= port <= self.to_port


@dataclass(frozen=True)
class VpcRoute:
    cidr: str | None
    target: str | None
    label: str


def _vpc_route(values: Mapping[str, Any], v4: str, v6: str, label: str) -> VpcRoute:
    target = None
    for key in ("transitGatewayId", "gatewayId", "natGatewayId", "vpcEndpointId", "networkInterfaceId",
                "vpcPeeringConnectionId", "egressOnlyGatewayId", "carrierGatewayId", "localGatewayId",
                "coreNetworkArn"):
        if values.get(key):
            target = values[key]
            break
    return VpcRoute(cidr=values.get(v4) or values.get(v6), target=target, label=label)


def default_tgw_table(tgw: Res) -> str:
    return f"{tgw.id}:default-route-table"


def endpoint_kind(service_name: Any) -> str:
    """iot.data / iot.credentials / greengrass / privatelink (a partner service) / other."""
    name = str(service_name or "")
    if name.startswith("com.amazonaws.vpce."):
        return "privatelink"
    if name.endswith(".iot.data"):
        return "data"
    if name.endswith(".iot.credentials"):
        return "credentials"
    if name.endswith(".greengrass"):
        return "greengrass"
    return "other"


def endpoint_ips(endpoint: Res) -> list[str]:
    return [c.get("ipv4") for c in endpoint.get("subnetConfigurations") or [] if c.get("ipv4")]


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _flag(value: Any, default: bool) -> bool:
    if value is None:
        return default
    if isinstance(value, str):
        return value.lower() in ("true", "enable", "enabled")
    return bool(value)


def _protocol(value: Any) -> str:
    text = str(value).lower() if value is not None else ""
    return PROTOCOL_NUMBERS.get(text, text)


def _net(value: Any) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
    try:
        return ipaddress.ip_network(str(value), strict=False)
    except ValueError:
        return None


def _covers(outer: Any, inner: Any) -> bool:
    """Whether CIDR ``outer`` contains CIDR or address ``inner``."""
    a, b = _net(outer), _net(inner)
    return a is not None and b is not None and a.version == b.version and b.subnet_of(a)


def _contains(cidr: Any, ip: str) -> bool:
    return _covers(cidr, ip)


def _prefixlen(cidr: Any) -> int:
    net = _net(cidr)
    return net.prefixlen if net is not None else -1


def _is_everywhere(cidr: Any) -> bool:
    net = _net(cidr)
    return net is not None and net.prefixlen == 0


def _subnet_vpc(ch: Channel, subnet_id: Any) -> Any:
    subnet = ch.by_id(subnet_id)
    return subnet.get("vpcId") if subnet is not None else None


def _host(name: Any) -> str:
    return str(name or "").rstrip(".").lower()


# --------------------------------------------------------------------------- #
# Shared facts about the channel
# --------------------------------------------------------------------------- #


@dataclass
class Core:
    """The parts every check starts from; ``missing`` says what could not be found."""

    network: PlannedStack | None
    iot: PlannedStack | None
    on_prem: list[str]
    device_vpc: Res | None
    gatekeeper_vpc: Res | None
    tgw: Res | None
    data_endpoints: list[Res]
    data_ips: list[str]
    data_ids: list[str]
    missing: list[str]


def core(ch: Channel) -> Core:
    missing: list[str] = []
    network, iot = ch.single("network"), ch.single("iot")
    for role, stack in (("network", network), ("iot", iot)):
        if stack is None:
            count = len(ch.role(role))
            missing.append(f"the plan has {count} {role} stacks, the channel needs exactly one")
    on_prem: list[str] = []
    device_vpc = gatekeeper_vpc = tgw = None
    if network is not None:
        on_prem = list(network.rendered.exports.get("onPremCidrs") or network.config.get("onPremCidrs") or [])
        device_vpc = ch.vpc(network.rendered.exports.get("deviceVpcId"))
        tgw = ch.tgw(network.rendered.exports.get("transitGatewayId"))
        if device_vpc is None:
            missing.append(f"no device VPC in stack {network.name} (export deviceVpcId)")
        if tgw is None:
            missing.append(f"no Transit Gateway in stack {network.name} (export transitGatewayId)")
        if not on_prem:
            missing.append(f"stack {network.name} names no on-premises CIDR (onPremCidrs)")
    data_endpoints: list[Res] = []
    if iot is not None:
        gatekeeper_vpc = ch.vpc(iot.rendered.exports.get("gatekeeperVpcId"))
        if gatekeeper_vpc is None:
            missing.append(f"no gatekeeper VPC in stack {iot.name} (export gatekeeperVpcId)")
        data_endpoints = ch.endpoints(iot, "data")
        if not data_endpoints:
            missing.append(f"no iot.data interface endpoint in stack {iot.name}")
    data_ips = [ip for e in data_endpoints for ip in endpoint_ips(e)]
    return Core(
        network=network, iot=iot, on_prem=on_prem, device_vpc=device_vpc, gatekeeper_vpc=gatekeeper_vpc, tgw=tgw,
        data_endpoints=data_endpoints, data_ips=data_ips, data_ids=[e.id for e in data_endpoints], missing=missing,
    )


def device_access_mode(iot: PlannedStack | None) -> tuple[str, list[int]]:
    """The iot stack's device-access mode and its families' ports."""
    if iot is None:
        return DEFAULT_MODE, []
    raw = iot.config.get("deviceAccess")
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError:
            raw = None
    if not isinstance(raw, Mapping):
        return DEFAULT_MODE, []
    ports = [_int(f.get("port")) for f in raw.get("families") or [] if isinstance(f, Mapping)]
    return str(raw.get("mode") or DEFAULT_MODE), [p for p in ports if p is not None]


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
        hosts.append((_host(data_host), "iot.data", c.data_ips, "the iot.data endpoints"))
    creds = ch.endpoints(iot, "credentials")
    if creds:
        host = exports.get("credentialsEndpointHost")
        ips = [ip for e in creds for ip in endpoint_ips(e)]
        if host:
            hosts.append((_host(host), "iot.credentials", ips, "the iot.credentials endpoint"))
        else:
            hosts.append(("(credentialsEndpointHost not exported)", "iot.credentials", ips, "the iot.credentials endpoint"))
    greengrass = ch.endpoints(iot, "greengrass")
    if greengrass:
        ips = [ip for e in greengrass for ip in endpoint_ips(e)]
        hosts.append((f"greengrass.{region}.amazonaws.com", "Greengrass control plane", ips, "the Greengrass endpoint"))
        # Greengrass core devices reach their data plane through iot.data.
        hosts.append((f"greengrass-ats.iot.{region}.amazonaws.com", "Greengrass data plane", c.data_ips,
                      "the iot.data endpoints"))
    domain = exports.get("customDomain") or iot.config.get("customDomain")
    if domain:
        mode, ports = device_access_mode(iot)
        if mode in NLB_MODES:
            nlbs = device_access_nlbs(ch, iot, ports)
            ips = [ip for nlb in nlbs for ip in nlb_ips(nlb)]
            hosts.append((_host(domain), f"custom domain ({mode})", ips, "the device-access NLB"))
        else:
            hosts.append((_host(domain), f"custom domain ({mode})", c.data_ips, "the iot.data endpoints"))
    return hosts


def nlb_ips(nlb: Res) -> list[str]:
    return [m.get("privateIpv4Address") for m in nlb.get("subnetMappings") or [] if m.get("privateIpv4Address")]


def listeners_of(ch: Channel, nlb: Res) -> list[Res]:
    arn = nlb.get("arn")
    return [l for l in ch.of_type(T_LISTENER) if l.get("loadBalancerArn") == arn]


def device_access_nlbs(ch: Channel, iot: PlannedStack, ports: Sequence[int]) -> list[Res]:
    """The NLBs with a listener on one of the device families' ports."""
    found = []
    for nlb in ch.of_type(T_LB, iot):
        if any(_int(l.get("port")) in ports for l in listeners_of(ch, nlb)):
            found.append(nlb)
    return found


def zone_named(ch: Channel, stack: PlannedStack, host: str) -> Res | None:
    for zone in ch.of_type(T_ZONE, stack):
        if _host(zone.get("name")) == host:
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
        if record.get("zoneId") != zone.id or _host(record.get("name")) != host or record.get("type") != "A":
            continue
        labels.append(record.label)
        for alias in record.get("aliases") or []:
            aliases.append(_host(alias.get("name")))
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
            if _host(entry.get("dnsName")) == dns_name:
                return endpoint, endpoint_ips(endpoint)
    for nlb in ch.of_type(T_LB):
        if _host(nlb.get("dnsName")) == dns_name:
            return nlb, nlb_ips(nlb)
    return None, []


# --------------------------------------------------------------------------- #
# Paths from on-premises through Direct Connect and the Transit Gateway
# --------------------------------------------------------------------------- #


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
    covering = [p for p in prefixes if _covers(p, ip)]
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


# --------------------------------------------------------------------------- #
# Load balancer paths
# --------------------------------------------------------------------------- #


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
    default_port = _int(tg.get("port")) or _int(listener_port) or 0
    ips: list[tuple[str, int]] = []
    fleets: list[Res] = []
    for att in ch.of_type(T_TARGET_ATTACHMENT):
        if att.get("targetGroupArn") != tg_arn:
            continue
        target = str(att.get("targetId") or "")
        port = _int(att.get("port")) or default_port
        if _net(target) is not None:
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
    return _flag(tg.get("preserveClientIp"), str(tg.get("targetType") or "instance") == "instance")


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
    return [(ip, int(port)) for ip, port in _HAPROXY_SERVER.findall(user_data_text(ch, fleet))]


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
    port_label = f"{listener.label} (port {_int(listener.get('port'))})"
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
            if nlb_groups and ch.admits(nlb_groups, "egress", "tcp", port, ip) is None:
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
        if ch.admits(proxy_groups, "egress", "tcp", upstream_port, ip) is None:
            f.bad(f"proxy fleet {fleet.label}: no egress rule lets tcp {upstream_port} out to {ip}", fleet.label)
        elif not _admits_all(ch, owner.get("securityGroupIds") or [], upstream_port, cidrs, proxy_groups):
            f.bad(f"{owner.label}: its security group does not admit tcp {upstream_port} from the proxy subnets "
                  f"{', '.join(cidrs)}", owner.label)
        else:
            reached.add(ip)
    return reached


# --------------------------------------------------------------------------- #
# The checks
# --------------------------------------------------------------------------- #


def check_devices_path(ch: Channel) -> CheckResult:
    """On-premises -> DX -> TGW -> gatekeeper subnets (every endpoint IP) and back; device ports admitted."""
    f = Findings()
    c = core(ch)
    for message in c.missing:
        f.bad(message)
    link = on_prem_link(ch, c, f)
    if link is None or c.gatekeeper_vpc is None or c.iot is None:
        return f.result(DEVICES_PATH, "")
    f.involve(c.gatekeeper_vpc.label)
    targets: list[tuple[Res, str, tuple[int, ...]]] = []
    for kind, ports in (("data", DATA_PORTS), ("credentials", CREDENTIALS_PORTS), ("greengrass", GREENGRASS_PORTS)):
        for endpoint in ch.endpoints(c.iot, kind):
            targets.append((endpoint, f"{endpoint_kind(endpoint.get('serviceName'))} endpoint {endpoint.r.name}", ports))
    mode, family_ports = device_access_mode(c.iot)
    access_nlbs = device_access_nlbs(ch, c.iot, family_ports) if mode in NLB_MODES else []
    if mode in NLB_MODES and not access_nlbs:
        f.bad(f"deviceAccess mode {mode}: no NLB in stack {c.iot.name} listens on the family ports "
              f"{', '.join(map(str, family_ports)) or '(none configured)'}")
    for nlb in access_nlbs:
        targets.append((nlb, f"device-access NLB {nlb.r.name}", tuple(family_ports)))
    reached = 0
    for res, what, ports in targets:
        f.involve(res.label)
        ips = nlb_ips(res) if res.type == T_LB else endpoint_ips(res)
        if not ips:
            f.bad(f"{what} has no fixed IP: devices' path cannot be checked", res.label)
        groups = res.get("securityGroups") if res.type == T_LB else res.get("securityGroupIds")
        for on_prem in c.on_prem:
            for ip in ips:
                reached += round_trip(ch, c, link, f, on_prem=on_prem, ip=ip, vpc=c.gatekeeper_vpc, what=what)
            for port in ports:
                rule = ch.admits(groups or [], "ingress", "tcp", port, on_prem)
                if rule is None:
                    f.bad(f"{what}: no security group rule admits tcp {port} from {on_prem}", res.label,
                          *(ch.by_id(g).label for g in groups or [] if ch.by_id(g)))
                else:
                    f.ok(f"{what}: tcp {port} from {on_prem} admitted by {rule.label}", rule.label)
    for nlb in access_nlbs:
        for listener in listeners_of(ch, nlb):
            if _int(listener.get("port")) not in family_ports:
                continue
            got = listener_path(ch, c, nlb, listener, f, clients=c.on_prem, privatelink=False)
            if not got:
                f.bad(f"device-access listener {listener.label} reaches no iot.data endpoint IP", listener.label)
            else:
                f.ok(f"device-access listener {listener.label} reaches iot.data endpoint IPs {', '.join(sorted(got))}")
    summary = (f"on-premises {', '.join(c.on_prem)} reaches {reached} endpoint/NLB addresses in "
               f"{c.gatekeeper_vpc.label} through Direct Connect and the Transit Gateway and back; "
               "device ports admitted")
    return f.result(DEVICES_PATH, summary)


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
        if not _flag(vpc.get(flag), flag == "enableDnsSupport"):
            f.bad(f"{vpc.label} has {flag} off: private hosted zones do not answer in it", vpc.label)
    # --- the Resolver inbound endpoint and the way to it ---
    resolvers = [r for r in ch.of_type(T_RESOLVER, c.network) if str(r.get("direction")).upper() == "INBOUND"]
    link = on_prem_link(ch, c, f)
    resolver_ips: list[str] = []
    for resolver in resolvers:
        f.involve(resolver.label)
        entries = resolver.get("ipAddresses") or []
        in_vpc = [e for e in entries if _subnet_vpc(ch, e.get("subnetId")) == vpc.id]
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
        if _flag(service.get("acceptanceRequired"), True):
            accepters = [a for a in ch.of_type(T_CONNECTION_ACCEPTER) if a.get("vpcEndpointId") == endpoint.id
                         and a.get("vpcEndpointServiceId") == service.id]
            if accepters:
                f.ok(f"{accepters[0].label} accepts {endpoint.label}", accepters[0].label)
            else:
                f.bad(f"{service.label} requires acceptance and nothing accepts {endpoint.label} "
                      "(no VpcEndpointConnectionAccepter for it)", service.label, endpoint.label)
        _consumer_side(ch, c, consumer, endpoint, f)
        _service_to_data(ch, c, service, endpoint, f)
    return f.result(name, f"{consumer.name} (account {account}) reaches the iot.data endpoints through "
                          f"PrivateLink: {', '.join(s.label for _, s in channel)}")


def _consumer_side(ch: Channel, c: Core, consumer: PlannedStack, endpoint: Res, f: Findings) -> None:
    vpc_id = endpoint.get("vpcId")
    vpc_cidr = ch.vpc_cidr(vpc_id) or consumer.rendered.exports.get("consumerVpcCidr")
    data_host = _host(c.iot.rendered.exports.get("dataEndpointHost")) if c.iot else ""
    own_names = {_host(e.get("dnsName")) for e in endpoint.get("dnsEntries") or []}
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


def _service_to_data(ch: Channel, c: Core, service: Res, endpoint: Res, f: Findings) -> None:
    nlbs = service_nlbs(ch, service)
    if not nlbs:
        f.bad(f"{service.label} has no network load balancer in the plan", service.label)
        return
    data = set(c.data_ips)
    for nlb in nlbs:
        f.involve(nlb.label)
        listeners = listeners_of(ch, nlb)
        ports = {_int(l.get("port")) for l in listeners}
        for port in DATA_PORTS:
            if port not in ports:
                f.bad(f"{nlb.label} has no listener on {port}, which consumers' clients use", nlb.label)
        for listener in listeners:
            reached = listener_path(ch, c, nlb, listener, f, clients=(), privatelink=True)
            missing = sorted(data - reached)
            if missing:
                f.bad(f"listener {listener.label} (port {_int(listener.get('port'))}) does not reach iot.data "
                      f"endpoint IPs {', '.join(missing)}", listener.label)
            else:
                f.ok(f"listener {listener.label} (port {_int(listener.get('port'))}) reaches all "
                     f"{len(data)} iot.data endpoint IPs")


def check_isolation(ch: Channel) -> CheckResult:
    """Nothing reaches or is reached from the internet; consumers reach only iot.data; Connect only via the gatekeeper."""
    f = Findings()
    c = core(ch)
    for token, what in INTERNET_TYPES.items():
        for res in ch.of_type(token):
            f.bad(f"{what} {res.label}", res.label)
    for res in ch.of_type(T_SUBNET):
        if _flag(res.get("mapPublicIpOnLaunch"), False):
            f.bad(f"subnet {res.label} gives instances public IPs (mapPublicIpOnLaunch)", res.label)
        if _flag(res.get("assignIpv6AddressOnCreation"), False):
            f.bad(f"subnet {res.label} assigns IPv6 addresses on creation", res.label)
    for res in ch.of_type(T_INSTANCE):
        if _flag(res.get("associatePublicIpAddress"), False):
            f.bad(f"instance {res.label} gets a public IP (associatePublicIpAddress)", res.label)
    for res in ch.of_type(T_LAUNCH_TEMPLATE):
        for nic in res.get("networkInterfaces") or []:
            if _flag(nic.get("associatePublicIpAddress"), False):
                f.bad(f"launch template {res.label} gives instances public IPs", res.label)
    for res in ch.of_type(T_LB):
        if not _flag(res.get("internal"), False):
            f.bad(f"load balancer {res.label} is internet-facing (internal is not true)", res.label)
    _open_rules(ch, f)
    for service in ch.of_type(T_ENDPOINT_SERVICE):
        principals = list(service.get("allowedPrincipals") or [])
        principals += [p.get("principalArn") for p in ch.of_type(T_SERVICE_PRINCIPAL)
                       if p.get("vpcEndpointServiceId") == service.id]
        if "*" in principals:
            f.bad(f"endpoint service {service.label} allows every AWS account ('*')", service.label)
        _service_reaches_only_data(ch, c, service, f)
    _policies_need_gatekeeper(ch, c, f)
    counted = len(ch.all)
    summary = (f"{counted} resources: no internet gateway, NAT, public IP or rule open to 0.0.0.0/0 or ::/0; "
               "endpoint services reach only the iot.data endpoints; Connect requires aws:SourceVpce = "
               f"{', '.join(c.data_ids) or '(none)'}")
    return f.result(ISOLATION, summary)


def _open_rules(ch: Channel, f: Findings) -> None:
    for sg in ch.of_type(T_SG):
        for direction in ("ingress", "egress"):
            for entry in sg.get(direction) or []:
                for cidr in list(entry.get("cidrBlocks") or []) + list(entry.get("ipv6CidrBlocks") or []):
                    if _is_everywhere(cidr):
                        f.bad(f"security group {sg.label} has an {direction} rule open to {cidr}", sg.label)
    for rule in ch.of_type(T_SG_RULE):
        for cidr in list(rule.get("cidrBlocks") or []) + list(rule.get("ipv6CidrBlocks") or []):
            if _is_everywhere(cidr):
                f.bad(f"security group rule {rule.label} is open to {cidr}", rule.label)
    for token in (T_SG_IN, T_SG_OUT):
        for rule in ch.of_type(token):
            for cidr in (rule.get("cidrIpv4"), rule.get("cidrIpv6")):
                if cidr and _is_everywhere(cidr):
                    f.bad(f"security group rule {rule.label} is open to {cidr}", rule.label)
    for route in ch.of_type(T_ROUTE):
        for key in ("destinationCidrBlock", "destinationIpv6CidrBlock"):
            if _is_everywhere(route.get(key)):
                f.bad(f"route {route.label} sends {route.get(key)} (everything) to {_vpc_route(route.r.state, key, key, route.label).target}",
                      route.label)
    for table in ch.of_type(T_RT):
        for entry in table.get("routes") or []:
            for key in ("cidrBlock", "ipv6CidrBlock"):
                if _is_everywhere(entry.get(key)):
                    f.bad(f"route table {table.label} has a route for {entry.get(key)}", table.label)
    for route in ch.of_type(T_TGW_ROUTE):
        if _is_everywhere(route.get("destinationCidrBlock")) and not _flag(route.get("blackhole"), False):
            f.bad(f"Transit Gateway route {route.label} sends {route.get('destinationCidrBlock')} somewhere", route.label)
    for dx in ch.of_type(T_DX_ASSOC):
        for prefix in dx.get("allowedPrefixes") or []:
            if _is_everywhere(prefix):
                f.bad(f"Direct Connect association {dx.label} allows {prefix}", dx.label)
    for token in (T_NACL_RULE,):
        for rule in ch.of_type(token):
            for key in ("cidrBlock", "ipv6CidrBlock"):
                if _is_everywhere(rule.get(key)) and str(rule.get("ruleAction")).lower() == "allow":
                    f.bad(f"network ACL rule {rule.label} allows {rule.get(key)}", rule.label)
    for acl in ch.of_type(T_NACL):
        for direction in ("ingress", "egress"):
            for entry in acl.get(direction) or []:
                for key in ("cidrBlock", "ipv6CidrBlock"):
                    if _is_everywhere(entry.get(key)) and str(entry.get("action")).lower() == "allow":
                        f.bad(f"network ACL {acl.label} allows {direction} {entry.get(key)}", acl.label)


def _service_reaches_only_data(ch: Channel, c: Core, service: Res, f: Findings) -> None:
    """Whatever a consumer can reach behind the endpoint service must be an iot.data endpoint."""
    data = set(c.data_ips)
    others = {ip: e.label for e in ch.of_type(T_ENDPOINT) for ip in endpoint_ips(e) if ip not in data}
    for nlb in service_nlbs(ch, service):
        for listener in listeners_of(ch, nlb):
            for backend in listener_backends(ch, listener):
                if backend.ip in data:
                    continue
                what = f"the {others[backend.ip]} endpoint" if backend.ip in others else "a non-iot.data address"
                f.bad(f"consumers of {service.label} reach {what} {backend.ip}:{backend.port} through "
                      f"{listener.label} ({backend.via})", listener.label)
    f.involve(service.label)


def _policies_need_gatekeeper(ch: Channel, c: Core, f: Findings) -> None:
    allowed = set(c.data_ids)
    for policy in ch.of_type(T_IOT_POLICY):
        f.involve(policy.label)
        try:
            document = json.loads(policy.get("policy") or "")
        except (TypeError, ValueError):
            f.bad(f"IoT policy {policy.label} is not JSON", policy.label)
            continue
        problems = connect_problems(document, allowed)
        for problem in problems:
            f.bad(f"IoT policy {policy.label}: {problem}", policy.label)
        if not problems:
            f.ok(f"IoT policy {policy.label} allows Connect only with aws:SourceVpce in {sorted(allowed)}")
    for authorizer in ch.of_type(T_IOT_AUTHORIZER):
        f.involve(authorizer.label)
        function = ch.by_arn(authorizer.get("authorizerFunctionArn"))
        if function is None or function.type != T_LAMBDA:
            f.bad(f"authorizer {authorizer.label}: its function {authorizer.get('authorizerFunctionArn')} is not in "
                  "the plan, so the policies it returns cannot be checked", authorizer.label)
            continue
        f.involve(function.label)
        env = dict((function.get("environment") or {}).get("variables") or {})
        ids = {part.strip() for part in str(env.get("DATA_ENDPOINT_IDS", "")).split(",") if part.strip()}
        if ids != allowed or not ids:
            f.bad(f"authorizer function {function.label}: DATA_ENDPOINT_IDS is {sorted(ids) or 'unset'}, the iot.data "
                  f"endpoints are {sorted(allowed)}", function.label)
            continue
        problems = authorizer_connect_problems(env, function, allowed)
        for problem in problems:
            f.bad(f"authorizer function {function.label}: {problem}", function.label)
        if not problems:
            f.ok(f"authorizer {authorizer.label} returns Connect only with aws:SourceVpce in {sorted(allowed)}")


def _actions(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    return [str(v) for v in value or []]


def _grants_connect(statement: Mapping[str, Any]) -> bool:
    if "NotAction" in statement:
        return not any(fnmatch.fnmatch("iot:connect", a.lower()) for a in _actions(statement["NotAction"]))
    return any(fnmatch.fnmatch("iot:connect", a.lower()) for a in _actions(statement.get("Action")))


def connect_problems(document: Mapping[str, Any], allowed: set[str]) -> list[str]:
    """Why a policy document would allow iot:Connect other than through the allowed endpoints."""
    statements = document.get("Statement") or []
    if isinstance(statements, Mapping):
        statements = [statements]
    problems = []
    for index, statement in enumerate(statements):
        if statement.get("Effect") != "Allow" or not _grants_connect(statement):
            continue
        where = f"statement {statement.get('Sid') or index}"
        values: set[str] | None = None
        for operator, conditions in (statement.get("Condition") or {}).items():
            if operator.split(":")[-1] not in ("StringEquals", "StringEqualsIgnoreCase"):
                continue
            if operator.startswith("ForAnyValue") or operator.endswith("IfExists"):
                continue
            for key, value in conditions.items():
                if key.lower() == "aws:sourcevpce":
                    values = set(_actions(value))
        if not values:
            problems.append(f"{where} allows iot:Connect without an aws:SourceVpce condition")
        elif not values <= allowed:
            problems.append(f"{where} allows iot:Connect through {sorted(values - allowed)}, "
                            "which are not the gatekeeper's iot.data endpoints")
    return problems


def authorizer_connect_problems(env: Mapping[str, Any], function: Res, allowed: set[str]) -> list[str]:
    """Run the authorizer's own policy builder with the function's settings and inspect what it returns."""
    from authorizer.errors import AuthorizerError
    from authorizer.policy import build_policy_documents
    from authorizer.records import DeviceRecord
    from authorizer.settings import load_settings

    environ = {k: str(v) for k, v in env.items()}
    environ.setdefault("AWS_REGION", function.stack.region)
    try:
        settings = load_settings(environ, function.get("arn"))
        record = DeviceRecord(username="plancheck", password_hash="$unused$", family="plancheck")
        documents = build_policy_documents(record, settings)
    except AuthorizerError as exc:
        return [f"its settings are refused by the authorizer itself: {exc}"]
    problems = []
    for text in documents:
        problems += connect_problems(json.loads(text), allowed)
    return problems


def check_capacity(ch: Channel) -> CheckResult:
    """expectedDevices fits the iot.data endpoints (100,000 each) and every NLB target (55,000 each)."""
    f = Findings()
    c = core(ch)
    if c.iot is None:
        f.bad("the plan has no single iot stack: capacity cannot be checked")
        return f.result(CAPACITY, "")
    expected = _int(c.iot.config.get("expectedDevices", DEFAULT_EXPECTED_DEVICES))
    if expected is None or expected < 0:
        f.bad(f"expectedDevices {c.iot.config.get('expectedDevices')!r} is not a number of devices")
        return f.result(CAPACITY, "")
    shares = endpoint_shares(ch, c)
    worst_endpoint = 0.0
    for endpoint in c.data_endpoints:
        load = expected * shares.get(endpoint.id, 0.0)
        worst_endpoint = max(worst_endpoint, load)
        f.involve(endpoint.label)
        if load > CONNECTIONS_PER_DATA_ENDPOINT:
            f.bad(f"{endpoint.label} would carry {load:,.0f} of {expected:,} connections — more than the "
                  f"{CONNECTIONS_PER_DATA_ENDPOINT:,} one iot.data endpoint serves", endpoint.label)
        else:
            f.ok(f"{endpoint.label}: {load:,.0f} connections (limit {CONNECTIONS_PER_DATA_ENDPOINT:,})")
    worst_target = 0.0
    fleets_checked: set[str] = set()
    for nlb in ch.of_type(T_LB, c.iot):
        cross_zone = _flag(nlb.get("enableCrossZoneLoadBalancing"), False)
        zones = max(1, len(nlb.get("subnetMappings") or nlb.get("subnets") or []))
        for listener in listeners_of(ch, nlb):
            for arn in listener_target_groups(listener):
                targets = targets_of(ch, arn, listener.get("port"))
                if targets is None:
                    continue
                tg = targets.group
                f.involve(tg.label)
                for fleet in targets.fleets:
                    if fleet.label not in fleets_checked:
                        fleets_checked.add(fleet.label)
                        _fleet_capacity(ch, fleet, expected, f)
                if targets.fleets and preserves_client_ip(tg):
                    # Devices' connections keep their own source address: the per-target
                    # limit of 55,000 applies to NLB-sourced connections only.
                    continue
                count = len(set(targets.ips)) + sum(_fleet_size(f_) for f_ in targets.fleets)
                if count == 0:
                    f.bad(f"{tg.label} has no target: {listener.label} cannot carry connections", tg.label)
                    continue
                # Without cross-zone load balancing each zone's NLB node uses only its own
                # zone's targets; clients spread evenly over the zones' addresses.
                if cross_zone or not targets.ips:
                    per_target = expected / count
                else:
                    per_target = _per_target_by_zone(ch, tg, set(targets.ips), zones, expected)
                worst_target = max(worst_target, per_target)
                if per_target > CONNECTIONS_PER_NLB_TARGET:
                    f.bad(f"{tg.label}: {per_target:,.0f} connections per target for {expected:,} devices — more than "
                          f"the {CONNECTIONS_PER_NLB_TARGET:,} an NLB serves per target", tg.label)
                else:
                    f.ok(f"{tg.label}: {per_target:,.0f} connections per target over {count} targets "
                         f"(limit {CONNECTIONS_PER_NLB_TARGET:,})")
    summary = (f"{expected:,} expected devices: at most {worst_endpoint:,.0f} per iot.data endpoint "
               f"(limit {CONNECTIONS_PER_DATA_ENDPOINT:,}), at most {worst_target:,.0f} per NLB target "
               f"(limit {CONNECTIONS_PER_NLB_TARGET:,})")
    return f.result(CAPACITY, summary)


def endpoint_shares(ch: Channel, c: Core) -> dict[str, float]:
    """Each iot.data endpoint's share of the connections, from the data host's DNS weights."""
    owner = {ip: e.id for e in c.data_endpoints for ip in endpoint_ips(e)}
    even = {e.id: 1 / len(c.data_endpoints) for e in c.data_endpoints} if c.data_endpoints else {}
    host = _host(c.iot.rendered.exports.get("dataEndpointHost")) if c.iot else ""
    zone = zone_named(ch, c.iot, host) if c.iot else None
    if zone is None:
        return even
    answer = zone_answer(ch, zone, host)
    total = sum(w for w, _ in answer.sets)
    if not answer.sets or total <= 0:
        return even
    shares: dict[str, float] = {}
    for weight, addresses in answer.sets:
        # Clients pick one address of the answer at random.
        for ip in addresses:
            if ip in owner:
                shares[owner[ip]] = shares.get(owner[ip], 0.0) + weight / total / len(addresses)
    return shares


def _fleet_size(fleet: Res) -> int:
    """Instances a fleet runs without scaling: the desired capacity, else the minimum."""
    if fleet.type != T_ASG:
        return 1
    return _int(fleet.get("desiredCapacity")) or _int(fleet.get("minSize")) or 0


def _fleet_capacity(ch: Channel, fleet: Res, expected: int, f: Findings) -> None:
    """A proxy fleet must hold every expected device at its standing size (HAProxy maxconn per instance)."""
    per_instance = proxy_max_connections(ch, fleet)
    size = _fleet_size(fleet)
    if per_instance is None:
        return
    total = per_instance * size
    f.involve(fleet.label)
    if total < expected:
        f.bad(f"proxy fleet {fleet.label}: {size} instances x maxconn {per_instance:,} = {total:,} connections, fewer "
              f"than {expected:,} expected devices if all of them use the custom domain — raise the fleet's size "
              f"to {-(-expected // per_instance)}", fleet.label)
    else:
        f.ok(f"proxy fleet {fleet.label}: {size} x {per_instance:,} = {total:,} connections for {expected:,} devices")


def _per_target_by_zone(ch: Channel, tg: Res, targets: set[tuple[str, int]], zones: int, expected: int) -> float:
    vpc_id = tg.get("vpcId")
    per_zone: dict[str, int] = {}
    for ip, _ in targets:
        subnet = ch.subnet_of_ip(vpc_id, ip)
        az = subnet.get("availabilityZone") if subnet else "?"
        per_zone[az] = per_zone.get(az, 0) + 1
    if not per_zone:
        return float(expected)
    return max(expected / zones / n for n in per_zone.values())


# --------------------------------------------------------------------------- #
# Running them
# --------------------------------------------------------------------------- #

def run_checks(stacks: Mapping[str, PlannedStack]) -> list[CheckResult]:
    """Every check over the planned stacks, in a fixed order."""
    ch = Channel(stacks)
    results = [check_devices_path(ch), check_devices_dns(ch)]
    results += [check_consumer_path(ch, s) for s in sorted(ch.role("consumer"), key=lambda s: s.name)]
    results += [check_isolation(ch), check_capacity(ch)]
    return results
