"""Whether a client ID is a registered thing's name, asked of the IoT registry (DescribeThing).

A certificate device connects as client ID = its thing name (components/iot_policy.py), and
IoT Core drops the older of two connections with one client ID. A password device given that
client ID (``--client-id``) would knock the thing off, and the thing it: so ``channelctl
devices add`` and ``update`` refuse a client ID that names a registered thing. A client ID equal
to the device's own user name is not asked about: that is the same device moving to a
certificate under the name the authorizer knew (docs/certificates-and-provisioning.md).

Fail closed: if the registry cannot be asked (no permission, no network), the client ID is
refused with the reason. Things registered after the record was written are not seen here;
the client-id-conflicts alarm (components/fleet_monitoring.py) catches the disconnects.
"""

from __future__ import annotations

import boto3
from botocore.exceptions import BotoCoreError, ClientError


def thing_exists(name: str, region: str | None = None) -> tuple[bool | None, str]:
    """(True, "") a thing has that name, (False, "") none has, (None, why) the registry could not be asked."""
    try:
        boto3.client("iot", region_name=region).describe_thing(thingName=name)
    except ClientError as err:
        code = err.response.get("Error", {}).get("Code", "")
        if code == "ResourceNotFoundException":
            return False, ""
        return None, code or type(err).__name__
    except BotoCoreError as err:
        return None, type(err).__name__
    return True, ""
