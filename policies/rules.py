"""CrossGuard rules that keep the channel private by construction.

Each rule is a module-level ``ResourceValidationPolicy`` (mandatory) around a pure check of
``policies.checks``, where the rules' names, descriptions and checks are kept without any import of
``pulumi-policy`` (``channelctl plan`` runs the same checks). Importing this module starts nothing;
only ``policies/__main__.py`` serves the pack.

During ``pulumi preview`` an input that depends on another resource's output is unknown; reading
it raises ``UnknownValueError``, which the pack reports as "can't run during preview". The same
rule runs again on ``pulumi up`` with the value known, so an unknown is never taken as compliant.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    PolicyCustomTimeouts,
    PolicyResourceOptions,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
)
from pulumi_policy.deserialize import deserialize_properties
from pulumi_policy.proxy import unknown_checking_proxy

from policies.checks import *  # noqa: F403 -- the type tokens and checks, as this module always offered them
from policies.checks import (
    ALLOWED_TYPES_ONLY,
    MANAGED_POLICIES_ALLOWED,
    NO_INTERNET_PATH,
    NO_PUBLIC_ADDRESSES,
    NO_PUBLIC_ENTRY_POINTS,
    NO_ANY_ADDRESS_SECURITY_GROUP_RULES,
    IOT_ENDPOINTS_PRIVATE_DNS_OFF,
    IOT_CONNECT_REQUIRES_SOURCE_VPCE,
    ENDPOINT_SERVICE_RESTRICTED,
    LAMBDA_IN_VPC,
    DYNAMODB_ENCRYPTED_WITH_PITR,
    ResourceRule,
)
from policies.forms import (
    ENDPOINTS_TO_LISTED_SERVICES,
    EVENTS_REACH_TOPICS_ONLY,
    RESOURCE_POLICIES_NAME_PRINCIPALS,
    ROLES_TRUST_SERVICES_ONLY,
    TRANSIT_STAYS_PRIVATE,
)


def _policy(rule: ResourceRule) -> ResourceValidationPolicy:
    def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
        for message in rule.check(args.resource_type, args.props):
            report_violation(message, None)

    return ResourceValidationPolicy(
        name=rule.name,
        description=rule.description,
        validate=validate,
        enforcement_level=EnforcementLevel.MANDATORY,
    )


allowed_types_only = _policy(ALLOWED_TYPES_ONLY)
managed_policies_allowed = _policy(MANAGED_POLICIES_ALLOWED)
endpoints_to_listed_services = _policy(ENDPOINTS_TO_LISTED_SERVICES)
roles_trust_services_only = _policy(ROLES_TRUST_SERVICES_ONLY)
resource_policies_name_principals = _policy(RESOURCE_POLICIES_NAME_PRINCIPALS)
transit_stays_private = _policy(TRANSIT_STAYS_PRIVATE)
events_reach_topics_only = _policy(EVENTS_REACH_TOPICS_ONLY)
no_internet_path = _policy(NO_INTERNET_PATH)
no_public_addresses = _policy(NO_PUBLIC_ADDRESSES)
no_public_entry_points = _policy(NO_PUBLIC_ENTRY_POINTS)
no_any_address_security_group_rules = _policy(NO_ANY_ADDRESS_SECURITY_GROUP_RULES)
iot_endpoints_private_dns_off = _policy(IOT_ENDPOINTS_PRIVATE_DNS_OFF)
iot_connect_requires_source_vpce = _policy(IOT_CONNECT_REQUIRES_SOURCE_VPCE)
endpoint_service_restricted = _policy(ENDPOINT_SERVICE_RESTRICTED)
lambda_in_vpc = _policy(LAMBDA_IN_VPC)
dynamodb_encrypted_with_pitr = _policy(DYNAMODB_ENCRYPTED_WITH_PITR)

RULES: tuple[ResourceValidationPolicy, ...] = (
    allowed_types_only,
    managed_policies_allowed,
    endpoints_to_listed_services,
    roles_trust_services_only,
    resource_policies_name_principals,
    transit_stays_private,
    events_reach_topics_only,
    no_internet_path,
    no_public_addresses,
    no_public_entry_points,
    no_any_address_security_group_rules,
    iot_endpoints_private_dns_off,
    iot_connect_requires_source_vpce,
    endpoint_service_restricted,
    lambda_in_vpc,
    dynamodb_encrypted_with_pitr,
)


@dataclass(frozen=True)
class Violation:
    """One rule's finding on one resource."""

    rule: str
    resource_type: str
    name: str
    message: str


def evaluate(
    resource_type: str, props: Mapping[str, Any], *, name: str = "", urn: str = ""
) -> list[Violation]:
    """Run every rule over one resource's inputs, the way the pack does inside the engine.

    ``props`` may be plain Python values (e.g. ``MockResourceArgs.inputs`` under Pulumi mocks)
    or the engine's wire form; unknown preview values raise ``UnknownValueError``.
    """
    wrapped = unknown_checking_proxy(deserialize_properties(dict(props)))
    args = ResourceValidationArgs(resource_type, wrapped, urn, name, _no_options(), None)
    violations: list[Violation] = []
    for rule in RULES:
        messages: list[str] = []
        rule.validate(args, lambda message, _urn=None: messages.append(message))
        violations.extend(Violation(rule.name, resource_type, name, message) for message in messages)
    return violations


def _no_options() -> PolicyResourceOptions:
    """The options of a resource declared without any (no rule reads them)."""
    return PolicyResourceOptions(
        protect=False,
        ignore_changes=[],
        delete_before_replace=None,
        aliases=[],
        custom_timeouts=PolicyCustomTimeouts(0, 0, 0),
        additional_secret_outputs=[],
        parent=None,
    )
