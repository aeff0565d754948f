"""The provisioning path, part of ``isolation``: what a device is given when it is provisioned, and what
a claim certificate may do before that.

- Every provisioning template attaches only IoT policies the plan declares (so the isolation check has
  seen the policy every provisioned device gets: Connect only through the gatekeeper), and activates
  the certificate it registers.
- A FLEET_PROVISIONING template has a pre-provisioning hook, and the hook is a function the plan
  declares (an allow-list of devices, not any function).
- A CA certificate with auto-registration provisions through a template of the plan, never through an
  inline template body the plan cannot see.
- An IoT policy naming ``$aws/...`` topics (a claim certificate's) names only the provisioning topics
  of a template the plan declares: ``$aws/certificates/create/<format>[/accepted|/rejected]`` and
  ``$aws/provisioning-templates/<name>/provision/<format>[/accepted|/rejected]`` (AWS IoT Core developer
  guide, "Device provisioning MQTT API"), with no wildcard.
"""

from __future__ import annotations

import json
import re
from typing import Any

from channelctl.plan.checks.model import T_IOT_POLICY, T_LAMBDA, Channel, Findings, Res

T_TEMPLATE = "aws:iot/provisioningTemplate:ProvisioningTemplate"
T_CA_CERTIFICATE = "aws:iot/caCertificate:CaCertificate"
_FORMATS = "(json|cbor)"
_REPLY = "(/(accepted|rejected))?"
_TOPIC_RESOURCE = re.compile(r"arn:aws:iot:[a-z0-9-]+:\d{12}:(topic|topicfilter)/(.*)")


def provisioning_topic_template(topic: str) -> str | None:
    """The template a provisioning API topic belongs to ("" for CreateKeysAndCertificate), or None if it
    is not one of the API's topics."""
    if re.fullmatch(rf"\$aws/certificates/create/{_FORMATS}{_REPLY}", topic):
        return ""
    found = re.fullmatch(rf"\$aws/provisioning-templates/([0-9A-Za-z_-]{{1,36}})/provision/{_FORMATS}{_REPLY}", topic)
    return found.group(1) if found else None


def _statements(document: Any) -> list[dict]:
    statements = document.get("Statement") if isinstance(document, dict) else None
    if isinstance(statements, dict):
        statements = [statements]
    return [s for s in statements or [] if isinstance(s, dict)]


def _listed(value: Any) -> list[str]:
    return [value] if isinstance(value, str) else [str(v) for v in value or []]


def claim_topic_problems(document: Any, templates: set[str]) -> list[str]:
    """Why an IoT policy's ``$aws/`` topics are more than the provisioning topics of ``templates``."""
    problems = []
    for index, statement in enumerate(_statements(document)):
        if statement.get("Effect") != "Allow":
            continue
        for arn in _listed(statement.get("Resource")):
            found = _TOPIC_RESOURCE.fullmatch(arn)
            if not found or not found.group(2).startswith("$aws/"):
                continue
            topic = found.group(2)
            owner = provisioning_topic_template(topic)
            where = f"statement {statement.get('Sid') or index}"
            if owner is None:
                problems.append(f"{where} names {topic}, which is not a provisioning API topic")
            elif owner and owner not in templates:
                problems.append(f"{where} names {topic}, the topic of template {owner!r}, which the plan does not declare")
    return problems


def _policy_names(template: Res) -> list[str] | None:
    try:
        body = json.loads(template.get("templateBody") or "")
    except (TypeError, ValueError):
        return None
    resources = body.get("Resources") if isinstance(body, dict) else None
    if not isinstance(resources, dict):
        return None
    names = []
    for resource in resources.values():
        if isinstance(resource, dict) and resource.get("Type") == "AWS::IoT::Policy":
            names.append((resource.get("Properties") or {}).get("PolicyName"))
    return names


def _activates(template: Res) -> bool:
    body = json.loads(template.get("templateBody") or "{}")
    return any(isinstance(r, dict) and r.get("Type") == "AWS::IoT::Certificate"
               and (r.get("Properties") or {}).get("Status") == "ACTIVE"
               for r in (body.get("Resources") or {}).values())


def check_provisioning(ch: Channel, f: Findings) -> None:
    """The provisioning path's findings, into the isolation check's ``f``."""
    templates = ch.of_type(T_TEMPLATE)
    names = {str(t.get("name")) for t in templates}
    for template in templates:
        f.involve(template.label)
        policies = {str(p.get("name")): p for p in ch.of_type(T_IOT_POLICY, template.stack)}
        attached = _policy_names(template)
        if attached is None:
            f.bad(f"provisioning template {template.label}: its templateBody is not a template the plan can read",
                  template.label)
            continue
        unknown = [n for n in attached if n not in policies]
        if not attached or unknown:
            f.bad(f"provisioning template {template.label} attaches {unknown or 'no'} IoT policy the plan declares "
                  "— devices would get a policy the isolation check has not seen; attach the channel's policy",
                  template.label)
        else:
            f.ok(f"provisioning template {template.label} attaches {', '.join(attached)} (checked above)",
                 *(policies[n].label for n in attached))
        if not _activates(template):
            f.bad(f"provisioning template {template.label} does not activate the certificate it registers",
                  template.label)
        if template.get("type") == "FLEET_PROVISIONING":
            hook = (template.get("preProvisioningHook") or {}).get("targetArn")
            function = ch.by_arn(hook)
            if function is None or function.type != T_LAMBDA:
                f.bad(f"provisioning template {template.label}: provisioning by claim without a pre-provisioning "
                      f"hook of the plan ({hook or 'none'}) admits every holder of the claim certificate",
                      template.label)
            else:
                f.ok(f"provisioning template {template.label} admits devices through hook {function.label}",
                     function.label)
    for ca in ch.of_type(T_CA_CERTIFICATE):
        f.involve(ca.label)
        config = ca.get("registrationConfig") or {}
        if ca.get("allowAutoRegistration") and (config.get("templateBody") or config.get("templateName") not in names):
            f.bad(f"CA certificate {ca.label} auto-registers devices through "
                  f"{'an inline template body' if config.get('templateBody') else repr(config.get('templateName'))}, "
                  "not a provisioning template of the plan", ca.label)
    for policy in ch.of_type(T_IOT_POLICY):
        try:
            document = json.loads(policy.get("policy") or "")
        except (TypeError, ValueError):
            continue  # the Connect part of isolation reports it
        for problem in claim_topic_problems(document, names):
            f.bad(f"IoT policy {policy.label}: {problem}", policy.label)
