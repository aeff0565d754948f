"""The keys every stack has (role, account, region, deploying role, tags, monitoring)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

from components.config.monitoring import MonitoringConfig, load_monitoring
from components.config.shared import (
    _REGION_RE,
    _ROLE_ARN_RE,
    _TAG_KEY_RE,
    ConfigError,
    _require,
    validate_account_id,
)


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
