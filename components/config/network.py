"""The network stack: device and gatekeeper VPCs, on-premises ranges, Transit Gateway and
Direct Connect."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from components.config.common import CommonConfig
from components.config.shared import (
    _DX_CONNECTION_RE,
    ConfigError,
    _as_bool,
    _as_int,
    _as_list,
    _require,
    validate_account_id,
    validate_asn,
    validate_availability_zones,
    validate_disjoint,
    validate_private_cidr,
    validate_stack_name,
    validate_vpc_cidr,
)


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


def _load_network(values: dict[str, Any], common: CommonConfig) -> NetworkConfig:
    device = validate_vpc_cidr("deviceVpcCidr", _require(values, "deviceVpcCidr"))
    gatekeeper = validate_vpc_cidr("gatekeeperVpcCidr", _require(values, "gatekeeperVpcCidr"))
    on_prem = tuple(
        validate_private_cidr(f"onPremCidrs[{i}]", c)
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
    gateway_asn = validate_asn("directConnect.gatewayAsn", value.get("gatewayAsn", 64513))
    if customer_asn is not None and customer_asn == gateway_asn:
        # The transit VIF's BGP session runs between the customer router (customerAsn) and the Direct Connect
        # gateway (its Amazon side ASN, gatewayAsn): an external BGP session needs two autonomous systems
        # (AWS Direct Connect User Guide, virtual interfaces: the ASN of the customer side must differ from the
        # Amazon side), and each side would drop the other's routes, which carry its own ASN in the AS path
        # (RFC 4271, 9.1.2, AS loop detection).
        raise ConfigError(
            f"directConnect.customerAsn {customer_asn} equals directConnect.gatewayAsn {gateway_asn} (the Direct "
            "Connect gateway's Amazon side ASN) — BGP needs a different ASN on each side: give the on-premises "
            "router's own ASN as customerAsn, or choose another private ASN for gatewayAsn"
        )
    return DirectConnectConfig(
        gateway_asn=gateway_asn,
        connection_id=connection,
        vlan=vlan,
        customer_asn=customer_asn,
        mtu=mtu,
    )
