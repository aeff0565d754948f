"""The pre-provisioning hook's decision: a listed device is admitted, everything else refused."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from provisioning_hook.decision import REFUSED, Entry, decide, entry_item, parse_entry, requested_name
from provisioning_hook.handler import handle

TEMPLATE = "arn:aws:iot:us-west-2:222222222222:provisioningtemplate/mqtt-channel-iot"
NOW = 1_800_000_000


def event(name="PLC-0042", template=TEMPLATE, **parameters):
    return {
        "claimCertificateId": "c" * 64, "certificateId": "d" * 64, "certificatePem": "-----BEGIN CERTIFICATE-----",
        "templateArn": template, "clientId": "claim-1", "parameters": {"SerialNumber": name, **parameters},
    }


def item(device="PLC-0042", kind="serial", status="allowed", expires=None):
    found = {"device": {"S": device}, "kind": {"S": kind}, "status": {"S": status}}
    if expires is not None:
        found["expires_at"] = {"N": str(expires)}
    return found


def table(*items):
    by_name = {i["device"]["S"]: i for i in items}
    return by_name.get


def run(evt, lookup):
    return decide(evt, template_arn=TEMPLATE, lookup=lookup, now=lambda: NOW)


def test_a_listed_serial_number_is_admitted_under_its_own_name():
    decision = run(event(), table(item()))
    assert decision.allow
    assert decision.response() == {"allowProvisioning": True, "parameterOverrides": {"ThingName": "PLC-0042"}}


def test_a_password_device_listed_by_its_user_name_is_admitted():
    # Over its own connection: client ID = the listed name (tests/provisioning_hook/test_pairing.py).
    decision = run({**event("press-line-7"), "clientId": "press-line-7"},
                   table(item("press-line-7", kind="password-device")))
    assert decision.response()["parameterOverrides"] == {"ThingName": "press-line-7"}


@pytest.mark.parametrize("evt, lookup, reason", [
    (event("PLC-0099"), table(item()), "not listed"),
    (event(), table(item(status="retired")), "listed with status 'retired'"),
    (event(), table(item(expires=NOW)), "listing expired"),
    (event(), table(item(kind="wildcard")), "allow-list entry breaks the schema"),
    (event(template=TEMPLATE + "-other"), table(item()), "request for another provisioning template"),
    (event("PLC 0042"), table(item("PLC 0042")), "SerialNumber missing or not a thing name"),
    (event("x" * 129), table(item("x" * 129)), "SerialNumber missing or not a thing name"),
    (event(ThingName="PLC-0001"), table(item(), item("PLC-0001")), "ThingName differs from SerialNumber"),
    ({"templateArn": TEMPLATE}, table(item()), "no parameters"),
    ("not an object", table(item()), "event is not an object"),
])
def test_everything_else_is_refused(evt, lookup, reason):
    decision = run(evt, lookup)
    assert (decision.allow, decision.reason) == (False, reason)
    assert decision.response() == REFUSED


def test_an_unexpired_listing_is_admitted_and_an_expired_one_refused():
    assert run(event(), table(item(expires=NOW + 1))).allow
    assert not run(event(), table(item(expires=NOW - 1))).allow


def test_an_unreadable_allow_list_refuses():
    def broken(_name):
        raise TimeoutError("dynamodb")

    decision = run(event(), broken)
    assert (decision.allow, decision.reason) == (False, "allow-list unavailable")


def test_an_entry_stored_under_another_key_is_refused():
    # A corrupted item whose device attribute differs from the key asked for.
    assert run(event(), lambda _n: item("PLC-0043")).reason == "allow-list entry breaks the schema"


@pytest.mark.parametrize("raw", [None, {}, {"device": {"N": "1"}, "kind": {"S": "serial"}, "status": {"S": "allowed"}},
                                 {**item(), "expires_at": {"N": "soon"}}, {**item(), "expires_at": "1"}])
def test_malformed_items_do_not_parse(raw):
    assert parse_entry(raw) is None


def test_the_requested_name_is_the_serial_number():
    assert requested_name(event("A:b_c-9"), TEMPLATE) == ("A:b_c-9", "")


# --- any input: a refusal or an admission of a listed name, never an exception --------------------

_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=12), inner, max_size=3),
    max_leaves=12,
)
_events = st.one_of(
    _json,
    st.fixed_dictionaries({"templateArn": st.sampled_from([TEMPLATE, "x"]),
                           "parameters": st.dictionaries(st.sampled_from(["SerialNumber", "ThingName", "x"]),
                                                         _json | st.sampled_from(["PLC-0042", "PLC-0043"]), max_size=3)}),
)


class _Client:
    def get_item(self, TableName, Key, ConsistentRead):
        return {"Item": item()} if Key["device"]["S"] == "PLC-0042" else {}


@settings(max_examples=150, deadline=None)
@given(_events)
def test_any_event_is_refused_or_admits_only_the_listed_name(evt):
    answer = handle(evt, {"ALLOW_LIST_TABLE": "t", "TEMPLATE_ARN": TEMPLATE}, client_factory=_Client)
    assert answer in ({"allowProvisioning": False},
                      {"allowProvisioning": True, "parameterOverrides": {"ThingName": "PLC-0042"}})
    if answer["allowProvisioning"]:
        assert evt["templateArn"] == TEMPLATE and evt["parameters"]["SerialNumber"] == "PLC-0042"


def test_an_item_written_for_the_operator_is_the_item_the_hook_admits():
    written = entry_item("press-line-7", "password-device", expires_at=NOW + 60)
    assert parse_entry(written) == Entry("press-line-7", "password-device", "allowed", NOW + 60)
    assert run({**event("press-line-7"), "clientId": "press-line-7"}, table(written)).allow


@pytest.mark.parametrize("device, kind, expires, match", [
    ("PLC 42", "serial", None, "is not a thing name"),
    ("PLC-42", "any", None, "is not one of serial, password-device"),
    ("PLC-42", "serial", -1, "is not epoch seconds"),
    ("PLC-42", "serial", True, "is not epoch seconds"),
])
def test_an_item_the_hook_would_refuse_is_never_written(device, kind, expires, match):
    with pytest.raises(ValueError, match=match):
        entry_item(device, kind, expires_at=expires)
