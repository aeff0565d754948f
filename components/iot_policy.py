"""The IoT policy for certificate devices, as a pure function.

Connect only as client ID = thing name, only for a certificate attached to
that thing, and only through the gatekeeper's iot.data endpoint(s)
(``aws:SourceVpce``); publish, receive and subscribe only under the thing's
own topic prefix.
"""

from __future__ import annotations

import json
from typing import Sequence

THING = "${iot:Connection.Thing.ThingName}"


def thing_policy_document(
    *, region: str, account_id: str, topic_prefix: str, data_endpoint_ids: Sequence[str]
) -> dict:
    if not data_endpoint_ids:
        raise ValueError("an IoT policy without iot.data endpoint IDs would allow Connect from anywhere")
    arn = f"arn:aws:iot:{region}:{account_id}"
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "ConnectAsOwnThingThroughGatekeeper",
                "Effect": "Allow",
                "Action": "iot:Connect",
                "Resource": f"{arn}:client/{THING}",
                "Condition": {
                    "StringEquals": {"aws:SourceVpce": sorted(data_endpoint_ids)},
                    "Bool": {"iot:Connection.Thing.IsAttached": "true"},
                },
            },
            {
                "Sid": "PublishReceiveOwnTopics",
                "Effect": "Allow",
                "Action": ["iot:Publish", "iot:Receive"],
                "Resource": f"{arn}:topic/{topic_prefix}/{THING}/*",
            },
            {
                "Sid": "SubscribeOwnTopics",
                "Effect": "Allow",
                "Action": "iot:Subscribe",
                "Resource": f"{arn}:topicfilter/{topic_prefix}/{THING}/*",
            },
        ],
    }


def thing_policy_json(**kwargs) -> str:
    return json.dumps(thing_policy_document(**kwargs), separators=(",", ":"))
