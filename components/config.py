"""Typed, validated stack configuration.

Every key lives in the project's namespace (``private-mqtt-channel:<key>``).
``load_config`` turns the raw values Pulumi hands the program (strings; JSON
for structured values) into one frozen dataclass per role, and refuses bad
input with a ``ConfigError`` that names the key, shows the value and says how
to fix it — before the program declares a single resource.
"""

from __future__ import annotations

import ipaddress
import json
import math
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Sequence

from authorizer.cost import check_cost
from authorizer.errors import AuthorizerError
from authorizer.hashes import dummy_hash
from authorizer.scopes import configuration_overlaps
from components import aws_limits
from components.proxy_capacity import (  # noqa: F401  (CONNECTIONS_PER_NLB_TARGET is part of this module's surface)
    CONNECTIONS_PER_NLB_TARGET,
    DEFAULT_IOT_CONNECTS_PER_SECOND,
    DEFAULT_PROXY_INSTANCE_TYPE,
    DEFAULT_RECONNECT_TARGET_SECONDS,
    CapacityError,
    check_proxy_fleet,
    instance_type as proxy_instance_type_spec,
)
from components.private_vpc import SSM_SERVICES
from components.proxy_config import MAX_ENDPOINT_KEEPALIVE_S

PROJECT = "private-mqtt-channel"
ROLES = ("network", "iot", "consumer")

# One iot.data interface endpoint serves 100,000 concurrent connections
# (AWS IoT Core developer guide, "IoT Core with interface VPC endpoints").
CONNECTIONS_PER_DATA_ENDPOINT = 100_000
# "Interface and Gateway Load Balancer endpoints per VPC" (aws_limits): the
# plan refuses to need more than the default.
INTERFACE_ENDPOINTS_PER_VPC = aws_limits.INTERFACE_ENDPOINTS_PER_VPC
# A Resolver endpoint needs at least two IP addresses, in different AZs.
MIN_AVAILABILITY_ZONES = 2
MAX_AVAILABILITY_ZONES = 6
# What makes the stacks one channel (each is refused by the stack that reads the other's exports,
# components/stacks.py, and by `channelctl plan` before rendering, channelctl/crossstack.py).
# A Transit Gateway is a Regional resource: it connects VPCs of its own Region, and RAM shares it for
# attachments in that Region (AWS whitepaper "Building a Scalable and Secure Multi-VPC AWS Network
# Infrastructure", section Transit Gateway).
TGW_REGION_RULE = "a VPC attaches only to a Transit Gateway of its own Region"
# An interface endpoint reaches an endpoint service in another Region only through cross-Region
# PrivateLink (since November 2024: the service's `supported_regions`, the endpoint's `service_region`;
# AWS PrivateLink guide, "Share your services through AWS PrivateLink", Cross-Region access). The
# channel uses neither, so consumers' endpoints must be in the endpoint service's Region. Route 53
# private zones are not bound to a Region (AssociateVPCWithHostedZone takes the VPC's Region and
# requires only the same partition, Route 53 API reference): the zone associations add no rule.
PRIVATELINK_REGION_RULE = (
    "a consumer's interface endpoint reaches the endpoint service only in its own Region (the channel does "
    "not use cross-Region PrivateLink)"
)
# Inside one AWS Organization (RAM sharing with Organizations enabled) a share to an account of the
# organization sends no invitation; outside it, the account must accept one (provider docs of
# aws.ram.PrincipalAssociation). The network stack shares without external principals when
# sameOrganization is true, and the iot stack creates a ResourceShareAccepter only when it is false.
SAME_ORGANIZATION_RULE = (
    "the network stack shares the Transit Gateway and the iot stack accepts the share by this key (no invitation "
    "inside one AWS Organization, an invitation to accept outside it)"
)
# Private ASN ranges accepted by Transit Gateway and Direct Connect gateways.
_PRIVATE_ASN_RANGES = ((64512, 65534), (4_200_000_000, 4_294_967_294))

_ACCOUNT_RE = re.compile(r"^\d{12}\Z")
_REGION_RE = re.compile(r"^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d\Z")
_ROLE_ARN_RE = re.compile(r"^arn:aws(-[a-z]+)*:iam::\d{12}:role/[\w+=,.@/-]{1,512}\Z")
_NAME_RE = re.compile(r"^[a-z][a-z0-9-]{0,30}[a-z0-9]\Z")
_STACK_RE = re.compile(r"^[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+){0,2}\Z")
_DX_CONNECTION_RE = re.compile(r"^dx(con|lag)-[0-9a-z]{8,}\Z")
_VPC_ID_RE = re.compile(r"^vpc-[0-9a-f]{8,17}\Z")
_SUBNET_ID_RE = re.compile(r"^subnet-[0-9a-f]{8,17}\Z")
_TAG_KEY_RE = re.compile(r"^[\w.:/=+@ -]{1,128}\Z")
_TOPIC_SEGMENT_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}\Z")
_INSTANCE_TYPE_RE = re.compile(r"^[a-z][a-z0-9-]*\.[a-z0-9]+\Z")
_ACM_ARN_RE = re.compile(r"^arn:aws(-[a-z]+)*:acm:[a-z0-9-]+:\d{12}:certificate/[0-9a-f-]{36}\Z")
_LABEL_RE = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)\Z")
_LOG_RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653)


class ConfigError(ValueError):
    """A stack configuration value is missing, malformed or inconsistent."""


# --------------------------------------------------------------------------- #
# Typed configuration
# --------------------------------------------------------------------------- #


@dataclass(frozen=True, kw_only=True)
class CommonConfig:
    """Keys every stack has."""

    stack: str
    role: str
    account_id: str
    region: str
    assume_role_arn: str | None = None
    tags: Mapping[str, str] = field(default_factory=dict)
    monitoring: MonitoringConfig = field(default_factory=lambda: MonitoringConfig())


@dataclass(frozen=True, kw_only=True)
class DirectConnectConfig:
    """Direct Connect gateway and, when a connection exists, its transit VIF."""

    gateway_asn: int = 64513
    connection_id: str | None = None
    vlan: int | None = None
    customer_asn: int | None = None
    mtu: int = 1500


@dataclass(frozen=True, kw_only=True)
class NetworkConfig:
    common: CommonConfig
    iot_account_id: str
    device_vpc_cidr: str
    gatekeeper_vpc_cidr: str
    on_prem_cidrs: tuple[str, ...]
    availability_zones: tuple[str, ...]
    transit_gateway_asn: int = 64512
    direct_connect: DirectConnectConfig = field(default_factory=DirectConnectConfig)
    same_organization: bool = False
    iot_stack: str | None = None


@dataclass(frozen=True, kw_only=True)
class ConsumerRef:
    """One consumer account allowed on the endpoint service."""

    name: str
    account_id: str
    stack: str | None = None
    vpc_cidr: str | None = None


@dataclass(frozen=True, kw_only=True)
class AuthorizerConfig:
    """The custom authorizer for username/password devices (off by default)."""

    enabled: bool = False
    # Reserved concurrency caps what a connection storm can cost and keeps
    # capacity for the authorizer when other functions share the account. None
    # (the default) reserves nothing: a reservation must leave 100 of the
    # account's concurrency quota unreserved, and a new account's quota can be 10.
    reserved_concurrency: int | None = None
    disconnect_after_seconds: int = 86_400
    # How long IoT Core keeps a connection's policy before asking the authorizer again:
    # the longest a disable/deny takes to reach a live session.
    refresh_after_seconds: int = 900
    max_failed_attempts: int = 10
    lockout_seconds: int = 900
    family_topic_prefixes: Mapping[str, str] = field(default_factory=dict)
    unknown_user_hash: str = "scrypt"
    memory_size: int = 512
    log_retention_days: int = 365
    # Roles that run `channelctl devices`: with the authorizer's own role, the only
    # principals the credentials key lets use it (through DynamoDB).
    operator_role_arns: tuple[str, ...] = ()
    # Roles that administer the credentials key (never use it); default: the
    # deploying role (assumeRoleArn), else the account, whose IAM policies then decide.
    key_admin_arns: tuple[str, ...] = ()


DEVICE_ACCESS_MODES = ("tls-proxy", "tcp-passthrough", "direct")


