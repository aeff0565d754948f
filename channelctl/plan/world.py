"""What an account already is, as the plan's mock renderer answers the program's look-ups about it.

Two worlds must never be confused: what the program declares (rendered under mocks) and what the
accounts already are. ``AccountWorld`` is the second, for one stack's account: read from its facts
file (``channelctl discover``, ``channelctl.accounts.facts``) where a fact is known, else answered
from the documented defaults below — and every answer says which (``Answer.origin``), so a check can
say where each figure came from. The renderer, the checks and the tests share this one world.

The defaults, which are also the world of an account without facts:

- Availability Zones: four per region; AWS maps zone *names* to physical zones independently for each
  account (zone IDs like ``usw2-az1`` are the same everywhere), which the default world plays by
  rotating the names by the account ID (``zone_id_of`` / ``zone_name_of``).
- AWS's own services (iot.data, iot.credentials, ...) offer interface endpoints in zone IDs
  az1..az3, not the fourth (``AWS_SERVICE_ZONE_NUMBERS``), as with a zone added after the service.
- Service Quotas: AWS's defaults (``DEFAULT_SERVICE_QUOTAS``).

With facts, a subnet in a zone the account does not have is refused as AWS refuses it
(``AwsRefusal``: CreateSubnet, InvalidParameterValue); without them any zone name is taken, as before.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

from channelctl.accounts.facts import FACT_QUOTAS, FACT_SERVICE_ZONES, FACT_ZONES, Facts

# What the mocks answer for Service Quotas look-ups, by (service code, quota code): AWS's defaults.
# A test passes others to ``render_stack`` to play an account whose quota is lower (Lambda
# "Concurrent executions" can be 10 in a new account).
DEFAULT_SERVICE_QUOTAS: Mapping[tuple[str, str], float] = {("lambda", "L-B99A9384"): 1_000.0}

ZONE_COUNT = 4
AWS_SERVICE_ZONE_NUMBERS = (1, 2, 3)
_DIRECTIONS = {"north": "n", "south": "s", "east": "e", "west": "w", "central": "c",
               "northeast": "ne", "northwest": "nw", "southeast": "se", "southwest": "sw"}

READ = "read"
ASSUMED = "assumed"
NO_FACTS = "no facts"  # why an answer of an account without a facts file is assumed
REASON_MAX_CHARS = 80


def _digest(*parts: str, length: int = 17) -> str:
    return hashlib.sha256("/".join(parts).encode()).hexdigest()[:length]


def zone_id_prefix(region: str) -> str:
    """``us-west-2`` -> ``usw2``, ``ap-southeast-1`` -> ``apse1``: the prefix of the region's AZ IDs."""
    parts = region.split("-")
    return parts[0] + "".join(_DIRECTIONS.get(p, p[:1]) for p in parts[1:-1]) + parts[-1]


def zone_rotation(account_id: str) -> int:
    """How this account's AZ names are shifted against the zone IDs in the default world."""
    return int(account_id) % ZONE_COUNT if account_id.isdigit() else 0


def zone_id_of(account_id: str, region: str, zone_name: str) -> str:
    """The AZ ID behind ``zone_name`` in this account in the default world (``us-west-2a`` -> ``usw2-az3``)."""
    index = ord(zone_name[-1]) - ord("a")
    return f"{zone_id_prefix(region)}-az{(index + zone_rotation(account_id)) % ZONE_COUNT + 1}"


def zone_name_of(account_id: str, region: str, zone_id: str) -> str:
    """The name this account uses for the zone with ``zone_id`` in the default world."""
    number = int(zone_id.rsplit("az", 1)[1]) - 1
    return f"{region}{chr(ord('a') + (number - zone_rotation(account_id)) % ZONE_COUNT)}"


def existing_subnet_zone(subnet_id: str, region: str) -> str:
    """The AZ name of a subnet the program did not create (an ``existingVpc`` subnet), fixed by its ID."""
    return f"{region}{chr(ord('a') + int(_digest(subnet_id), 16) % ZONE_COUNT)}"


def short_reason(reason: str) -> str:
    """An unknown fact's reason, cut to fit a sources line (the facts file has it whole)."""
    reason = " ".join(reason.split())
    return reason if len(reason) <= REASON_MAX_CHARS else reason[: REASON_MAX_CHARS - 1].rstrip() + "…"


@dataclass(frozen=True)
class Answer:
    """One answer about the account: its value, read from the facts or assumed, and why it was assumed."""

    value: Any
    origin: str  # READ or ASSUMED
    why: str = ""  # for ASSUMED: what was missing ("no facts", "quotas unknown: AccessDenied: ...")

    @property
    def read(self) -> bool:
        return self.origin == READ


class AwsRefusal(Exception):
    """A call AWS would refuse for what the account is (not for what the program declares), as AWS words it."""

    def __init__(self, api: str, code: str, message: str, *, value: str, valid: Sequence[str]):
        super().__init__(f"{api}: {code}: {message}")
        self.api, self.code, self.message = api, code, message
        self.value, self.valid = value, tuple(valid)


