"""Facts read from one AWS account by ``channelctl discover``: the file format and its reader.

A facts file (``facts/<stack>.json`` by default) holds what one stack's account already is — zone
names and IDs, where each service is offered, quotas, Organization settings, roles, certificates,
Direct Connect state, log groups — stamped with the account, the Region and the time it was read.
Each fact is either known, ``{"value": ..., "source": "<API call>"}``, or unknown,
``{"unknown": "<why: AccessDenied, throttled, API not offered>", "source": ...}``: a fact that could
not be read is never guessed. The plan answers its look-ups from these facts where they exist and
says, per figure, where it came from: read (a facts file, with its age) or assumed (a documented
default).

Fact names (``FACT_*``) and their values:

- ``availabilityZones``: ``[{"name": "us-west-2a", "id": "usw2-az1"}, ...]``, the zones this account
  can use (state ``available``), names as this account sees them.
- ``serviceZones``: ``{"<service name>": ["us-west-2a", ...]}``, the zones where each service the
  stack uses offers interface endpoints, named as this account names them.
- ``quotas``: ``{"<service code>/<quota code>": {"value": N, "default": N, "applied": true|false}}``;
  ``applied`` false when the account has no value of its own and AWS's default is used. One quota
  that Service Quotas does not have (or names otherwise than expected) is ``{"unknown": "<why>"}``.
- ``ramSharingWithOrganization``: ``true``/``false`` (RAM ``EnableSharingWithAwsOrganization``).
- ``ramInvitations``: ``[{"arn": ..., "shareArn": ..., "status": "PENDING", "sender": "<account>"}]``.
- ``roles``: ``{"<role ARN>": true|false}``, whether each IAM role the config names exists.
- ``certificates``: ``{"<ACM ARN>": {"status": "ISSUED", "names": [...], "region": ...}}``; status null
  when the certificate does not exist.
- ``directConnect``: ``{"connections": {"<id>": "<state>"}, "gateways": {"<id>": "<state>"}}``; a
  connection's state is null when the account has no such connection.
- ``logGroups``: ``{"<name>": true|false}``, whether each log group the stack would create exists.
- ``iotLogging``: ``{"enabled": true|false, "defaultLogLevel": ..., "roleArn": ...}`` or null when off.
- ``managementTrails`` (iot stack): ``{"trails": ["<name>", ...], "others": {"<name>": "<why not>"}}``, the
  CloudTrail trails that log, cover this Region and record KMS's write management events (what the
  credentials key's change alarm needs; ``channelctl.accounts.trails``), and why each other trail does not.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Mapping

FACTS_VERSION = 1
DEFAULT_DIRECTORY = "facts"

FACT_ZONES = "availabilityZones"
FACT_SERVICE_ZONES = "serviceZones"
FACT_QUOTAS = "quotas"
FACT_RAM_ORGANIZATION = "ramSharingWithOrganization"
FACT_RAM_INVITATIONS = "ramInvitations"
FACT_ROLES = "roles"
FACT_CERTIFICATES = "certificates"
FACT_DIRECT_CONNECT = "directConnect"
FACT_LOG_GROUPS = "logGroups"
FACT_IOT_LOGGING = "iotLogging"
FACT_MANAGEMENT_TRAILS = "managementTrails"
FACT_NAMES = (FACT_ZONES, FACT_SERVICE_ZONES, FACT_QUOTAS, FACT_RAM_ORGANIZATION, FACT_RAM_INVITATIONS, FACT_ROLES,
              FACT_CERTIFICATES, FACT_DIRECT_CONNECT, FACT_LOG_GROUPS, FACT_IOT_LOGGING, FACT_MANAGEMENT_TRAILS)


class FactsError(Exception):
    """A facts file that cannot be read or does not have the format; the message names the file and the fix."""


@dataclass(frozen=True)
class Fact:
    """One fact: its value when it was read, or why it could not be."""

    value: Any = None
    unknown: str | None = None
    source: str = ""

    @property
    def known(self) -> bool:
        return self.unknown is None

    def to_json(self) -> dict[str, Any]:
        if self.unknown is not None:
            return {"unknown": self.unknown, "source": self.source}
        return {"value": self.value, "source": self.source}


@dataclass(frozen=True)
class Facts:
    """The facts of one stack's account."""

    stack: str
    account: str
    region: str
    read_at: datetime
    facts: Mapping[str, Fact] = field(default_factory=dict)
    path: Path | None = None

    def get(self, name: str) -> Fact | None:
        """The fact, or None when the file does not have it (not read at all)."""
        return self.facts.get(name)

    def value(self, name: str, default: Any = None) -> Any:
        """The fact's value when it is known, else ``default``."""
        fact = self.facts.get(name)
        return fact.value if fact is not None and fact.known else default

    def age_seconds(self, now: datetime | None = None) -> float:
        return ((now or datetime.now(timezone.utc)) - self.read_at).total_seconds()

    def age_text(self, now: datetime | None = None) -> str:
        """How old the facts are, as a reader wants it: ``3 h``, ``2 days``."""
        seconds = max(0.0, self.age_seconds(now))
        if seconds < 3_600:
            return f"{int(seconds // 60)} min"
        if seconds < 2 * 86_400:
            return f"{int(seconds // 3_600)} h"
        return f"{int(seconds // 86_400)} days"

    def to_json(self) -> dict[str, Any]:
        return {
            "factsVersion": FACTS_VERSION,
            "stack": self.stack,
            "account": self.account,
            "region": self.region,
            "readAt": self.read_at.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "facts": {name: fact.to_json() for name, fact in self.facts.items()},
        }


