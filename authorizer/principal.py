"""The principalId IoT Core logs for a connection."""

from __future__ import annotations

import hashlib
import re

READABLE_PREFIX_LENGTH = 40
_NOT_ALNUM = re.compile(r"[^A-Za-z0-9]")


def principal_id(username: str) -> str:
    """Readable part of the user name + SHA-256 of the whole name: [A-Za-z0-9]{65,104}.

    The digest makes it collision-resistant (``a.b`` and ``ab`` share the
    readable part, not the digest) and bounds the length whatever the name.
    """
    readable = _NOT_ALNUM.sub("", username)[:READABLE_PREFIX_LENGTH]
    return readable + hashlib.sha256(username.encode("utf-8")).hexdigest()
