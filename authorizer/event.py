"""The AWS IoT Core custom-authorizer event, typed.

Shape (IoT developer guide, "Defining your Lambda function")::

    {"token": "...", "signatureVerified": false, "protocols": ["tls", "mqtt"],
     "protocolData": {"tls": {"serverName": "..."},
                      "mqtt": {"username": "...", "password": "<base64>", "clientId": "..."}},
     "connectionMetadata": {"id": "..."}}

IoT Core leaves out what does not apply (``clientId`` only when the device sent
one), so every property is Optional and returns None for a missing field or a
field of the wrong type; nothing here raises on a strange event.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Any, Mapping

from .errors import MalformedEvent
from .hashes import MAX_PASSWORD_BYTES
from .records import validate_username


class AuthorizerEvent:
    """Read-only view over the raw event dict."""

    def __init__(self, raw: Any):
        self._raw = raw if isinstance(raw, Mapping) else {}

    def _get(self, *path: str) -> Any:
        node: Any = self._raw
        for key in path:
            if not isinstance(node, Mapping):
                return None
            node = node.get(key)
        return node

    def _str(self, *path: str) -> str | None:
        value = self._get(*path)
        return value if isinstance(value, str) else None

    @property
    def token(self) -> str | None:
        return self._str("token")

    @property
    def signature_verified(self) -> bool | None:
        value = self._get("signatureVerified")
        return value if isinstance(value, bool) else None

    @property
    def protocols(self) -> tuple[str, ...]:
        value = self._get("protocols")
        return tuple(p for p in value if isinstance(p, str)) if isinstance(value, list) else ()

    @property
    def tls_server_name(self) -> str | None:
        return self._str("protocolData", "tls", "serverName")

    @property
    def mqtt_username(self) -> str | None:
        return self._str("protocolData", "mqtt", "username")

    @property
    def mqtt_password(self) -> str | None:
        """The password as IoT Core sends it: base64 text."""
        return self._str("protocolData", "mqtt", "password")

    @property
    def mqtt_client_id(self) -> str | None:
        return self._str("protocolData", "mqtt", "clientId")

    @property
    def connection_id(self) -> str | None:
        return self._str("connectionMetadata", "id")


@dataclass(frozen=True)
class ConnectRequest:
    """What the decision needs from a CONNECT, validated."""

    username: str
    password: bytes | None  # None: the CONNECT carried no password
    client_id: str | None
    connection_id: str | None = None

    def __repr__(self) -> str:  # keeps the password out of any accidental log line
        return f"ConnectRequest(username={self.username!r}, client_id={self.client_id!r})"


def parse_request(event: AuthorizerEvent) -> ConnectRequest:
    """Validate the MQTT fields; raise MalformedEvent / InvalidUsername."""
    username = event.mqtt_username
    if username is None:
        raise MalformedEvent("protocolData.mqtt.username is missing")
    validate_username(username, "protocolData.mqtt.username")
    encoded = event.mqtt_password
    password = _decode_password(encoded) if encoded is not None else None
    connection_id = event.connection_id
    return ConnectRequest(
        username=username,
        password=password,
        client_id=event.mqtt_client_id,
        connection_id=connection_id if connection_id and len(connection_id) <= 128 else None,
    )


def _decode_password(encoded: str) -> bytes:
    # Base64 of the largest MQTT password is 87,380 characters; refuse more before decoding.
    if len(encoded) > 4 * ((MAX_PASSWORD_BYTES + 2) // 3):
        raise MalformedEvent("protocolData.mqtt.password is longer than an MQTT password can be")
    try:
        return base64.b64decode(encoded.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError):
        raise MalformedEvent("protocolData.mqtt.password is not valid base64") from None