@dataclass(frozen=True, kw_only=True)
class DeviceFamily:
    name: str
    port: int


@dataclass(frozen=True, kw_only=True)
class DeviceAccessConfig:
    """How devices reach the custom domain (issue: device access modes)."""

    mode: str
    families: tuple[DeviceFamily, ...] = ()
    ca_bundle_file: str | None = None
    proxy_instance_type: str = DEFAULT_PROXY_INSTANCE_TYPE
    proxy_min_size: int = 2
    proxy_max_size: int = 4


@dataclass(frozen=True, kw_only=True)
class CapacityConfig:
    """What the plan's capacity check measures the channel against.

    reconnect_target_seconds: the whole fleet must be able to reconnect after
        an outage within this time (default 900).
    iot_connects_per_second: the account's "Connect requests per second per
        account" IoT Core quota in this region (AWS default 500, adjustable).
    device_keep_alive_seconds: the MQTT keep-alive the devices send; IoT Core
        allows at most 230 s through a VPC endpoint (the default, the worst case
        for every idle timeout on the path).
    """

    reconnect_target_seconds: int = DEFAULT_RECONNECT_TARGET_SECONDS
    iot_connects_per_second: int = DEFAULT_IOT_CONNECTS_PER_SECOND
    device_keep_alive_seconds: int = MAX_ENDPOINT_KEEPALIVE_S


@dataclass(frozen=True, kw_only=True)
class IotConfig:
    common: CommonConfig
    network_stack: str
    gatekeeper_vpc_cidr: str
    availability_zone_count: int = 2
    expected_devices: int = 10_000
    enable_credentials_endpoint: bool = True
    enable_greengrass_endpoint: bool = True
    same_organization: bool = False
    consumers: tuple[ConsumerRef, ...] = ()
    thing_topic_prefix: str = "things"
    custom_domain: str | None = None
    custom_domain_certificate_arn: str | None = None
    authorizer: AuthorizerConfig = field(default_factory=AuthorizerConfig)
    device_access: DeviceAccessConfig | None = None
    capacity: CapacityConfig = field(default_factory=CapacityConfig)

    @property
    def data_endpoint_count(self) -> int:
        return data_endpoint_count(self.expected_devices, self.availability_zone_count)


@dataclass(frozen=True, kw_only=True)
class ExistingVpc:
    vpc_id: str
    vpc_cidr: str
    subnet_ids: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class ApplicationHostConfig:
    enabled: bool = False
    instance_type: str = "t4g.micro"
    # Public SSM parameter naming the current Amazon Linux 2023 AMI.
    ami_parameter: str = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64"
    # A pinned AMI: the host is replaced when (and only when) this changes.
    ami_id: str | None = None


@dataclass(frozen=True, kw_only=True)
class ConsumerConfig:
    common: CommonConfig
    iot_stack: str
    vpc_cidr: str | None = None
    availability_zones: tuple[str, ...] = ()
    existing_vpc: ExistingVpc | None = None
    application_host: ApplicationHostConfig = field(default_factory=ApplicationHostConfig)

    @property
    def effective_vpc_cidr(self) -> str:
        return self.existing_vpc.vpc_cidr if self.existing_vpc else self.vpc_cidr  # type: ignore[return-value]


StackConfig = NetworkConfig | IotConfig | ConsumerConfig


# --------------------------------------------------------------------------- #
# Pure checks, each usable on its own
# --------------------------------------------------------------------------- #


def data_endpoint_count(expected_devices: int, az_count: int) -> int:
    """iot.data endpoints needed: 100,000 connections each, and enough NLB
    targets (one per endpoint per AZ) to stay within 55,000 per target."""
    by_endpoint = math.ceil(expected_devices / CONNECTIONS_PER_DATA_ENDPOINT)
    by_nlb_target = math.ceil(expected_devices / (CONNECTIONS_PER_NLB_TARGET * az_count))
    return max(1, by_endpoint, by_nlb_target)


def validate_cidr(key: str, value: Any) -> str:
    if not isinstance(value, str):
        raise ConfigError(f"{key} {value!r} is not a CIDR string — write it like 10.20.0.0/16")
    try:
        net = ipaddress.ip_network(value, strict=True)
    except ValueError as exc:
        raise ConfigError(
            f"{key} {value!r} is not a valid IPv4 CIDR ({exc}) — write the network address, like 10.20.0.0/16"
        ) from None
    if net.version != 4:
        raise ConfigError(f"{key} {value!r} is IPv6 — the channel is IPv4; give an IPv4 CIDR like 10.20.0.0/16")
    return str(net)


def validate_vpc_cidr(key: str, value: Any) -> str:
    cidr = validate_cidr(key, value)
    prefix = ipaddress.ip_network(cidr).prefixlen
    if not 16 <= prefix <= 24:
        raise ConfigError(f"{key} {cidr} has prefix /{prefix} — a VPC CIDR must be between /16 and /24")
    return cidr


def validate_disjoint(ranges: list[tuple[str, str]]) -> None:
    """Refuse any two ranges that overlap; ranges are (key, cidr) pairs."""
    nets = [(key, ipaddress.ip_network(cidr)) for key, cidr in ranges]
    for i, (key_a, net_a) in enumerate(nets):
        for key_b, net_b in nets[i + 1 :]:
            if net_a.overlaps(net_b):
                raise ConfigError(
                    f"{key_a} {net_a} overlaps {key_b} {net_b} — choose disjoint ranges"
                )


def validate_account_id(key: str, value: Any) -> str:
    text = str(value) if isinstance(value, int) and not isinstance(value, bool) else value
    if not isinstance(text, str) or not _ACCOUNT_RE.match(text):
        raise ConfigError(
            f"{key} {value!r} is not an AWS account ID — give the 12 digits, quoted, like \"222222222222\""
        )
    return text


def validate_availability_zones(key: str, value: Any, region: str) -> tuple[str, ...]:
    zones = _as_list(key, value, "availability zone names like [us-west-2a, us-west-2b]")
    if len(zones) < MIN_AVAILABILITY_ZONES:
        raise ConfigError(
            f"{key} {zones!r} names {len(zones)} availability zone(s) — give at least "
            f"{MIN_AVAILABILITY_ZONES} in {region}, like [{region}a, {region}b]"
        )
    if len(zones) > MAX_AVAILABILITY_ZONES:
        raise ConfigError(f"{key} {zones!r} names {len(zones)} zones — at most {MAX_AVAILABILITY_ZONES} are supported")
    for zone in zones:
        if not isinstance(zone, str) or not re.match(rf"^{re.escape(region)}[a-z]\Z", zone):
            raise ConfigError(f"{key} entry {zone!r} is not an availability zone of region {region} — like {region}a")
    if len(set(zones)) != len(zones):
        raise ConfigError(f"{key} {zones!r} repeats a zone — list each zone once")
    return tuple(zones)


def validate_az_count(key: str, value: Any) -> int:
    count = _as_int(key, value)
    if not MIN_AVAILABILITY_ZONES <= count <= MAX_AVAILABILITY_ZONES:
        raise ConfigError(
            f"{key} {count} is out of range — use {MIN_AVAILABILITY_ZONES} to {MAX_AVAILABILITY_ZONES} availability zones"
        )
    return count


def validate_expected_devices(key: str, value: Any, az_count: int, other_endpoints: Sequence[str]) -> int:
    """``other_endpoints``: the services of every other interface endpoint in the
    gatekeeper VPC; they share its quota of interface endpoints with iot.data."""
    devices = _as_int(key, value)
    if devices < 1:
        raise ConfigError(f"{key} {devices} must be at least 1")
    needed = data_endpoint_count(devices, az_count)
    room = INTERFACE_ENDPOINTS_PER_VPC - len(other_endpoints)
    if needed > room:
        taken = f" ({', '.join(other_endpoints)})" if other_endpoints else ""
        raise ConfigError(
            f"{key} {devices} needs {needed} iot.data endpoints (100,000 connections each, 55,000 per NLB target), "
            f"but one VPC holds {INTERFACE_ENDPOINTS_PER_VPC} interface endpoints by default "
            f"(Service Quotas {aws_limits.INTERFACE_ENDPOINTS_QUOTA_CODE}) and {len(other_endpoints)} are taken"
            f"{taken} — split the fleet across gatekeeper stacks or lower {key} to at most "
            f"{largest_expected_devices(room, az_count):,}"
        )
    return devices


