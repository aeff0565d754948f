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


# --- imported hashes -----------------------------------------------------------------

# OWASP Password Storage Cheat Sheet ("PBKDF2"): PBKDF2-HMAC-SHA512 needs 210,000 iterations.
MIN_PBKDF2_SHA512_ITERATIONS = 210_000


def weak_hash(stored: object) -> str | None:
    """Why an imported hash's scheme is too weak to keep (rotate the password), or None.

    Allow-list: PBKDF2-HMAC-SHA512 (Mosquitto ``$7$``) with at least 210,000 iterations, and
    the project's scrypt at or above the cost ``channelctl`` writes. Everything else is flagged.
    """
    scheme = getattr(stored, "scheme", None)
    if scheme == "mosquitto-pbkdf2":
        iterations = getattr(stored, "iterations", 0)
        if iterations >= MIN_PBKDF2_SHA512_ITERATIONS:
            return None
        return (f"PBKDF2-SHA512 with {iterations} iterations (OWASP asks for {MIN_PBKDF2_SHA512_ITERATIONS:,}); "
                "a stolen table is cheap to crack")
    if scheme == "scrypt":
        from authorizer.hashes import DEFAULT_SCRYPT

        params = getattr(stored, "params", None)
        if params is not None and (params.log2_n, params.r) >= (DEFAULT_SCRYPT.log2_n, DEFAULT_SCRYPT.r):
            return None
        return "scrypt below the cost channelctl writes"
    if scheme == "mosquitto-sha512":
        return "one SHA-512 of password and salt ($6$), no work factor; a stolen table is cheap to crack"
    return f"{scheme or 'unknown scheme'} is not on the list of schemes kept"
