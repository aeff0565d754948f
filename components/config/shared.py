"""What every stack role's configuration uses: the project's name and roles,
``ConfigError``, the formats (regular expressions), the validators each usable
on its own, JSON decoding of structured values, and the small coercions.

Nothing here imports another module of ``components.config``; the private ranges come from
``policies.addresses`` (standard library only), the rule the plan's isolation check applies.
"""

from __future__ import annotations

import ipaddress
import json
import re
from typing import Any, Mapping

from policies.addresses import NETWORK_RANGES, network_range_problem

PROJECT = "private-mqtt-channel"
ROLES = ("network", "iot", "consumer")

# A Resolver endpoint needs at least two IP addresses, in different AZs.
MIN_AVAILABILITY_ZONES = 2
MAX_AVAILABILITY_ZONES = 6
# What makes the stacks one channel (each is refused by the stack that reads the other's exports,
# components/stacks.py, and by `channelctl plan` before rendering, channelctl/plan/crossstack.py).
# A Transit Gateway is a Regional resource: it connects VPCs of its own Region, and RAM shares it for
# attachments in that Region (AWS whitepaper "Building a Scalable and Secure Multi-VPC AWS Network
# Infrastructure", section Transit Gateway).
TGW_REGION_RULE = "a VPC attaches only to a Transit Gateway of its own Region"
# An interface endpoint reaches an endpoint service in another Region only through cross-Region
# PrivateLink (since November 2024: the service's `supported_regions`, the endpoint's `service_region`;
# AWS PrivateLink guide, "Share your services through AWS PrivateLink", Cross-Region access). The
# channel uses neither, so consumers' endpoints must be in the endpoint service's Region. Route 53
# private zones are not bound to a Region (AssociateVPCWithHostedZone takes the VPC's Region and
# requires only the same partition, Route 53 API reference): the zone associations add no rule.
PRIVATELINK_REGION_RULE = (
    "a consumer's interface endpoint reaches the endpoint service only in its own Region (the channel does "
    "not use cross-Region PrivateLink)"
)
# Inside one AWS Organization (RAM sharing with Organizations enabled) a share to an account of the
# organization sends no invitation; outside it, the account must accept one (provider docs of
# aws.ram.PrincipalAssociation). The network stack shares without external principals when
# sameOrganization is true, and the iot stack creates a ResourceShareAccepter only when it is false.
SAME_ORGANIZATION_RULE = (
    "the network stack shares the Transit Gateway and the iot stack accepts the share by this key (no invitation "
    "inside one AWS Organization, an invitation to accept outside it)"
)
# Private ASN ranges accepted by Transit Gateway and Direct Connect gateways.
_PRIVATE_ASN_RANGES = ((64512, 65534), (4_200_000_000, 4_294_967_294))

_ACCOUNT_RE = re.compile(r"^\d{12}\Z")
_REGION_RE = re.compile(r"^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d\Z")
_ROLE_ARN_RE = re.compile(r"^arn:aws(-[a-z]+)*:iam::\d{12}:role/[\w+=,.@/-]{1,512}\Z")
_NAME_RE = re.compile(r"^[a-z][a-z0-9-]{0,30}[a-z0-9]\Z")
_STACK_RE = re.compile(r"^[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+){0,2}\Z")
_DX_CONNECTION_RE = re.compile(r"^dx(con|lag)-[0-9a-z]{8,}\Z")
_VPC_ID_RE = re.compile(r"^vpc-[0-9a-f]{8,17}\Z")
_SUBNET_ID_RE = re.compile(r"^subnet-[0-9a-f]{8,17}\Z")
_TAG_KEY_RE = re.compile(r"^[\w.:/=+@ -]{1,128}\Z")
_TOPIC_SEGMENT_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}\Z")
_INSTANCE_TYPE_RE = re.compile(r"^[a-z][a-z0-9-]*\.[a-z0-9]+\Z")
_ACM_ARN_RE = re.compile(r"^arn:aws(-[a-z]+)*:acm:[a-z0-9-]+:\d{12}:certificate/[0-9a-f-]{36}\Z")
_LABEL_RE = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)\Z")
_LOG_RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653)


class ConfigError(ValueError):
    """A stack configuration value is missing, malformed or inconsistent."""


# --------------------------------------------------------------------------- #
# Pure checks, each usable on its own
# --------------------------------------------------------------------------- #


def validate_cidr(key: str, value: Any) -> str:
    if not isinstance(value, str):
        raise ConfigError(f"{key} {value!r} is not a CIDR string — write it like 10.20.0.0/16")
    try:
        net = ipaddress.ip_network(value, strict=True)
    except ValueError as exc:
        raise ConfigError(
            f"{key} {value!r} is not a valid IPv4 CIDR ({exc}) — write the network address, like 10.20.0.0/16"
        ) from None
    if net.version != 4:
        raise ConfigError(f"{key} {value!r} is IPv6 — the channel is IPv4; give an IPv4 CIDR like 10.20.0.0/16")
    return str(net)


def validate_private_cidr(key: str, value: Any) -> str:
    """A network of the channel (a VPC, an on-premises range) is numbered from a private range.

    An allow-list, the one the isolation check holds the rendered rules and routes to
    (``policies/addresses.py``): a public range would put public addresses in the channel's
    security groups and routes.
    """
    cidr = validate_cidr(key, value)
    problem = network_range_problem(cidr)
    if problem:
        allowed = [str(net) for net in NETWORK_RANGES]
        raise ConfigError(
            f"{key} {cidr} is {problem} — the channel is private: use a private range, inside "
            f"{', '.join(allowed[:-1])} or {allowed[-1]}"
        )
    return cidr


