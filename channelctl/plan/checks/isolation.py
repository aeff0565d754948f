"""``isolation``: nothing of the channel reaches or is reached from the internet, and IoT Core
admits connections only through the gatekeeper's iot.data endpoints."""

from __future__ import annotations

import fnmatch
import json
from typing import Any, Mapping

from channelctl.plan.checks.model import (
    INTERNET_TYPES,
    ISOLATION,
    T_DX_ASSOC,
    T_ENDPOINT,
    T_ENDPOINT_SERVICE,
    T_INSTANCE,
    T_IOT_AUTHORIZER,
    T_IOT_POLICY,
    T_LAMBDA,
    T_LAUNCH_TEMPLATE,
    T_LB,
    T_NACL,
    T_NACL_RULE,
    T_ROUTE,
    T_RT,
    T_SERVICE_PRINCIPAL,
    T_SG,
    T_SG_IN,
    T_SG_OUT,
    T_SG_RULE,
    T_SUBNET,
    T_TGW_ROUTE,
    Channel,
    CheckResult,
    Core,
    Findings,
    Res,
    as_flag,
    core,
    endpoint_ips,
    listeners_of,
    vpc_route,
)
from policies.addresses import covers_public_address as is_everywhere
from policies.checks import (
    ALLOWED_TYPES_ONLY,
    ENDPOINT_SERVICE_RESTRICTED,
    IOT_CONNECT_REQUIRES_SOURCE_VPCE,
    MANAGED_POLICIES_ALLOWED,
    NO_ANY_ADDRESS_SECURITY_GROUP_RULES,
    NO_INTERNET_PATH,
    NO_PUBLIC_ADDRESSES,
    NO_PUBLIC_ENTRY_POINTS,
)
from channelctl.plan.checks.provisioning import check_provisioning
from policies.forms import FORM_RULES
from channelctl.plan.checks.paths import (
    listener_backends,
    service_nlbs,
)


def check_isolation(ch: Channel) -> CheckResult:
    """Nothing reaches or is reached from the internet; consumers reach only iot.data; Connect only via the gatekeeper."""
    f = Findings()
    c = core(ch)
    for token, what in INTERNET_TYPES.items():
        for res in ch.of_type(token):
            f.bad(f"{what} {res.label}", res.label)
    for res in ch.of_type(T_SUBNET):
        if as_flag(res.get("mapPublicIpOnLaunch"), False):
            f.bad(f"subnet {res.label} gives instances public IPs (mapPublicIpOnLaunch)", res.label)
        if as_flag(res.get("assignIpv6AddressOnCreation"), False):
            f.bad(f"subnet {res.label} assigns IPv6 addresses on creation", res.label)
    for res in ch.of_type(T_INSTANCE):
        if as_flag(res.get("associatePublicIpAddress"), False):
            f.bad(f"instance {res.label} gets a public IP (associatePublicIpAddress)", res.label)
    for res in ch.of_type(T_LAUNCH_TEMPLATE):
        for nic in res.get("networkInterfaces") or []:
            if as_flag(nic.get("associatePublicIpAddress"), False):
                f.bad(f"launch template {res.label} gives instances public IPs", res.label)
    for res in ch.of_type(T_LB):
        if not as_flag(res.get("internal"), False):
            f.bad(f"load balancer {res.label} is internet-facing (internal is not true)", res.label)
    _open_rules(ch, f)
    for service in ch.of_type(T_ENDPOINT_SERVICE):
        principals = list(service.get("allowedPrincipals") or [])
        principals += [p.get("principalArn") for p in ch.of_type(T_SERVICE_PRINCIPAL)
                       if p.get("vpcEndpointServiceId") == service.id]
        if "*" in principals:
            f.bad(f"endpoint service {service.label} allows every AWS account ('*')", service.label)
        _service_reaches_only_data(ch, c, service, f)
    _policies_need_gatekeeper(ch, c, f)
    _privatelink_only_to_the_channel(ch, f)
    check_provisioning(ch, f)
    _pack_rules(ch, f)
    counted = len(ch.all)
    summary = (f"{counted} resources: no internet gateway, NAT, public IP or rule open to a public range; "
               "endpoint services reach only the iot.data endpoints; Connect requires aws:SourceVpce = "
               f"{', '.join(c.data_ids) or '(none)'}")
    return f.result(ISOLATION, summary)


