"""The ``usage`` map: how much the channel is used, the figures its cost estimate reads.

Nothing the program deploys depends on these figures; ``channelctl plan`` multiplies them by list
prices (``channelctl.plan.cost``). Each has a documented default, so a stack without ``usage``
still gets an estimate, and the plan says which figures were defaults. The fleet's figures
(devices, messages) live on the iot stack, which serves the devices; the network stack's Transit
Gateway, Direct Connect and Resolver lines read them from there.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from components.config.shared import ConfigError, _refuse_unknown

# Keys per role, camelCase as written in the stack file.
USAGE_KEYS = {
    "network": {"dnsQueriesPerDevicePerHour", "logGbPerMonth", "flowLogGbPerMonth"},
    "iot": {"connectedDevices", "messagesPerDevicePerMinute", "messageBytes", "messagesToDevicesPerDevicePerMinute",
            "messagesToDevicesQos", "deliveriesPerMessage", "consumerQos", "rulesPerMessage", "migratingDevices",
            "logGbPerMonth", "flowLogGbPerMonth"},
    "consumer": {"consumerGbPerMonth", "logGbPerMonth", "flowLogGbPerMonth"},
}

# Upper bounds that catch a typo (an extra three zeros), not a limit of AWS: a figure above one
# is refused with the bound named, and raising the bound here is a deliberate change.
_BOUNDS = {
    "connectedDevices": 100_000_000,
    "migratingDevices": 100_000_000,
    "messagesPerDevicePerMinute": 6_000,  # 100 publishes/s per connection (IoT Core quota), times 60
    "messagesToDevicesPerDevicePerMinute": 6_000,
    "messagesToDevicesQos": 1,  # IoT Core supports QoS 0 and 1 (developer guide, "MQTT": no QoS 2)
    "deliveriesPerMessage": 1_000,
    "consumerQos": 1,
    "messageBytes": 128 * 1024,  # IoT Core's largest MQTT payload (AWS IoT Core quotas: 128 KB)
    "rulesPerMessage": 100,
    "dnsQueriesPerDevicePerHour": 3_600,
    "consumerGbPerMonth": 10_000_000,
    "logGbPerMonth": 10_000_000,
    "flowLogGbPerMonth": 10_000_000,
}


@dataclass(frozen=True, kw_only=True)
class UsageConfig:
    """How much the channel is used; None = derive the figure (see each field)."""

    # Devices connected all month (iot). Default: expectedDevices.
    connected_devices: int | None = None
    # MQTT publishes each device sends per minute (iot).
    messages_per_device_per_minute: float = 1.0
    # Payload plus topic of one publish, in bytes (iot); IoT Core meters messages in 5 KB steps.
    message_bytes: int = 512
    # Publishes IoT Core sends to each device per minute (commands, acks of the application) (iot).
    messages_to_devices_per_device_per_minute: float = 0.1
    # The QoS of those publishes (iot): at 1 each device answers with a PUBACK, which IoT Core meters
    # as a message of its own; 0 sends none.
    messages_to_devices_qos: int = 1
    # Subscribers each device publish is delivered to: consumer applications subscribed to the
    # devices' topics (iot); each delivery is a message IoT Core meters. Default: one per consumer
    # of the iot stack's `consumers` (each consumer's applications receive every publish once).
    deliveries_per_message: float | None = None
    # The QoS of those subscriptions (iot): at 1 each application answers each delivery with a
    # PUBACK, metered as a message of its own.
    consumer_qos: int = 1
    # Connected devices of fleetProvisioning.migratingFamilies still on their passwords (iot): the
    # authorizer stamps each one's record at every login and refresh. Default: connectedDevices when
    # migratingFamilies names a family, else 0.
    migrating_devices: int | None = None
    # IoT rules each device publish triggers (iot); the program declares no topic rule itself.
    rules_per_message: float = 0.0
    # DNS queries each device sends through the Resolver inbound endpoint per hour (network).
    dns_queries_per_device_per_hour: float = 1.0
    # Traffic of a consumer's applications through its endpoint, GB per month (consumer). Default:
    # derived from the iot stack's fleet (its share of the deliveries and of the publishes to
    # devices), else 10.
    consumer_gb_per_month: float | None = None
    # CloudWatch Logs ingested per month besides flow logs, GB (every stack). Default: derived
    # (network: the Resolver query log from the DNS queries; iot 5 GB; consumer 1 GB).
    log_gb_per_month: float | None = None
    # VPC flow logs delivered per month, GB (every stack). Default: derived (iot: from the devices'
    # sessions; network and consumer 1 GB).
    flow_log_gb_per_month: float | None = None


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def load_usage(value: Any, role: str) -> UsageConfig:
    """Validate ``usage`` of a stack of ``role``; every error names the key, the value and the fix."""
    if value is None:
        value = {}
    if not isinstance(value, dict):
        raise ConfigError(f"usage {value!r} is not a map — like {{messagesPerDevicePerMinute: 1}}")
    _refuse_unknown("usage", value, USAGE_KEYS[role])
    parsed: dict[str, Any] = {}
    for f in fields(UsageConfig):
        key = _camel(f.name)
        if key not in value or key not in USAGE_KEYS[role]:
            continue
        raw = value[key]
        whole = key in ("connectedDevices", "messageBytes", "messagesToDevicesQos", "consumerQos", "migratingDevices")
        if isinstance(raw, bool) or not isinstance(raw, (int, float)) or (whole and raw != int(raw)):
            kind = "a whole number" if whole else "a number"
            raise ConfigError(f"usage.{key} {raw!r} is not {kind} — write it like {key}: {f.default or 1}")
        if raw < 0 or raw > _BOUNDS[key]:
            raise ConfigError(
                f"usage.{key} {raw!r} is outside 0–{_BOUNDS[key]:,} — write the monthly figure for this stack "
                "(docs/costs.md explains each usage figure)"
            )
        parsed[f.name] = int(raw) if whole else float(raw)
    return UsageConfig(**parsed)