def largest_expected_devices(data_endpoints: int, az_count: int) -> int:
    """The most devices ``data_endpoints`` iot.data endpoints serve (endpoint and NLB-target limits)."""
    if data_endpoints <= 0:
        return 0
    return min(data_endpoints * CONNECTIONS_PER_DATA_ENDPOINT, data_endpoints * CONNECTIONS_PER_NLB_TARGET * az_count)


def gatekeeper_interface_endpoints(
    *, credentials: bool, greengrass: bool, access: DeviceAccessConfig | None
) -> list[str]:
    """The gatekeeper VPC's interface endpoints other than iot.data, as the iot stack declares them."""
    services = ["iot.credentials"] if credentials else []
    if greengrass:
        # Greengrass core devices in a VPC need the Greengrass control plane and
        # S3, both as interface endpoints (AWS IoT Greengrass developer guide,
        # "Operate an AWS IoT Greengrass core device in VPC").
        services += ["greengrass", "s3"]
    if access is not None and access.mode == "tls-proxy":
        # The proxy fleet is managed through Systems Manager's endpoints
        # (components/private_vpc.ssm_endpoints), in the same VPC.
        services += list(SSM_SERVICES)
    return services


# The gatekeeper NLB's consumer listeners (8883 and 443), each with a target
# group of every iot.data endpoint IP.
CONSUMER_LISTENERS = 2


def validate_nlb_targets(access: DeviceAccessConfig | None, data_ips: int) -> None:
    """The gatekeeper NLB (cross-zone load balancing on) within ELB's quotas (aws_limits):
    listeners, targets per target group, and target registrations, a target in
    N groups counting N times and the proxy fleet counting at its maximum size."""
    families = len(access.families) if access is not None and access.mode != "direct" else 0
    listeners = CONSUMER_LISTENERS + families
    if listeners > aws_limits.LISTENERS_PER_NLB:
        raise ConfigError(
            f"deviceAccess.families names {families} families: with the 2 consumer listeners the NLB would need "
            f"{listeners} listeners, more than the {aws_limits.LISTENERS_PER_NLB} an NLB takes (Elastic Load "
            "Balancing quotas, not adjustable) — group families on fewer ports"
        )
    endpoint_groups = CONSUMER_LISTENERS + (families if access is not None and access.mode == "tcp-passthrough" else 0)
    proxies = access.proxy_max_size if access is not None and access.mode == "tls-proxy" else 0
    if proxies > aws_limits.TARGETS_PER_TARGET_GROUP:
        raise ConfigError(
            f"deviceAccess.proxyMaxSize {proxies} is more than the {aws_limits.TARGETS_PER_TARGET_GROUP:,} targets a "
            "target group takes (Elastic Load Balancing quotas) — use a larger proxyInstanceType"
        )
    registrations = endpoint_groups * data_ips + families * proxies
    if registrations > aws_limits.TARGETS_PER_NLB_CROSS_ZONE:
        proxy_part = f" and {families} x proxyMaxSize {proxies} proxies" if proxies else ""
        raise ConfigError(
            f"expectedDevices needs {data_ips} iot.data endpoint IPs: {endpoint_groups} target groups x {data_ips}"
            f"{proxy_part} = {registrations} target registrations on the NLB, more than the "
            f"{aws_limits.TARGETS_PER_NLB_CROSS_ZONE} an NLB with cross-zone load balancing takes (Elastic Load "
            "Balancing quotas) — lower expectedDevices, availabilityZoneCount"
            + (" or deviceAccess.proxyMaxSize (a larger proxyInstanceType)" if proxies else "")
        )


def validate_asn(key: str, value: Any) -> int:
    asn = _as_int(key, value)
    if not any(lo <= asn <= hi for lo, hi in _PRIVATE_ASN_RANGES):
        raise ConfigError(f"{key} {asn} is not a private ASN — use 64512-65534 or 4200000000-4294967294")
    return asn


def validate_stack_name(key: str, value: Any) -> str:
    if not isinstance(value, str) or not _STACK_RE.match(value):
        raise ConfigError(
            f"{key} {value!r} is not a stack name — give the fully qualified name, like acme/{PROJECT}/iot"
        )
    return value


def validate_role(stack: str, value: Any) -> str:
    role = stack.split("-", 1)[0] if value is None else value
    if role not in ROLES:
        source = "role" if value is not None else f"role (defaulted from stack name {stack!r})"
        raise ConfigError(f"{source} {role!r} is not a role — set role to one of {', '.join(ROLES)}")
    return role


# --------------------------------------------------------------------------- #
# Loading
# --------------------------------------------------------------------------- #

_COMMON_KEYS = {"role", "accountId", "region", "assumeRoleArn", "tags", "monitoring"}
_ROLE_KEYS = {
    "network": {
        "iotAccountId", "deviceVpcCidr", "gatekeeperVpcCidr", "onPremCidrs", "availabilityZones",
        "transitGatewayAsn", "directConnect", "sameOrganization", "iotStack",
    },
    "iot": {
        "networkStack", "gatekeeperVpcCidr", "availabilityZoneCount", "expectedDevices",
        "enableCredentialsEndpoint", "enableGreengrassEndpoint", "sameOrganization", "consumers",
        "thingTopicPrefix", "customDomain", "customDomainCertificateArn", "authorizer", "deviceAccess",
        "capacity",
    },
    "consumer": {"iotStack", "vpcCidr", "availabilityZones", "existingVpc", "applicationHost"},
}


def known_keys(role: str) -> set[str]:
    return _COMMON_KEYS | _ROLE_KEYS[role]


def parse_raw(raw: Mapping[str, Any]) -> dict[str, Any]:
    """Pulumi hands structured config to programs as JSON text; decode it."""
    parsed: dict[str, Any] = {}
    for key, value in raw.items():
        if isinstance(value, str) and value[:1] in ("[", "{"):
            try:
                value = json.loads(value)
            except json.JSONDecodeError as exc:
                raise ConfigError(f"{key} {value!r} is not valid JSON ({exc.msg}) — check the brackets and quotes") from None
        parsed[key] = value
    return parsed


def load_config(raw: Mapping[str, Any], *, stack: str) -> StackConfig:
    """Validate the project-namespace keys (without prefix) of one stack."""
    values = parse_raw(raw)
    role = validate_role(stack, values.get("role"))
    unknown = sorted(set(values) - known_keys(role))
    if unknown:
        hints = []
        for key in unknown:
            close = _closest(key, known_keys(role))
            hints.append(f"{key}" + (f" (did you mean {close}?)" if close else ""))
        raise ConfigError(
            f"unknown key(s) for a {role} stack: {', '.join(hints)} — remove them or fix the spelling; "
            f"known keys: {', '.join(sorted(known_keys(role)))}"
        )
    common = _load_common(values, stack=stack, role=role)
    loader: Callable[[dict[str, Any], CommonConfig], StackConfig] = {
        "network": _load_network,
        "iot": _load_iot,
        "consumer": _load_consumer,
    }[role]
    return loader(values, common)


def _load_common(values: dict[str, Any], *, stack: str, role: str) -> CommonConfig:
    region = _require(values, "region")
    if not isinstance(region, str) or not _REGION_RE.match(region):
        raise ConfigError(f"region {region!r} is not an AWS region — like us-west-2")
    assume = values.get("assumeRoleArn")
    if assume is not None and (not isinstance(assume, str) or not _ROLE_ARN_RE.match(assume)):
        raise ConfigError(
            f"assumeRoleArn {assume!r} is not an IAM role ARN — like arn:aws:iam::222222222222:role/deployer"
        )
    account_id = validate_account_id("accountId", _require(values, "accountId"))
    if assume is not None and assume.split(":")[4] != account_id:
        raise ConfigError(
            f"assumeRoleArn {assume!r} is in account {assume.split(':')[4]}, not accountId {account_id} — "
            "assume a role in the stack's own account"
        )
    tags = values.get("tags", {})
    if not isinstance(tags, dict):
        raise ConfigError(f"tags {tags!r} is not a map — write it like {{team: iot-platform}}")
    for key, value in tags.items():
        if not _TAG_KEY_RE.match(str(key)) or str(key).lower().startswith("aws:"):
            raise ConfigError(f"tags key {key!r} is not a valid tag key — 1-128 characters, not starting with aws:")
        if not isinstance(value, (str, int, float, bool)) or len(str(value)) > 256:
            raise ConfigError(f"tags.{key} {value!r} is not a tag value — a string of at most 256 characters")
    return CommonConfig(
        stack=stack,
        role=role,
        account_id=account_id,
        region=region,
        assume_role_arn=assume,
        tags={str(k): str(v) for k, v in tags.items()},
        monitoring=load_monitoring(values.get("monitoring", {}), role),
    )


