"""Typed, validated stack configuration.

Every key lives in the project's namespace (``private-mqtt-channel:<key>``).
``load_config`` turns the raw values Pulumi hands the program (strings; JSON
for structured values) into one frozen dataclass per role, and refuses bad
input with a ``ConfigError`` that names the key, shows the value and says how
to fix it — before the program declares a single resource.

Where things live (every name below is also importable from ``components.config``):

- ``shared``: ``PROJECT``, ``ROLES``, ``ConfigError``, the cross-stack rules
  (``TGW_REGION_RULE``, ``PRIVATELINK_REGION_RULE``, ``SAME_ORGANIZATION_RULE``),
  the formats, the validators each usable on its own (``validate_cidr``, ``validate_private_cidr``,
  ``validate_account_id``, ``validate_domain`` ...), ``parse_raw`` and the small
  coercions. It imports no other module of this package.
- ``monitoring``: the ``monitoring`` map every stack has (``MonitoringConfig``).
- ``common``: the keys every stack has (``CommonConfig``).
- ``network``: the network stack (``NetworkConfig``, ``DirectConnectConfig``).
- ``iot``: the iot stack (``IotConfig``, ``ConsumerRef``, ``CapacityConfig``) and the
  endpoint counting (``data_endpoint_count``, ``validate_expected_devices``,
  ``validate_nlb_targets`` ...).
- ``iot_access``: the iot stack's ``authorizer`` and ``deviceAccess`` sections
  (``AuthorizerConfig``, ``DeviceAccessConfig``, ``validate_reserved_concurrency``,
  ``authorizer_sizing``).
- ``consumer``: the consumer stack (``ConsumerConfig``, ``ExistingVpc``,
  ``ApplicationHostConfig``).
- this module: ``load_config``, the keys of each role (``known_keys``) and ``StackConfig``.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping

# The names below are this package's surface: the modules' contents, importable from here.
from components.config.common import CommonConfig, _load_common  # noqa: F401
from components.config.consumer import (  # noqa: F401
    ApplicationHostConfig,
    ConsumerConfig,
    ExistingVpc,
    _load_consumer,
    _load_existing_vpc,
)
from components.config.iot import (  # noqa: F401
    CONNECTIONS_PER_DATA_ENDPOINT,
    CONNECTIONS_PER_NLB_TARGET,
    CONSUMER_LISTENERS,
    INTERFACE_ENDPOINTS_PER_VPC,
    CapacityConfig,
    ConsumerRef,
    IotConfig,
    _load_consumers,
    _load_iot,
    data_endpoint_count,
    gatekeeper_interface_endpoints,
    largest_expected_devices,
    load_capacity,
    validate_expected_devices,
    validate_nlb_targets,
)
from components.config.iot_access import (  # noqa: F401
    DEVICE_ACCESS_MODES,
    AuthorizerConfig,
    DeviceAccessConfig,
    DeviceFamily,
    _load_authorizer,
    _load_device_access,
    authorizer_sizing,
    validate_reserved_concurrency,
)
from components.config.monitoring import (  # noqa: F401
    ALARM_PROTOCOLS,
    AUDIT_FREQUENCIES,
    IOT_LOG_LEVELS,
    AlarmSubscription,
    MonitoringConfig,
    load_monitoring,
)
from components.config.network import (  # noqa: F401
    DirectConnectConfig,
    NetworkConfig,
    _load_direct_connect,
    _load_network,
)
from components.config.usage import USAGE_KEYS, UsageConfig, load_usage  # noqa: F401
from components.config.shared import (  # noqa: F401
    _ACCOUNT_RE,
    _ACM_ARN_RE,
    _DX_CONNECTION_RE,
    _INSTANCE_TYPE_RE,
    _LABEL_RE,
    _LOG_RETENTION_DAYS,
    _NAME_RE,
    _PRIVATE_ASN_RANGES,
    _REGION_RE,
    _ROLE_ARN_RE,
    _STACK_RE,
    _SUBNET_ID_RE,
    _TAG_KEY_RE,
    _TOPIC_SEGMENT_RE,
    _VPC_ID_RE,
    MAX_AVAILABILITY_ZONES,
    MIN_AVAILABILITY_ZONES,
    PRIVATELINK_REGION_RULE,
    PROJECT,
    ROLES,
    SAME_ORGANIZATION_RULE,
    TGW_REGION_RULE,
    ConfigError,
    _as_bool,
    _as_int,
    _as_list,
    _closest,
    _refuse_unknown,
    _require,
    parse_raw,
    validate_account_id,
    validate_asn,
    validate_availability_zones,
    validate_cidr,
    validate_disjoint,
    validate_domain,
    validate_private_cidr,
    validate_role,
    validate_stack_name,
    validate_vpc_cidr,
)

StackConfig = NetworkConfig | IotConfig | ConsumerConfig


# --------------------------------------------------------------------------- #
# Loading
# --------------------------------------------------------------------------- #

_COMMON_KEYS = {"role", "accountId", "region", "assumeRoleArn", "tags", "monitoring", "usage"}
_ROLE_KEYS = {
    "network": {
        "iotAccountId", "deviceVpcCidr", "gatekeeperVpcCidr", "onPremCidrs", "availabilityZones",
        "transitGatewayAsn", "directConnect", "sameOrganization", "iotStack",
    },
    "iot": {
        "networkStack", "gatekeeperVpcCidr", "availabilityZones", "availabilityZoneCount", "expectedDevices",
        "enableCredentialsEndpoint", "enableGreengrassEndpoint", "sameOrganization", "consumers",
        "thingTopicPrefix", "customDomain", "customDomainCertificateArn", "authorizer", "deviceAccess",
        "capacity", "fleetProvisioning",
    },
    "consumer": {"iotStack", "vpcCidr", "availabilityZones", "existingVpc", "applicationHost"},
}


def known_keys(role: str) -> set[str]:
    return _COMMON_KEYS | _ROLE_KEYS[role]


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
    # The cost estimate's figures: validated here so a bad one stops the plan before any resource.
    load_usage(values.get("usage"), role)
    loader: Callable[[dict[str, Any], CommonConfig], StackConfig] = {
        "network": _load_network,
        "iot": _load_iot,
        "consumer": _load_consumer,
    }[role]
    return loader(values, common)
