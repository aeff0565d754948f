"""How ``channelctl verify`` reaches a stack's account and finds the real counterparts of planned resources.

The session is the one the program's provider would use (``components/providers.py``): the stack's
Region, its ``assumeRoleArn`` assumed with STS AssumeRole (session name ``channelctl-verify``), and
the caller's account pinned to the provider's ``allowedAccountIds``. Every client it hands out
refuses, before the request is signed, any call that is not a read (``Describe*``, ``Get*``,
``List*``), the canary's ``TestInvokeAuthorizer`` or Reachability Analyzer's paths and analyses.

Real IDs differ from the mock's, so a planned resource is found by what the program sets and AWS
keeps: its ``Name`` tag together with the provider's default tags ``project`` and ``stack``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

import boto3
from botocore import xform_name
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

from channelctl.plan.checks import Channel, CheckResult, PlannedStack, Res

SESSION_NAME = "channelctl-verify"

# The checks, in the order they run and print.
RESOURCES = "resources"
DNS = "dns"
AUTHORIZER = "authorizer"
REACHABILITY = "reachability"
CHECK_NAMES = (RESOURCES, DNS, AUTHORIZER, REACHABILITY)
PROVIDER_TYPE = "pulumi:providers:aws"

# What verify may call. Reads, plus the three probes the operator asked for: the canary's
# TestInvokeAuthorizer (it runs the authorizer Lambda, which counts a wrong password on the
# canary's record), and Reachability Analyzer's paths and analyses (objects of the analyzer,
# not infrastructure; verify deletes the ones it created). AssumeRole reads credentials.
READ_PREFIXES = ("Describe", "Get", "List")
PROBE_CALLS = frozenset({"AssumeRole", "TestInvokeAuthorizer"})
ANALYSIS_CALLS = frozenset({
    "CreateNetworkInsightsPath", "StartNetworkInsightsAnalysis",
    "DeleteNetworkInsightsAnalysis", "DeleteNetworkInsightsPath",
})

# Retries for throttled reads: verify reads every resource of a stack in a few seconds.
CLIENT_CONFIG = Config(retries={"mode": "standard", "max_attempts": 5}, user_agent_extra="channelctl-verify")


class AccountError(Exception):
    """The account cannot be reached as the stack's provider would reach it; the message says why and the fix."""


class CallFailed(Exception):
    """One AWS call failed; the message names the call, AWS's error code and message."""

    def __init__(self, message: str, code: str = ""):
        super().__init__(message)
        self.code = code


class CallRefused(Exception):
    """verify was about to make a call that changes the account: a bug, refused before it is sent."""


def allowed_call(operation: str) -> bool:
    return operation.startswith(READ_PREFIXES) or operation in PROBE_CALLS or operation in ANALYSIS_CALLS


def _refuse_writes(model: Any, **_: Any) -> None:
    if not allowed_call(model.name):
        raise CallRefused(f"channelctl verify does not call {model.service_model.service_name}:{model.name}: "
                          "it only reads")


@dataclass(frozen=True)
class ProviderSettings:
    """What the stack's explicit aws provider is given (the rendered provider's inputs)."""

    account_id: str
    region: str
    role_arn: str | None
    allowed_account_ids: tuple[str, ...]
    default_tags: Mapping[str, str]


def _decoded(value: Any) -> Any:
    """Provider inputs arrive JSON-encoded from the engine (``assumeRoles``, ``defaultTags``)."""
    if isinstance(value, str) and value[:1] in "[{":
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def provider_settings(stack: PlannedStack) -> ProviderSettings:
    provider = next((r for r in stack.rendered.resources if r.type == PROVIDER_TYPE), None)
    inputs = provider.inputs if provider is not None else {}
    roles = _decoded(inputs.get("assumeRoles")) or []
    role_arn = next((r.get("roleArn") for r in roles if isinstance(r, Mapping) and r.get("roleArn")), None)
    if provider is None:
        role_arn = stack.config.get("assumeRoleArn") or None
    allowed = _decoded(inputs.get("allowedAccountIds")) or [stack.account_id]
    tags = (_decoded(inputs.get("defaultTags")) or {}).get("tags") or {}
    return ProviderSettings(
        account_id=stack.account_id,
        region=str(inputs.get("region") or stack.region),
        role_arn=str(role_arn) if role_arn else None,
        allowed_account_ids=tuple(str(a) for a in allowed),
        default_tags={str(k): str(v) for k, v in tags.items()},
    )


