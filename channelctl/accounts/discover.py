"""`channelctl discover STACK`: read what one stack's AWS account already is into a facts file.

Read-only: only Describe*, Get* and List* calls (plus STS ``AssumeRole`` and ``GetCallerIdentity``),
through the stack's own provider settings — region ``region``, and ``assumeRoleArn`` assumed with the
session name ``channelctl-discover`` when set (``components/providers.py`` builds the program's
provider from the same keys). ``discover_policy`` is the policy that allows exactly these reads.

A read that fails — access denied, throttled after botocore's own retries, an API the Region does
not offer, no connection — becomes an unknown fact with a one-line reason (``AccessDenied: ...``),
and the rest is still read and written; the file format is ``channelctl.accounts.facts``. Bad input
(unknown stack, bad ``--cwd``, no credentials, credentials of another account) exits 2 with one line.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Callable, Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Protocol

from channelctl.accounts.facts import (
    FACT_CERTIFICATES,
    FACT_DIRECT_CONNECT,
    FACT_IOT_LOGGING,
    FACT_LOG_GROUPS,
    FACT_MANAGEMENT_TRAILS,
    FACT_QUOTAS,
    FACT_RAM_INVITATIONS,
    FACT_RAM_ORGANIZATION,
    FACT_ROLES,
    FACT_SERVICE_ZONES,
    FACT_ZONES,
    Fact,
    Facts,
    default_path,
    write_facts,
)
from channelctl.accounts import reads, trails
from channelctl.accounts.reads import quotas_for
from channelctl.project import ProjectError, StackFile, load_project, misplaced_keys

EXIT_OK = 0
EXIT_BAD_INPUT = 2
SESSION_NAME = "channelctl-discover"
REASON_MAX_CHARS = 300
# An endpoint service's name as CreateVpcEndpointServiceConfiguration gives it.
ENDPOINT_SERVICE_NAME = re.compile(r"^com\.amazonaws\.vpce\.[a-z0-9-]+\.vpce-svc-[0-9a-f]{8,17}\Z")
# Error codes AWS services answer a throttled request with (botocore retries them first).
THROTTLING_CODES = frozenset({
    "Throttling", "ThrottlingException", "ThrottledException", "RequestThrottledException", "RequestThrottled",
    "TooManyRequestsException", "RequestLimitExceeded", "ProvisionedThroughputExceededException", "SlowDown",
})


class ClientSource(Protocol):
    """What a boto3 ``Session`` offers discover: clients."""

    def client(self, service_name: str, *, region_name: str | None = None, config: Any = None) -> Any: ...


# Called with None for the caller's own credentials, or with the ``Credentials`` STS AssumeRole
# returned; tests inject one that points every client at moto on 127.0.0.1 or stubs it.
SessionFactory = Callable[[Mapping[str, Any] | None], ClientSource]


def default_session_factory(credentials: Mapping[str, Any] | None = None) -> ClientSource:
    """boto3's default credential chain, or the assumed role's temporary credentials."""
    import boto3

    if credentials is None:
        return boto3.Session()
    return boto3.Session(
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
    )


def client_config() -> Any:
    """botocore's standard retry mode (throttling and transient errors retried with backoff), bounded
    timeouts, and a user agent that names the command in CloudTrail."""
    from botocore.config import Config

    return Config(retries={"mode": "standard", "max_attempts": 3}, connect_timeout=10, read_timeout=30,
                  user_agent_extra="channelctl-discover")


class DiscoverInputError(Exception):
    """Input discover cannot work with (config, credentials, option); the message is one line with the fix."""


# --------------------------------------------------------------------------- #
# The core
# --------------------------------------------------------------------------- #


def discover(stack_file: StackFile, session_factory: SessionFactory = default_session_factory, *,
             endpoint_service: str | None = None, now: datetime | None = None, assume_role: bool = True) -> Facts:
    """Read the facts of ``stack_file``'s account, read-only, through ``session_factory``'s clients.

    ``assume_role=False`` reads with the caller's own credentials even when the stack names an
    ``assumeRoleArn`` (a pull request's read-only role, already in the stack's account, may not
    assume the deployer role); the credentials must still be for the stack's account."""
    config = stack_config(stack_file)
    common = config.common
    if endpoint_service is not None:
        if common.role != "consumer":
            raise DiscoverInputError(
                f"--endpoint-service is for consumer stacks; {stack_file.name} is a {common.role} stack — leave it out")
        if not ENDPOINT_SERVICE_NAME.match(endpoint_service):
            raise DiscoverInputError(
                f"--endpoint-service {endpoint_service!r} is not an endpoint service name — give the iot stack's "
                "endpointServiceName export, like com.amazonaws.vpce.us-west-2.vpce-svc-0123456789abcdef0")
    clients = _Clients(session_factory, common.region)
    account = clients.connect(common.assume_role_arn if assume_role else None, common.account_id)
    read = clients.read
    facts: dict[str, Fact] = {
        FACT_ZONES: read("ec2:DescribeAvailabilityZones", lambda: reads.zones(clients("ec2"))),
        FACT_QUOTAS: read("servicequotas:GetServiceQuota, servicequotas:GetAWSDefaultServiceQuota",
                          lambda: reads.quotas(clients("service-quotas"), quotas_for(common.role))),
        FACT_ROLES: read("iam:GetRole", lambda: reads.roles(clients("iam"), role_arns(config))),
    }
    services = endpoint_services(config, endpoint_service)
    if services is not None:
        facts[FACT_SERVICE_ZONES] = read("ec2:DescribeVpcEndpointServices",
                                         lambda: reads.service_zones(clients("ec2"), services))
    elif common.role == "consumer":
        facts[FACT_SERVICE_ZONES] = Fact(
            unknown="no --endpoint-service given: the iot stack's endpoint service exists only after that stack is "
                    "deployed — run again with --endpoint-service <the iot stack's endpointServiceName>",
            source="ec2:DescribeVpcEndpointServices")
    groups = log_group_names(config)
    if groups:
        facts[FACT_LOG_GROUPS] = read("logs:DescribeLogGroups", lambda: reads.log_groups(clients("logs"), groups))
    if common.role == "network":
        facts[FACT_RAM_ORGANIZATION] = read("organizations:ListAWSServiceAccessForOrganization",
                                            lambda: reads.ram_sharing(clients("organizations")))
        facts[FACT_DIRECT_CONNECT] = read(
            "directconnect:DescribeConnections, directconnect:DescribeDirectConnectGateways",
            lambda: reads.direct_connect(clients("directconnect"), config.direct_connect.connection_id))
    if common.role == "iot":
        facts[FACT_RAM_INVITATIONS] = read("ram:GetResourceShareInvitations", lambda: reads.invitations(clients("ram")))
        if config.custom_domain_certificate_arn:
            arn = config.custom_domain_certificate_arn
            facts[FACT_CERTIFICATES] = read("acm:DescribeCertificate", lambda: reads.certificates(clients, [arn]))
        facts[FACT_IOT_LOGGING] = read("iot:GetV2LoggingOptions", lambda: reads.iot_logging(clients("iot")))
        # Only the iot stack declares a rule on CloudTrail's events (the credentials key's change alarm).
        facts[FACT_MANAGEMENT_TRAILS] = read(
            "cloudtrail:DescribeTrails, cloudtrail:GetTrailStatus, cloudtrail:GetEventSelectors",
            lambda: trails.management_trails(clients, common.region))
    ordered = {name: facts[name] for name in _FACT_ORDER if name in facts}
    return Facts(stack=stack_file.name, account=account, region=common.region,
                 read_at=(now or datetime.now(timezone.utc)).replace(microsecond=0), facts=ordered)


