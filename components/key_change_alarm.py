"""The credentials key's change alarm: which CloudTrail events of AWS KMS mean someone changed who
may use the key, and the policy statements that let EventBridge deliver them to the alarm topic.

FleetMonitoring declares the EventBridge rule and its target; this module holds the pure parts so
the plan's checks and the tests read the same pattern the stack deploys.

Prerequisite (EventBridge user guide, "AWS service events delivered via AWS CloudTrail",
docs.aws.amazon.com/eventbridge/latest/userguide/eb-service-event-cloudtrail.html): "To record
events with a detail-type value of AWS API Call via CloudTrail, a CloudTrail trail with logging
enabled is required." The rule matches nothing in an account and Region without such a trail
(docs/monitoring-and-runbooks.md says so).
"""

from __future__ import annotations

import json
from typing import Any

# An AWS API call recorded by CloudTrail, as EventBridge delivers it to the default event bus
# (same page): source aws.<service>, detail-type "AWS API Call via CloudTrail", the CloudTrail
# record as detail; KMS records name eventSource kms.amazonaws.com (KMS developer guide, "Logging
# AWS KMS API calls with AWS CloudTrail", the ct-*.html examples).
EVENT_SOURCE = "aws.kms"
DETAIL_TYPE = "AWS API Call via CloudTrail"
KMS_EVENT_SOURCE = "kms.amazonaws.com"

# What changes who may use the key, or whether anyone can:
# - PutKeyPolicy: a new key policy may name new users (the policy is the key's primary control).
# - CreateGrant: a grant hands out key use beside the policy; RetireGrant/RevokeGrant take grants
#   away (DynamoDB's own grants included: the table stops decrypting).
# - DisableKey, ScheduleKeyDeletion: the table becomes unreadable, so the authorizer refuses every
#   password device until the key is back (an outage that looks like tampering, and may be).
#   Both are rare administrative calls, so they cost no alarm noise.
# Not listed: EnableKey and CancelKeyDeletion undo the two above (the earlier alarm already
# fired); rotation changes no permission.
KEY_CHANGE_EVENTS = (
    "PutKeyPolicy",
    "CreateGrant",
    "RetireGrant",
    "RevokeGrant",
    "DisableKey",
    "ScheduleKeyDeletion",
)


def key_change_pattern(key_arn: str) -> dict[str, Any]:
    """The EventBridge event pattern: one of KEY_CHANGE_EVENTS on the key ``key_arn``.

    The key is matched in ``detail.resources[].ARN``, the one field every one of these records
    carries with the key's ARN: ``requestParameters.keyId`` is the key as the caller wrote it (a
    bare key ID in the PutKeyPolicy and RevokeGrant examples, an ARN in CreateGrant's) and
    RetireGrant's ``requestParameters`` is null (KMS developer guide, ct-put-key-policy.html,
    ct-revoke-grant.html, ct-creategrant.html, ct-retire-grant.html: each shows
    ``"resources": [{"type": "AWS::KMS::Key", "ARN": "arn:aws:kms:...:key/..."}]``).
    EventBridge matches a field of objects inside an array element by element (EventBridge user
    guide, "Arrays in event patterns"; aws/event-ruler README, "JSON Array Matching").
    """
    return {
        "source": [EVENT_SOURCE],
        "detail-type": [DETAIL_TYPE],
        "detail": {
            "eventSource": [KMS_EVENT_SOURCE],
            "eventName": list(KEY_CHANGE_EVENTS),
            "resources": {"ARN": [key_arn]},
        },
    }


def key_change_pattern_json(key_arn: str) -> str:
    return json.dumps(key_change_pattern(key_arn), sort_keys=True)


def rule_publishes_statement(topic_arn: str, rule_arn: str) -> dict[str, Any]:
    """Topic policy: EventBridge publishes to the topic only for this one rule (confused deputy).

    EventBridge user guide, "Using resource-based policies for Amazon EventBridge", Amazon SNS
    permissions (eb-use-resource-based.html#eb-sns-permissions): principal events.amazonaws.com,
    sns:Publish, and "Cross-service confused deputy prevention": aws:SourceArn = the rule's ARN.
    """
    return {
        "Sid": "KeyChangeRulePublishes",
        "Effect": "Allow",
        "Principal": {"Service": "events.amazonaws.com"},
        "Action": "sns:Publish",
        "Resource": topic_arn,
        "Condition": {"ArnEquals": {"aws:SourceArn": rule_arn}},
    }


# Key policy of the topic's key: EventBridge publishing to an encrypted topic needs
# kms:GenerateDataKey* and kms:Decrypt on the topic's key for events.amazonaws.com (SNS developer
# guide, "Enable compatibility between event sources from AWS services and encrypted topics",
# sns-key-management.html#compatibility-with-aws-services). The same page says adding
# aws:SourceAccount or aws:SourceArn to the key policy "is not supported for EventBridge-to-encrypted
# topics" (quoted in awslabs/landing-zone-accelerator-on-aws#407; awslabs/aws-deployment-framework#769
# saw delivery fail with aws:SourceArn): so this statement carries no source condition. What keeps
# another account's rule out is the topic policy above (sns:Publish only for this rule's ARN), and the
# statement grants nothing but the two data-key calls SNS makes for a publisher.
EVENTBRIDGE_KEY_ACTIONS = ("kms:Decrypt", "kms:GenerateDataKey*")


def eventbridge_key_statement() -> dict[str, Any]:
    return {
        "Sid": "EventBridgePublishesToTheEncryptedTopic",
        "Effect": "Allow",
        "Principal": {"Service": "events.amazonaws.com"},
        "Action": list(EVENTBRIDGE_KEY_ACTIONS),
        "Resource": "*",
    }
