"""`channelctl devices add/update`: extra topics outside the device's own scope need a stored reason."""

from __future__ import annotations

import json

from authorizer.handler import handler
from tests.authorizer.support import ACCOUNT, REGION, connect_event, policy_allows
from tests.channelctl.devices.test_devices import items, table  # noqa: F401
from tests.channelctl.devices.test_devices_hardening import IOT_STACK

PASSWORD = b"relay-cabinet-blue-42"
ARN = f"arn:aws:iot:{REGION}:{ACCOUNT}"


def test_add_refuses_another_familys_topic_without_a_reason(table, run):  # noqa: F811
    # The example iot stack: family1 -> plant/family1, family2 -> plant/family2.
    code, _, err = run("add", "dev1", "--family", "family1", "--publish", "plant/family2/dev9/cmd",
                       "--password-stdin", *IOT_STACK, stdin=PASSWORD + b"\n")
    assert code == 2
    assert ("--publish 'plant/family2/dev9/cmd' is outside the device's own scope (plant/family1/dev1/...) "
            "and reaches family 'family2'") in err and "--cross-scope-reason" in err
    assert items(table) == []


def test_add_stores_the_reason_and_the_authorizer_grants_the_topic(table, run, monkeypatch):  # noqa: F811
    monkeypatch.setenv("FAMILY_TOPIC_PREFIXES", json.dumps({"family1": "plant/family1", "family2": "plant/family2"}))
    code, _, err = run("add", "dev1", "--family", "family1", "--subscribe", "plant/family2/+/status",
                       "--cross-scope-reason", "line 2 watches family2", "--password-stdin", *IOT_STACK,
                       stdin=PASSWORD + b"\n")
    assert code == 0, err
    [item] = items(table)
    assert item["cross_scope_reason"] == "line 2 watches family2"
    response = handler(connect_event("dev1", PASSWORD), None)
    assert response["isAuthenticated"] is True
    assert policy_allows(response["policyDocuments"], "iot:Subscribe", f"{ARN}:topicfilter/plant/family2/+/status")
    # Clearing the reason while the topic stays is refused; clearing both is not.
    code, _, err = run("update", "dev1", "--clear", "cross_scope_reason", *IOT_STACK)
    assert code == 2 and "--cross-scope-reason" in err
    assert run("update", "dev1", "--clear", "cross_scope_reason", "--clear", "extra_subscribe", *IOT_STACK)[0] == 0


def test_topics_under_the_own_scope_need_no_reason(table, run):  # noqa: F811
    code, _, err = run("add", "dev2", "--family", "family1", "--publish", "plant/family1/dev2/alarms",
                       "--password-stdin", *IOT_STACK, stdin=PASSWORD + b"\n")
    assert code == 0, err