@dataclass
class Account:
    """One stack's account: clients with the stack's credentials and Region, made from ``base``.

    Clients come from the base session (with the assumed role's credentials passed in), so event
    handlers registered on the base session (tests record every call there) see every call.
    """

    stack: str
    settings: ProviderSettings
    base: boto3.Session
    credentials: Mapping[str, str] | None = None
    caller_arn: str = ""
    _clients: dict[str, Any] = field(default_factory=dict)

    @property
    def account_id(self) -> str:
        return self.settings.account_id

    @property
    def region(self) -> str:
        return self.settings.region

    def client(self, service: str) -> Any:
        if service not in self._clients:
            client = self.base.client(service, region_name=self.region, config=CLIENT_CONFIG,
                                      **dict(self.credentials or {}))
            client.meta.events.register_first("before-call", _refuse_writes)
            self._clients[service] = client
        return self._clients[service]

    def call(self, service: str, operation: str, **params: Any) -> dict[str, Any]:
        """One call; a failure becomes CallFailed naming the call."""
        client = self.client(service)
        try:
            return getattr(client, _snake(operation))(**params)
        except ClientError as exc:
            raise _failed(service, operation, exc) from None
        except BotoCoreError as exc:
            raise CallFailed(f"{service}:{operation}: {exc}") from None

    def pages(self, service: str, operation: str, key: str, **params: Any) -> list[Any]:
        """Every item of a listing, across its pages."""
        client = self.client(service)
        name = _snake(operation)
        try:
            if client.can_paginate(name):
                items: list[Any] = []
                for page in client.get_paginator(name).paginate(**params):
                    items += page.get(key) or []
                return items
        except ClientError as exc:
            raise _failed(service, operation, exc) from None
        except BotoCoreError as exc:
            raise CallFailed(f"{service}:{operation}: {exc}") from None
        return self.call(service, operation, **params).get(key) or []


def _failed(service: str, operation: str, exc: ClientError) -> CallFailed:
    error = exc.response.get("Error", {})
    code = str(error.get("Code", "?"))
    message = str(error.get("Message", "")).strip()
    return CallFailed(f"{service}:{operation}: {code}" + (f" ({message})" if message else ""), code)


def _snake(operation: str) -> str:
    return xform_name(operation)


def open_account(stack: PlannedStack, base: boto3.Session) -> Account:
    """The stack's account as its provider reaches it; AccountError when it cannot be reached."""
    settings = provider_settings(stack)
    account = Account(stack=stack.name, settings=settings, base=base)
    what = f"stack {stack.name}"
    try:
        if settings.role_arn:
            sts = account.client("sts")
            creds = sts.assume_role(RoleArn=settings.role_arn, RoleSessionName=SESSION_NAME)["Credentials"]
            account.credentials = {
                "aws_access_key_id": creds["AccessKeyId"],
                "aws_secret_access_key": creds["SecretAccessKey"],
                "aws_session_token": creds["SessionToken"],
            }
            account._clients.clear()
        identity = account.client("sts").get_caller_identity()
    except NoCredentialsError:
        raise AccountError(f"{what}: no AWS credentials to start from — sign in (AWS_PROFILE, SSO or environment "
                           "credentials) with a principal allowed to assume "
                           f"{settings.role_arn or 'a role of account ' + settings.account_id}")
    except ClientError as exc:
        error = exc.response.get("Error", {})
        step = f"AssumeRole {settings.role_arn}" if settings.role_arn and not account.credentials else "GetCallerIdentity"
        raise AccountError(f"{what}: {step} refused ({error.get('Code', '?')}: {error.get('Message', '')}) — use "
                           "credentials allowed to assume the stack's assumeRoleArn")
    except BotoCoreError as exc:
        raise AccountError(f"{what}: AWS cannot be reached: {exc}")
    account.caller_arn = str(identity.get("Arn", ""))
    reached = str(identity.get("Account", ""))
    if reached not in settings.allowed_account_ids:
        raise AccountError(f"{what}: the credentials reach account {reached}, but the stack is pinned to "
                           f"{', '.join(settings.allowed_account_ids)} (accountId) — use credentials of that account "
                           "or set assumeRoleArn")
    return account


