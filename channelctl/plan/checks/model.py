"""The rendered channel as a model: resources of every planned stack, indexed, with the
look-ups every check shares (VPCs, subnets, route tables, Transit Gateway, security groups,
load balancers, endpoints).

The model reads a resource's declared inputs first and falls back to the outputs the mocks
computed (IDs, ARNs, DNS names): the inputs are what a reviewer changes, the outputs are what
AWS would hand back for them.
"""

from __future__ import annotations

import ipaddress
import json
import re
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping, Sequence

from channelctl.accounts.facts import Facts
from channelctl.plan.render import RenderedResource, RenderedStack

# Check names, in the order they are run and printed.
DEVICES_PATH = "devices-path"
DEVICES_DNS = "devices-dns"
CONSUMER_PATH = "consumer-path"  # one check per consumer stack: "consumer-path:<stack>"
ISOLATION = "isolation"
CAPACITY = "capacity"
COHERENCE = "coherence"
OBSERVABILITY = "observability"
ACCOUNTS = "accounts"
DEPLOYABLE = "deployable"

# Ports devices use on each IoT interface endpoint: MQTT over TLS (8883) and
# MQTT/HTTPS with ALPN on 443 for iot.data, HTTPS for the credential provider
# and the Greengrass control plane.
DATA_PORTS = (8883, 443)
CREDENTIALS_PORTS = (443,)
GREENGRASS_PORTS = (443,)
S3_PORTS = (443,)
# Greengrass core devices in a VPC set greengrassDataPlaneEndpoint: iotdata and
# reach their data plane on the iot.data endpoints, on greengrassDataPlanePort
# (default 8443; Greengrass nucleus configuration). They also need the
# iot.credentials and S3 interface endpoints (AWS IoT Greengrass developer
# guide, "Operate an AWS IoT Greengrass core device in VPC").
GREENGRASS_DATA_PLANE_PORT = 8443
DNS_PORT = 53

# The custom domain resolves to the NLB's IPs in these device-access modes
# and to the iot.data endpoint IPs otherwise (docs/device-access-and-capacity.md, "Device access: which fleet needs which mode").
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
HAPROXY_SERVER = re.compile(r"^\s*server\s+\S+\s+(\d{1,3}(?:\.\d{1,3}){3}):(\d+)\b", re.MULTILINE)


@dataclass
class PlannedStack:
    """One stack as the plan rendered it last (its final state in the release).

    ``config`` holds the project-namespace keys without prefix as the program reads them, parsed
    once when the plan is built (structured values that ``pulumi config set`` stored as JSON
    strings decoded); every check reads a stack's config here, never from its file.
    ``rendered`` is the last render of the stack. ``facts`` is what its account already is, read by
    ``channelctl discover`` (None: no facts, every account-dependent figure is assumed); the render
    answered its look-ups from them, and the checks read them here.
    """

    name: str
    role: str
    account_id: str
    region: str
    config: dict[str, Any]
    rendered: RenderedStack
    facts: Facts | None = None


@dataclass(frozen=True)
class CheckResult:
    """One check: passed or not, a one-line detail, and the evidence."""

    name: str
    passed: bool
    detail: str
    problems: tuple[str, ...] = ()
    verified: tuple[str, ...] = ()
    resources: tuple[str, ...] = ()
    # Set only on a failed check that a later step of the release completes (checks/pending.py):
    # the step that does, and the backward reference it switches on.
    pending: str = ""
    # Where each account-dependent figure the check used came from: "read: <facts file> (<age>): ..."
    # or "assumed: ... (<why>; run channelctl discover <stack>)".
    sources: tuple[str, ...] = ()

    @property
    def status(self) -> str:
        return "PASS" if self.passed else ("PENDING" if self.pending else "FAIL")

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "passed": self.passed,
            "status": self.status,
            "pending": self.pending or None,
            "detail": self.detail,
            "problems": list(self.problems),
            "verified": list(self.verified),
            "resources": list(self.resources),
            "sources": list(self.sources),
        }


