"""`channelctl prices usage-types` against botocore's Stubber (GetAttributeValues as the API returns
it, paged), never the network."""

from __future__ import annotations

import argparse

from channelctl.prices import command


def _page(values, token=None, after=None):
    response = {"AttributeValues": [{"Value": v} for v in values]}
    if token:
        response["NextToken"] = token
    expected = {"ServiceCode": "AWSIoT", "AttributeName": "usagetype", "MaxResults": 100}
    if after:
        expected["NextToken"] = after
    return response, expected


def test_the_keys_that_find_no_usage_type_are_named_and_the_list_is_filtered(client, capsys):
    pricing, stubber = client
    stubber.add_response("get_attribute_values", *_page(["USE1-IoT-Connectivity-Minutes", "USE1-Messages-MQTT"], "p2"))
    stubber.add_response("get_attribute_values", *_page(["USW2-Messages-MQTT", "USE1-RulesTriggered"], after="p2"))

    code = command.run_usage_types(argparse.Namespace(service="AWSIoT", contains="messages"), client=pricing)

    out = capsys.readouterr().out.splitlines()
    assert code == command.EXIT_OK
    assert "iot.connectivityMinutes (IoT-Connectivity-Minutes): matches USE1-IoT-Connectivity-Minutes" in out
    assert "iot.messages (IoT-Messages): matches NO usage type" in out
    assert "iot.rulesTriggered (IoT-RulesTriggered): matches NO usage type" in out
    assert "AWSIoT: 4 usage types, 2 containing 'messages':" in out
    assert out[-2:] == ["  USE1-Messages-MQTT", "  USW2-Messages-MQTT"]


def test_an_unreadable_api_exits_1_naming_the_permission(client, capsys):
    pricing, stubber = client
    stubber.add_client_error("get_attribute_values", service_error_code="AccessDeniedException",
                             service_message="not authorized to perform: pricing:GetAttributeValues")

    code = command.run_usage_types(argparse.Namespace(service="AWSIoT", contains=None), client=pricing)

    assert code == command.EXIT_FAILED
    assert "AccessDeniedException" in capsys.readouterr().err