def default_path(directory: Path, stack: str) -> Path:
    return Path(directory) / DEFAULT_DIRECTORY / f"{stack}.json"


def write_facts(facts: Facts, path: Path) -> None:
    """Write the facts file: whole or not at all (a temporary file renamed over the old one)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(json.dumps(facts.to_json(), indent=2, sort_keys=False) + "\n", encoding="utf-8")
    temporary.replace(path)


def load_facts(path: Path) -> Facts:
    """Read a facts file; a file that is not one raises ``FactsError`` naming it and the fix."""
    path = Path(path)
    fix = f"run 'channelctl discover' for the stack again, or delete {path} to plan with assumed defaults"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise FactsError(f"{path}: cannot be read ({exc.strerror}) — {fix}") from None
    except json.JSONDecodeError as exc:
        raise FactsError(f"{path}: not JSON (line {exc.lineno}: {exc.msg}) — {fix}") from None
    if not isinstance(data, dict) or data.get("factsVersion") != FACTS_VERSION:
        version = data.get("factsVersion") if isinstance(data, dict) else None
        raise FactsError(f"{path}: factsVersion {version!r} is not {FACTS_VERSION} — {fix}")
    for key in ("stack", "account", "region", "readAt"):
        if not isinstance(data.get(key), str) or not data[key]:
            raise FactsError(f"{path}: key {key!r} is missing or not a string — {fix}")
    try:
        read_at = datetime.strptime(data["readAt"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
    except ValueError:
        raise FactsError(f"{path}: readAt {data['readAt']!r} is not a UTC time like 2026-12-04T18:00:00Z — {fix}") from None
    raw = data.get("facts")
    if not isinstance(raw, dict):
        raise FactsError(f"{path}: key 'facts' is missing or not a map — {fix}")
    facts: dict[str, Fact] = {}
    for name, entry in raw.items():
        if name not in FACT_NAMES:
            raise FactsError(f"{path}: facts.{name} is not a fact channelctl knows ({', '.join(FACT_NAMES)}) — {fix}")
        if not isinstance(entry, dict) or ("value" in entry) == ("unknown" in entry):
            raise FactsError(f"{path}: facts.{name} must hold either 'value' or 'unknown' — {fix}")
        if "unknown" in entry:
            facts[name] = Fact(unknown=str(entry["unknown"]), source=str(entry.get("source", "")))
        else:
            facts[name] = Fact(value=entry["value"], source=str(entry.get("source", "")))
    return Facts(stack=data["stack"], account=data["account"], region=data["region"], read_at=read_at, facts=facts,
                 path=path)
