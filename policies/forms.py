"""Allow-lists of form for types on the list whose inputs can open a path the type's reason rules out.

``policies/allowed_types.py`` lets a type through because of what it is in the channel (an
interface endpoint to an AWS service, a role for an AWS service, a Transit Gateway that joins the
channel's own VPCs); these checks hold each such type to that form, naming what is allowed and
refusing the rest. Pure, like ``policies.checks``: the pack wraps them (``policies.rules``) and the
plan's ``isolation`` check runs them over every rendered resource.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from policies.addresses import public_range_problem
from policies.allowed_types import ENDPOINT_SERVICES
from policies.checks import ResourceRule, _items, _shown

VPC_ENDPOINTS = ("aws:ec2/vpcEndpoint:VpcEndpoint", "aws-native:ec2:VpcEndpoint")
ROLES = {"aws:iam/role:Role": "assumeRolePolicy", "aws-native:iam:Role": "assumeRolePolicyDocument"}
TRANSIT_GATEWAYS = ("aws:ec2transitgateway/transitGateway:TransitGateway", "aws-native:ec2:TransitGateway")
DX_GATEWAY_ASSOCIATIONS = ("aws:directconnect/gatewayAssociation:GatewayAssociation",)

# Interface and gateway endpoints reach one service from private addresses. Gateway Load Balancer
# endpoints send traffic to an appliance that may forward anywhere; Resource and ServiceNetwork
# endpoints reach VPC Lattice resources, which may be anywhere (EC2 API reference, CreateVpcEndpoint,
# VpcEndpointType: Interface | Gateway | GatewayLoadBalancer | Resource | ServiceNetwork). Unset
# means Gateway (the provider's default, pulumi-aws aws.ec2.VpcEndpoint vpc_endpoint_type).
ENDPOINT_TYPES = ("Interface", "Gateway")
AWS_SERVICE = re.compile(r"com\.amazonaws\.(?P<region>[a-z]{2}(?:-[a-z]+)+-\d+)\.(?P<service>[a-z0-9.-]+)")
# A PrivateLink endpoint service's name (VPC user guide, "Share your services through AWS
# PrivateLink": com.amazonaws.vpce.<region>.vpce-svc-<id>): the consumers' endpoint to the gatekeeper.
# The pack cannot tell whose service it is; the plan's consumer-path check proves it is the iot stack's.
ENDPOINT_SERVICE = re.compile(r"com\.amazonaws\.vpce\.[a-z]{2}(?:-[a-z]+)+-\d+\.vpce-svc-[0-9a-f]{17}")
SERVICE_PRINCIPAL = re.compile(r"[a-z0-9.-]+\.amazonaws\.com(?:\.cn)?")
# An IAM principal named by ARN, without a wildcard: an account root, a role or a user of one account
# (IAM user guide, "AWS JSON policy elements: Principal"). "*", {"AWS": "*"} and wildcard ARNs name anyone.
IAM_PRINCIPAL = re.compile(r"arn:aws(?:-[a-z]+)*:iam:[a-z0-9-]*:\d{12}:(?:root|role/[\w+=,.@/-]+|user/[\w+=,.@/-]+)")
RESOURCE_POLICIES = {"aws:sns/topicPolicy:TopicPolicy": "policy", "aws:sns/topic:Topic": "policy", "aws:kms/key:Key": "policy"}
# EventBridge: a rule matches events on the account's default bus; a target delivers them to an SNS
# topic, which admits the rule by its resource policy. The inputs each may carry (pulumi-aws 7
# aws.cloudwatch.EventRule and EventTarget); every other one (a role, another bus, an HTTP, ECS,
# Batch, Kinesis, SQS, Redshift, Run Command or SageMaker target, a dead-letter queue, and whatever the
# provider adds next) fails: each sends events, or acts, somewhere the channel does not name.
EVENT_RULE = "aws:cloudwatch/eventRule:EventRule"
EVENT_TARGET = "aws:cloudwatch/eventTarget:EventTarget"
EVENT_RULE_INPUTS = frozenset({"eventPattern", "description", "name", "namePrefix", "eventBusName", "state",
                               "isEnabled", "forceDestroy", "tags", "region"})
EVENT_TARGET_INPUTS = frozenset({"rule", "arn", "targetId", "eventBusName", "input", "inputPath", "inputTransformer",
                                 "retryPolicy", "forceDestroy", "region"})
# An SNS topic's ARN (arn:<partition>:sns:<region>:<account>:<topic>); which topic is the plan's to prove.
SNS_TOPIC_ARN = re.compile(r"arn:aws(?:-[a-z]+)*:sns:[a-z]{2}(?:-[a-z]+)+-\d+:\d{12}:[^:*\s]+")


def check_endpoint_form(resource_type: str, props: Mapping[str, Any]) -> list[str]:
    """A VPC endpoint is an interface or gateway endpoint to a listed AWS service or a PrivateLink endpoint service."""
    if resource_type not in VPC_ENDPOINTS:
        return []
    messages = []
    kind = props.get("vpcEndpointType")
    if kind is not None and kind not in ENDPOINT_TYPES:
        messages.append(
            f"vpcEndpointType is {_shown(kind)}: only {' and '.join(ENDPOINT_TYPES)} endpoints reach one named service — "
            f"a {kind} endpoint reaches an appliance or resources that may forward anywhere; remove it"
        )
    service = props.get("serviceName")
    match = AWS_SERVICE.fullmatch(service) if isinstance(service, str) else None
    if isinstance(service, str) and ENDPOINT_SERVICE.fullmatch(service):
        return messages
    if match is None or match["service"] not in ENDPOINT_SERVICES:
        messages.append(
            f"serviceName is {_shown(service)}, not a service the channel reaches (com.amazonaws.<region>.<service> for "
            f"{', '.join(sorted(ENDPOINT_SERVICES))}, or the gatekeeper's com.amazonaws.vpce.<region>.vpce-svc-<id>) — "
            f"an endpoint to another service is a way out of the channel; if the channel needs it, add the service to "
            f"ENDPOINT_SERVICES in policies/allowed_types.py with the reason"
        )
    return messages


def _document(key: str, value: Any, fix: str, kind: str) -> tuple[Mapping[str, Any] | None, list[str]]:
    """A policy document given as JSON text or as a map; else None and why."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError as exc:
            return None, [f"{key} is not valid JSON ({exc.msg}) — fix {fix}"]
    if not isinstance(value, Mapping):
        return None, [f"{key} is {_shown(value)}, not {kind} — pass the document as a JSON string"]
    return value, []


