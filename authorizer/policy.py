"""Least-privilege IoT policies for one authenticated device.

Connect: only as the device's own client ID and only through one of the
gatekeeper's iot.data endpoints (``aws:SourceVpce``). Publish/Receive/Subscribe:
only under ``<family prefix>/<username>/``, plus the record's extra topics; a family
whose prefix overlaps another's or the certificate things' is refused
(``authorizer.scopes``).
Every value placed into an ARN is re-validated here, so a record that slipped
past import can never widen a policy.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from .errors import PolicyTooLarge, TopicScopeOverlap
from .migration import migration_statements
from .records import DeviceRecord, validate_client_id, validate_topic, validate_topic_prefix, validate_username
from .scopes import cross_scope_reach, family_overlap
from .settings import Settings

# IoT Core custom-authorizer response limits (IoT developer guide, "Defining your Lambda function").
MAX_POLICY_DOCUMENTS = 10
MAX_POLICY_DOCUMENT_CHARS = 2_048
POLICY_VERSION = "2012-10-17"

Statement = dict[str, Any]
LOG = logging.getLogger("authorizer")


def device_statements(record: DeviceRecord, settings: Settings) -> list[Statement]:
    username = validate_username(record.username)
    client_id = validate_client_id(record.expected_client_id)
    prefix = validate_topic_prefix(settings.topic_prefix(record.family), f"topic prefix of family {record.family!r}")
    overlap = family_overlap(record.family, settings.family_topic_prefixes, settings.thing_topic_prefix)
    if overlap:
        raise TopicScopeOverlap(overlap)
    own = f"{prefix}/{username}/*"
    statements: list[Statement] = [
        {
            "Effect": "Allow",
            "Action": "iot:Connect",
            "Resource": settings.iot_arn(f"client/{client_id}"),
            "Condition": {"StringEquals": {"aws:SourceVpce": list(settings.data_endpoint_ids)}},
        },
        {
            "Effect": "Allow",
            "Action": ["iot:Publish", "iot:Receive"],
            "Resource": settings.iot_arn(f"topic/{own}"),
        },
        {
            "Effect": "Allow",
            "Action": "iot:Subscribe",
            "Resource": settings.iot_arn(f"topicfilter/{own}"),
        },
    ]
    publish = [validate_topic(t, "extra_publish") for t in record.extra_publish]
    subscribe = [validate_topic(t, "extra_subscribe", allow_wildcards=True) for t in record.extra_subscribe]
    if not record.cross_scope_reason:
        # An extra topic outside the device's own scope is granted only with the reason
        # channelctl stores for it (--cross-scope-reason); a record written around channelctl
        # keeps its own-scope topics and loses the others.
        publish, subscribe = _own_scope_only(record, settings, publish, subscribe)
    if publish:
        statements.append(
            {"Effect": "Allow", "Action": "iot:Publish", "Resource": [settings.iot_arn(f"topic/{t}") for t in publish]}
        )
    if subscribe:
        # IoT treats + and # in a topicfilter resource literally, so Subscribe is exact;
        # Receive is checked against topic names, where * stands in for the wildcard levels.
        statements.append(
            {
                "Effect": "Allow",
                "Action": "iot:Subscribe",
                "Resource": [settings.iot_arn(f"topicfilter/{f}") for f in subscribe],
            }
        )
        statements.append(
            {
                "Effect": "Allow",
                "Action": "iot:Receive",
                "Resource": sorted({settings.iot_arn(f"topic/{_receive_pattern(f)}") for f in subscribe}),
            }
        )
    # A migrating family's device may also provision its own certificate (authorizer/migration.py).
    statements += migration_statements(record, settings.migrating_families, settings.provisioning_template,
                                       settings.iot_arn)
    return statements


def _own_scope_only(
    record: DeviceRecord, settings: Settings, publish: list[str], subscribe: list[str]
) -> tuple[list[str], list[str]]:
    kept = []
    for topics in (publish, subscribe):
        kept.append([
            t for t in topics
            if cross_scope_reach(t, record.family, record.username, settings.family_topic_prefixes,
                                 settings.thing_topic_prefix) is None
        ])
    dropped = len(publish) + len(subscribe) - len(kept[0]) - len(kept[1])
    if dropped:
        LOG.error("policy: %d extra topic(s) outside the device's own scope left out: the record has no "
                  "cross_scope_reason", dropped)
    return kept[0], kept[1]


def build_policy_documents(record: DeviceRecord, settings: Settings) -> tuple[str, ...]:
    """The device's policy as JSON documents within IoT Core's count and size limits."""
    return pack_statements(device_statements(record, settings))


def pack_statements(statements: list[Statement]) -> tuple[str, ...]:
    """Pack statements into as few documents as fit, spreading a long resource list over several."""
    documents: list[list[Statement]] = [[]]
    for statement in statements:
        remaining = _resources(statement)
        while remaining:
            taken = _fitting_count(documents[-1], statement, remaining)
            if taken == 0:
                if not documents[-1]:
                    raise PolicyTooLarge("one policy resource does not fit into a 2,048-character document")
                documents.append([])
                continue
            piece = {**statement, "Resource": remaining[:taken]} if isinstance(statement["Resource"], list) else statement
            documents[-1].append(piece)
            remaining = remaining[taken:]
    if len(documents) > MAX_POLICY_DOCUMENTS:
        raise PolicyTooLarge(
            f"the device's statements need {len(documents)} policy documents — IoT Core accepts "
            f"{MAX_POLICY_DOCUMENTS}; remove extra topics from its record"
        )
    return tuple(_document(doc) for doc in documents)


def _resources(statement: Statement) -> list[str]:
    resource = statement["Resource"]
    return list(resource) if isinstance(resource, list) else [resource]


def _fitting_count(document: list[Statement], statement: Statement, resources: list[str]) -> int:
    """How many of resources fit into document as one more statement (0: none)."""
    if not isinstance(statement["Resource"], list):
        return 1 if _size(document + [statement]) <= MAX_POLICY_DOCUMENT_CHARS else 0
    count = 0
    while count < len(resources):
        candidate = document + [{**statement, "Resource": resources[: count + 1]}]
        if _size(candidate) > MAX_POLICY_DOCUMENT_CHARS:
            break
        count += 1
    return count


def _receive_pattern(topic_filter: str) -> str:
    return "/".join("*" if level in ("+", "#") else level for level in topic_filter.split("/"))


def _document(statements: list[Statement]) -> str:
    return json.dumps({"Version": POLICY_VERSION, "Statement": statements}, separators=(",", ":"))


def _size(statements: list[Statement]) -> int:
    return len(_document(statements))
