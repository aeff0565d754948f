"""The hook's Lambda entry point against a DynamoDB allow-list (moto): never raises, refuses on any failure."""

from __future__ import annotations

import boto3
import pytest
from moto import mock_aws

from provisioning_hook import handler as hook
from tests.provisioning_hook.test_decision import TEMPLATE, event

TABLE = "mqtt-provisioning-allow-list-iot"


@pytest.fixture(scope="module")
def client():
    # One mocked account and table for the module: no test writes to it.
    with pytest.MonkeyPatch.context() as patch, mock_aws():
        patch.setenv("AWS_DEFAULT_REGION", "us-west-2")
        for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
            patch.setenv(key, "testing")
        dynamodb = boto3.client("dynamodb", region_name="us-west-2")
        dynamodb.create_table(
            TableName=TABLE, BillingMode="PAY_PER_REQUEST",
            KeySchema=[{"AttributeName": "device", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "device", "AttributeType": "S"}],
        )
        dynamodb.put_item(TableName=TABLE, Item={"device": {"S": "PLC-0042"}, "kind": {"S": "serial"},
                                                 "status": {"S": "allowed"}})
        yield dynamodb


ENV = {"ALLOW_LIST_TABLE": TABLE, "TEMPLATE_ARN": TEMPLATE}


def test_a_listed_device_is_admitted(client):
    answer = hook.handle(event(), ENV, client_factory=lambda: client)
    assert answer == {"allowProvisioning": True, "parameterOverrides": {"ThingName": "PLC-0042"}}


def test_an_unlisted_device_is_refused(client):
    assert hook.handle(event("PLC-0099"), ENV, client_factory=lambda: client) == {"allowProvisioning": False}


def test_a_missing_table_refuses_without_raising(client):
    env = dict(ENV, ALLOW_LIST_TABLE="no-such-table")
    assert hook.handle(event(), env, client_factory=lambda: client) == {"allowProvisioning": False}


@pytest.mark.parametrize("env", [{}, {"ALLOW_LIST_TABLE": TABLE}, {"TEMPLATE_ARN": TEMPLATE}])
def test_missing_settings_refuse(env, client):
    assert hook.handle(event(), env, client_factory=lambda: client) == {"allowProvisioning": False}


def test_a_client_that_cannot_be_built_refuses():
    def no_client():
        raise RuntimeError("no credentials")

    assert hook.handle(event(), ENV, client_factory=no_client) == {"allowProvisioning": False}


def test_the_log_never_carries_the_certificate(client, caplog):
    caplog.set_level("INFO", logger="provisioning_hook")
    hook.handle(event(), ENV, client_factory=lambda: client)
    assert "BEGIN CERTIFICATE" not in caplog.text and "allowed" in caplog.text