_FACT_ORDER = (FACT_ZONES, FACT_SERVICE_ZONES, FACT_QUOTAS, FACT_RAM_ORGANIZATION, FACT_RAM_INVITATIONS, FACT_ROLES,
               FACT_CERTIFICATES, FACT_DIRECT_CONNECT, FACT_LOG_GROUPS, FACT_IOT_LOGGING, FACT_MANAGEMENT_TRAILS)


def stack_config(stack_file: StackFile) -> Any:
    """The stack's typed config, as the program reads it (``components.config.load_config``)."""
    from components.config import ConfigError, load_config

    try:
        return load_config(stack_file.config, stack=stack_file.name)
    except ConfigError as exc:
        raise DiscoverInputError(f"{stack_file.path.name}: {exc}") from None


def role_arns(config: Any) -> list[str]:
    """Every IAM role ARN the stack's config names: ``assumeRoleArn`` and the iot stack's
    ``authorizer.operatorRoleArns`` and ``authorizer.keyAdminArns`` (the keys components/config checks
    against the role-ARN format)."""
    arns = [config.common.assume_role_arn] if config.common.assume_role_arn else []
    authorizer = getattr(config, "authorizer", None)
    if authorizer is not None:
        arns += list(authorizer.operator_role_arns) + list(authorizer.key_admin_arns)
    return list(dict.fromkeys(arns))


