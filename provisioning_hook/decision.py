"""The pre-provisioning hook's decision, as a pure function: parse -> look up -> decide.

AWS IoT calls the hook with ``{"claimCertificateId", "certificateId", "certificatePem", "templateArn",
"clientId", "parameters": {...}}`` and provisions the device only if the answer holds
``"allowProvisioning": true``; ``parameterOverrides`` are added to the RegisterThing parameters. A hook
that fails or does not answer within 5 s makes the request fail with ACCESS_DENIED (AWS IoT Core
developer guide, "Pre-provisioning hooks").

Admitted: a device whose name (the template parameter ``SerialNumber``: a serial number, or the MQTT
user name of a password device moving to a certificate) is listed in the allow-list table with
``status`` ``allowed``, not expired, and asking through this stack's own template. Everything else
is refused. A ``serial`` entry is admitted only for a request made with a claim certificate
(``claimCertificateId``). A ``password-device`` entry is admitted only for a request whose MQTT client ID is that
name: the authorizer lets a password device connect only as its own client ID and gives the
provisioning topics only to a migrating device whose client ID is its user name
(``authorizer/migration.py``), so the device registers itself and no other name. The name becomes the thing name (the template names the thing after ``SerialNumber``; the
answer repeats it as ``parameterOverrides.ThingName``), which the channel's certificate-device policy
requires as the client ID.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Callable, Mapping

# Thing names: 1-128 characters of [a-zA-Z0-9:_-] (AWS IoT API reference, CreateThing / AttachThingPrincipal
# "thingName" pattern). The channel's policies name the client ID after the thing.
THING_NAME_RE = re.compile(r"[a-zA-Z0-9:_-]{1,128}")
# Certificate IDs: "Fixed length of 64", pattern (0x)?[a-fA-F0-9]+ (AWS IoT API reference, CertificateDescription
# certificateId); the hook's input names the claim certificate by it.
CERTIFICATE_ID_RE = re.compile(r"(?=.{64}\Z)(0x)?[a-fA-F0-9]+")
# The template parameter the device sends its name in (components/fleet_provisioning.py).
NAME_PARAMETER = "SerialNumber"
# What an allow-list entry may say about how the device was listed.
LISTED_KINDS = ("serial", "password-device")
ALLOWED_STATUS = "allowed"

REFUSED: dict[str, Any] = {"allowProvisioning": False}


@dataclass(frozen=True)
class Entry:
    """One allow-list item: the table's ``device`` key and what the operator recorded."""

    device: str
    kind: str
    status: str
    expires_at: int | None = None


@dataclass(frozen=True)
class Decision:
    allow: bool
    reason: str
    thing_name: str | None = None

    def response(self) -> dict[str, Any]:
        if not self.allow or self.thing_name is None:
            return dict(REFUSED)
        return {"allowProvisioning": True, "parameterOverrides": {"ThingName": self.thing_name}}


def requested_name(event: Any, template_arn: str) -> tuple[str | None, str]:
    """The device name the request asks for, or None and why it is refused."""
    if not isinstance(event, Mapping):
        return None, "event is not an object"
    if event.get("templateArn") != template_arn:
        # Only this stack's template may use this allow-list (the Lambda permission says the same).
        return None, "request for another provisioning template"
    parameters = event.get("parameters")
    if not isinstance(parameters, Mapping):
        return None, "no parameters"
    name = parameters.get(NAME_PARAMETER)
    if not isinstance(name, str) or not THING_NAME_RE.fullmatch(name):
        return None, f"{NAME_PARAMETER} missing or not a thing name"
    other = parameters.get("ThingName")
    if other is not None and other != name:
        # A device may not ask for a thing name other than the one it is listed under.
        return None, "ThingName differs from SerialNumber"
    return name, ""


def paired(event: Mapping[str, Any], name: str) -> bool:
    """A password device registers only itself: the request came over the connection whose client ID is
    ``name`` (the hook's input carries ``clientId``; AWS IoT Core developer guide, "Pre-provisioning hooks")."""
    return event.get("clientId") == name


def parse_entry(item: Any) -> Entry | None:
    """A DynamoDB item (low-level attribute-value form) as an Entry, or None if it breaks the schema."""
    if not isinstance(item, Mapping):
        return None

    def text(key: str) -> str | None:
        value = item.get(key)
        if isinstance(value, Mapping) and isinstance(value.get("S"), str):
            return value["S"]
        return None

    device, kind, status = text("device"), text("kind"), text("status")
    if device is None or kind not in LISTED_KINDS or status is None:
        return None
    expires = item.get("expires_at")
    expires_at = None
    if expires is not None:
        raw = expires.get("N") if isinstance(expires, Mapping) else None
        if not isinstance(raw, str) or not raw.isdigit():
            return None
        expires_at = int(raw)
    return Entry(device=device, kind=kind, status=status, expires_at=expires_at)


def entry_item(device: str, kind: str, *, expires_at: int | None = None) -> dict[str, Any]:
    """The DynamoDB item listing ``device`` (low-level attribute-value form), for the operator's tools;
    refuses what the hook would refuse, so nothing is listed that could never be admitted."""
    if not isinstance(device, str) or not THING_NAME_RE.fullmatch(device):
        raise ValueError(f"device {device!r} is not a thing name — 1-128 of letters, digits, ':', '_' and '-'")
    if kind not in LISTED_KINDS:
        raise ValueError(f"kind {kind!r} is not one of {', '.join(LISTED_KINDS)}")
    item: dict[str, Any] = {"device": {"S": device}, "kind": {"S": kind}, "status": {"S": ALLOWED_STATUS}}
    if expires_at is not None:
        if isinstance(expires_at, bool) or not isinstance(expires_at, int) or expires_at < 0:
            raise ValueError(f"expires_at {expires_at!r} is not epoch seconds")
        item["expires_at"] = {"N": str(expires_at)}
    return item


def decide(
    event: Any, *, template_arn: str, lookup: Callable[[str], Any], now: Callable[[], float]
) -> Decision:
    """Allow only a listed, unexpired device asking through ``template_arn``; ``lookup(name)`` returns the
    raw DynamoDB item or None and may raise (an unreadable list refuses)."""
    name, why = requested_name(event, template_arn)
    if name is None:
        return Decision(False, why)
    try:
        item = lookup(name)
    except Exception:  # noqa: BLE001 -- any failure to read the list is a refusal
        return Decision(False, "allow-list unavailable")
    if item is None:
        return Decision(False, "not listed")
    entry = parse_entry(item)
    if entry is None or entry.device != name:
        return Decision(False, "allow-list entry breaks the schema")
    if entry.status != ALLOWED_STATUS:
        return Decision(False, f"listed with status {entry.status[:32]!r}")
    if entry.expires_at is not None and entry.expires_at <= now():
        return Decision(False, "listing expired")
    if entry.kind == "serial" and not CERTIFICATE_ID_RE.fullmatch(str(event.get("claimCertificateId") or "")):
        # A serial entry is for a device holding the claim certificate, never for a migrating password
        # device asking over its password connection for a name that is not its own.
        return Decision(False, "serial entry requested without a claim certificate")
    if entry.kind == "password-device" and not paired(event, name):
        # The topics are shared by every caller; the pairing is what makes a migration its own device's.
        return Decision(False, "password-device entry requested by another client ID")
    return Decision(True, f"listed ({entry.kind})", thing_name=name)
