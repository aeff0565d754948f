"""The consumer stack: its VPC (created, or an existing one) and the optional application host."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from components.config.common import CommonConfig
from components.config.shared import (
    _INSTANCE_TYPE_RE,
    _SUBNET_ID_RE,
    _VPC_ID_RE,
    MIN_AVAILABILITY_ZONES,
    ConfigError,
    _as_bool,
    _as_list,
    _require,
    validate_availability_zones,
    validate_stack_name,
    validate_vpc_cidr,
)


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