def endpoint_services(config: Any, endpoint_service: str | None) -> list[str] | None:
    """The interface-endpoint services whose zones the stack's subnets must match, or None when there
    is none to read. The network stack declares no interface endpoint (its VPC reaches AWS through
    nothing but the Transit Gateway); the iot stack's are iot.data and what
    ``gatekeeper_interface_endpoints`` adds; a consumer's is the iot stack's endpoint service."""
    role, region = config.common.role, config.common.region
    if role == "iot":
        from components.config import gatekeeper_interface_endpoints

        others = gatekeeper_interface_endpoints(credentials=config.enable_credentials_endpoint,
                                                greengrass=config.enable_greengrass_endpoint,
                                                access=config.device_access)
        return [f"com.amazonaws.{region}.{service}" for service in ["iot.data", *others]]
    if role == "consumer" and endpoint_service:
        return [endpoint_service]
    return None


def log_group_names(config: Any) -> list[str]:
    """The log groups the stack creates with a name of its own. The flow-log and Resolver query-log
    groups (components/network_evidence.py) are named by Pulumi (auto-name: a random suffix), so no
    name exists to look for before they do; they are left out."""
    if config.common.role != "iot":
        return []
    names = []
    if config.common.monitoring.enabled:
        from components.fleet_monitoring import IOT_LOG_GROUP

        names.append(IOT_LOG_GROUP)
    if config.authorizer.enabled:
        from components.custom_authorizer import authorizer_function_name

        names.append(f"/aws/lambda/{authorizer_function_name(config.common.stack)}")
    return names


# --------------------------------------------------------------------------- #
# Clients and failures
# --------------------------------------------------------------------------- #


def _credential_errors() -> tuple[type[Exception], ...]:
    import botocore.exceptions as errors

    names = ("NoCredentialsError", "PartialCredentialsError", "ProfileNotFound", "CredentialRetrievalError",
             "SSOTokenLoadError", "UnauthorizedSSOTokenError", "TokenRetrievalError", "NoAuthTokenError")
    return tuple(getattr(errors, name) for name in names if hasattr(errors, name))


_NO_CREDENTIALS = ("set AWS_PROFILE to a configured profile, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY "
                   "(and AWS_SESSION_TOKEN), for a principal of the stack's account or one that may assume its "
                   "assumeRoleArn")


class _Clients:
    """One client per (service, region), from the assumed role's session once ``connect`` ran."""

    def __init__(self, session_factory: SessionFactory, region: str):
        self.session_factory = session_factory
        self.region = region
        self.config = client_config()
        self.session: ClientSource | None = None
        self.cache: dict[tuple[str, str], Any] = {}

    def __call__(self, service: str, region: str | None = None) -> Any:
        key = (service, region or self.region)
        if key not in self.cache:
            assert self.session is not None, "connect() first"
            self.cache[key] = self.session.client(service, region_name=key[1], config=self.config)
        return self.cache[key]

    def connect(self, assume_role_arn: str | None, account_id: str) -> str:
        """Assume the stack's role when it names one; the account the credentials are for, which
        must be the stack's (as ``allowed_account_ids`` pins the program's provider)."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            base = self.session_factory(None)
            if assume_role_arn:
                sts = base.client("sts", region_name=self.region, config=self.config)
                try:
                    credentials = sts.assume_role(RoleArn=assume_role_arn, RoleSessionName=SESSION_NAME)["Credentials"]
                except ClientError as exc:
                    raise DiscoverInputError(
                        f"cannot assume assumeRoleArn {assume_role_arn}: {failure_reason(exc)} — use credentials the "
                        "role's trust policy admits") from None
                self.session = self.session_factory(credentials)
            else:
                self.session = base
            identity = self("sts").get_caller_identity()
        except _credential_errors() as exc:
            raise DiscoverInputError(f"no usable AWS credentials ({one_line(str(exc))}) — {_NO_CREDENTIALS}") from None
        except (ClientError, BotoCoreError) as exc:
            raise DiscoverInputError(
                f"sts:GetCallerIdentity in {self.region} failed: {failure_reason(exc)} — check the credentials "
                "and the network path to AWS") from None
        account = str(identity["Account"])
        if account != account_id:
            raise DiscoverInputError(
                f"the credentials are for account {account}, the stack's accountId is {account_id} — use credentials "
                f"of {account_id}, or set assumeRoleArn to a role there")
        return account

    def read(self, source: str, reader: Callable[[], Any]) -> Fact:
        """The fact ``reader`` returns, or an unknown fact saying why it could not be read."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return Fact(value=reader(), source=source)
        except _credential_errors() as exc:
            raise DiscoverInputError(f"the credentials stopped working ({one_line(str(exc))}) — {_NO_CREDENTIALS}") from None
        except (ClientError, BotoCoreError) as exc:
            return Fact(unknown=failure_reason(exc), source=source)