@dataclass
class Findings:
    """What one check proved and what it found broken, with the resources involved."""

    problems: list[str] = field(default_factory=list)
    verified: list[str] = field(default_factory=list)
    resources: dict[str, None] = field(default_factory=dict)
    sources: dict[str, None] = field(default_factory=dict)

    def source(self, *lines: str) -> None:
        """Where a figure came from (``channelctl.plan.checks.sources``); each line once."""
        for line in lines:
            if line:
                self.sources[line] = None

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
            sources=tuple(self.sources),
        )


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
                        from_port=as_int(entry.get("fromPort")),
                        to_port=as_int(entry.get("toPort")),
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
                        from_port=as_int(rule.get("fromPort")),
                        to_port=as_int(rule.get("toPort")),
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
                        from_port=as_int(rule.get("fromPort")),
                        to_port=as_int(rule.get("toPort")),
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
                    any(covers(c, cidr) for c in rule.cidrs) or wanted_groups.intersection(rule.groups)
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
            routes.append(vpc_route(entry, "cidrBlock", "ipv6CidrBlock", table.label))
        for route in self.of_type(T_ROUTE):
            if route.get("routeTableId") == table.id:
                values = {**route.r.state, **{k: v for k, v in route.r.inputs.items() if v is not None}}
                routes.append(vpc_route(values, "destinationCidrBlock", "destinationIpv6CidrBlock", route.label))
        return routes

    def vpc_next_hop(self, table: Res | None, vpc_id: Any, destination: str) -> tuple[str | None, str | None]:
        """Where a VPC sends ``destination`` (a CIDR or IP): ("local"|target id, route label)."""
        vpc_cidr = self.vpc_cidr(vpc_id)
        best: VpcRoute | None = None
        if table is not None:
            for route in self.vpc_routes(table):
                if route.cidr and covers(route.cidr, destination):
                    if best is None or _prefixlen(route.cidr) > _prefixlen(best.cidr):
                        best = route
        if vpc_cidr and covers(vpc_cidr, destination) and (best is None or _prefixlen(vpc_cidr) >= _prefixlen(best.cidr)):
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
                default_association=as_flag(settings.get("transitGatewayDefaultRouteTableAssociation"), True),
                default_propagation=as_flag(settings.get("transitGatewayDefaultRouteTablePropagation"), True),
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
            if cidr and covers(cidr, destination):
                target = None if as_flag(route.get("blackhole"), False) else route.get("transitGatewayAttachmentId")
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
                if cidr and covers(cidr, destination):
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


def vpc_route(values: Mapping[str, Any], v4: str, v6: str, label: str) -> VpcRoute:
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
    """iot.data / iot.credentials / greengrass / s3 / privatelink (a partner service) / other."""
    name = str(service_name or "")
    if name.startswith("com.amazonaws.vpce."):
        return "privatelink"
    if name.endswith(".iot.data"):
        return "data"
    if name.endswith(".iot.credentials"):
        return "credentials"
    if name.endswith(".greengrass"):
        return "greengrass"
    if name.endswith(".s3"):
        return "s3"
    return "other"


def is_interface(endpoint: Res) -> bool:
    """An interface endpoint (ENIs with addresses); Pulumi's default type is Gateway."""
    return str(endpoint.get("vpcEndpointType") or "Gateway").lower() == "interface"


def greengrass_enabled(stack: Any) -> bool:
    """The iot stack serves Greengrass core devices (``enableGreengrassEndpoint``, default true)."""
    return as_flag(stack.config.get("enableGreengrassEndpoint"), True)


def endpoint_ips(endpoint: Res) -> list[str]:
    return [c.get("ipv4") for c in endpoint.get("subnetConfigurations") or [] if c.get("ipv4")]


def as_int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def as_flag(value: Any, default: bool) -> bool:
    if value is None:
        return default
    if isinstance(value, str):
        return value.lower() in ("true", "enable", "enabled")
    return bool(value)


def _protocol(value: Any) -> str:
    text = str(value).lower() if value is not None else ""
    return PROTOCOL_NUMBERS.get(text, text)


def as_network(value: Any) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
    try:
        return ipaddress.ip_network(str(value), strict=False)
    except ValueError:
        return None


def covers(outer: Any, inner: Any) -> bool:
    """Whether CIDR ``outer`` contains CIDR or address ``inner``."""
    a, b = as_network(outer), as_network(inner)
    return a is not None and b is not None and a.version == b.version and b.subnet_of(a)


def _contains(cidr: Any, ip: str) -> bool:
    return covers(cidr, ip)


def _prefixlen(cidr: Any) -> int:
    net = as_network(cidr)
    return net.prefixlen if net is not None else -1


def is_everywhere(cidr: Any) -> bool:
    net = as_network(cidr)
    return net is not None and net.prefixlen == 0


def subnet_vpc(ch: Channel, subnet_id: Any) -> Any:
    subnet = ch.by_id(subnet_id)
    return subnet.get("vpcId") if subnet is not None else None


def host_name(name: Any) -> str:
    return str(name or "").rstrip(".").lower()


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
    ports = [as_int(f.get("port")) for f in raw.get("families") or [] if isinstance(f, Mapping)]
    return str(raw.get("mode") or DEFAULT_MODE), [p for p in ports if p is not None]


def nlb_ips(nlb: Res) -> list[str]:
    return [m.get("privateIpv4Address") for m in nlb.get("subnetMappings") or [] if m.get("privateIpv4Address")]


def listeners_of(ch: Channel, nlb: Res) -> list[Res]:
    arn = nlb.get("arn")
    return [l for l in ch.of_type(T_LISTENER) if l.get("loadBalancerArn") == arn]


def device_access_nlbs(ch: Channel, iot: PlannedStack, ports: Sequence[int]) -> list[Res]:
    """The NLBs with a listener on one of the device families' ports."""
    found = []
    for nlb in ch.of_type(T_LB, iot):
        if any(as_int(l.get("port")) in ports for l in listeners_of(ch, nlb)):
            found.append(nlb)
    return found
