"""Which Price List products `prices refresh` takes for a key: whole usage types after a Region's
prefix only, paid bands only, and nothing when the products that match disagree."""

from __future__ import annotations

import json

import pytest

from channelctl.prices import refresh
from tests.channelctl.prices.support import TODAY, _filters, _product


def _products(*rows: tuple[str, str, str, list[tuple[str, str, str]]], **attributes) -> list[dict]:
    return [json.loads(_product(service, sku, usagetype, dims, **attributes)) for service, sku, usagetype, dims in rows]


def _pick(key: str, products: list[dict]):
    return refresh._pick(key, refresh.SPECS[key], products, TODAY)


FLAT = [("0", "Inf", "0.000000125")]


@pytest.mark.parametrize(("key", "usagetype", "taken"), [
    ("dynamodb.readRequests", "USW2-ReadRequestUnits", True),
    ("dynamodb.readRequests", "ReadRequestUnits", True),            # us-east-1's products carry no prefix
    ("dynamodb.readRequests", "IA-ReadRequestUnits", False),         # the infrequent-access table class
    ("dynamodb.readRequests", "USW2-IA-ReadRequestUnits", False),
    ("lambda.armGbSeconds", "EU-Lambda-GB-Second-ARM", True),         # eu-west-1's prefix
    ("lambda.armGbSeconds", "Global-Lambda-GB-Second-ARM", False),   # the free tier, in every regional file
    ("nlb.hours", "EUW2-LoadBalancerUsage", True),
    ("nlb.hours", "EUW2-TS-LoadBalancerUsage", False),
    ("nlb.hours", "EUW2-Outposts-LoadBalancerUsage", False),
    ("kms.keyMonth", "us-west-2-KMS-Keys", True),                      # KMS prefixes the Region code
    ("resolver.queries", "USW2-DNS-Queries", True),
    ("resolver.queries", "DNS-Queries", False),                       # public DNS queries, not the Resolver's
    ("dx.port1GbpsHours", "USW2-EQSE2-PortUsage:1G", True),
    ("dx.port1GbpsHours", "USW2-EQSE2-HCPortUsage:1G", False),       # a hosted connection
    ("dx.port1GbpsHours", "USW2-EQSE2-PortUsage:10G", False),
    ("route53.hostedZone", "HostedZone", True),
    ("route53.hostedZone", "USE1-HostedZone", False),
])
def test_a_usage_type_matches_whole_after_a_region_prefix(key, usagetype, taken):
    spec = refresh.SPECS[key]
    product = _products((spec.service, "SKU1", usagetype, FLAT), **dict(spec.attributes))[0]

    assert refresh._matches(product, spec) is taken


def test_the_attributes_tell_the_vpc_attachment_from_another_product_of_the_same_usage_type():
    spec = refresh.SPECS["tgw.attachmentHours"]
    vpc, other = (_products(("AmazonVPC", "T1", "USW2-TransitGateway-Hours", [("0", "Inf", "0.05")]), operation=op)[0]
                  for op in ("TransitGatewayVPC", "TransitGatewayPeering"))

    assert refresh._matches(vpc, spec) and not refresh._matches(other, spec)


def test_a_free_first_band_is_left_out_and_the_paid_price_is_taken():
    storage = _products(("AmazonDynamoDB", "S1", "USW2-TimedStorage-ByteHrs",
                         [("0", "25", "0.0000000000"), ("25", "Inf", "0.2500000000")]))

    entry, doubt = _pick("dynamodb.storageGbMonth", storage)

    assert doubt is None and entry["usd"] == pytest.approx(0.25) and "tiers" not in entry


def test_a_product_priced_only_at_zero_gives_way_to_the_paid_one():
    requests = _products(("awskms", "FREE", "us-west-2-KMS-Requests", [("0", "Inf", "0.0000000000")]),
                         ("awskms", "PAID", "us-west-2-KMS-Requests", [("0", "Inf", "0.0000030000")]))

    entry, doubt = _pick("kms.requests", requests)

    # $0.000003 per request is $0.03 per 10,000, the table's unit.
    assert doubt is None and entry["usd"] == pytest.approx(0.03) and "sku PAID" in entry["seenIn"]