class AccountWorld:
    """One account in one region: its facts where known, else the default world."""

    def __init__(self, account_id: str, region: str, facts: Facts | None = None,
                 default_quotas: Mapping[tuple[str, str], float] | None = None):
        self.account_id = account_id
        self.region = region
        self.facts = facts
        self.default_quotas = dict(DEFAULT_SERVICE_QUOTAS if default_quotas is None else default_quotas)
        zones = facts.value(FACT_ZONES) if facts is not None else None
        self._zones: list[tuple[str, str]] | None = (
            [(str(z["name"]), str(z["id"])) for z in zones if isinstance(z, Mapping) and "name" in z and "id" in z]
            if isinstance(zones, list) else None
        )

    # -- why an answer is assumed --------------------------------------------------------------
    def _missing(self, name: str, what: str = "") -> str:
        """Why the facts do not answer ``name`` (and ``what`` inside it)."""
        if self.facts is None:
            return NO_FACTS
        fact = self.facts.get(name)
        if fact is None:
            return f"{name} not in the facts file"
        if not fact.known:
            return f"{name} unknown: {short_reason(fact.unknown or '')}"
        return f"{what} not in the facts' {name}" if what else f"{name} not in the facts file"

    # -- zones -----------------------------------------------------------------------------------
    def zones(self) -> Answer:
        """[(name, id), ...] of the zones the account can use, in name order."""
        if self._zones is not None:
            return Answer(sorted(self._zones), READ)
        region = self.region
        names = [f"{region}{chr(ord('a') + i)}" for i in range(ZONE_COUNT)]
        return Answer([(n, zone_id_of(self.account_id, region, n)) for n in names], ASSUMED, self._missing(FACT_ZONES))

    def zone_id(self, name: str) -> str | None:
        """The ID behind this account's zone ``name``; None when the facts know the zones and it is not one."""
        if self._zones is None:
            return zone_id_of(self.account_id, self.region, name)
        return dict(self._zones).get(name)

    def zone_name(self, zone_id: str) -> str | None:
        """This account's name for the zone ``zone_id``; None when the facts know the zones and it is not one."""
        if self._zones is None:
            return zone_name_of(self.account_id, self.region, zone_id)
        return {i: n for n, i in self._zones}.get(zone_id)

    def subnet_zone_id(self, name: str) -> str:
        """The zone ID a subnet in zone ``name`` lands in, or the refusal AWS answers CreateSubnet with."""
        zone_id = self.zone_id(name)
        if zone_id is None:
            valid = [n for n, _ in sorted(self._zones or [])]
            raise AwsRefusal(
                "CreateSubnet", "InvalidParameterValue",
                f"Value ({name}) for parameter availabilityZone is invalid. Subnets can currently only be created "
                f"in the following availability zones: {', '.join(valid)}.",
                value=name, valid=valid)
        return zone_id

    def existing_subnet_zone(self, subnet_id: str) -> str:
        """The zone of a subnet the program did not create, fixed by its ID, among the account's zones."""
        if self._zones:
            names = sorted(n for n, _ in self._zones)
            return names[int(_digest(subnet_id), 16) % len(names)]
        return existing_subnet_zone(subnet_id, self.region)

    # -- where services are offered ---------------------------------------------------------------
    def service_zones(self, service: str, zone_ids: Sequence[str] | None = None) -> Answer:
        """The zones (this account's names) where ``service`` offers interface endpoints.

        From the facts' ``serviceZones`` entry when there is one; else the zones with ``zone_ids`` (an
        endpoint service's NLB zones, as the region knows them), else AWS's service zones (az1..az3),
        named as this account names them.
        """
        offered = self.facts.value(FACT_SERVICE_ZONES) if self.facts is not None else None
        if isinstance(offered, Mapping) and isinstance(offered.get(service), list):
            return Answer(sorted(str(z) for z in offered[service]), READ)
        if zone_ids is None:
            zone_ids = [f"{zone_id_prefix(self.region)}-az{n}" for n in AWS_SERVICE_ZONE_NUMBERS]
        names = sorted(n for n in (self.zone_name(z) for z in zone_ids) if n is not None)
        return Answer(names, ASSUMED, self._missing(FACT_SERVICE_ZONES, service))

    def has_service_zones(self, service: str) -> bool:
        offered = self.facts.value(FACT_SERVICE_ZONES) if self.facts is not None else None
        return isinstance(offered, Mapping) and isinstance(offered.get(service), list)

    # -- quotas ------------------------------------------------------------------------------------
    def quota(self, service: str, code: str, default: float | None = None) -> Answer:
        """The account's quota ``service``/``code``: read, else ``default`` (else AWS's default) assumed;
        the value is None when neither the facts nor a default know it."""
        key = f"{service}/{code}"
        quotas = self.facts.value(FACT_QUOTAS) if self.facts is not None else None
        entry = quotas.get(key) if isinstance(quotas, Mapping) else None
        if isinstance(entry, Mapping) and isinstance(entry.get("value"), (int, float)):
            return Answer(float(entry["value"]), READ)
        if default is None:
            default = self.default_quotas.get((service, code))
        if isinstance(entry, Mapping) and "unknown" in entry:
            why = f"{key} unknown: {short_reason(str(entry['unknown']))}"
        else:
            why = self._missing(FACT_QUOTAS, key)
        return Answer(None if default is None else float(default), ASSUMED, why)

    def cache_key(self) -> Any:
        """What of this world changes a render: the facts' content."""
        return self.facts.to_json() if self.facts is not None else None
