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


# --------------------------------------------------------------------------- #
# Extra topics: inside the device's own scope, or granted on purpose
# --------------------------------------------------------------------------- #

# A record's reason for extra topics outside the device's own scope (DynamoDB attribute).
CROSS_SCOPE_REASON_ATTRIBUTE = "cross_scope_reason"
MAX_REASON_LENGTH = 256
_ANY = "+"


def _matches(topic_levels: list[str], scope: tuple[str, ...]) -> bool:
    """True if the topic name or MQTT filter can match a topic under scope (scope "+" = any one level)."""
    for index, wanted in enumerate(scope):
        if index >= len(topic_levels):
            return False
        level = topic_levels[index]
        if level == "#":
            return True
        if level != "+" and wanted != _ANY and level != wanted:
            return False
    return True


def inside_own_scope(topic: str, prefix: str, username: str) -> bool:
    """True if every topic the name or filter can match lies under ``<prefix>/<username>``, level by level."""
    own = levels(prefix) + (username,)
    topic_levels = topic.split("/")
    return len(topic_levels) >= len(own) and tuple(topic_levels[: len(own)]) == own


def cross_scope_reach(
    topic: str, family: str, username: str, prefixes: Mapping[str, str], thing_prefix: str
) -> str | None:
    """None if topic stays inside the device's own scope; else what else it can reach, in words.

    The own scope is ``<family prefix>/<user name>`` and below (the allow-list);
    everything else is cross-scope, and the words name what it reaches: another
    family's devices, another device of its own family, the certificate
    things' topics, any thing's ``$aws/things/...`` topics, another reserved
    ``$`` topic, or topics outside every scope.
    """
    own_prefix = family_prefix(family, prefixes)
    if inside_own_scope(topic, own_prefix, username):
        return None
    topic_levels = topic.split("/")
    reached = []
    for other, prefix in sorted(prefixes.items()):
        if other != family and _matches(topic_levels, levels(prefix) + (_ANY,)):
            reached.append(f"family {other!r} ({prefix}/...)")
    if _matches(topic_levels, levels(own_prefix) + (_ANY,)):
        reached.append(f"other devices of its own family ({own_prefix}/...)")
    if _matches(topic_levels, levels(thing_prefix) + (_ANY,)):
        reached.append(f"the certificate things' topics ({thing_prefix}/...)")
    if _matches(topic_levels, ("$aws", "things", _ANY)):
        reached.append("things' shadows and jobs ($aws/things/...)")
    elif topic_levels[0].startswith("$"):
        reached.append("a reserved $ topic")
    if not reached:
        reached.append("topics of no listed family or thing")
    return ", ".join(reached)


def cross_scope_problems(
    topics: "list[tuple[str, str]]", family: str, username: str, prefixes: Mapping[str, str], thing_prefix: str,
    reason: str | None,
) -> list[str]:
    """For (field, topic) pairs: one line per topic outside the own scope when no reason is given."""
    if reason:
        return []
    problems = []
    for field_name, topic in topics:
        reach = cross_scope_reach(topic, family, username, prefixes, thing_prefix)
        if reach is not None:
            problems.append(
                f"{field_name} {topic!r} is outside the device's own scope "
                f"({family_prefix(family, prefixes)}/{username}/...) and reaches {reach}"
            )
    return problems
