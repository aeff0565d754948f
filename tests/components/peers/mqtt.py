"""Hand-built MQTT CONNECT packets and a CONNACK reader (3.1.1 and 5)."""

from __future__ import annotations

import socket
import struct
from dataclasses import dataclass

MQTT_311 = 4
MQTT_5 = 5


def _remaining_length(length: int) -> bytes:
    out = bytearray()
    while True:
        byte, length = length % 128, length // 128
        out.append(byte | (0x80 if length else 0))
        if not length:
            return bytes(out)


def _field(value: str | bytes) -> bytes:
    data = value.encode() if isinstance(value, str) else value
    return struct.pack("!H", len(data)) + data


def connect_packet(
    client_id: str, username: str, password: str | bytes | None, *, version: int = MQTT_311, keepalive: int = 60
) -> bytes:
    """CONNECT with a user name and, unless None, a password (text or raw bytes)."""
    flags = 0x80 | 0x02 | (0x40 if password is not None else 0)  # username, [password], clean session/start
    header = _field("MQTT") + bytes([version, flags]) + struct.pack("!H", keepalive)
    if version == MQTT_5:
        header += b"\x00"  # no properties
    payload = _field(client_id) + _field(username) + (_field(password) if password is not None else b"")
    body = header + payload
    return b"\x10" + _remaining_length(len(body)) + body


@dataclass(frozen=True)
class Connack:
    session_present: bool
    return_code: int


def _read_exact(sock: socket.socket, count: int) -> bytes:
    data = b""
    while len(data) < count:
        chunk = sock.recv(count - len(data))
        if not chunk:
            raise ConnectionError(f"connection closed after {len(data)} of {count} bytes")
        data += chunk
    return data


def read_connack(sock: socket.socket) -> Connack:
    """The CONNACK's return code (3.1.1) or reason code (5)."""
    first = _read_exact(sock, 1)[0]
    if first >> 4 != 2:
        raise ValueError(f"expected CONNACK (type 2), got packet type {first >> 4}")
    length, multiplier = 0, 1
    while True:
        byte = _read_exact(sock, 1)[0]
        length += (byte & 0x7F) * multiplier
        multiplier *= 128
        if not byte & 0x80:
            break
    body = _read_exact(sock, length)
    return Connack(session_present=bool(body[0] & 0x01), return_code=body[1])
