"""Every policy property with a case it allows and a case it refuses.

The returned documents are evaluated with a small IAM-style evaluator
(tests/authorizer/support.py), so each check can be seen failing.
"""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from authorizer.errors import PolicyTooLarge
from authorizer.policy import MAX_POLICY_DOCUMENT_CHARS, MAX_POLICY_DOCUMENTS, build_policy_documents, pack_statements
from authorizer.records import MAX_EXTRA_TOPICS, MAX_TOPIC_BYTES, DeviceRecord
from authorizer.settings import Settings
from tests.authorizer.support import ACCOUNT, ENDPOINTS, REGION, policy_allows

SETTINGS = Settings(table_name="t", data_endpoint_ids=ENDPOINTS, region=REGION, account_id=ACCOUNT)
RECORD = DeviceRecord(username="meter-0001", password_hash="$6$x", family="meters")
ARN = f"arn:aws:iot:{REGION}:{ACCOUNT}"
THROUGH_GATEKEEPER = {"aws:SourceVpce": ENDPOINTS[1]}


def allows(action, resource, record=RECORD, settings=SETTINGS, context=None):
    return policy_allows(list(build_policy_documents(record, settings)), action, resource, context)


def test_connect_only_as_the_devices_own_client_id():
    assert allows("iot:Connect", f"{ARN}:client/meter-0001", context=THROUGH_GATEKEEPER)
    assert not allows("iot:Connect", f"{ARN}:client/meter-0002", context=THROUGH_GATEKEEPER)
    assert not allows("iot:Connect", f"{ARN}:client/meter-00011", context=THROUGH_GATEKEEPER)


def test_connect_as_the_client_id_from_the_record_when_it_has_one():
    record = replace(RECORD, client_id="thing:meter-0001")
    assert allows("iot:Connect", f"{ARN}:client/thing:meter-0001", record, context=THROUGH_GATEKEEPER)
    assert not allows("iot:Connect", f"{ARN}:client/meter-0001", record, context=THROUGH_GATEKEEPER)


def test_connect_only_through_the_gatekeepers_data_endpoints():
    for endpoint in ENDPOINTS:
        assert allows("iot:Connect", f"{ARN}:client/meter-0001", context={"aws:SourceVpce": endpoint})
    assert not allows("iot:Connect", f"{ARN}:client/meter-0001", context={"aws:SourceVpce": "vpce-0aaaaaaaaaaaaaaaa"})
    assert not allows("iot:Connect", f"{ARN}:client/meter-0001", context={})


@pytest.mark.parametrize("action", ["iot:Publish", "iot:Receive"])
def test_publish_and_receive_only_under_family_prefix_and_own_name(action):
    assert allows(action, f"{ARN}:topic/meters/meter-0001/telemetry")
    assert allows(action, f"{ARN}:topic/meters/meter-0001/a/b/c")
    assert not allows(action, f"{ARN}:topic/meters/meter-0002/telemetry")
    assert not allows(action, f"{ARN}:topic/meters/meter-00011/telemetry")
    assert not allows(action, f"{ARN}:topic/valves/meter-0001/telemetry")
    assert not allows(action, f"{ARN}:topic/meters/meter-0001")


def test_subscribe_only_under_family_prefix_and_own_name():
    assert allows("iot:Subscribe", f"{ARN}:topicfilter/meters/meter-0001/#")
    assert allows("iot:Subscribe", f"{ARN}:topicfilter/meters/meter-0001/+/cmd")
    assert not allows("iot:Subscribe", f"{ARN}:topicfilter/meters/#")
    assert not allows("iot:Subscribe", f"{ARN}:topicfilter/meters/+/telemetry")
    assert not allows("iot:Subscribe", f"{ARN}:topicfilter/#")


def test_configured_family_prefix_replaces_the_family_name():
    settings = replace(SETTINGS, family_topic_prefixes={"meters": "plant1/meters"})
    assert allows("iot:Publish", f"{ARN}:topic/plant1/meters/meter-0001/t", settings=settings)
    assert not allows("iot:Publish", f"{ARN}:topic/meters/meter-0001/t", settings=settings)


def test_extra_topics_from_the_record():
    record = replace(RECORD, extra_publish=("fleet/status",), extra_subscribe=("fleet/+/commands",),
                     cross_scope_reason="fleet-wide status and commands")
    assert allows("iot:Publish", f"{ARN}:topic/fleet/status", record)
    assert not allows("iot:Publish", f"{ARN}:topic/fleet/status/x", record)
    assert not allows("iot:Receive", f"{ARN}:topic/fleet/status", record)
    assert allows("iot:Subscribe", f"{ARN}:topicfilter/fleet/+/commands", record)
    assert not allows("iot:Subscribe", f"{ARN}:topicfilter/fleet/#", record)
    assert allows("iot:Receive", f"{ARN}:topic/fleet/line2/commands", record)
    assert not allows("iot:Receive", f"{ARN}:topic/fleet/line2/status", record)
    # Without extra topics the same requests are refused.
    assert not allows("iot:Publish", f"{ARN}:topic/fleet/status")
    assert not allows("iot:Subscribe", f"{ARN}:topicfilter/fleet/+/commands")


def test_no_action_beyond_connect_publish_receive_subscribe():
    for action in ("iot:UpdateThingShadow", "iot:GetRetainedMessage", "iot:DeleteThing", "iot:*"):
        assert not allows(action, f"{ARN}:client/meter-0001", context=THROUGH_GATEKEEPER)
        assert not allows(action, f"{ARN}:topic/meters/meter-0001/t")