def check_role_trust(resource_type: str, props: Mapping[str, Any]) -> list[str]:
    """A role is assumed only by AWS services: every Allow statement of its trust policy names Service principals."""
    key = ROLES.get(resource_type)
    if key is None:
        return []
    document, problems = _document(key, props.get(key), "the trust policy", "a trust policy")
    if document is None:
        return problems
    fix = ("a role of the channel is assumed only by an AWS service: name it as "
           "\"Principal\": {\"Service\": \"<service>.amazonaws.com\"}")
    messages = []
    for index, statement in enumerate(_items(document.get("Statement"))):
        if not isinstance(statement, Mapping) or statement.get("Effect") != "Allow":
            continue
        if "NotPrincipal" in statement:
            messages.append(f"{key} Statement[{index}] allows NotPrincipal {_shown(statement['NotPrincipal'])}: everyone "
                            f"else may assume the role — {fix}")
            continue
        principal = statement.get("Principal")
        if not isinstance(principal, Mapping):
            messages.append(f"{key} Statement[{index}] Principal is {_shown(principal)} — {fix}")
            continue
        for kind, values in principal.items():
            wrong = [v for v in _items(values)
                     if kind != "Service" or not isinstance(v, str) or not SERVICE_PRINCIPAL.fullmatch(v)]
            if wrong:
                messages.append(f"{key} Statement[{index}] Principal {kind} {_shown(wrong)} may assume the role — {fix}")
    return messages


def check_resource_policy_principals(resource_type: str, props: Mapping[str, Any]) -> list[str]:
    """A topic's or key's resource policy allows only named principals: AWS services, or IAM ARNs without wildcards."""
    key = RESOURCE_POLICIES.get(resource_type)
    document = props.get(key) if key else None
    if document in (None, ""):
        return []
    document, problems = _document(key, document, "the policy", "a policy document")
    if document is None:
        return problems
    fix = "name the principals: AWS services (\"Service\") or IAM ARNs of an account, a role or a user, without '*'"
    messages = []
    for index, statement in enumerate(_items(document.get("Statement"))):
        if not isinstance(statement, Mapping) or statement.get("Effect") != "Allow":
            continue
        if "NotPrincipal" in statement:
            messages.append(f"{key} Statement[{index}] allows NotPrincipal: everyone else — {fix}")
            continue
        principal = statement.get("Principal")
        if not isinstance(principal, Mapping):
            messages.append(f"{key} Statement[{index}] Principal is {_shown(principal)}: anyone — {fix}")
            continue
        for kind, values in principal.items():
            pattern = SERVICE_PRINCIPAL if kind == "Service" else IAM_PRINCIPAL if kind == "AWS" else None
            wrong = [v for v in _items(values) if pattern is None or not isinstance(v, str) or not pattern.fullmatch(v)]
            if wrong:
                messages.append(f"{key} Statement[{index}] Principal {kind} {_shown(wrong)} — {fix}")
    return messages