# The policy pack's checks that keep the channel private, run over every rendered resource so
# the plan refuses what `pulumi up --policy-pack policies` would refuse (the same pure functions):
# first the allow-list of types (policies/allowed_types.py), then the listed types' own checks.
PACK_CHECKS = (
    (ALLOWED_TYPES_ONLY.name, ALLOWED_TYPES_ONLY.check),
    (MANAGED_POLICIES_ALLOWED.name, MANAGED_POLICIES_ALLOWED.check),
    *((rule.name, rule.check) for rule in FORM_RULES),
    (NO_INTERNET_PATH.name, NO_INTERNET_PATH.check),
    (NO_PUBLIC_ADDRESSES.name, NO_PUBLIC_ADDRESSES.check),
    (NO_PUBLIC_ENTRY_POINTS.name, NO_PUBLIC_ENTRY_POINTS.check),
    (NO_ANY_ADDRESS_SECURITY_GROUP_RULES.name, NO_ANY_ADDRESS_SECURITY_GROUP_RULES.check),
    (ENDPOINT_SERVICE_RESTRICTED.name, ENDPOINT_SERVICE_RESTRICTED.check),
    (IOT_CONNECT_REQUIRES_SOURCE_VPCE.name, IOT_CONNECT_REQUIRES_SOURCE_VPCE.check),
)


def _pack_rules(ch: Channel, f: Findings) -> None:
    for res in ch.all:
        for rule, check in PACK_CHECKS:
            for message in check(res.type, res.r.inputs):
                f.bad(f"{res.label} breaks the policy pack's {rule}: {message}", res.label)


def _privatelink_only_to_the_channel(ch: Channel, f: Findings) -> None:
    """An endpoint to a PrivateLink endpoint service reaches one the plan builds: the pack's
    endpoints-to-listed-services cannot tell whose service a vpce-svc name is; the plan can."""
    ours = {s.get("serviceName") for s in ch.of_type(T_ENDPOINT_SERVICE)}
    for endpoint in ch.of_type(T_ENDPOINT):
        name = endpoint.get("serviceName")
        if isinstance(name, str) and name.startswith("com.amazonaws.vpce.") and name not in ours:
            f.bad(f"endpoint {endpoint.label} reaches the endpoint service {name}, which no stack of the plan builds "
                  f"(the channel's: {', '.join(sorted(str(n) for n in ours)) or 'none'}) — a way out of the channel",
                  endpoint.label)


def _open_rules(ch: Channel, f: Findings) -> None:
    for sg in ch.of_type(T_SG):
        for direction in ("ingress", "egress"):
            for entry in sg.get(direction) or []:
                for cidr in list(entry.get("cidrBlocks") or []) + list(entry.get("ipv6CidrBlocks") or []):
                    if is_everywhere(cidr):
                        f.bad(f"security group {sg.label} has an {direction} rule open to {cidr}", sg.label)
    for rule in ch.of_type(T_SG_RULE):
        for cidr in list(rule.get("cidrBlocks") or []) + list(rule.get("ipv6CidrBlocks") or []):
            if is_everywhere(cidr):
                f.bad(f"security group rule {rule.label} is open to {cidr}", rule.label)
    for token in (T_SG_IN, T_SG_OUT):
        for rule in ch.of_type(token):
            for cidr in (rule.get("cidrIpv4"), rule.get("cidrIpv6")):
                if cidr and is_everywhere(cidr):
                    f.bad(f"security group rule {rule.label} is open to {cidr}", rule.label)
    for route in ch.of_type(T_ROUTE):
        for key in ("destinationCidrBlock", "destinationIpv6CidrBlock"):
            if is_everywhere(route.get(key)):
                f.bad(f"route {route.label} sends {route.get(key)} (public addresses) to {vpc_route(route.r.state, key, key, route.label).target}",
                      route.label)
    for table in ch.of_type(T_RT):
        for entry in table.get("routes") or []:
            for key in ("cidrBlock", "ipv6CidrBlock"):
                if is_everywhere(entry.get(key)):
                    f.bad(f"route table {table.label} has a route for {entry.get(key)}", table.label)
    for route in ch.of_type(T_TGW_ROUTE):
        if is_everywhere(route.get("destinationCidrBlock")) and not as_flag(route.get("blackhole"), False):
            f.bad(f"Transit Gateway route {route.label} sends {route.get('destinationCidrBlock')} somewhere", route.label)
    for dx in ch.of_type(T_DX_ASSOC):
        for prefix in dx.get("allowedPrefixes") or []:
            if is_everywhere(prefix):
                f.bad(f"Direct Connect association {dx.label} allows {prefix}", dx.label)
    for token in (T_NACL_RULE,):
        for rule in ch.of_type(token):
            for key in ("cidrBlock", "ipv6CidrBlock"):
                if is_everywhere(rule.get(key)) and str(rule.get("ruleAction")).lower() == "allow":
                    f.bad(f"network ACL rule {rule.label} allows {rule.get(key)}", rule.label)
    for acl in ch.of_type(T_NACL):
        for direction in ("ingress", "egress"):
            for entry in acl.get(direction) or []:
                for key in ("cidrBlock", "ipv6CidrBlock"):
                    if is_everywhere(entry.get(key)) and str(entry.get("action")).lower() == "allow":
                        f.bad(f"network ACL {acl.label} allows {direction} {entry.get(key)}", acl.label)


