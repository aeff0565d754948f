"""What AWS refuses although the Pulumi provider accepts it: charsets, lengths and default quotas.

Pure constants and predicates, each with its source. The program's validation
(``components/``) and the plan's ``deployable`` check (``channelctl/plan/checks/``)
both read them from here, so a rule is written once.

A predicate returns ``None`` when AWS accepts the value, else the reason it
does not, in words an operator can act on.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# --------------------------------------------------------------------------- #
# EC2 security groups
# --------------------------------------------------------------------------- #

# CreateSecurityGroup GroupDescription, and IpRange / Ipv6Range /
# UserIdGroupPair / PrefixListId Description of a rule: "Constraints: Up to 255
# characters in length. Valid characters: a-z, A-Z, 0-9, spaces, and
# ._-:/()#,@[]+=&;{}!$*". The provider checks only the length.
# https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateSecurityGroup.html
# https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_IpRange.html
SG_DESCRIPTION_MAX = 255
SG_DESCRIPTION_EXTRA_CHARS = "._-:/()#,@[]+=&;{}!$*"
_SG_DESCRIPTION_RE = re.compile(r"^[a-zA-Z0-9 ._\-:/()#,@\[\]+=&;{}!$*]*$")

# Amazon VPC quotas, "Inbound or outbound rules per security group": 60 by
# default (Service Quotas code L-0EA8095F), enforced separately for IPv4 and
# IPv6 rules; a rule with several CIDRs counts once per CIDR, and a rule that
# references a security group counts once.
# https://docs.aws.amazon.com/vpc/latest/userguide/amazon-vpc-limits.html#vpc-limits-security-groups
SG_RULES_PER_DIRECTION = 60
SG_RULES_QUOTA_CODE = "L-0EA8095F"
# The Service Quotas service code of both VPC quotas here.
VPC_QUOTA_SERVICE_CODE = "vpc"

# AWS PrivateLink quotas, "Interface and Gateway Load Balancer endpoints per
# VPC": 50 by default (Service Quotas code L-29B6F2EB). Every interface
# endpoint counts (Systems Manager's too); gateway endpoints (S3, DynamoDB) do not.
# https://docs.aws.amazon.com/vpc/latest/privatelink/vpc-limits-endpoints.html
INTERFACE_ENDPOINTS_PER_VPC = 50
INTERFACE_ENDPOINTS_QUOTA_CODE = "L-29B6F2EB"

# --------------------------------------------------------------------------- #
# Elastic Load Balancing (Network Load Balancers)
# --------------------------------------------------------------------------- #

# CreateLoadBalancer Name: "a maximum of 32 characters, must contain only
# alphanumeric characters or hyphens, must not begin or end with a hyphen, and
# must not begin with "internal-"."
# https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_CreateLoadBalancer.html
# CreateTargetGroup Name: "a maximum of 32 characters, must contain only
# alphanumeric characters or hyphens, and must not begin or end with a hyphen."
# https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_CreateTargetGroup.html
ELB_NAME_MAX = 32
_ELB_NAME_RE = re.compile(r"^[a-zA-Z0-9-]+$")

# Quotas for your Network Load Balancers (defaults):
# https://docs.aws.amazon.com/elasticloadbalancing/latest/network/load-balancer-limits.html
LISTENERS_PER_NLB = 50  # not adjustable
TARGETS_PER_AZ_PER_NLB = 500  # a target registered with N target groups counts N times
TARGETS_PER_NLB = 3_000
# "If cross-zone load balancing is on, the maximum targets per load balancer is 500."
TARGETS_PER_NLB_CROSS_ZONE = 500
TARGETS_PER_TARGET_GROUP = 1_000  # "Targets (instances or IP addresses) per target group per Region"
TARGET_GROUPS_PER_ACTION = 1  # "Target groups per action" (NLB)

# --------------------------------------------------------------------------- #
# Lambda, IAM, CloudWatch Logs, IoT Core names
# --------------------------------------------------------------------------- #

# CreateFunction FunctionName: the name alone is 1-64 characters of
# letters, digits, hyphens and underscores.
# https://docs.aws.amazon.com/lambda/latest/api/API_CreateFunction.html
LAMBDA_NAME_MAX = 64
_LAMBDA_NAME_RE = re.compile(r"^[a-zA-Z0-9_-]+$")

# CreateRole RoleName: 1-64 characters, pattern [\w+=,.@-]+; Path: 1-512
# characters, "/" or "/" + printable ASCII (! to ~) + "/".
# https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateRole.html
IAM_ROLE_NAME_MAX = 64
_IAM_ROLE_NAME_RE = re.compile(r"^[\w+=,.@-]+$")
IAM_PATH_MAX = 512
_IAM_PATH_RE = re.compile(r"^(/|/[\x21-\x7e]+/)$")

# CreateLogGroup logGroupName: 1-512 characters, pattern [\.\-_/#A-Za-z0-9]+.
# https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_CreateLogGroup.html
LOG_GROUP_NAME_MAX = 512
_LOG_GROUP_NAME_RE = re.compile(r"^[.\-_/#A-Za-z0-9]+$")

# CreateDomainConfiguration domainConfigurationName: 1-128, pattern [\w.-]+.
# https://docs.aws.amazon.com/iot/latest/apireference/API_CreateDomainConfiguration.html
IOT_DOMAIN_CONFIGURATION_NAME_MAX = 128
_IOT_DOMAIN_CONFIGURATION_NAME_RE = re.compile(r"^[\w.-]+$")

# CreateAuthorizer authorizerName: 1-128, pattern [\w=,@-]+.
# https://docs.aws.amazon.com/iot/latest/apireference/API_CreateAuthorizer.html
IOT_AUTHORIZER_NAME_MAX = 128
_IOT_AUTHORIZER_NAME_RE = re.compile(r"^[\w=,@-]+$")

# --------------------------------------------------------------------------- #
# Lambda concurrency
# --------------------------------------------------------------------------- #

# "Lambda reserves 100 units of concurrency for functions that don't have
# reserved concurrency": PutFunctionConcurrency is refused when it would leave
# fewer than 100 unreserved. The account's quota, "Concurrent executions", is
# Service Quotas service "lambda", code L-B99A9384 (1,000 by default; new
# accounts can start lower, as low as 10).
# https://docs.aws.amazon.com/lambda/latest/dg/configuration-concurrency.html
# https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html
LAMBDA_QUOTA_SERVICE_CODE = "lambda"
LAMBDA_CONCURRENCY_QUOTA_CODE = "L-B99A9384"
LAMBDA_UNRESERVED_MIN = 100
LAMBDA_DEFAULT_CONCURRENCY = 1_000

# --------------------------------------------------------------------------- #
# IoT Core connect rate
# --------------------------------------------------------------------------- #

# "Connect requests per second per account" (AWS General Reference, "AWS IoT Core endpoints and
# quotas", message broker: regional, adjustable) is read from Service Quotas, never assumed. AWS's
# pages name the quota but not its code; service "iotcore", code L-AEA1E176 is what a Service
# Quotas listing of the iotcore service shows for that name (a public snapshot of ListServiceQuotas
# output, 2025-11-02, found through the code search; not an AWS document). So whoever reads it
# checks the QuotaName that comes back against IOT_CONNECT_QUOTA_NAME and uses the value only when
# they agree.
# https://docs.aws.amazon.com/general/latest/gr/iot-core.html#message-broker-limits
IOT_CONNECT_QUOTA_SERVICE_CODE = "iotcore"
IOT_CONNECT_QUOTA_CODE = "L-AEA1E176"
IOT_CONNECT_QUOTA_NAME = "Connect requests per second per account"

# --------------------------------------------------------------------------- #
# Names the provider generates
# --------------------------------------------------------------------------- #

# Pulumi auto-naming: the logical name, a hyphen and 7 random characters
# ("Resource names", Pulumi docs, https://www.pulumi.com/docs/iac/concepts/resources/names/).
# Where the provider knows the limit, a name that does not fit fails at preview
# ("name '<logical>-' plus 7 random chars is longer than maximum length 32":
# pulumi/pulumi sdk/go/common/resource, NewUniqueHex); elsewhere AWS refuses it.
AUTONAME_SUFFIX = 8
# Terraform's name_prefix: the prefix and a 26-character unique ID
# (terraform-plugin-sdk id.PrefixedUniqueId, used by hashicorp/terraform-provider-aws).
NAME_PREFIX_SUFFIX = 26


@dataclass(frozen=True)
class NameRule:
    """What one API accepts for one name."""

    what: str
    max_length: int
    pattern: re.Pattern[str]
    allowed: str
    source: str


NLB_NAME = NameRule("NLB name", ELB_NAME_MAX, _ELB_NAME_RE, "letters, digits and '-'", "CreateLoadBalancer Name")
TARGET_GROUP_NAME = NameRule(
    "target group name", ELB_NAME_MAX, _ELB_NAME_RE, "letters, digits and '-'", "CreateTargetGroup Name"
)
LAMBDA_NAME = NameRule(
    "Lambda function name", LAMBDA_NAME_MAX, _LAMBDA_NAME_RE, "letters, digits, '-' and '_'", "CreateFunction FunctionName"
)
IAM_ROLE_NAME = NameRule(
    "IAM role name", IAM_ROLE_NAME_MAX, _IAM_ROLE_NAME_RE, "letters, digits and _+=,.@-", "CreateRole RoleName"
)
LOG_GROUP_NAME = NameRule(
    "log group name", LOG_GROUP_NAME_MAX, _LOG_GROUP_NAME_RE, "letters, digits and ._-/#", "CreateLogGroup logGroupName"
)
IOT_DOMAIN_CONFIGURATION_NAME = NameRule(
    "IoT domain configuration name", IOT_DOMAIN_CONFIGURATION_NAME_MAX, _IOT_DOMAIN_CONFIGURATION_NAME_RE,
    "letters, digits, '_', '.' and '-'", "CreateDomainConfiguration domainConfigurationName",
)
IOT_AUTHORIZER_NAME = NameRule(
    "IoT authorizer name", IOT_AUTHORIZER_NAME_MAX, _IOT_AUTHORIZER_NAME_RE, "letters, digits and _=,@-",
    "CreateAuthorizer authorizerName",
)


def sg_description_problem(text: object) -> str | None:
    """Why EC2 refuses this security-group or rule description, or None."""
    if not isinstance(text, str):
        return f"description {text!r} is not text"
    if len(text) > SG_DESCRIPTION_MAX:
        return f"description is {len(text)} characters, more than EC2's {SG_DESCRIPTION_MAX}"
    if not _SG_DESCRIPTION_RE.match(text):
        bad = sorted({c for c in text if not _SG_DESCRIPTION_RE.match(c)})
        return (f"description {text!r} has {', '.join(repr(c) for c in bad)} — EC2 accepts only letters, digits, "
                f"spaces and {SG_DESCRIPTION_EXTRA_CHARS}")
    return None


def sg_description(text: str) -> str:
    """``text``, refused (ValueError) before any resource exists if EC2 would refuse it."""
    problem = sg_description_problem(text)
    if problem:
        raise ValueError(problem)
    return text


def name_problem(rule: NameRule, name: object, *, generated: int = 0) -> str | None:
    """Why the API refuses ``name`` (plus ``generated`` characters the provider appends), or None."""
    if not isinstance(name, str) or not name:
        return f"{rule.what} {name!r} is empty"
    length = len(name) + generated
    if length > rule.max_length:
        how = f" ({len(name)} + {generated} the provider appends)" if generated else ""
        return f"{rule.what} {name!r} is {length} characters{how}, more than {rule.source}'s {rule.max_length}"
    if not rule.pattern.match(name):
        return f"{rule.what} {name!r} has characters {rule.source} refuses — only {rule.allowed}"
    if rule.pattern is _ELB_NAME_RE and (name.startswith("-") or (name.endswith("-") and not generated)):
        return f"{rule.what} {name!r} begins or ends with a hyphen, which {rule.source} refuses"
    if rule is NLB_NAME and name.startswith("internal-"):
        return f"{rule.what} {name!r} begins with 'internal-', which {rule.source} refuses"
    return None


def iam_path_problem(path: object) -> str | None:
    if path is None:
        return None
    if not isinstance(path, str) or len(path) > IAM_PATH_MAX or not _IAM_PATH_RE.match(path):
        return (f"IAM path {path!r} is not '/' or '/<printable ASCII>/' of at most {IAM_PATH_MAX} characters "
                "(CreateRole Path)")
    return None


def max_reserved_concurrency(account_quota: int) -> int:
    """The largest reserved concurrency one function may take: what leaves 100 unreserved."""
    return account_quota - LAMBDA_UNRESERVED_MIN
