"""CrossGuard stack rules that keep the channel observable: every VPC has a flow log of all
traffic, and a stack that builds AWS IoT Core resources turns IoT Core logging on.

Stack rules see every resource of the stack at once. A flow log names its VPC through an input
that depends on the VPC (``vpc_id=vpc.id``), so the rule relates the two by that dependency,
which is known during ``pulumi preview`` as well, and by the VPC's ID once it exists.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from pulumi_policy import EnforcementLevel, PolicyResource, StackValidationArgs, StackValidationPolicy

VPC = "aws:ec2/vpc:Vpc"
FLOW_LOG = "aws:ec2/flowLog:FlowLog"
IOT_LOGGING = "aws:iot/loggingOptions:LoggingOptions"
# The IoT Core resources that make a stack an IoT stack (pulumi-aws 7 type tokens).
IOT_RESOURCES = ("aws:iot/policy:Policy", "aws:iot/authorizer:Authorizer", "aws:iot/domainConfiguration:DomainConfiguration")


def _get(res: PolicyResource, key: str) -> Any:
    try:
        return res.props.get(key) if hasattr(res.props, "get") else res.props[key]
    except (KeyError, TypeError):
        return None


def check_vpc_flow_logs(resources: Sequence[PolicyResource]) -> list[str]:
    """One message per VPC without a flow log of ALL traffic."""
    logs = [r for r in resources if r.resource_type == FLOW_LOG and _get(r, "trafficType") == "ALL"]
    messages = []
    for vpc in (r for r in resources if r.resource_type == VPC):
        vpc_id = _get(vpc, "id")
        covered = any(
            any(dep.urn == vpc.urn for dep in _vpc_dependencies(fl)) or (vpc_id and _get(fl, "vpcId") == vpc_id)
            for fl in logs
        )
        if not covered:
            messages.append(f"VPC '{vpc.name}' has no flow log of all traffic (aws.ec2.FlowLog, traffic_type ALL)")
    return messages


def _vpc_dependencies(flow_log: PolicyResource) -> Iterable[PolicyResource]:
    deps = (flow_log.property_dependencies or {}).get("vpcId")
    return deps if deps else (flow_log.dependencies or [])


def check_iot_logging(resources: Sequence[PolicyResource]) -> list[str]:
    """A stack with IoT Core resources keeps IoT Core logging on."""
    if not any(r.resource_type in IOT_RESOURCES for r in resources):
        return []
    options = [r for r in resources if r.resource_type == IOT_LOGGING]
    if not options:
        return ["the stack builds AWS IoT Core resources but no aws.iot.LoggingOptions: IoT Core logs nothing"]
    messages = []
    for opt in options:
        if _get(opt, "disableAllLogs") is True or _get(opt, "defaultLogLevel") in (None, "DISABLED"):
            messages.append(f"IoT Core logging '{opt.name}' is disabled (defaultLogLevel "
                            f"{_get(opt, 'defaultLogLevel')!r}, disableAllLogs {_get(opt, 'disableAllLogs')!r})")
    return messages


def _stack_policy(name: str, description: str, check) -> StackValidationPolicy:
    def validate(args: StackValidationArgs, report_violation) -> None:
        for message in check(args.resources):
            report_violation(message, None)

    return StackValidationPolicy(
        name=name, description=description, validate=validate, enforcement_level=EnforcementLevel.MANDATORY
    )


vpc_flow_logs = _stack_policy(
    "vpc-flow-logs", "Every VPC has a flow log of all traffic (accepted and rejected).", check_vpc_flow_logs
)
iot_logging_on = _stack_policy(
    "iot-logging-on",
    "A stack that builds AWS IoT Core resources sets IoT Core logging (LoggingOptions) to a level other than DISABLED.",
    check_iot_logging,
)

STACK_RULES: tuple[StackValidationPolicy, ...] = (vpc_flow_logs, iot_logging_on)