def partition_of(region: str) -> str:
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


def joined(values: Any) -> str:
    """Addresses or IDs, sorted, for a message."""
    return ", ".join(sorted(values)) or "none"


def tags_of(item: Mapping[str, Any]) -> dict[str, str]:
    return {t.get("Key", ""): t.get("Value", "") for t in item.get("Tags") or []}


def name_tag(res: Res) -> str | None:
    tags = res.r.inputs.get("tags") or {}
    return tags.get("Name") if isinstance(tags, Mapping) else None


@dataclass
class Target:
    """What one verify run works on: the plan's channel, the stack, its account, and shared look-ups."""

    channel: Channel
    stack: PlannedStack
    account: Account
    open_peer: Callable[[PlannedStack], Account]
    cache: dict[Any, Any] = field(default_factory=dict)

    def up(self, role: str | None = None, step: int | None = None) -> str:
        """The fix that applies the program again: `pulumi up` on a stack, with its release step."""
        stack = self.stack if role is None else (self.stack_of_role(role) or self.stack)
        return (f"release step {step}: " if step else "") + f"`pulumi up` on stack {stack.name}"

    def res(self, token: str, stack: PlannedStack | None = None) -> list[Res]:
        return self.channel.of_type(token, stack or self.stack)

    def stack_of_role(self, role: str) -> PlannedStack | None:
        return self.channel.single(role)

    def owned(self, item: Mapping[str, Any], name: str | None) -> bool:
        """A real resource carries the planned Name tag and the provider's project and stack tags."""
        tags = tags_of(item)
        if name is not None and tags.get("Name") != name:
            return False
        wanted = self.account.settings.default_tags
        return all(tags.get(key) == wanted[key] for key in ("project", "stack") if key in wanted)

    def once(self, key: Any, read: Callable[[], Any]) -> Any:
        if key not in self.cache:
            self.cache[key] = read()
        return self.cache[key]

    # -- look-ups of real resources --------------------------------------------------------------
    def vpc(self, mock_id: Any) -> dict[str, Any] | None:
        """The real VPC behind a planned VPC ID of this stack, by its Name tag."""
        res = self.channel.vpc(mock_id)
        if res is None or res.stack is not self.stack:
            return None
        name = name_tag(res)
        found = self.once(("vpc", name), lambda: [
            v for v in self.account.pages("ec2", "DescribeVpcs", "Vpcs", Filters=[{"Name": "tag:Name", "Values": [name]}])
            if self.owned(v, name)
        ])
        return found[0] if len(found) == 1 else None

    def endpoints_in(self, vpc_id: str) -> list[dict[str, Any]]:
        return self.once(("endpoints", vpc_id), lambda: self.account.pages(
            "ec2", "DescribeVpcEndpoints", "VpcEndpoints", Filters=[{"Name": "vpc-id", "Values": [vpc_id]}]))

    def endpoint(self, res: Res) -> dict[str, Any] | None:
        """The real endpoint: by Name tag in the real VPC; an untagged one (gateway) by service and type."""
        vpc = self.vpc(res.get("vpcId"))
        if vpc is None:
            return None
        name = name_tag(res)
        kind = str(res.get("vpcEndpointType") or "Gateway").lower()
        live = [e for e in self.endpoints_in(vpc["VpcId"]) if e.get("State", "").lower() != "deleted"]
        if name is not None:
            found = [e for e in live if self.owned(e, name)]
        else:
            found = [e for e in live if e.get("ServiceName") == res.get("serviceName")
                     and str(e.get("VpcEndpointType", "")).lower() == kind]
        return found[0] if len(found) == 1 else None

    def eni_ips(self, eni_ids: list[str]) -> dict[str, str]:
        """Network interface ID -> its primary private IPv4 address."""
        if not eni_ids:
            return {}
        key = ("enis", tuple(sorted(eni_ids)))
        enis = self.once(key, lambda: self.account.pages(
            "ec2", "DescribeNetworkInterfaces", "NetworkInterfaces", NetworkInterfaceIds=sorted(eni_ids)))
        return {e["NetworkInterfaceId"]: e.get("PrivateIpAddress", "") for e in enis}

    def tgw_vpc_attachments(self) -> list[dict[str, Any]]:
        return self.once("tgw-vpc-attachments", lambda: self.account.pages(
            "ec2", "DescribeTransitGatewayVpcAttachments", "TransitGatewayVpcAttachments"))

    def load_balancer(self, res: Res) -> dict[str, Any] | None:
        """The real load balancer of a planned one (auto-named by Pulumi), by its Name tag."""
        name = name_tag(res)

        def read() -> list[dict[str, Any]]:
            balancers = self.account.pages("elbv2", "DescribeLoadBalancers", "LoadBalancers")
            arns = [lb["LoadBalancerArn"] for lb in balancers]
            tags: dict[str, Any] = {}
            for start in range(0, len(arns), 20):  # DescribeTags takes at most 20 ARNs
                got = self.account.call("elbv2", "DescribeTags", ResourceArns=arns[start:start + 20])
                tags.update({d["ResourceArn"]: d for d in got.get("TagDescriptions") or []})
            return [lb for lb in balancers if self.owned(tags.get(lb["LoadBalancerArn"], {}), name)]

        found = self.once(("lb", name), read)
        return found[0] if len(found) == 1 else None

    def load_balancer_ips(self, balancer: Mapping[str, Any]) -> list[str]:
        """A load balancer's private addresses: its network interfaces are described "ELB <arn suffix>"."""
        suffix = str(balancer["LoadBalancerArn"]).split(":loadbalancer/", 1)[-1]
        enis = self.once(("lb-enis", suffix), lambda: self.account.pages(
            "ec2", "DescribeNetworkInterfaces", "NetworkInterfaces",
            Filters=[{"Name": "description", "Values": [f"ELB {suffix}"]}]))
        return sorted(e.get("PrivateIpAddress", "") for e in enis)

    def zones_named(self, name: str) -> list[dict[str, Any]]:
        """Private hosted zones of this account named ``name``, each with its VPCs (GetHostedZone)."""
        fqdn = name.rstrip(".").lower() + "."

        def read() -> list[dict[str, Any]]:
            listed = self.account.call("route53", "ListHostedZonesByName", DNSName=fqdn, MaxItems="100")
            zones = []
            for zone in listed.get("HostedZones") or []:
                if zone.get("Name", "").lower() == fqdn and (zone.get("Config") or {}).get("PrivateZone"):
                    got = self.account.call("route53", "GetHostedZone", Id=zone["Id"])
                    zones.append(got.get("HostedZone", zone) | {"VPCs": got.get("VPCs") or []})
            return zones

        return self.once(("zones", fqdn), read)

    def zone_for(self, res: Res) -> dict[str, Any] | None:
        """The real zone of a planned zone: its name, private, associated with the stack's own VPC."""
        own = [v for v in (self.vpc(a.get("vpcId")) for a in res.get("vpcs") or []) if v]
        zones = self.zones_named(str(res.get("name")))
        if own:
            ids = {v["VpcId"] for v in own}
            serving = [z for z in zones if ids & {v.get("VPCId") for v in z["VPCs"]}]
            if serving:
                zones = serving
        return zones[0] if len(zones) == 1 else None


def result_not_run(name: str, reason: str) -> CheckResult:
    """A check that was not run: passed (it found nothing wrong), and the verdict says it was not run."""
    return NotRun(name=name, passed=True, detail=f"not run: {reason}", not_run=reason)


@dataclass(frozen=True)
class NotRun(CheckResult):
    """A CheckResult for a check verify did not run, with why."""

    not_run: str = ""

    @property
    def status(self) -> str:
        return "NOT RUN"

    def to_json(self) -> dict[str, Any]:
        return super().to_json() | {"notRun": self.not_run}
