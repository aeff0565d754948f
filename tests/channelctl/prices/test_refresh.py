"""`channelctl prices refresh` against botocore's Stubber: Price List items in the shape GetProducts
returns (aws_v1: one JSON string per product with its on-demand terms), never the network."""

from __future__ import annotations

import argparse
import json

import pytest
from botocore.stub import ANY, Stubber

from channelctl.plan.cost.prices import load_table
from channelctl.prices import command, refresh
from tests.channelctl.prices.support import TODAY, _filters, _product


def _stub_oregon(stubber: Stubber) -> None:
    # Services in name order: AWSIoT, then AmazonVPC (two pages), then EC2 per instance type.
    stubber.add_response("get_products", {"PriceList": [
        _product("AWSIoT", "IOT1", "USW2-IoT-Connectivity-Minutes", [("0", "Inf", "0.0000000800")]),
    ], "FormatVersion": "aws_v1"}, {"ServiceCode": "AWSIoT", "Filters": _filters("us-west-2"),
                                    "FormatVersion": "aws_v1", "MaxResults": 100})
    stubber.add_response("get_products", {"PriceList": [
        _product("AmazonVPC", "NAT1", "USW2-NatGateway-Hours", [("0", "Inf", "0.045")]),
        _product("AmazonVPC", "VPCE1", "USW2-VpcEndpoint-Hours", [("0", "Inf", "0.0100000000")]),
    ], "NextToken": "page-2", "FormatVersion": "aws_v1"},
        {"ServiceCode": "AmazonVPC", "Filters": ANY, "FormatVersion": "aws_v1", "MaxResults": 100})
    stubber.add_response("get_products", {"PriceList": [
        _product("AmazonVPC", "VPCE2", "USW2-VpcEndpoint-Bytes",
                 [("0", "1048576", "0.0100000000"), ("1048576", "5242880", "0.0060000000"), ("5242880", "Inf", "0.0040000000")]),
    ], "FormatVersion": "aws_v1"},
        {"ServiceCode": "AmazonVPC", "Filters": ANY, "FormatVersion": "aws_v1", "MaxResults": 100, "NextToken": "page-2"})
    stubber.add_response("get_products", {"PriceList": [
        _product("AmazonEC2", "EC2HOST", "USW2-HostBoxUsage:t4g.medium", [("0", "Inf", "0.0400")]),
        _product("AmazonEC2", "EC21", "USW2-BoxUsage:t4g.medium", [("0", "Inf", "0.0336000000")],
                 instanceType="t4g.medium", operatingSystem="Linux"),
    ], "FormatVersion": "aws_v1"}, {"ServiceCode": "AmazonEC2", "FormatVersion": "aws_v1", "MaxResults": 100,
                                    "Filters": _filters("us-west-2", instanceType="t4g.medium", operatingSystem="Linux",
                                                        tenancy="Shared", preInstalledSw="NA", capacitystatus="Used")})


KEYS = ["vpce.endpointHours", "vpce.dataGb", "iot.connectivityMinutes", "iot.messages"]


def test_refresh_reads_prices_tiers_and_keeps_what_the_api_did_not_return(client):
    pricing, stubber = client
    _stub_oregon(stubber)
    old = {"referenceRegion": "us-east-1", "regions": {"us-west-2": {"iot.messages": {"usd": 1.0, "kept": True}}}}
    table, missing, read = refresh.refresh_table(pricing, old, ["us-west-2"], TODAY, keys=KEYS, instance_types=["t4g.medium"])
    oregon = table["regions"]["us-west-2"]
    assert oregon["vpce.endpointHours"]["usd"] == pytest.approx(0.01)
    # The data price came from the second page, with its three tiers (GB ranges as the API gives them).
    assert oregon["vpce.dataGb"]["tiers"] == [[1048576.0, 0.01], [5242880.0, 0.006], [None, 0.004]]
    # $0.00000008 per minute is $0.08 per million minutes, the table's unit.
    assert oregon["iot.connectivityMinutes"]["usd"] == pytest.approx(0.08) and oregon["iot.connectivityMinutes"]["per"] == 1e6
    # EC2: the shared-tenancy BoxUsage product, not the dedicated-host one listed first.
    assert oregon["ec2.t4g.medium"]["usd"] == pytest.approx(0.0336)
    assert "sku EC21" in oregon["ec2.t4g.medium"]["seenIn"]
    # Not in the API's answer: kept from the old table, and said so.
    assert oregon["iot.messages"] == {"usd": 1.0, "kept": True}
    assert missing == {"us-west-2": ["iot.messages"]} and table["notRefreshed"] == missing
    assert read == {"us-west-2": ["ec2.t4g.medium", "iot.connectivityMinutes", "vpce.dataGb", "vpce.endpointHours"]}
    for key in ("vpce.endpointHours", "vpce.dataGb", "iot.connectivityMinutes", "ec2.t4g.medium"):
        assert oregon[key]["verified"] == "price-list-api" and oregon[key]["read"] == "2026-12-04"
        assert oregon[key]["source"].startswith("https://aws.amazon.com/pricing/ via https://pricing.us-east-1")
    assert table["readAt"] == "2026-12-04" and "written by `channelctl prices refresh`" in table["method"]


def test_the_command_writes_a_table_the_estimate_reads(client, tmp_path, monkeypatch, capsys):
    pricing, stubber = client
    _stub_oregon(stubber)
    output = tmp_path / "prices.json"
    output.write_text(json.dumps({"referenceRegion": "us-east-1", "regions": {"us-west-2": {}}}))
    monkeypatch.setattr(refresh, "SPECS", {k: refresh.SPECS[k] for k in KEYS})
    monkeypatch.setattr(refresh, "INSTANCE_TYPES", ("t4g.medium",))
    args = argparse.Namespace(regions=None, instance_types=None, output=output)
    assert command.run(args, client=pricing) == command.EXIT_OK
    out = capsys.readouterr().out
    assert "us-west-2: 4 prices read; not returned by the API, kept from before: iot.messages" in out
    table = load_table(output)
    assert table.price("us-west-2", "vpce.endpointHours").cost(730) == pytest.approx(7.30)


def test_an_unreadable_api_leaves_the_table_unchanged(client, tmp_path, capsys):
    pricing, stubber = client
    stubber.add_client_error("get_products", service_error_code="AccessDeniedException",
                             service_message="not authorized to perform: pricing:GetProducts")
    output = tmp_path / "prices.json"
    before = json.dumps({"referenceRegion": "us-east-1", "regions": {"us-west-2": {}}})
    output.write_text(before)
    args = argparse.Namespace(regions=["us-west-2"], instance_types=None, output=output)
    assert command.run(args, client=pricing) == command.EXIT_FAILED
    assert "AccessDeniedException" in capsys.readouterr().err
    assert output.read_text() == before


def test_without_regions_the_project_stacks_regions_are_priced_too(tmp_path):
    project = tmp_path / "project"
    project.mkdir()
    (project / "Pulumi.yaml").write_text("name: private-mqtt-channel\nruntime: python\n")
    (project / "Pulumi.iot.yaml").write_text("config:\n  private-mqtt-channel:region: eu-central-1\n")
    (project / "Pulumi.consumer.yaml").write_text("config:\n  private-mqtt-channel:region: us-west-2\n")

    assert command.stack_regions(argparse.Namespace(cwd=project)) == {"eu-central-1", "us-west-2"}
    # Outside a project directory only the table's own Regions are priced.
    assert command.stack_regions(argparse.Namespace(cwd=tmp_path)) == set()
