"""A password device cannot take a registered thing's name as its client ID."""

from __future__ import annotations

import boto3
import pytest
from botocore.exceptions import ClientError

from channelctl.devices import things
from tests.authorizer.support import REGION
from tests.channelctl.devices.test_devices import items, table  # noqa: F401 — the fixtures

PASSWORD = b"relay-cabinet-blue\n"


@pytest.fixture
def thing(table):  # noqa: F811
    boto3.client("iot", region_name=REGION).create_thing(thingName="PLC-0042")
    return "PLC-0042"


def test_add_refuses_a_client_id_that_names_a_registered_thing_and_takes_one_that_does_not(thing, table, run):  # noqa: F811
    code, _, err = run("add", "meter-0001", "--family", "meters", "--client-id", thing, "--password-stdin", stdin=PASSWORD)
    assert code == 1 and "'PLC-0042' is the name of a registered thing" in err
    assert items(table) == []
    assert run("add", "meter-0001", "--family", "meters", "--client-id", "PLC-0043", "--password-stdin",
               stdin=PASSWORD)[0] == 0


def test_update_refuses_it_too_and_a_device_named_like_its_thing_keeps_its_name(thing, table, run):  # noqa: F811
    assert run("add", "meter-0001", "--family", "meters", "--password-stdin", stdin=PASSWORD)[0] == 0
    code, _, err = run("update", "meter-0001", "--client-id", thing)
    assert code == 1 and "registered thing" in err
    assert "client_id" not in items(table)[0]
    # Moving to a certificate: the thing is named after the password device's user name, which the device
    # keeps (its record predates the thing); a new password device never takes the name.
    assert run("add", thing, "--family", "meters", "--password-stdin", stdin=PASSWORD)[0] == 1
    table.put_item(Item={**items(table)[0], "username": thing})
    assert run("update", thing, "--client-id", thing)[0] == 0


def test_when_the_registry_cannot_be_asked_the_client_id_is_refused(table, run, monkeypatch):  # noqa: F811
    def denied(*args, **kwargs):
        raise ClientError({"Error": {"Code": "AccessDeniedException", "Message": "no"}}, "DescribeThing")

    class Client:
        describe_thing = staticmethod(denied)

    monkeypatch.setattr(things.boto3, "client", lambda *a, **k: Client())
    code, _, err = run("add", "meter-0001", "--family", "meters", "--client-id", "PLC-0043", "--password-stdin",
                       stdin=PASSWORD)
    assert code == 1 and "AccessDeniedException" in err and "iot:DescribeThing" in err
    assert items(table) == []