def test_products_that_agree_give_the_price_and_products_that_disagree_give_none_and_say_why():
    agree = _products(("AWSDirectConnect", "L1", "USW2-EQSE2-PortUsage:1G", [("0", "Inf", "0.30")]),
                      ("AWSDirectConnect", "L2", "USW2-CSOF1-PortUsage:1G", [("0", "Inf", "0.30")]))
    disagree = agree + _products(("AWSDirectConnect", "L3", "USW2-XYZ9-PortUsage:1G", [("0", "Inf", "0.33")]))

    entry, doubt = _pick("dx.port1GbpsHours", agree)
    assert doubt is None and entry["usd"] == pytest.approx(0.30) and "sku L1" in entry["seenIn"]

    entry, doubt = _pick("dx.port1GbpsHours", disagree)
    assert entry is None
    assert doubt == "3 products match at different prices: 0.3 (sku L1), 0.3 (sku L2), 0.33 (sku L3)"


def test_a_global_product_is_read_without_a_region_and_ambiguity_reaches_the_table(client):
    pricing, stubber = client
    keys = ["route53.hostedZone", "dynamodb.readRequests"]
    # Regional services first (one call each, regionCode filter), then each global key by its usage type.
    stubber.add_response("get_products", {"PriceList": [
        _product("AmazonDynamoDB", "R1", "USW2-ReadRequestUnits", [("0", "Inf", "0.000000125")]),
        _product("AmazonDynamoDB", "R2", "USW2-ReadRequestUnits", [("0", "Inf", "0.000000155")]),
    ], "FormatVersion": "aws_v1"}, {"ServiceCode": "AmazonDynamoDB", "Filters": _filters("us-west-2"),
                                    "FormatVersion": "aws_v1", "MaxResults": 100})
    stubber.add_response("get_products", {"PriceList": [
        _product("AmazonRoute53", "Z1", "HostedZone", [("0", "25", "0.50"), ("25", "Inf", "0.10")]),
    ], "FormatVersion": "aws_v1"}, {"ServiceCode": "AmazonRoute53", "FormatVersion": "aws_v1", "MaxResults": 100,
                                    "Filters": [{"Type": "TERM_MATCH", "Field": "usagetype", "Value": "HostedZone"}]})

    table, missing, read = refresh.refresh_table(pricing, {}, ["us-west-2"], TODAY, keys=keys, instance_types=[])

    zone = table["regions"]["us-west-2"]["route53.hostedZone"]
    assert zone["usd"] == pytest.approx(0.5) and zone["tiers"] == [[25.0, 0.5], [None, 0.1]]
    assert read == {"us-west-2": ["route53.hostedZone"]} and missing == {"us-west-2": ["dynamodb.readRequests"]}
    assert table["ambiguous"] == {"us-west-2": {
        "dynamodb.readRequests": "2 products match at different prices: 0.125 (sku R1), 0.155 (sku R2)"}}


def test_a_global_product_is_read_once_for_every_region(client):
    pricing, stubber = client
    # One answer only: a second GetProducts for the hosted zone would find no stubbed response and fail.
    stubber.add_response("get_products", {"PriceList": [
        _product("AmazonRoute53", "Z1", "HostedZone", [("0", "Inf", "0.50")]),
    ], "FormatVersion": "aws_v1"}, {"ServiceCode": "AmazonRoute53", "FormatVersion": "aws_v1", "MaxResults": 100,
                                    "Filters": [{"Type": "TERM_MATCH", "Field": "usagetype", "Value": "HostedZone"}]})

    table, _, read = refresh.refresh_table(pricing, {}, ["us-west-2", "eu-central-1"], TODAY,
                                           keys=["route53.hostedZone"], instance_types=[])

    assert read == {"us-west-2": ["route53.hostedZone"], "eu-central-1": ["route53.hostedZone"]}
    assert table["regions"]["eu-central-1"]["route53.hostedZone"]["usd"] == pytest.approx(0.5)