def _load_network(values: dict[str, Any], common: CommonConfig) -> NetworkConfig:
    device = validate_vpc_cidr("deviceVpcCidr", _require(values, "deviceVpcCidr"))
    gatekeeper = validate_vpc_cidr("gatekeeperVpcCidr", _require(values, "gatekeeperVpcCidr"))
    on_prem = tuple(
        validate_cidr(f"onPremCidrs[{i}]", c)
        for i, c in enumerate(_as_list("onPremCidrs", _require(values, "onPremCidrs"), "CIDRs like [192.168.0.0/16]"))
    )
    if not on_prem:
        raise ConfigError("onPremCidrs [] is empty — list the on-premises ranges devices connect from")
    validate_disjoint(
        [("deviceVpcCidr", device), ("gatekeeperVpcCidr", gatekeeper)]
        + [(f"onPremCidrs[{i}]", c) for i, c in enumerate(on_prem)]
    )
    iot_account = validate_account_id("iotAccountId", _require(values, "iotAccountId"))
    if iot_account == common.account_id:
        raise ConfigError(
            f"iotAccountId {iot_account} equals accountId — the IoT account must be a separate account"
        )
    tgw_asn = validate_asn("transitGatewayAsn", values.get("transitGatewayAsn", 64512))
    dx = _load_direct_connect(values.get("directConnect", {}))
    if dx.gateway_asn == tgw_asn:
        raise ConfigError(
            f"directConnect.gatewayAsn {dx.gateway_asn} equals transitGatewayAsn {tgw_asn} — give them different ASNs"
        )
    iot_stack = values.get("iotStack")
    return NetworkConfig(
        common=common,
        iot_account_id=iot_account,
        device_vpc_cidr=device,
        gatekeeper_vpc_cidr=gatekeeper,
        on_prem_cidrs=on_prem,
        availability_zones=validate_availability_zones(
            "availabilityZones", _require(values, "availabilityZones"), common.region
        ),
        transit_gateway_asn=tgw_asn,
        direct_connect=dx,
        same_organization=_as_bool("sameOrganization", values.get("sameOrganization", False)),
        iot_stack=None if iot_stack is None else validate_stack_name("iotStack", iot_stack),
    )


def _load_direct_connect(value: Any) -> DirectConnectConfig:
    if not isinstance(value, dict):
        raise ConfigError(f"directConnect {value!r} is not a map — like {{gatewayAsn: 64513}}")
    allowed = {"gatewayAsn", "connectionId", "vlan", "customerAsn", "mtu"}
    unknown = sorted(set(value) - allowed)
    if unknown:
        raise ConfigError(
            f"directConnect has unknown key(s) {', '.join(unknown)} — known keys: {', '.join(sorted(allowed))}"
        )
    connection = value.get("connectionId")
    vlan = customer_asn = None
    if connection is not None:
        if not isinstance(connection, str) or not _DX_CONNECTION_RE.match(connection):
            raise ConfigError(
                f"directConnect.connectionId {connection!r} is not a Direct Connect connection or LAG ID — like dxcon-ffabc123"
            )
        vlan = _as_int("directConnect.vlan", _require(value, "vlan", "directConnect.vlan"))
        if not 1 <= vlan <= 4094:
            raise ConfigError(f"directConnect.vlan {vlan} is out of range — use 1-4094")
        customer_asn = _as_int("directConnect.customerAsn", _require(value, "customerAsn", "directConnect.customerAsn"))
        if not 1 <= customer_asn <= 4_294_967_294:
            raise ConfigError(f"directConnect.customerAsn {customer_asn} is not an ASN — use 1-4294967294")
    mtu = _as_int("directConnect.mtu", value.get("mtu", 1500))
    if mtu not in (1500, 8500):
        raise ConfigError(f"directConnect.mtu {mtu} is not supported on a transit VIF — use 1500 or 8500")
    return DirectConnectConfig(
        gateway_asn=validate_asn("directConnect.gatewayAsn", value.get("gatewayAsn", 64513)),
        connection_id=connection,
        vlan=vlan,
        customer_asn=customer_asn,
        mtu=mtu,
    )


def _load_iot(values: dict[str, Any], common: CommonConfig) -> IotConfig:
    gatekeeper = validate_vpc_cidr("gatekeeperVpcCidr", _require(values, "gatekeeperVpcCidr"))
    az_count = validate_az_count("availabilityZoneCount", values.get("availabilityZoneCount", 2))
    credentials = _as_bool("enableCredentialsEndpoint", values.get("enableCredentialsEndpoint", True))
    greengrass = _as_bool("enableGreengrassEndpoint", values.get("enableGreengrassEndpoint", True))
    if greengrass and not credentials:
        # The guide's endpoints for a core device in a VPC: iot.data,
        # iot.credentials (the token exchange service's AWS credentials) and S3.
        raise ConfigError(
            "enableGreengrassEndpoint true with enableCredentialsEndpoint false — Greengrass core devices in a VPC "
            "need the iot.credentials endpoint (AWS IoT Greengrass guide, \"Operate an AWS IoT Greengrass core "
            "device in VPC\"); set enableCredentialsEndpoint true or enableGreengrassEndpoint false"
        )
    access = _load_device_access(values.get("deviceAccess"))
    # Every other interface endpoint of the gatekeeper VPC takes one of the
    # VPC's interface endpoints: what is left bounds the iot.data endpoints.
    others = gatekeeper_interface_endpoints(credentials=credentials, greengrass=greengrass, access=access)
    devices = validate_expected_devices("expectedDevices", values.get("expectedDevices", 10_000), az_count, others)
    consumers = _load_consumers(values.get("consumers", []), common)
    ranges = [("gatekeeperVpcCidr", gatekeeper)] + [
        (f"consumers[{i}].vpcCidr", c.vpc_cidr) for i, c in enumerate(consumers) if c.vpc_cidr
    ]
    validate_disjoint(ranges)
    prefix = values.get("thingTopicPrefix", "things")
    if not isinstance(prefix, str) or not _TOPIC_SEGMENT_RE.match(prefix):
        raise ConfigError(
            f"thingTopicPrefix {prefix!r} is not a topic segment — letters, digits, '-' and '_', no wildcards or '/'"
        )
    domain = values.get("customDomain")
    if domain is not None:
        domain = validate_domain("customDomain", domain)
    cert = values.get("customDomainCertificateArn")
    if cert is not None and (not isinstance(cert, str) or not _ACM_ARN_RE.match(cert)):
        raise ConfigError(
            f"customDomainCertificateArn {cert!r} is not an ACM certificate ARN — "
            f"like arn:aws:acm:{common.region}:{common.account_id}:certificate/<id>"
        )
    if cert is not None and (cert.split(":")[3] != common.region or cert.split(":")[4] != common.account_id):
        raise ConfigError(
            f"customDomainCertificateArn {cert!r} is not in this stack's region {common.region} and account "
            f"{common.account_id} — import or request the certificate there"
        )
    authorizer = _load_authorizer(values.get("authorizer", {}))
    overlaps = configuration_overlaps(authorizer.family_topic_prefixes, prefix)
    if overlaps:
        # authorizer/scopes.py: a device <prefix>/<user> could otherwise own another family's or a thing's topics.
        raise ConfigError(
            f"authorizer.familyTopicPrefixes overlap: {'; '.join(overlaps)} — give every family a prefix "
            "whose levels are apart from the other families' and from thingTopicPrefix (e.g. plant/family1 "
            "and plant/family2, not plant and plant/family1)"
        )
    for key, arns in (("operatorRoleArns", authorizer.operator_role_arns), ("keyAdminArns", authorizer.key_admin_arns)):
        for i, arn in enumerate(arns):
            if arn.split(":")[4] != common.account_id:
                raise ConfigError(
                    f"authorizer.{key}[{i}] {arn!r} is not in accountId {common.account_id} — the credentials key "
                    "is used and administered from the IoT account; name roles of that account"
                )
    if (
        authorizer.enabled
        and common.assume_role_arn
        and authorizer.key_admin_arns
        and common.assume_role_arn not in authorizer.key_admin_arns
    ):
        # KMS refuses a key policy that would lock out the principal setting it
        # (PutKeyPolicy/CreateKey "policy lockout safety check", KMS API reference).
        raise ConfigError(
            f"authorizer.keyAdminArns {list(authorizer.key_admin_arns)!r} leaves out assumeRoleArn "
            f"{common.assume_role_arn} — KMS refuses a key policy that locks out the role deploying it; add it"
        )
    if authorizer.enabled:
        for key, value in (("customDomain", domain), ("customDomainCertificateArn", cert)):
            if value is None:
                raise ConfigError(
                    f"authorizer.enabled true needs {key} — devices reach the authorizer through the custom domain's "
                    f"domain configuration; set {key}"
                )
    if access is not None and access.mode == "tls-proxy":
        # The fleet holds every device with one instance lost (a crashed proxy's
        # devices reconnect to the others), each instance within its memory.
        try:
            check_proxy_fleet(devices, access.proxy_instance_type, access.proxy_min_size)
        except CapacityError as exc:
            raise ConfigError(str(exc)) from None
    validate_nlb_targets(access, data_endpoint_count(devices, az_count) * az_count)
    capacity = load_capacity(values.get("capacity", {}))
    if access is not None:
        if domain is None:
            raise ConfigError(f"deviceAccess.mode {access.mode} needs customDomain — set the devices' host name")
        if access.mode == "tls-proxy" and cert is None:
            raise ConfigError(
                "deviceAccess.mode tls-proxy needs customDomainCertificateArn — the NLB's TLS listeners present "
                "the custom domain's certificate; set customDomainCertificateArn"
            )
    return IotConfig(
        common=common,
        custom_domain=domain,
        custom_domain_certificate_arn=cert,
        authorizer=authorizer,
        device_access=access,
        capacity=capacity,
        network_stack=validate_stack_name("networkStack", _require(values, "networkStack")),
        gatekeeper_vpc_cidr=gatekeeper,
        availability_zone_count=az_count,
        expected_devices=devices,
        enable_credentials_endpoint=credentials,
        enable_greengrass_endpoint=greengrass,
        same_organization=_as_bool("sameOrganization", values.get("sameOrganization", False)),
        consumers=consumers,
        thing_topic_prefix=prefix,
    )