def validate_vpc_cidr(key: str, value: Any) -> str:
    cidr = validate_private_cidr(key, value)
    prefix = ipaddress.ip_network(cidr).prefixlen
    if not 16 <= prefix <= 24:
        raise ConfigError(f"{key} {cidr} has prefix /{prefix} — a VPC CIDR must be between /16 and /24")
    return cidr


def validate_disjoint(ranges: list[tuple[str, str]]) -> None:
    """Refuse any two ranges that overlap; ranges are (key, cidr) pairs."""
    nets = [(key, ipaddress.ip_network(cidr)) for key, cidr in ranges]
    for i, (key_a, net_a) in enumerate(nets):
        for key_b, net_b in nets[i + 1 :]:
            if net_a.overlaps(net_b):
                raise ConfigError(
                    f"{key_a} {net_a} overlaps {key_b} {net_b} — choose disjoint ranges"
                )


def validate_account_id(key: str, value: Any) -> str:
    text = str(value) if isinstance(value, int) and not isinstance(value, bool) else value
    if not isinstance(text, str) or not _ACCOUNT_RE.match(text):
        raise ConfigError(
            f"{key} {value!r} is not an AWS account ID — give the 12 digits, quoted, like \"222222222222\""
        )
    return text


def validate_availability_zones(key: str, value: Any, region: str) -> tuple[str, ...]:
    zones = _as_list(key, value, "availability zone names like [us-west-2a, us-west-2b]")
    if len(zones) < MIN_AVAILABILITY_ZONES:
        raise ConfigError(
            f"{key} {zones!r} names {len(zones)} availability zone(s) — give at least "
            f"{MIN_AVAILABILITY_ZONES} in {region}, like [{region}a, {region}b]"
        )
    if len(zones) > MAX_AVAILABILITY_ZONES:
        raise ConfigError(f"{key} {zones!r} names {len(zones)} zones — at most {MAX_AVAILABILITY_ZONES} are supported")
    for zone in zones:
        if not isinstance(zone, str) or not re.match(rf"^{re.escape(region)}[a-z]\Z", zone):
            raise ConfigError(f"{key} entry {zone!r} is not an availability zone of region {region} — like {region}a")
    if len(set(zones)) != len(zones):
        raise ConfigError(f"{key} {zones!r} repeats a zone — list each zone once")
    return tuple(zones)


def validate_asn(key: str, value: Any) -> int:
    asn = _as_int(key, value)
    if not any(lo <= asn <= hi for lo, hi in _PRIVATE_ASN_RANGES):
        raise ConfigError(f"{key} {asn} is not a private ASN — use 64512-65534 or 4200000000-4294967294")
    return asn


def validate_stack_name(key: str, value: Any) -> str:
    if not isinstance(value, str) or not _STACK_RE.match(value):
        raise ConfigError(
            f"{key} {value!r} is not a stack name — give the fully qualified name, like acme/{PROJECT}/iot"
        )
    return value


def validate_role(stack: str, value: Any) -> str:
    role = stack.split("-", 1)[0] if value is None else value
    if role not in ROLES:
        source = "role" if value is not None else f"role (defaulted from stack name {stack!r})"
        raise ConfigError(f"{source} {role!r} is not a role — set role to one of {', '.join(ROLES)}")
    return role


def validate_domain(key: str, value: Any) -> str:
    if not isinstance(value, str) or len(value) > 253 or not all(
        _LABEL_RE.match(label) for label in value.split(".")
    ) or value.count(".") < 1:
        raise ConfigError(f"{key} {value!r} is not a host name — lower-case labels, like iot.plant.example.com")
    if value.endswith(".amazonaws.com"):
        raise ConfigError(f"{key} {value!r} is an AWS host name — use a domain of your own")
    return value


# --------------------------------------------------------------------------- #
# Decoding and small coercions
# --------------------------------------------------------------------------- #


def parse_raw(raw: Mapping[str, Any]) -> dict[str, Any]:
    """Pulumi hands structured config to programs as JSON text; decode it."""
    parsed: dict[str, Any] = {}
    for key, value in raw.items():
        if isinstance(value, str) and value[:1] in ("[", "{"):
            try:
                value = json.loads(value)
            except json.JSONDecodeError as exc:
                raise ConfigError(f"{key} {value!r} is not valid JSON ({exc.msg}) — check the brackets and quotes") from None
        parsed[key] = value
    return parsed


def _refuse_unknown(key: str, value: Mapping[str, Any], allowed: set[str]) -> None:
    unknown = sorted(set(value) - allowed)
    if unknown:
        raise ConfigError(f"{key} has unknown key(s) {', '.join(unknown)} — known keys: {', '.join(sorted(allowed))}")


def _require(values: Mapping[str, Any], key: str, label: str | None = None) -> Any:
    if key not in values or values[key] is None:
        raise ConfigError(f"{label or key} is required — set it with `pulumi config set {label or key} <value>`")
    return values[key]


def _as_list(key: str, value: Any, example: str) -> list[Any]:
    if not isinstance(value, list):
        raise ConfigError(f"{key} {value!r} is not a list — give {example}")
    return value


def _as_int(key: str, value: Any) -> int:
    if isinstance(value, bool):
        raise ConfigError(f"{key} {value!r} is not a whole number")
    if isinstance(value, int):
        return value
    if isinstance(value, str) and re.fullmatch(r"-?\d+", value.strip()):
        return int(value)
    raise ConfigError(f"{key} {value!r} is not a whole number — write digits only, like 250000")


def _as_bool(key: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise ConfigError(f"{key} {value!r} is not true or false")


def _closest(key: str, candidates: set[str]) -> str | None:
    import difflib

    match = difflib.get_close_matches(key, sorted(candidates), n=1, cutoff=0.6)
    return match[0] if match else None
