"""Topic scopes: no device ever reaches another family's or a certificate thing's topics.

A device of family ``f`` named ``u`` owns ``<prefix of f>/<u>/*``; a certificate
device (thing ``t``) owns ``<thing topic prefix>/<t>/*`` (the IoT policy in
``components/iot_policy.py``). A family not listed in the prefixes uses its own
name as prefix.

Two scopes are apart only if neither prefix is the other or one of its leading
parts, compared level by level: with ``family1: plant/family1``, a family
``plant`` would own ``plant/family1/*`` through a device named ``family1``, and
a family ``things`` would own thing ``pump-7``'s topics through a device named
``pump-7``. So every family's prefix must be apart from every other family's
and from the thing topic prefix; then no ``<prefix>/<user name>`` can equal,
contain or sit inside another's scope, whatever the user name.

Pure functions, standard library only: the authorizer, the stack configuration
and ``channelctl devices`` all apply these same rules.
"""

from __future__ import annotations

from typing import Mapping


def levels(prefix: str) -> tuple[str, ...]:
    return tuple(prefix.split("/"))


def prefixes_overlap(a: str, b: str) -> bool:
    """True if one prefix equals the other or is made of its leading levels."""
    la, lb = levels(a), levels(b)
    shorter = min(len(la), len(lb))
    return la[:shorter] == lb[:shorter]


def family_prefix(family: str, prefixes: Mapping[str, str]) -> str:
    return prefixes.get(family, family)


def configuration_overlaps(prefixes: Mapping[str, str], thing_prefix: str) -> list[str]:
    """Every pair of listed family prefixes, or prefix and thing prefix, that overlap (empty: apart)."""
    problems = []
    items = sorted(prefixes.items())
    for index, (family, prefix) in enumerate(items):
        if prefixes_overlap(prefix, thing_prefix):
            problems.append(
                f"family {family!r} prefix {prefix!r} overlaps the certificate devices' topic prefix {thing_prefix!r}"
            )
        for other, other_prefix in items[index + 1 :]:
            if prefixes_overlap(prefix, other_prefix):
                problems.append(
                    f"family {family!r} prefix {prefix!r} overlaps family {other!r} prefix {other_prefix!r}"
                )
    return problems


def family_overlap(family: str, prefixes: Mapping[str, str], thing_prefix: str) -> str | None:
    """Why family's scope is not apart from the other families' and the things' (None: it is)."""
    own = family_prefix(family, prefixes)
    if prefixes_overlap(own, thing_prefix):
        return (
            f"family {family!r} has topic prefix {own!r}, which overlaps the certificate devices' "
            f"topic prefix {thing_prefix!r} — its devices could reach a thing's topics"
        )
    for other, prefix in sorted(prefixes.items()):
        if other != family and prefixes_overlap(own, prefix):
            return (
                f"family {family!r} has topic prefix {own!r}, which overlaps family {other!r} prefix {prefix!r} — "
                "its devices could reach the other family's topics; use another family name or list "
                "a prefix of its own for it"
            )
    return None
