"""The migration's pairing: a password device's allow-list entry admits only the request made over
that device's own connection (client ID = the listed name), and the claim template's parameters are
what the hook reads — the RegisterThing request of docs/certificates-and-provisioning.md, as far as it
can be carried out offline."""

from __future__ import annotations

import json

from components.fleet_provisioning import NAME_PARAMETER, claim_topics, fleet_template_body
from provisioning_hook.decision import decide, entry_item

TEMPLATE_NAME = "mqtt-channel-iot"
TEMPLATE = f"arn:aws:iot:us-west-2:222222222222:provisioningtemplate/{TEMPLATE_NAME}"
NOW = 1_800_000_000


def hook_input(serial: str, client_id: str) -> dict:
    """What IoT Core passes the hook for a RegisterThing request (AWS IoT Core developer guide,
    "Pre-provisioning hooks": claimCertificateId, certificateId, certificatePem, templateArn, clientId,
    parameters)."""
    return {"claimCertificateId": None, "certificateId": "d" * 64, "certificatePem": "-----BEGIN CERTIFICATE-----",
            "templateArn": TEMPLATE, "clientId": client_id, "parameters": {NAME_PARAMETER: serial}}


def listed(*items):
    by_name = {i["device"]["S"]: i for i in items}
    return by_name.get


def run(evt, lookup):
    return decide(evt, template_arn=TEMPLATE, lookup=lookup, now=lambda: NOW)


LIST = listed(entry_item("press-line-7", "password-device"), entry_item("press-line-8", "password-device"))


def test_a_password_device_registers_itself_over_its_own_connection():
    decision = run(hook_input("press-line-7", "press-line-7"), LIST)
    assert decision.allow and decision.response()["parameterOverrides"] == {"ThingName": "press-line-7"}


def test_a_password_device_cannot_register_another_listed_device():
    # press-line-8 is listed and migrating, but the request came over press-line-7's connection.
    decision = run(hook_input("press-line-8", "press-line-7"), LIST)
    assert not decision.allow and decision.reason == "password-device entry requested by another client ID"
    assert decision.response() == {"allowProvisioning": False}


def test_no_client_id_is_no_pairing():
    evt = hook_input("press-line-7", "press-line-7")
    del evt["clientId"]
    assert not run(evt, LIST).allow


def test_the_device_exchange_matches_the_templates_rules():
    """Step 1 and 2 of the exchange: the topics the device uses are the template's, the RegisterThing
    payload carries the one parameter the template declares, and the thing the template creates is
    named after it — the name the hook admitted."""
    body = fleet_template_body("channel-thing-policy")
    request = {"certificateOwnershipToken": "token", "parameters": {NAME_PARAMETER: "press-line-7"}}
    declared = set(body["Parameters"]) - {"AWS::IoT::Certificate::Id"}
    assert set(request["parameters"]) == declared
    assert body["Resources"]["thing"]["Properties"]["ThingName"] == {"Ref": NAME_PARAMETER}
    topics = claim_topics(TEMPLATE_NAME)
    assert f"$aws/provisioning-templates/{TEMPLATE_NAME}/provision/json" in topics["publish"]
    assert "$aws/certificates/create/json/accepted" in topics["replies"]
    decision = run({**hook_input("press-line-7", "press-line-7"), "parameters": request["parameters"]}, LIST)
    thing = body["Resources"]["thing"]["Properties"]["ThingName"]["Ref"]
    assert decision.allow and request["parameters"][thing] == decision.thing_name == "press-line-7"
    json.dumps(request)  # the payload is JSON as the json topics carry it


SERIALS = listed(entry_item("PLC-0042", "serial"))


def test_a_serial_entry_is_admitted_for_a_claim_certificate_request():
    evt = {**hook_input("PLC-0042", "claim-1"), "claimCertificateId": "c" * 64}
    assert run(evt, SERIALS).thing_name == "PLC-0042"
    assert run({**evt, "claimCertificateId": "0x" + "C" * 62}, SERIALS).allow


def test_a_serial_entry_is_refused_to_a_request_without_a_claim_certificate():
    # A migrating password device asking over its password connection for a serial entry's name.
    for claim in (None, "", "c" * 63, "c" * 65, "0x" + "c" * 64, "g" * 64):
        decision = run({**hook_input("PLC-0042", "press-line-7"), "claimCertificateId": claim}, SERIALS)
        assert not decision.allow and decision.reason == "serial entry requested without a claim certificate", claim
