"""What ``channelctl discover`` reads from each role's account, and the reads themselves.

The quotas are named here once, for the reader (``discover``) and for the read-only policy that
allows it (``discover_policy``); which endpoint services, roles, log groups and certificates are read
follows from the stack's config, and the policy grants those reads without naming them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from components import aws_limits


@dataclass(frozen=True)
class QuotaRead:
    """One Service Quotas quota; ``name``, when set, must be the QuotaName AWS answers with."""

    service_code: str
    quota_code: str
    name: str | None = None

    @property
    def key(self) -> str:
        """The quota's key in the ``quotas`` fact: ``<service code>/<quota code>``."""
        return f"{self.service_code}/{self.quota_code}"


# The quotas the plan's checks size against (components/aws_limits.py), in every role's account:
# every stack has security groups and interface endpoints, and a Lambda concurrency quota of 10 in a
# new account is worth knowing wherever a function may run.
COMMON_QUOTAS = (
    QuotaRead(aws_limits.VPC_QUOTA_SERVICE_CODE, aws_limits.SG_RULES_QUOTA_CODE),
    QuotaRead(aws_limits.VPC_QUOTA_SERVICE_CODE, aws_limits.INTERFACE_ENDPOINTS_QUOTA_CODE),
    QuotaRead(aws_limits.LAMBDA_QUOTA_SERVICE_CODE, aws_limits.LAMBDA_CONCURRENCY_QUOTA_CODE),
)
# The iot stack's account also carries IoT Core's connect rate. Its code is not in an AWS document
# (aws_limits), so the name AWS answers with is checked.
IOT_QUOTAS = (
    QuotaRead(aws_limits.IOT_CONNECT_QUOTA_SERVICE_CODE, aws_limits.IOT_CONNECT_QUOTA_CODE,
              aws_limits.IOT_CONNECT_QUOTA_NAME),
)


def quotas_for(role: str) -> tuple[QuotaRead, ...]:
    """The quotas discover reads in a stack of ``role``."""
    return COMMON_QUOTAS + (IOT_QUOTAS if role == "iot" else ())


def error_code(exc: Exception) -> str:
    response = getattr(exc, "response", None) or {}
    return str(response.get("Error", {}).get("Code", ""))


RAM_PRINCIPAL = "ram.amazonaws.com"


# --------------------------------------------------------------------------- #
# The reads, one per fact: each takes its client(s) and lets a failure through
# (discover turns it into an unknown fact); only an answer that means "none" is a value.
# --------------------------------------------------------------------------- #


def zones(ec2: Any) -> list[dict[str, str]]:
    # Local and Wavelength Zones the account opted into come back too: only availability zones count.
    answer = ec2.describe_availability_zones()["AvailabilityZones"]
    return sorted(({"name": z["ZoneName"], "id": z["ZoneId"]} for z in answer
                   if z.get("State") == "available" and z.get("ZoneType", "availability-zone") == "availability-zone"),
                  key=lambda z: z["name"])


