"""The strength a new device password must have (``channelctl devices add`` and ``set-password``).

A device password is the device's only authenticator, and anyone who sends the custom
domain's SNI can try it (docs/security-model.md), so the rule is NIST SP 800-63B-4's for a
password used as a single-factor authenticator (section 3.1.1.2, "Password verifiers"):

- at least 15 characters, each Unicode code point counted as one (a byte that is not
  UTF-8 counts as one too);
- no composition rules (NIST: verifiers SHALL NOT impose them);
- refused if it is a value of the kinds NIST lists for blocklists that can be told from the
  password alone: the user name inside it (a context-specific word, case ignored), one
  unit repeated (``aaaa...``, ``abcabc...``), or a run of consecutive characters
  (``0123456789...``, ``abcdef...``, either direction).

Machine-generated passwords pass easily: ``openssl rand -base64 24`` is 32 characters of
about 6 bits each. Lockout can be turned off per family only for such fleets (README,
"Lockout: the trade-off").
"""

from __future__ import annotations

import re

MIN_CHARACTERS = 15  # NIST SP 800-63B-4, 3.1.1.2: passwords used as a single factor
_REPEATED = re.compile(r"(.+?)\1+", re.S)


def password_weakness(password: bytes, username: str) -> str | None:
    """Why password is too weak for username's device, or None if it is strong enough."""
    text = password.decode("utf-8", "surrogateescape")
    if len(text) < MIN_CHARACTERS:
        return (f"the password has {len(text)} characters; at least {MIN_CHARACTERS} are needed "
                "(NIST SP 800-63B-4 for a password that is the only factor)")
    if username and username.casefold() in text.casefold():
        return "the password contains the device's user name"
    if _REPEATED.fullmatch(text):
        return "the password is one short sequence repeated"
    steps = {ord(b) - ord(a) for a, b in zip(text, text[1:])}
    if steps in ({1}, {-1}):
        return "the password is a run of consecutive characters"
    return None