def validate_reserved_concurrency(key: str, value: int | None, account_quota: float) -> int | None:
    """A reservation must leave 100 of the account's concurrent executions unreserved (aws_limits)."""
    if value is None:
        return None
    quota = int(account_quota)
    largest = aws_limits.max_reserved_concurrency(quota)
    if value > largest:
        raise ConfigError(
            f"{key} {value} would leave {max(quota - value, 0)} of the account's {quota:,} Lambda concurrent "
            f"executions unreserved, and Lambda keeps at least {aws_limits.LAMBDA_UNRESERVED_MIN} for functions without a "
            f"reservation (Service Quotas {aws_limits.LAMBDA_QUOTA_SERVICE_CODE}/{aws_limits.LAMBDA_CONCURRENCY_QUOTA_CODE}) "
            + (f"— request a quota increase, lower {key} to at most {largest}, or unset it (no reservation)"
               if largest >= 1 else f"— request a quota increase, or unset {key} (no reservation)")
        )
    return value


def validate_domain(key: str, value: Any) -> str:
    if not isinstance(value, str) or len(value) > 253 or not all(
        _LABEL_RE.match(label) for label in value.split(".")
    ) or value.count(".") < 1:
        raise ConfigError(f"{key} {value!r} is not a host name — lower-case labels, like iot.plant.example.com")
    if value.endswith(".amazonaws.com"):
        raise ConfigError(f"{key} {value!r} is an AWS host name — use a domain of your own")
    return value


def _load_authorizer(value: Any) -> AuthorizerConfig:
    if not isinstance(value, dict):
        raise ConfigError(f"authorizer {value!r} is not a map — like {{enabled: true}}")
    allowed = {
        "enabled", "reservedConcurrency", "disconnectAfterSeconds", "refreshAfterSeconds",
        "familyTopicPrefixes", "unknownUserHash", "memorySize", "logRetentionDays", "operatorRoleArns",
        "keyAdminArns", "maxFailedAttempts", "lockoutSeconds",
    }
    _refuse_unknown("authorizer", value, allowed)
    defaults = AuthorizerConfig()
    concurrency = value.get("reservedConcurrency", defaults.reserved_concurrency)
    if concurrency is not None:
        concurrency = _as_int("authorizer.reservedConcurrency", concurrency)
        # 0 would stop every invocation; the upper bound is the account's quota,
        # read by the program (validate_reserved_concurrency).
        if concurrency < 1:
            raise ConfigError(
                f"authorizer.reservedConcurrency {concurrency} is below 1 — it would throttle every connection; "
                "give a positive number or unset the key (no reservation)"
            )
    sessions = {}
    for key, default in (("disconnectAfterSeconds", defaults.disconnect_after_seconds),
                         ("refreshAfterSeconds", defaults.refresh_after_seconds)):
        seconds = _as_int(f"authorizer.{key}", value.get(key, default))
        # IoT Core accepts 300-86,400 s for both (custom authorizer response).
        if not 300 <= seconds <= 86_400:
            raise ConfigError(f"authorizer.{key} {seconds} is out of range — IoT Core accepts 300-86400 seconds")
        sessions[key] = seconds
    prefixes = value.get("familyTopicPrefixes", {})
    if not isinstance(prefixes, dict):
        raise ConfigError(f"authorizer.familyTopicPrefixes {prefixes!r} is not a map — like {{family1: plant1/family1}}")
    for family, prefix in prefixes.items():
        if not _NAME_RE.match(str(family)):
            raise ConfigError(f"authorizer.familyTopicPrefixes key {family!r} is not a family name — like family1")
        if not isinstance(prefix, str) or not all(_TOPIC_SEGMENT_RE.match(p) for p in prefix.split("/")):
            raise ConfigError(
                f"authorizer.familyTopicPrefixes.{family} {prefix!r} is not a topic prefix — segments of letters, "
                "digits, '-' and '_' joined by '/', no wildcards"
            )
    unknown_hash = value.get("unknownUserHash", defaults.unknown_user_hash)
    if not isinstance(unknown_hash, str) or not re.match(
        r"^(scrypt(:ln=\d+,r=\d+,p=\d+)?|mosquitto-sha512|mosquitto-pbkdf2(:\d+)?)\Z", unknown_hash
    ):
        raise ConfigError(
            f"authorizer.unknownUserHash {unknown_hash!r} is not a hash scheme — scrypt, mosquitto-sha512 or "
            "mosquitto-pbkdf2[:<iterations>]"
        )
    memory = _as_int("authorizer.memorySize", value.get("memorySize", defaults.memory_size))
    if not 128 <= memory <= 10_240:
        raise ConfigError(f"authorizer.memorySize {memory} is out of range — Lambda accepts 128-10240 MB")
    # Bounded work per CONNECT (authorizer/cost.py): the unknown-user dummy and the scrypt
    # parameters channelctl hashes new passwords with must fit the memory size's ceiling.
    for key, spec in (("unknownUserHash", unknown_hash), ("memorySize", "scrypt")):
        try:
            check_cost(dummy_hash(spec), memory, "the scrypt channelctl hashes passwords with" if key == "memorySize"
                       else f"unknownUserHash {spec}")
        except AuthorizerError as err:
            raise ConfigError(f"authorizer.{key}: {err}") from None
    retention = _as_int("authorizer.logRetentionDays", value.get("logRetentionDays", defaults.log_retention_days))
    if retention not in _LOG_RETENTION_DAYS:
        raise ConfigError(
            f"authorizer.logRetentionDays {retention} is not a CloudWatch retention — one of "
            f"{', '.join(map(str, _LOG_RETENTION_DAYS))}"
        )
    roles = {}
    for key in ("operatorRoleArns", "keyAdminArns"):
        arns = _as_list(f"authorizer.{key}", value.get(key, []), "IAM role ARNs like [arn:aws:iam::222222222222:role/mqtt-operators]")
        for i, arn in enumerate(arns):
            if not isinstance(arn, str) or not _ROLE_ARN_RE.match(arn):
                raise ConfigError(
                    f"authorizer.{key}[{i}] {arn!r} is not an IAM role ARN — like arn:aws:iam::222222222222:role/mqtt-operators"
                )
        if len(set(arns)) != len(arns):
            raise ConfigError(f"authorizer.{key} {arns!r} repeats a role — list each role once")
        roles[key] = tuple(arns)
    max_failed = _as_int("authorizer.maxFailedAttempts", value.get("maxFailedAttempts", defaults.max_failed_attempts))
    if not 1 <= max_failed <= 1000:
        raise ConfigError(f"authorizer.maxFailedAttempts {max_failed} is out of range — use 1-1000")
    lockout = _as_int("authorizer.lockoutSeconds", value.get("lockoutSeconds", defaults.lockout_seconds))
    if not 60 <= lockout <= 86_400:
        raise ConfigError(f"authorizer.lockoutSeconds {lockout} is out of range — use 60-86400")
    enabled = _as_bool("authorizer.enabled", value.get("enabled", False))
    if enabled and not roles["operatorRoleArns"]:
        raise ConfigError(
            "authorizer.operatorRoleArns is empty — the credentials table's key lets only the authorizer and these "
            "roles use it; list the role(s) operators run `channelctl devices` with, like "
            "[arn:aws:iam::222222222222:role/mqtt-operators]"
        )
    return AuthorizerConfig(
        enabled=enabled,
        max_failed_attempts=max_failed,
        lockout_seconds=lockout,
        operator_role_arns=roles["operatorRoleArns"],
        key_admin_arns=roles["keyAdminArns"],
        reserved_concurrency=concurrency,
        disconnect_after_seconds=sessions["disconnectAfterSeconds"],
        refresh_after_seconds=sessions["refreshAfterSeconds"],
        family_topic_prefixes={str(k): v for k, v in prefixes.items()},
        unknown_user_hash=unknown_hash,
        memory_size=memory,
        log_retention_days=retention,
    )