def _service_reaches_only_data(ch: Channel, c: Core, service: Res, f: Findings) -> None:
    """Whatever a consumer can reach behind the endpoint service must be an iot.data endpoint."""
    data = set(c.data_ips)
    others = {ip: e.label for e in ch.of_type(T_ENDPOINT) for ip in endpoint_ips(e) if ip not in data}
    for nlb in service_nlbs(ch, service):
        for listener in listeners_of(ch, nlb):
            for backend in listener_backends(ch, listener):
                if backend.ip in data:
                    continue
                what = f"the {others[backend.ip]} endpoint" if backend.ip in others else "a non-iot.data address"
                f.bad(f"consumers of {service.label} reach {what} {backend.ip}:{backend.port} through "
                      f"{listener.label} ({backend.via})", listener.label)
    f.involve(service.label)


def _policies_need_gatekeeper(ch: Channel, c: Core, f: Findings) -> None:
    allowed = set(c.data_ids)
    for policy in ch.of_type(T_IOT_POLICY):
        f.involve(policy.label)
        try:
            document = json.loads(policy.get("policy") or "")
        except (TypeError, ValueError):
            f.bad(f"IoT policy {policy.label} is not JSON", policy.label)
            continue
        problems = connect_problems(document, allowed)
        for problem in problems:
            f.bad(f"IoT policy {policy.label}: {problem}", policy.label)
        if not problems:
            f.ok(f"IoT policy {policy.label} allows Connect only with aws:SourceVpce in {sorted(allowed)}")
    for authorizer in ch.of_type(T_IOT_AUTHORIZER):
        f.involve(authorizer.label)
        function = ch.by_arn(authorizer.get("authorizerFunctionArn"))
        if function is None or function.type != T_LAMBDA:
            f.bad(f"authorizer {authorizer.label}: its function {authorizer.get('authorizerFunctionArn')} is not in "
                  "the plan, so the policies it returns cannot be checked", authorizer.label)
            continue
        f.involve(function.label)
        env = dict((function.get("environment") or {}).get("variables") or {})
        ids = {part.strip() for part in str(env.get("DATA_ENDPOINT_IDS", "")).split(",") if part.strip()}
        if ids != allowed or not ids:
            f.bad(f"authorizer function {function.label}: DATA_ENDPOINT_IDS is {sorted(ids) or 'unset'}, the iot.data "
                  f"endpoints are {sorted(allowed)}", function.label)
            continue
        problems = authorizer_connect_problems(env, function, allowed)
        for problem in problems:
            f.bad(f"authorizer function {function.label}: {problem}", function.label)
        if not problems:
            f.ok(f"authorizer {authorizer.label} returns Connect only with aws:SourceVpce in {sorted(allowed)}")


def _actions(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    return [str(v) for v in value or []]


def _grants_connect(statement: Mapping[str, Any]) -> bool:
    if "NotAction" in statement:
        return not any(fnmatch.fnmatch("iot:connect", a.lower()) for a in _actions(statement["NotAction"]))
    return any(fnmatch.fnmatch("iot:connect", a.lower()) for a in _actions(statement.get("Action")))


def connect_problems(document: Mapping[str, Any], allowed: set[str]) -> list[str]:
    """Why a policy document would allow iot:Connect other than through the allowed endpoints."""
    statements = document.get("Statement") or []
    if isinstance(statements, Mapping):
        statements = [statements]
    problems = []
    for index, statement in enumerate(statements):
        if statement.get("Effect") != "Allow" or not _grants_connect(statement):
            continue
        where = f"statement {statement.get('Sid') or index}"
        values: set[str] | None = None
        for operator, conditions in (statement.get("Condition") or {}).items():
            if operator.split(":")[-1] not in ("StringEquals", "StringEqualsIgnoreCase"):
                continue
            if operator.startswith("ForAnyValue") or operator.endswith("IfExists"):
                continue
            for key, value in conditions.items():
                if key.lower() == "aws:sourcevpce":
                    values = set(_actions(value))
        if not values:
            problems.append(f"{where} allows iot:Connect without an aws:SourceVpce condition")
        elif not values <= allowed:
            problems.append(f"{where} allows iot:Connect through {sorted(values - allowed)}, "
                            "which are not the gatekeeper's iot.data endpoints")
    return problems


def authorizer_connect_problems(env: Mapping[str, Any], function: Res, allowed: set[str]) -> list[str]:
    """Run the authorizer's own policy builder with the function's settings and inspect what it returns."""
    from authorizer.errors import AuthorizerError
    from authorizer.policy import build_policy_documents
    from authorizer.records import DeviceRecord
    from authorizer.settings import load_settings

    environ = {k: str(v) for k, v in env.items()}
    environ.setdefault("AWS_REGION", function.stack.region)
    try:
        settings = load_settings(environ, function.get("arn"))
        record = DeviceRecord(username="plancheck", password_hash="$unused$", family="plancheck")
        documents = build_policy_documents(record, settings)
    except AuthorizerError as exc:
        return [f"its settings are refused by the authorizer itself: {exc}"]
    problems = []
    for text in documents:
        problems += connect_problems(json.loads(text), allowed)
    return problems