def failure_reason(exc: Exception) -> str:
    """One line: ``<code>: <message>``; a throttled read says botocore's retries ran out."""
    response = getattr(exc, "response", None)
    if response is None:  # connection errors, an API the Region does not offer
        return one_line(f"{type(exc).__name__}: {exc}")
    error = response.get("Error", {})
    code = str(error.get("Code") or response.get("ResponseMetadata", {}).get("HTTPStatusCode", "Error"))
    text = f"{code}: {error.get('Message') or exc}"
    if code in THROTTLING_CODES:
        attempts = 1 + int(response.get("ResponseMetadata", {}).get("RetryAttempts", 0))
        text += f" (throttled on all {attempts} attempts)" if attempts > 1 else " (throttled)"
    return one_line(text)


def one_line(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= REASON_MAX_CHARS else text[:REASON_MAX_CHARS - 1] + "…"


# --------------------------------------------------------------------------- #
# The command
# --------------------------------------------------------------------------- #


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "discover",
        help="read, read-only, what one stack's AWS account already is into a facts file",
        description=(
            "Read the facts the plan needs from the AWS account of STACK — zones and their IDs, where each "
            "service is offered, quotas, roles, log groups, certificates, Direct Connect, RAM, IoT logging and the "
            "CloudTrail trails that log management events — "
            "with only Describe/Get/List calls, through the stack's region and assumeRoleArn, and write them to a "
            "facts file. A read that fails is written as unknown with its reason. Exit 0: written; 2: bad input."
        ),
    )
    parser.add_argument("stack", metavar="STACK", help="the stack whose account to read (Pulumi.<STACK>.yaml)")
    parser.add_argument("--cwd", type=Path, default=Path("."), help="the Pulumi project directory (default: .)")
    parser.add_argument("--output", type=Path, metavar="PATH",
                        help="the facts file to write (default: facts/<STACK>.json under --cwd)")
    parser.add_argument("--endpoint-service", metavar="NAME",
                        help="consumer stacks: the iot stack's endpointServiceName (it exists once the iot stack "
                             "is deployed); without it the consumer's serviceZones fact is unknown")
    parser.add_argument("--format", choices=("text", "json"), default="text", help="what to print (default: text)")
    parser.add_argument("--no-assume-role", action="store_true",
                        help="read with the caller's own credentials, not the stack's assumeRoleArn (a read-only role "
                             "already in the stack's account, as in a pull request's workflow); they must be for "
                             "the stack's account")
    parser.add_argument("--policy", action="store_true",
                        help="print the read-only IAM policy discover needs in STACK's account, and exit")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace, *, session_factory: SessionFactory = default_session_factory) -> int:
    try:
        project = load_project(args.cwd, [args.stack])
        misplaced_keys(project)
        stack_file = project.stacks[args.stack]
        if args.policy:
            from channelctl.accounts.discover_policy import policy_for

            json.dump(policy_for(stack_config(stack_file)), sys.stdout, indent=2)
            sys.stdout.write("\n")
            return EXIT_OK
        facts = discover(stack_file, session_factory, endpoint_service=args.endpoint_service,
                         assume_role=not args.no_assume_role)
        path = args.output if args.output is not None else default_path(args.cwd, args.stack)
        try:
            write_facts(facts, path)
        except OSError as exc:
            raise DiscoverInputError(f"--output {path}: cannot write ({exc.strerror}) — pick a writable path") from None
    except (ProjectError, DiscoverInputError) as exc:
        print(f"channelctl discover: {one_line(str(exc))}", file=sys.stderr)
        return EXIT_BAD_INPUT
    if args.format == "json":
        data = {"path": str(path), **facts.to_json(),
                "unknown": [name for name, fact in facts.facts.items() if not fact.known]}
        json.dump(data, sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        sys.stdout.write(to_text(facts, path))
    return EXIT_OK


def to_text(facts: Facts, path: Path) -> str:
    lines = [f"channelctl discover: {facts.stack} (account {facts.account}, {facts.region}) -> {path}"]
    width = max(len(name) for name in facts.facts) if facts.facts else 0
    for name, fact in facts.facts.items():
        what = fact.source if fact.known else fact.unknown
        lines.append(f"  {'read' if fact.known else 'unknown':<8} {name:<{width}}  {what}")
    unknown = sum(1 for fact in facts.facts.values() if not fact.known)
    lines.append(f"{len(facts.facts) - unknown} facts read, {unknown} unknown"
                 + (": the plan answers those from documented defaults and says so" if unknown else ""))
    return "\n".join(lines) + "\n"
