"""The iot stack: the gatekeeper VPC and its endpoints, the consumers allowed on the endpoint
service, the custom domain, and the capacity the plan measures the channel against; with the
endpoint counting against IoT Core's and Elastic Load Balancing's quotas.

The authorizer and device-access sections are in ``components.config.iot_access``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Sequence

from authorizer.scopes import configuration_overlaps
from components import aws_limits
from components.config.common import CommonConfig
from components.config.provisioning import FleetProvisioningConfig, load_fleet_provisioning
from components.config.iot_access import (
    AuthorizerConfig,
    DeviceAccessConfig,
    _load_authorizer,
    _load_device_access,
)
from components.config.shared import (
    _ACM_ARN_RE,
    _NAME_RE,
    _TOPIC_SEGMENT_RE,
    ConfigError,
    _as_bool,
    _as_int,
    _as_list,
    _refuse_unknown,
    _require,
    parse_raw,
    validate_account_id,
    validate_availability_zones,
    validate_disjoint,
    validate_domain,
    validate_stack_name,
    validate_vpc_cidr,
)
from components.private_vpc import SSM_SERVICES
from components.proxy_capacity import (
    CONNECTIONS_PER_NLB_TARGET,
    DEFAULT_IOT_CONNECTS_PER_SECOND,
    DEFAULT_RECONNECT_TARGET_SECONDS,
    CapacityError,
    check_proxy_fleet,
)
from components.proxy_config import MAX_ENDPOINT_KEEPALIVE_S


# One iot.data interface endpoint serves 100,000 concurrent connections
# (AWS IoT Core developer guide, "IoT Core with interface VPC endpoints").
CONNECTIONS_PER_DATA_ENDPOINT = 100_000
# "Interface and Gateway Load Balancer endpoints per VPC" (aws_limits): the
# plan refuses to need more than the default.
INTERFACE_ENDPOINTS_PER_VPC = aws_limits.INTERFACE_ENDPOINTS_PER_VPC


@dataclass(frozen=True, kw_only=True)
class ConsumerRef:
    """One consumer account allowed on the endpoint service."""

    name: str
    account_id: str
    stack: str | None = None
    vpc_cidr: str | None = None


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
    availability_zones: tuple[str, ...]
    """The gatekeeper subnets' zones (``availabilityZones``), as this account names them: subnet i
    is in zone i and takes address slot i (components/addressing.py), whatever AWS offers later.
    The stack refuses a zone that does not offer iot.data or another endpoint service it puts in
    these subnets (``components.gatekeeper_vpc.validate_offered_zones``)."""
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
    # Certificate devices provisioned through the gatekeeper (components/config/provisioning.py); off by default.
    fleet_provisioning: FleetProvisioningConfig = field(default_factory=FleetProvisioningConfig)

    @property
    def availability_zone_count(self) -> int:
        return len(self.availability_zones)

    @property
    def data_endpoint_count(self) -> int:
        return data_endpoint_count(self.expected_devices, self.availability_zone_count)


# --------------------------------------------------------------------------- #
# Endpoint counting and quotas
# --------------------------------------------------------------------------- #


def data_endpoint_count(expected_devices: int, az_count: int) -> int:
    """iot.data endpoints needed: 100,000 connections each, and enough NLB
    targets (one per endpoint per AZ) to stay within 55,000 per target."""
    by_endpoint = math.ceil(expected_devices / CONNECTIONS_PER_DATA_ENDPOINT)
    by_nlb_target = math.ceil(expected_devices / (CONNECTIONS_PER_NLB_TARGET * az_count))
    return max(1, by_endpoint, by_nlb_target)


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
            "Balancing quotas) — lower expectedDevices, list fewer availabilityZones"
            + (" or deviceAccess.proxyMaxSize (a larger proxyInstanceType)" if proxies else "")
        )


# --------------------------------------------------------------------------- #
# The gatekeeper's zones
# --------------------------------------------------------------------------- #

# Where a stack deployed with availabilityZoneCount (the program then took the first N zones, in
# name order, that offered iot.data at that run) finds the zones its subnets are in: subnet i holds
# address slot i of gatekeeperVpcCidr, so their CIDRs in address order give the zones in list order.
EXISTING_ZONES_COMMAND = (
    "aws ec2 describe-subnets --filters Name=vpc-id,Values=$(pulumi stack output gatekeeperVpcId) "
    "--query 'Subnets[].[CidrBlock,AvailabilityZone]' --output text | sort -V"
)


def load_gatekeeper_zones(values: dict[str, Any], region: str) -> tuple[str, ...]:
    """``availabilityZones`` of the iot stack: configured, never re-derived from what AWS offers.

    Picking the first zones that offer iot.data on every run would move a subnet as soon as AWS
    offered iot.data in a zone that sorts earlier, and a subnet's availabilityZone and cidrBlock
    force its replacement (terraform-provider-aws internal/service/ec2/vpc_subnet.go, ForceNew;
    channelctl/plan/replacements.py): the replacement, created first, overlaps the subnet it replaces
    and the update fails. ``availabilityZoneCount``, the key that asked for that pick, is refused
    with the way to write the zones a deployed stack already uses.
    """
    if "availabilityZoneCount" in values:
        count = values["availabilityZoneCount"]
        if "availabilityZones" in values:
            raise ConfigError(
                f"availabilityZoneCount {count!r} is no longer read: availabilityZones names the gatekeeper's zones "
                "— remove availabilityZoneCount"
            )
        raise ConfigError(
            f"availabilityZoneCount {count!r} is no longer read — the gatekeeper's zones are listed in "
            "availabilityZones, so that a zone AWS adds to iot.data never moves a subnet. A stack deployed with "
            f"availabilityZoneCount has its subnets in the first {count} zones, in name order, that offered iot.data "
            "when it was created: list those zones, in the order of their subnets' CIDRs "
            f"(`{EXISTING_ZONES_COMMAND}`), as availabilityZones and remove availabilityZoneCount; a new stack lists "
            "zones that offer iot.data in this account (`channelctl discover iot`, facts serviceZones)"
        )
    if values.get("availabilityZones") is None:
        raise ConfigError(
            f"availabilityZones is required — list 2 to 6 zones of {region} where this account is offered iot.data "
            f"and the gatekeeper's other endpoint services, like [{region}a, {region}c] (`aws ec2 "
            f"describe-vpc-endpoint-services --service-names com.amazonaws.{region}.iot.data` in this account, or "
            "`channelctl discover iot`, facts serviceZones); add zones only at the end of the list"
        )
    return validate_availability_zones("availabilityZones", values["availabilityZones"], region)


# --------------------------------------------------------------------------- #
# Loading
# --------------------------------------------------------------------------- #


def _load_iot(values: dict[str, Any], common: CommonConfig) -> IotConfig:
    gatekeeper = validate_vpc_cidr("gatekeeperVpcCidr", _require(values, "gatekeeperVpcCidr"))
    zones = load_gatekeeper_zones(values, common.region)
    az_count = len(zones)
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
    # Each consumer's VPC apart from the gatekeeper VPC (the consumer stack refuses the same overlap,
    # components/stacks.py); consumers' ranges may repeat each other's: each consumer reaches the
    # endpoint service through an interface endpoint in its own VPC, the NLB sees its own addresses
    # as the source (PrivateLink does not preserve the consumer's), and nothing of the channel routes
    # or admits a consumer's range.
    for i, consumer in enumerate(consumers):
        if consumer.vpc_cidr:
            validate_disjoint([("gatekeeperVpcCidr", gatekeeper), (f"consumers[{i}].vpcCidr", consumer.vpc_cidr)])
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
    # Before the authorizer: a refused reservedConcurrency suggests the value the fleet's reconnect storm needs.
    capacity = load_capacity(values.get("capacity", {}))
    authorizer = _load_authorizer(
        values.get("authorizer", {}),
        devices=devices,
        reconnect_target_seconds=capacity.reconnect_target_seconds,
        iot_connects_per_second=capacity.iot_connects_per_second,
    )
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
    if access is not None:
        if domain is None:
            raise ConfigError(f"deviceAccess.mode {access.mode} needs customDomain — set the devices' host name")
        if access.mode == "tls-proxy" and cert is None:
            raise ConfigError(
                "deviceAccess.mode tls-proxy needs customDomainCertificateArn — the NLB's TLS listeners present "
                "the custom domain's certificate; set customDomainCertificateArn"
            )
    fleet_provisioning = load_fleet_provisioning(values.get("fleetProvisioning"), stack=common.stack)
    if fleet_provisioning.migrating_families and not authorizer.enabled:
        # Password devices exist only behind the custom authorizer (authorizer/migration.py grants their topics).
        raise ConfigError(
            f"fleetProvisioning.migratingFamilies {list(fleet_provisioning.migrating_families)!r} needs "
            "authorizer.enabled true — without the authorizer there are no password devices to migrate; "
            "remove migratingFamilies or enable the authorizer"
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
        availability_zones=zones,
        expected_devices=devices,
        enable_credentials_endpoint=credentials,
        enable_greengrass_endpoint=greengrass,
        same_organization=_as_bool("sameOrganization", values.get("sameOrganization", False)),
        consumers=consumers,
        thing_topic_prefix=prefix,
        fleet_provisioning=fleet_provisioning,
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