def test_documents_contain_only_allows_and_no_policy_variables():
    record = replace(RECORD, extra_publish=("fleet/status",), extra_subscribe=("fleet/+/commands",))
    for document in build_policy_documents(record, SETTINGS):
        assert "${" not in document and "?" not in document
        assert {s["Effect"] for s in json.loads(document)["Statement"]} == {"Allow"}


@pytest.mark.parametrize(
    "record",
    [
        replace(RECORD, username="meter*"),
        replace(RECORD, username="meters/#"),
        replace(RECORD, username="${iot:ClientId}"),
        replace(RECORD, client_id="*"),
        replace(RECORD, extra_publish=("fleet/*",)),
        replace(RECORD, extra_subscribe=("#",)),
    ],
)
def test_records_that_would_widen_a_policy_are_refused_when_building(record):
    with pytest.raises(Exception, match="not allowed|not a safe|first level"):
        build_policy_documents(record, SETTINGS)


def test_the_largest_allowed_record_fits_iot_core_limits():
    topic = lambda i: (f"t{i:02d}/" + "x" * MAX_TOPIC_BYTES)[:MAX_TOPIC_BYTES]  # noqa: E731
    record = replace(
        RECORD,
        username="u" * 128,
        client_id="c" * 128,
        extra_publish=tuple(topic(i) for i in range(MAX_EXTRA_TOPICS)),
        extra_subscribe=tuple(topic(i + 50) for i in range(MAX_EXTRA_TOPICS)),
        cross_scope_reason="r" * 256,
    )
    settings = replace(
        SETTINGS,
        region="ap-southeast-5",
        data_endpoint_ids=tuple(f"vpce-{i:017x}" for i in range(4)),
        family_topic_prefixes={"meters": "p" * 128},
    )
    documents = build_policy_documents(record, settings)
    assert len(documents) <= MAX_POLICY_DOCUMENTS
    assert all(len(d) <= MAX_POLICY_DOCUMENT_CHARS for d in documents)
    assert allows("iot:Publish", f"arn:aws:iot:ap-southeast-5:{ACCOUNT}:topic/{topic(MAX_EXTRA_TOPICS - 1)}",
                  record, settings)


def test_statements_beyond_ten_documents_are_refused():
    statement = {"Effect": "Allow", "Action": "iot:Publish", "Resource": f"{ARN}:topic/" + "x" * 1900}
    assert len(pack_statements([statement] * MAX_POLICY_DOCUMENTS)) == MAX_POLICY_DOCUMENTS
    with pytest.raises(PolicyTooLarge, match="11 policy documents"):
        pack_statements([statement] * (MAX_POLICY_DOCUMENTS + 1))


# --- extra topics outside the device's own scope ------------------------------------------------

SCOPED = replace(SETTINGS, family_topic_prefixes={"meters": "plant/meters", "pumps": "plant/pumps"},
                 thing_topic_prefix="things")
# What a meter (user meter-0001, own scope plant/meters/meter-0001/...) must not reach unless asked for.
CROSS_SCOPE_PROBES = [
    ("publish", "plant/pumps/pump-1/cmd", "iot:Publish", "topic/plant/pumps/pump-1/cmd"),
    ("publish", "plant/meters/meter-0002/data", "iot:Publish", "topic/plant/meters/meter-0002/data"),
    ("publish", "things/pump-7/cmd", "iot:Publish", "topic/things/pump-7/cmd"),
    ("publish", "$aws/things/pump-7/shadow/update", "iot:Publish", "topic/$aws/things/pump-7/shadow/update"),
    ("subscribe", "plant/+/pump-1/cmd", "iot:Receive", "topic/plant/pumps/pump-1/cmd"),
    ("subscribe", "plant/#", "iot:Subscribe", "topicfilter/plant/#"),
    ("subscribe", "plant/meters/#", "iot:Receive", "topic/plant/meters/meter-0002/data"),
    ("subscribe", "$aws/things/+/shadow/#", "iot:Subscribe", "topicfilter/$aws/things/+/shadow/#"),
]


def probe_record(kind: str, topic: str, reason: str | None) -> DeviceRecord:
    field_name = "extra_publish" if kind == "publish" else "extra_subscribe"
    return replace(RECORD, username="meter-0001", **{field_name: (topic,)}, cross_scope_reason=reason)


@pytest.mark.parametrize(("kind", "topic", "action", "resource"), CROSS_SCOPE_PROBES)
def test_a_cross_scope_extra_topic_is_granted_only_with_a_reason(kind, topic, action, resource):
    resource = f"{ARN}:{resource}"
    assert not allows(action, resource, probe_record(kind, topic, None), SCOPED)
    assert allows(action, resource, probe_record(kind, topic, "line 2 meters read the pumps' commands"), SCOPED)


def test_0_of_8_cross_scope_extra_topic_probes_are_allowed_without_a_reason():
    allowed = sum(allows(action, f"{ARN}:{resource}", probe_record(kind, topic, None), SCOPED)
                  for kind, topic, action, resource in CROSS_SCOPE_PROBES)
    assert (len(CROSS_SCOPE_PROBES), allowed) == (8, 0)


def test_extra_topics_inside_the_own_scope_need_no_reason():
    record = replace(RECORD, username="meter-0001", extra_publish=("plant/meters/meter-0001/a/b",),
                     extra_subscribe=("plant/meters/meter-0001/+/c", "plant/meters/meter-0001/#"))
    assert allows("iot:Publish", f"{ARN}:topic/plant/meters/meter-0001/a/b", record, SCOPED)
    assert allows("iot:Subscribe", f"{ARN}:topicfilter/plant/meters/meter-0001/+/c", record, SCOPED)
    assert allows("iot:Subscribe", f"{ARN}:topicfilter/plant/meters/meter-0001/#", record, SCOPED)
