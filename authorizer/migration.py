"""Password devices moving to certificates: the provisioning topics a migrating device may use.

A family listed in ``MIGRATING_FAMILIES`` is migrating: the policy of each of its devices also allows
the fleet-provisioning MQTT API of this stack's claim template (``PROVISIONING_TEMPLATE``), so the
device can ask IoT Core for its own certificate over its password connection and register the thing
named after its user name (docs/certificates-and-provisioning.md, "Migrating a password device").

Those topics are not per device: ``$aws/certificates/create/<format>`` and
``$aws/provisioning-templates/<template>/provision/<format>`` are the same for every caller, and IoT
Core answers on ``.../accepted`` and ``.../rejected`` "through the same MQTT connection used to
publish the API request" (AWS IoT Core developer guide, "Device provisioning MQTT API"), so one
device never receives another's certificate or key. An IoT policy cannot say which thing name a
RegisterThing request may ask for (the name is in the payload, which policies do not see), so the
pairing "this device registers only itself" is the pre-provisioning hook's: it admits a
``password-device`` entry only when the request's client ID is the listed name
(``provisioning_hook/decision.py``). Here the topics go only to a device that connects as its own
name (client ID = user name, so the hook's check names it) and is not retired; every other device of
the family, and every device of another family, gets none.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any, Mapping

from .errors import AuthorizerError, SettingsError
from .records import DeviceRecord, validate_family

# The provisioning API's payload formats (AWS IoT Core developer guide, "Device provisioning MQTT API":
# payload-format json or cbor); components/fleet_provisioning.py PAYLOAD_FORMATS says the same.
PAYLOAD_FORMATS = ("json", "cbor")
# Provisioning template names: 1-36 of [0-9A-Za-z_-] (AWS IoT API reference, CreateProvisioningTemplate
# templateName); components/config/provisioning.py validates the stack's name the same way.
TEMPLATE_NAME = re.compile(r"[0-9A-Za-z_-]{1,36}")


def provisioning_topics(template: str) -> dict[str, list[str]]:
    """What a device publishes to and the replies it subscribes to, for CreateKeysAndCertificate and
    RegisterThing of ``template`` (the claim policy's topics: components/fleet_provisioning.py claim_topics)."""
    publish: list[str] = []
    replies: list[str] = []
    for fmt in PAYLOAD_FORMATS:
        for base in ("$aws/certificates/create", f"$aws/provisioning-templates/{template}/provision"):
            publish.append(f"{base}/{fmt}")
            replies += [f"{base}/{fmt}/accepted", f"{base}/{fmt}/rejected"]
    return {"publish": publish, "replies": replies}


def may_provision(record: DeviceRecord, migrating_families: frozenset[str], template: str) -> bool:
    """Only a device of a migrating family, not retired, whose client ID is its own user name."""
    return (
        bool(template)
        and record.family in migrating_families
        and record.retired_at is None
        and record.expected_client_id == record.username
    )


def migration_statements(record: DeviceRecord, migrating_families: frozenset[str], template: str,
                         iot_arn: Any) -> list[dict[str, Any]]:
    """The provisioning statements for record (empty unless may_provision)."""
    if not may_provision(record, migrating_families, template):
        return []
    if not TEMPLATE_NAME.fullmatch(template):
        return []
    topics = provisioning_topics(template)
    return [
        {"Effect": "Allow", "Action": "iot:Publish", "Resource": [iot_arn(f"topic/{t}") for t in topics["publish"]]},
        {"Effect": "Allow", "Action": "iot:Subscribe",
         "Resource": [iot_arn(f"topicfilter/{t}") for t in topics["replies"]]},
        {"Effect": "Allow", "Action": "iot:Receive", "Resource": [iot_arn(f"topic/{t}") for t in topics["replies"]]},
    ]


def load_migration(environ: Mapping[str, str]) -> tuple[frozenset[str], str]:
    """``MIGRATING_FAMILIES`` (comma-separated families) and ``PROVISIONING_TEMPLATE`` (the claim template's
    name, required when a family migrates); raise SettingsError naming the variable."""
    raw = environ.get("MIGRATING_FAMILIES") or ""
    try:
        families = frozenset(
            validate_family(part.strip(), "MIGRATING_FAMILIES family") for part in raw.split(",") if part.strip()
        )
    except AuthorizerError as err:
        raise SettingsError(f"{err} — list family names, comma-separated, e.g. meters,valves") from None
    template = environ.get("PROVISIONING_TEMPLATE") or ""
    if template and not TEMPLATE_NAME.fullmatch(template):
        raise SettingsError(
            f"PROVISIONING_TEMPLATE {template[:80]!r} is not a provisioning template name — 1-36 of letters, digits, "
            "'_' and '-'; set it to the claim template's name (fleetProvisioning.templateName)"
        )
    if families and not template:
        raise SettingsError(
            f"MIGRATING_FAMILIES {raw[:80]!r} needs PROVISIONING_TEMPLATE — the claim template the devices register "
            "with; turn fleetProvisioning.enabled on in the iot stack"
        )
    return families, template


# Written on every password login of a migrating family's device (one UpdateItem, only while the family
# migrates): `channelctl devices migration` tells a certificate session from a password one by it, since
# IoT Core's connectivity data names the client ID, not how the device authenticated.
PASSWORD_LOGIN_ATTRIBUTE = "password_login_at"


def record_password_login(table_name: str, username: str, now: datetime) -> None:
    """Stamp the record with this password login (the function's role may write this attribute)."""
    from .store import dynamodb_client

    dynamodb_client().update_item(
        TableName=table_name,
        Key={"username": {"S": username}},
        UpdateExpression="SET #p = :now",
        ConditionExpression="attribute_exists(username)",
        ExpressionAttributeNames={"#p": PASSWORD_LOGIN_ATTRIBUTE},
        ExpressionAttributeValues={":now": {"S": now.replace(microsecond=0).isoformat()}},
    )