def _load_device_access(value: Any) -> DeviceAccessConfig | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise ConfigError(f"deviceAccess {value!r} is not a map — like {{mode: tls-proxy, families: [...]}}")
    allowed = {"mode", "families", "caBundleFile", "proxyInstanceType", "proxyMinSize", "proxyMaxSize"}
    _refuse_unknown("deviceAccess", value, allowed)
    mode = value.get("mode")
    if mode not in DEVICE_ACCESS_MODES:
        raise ConfigError(
            f"deviceAccess.mode {mode!r} is not a mode — use one of {', '.join(DEVICE_ACCESS_MODES)}"
        )
    raw_families = _as_list("deviceAccess.families", value.get("families", []), "entries like [{name: family1, port: 8080}]")
    if mode == "direct" and raw_families:
        raise ConfigError(
            "deviceAccess.families is used only by tls-proxy and tcp-passthrough — in direct mode devices use port "
            "443; remove deviceAccess.families"
        )
    if mode != "direct" and not raw_families:
        raise ConfigError(f"deviceAccess.families is empty — mode {mode} needs each family's name and port")
    families: list[DeviceFamily] = []
    names: dict[str, int] = {}
    ports: dict[int, int] = {}
    for i, entry in enumerate(raw_families):
        key = f"deviceAccess.families[{i}]"
        if not isinstance(entry, dict):
            raise ConfigError(f"{key} {entry!r} is not a map — like {{name: family1, port: 8080}}")
        _refuse_unknown(key, entry, {"name", "port"})
        name = _require(entry, "name", f"{key}.name")
        if not isinstance(name, str) or not _NAME_RE.match(name):
            raise ConfigError(f"{key}.name {name!r} is not a family name — lower-case letters, digits and '-'")
        if "port" not in entry:
            raise ConfigError(f"{key} (family {name}) has no port — set {key}.port to the port its devices use")
        port = _as_int(f"{key}.port", entry["port"])
        if not 1 <= port <= 65_535:
            raise ConfigError(f"{key}.port {port} is not a TCP port — use 1-65535")
        if port in (443, 8883):
            raise ConfigError(
                f"{key}.port {port} is already an NLB listener (8883 and 443 serve consumers) — "
                "give the family another port"
            )
        if name in names:
            raise ConfigError(f"{key}.name {name!r} duplicates deviceAccess.families[{names[name]}].name")
        if port in ports:
            raise ConfigError(
                f"{key}.port {port} is also deviceAccess.families[{ports[port]}].port — two families cannot share a port"
            )
        names[name] = i
        ports[port] = i
        families.append(DeviceFamily(name=name, port=port))
    bundle = value.get("caBundleFile")
    if mode == "tls-proxy" and bundle is None:
        raise ConfigError(
            "deviceAccess.caBundleFile is required for tls-proxy — the PEM file (in the project) of the CAs that sign "
            "the custom domain's certificate, like certs/amazon-trust-roots.pem"
        )
    if bundle is not None and (not isinstance(bundle, str) or not re.match(r"^[A-Za-z0-9_./-]+\Z", bundle) or ".." in bundle):
        raise ConfigError(f"deviceAccess.caBundleFile {bundle!r} is not a relative path inside the project")
    instance_type = value.get("proxyInstanceType", DEFAULT_PROXY_INSTANCE_TYPE)
    if not isinstance(instance_type, str) or not _INSTANCE_TYPE_RE.match(instance_type):
        raise ConfigError(f"deviceAccess.proxyInstanceType {instance_type!r} is not an EC2 instance type — like t4g.small")
    if mode == "tls-proxy":
        try:
            proxy_instance_type_spec(instance_type)
        except CapacityError as exc:
            raise ConfigError(str(exc)) from None
    low = _as_int("deviceAccess.proxyMinSize", value.get("proxyMinSize", 2))
    high = _as_int("deviceAccess.proxyMaxSize", value.get("proxyMaxSize", max(4, low)))
    if low < 2:
        raise ConfigError(f"deviceAccess.proxyMinSize {low} is below 2 — the proxy fleet spans at least two AZs")
    if high < low:
        raise ConfigError(f"deviceAccess.proxyMaxSize {high} is below proxyMinSize {low}")
    return DeviceAccessConfig(
        mode=mode,
        families=tuple(families),
        ca_bundle_file=bundle,
        proxy_instance_type=instance_type,
        proxy_min_size=low,
        proxy_max_size=high,
    )


def load_capacity(value: Any) -> CapacityConfig:
    """The `capacity` map of an iot stack (also read by the plan's capacity check)."""
    if value is None:
        value = {}
    if isinstance(value, str) and value[:1] == "{":
        value = parse_raw({"capacity": value})["capacity"]
    if not isinstance(value, dict):
        raise ConfigError(f"capacity {value!r} is not a map — like {{reconnectTargetSeconds: 900}}")
    _refuse_unknown("capacity", value, {"reconnectTargetSeconds", "iotConnectsPerSecond", "deviceKeepAliveSeconds"})
    defaults = CapacityConfig()
    target = _as_int("capacity.reconnectTargetSeconds", value.get("reconnectTargetSeconds", defaults.reconnect_target_seconds))
    if not 1 <= target <= 86_400:
        raise ConfigError(f"capacity.reconnectTargetSeconds {target} is out of range — give 1-86400 seconds, like 900")
    quota = _as_int("capacity.iotConnectsPerSecond", value.get("iotConnectsPerSecond", defaults.iot_connects_per_second))
    if quota < 1:
        raise ConfigError(
            f"capacity.iotConnectsPerSecond {quota} is below 1 — give the account's IoT Core 'Connect requests per "
            "second per account' quota from Service Quotas (AWS default 500)"
        )
    keep_alive = _as_int(
        "capacity.deviceKeepAliveSeconds", value.get("deviceKeepAliveSeconds", defaults.device_keep_alive_seconds)
    )
    # MQTT 3.1.1 allows 0-65535 s; 0 turns keep-alive off.
    if not 0 <= keep_alive <= 65_535:
        raise ConfigError(f"capacity.deviceKeepAliveSeconds {keep_alive} is not an MQTT keep-alive — use 0-65535 seconds")
    return CapacityConfig(
        reconnect_target_seconds=target, iot_connects_per_second=quota, device_keep_alive_seconds=keep_alive
    )