def service_zones(ec2: Any, services: list[str]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for service in services:
        try:
            details = ec2.describe_vpc_endpoint_services(ServiceNames=[service])["ServiceDetails"]
        except Exception as exc:
            if error_code(exc) != "InvalidServiceName":
                raise
            details = []  # not offered in this Region (or, for an endpoint service, not to this account)
        # S3 is offered as a gateway and as an interface service under one name: the interface's zones count.
        found[service] = sorted({zone for d in details if d.get("ServiceName") == service
                                 and any(t.get("ServiceType") == "Interface" for t in d.get("ServiceType", []))
                                 for zone in d.get("AvailabilityZones", [])})
    return found


def quotas(client: Any, wanted: tuple[QuotaRead, ...]) -> dict[str, dict[str, Any]]:
    return {q.key: quota(client, q) for q in wanted}


def quota(client: Any, read: QuotaRead) -> dict[str, Any]:
    def get(operation: Callable[..., Any]) -> dict[str, Any] | None:
        try:
            return operation(ServiceCode=read.service_code, QuotaCode=read.quota_code)["Quota"]
        except Exception as exc:
            if error_code(exc) != "NoSuchResourceException":
                raise
            return None

    applied = get(client.get_service_quota)  # None: the account has no value of its own
    default = get(client.get_aws_default_service_quota)
    answer = applied or default
    if answer is None:
        return {"unknown": f"NoSuchResourceException: Service Quotas has no quota {read.key} in this Region"}
    if read.name is not None and answer.get("QuotaName") != read.name:
        return {"unknown": f"quota {read.key} is named {answer.get('QuotaName')!r}, not {read.name!r}: "
                           "not the quota the checks need"}
    return {"value": number(answer.get("Value")), "default": number(default.get("Value")) if default else None,
            "applied": applied is not None}


def number(value: Any) -> Any:
    return int(value) if isinstance(value, float) and value.is_integer() else value


def roles(iam: Any, arns: list[str]) -> dict[str, bool]:
    found: dict[str, bool] = {}
    for arn in arns:
        try:
            role = iam.get_role(RoleName=arn.rsplit("/", 1)[-1])["Role"]
        except Exception as exc:
            if error_code(exc) != "NoSuchEntity":
                raise
            role = None
        # Same name under another path is another role.
        found[arn] = role is not None and role.get("Arn") == arn
    return found


def log_groups(logs: Any, names: list[str]) -> dict[str, bool]:
    found: dict[str, bool] = {}
    for name in names:
        pages = logs.get_paginator("describe_log_groups").paginate(logGroupNamePrefix=name)
        found[name] = any(g.get("logGroupName") == name for page in pages for g in page.get("logGroups", []))
    return found


def ram_sharing(organizations: Any) -> bool:
    # RAM has no call that says whether sharing with the organization is on; AWS documents it as RAM's
    # trusted access in Organizations. Only the management account (or a delegated administrator) may
    # ask; elsewhere the answer is AccessDenied and the fact stays unknown.
    try:
        pages = organizations.get_paginator("list_aws_service_access_for_organization").paginate()
        return any(p.get("ServicePrincipal") == RAM_PRINCIPAL for page in pages
                   for p in page.get("EnabledServicePrincipals", []))
    except Exception as exc:
        if error_code(exc) == "AWSOrganizationsNotInUseException":
            return False  # no organization: nothing to share with
        raise


def direct_connect(dx: Any, connection_id: str | None) -> dict[str, dict[str, str | None]]:
    connections: dict[str, str | None] = {}
    if connection_id:
        answer = dx.describe_connections(connectionId=connection_id).get("connections", [])
        states = {c.get("connectionId"): c.get("connectionState") for c in answer}
        connections[connection_id] = states.get(connection_id)
    pages = dx.get_paginator("describe_direct_connect_gateways").paginate()
    gateways = {g["directConnectGatewayId"]: g.get("directConnectGatewayState")
                for page in pages for g in page.get("directConnectGateways", [])}
    return {"connections": connections, "gateways": dict(sorted(gateways.items()))}


def invitations(ram: Any) -> list[dict[str, Any]]:
    pages = ram.get_paginator("get_resource_share_invitations").paginate()
    return [{"arn": i.get("resourceShareInvitationArn"), "shareArn": i.get("resourceShareArn"),
             "status": i.get("status"), "sender": i.get("senderAccountId")}
            for page in pages for i in page.get("resourceShareInvitations", []) if i.get("status") == "PENDING"]


def certificates(clients: Callable[..., Any], arns: list[str]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for arn in arns:
        region = arn.split(":")[3]  # a certificate lives in its ARN's Region
        try:
            certificate = clients("acm", region).describe_certificate(CertificateArn=arn)["Certificate"]
        except Exception as exc:
            if error_code(exc) != "ResourceNotFoundException":
                raise
            found[arn] = {"status": None, "names": [], "region": region}
            continue
        names = [certificate.get("DomainName"), *certificate.get("SubjectAlternativeNames", [])]
        found[arn] = {"status": certificate.get("Status"), "names": sorted({n for n in names if n}), "region": region}
    return found


def iot_logging(iot: Any) -> dict[str, Any] | None:
    try:
        answer = iot.get_v2_logging_options()
    except Exception as exc:
        if error_code(exc) == "NotConfiguredException":
            return None  # never configured: logging is off
        raise
    return {"enabled": not answer.get("disableAllLogs", False), "defaultLogLevel": answer.get("defaultLogLevel"),
            "roleArn": answer.get("roleArn")}
