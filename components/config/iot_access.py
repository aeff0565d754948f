"""The iot stack's device-facing access: the custom authorizer for username/password devices
(``authorizer``) and how devices reach the custom domain (``deviceAccess``)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Mapping

from authorizer.cost import check_connect_cost, check_cost, registry_specs
from authorizer.errors import AuthorizerError
from authorizer.hashes import dummy_hash
from components import aws_limits
from components.config.shared import (
    _INSTANCE_TYPE_RE,
    _LOG_RETENTION_DAYS,
    _NAME_RE,
    _ROLE_ARN_RE,
    _TOPIC_SEGMENT_RE,
    ConfigError,
    _as_bool,
    _as_int,
    _as_list,
    _refuse_unknown,
    _require,
)
from components.proxy_capacity import (
    DEFAULT_IOT_CONNECTS_PER_SECOND,
    DEFAULT_PROXY_INSTANCE_TYPE,
    DEFAULT_RECONNECT_TARGET_SECONDS,
    AuthorizerSizing,
    CapacityError,
    instance_type as proxy_instance_type_spec,
)
from components.proxy_capacity import authorizer_sizing as proxy_authorizer_sizing


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
    # Families whose user names are counted but never locked (authorizer/lockout.py): for fleets
    # with strong random passwords, where a lock would only let a guesser keep a device out.
    lockout_exempt_families: tuple[str, ...] = ()
    family_topic_prefixes: Mapping[str, str] = field(default_factory=dict)
    unknown_user_hash: str = "scrypt"
    # 1,024 MB: a first login with an imported Mosquitto hash verifies it and the project's scrypt and
    # re-hashes, about 0.42 s of a core, which needs at least 743 MB under the cost ceiling (authorizer/cost.py).
    memory_size: int = 1024
    log_retention_days: int = 365
    # Roles that run `channelctl devices`: with the authorizer's own role, the only
    # principals the credentials key lets use it (through DynamoDB).
    operator_role_arns: tuple[str, ...] = ()
    # Roles that administer the credentials key (never use it); default: the
    # deploying role (assumeRoleArn), else the account, whose IAM policies then decide.
    key_admin_arns: tuple[str, ...] = ()


DEVICE_ACCESS_MODES = ("tls-proxy", "tcp-passthrough", "direct")
# The public Systems Manager parameter that names the newest Amazon Linux 2023 arm64 AMI in a
# Region (Amazon Linux 2023 user guide, "Launching AL2023 using the SSM parameter"); the
# proxy's AMI is read from it by the operator, once, and pinned in deviceAccess.amiId.
PROXY_AMI_PARAMETER = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64"
_AMI_ID_RE = re.compile(r"^ami-[0-9a-f]{8}([0-9a-f]{9})?\Z")


def ami_lookup_command(region: str | None = None) -> str:
    """The command that prints the current AL2023 arm64 AMI ID (docs/device-access-and-capacity.md shows it)."""
    where = f" --region {region}" if region else ""
    return (f"aws ssm get-parameters --names {PROXY_AMI_PARAMETER}{where} --query 'Parameters[0].Value' "
            "--output text")


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
    # The proxy fleet's AMI, pinned (required for tls-proxy): a new AMI is a new launch template
    # version, and every new version replaces every proxy instance, dropping its devices. So it
    # moves only when the operator changes this key, never because Amazon Linux published one.
    ami_id: str | None = None


def validate_reserved_concurrency(
    key: str, value: int | None, account_quota: float | None, needed: AuthorizerSizing | None = None
) -> int | None:
    """A reservation of at least 1 that leaves 100 of the account's concurrent executions unreserved
    (aws_limits); ``account_quota`` None checks the lower bound only. ``needed`` (``authorizer_sizing``)
    is what the fleet needs: the refusal suggests it."""
    if value is None:
        return None
    need = f"{needed.concurrency} ({needed.how})" if needed is not None else None
    if value < 1:
        # 0 would stop every invocation.
        raise ConfigError(
            f"{key} {value} is below 1 — it would throttle every connection; "
            + (f"set it to at least {need}, " if need else "give a positive number ")
            + "or unset the key (no reservation)"
        )
    if account_quota is None:
        return value
    quota = int(account_quota)
    largest = aws_limits.max_reserved_concurrency(quota)
    if value > largest:
        if needed is not None and needed.concurrency <= largest:
            fix = (f"lower {key} to {need}, at most {largest}; request a quota increase; or unset it "
                   "(no reservation)")
        else:
            fix = (f"request a quota increase, lower {key} to at most {largest}, or unset it (no reservation)"
                   if largest >= 1 else f"request a quota increase, or unset {key} (no reservation)")
            if needed is not None:
                fix += (f"; the fleet needs at least {need}, so ask for a quota of at least "
                        f"{needed.concurrency + aws_limits.LAMBDA_UNRESERVED_MIN:,}")
        raise ConfigError(
            f"{key} {value} would leave {max(quota - value, 0)} of the account's {quota:,} Lambda concurrent "
            f"executions unreserved, and Lambda keeps at least {aws_limits.LAMBDA_UNRESERVED_MIN} for functions without a "
            f"reservation (Service Quotas {aws_limits.LAMBDA_QUOTA_SERVICE_CODE}/{aws_limits.LAMBDA_CONCURRENCY_QUOTA_CODE}) "
            f"— {fix}"
        )
    return value


def authorizer_sizing(
    devices: int, authorizer: AuthorizerConfig, *, reconnect_target_seconds: int, iot_connects_per_second: int
) -> AuthorizerSizing:
    """The reserved concurrency the fleet needs of this authorizer (``components.proxy_capacity.authorizer_sizing``)."""
    return proxy_authorizer_sizing(
        devices,
        reconnect_target_seconds=reconnect_target_seconds,
        iot_connects_per_second=iot_connects_per_second,
        refresh_after_seconds=authorizer.refresh_after_seconds,
        memory_mb=authorizer.memory_size,
        scheme=authorizer.unknown_user_hash,
    )


def _load_authorizer(
    value: Any,
    *,
    devices: int | None = None,
    reconnect_target_seconds: int = DEFAULT_RECONNECT_TARGET_SECONDS,
    iot_connects_per_second: int = DEFAULT_IOT_CONNECTS_PER_SECOND,
) -> AuthorizerConfig:
    """The ``authorizer`` map; ``devices`` and the capacity figures size the reserved concurrency a refusal suggests."""
    if not isinstance(value, dict):
        raise ConfigError(f"authorizer {value!r} is not a map — like {{enabled: true}}")
    allowed = {
        "enabled", "reservedConcurrency", "disconnectAfterSeconds", "refreshAfterSeconds",
        "familyTopicPrefixes", "unknownUserHash", "memorySize", "logRetentionDays", "operatorRoleArns",
        "keyAdminArns", "maxFailedAttempts", "lockoutSeconds", "lockoutExemptFamilies",
    }
    _refuse_unknown("authorizer", value, allowed)
    defaults = AuthorizerConfig()
    concurrency = value.get("reservedConcurrency", defaults.reserved_concurrency)
    if concurrency is not None:
        # Its bounds (at least 1; the account's quota, read by the program) are checked by
        # validate_reserved_concurrency, which knows the fleet the authorizer serves.
        concurrency = _as_int("authorizer.reservedConcurrency", concurrency)
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
    # parameters channelctl hashes new passwords with must fit the memory size's ceiling, and so
    # must a first legacy login: both schemes verified, then the upgrade's scrypt re-hash.
    for key, spec in (("unknownUserHash", unknown_hash), ("memorySize", "scrypt")):
        try:
            check_cost(dummy_hash(spec), memory, "the scrypt channelctl hashes passwords with" if key == "memorySize"
                       else f"unknownUserHash {spec}")
        except AuthorizerError as err:
            raise ConfigError(f"authorizer.{key}: {err}") from None
    try:
        check_connect_cost(registry_specs(dummy_hash(unknown_hash).work_spec()), memory,
                           f"authorizer.memorySize {memory} with unknownUserHash {unknown_hash}")
    except AuthorizerError as err:
        raise ConfigError(str(err)) from None
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
    exempt = _as_list("authorizer.lockoutExemptFamilies", value.get("lockoutExemptFamilies", []),
                      "family names like [meters]")
    for i, family in enumerate(exempt):
        if not isinstance(family, str) or not _NAME_RE.match(family):
            raise ConfigError(
                f"authorizer.lockoutExemptFamilies[{i}] {family!r} is not a family name — like meters "
                "(lower-case letters, digits and '-')"
            )
    enabled = _as_bool("authorizer.enabled", value.get("enabled", False))
    config = AuthorizerConfig(
        enabled=enabled,
        max_failed_attempts=max_failed,
        lockout_seconds=lockout,
        lockout_exempt_families=tuple(sorted(set(exempt))),
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
    if concurrency is not None:
        needed = None if devices is None else authorizer_sizing(
            devices, config, reconnect_target_seconds=reconnect_target_seconds,
            iot_connects_per_second=iot_connects_per_second,
        )
        validate_reserved_concurrency("authorizer.reservedConcurrency", concurrency, None, needed=needed)
    if enabled and not roles["operatorRoleArns"]:
        raise ConfigError(
            "authorizer.operatorRoleArns is empty — the credentials table's key lets only the authorizer and these "
            "roles use it; list the role(s) operators run `channelctl devices` with, like "
            "[arn:aws:iam::222222222222:role/mqtt-operators]"
        )
    return config


def _load_device_access(value: Any) -> DeviceAccessConfig | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise ConfigError(f"deviceAccess {value!r} is not a map — like {{mode: tls-proxy, families: [...]}}")
    allowed = {"mode", "families", "caBundleFile", "proxyInstanceType", "proxyMinSize", "proxyMaxSize", "amiId"}
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
    ami_id = value.get("amiId")
    if ami_id is None and mode == "tls-proxy":
        raise ConfigError(
            "deviceAccess.amiId is required for tls-proxy — pin the proxy fleet's AMI (every new AMI replaces every "
            f"proxy and reconnects its devices); look up the current Amazon Linux 2023 arm64 one with `{ami_lookup_command()}` "
            "and set it, like ami-0abcdef1234567890"
        )
    if ami_id is not None and (not isinstance(ami_id, str) or not _AMI_ID_RE.match(ami_id)):
        raise ConfigError(
            f"deviceAccess.amiId {ami_id!r} is not an AMI ID — like ami-0abcdef1234567890 (`{ami_lookup_command()}`)"
        )
    return DeviceAccessConfig(
        mode=mode,
        families=tuple(families),
        ca_bundle_file=bundle,
        proxy_instance_type=instance_type,
        proxy_min_size=low,
        proxy_max_size=high,
        ami_id=ami_id,
    )