def _refuse_unknown(key: str, value: Mapping[str, Any], allowed: set[str]) -> None:
    unknown = sorted(set(value) - allowed)
    if unknown:
        raise ConfigError(f"{key} has unknown key(s) {', '.join(unknown)} — known keys: {', '.join(sorted(allowed))}")


def _load_consumers(value: Any, common: CommonConfig) -> tuple[ConsumerRef, ...]:
    entries = _as_list("consumers", value, "entries like [{name: analytics, accountId: \"333333333333\"}]")
    seen_names: dict[str, int] = {}
    seen_accounts: dict[str, int] = {}
    result = []
    for i, entry in enumerate(entries):
        key = f"consumers[{i}]"
        if not isinstance(entry, dict):
            raise ConfigError(f"{key} {entry!r} is not a map — like {{name: analytics, accountId: \"333333333333\"}}")
        unknown = sorted(set(entry) - {"name", "accountId", "stack", "vpcCidr"})
        if unknown:
            raise ConfigError(f"{key} has unknown key(s) {', '.join(unknown)} — known keys: accountId, name, stack, vpcCidr")
        name = _require(entry, "name", f"{key}.name")
        if not isinstance(name, str) or not _NAME_RE.match(name):
            raise ConfigError(
                f"{key}.name {name!r} is not a consumer name — 2-32 lower-case letters, digits and '-', starting with a letter"
            )
        if name in seen_names:
            raise ConfigError(
                f"{key}.name {name!r} duplicates consumers[{seen_names[name]}].name — give each consumer its own name"
            )
        raw_account = entry.get("accountId")
        if raw_account == "*":
            raise ConfigError(
                f"{key}.accountId '*' would let every AWS account connect — list each consumer account ID"
            )
        account = validate_account_id(f"{key}.accountId", _require(entry, "accountId", f"{key}.accountId"))
        if account == common.account_id:
            raise ConfigError(
                f"{key}.accountId {account} is the IoT account itself — consumers are other accounts; "
                "applications in the IoT account use the gatekeeper VPC directly"
            )
        if account in seen_accounts:
            raise ConfigError(
                f"{key}.accountId {account} duplicates consumers[{seen_accounts[account]}].accountId — "
                "one entry per consumer account"
            )
        seen_names[name] = i
        seen_accounts[account] = i
        stack = entry.get("stack")
        cidr = entry.get("vpcCidr")
        result.append(
            ConsumerRef(
                name=name,
                account_id=account,
                stack=None if stack is None else validate_stack_name(f"{key}.stack", stack),
                vpc_cidr=None if cidr is None else validate_vpc_cidr(f"{key}.vpcCidr", cidr),
            )
        )
    return tuple(result)


def _load_consumer(values: dict[str, Any], common: CommonConfig) -> ConsumerConfig:
    existing_raw = values.get("existingVpc")
    existing = None
    vpc_cidr = None
    zones: tuple[str, ...] = ()
    if existing_raw is not None:
        if "vpcCidr" in values or "availabilityZones" in values:
            raise ConfigError(
                "existingVpc conflicts with vpcCidr/availabilityZones — either name an existing VPC or let the stack create one"
            )
        existing = _load_existing_vpc(existing_raw)
    else:
        vpc_cidr = validate_vpc_cidr("vpcCidr", _require(values, "vpcCidr"))
        zones = validate_availability_zones("availabilityZones", _require(values, "availabilityZones"), common.region)
    host = values.get("applicationHost", {})
    if not isinstance(host, dict):
        raise ConfigError(f"applicationHost {host!r} is not a map — like {{enabled: true}}")
    unknown = sorted(set(host) - {"enabled", "instanceType", "amiParameter", "amiId"})
    if unknown:
        raise ConfigError(
            f"applicationHost has unknown key(s) {', '.join(unknown)} — known keys: amiId, amiParameter, enabled, "
            "instanceType"
        )
    ami_id = host.get("amiId")
    if ami_id is not None:
        if not isinstance(ami_id, str) or not re.match(r"^ami-[0-9a-f]{8}([0-9a-f]{9})?$", ami_id):
            raise ConfigError(f"applicationHost.amiId {ami_id!r} is not an AMI ID — like ami-0abcdef1234567890")
        if "amiParameter" in host:
            raise ConfigError(
                f"applicationHost.amiId {ami_id} conflicts with applicationHost.amiParameter "
                f"{host['amiParameter']!r} — pin an AMI or name the parameter it is read from once, not both"
            )
    instance_type = host.get("instanceType", "t4g.micro")
    if not isinstance(instance_type, str) or not _INSTANCE_TYPE_RE.match(instance_type):
        raise ConfigError(f"applicationHost.instanceType {instance_type!r} is not an EC2 instance type — like t4g.micro")
    ami_parameter = host.get("amiParameter", ApplicationHostConfig.ami_parameter)
    if not isinstance(ami_parameter, str) or not ami_parameter.startswith("/"):
        raise ConfigError(
            f"applicationHost.amiParameter {ami_parameter!r} is not an SSM parameter name — like {ApplicationHostConfig.ami_parameter}"
        )
    return ConsumerConfig(
        common=common,
        iot_stack=validate_stack_name("iotStack", _require(values, "iotStack")),
        vpc_cidr=vpc_cidr,
        availability_zones=zones,
        existing_vpc=existing,
        application_host=ApplicationHostConfig(
            enabled=_as_bool("applicationHost.enabled", host.get("enabled", False)),
            instance_type=instance_type,
            ami_parameter=ami_parameter,
            ami_id=ami_id,
        ),
    )


def _load_existing_vpc(value: Any) -> ExistingVpc:
    if not isinstance(value, dict):
        raise ConfigError(f"existingVpc {value!r} is not a map — like {{vpcId: vpc-0abc..., vpcCidr: 10.40.0.0/16, subnetIds: [...]}}")
    unknown = sorted(set(value) - {"vpcId", "vpcCidr", "subnetIds"})
    if unknown:
        raise ConfigError(f"existingVpc has unknown key(s) {', '.join(unknown)} — known keys: subnetIds, vpcCidr, vpcId")
    vpc_id = _require(value, "vpcId", "existingVpc.vpcId")
    if not isinstance(vpc_id, str) or not _VPC_ID_RE.match(vpc_id):
        raise ConfigError(f"existingVpc.vpcId {vpc_id!r} is not a VPC ID — like vpc-0123456789abcdef0")
    subnets = _as_list("existingVpc.subnetIds", _require(value, "subnetIds", "existingVpc.subnetIds"), "subnet IDs")
    if len(subnets) < MIN_AVAILABILITY_ZONES:
        raise ConfigError(
            f"existingVpc.subnetIds {subnets!r} names {len(subnets)} subnet(s) — give at least "
            f"{MIN_AVAILABILITY_ZONES}, in different availability zones"
        )
    for subnet in subnets:
        if not isinstance(subnet, str) or not _SUBNET_ID_RE.match(subnet):
            raise ConfigError(f"existingVpc.subnetIds entry {subnet!r} is not a subnet ID — like subnet-0123456789abcdef0")
    return ExistingVpc(
        vpc_id=vpc_id,
        vpc_cidr=validate_vpc_cidr("existingVpc.vpcCidr", _require(value, "vpcCidr", "existingVpc.vpcCidr")),
        subnet_ids=tuple(subnets),
    )


# --------------------------------------------------------------------------- #
# Small coercions
# --------------------------------------------------------------------------- #


def _require(values: Mapping[str, Any], key: str, label: str | None = None) -> Any:
    if key not in values or values[key] is None:
        raise ConfigError(f"{label or key} is required — set it with `pulumi config set {label or key} <value>`")
    return values[key]


def _as_list(key: str, value: Any, example: str) -> list[Any]:
    if not isinstance(value, list):
        raise ConfigError(f"{key} {value!r} is not a list — give {example}")
    return value


