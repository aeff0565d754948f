"""Values from an event or a record, made safe to put into a log line.

A log line is ``key=value`` words; a value from outside (the connection ID,
a user name, an error message quoting a record) could carry a newline that
starts a forged line, or a space and ``reason=Allow`` that forges a field.
Allow-list: letters, digits and ``._:@/+-`` pass; every other byte of the
UTF-8 text is written ``%XX``, so a value is always one word on one line.
"""

from __future__ import annotations

import re

_SAFE = re.compile(r"[A-Za-z0-9._:@/+-]")
DEFAULT_LIMIT = 128  # the longest connection ID or user name the authorizer accepts


def field(value: object, limit: int = DEFAULT_LIMIT) -> str:
    """value as one escaped word of at most about limit characters of the original (None -> "None")."""
    if value is None:
        return "None"
    text = str(value)
    cut = len(text) > limit
    out = "".join(c if _SAFE.fullmatch(c) else "".join(f"%{b:02X}" for b in c.encode("utf-8", "replace"))
                  for c in text[:limit])
    return out + ("..." if cut else "")
