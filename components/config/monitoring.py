"""The ``monitoring`` map every stack has: logs, alarms and Device Defender."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from components.config.shared import _LOG_RETENTION_DAYS, ConfigError, _as_bool, _as_int, _as_list, _refuse_unknown


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