def _as_int(key: str, value: Any) -> int:
    if isinstance(value, bool):
        raise ConfigError(f"{key} {value!r} is not a whole number")
    if isinstance(value, int):
        return value
    if isinstance(value, str) and re.fullmatch(r"-?\d+", value.strip()):
        return int(value)
    raise ConfigError(f"{key} {value!r} is not a whole number — write digits only, like 250000")


def _as_bool(key: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise ConfigError(f"{key} {value!r} is not true or false")


def _closest(key: str, candidates: set[str]) -> str | None:
    import difflib

    match = difflib.get_close_matches(key, sorted(candidates), n=1, cutoff=0.6)
    return match[0] if match else None


# --------------------------------------------------------------------------- #
# Monitoring (every stack)
# --------------------------------------------------------------------------- #

# AWS IoT Core log levels (SetV2LoggingOptions, defaultLogLevel).
IOT_LOG_LEVELS = ("ERROR", "WARN", "INFO", "DEBUG", "DISABLED")
# Device Defender scheduled audit frequencies (CreateScheduledAudit).
AUDIT_FREQUENCIES = ("DAILY", "WEEKLY", "BIWEEKLY", "MONTHLY")
# SNS subscription protocols an operator can confirm without code in this project.
ALARM_PROTOCOLS = ("email", "email-json", "https", "sqs", "lambda", "sms")


@dataclass(frozen=True, kw_only=True)
class AlarmSubscription:
    protocol: str
    endpoint: str


@dataclass(frozen=True, kw_only=True)
class MonitoringConfig:
    """Logs, alarms and Device Defender: on unless switched off, key by key."""

    # Everything below; false leaves the stack without flow logs, alarms or audits.
    enabled: bool = True
    # VPC flow logs for every VPC the stack creates.
    flow_logs: bool = True
    # Route 53 Resolver query logs for the device VPC (network stack).
    resolver_query_logs: bool = True
    # Retention of every log group of this section.
    log_retention_days: int = 365
    # AWS IoT Core's account-wide log level (iot stack); DISABLED is refused while enabled.
    iot_log_level: str = "ERROR"
    # Device Defender audit, scheduled audit and Detect security profile (iot stack).
    device_defender: bool = True
    # Device Defender Detect security profile. AWS closed Detect to new customers on
    # 2026-08-31 (Device Defender developer guide, "Detect feature availability change"): an
    # account that never used it cannot create a security profile, so it is opt-in; fleet-wide
    # CloudWatch alarms on the same signals are built either way.
    device_defender_detect: bool = False
    audit_frequency: str = "DAILY"
    # Capacity alarms fire at this fraction of each limit the plan's capacity check uses.
    limit_alarm_fraction: float = 0.8
    # Wrong-password or locked-out refusals per 5 minutes that page the operators.
    guessing_alarm_threshold: int = 100
    # Who receives the alarm topic's messages.
    alarm_subscriptions: tuple[AlarmSubscription, ...] = ()


def load_monitoring(value: Any, role: str) -> MonitoringConfig:
    if not isinstance(value, dict):
        raise ConfigError(f"monitoring {value!r} is not a map — like {{enabled: true, logRetentionDays: 365}}")
    common = {"enabled", "flowLogs", "logRetentionDays"}
    per_role = {
        "network": {"resolverQueryLogs"},
        "iot": {"iotLogLevel", "deviceDefender", "deviceDefenderDetect", "auditFrequency", "limitAlarmFraction",
                "guessingAlarmThreshold", "alarmSubscriptions"},
        "consumer": set(),
    }
    _refuse_unknown("monitoring", value, common | per_role[role])
    d = MonitoringConfig()
    retention = _as_int("monitoring.logRetentionDays", value.get("logRetentionDays", d.log_retention_days))
    if retention not in _LOG_RETENTION_DAYS:
        raise ConfigError(
            f"monitoring.logRetentionDays {retention} is not a CloudWatch retention — one of "
            f"{', '.join(map(str, _LOG_RETENTION_DAYS))}"
        )
    level = value.get("iotLogLevel", d.iot_log_level)
    if level not in IOT_LOG_LEVELS:
        raise ConfigError(f"monitoring.iotLogLevel {level!r} is not an IoT Core log level — one of {', '.join(IOT_LOG_LEVELS)}")
    enabled = _as_bool("monitoring.enabled", value.get("enabled", d.enabled))
    if enabled and level == "DISABLED":
        raise ConfigError(
            "monitoring.iotLogLevel DISABLED turns IoT Core logging off while monitoring.enabled is true — "
            "the client-ID conflict alarm reads those logs; use ERROR (the default) or switch monitoring off"
        )
    frequency = value.get("auditFrequency", d.audit_frequency)
    if frequency not in AUDIT_FREQUENCIES:
        raise ConfigError(
            f"monitoring.auditFrequency {frequency!r} is not a Device Defender audit frequency — one of "
            f"{', '.join(AUDIT_FREQUENCIES)}"
        )
    fraction = value.get("limitAlarmFraction", d.limit_alarm_fraction)
    if isinstance(fraction, bool) or not isinstance(fraction, (int, float, str)):
        raise ConfigError(f"monitoring.limitAlarmFraction {fraction!r} is not a number — like 0.8")
    try:
        fraction = float(fraction)
    except ValueError:
        raise ConfigError(f"monitoring.limitAlarmFraction {fraction!r} is not a number — like 0.8") from None
    if not 0.5 <= fraction <= 0.95:
        raise ConfigError(
            f"monitoring.limitAlarmFraction {fraction} is out of range — use 0.5-0.95 (0.8 warns at 80% of a limit)"
        )
    guessing = _as_int("monitoring.guessingAlarmThreshold", value.get("guessingAlarmThreshold", d.guessing_alarm_threshold))
    if guessing < 1:
        raise ConfigError(f"monitoring.guessingAlarmThreshold {guessing} is below 1 — refusals per 5 minutes, like 100")
    subscriptions = []
    for i, sub in enumerate(_as_list("monitoring.alarmSubscriptions", value.get("alarmSubscriptions", []),
                                      "[{protocol: email, endpoint: iot-ops@example.com}]")):
        key = f"monitoring.alarmSubscriptions[{i}]"
        if not isinstance(sub, dict):
            raise ConfigError(f"{key} {sub!r} is not a map — like {{protocol: email, endpoint: iot-ops@example.com}}")
        _refuse_unknown(key, sub, {"protocol", "endpoint"})
        protocol, endpoint = sub.get("protocol"), sub.get("endpoint")
        if protocol not in ALARM_PROTOCOLS:
            raise ConfigError(f"{key}.protocol {protocol!r} is not an SNS protocol — one of {', '.join(ALARM_PROTOCOLS)}")
        if not isinstance(endpoint, str) or not endpoint or endpoint != endpoint.strip():
            raise ConfigError(f"{key}.endpoint {endpoint!r} is not an endpoint — an e-mail address, URL or ARN")
        if protocol.startswith("email") and not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", endpoint):
            raise ConfigError(f"{key}.endpoint {endpoint!r} is not an e-mail address")
        if protocol == "https" and not endpoint.startswith("https://"):
            raise ConfigError(f"{key}.endpoint {endpoint!r} is not an https:// URL — alarms never travel in plaintext")
        subscriptions.append(AlarmSubscription(protocol=protocol, endpoint=endpoint))
    return MonitoringConfig(
        enabled=enabled,
        flow_logs=_as_bool("monitoring.flowLogs", value.get("flowLogs", d.flow_logs)),
        resolver_query_logs=_as_bool("monitoring.resolverQueryLogs", value.get("resolverQueryLogs", d.resolver_query_logs)),
        log_retention_days=retention,
        iot_log_level=level,
        device_defender=_as_bool("monitoring.deviceDefender", value.get("deviceDefender", d.device_defender)),
        device_defender_detect=_as_bool(
            "monitoring.deviceDefenderDetect", value.get("deviceDefenderDetect", d.device_defender_detect)
        ),
        audit_frequency=frequency,
        limit_alarm_fraction=fraction,
        guessing_alarm_threshold=guessing,
        alarm_subscriptions=tuple(subscriptions),
    )