def check_transit_stays_private(resource_type: str, props: Mapping[str, Any]) -> list[str]:
    """The Transit Gateway accepts attachments one by one; Direct Connect advertises only private prefixes."""
    if resource_type in TRANSIT_GATEWAYS:
        auto = props.get("autoAcceptSharedAttachments")
        # Disabled by default (EC2 API reference, TransitGatewayRequestOptions AutoAcceptSharedAttachments).
        if auto is not None and str(auto).lower() != "disable":
            return [
                f"autoAcceptSharedAttachments is {_shown(auto)}: any account the gateway is shared with could attach a "
                f"VPC with its own way to the internet — leave it 'disable' and accept each attachment "
                f"(VpcAttachmentAccepter)"
            ]
        return []
    if resource_type in DX_GATEWAY_ASSOCIATIONS:
        return [
            f"allowedPrefixes has {_shown(prefix)}: it advertises {problem} to the on-premises network — list only the "
            f"channel's VPC ranges"
            for prefix in _items(props.get("allowedPrefixes"))
            if (problem := public_range_problem(prefix))
        ]
    return []


ENDPOINTS_TO_LISTED_SERVICES = ResourceRule(
    "endpoints-to-listed-services",
    "VPC endpoints are Interface or Gateway endpoints to the AWS services the channel reaches "
    "(policies/allowed_types.py ENDPOINT_SERVICES) or to a PrivateLink endpoint service.",
    check_endpoint_form,
)
def check_events_reach_topics_only(resource_type: str, props: Mapping[str, Any]) -> list[str]:
    """An EventBridge rule matches a pattern on the default bus; a target is an SNS topic, with no role."""
    if resource_type not in (EVENT_RULE, EVENT_TARGET):
        return []
    allowed = EVENT_RULE_INPUTS if resource_type == EVENT_RULE else EVENT_TARGET_INPUTS
    fix = ("a rule matches an eventPattern on the default bus; a target sends to an SNS topic of the channel "
           "without a role — extend EVENT_RULE_INPUTS/EVENT_TARGET_INPUTS in policies/forms.py only for an input "
           "that sends nothing elsewhere")
    messages = [f"{key} {_shown(props[key])} is not an input the channel's {resource_type.rsplit(':', 1)[1]} uses — {fix}"
                for key in sorted(props) if not key.startswith("__") and key not in allowed and props[key] is not None]
    bus = props.get("eventBusName")
    if bus not in (None, "", "default"):
        messages.append(f"eventBusName {_shown(bus)} is not the account's default bus — {fix}")
    if resource_type == EVENT_RULE and not props.get("eventPattern"):
        messages.append(f"the rule has no eventPattern — {fix}")
    arn = props.get("arn")
    if resource_type == EVENT_TARGET and isinstance(arn, str) and not SNS_TOPIC_ARN.fullmatch(arn):
        messages.append(f"arn {_shown(arn)} is not an SNS topic — {fix}")
    return messages


ROLES_TRUST_SERVICES_ONLY = ResourceRule(
    "roles-trust-services-only",
    "Every Allow statement of a role's trust policy names only AWS service principals (no '*', account, "
    "federated or NotPrincipal).",
    check_role_trust,
)
RESOURCE_POLICIES_NAME_PRINCIPALS = ResourceRule(
    "resource-policies-name-principals",
    "SNS topic and KMS key policies allow only AWS service principals and IAM ARNs without wildcards (no '*', "
    "no NotPrincipal).",
    check_resource_policy_principals,
)
TRANSIT_STAYS_PRIVATE = ResourceRule(
    "transit-stays-private",
    "Transit Gateways do not auto-accept shared attachments; Direct Connect gateway associations advertise "
    "only private prefixes.",
    check_transit_stays_private,
)

EVENTS_REACH_TOPICS_ONLY = ResourceRule(
    "events-reach-topics-only",
    "EventBridge rules match an event pattern on the default bus; their targets are SNS topics, without a role "
    "or any other kind of target.",
    check_events_reach_topics_only,
)

FORM_RULES: tuple[ResourceRule, ...] = (
    ENDPOINTS_TO_LISTED_SERVICES, ROLES_TRUST_SERVICES_ONLY, RESOURCE_POLICIES_NAME_PRINCIPALS, TRANSIT_STAYS_PRIVATE,
    EVENTS_REACH_TOPICS_ONLY,
)
