"""Regenerate the price table from the AWS Price List Query API (``pricing:GetProducts``).

The Price List Query API answers only from a few endpoints; ``us-east-1`` serves every Region's
prices (AWS Billing user guide, "Using the AWS Price List Query API": endpoints in us-east-1,
eu-central-1 and ap-south-1). One ``GetProducts`` call (paged) per service and Region, filtered by
``regionCode``; EC2, whose list is huge, one call per instance type with the Linux, shared-tenancy,
no-software filters. The on-demand term's price dimensions of the product whose ``usagetype``
matches become the price and its tiers (``beginRange``/``endRange``).

A usage type matches only whole: its name (some us-east-1 products), or its name after the Region's
prefix (``USW2-VpcEndpoint-Hours``, ``EU-``, or the Region code for KMS: ``us-west-2-KMS-Keys``).
So ``IA-ReadRequestUnits`` (DynamoDB's infrequent-access class), ``Global-Lambda-GB-Second``
(Lambda's free tier) and ``EUW2-TS-LoadBalancerUsage`` never stand in for the price wanted, as a
suffix match let them. Bands priced $0 (a free first tier:
DynamoDB storage's 25 GB, SNS's first 1,000 e-mails, KMS's free requests) are left out: the estimate
uses list prices without free tiers. Route 53 hosted zones and CloudWatch dashboards are global
products (no ``regionCode``), read once for every Region; Direct Connect prices carry the location in
the usage type (``USE1-EQNY5-PortUsage:1G``) and are read across the Region's locations. When the
products that match disagree on the price, nothing is written for that key and the refresh says so.

Where each usage type was seen: infracost's Price List filters (``internal/resources/aws``: VPC
endpoint, Transit Gateway, NLB, Route 53 Resolver and zone, Direct Connect, Lambda, DynamoDB, KMS,
CloudWatch, SNS) and public price books quoting the offer files. Resolver queries are
``<prefix>-DNS-Queries`` (the unprefixed ``DNS-Queries`` is public DNS). The four IoT Core usage types
were seen nowhere; a wrong name shows up as "not refreshed", never as a made-up price.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

PRICING_REGION = "us-east-1"
API_SOURCE = "https://pricing.us-east-1.amazonaws.com (Price List Query API, GetProducts)"


@dataclass(frozen=True)
class Spec:
    """Where one price of the table is in the Price List: service, usage type, our unit.

    ``scope``: ``region`` (products with the Region's ``regionCode``), ``global`` (one product for every
    Region, no ``regionCode``) or ``location`` (per Direct Connect location of the Region).
    ``prefixed``: only the Region-prefixed usage type is this price (the bare name is another product)."""

    service: str
    usagetype: str
    per: float
    unit: str
    attributes: tuple[tuple[str, str], ...] = ()
    scope: str = "region"
    prefixed: bool = False


SPECS: dict[str, Spec] = {
    "vpce.endpointHours": Spec("AmazonVPC", "VpcEndpoint-Hours", 1, "endpoint-AZ-hour"),
    "vpce.dataGb": Spec("AmazonVPC", "VpcEndpoint-Bytes", 1, "GB processed"),
    # Attachments of a VPC and of a Direct Connect gateway share the usage type (operations
    # TransitGatewayVPC and TransitGatewayDirectConnect); the VPC one is read.
    "tgw.attachmentHours": Spec("AmazonVPC", "TransitGateway-Hours", 1, "attachment-hour",
                                (("operation", "TransitGatewayVPC"),)),
    "tgw.dataGb": Spec("AmazonVPC", "TransitGateway-Bytes", 1, "GB sent to the TGW", (("operation", "TransitGatewayVPC"),)),
    "nlb.hours": Spec("AWSELB", "LoadBalancerUsage", 1, "NLB-hour", (("operation", "LoadBalancing:Network"),)),
    "nlb.nlcuHours": Spec("AWSELB", "LCUUsage", 1, "NLCU-hour", (("operation", "LoadBalancing:Network"),)),
    "resolver.eniHours": Spec("AmazonRoute53", "ResolverNetworkInterface", 1, "endpoint-ENI-hour"),
    "resolver.queries": Spec("AmazonRoute53", "DNS-Queries", 1_000_000, "queries through an endpoint", prefixed=True),
    "route53.hostedZone": Spec("AmazonRoute53", "HostedZone", 1, "hosted zone-month (first 25)", scope="global"),
    "dx.port1GbpsHours": Spec("AWSDirectConnect", "PortUsage:1G", 1, "dedicated 1 Gbps port-hour", scope="location"),
    "dx.port10GbpsHours": Spec("AWSDirectConnect", "PortUsage:10G", 1, "dedicated 10 Gbps port-hour", scope="location"),
    "dx.port100GbpsHours": Spec("AWSDirectConnect", "PortUsage:100G", 1, "dedicated 100 Gbps port-hour",
                                scope="location"),
    "dx.dataOutGb": Spec("AWSDirectConnect", "DataXfer-Out", 1, "GB out to a Direct Connect location", scope="location"),
    "lambda.requests": Spec("AWSLambda", "Request-ARM", 1_000_000, "requests"),
    "lambda.armGbSeconds": Spec("AWSLambda", "Lambda-GB-Second-ARM", 1, "GB-second (arm64)"),
    "lambda.x86GbSeconds": Spec("AWSLambda", "Lambda-GB-Second", 1, "GB-second (x86_64)"),
    "dynamodb.readRequests": Spec("AmazonDynamoDB", "ReadRequestUnits", 1_000_000, "read request units (on-demand)"),
    "dynamodb.writeRequests": Spec("AmazonDynamoDB", "WriteRequestUnits", 1_000_000, "write request units (on-demand)"),
    "dynamodb.storageGbMonth": Spec("AmazonDynamoDB", "TimedStorage-ByteHrs", 1, "GB-month"),
    "dynamodb.pitrGbMonth": Spec("AmazonDynamoDB", "TimedPITRStorage-ByteHrs", 1, "GB-month of point-in-time recovery"),
    "kms.keyMonth": Spec("awskms", "KMS-Keys", 1, "customer managed key-month"),
    "kms.requests": Spec("awskms", "KMS-Requests", 10_000, "requests"),
    "logs.ingestGb": Spec("AmazonCloudWatch", "DataProcessing-Bytes", 1, "GB ingested (standard log class)"),
    "logs.vendedGb": Spec("AmazonCloudWatch", "VendedLog-Bytes", 1, "GB of vended logs delivered"),
    "logs.storageGbMonth": Spec("AmazonCloudWatch", "TimedStorage-ByteHrs", 1, "GB-month archived (compressed)"),
    "cloudwatch.alarmMetric": Spec("AmazonCloudWatch", "CW:AlarmMonitorUsage", 1, "alarm metric-month"),
    "cloudwatch.dashboard": Spec("AmazonCloudWatch", "DashboardsUsageHour-Basic", 1, "dashboard-month", scope="global"),
    "cloudwatch.customMetric": Spec("AmazonCloudWatch", "CW:MetricMonitorUsage", 1, "custom metric-month"),
    "sns.email": Spec("AmazonSNS", "DeliveryAttempts-SMTP", 100_000, "e-mail notifications"),
    "iot.connectivityMinutes": Spec("AWSIoT", "IoT-Connectivity-Minutes", 1_000_000, "minutes of connection"),
    "iot.messages": Spec("AWSIoT", "IoT-Messages", 1_000_000, "messages (5 KB each)"),
    "iot.rulesTriggered": Spec("AWSIoT", "IoT-RulesTriggered", 1_000_000, "rules triggered"),
    "iot.actions": Spec("AWSIoT", "IoT-ActionsExecuted", 1_000_000, "actions executed"),
}
# EC2 instance types the program's defaults and examples use; `--instance-type` adds others.
INSTANCE_TYPES = ("t4g.nano", "t4g.micro", "t4g.small", "t4g.medium", "t4g.large", "t4g.xlarge", "t4g.2xlarge")


def _pages(client: Any, service: str, filters: list[dict[str, str]]) -> Iterable[dict[str, Any]]:
    token = None
    while True:
        kwargs: dict[str, Any] = {"ServiceCode": service, "Filters": filters, "FormatVersion": "aws_v1",
                                  "MaxResults": 100}
        if token:
            kwargs["NextToken"] = token
        page = client.get_products(**kwargs)
        for item in page.get("PriceList", []):
            yield json.loads(item) if isinstance(item, str) else item
        token = page.get("NextToken")
        if not token:
            return


def _term_filter(field: str, value: str) -> dict[str, str]:
    return {"Type": "TERM_MATCH", "Field": field, "Value": value}


def _on_demand(product: Mapping[str, Any]) -> list[tuple[float, float | None, float, str]]:
    """(beginRange, endRange or None, USD per unit, description) of a product's on-demand dimensions."""
    dims = []
    for term in (product.get("terms", {}).get("OnDemand") or {}).values():
        for dim in (term.get("priceDimensions") or {}).values():
            end = dim.get("endRange", "Inf")
            dims.append((float(dim.get("beginRange", 0)), None if end == "Inf" else float(end),
                         float(dim["pricePerUnit"]["USD"]), str(dim.get("description", ""))))
    return sorted(dims)


def _entry(key: str, spec: Spec, product: Mapping[str, Any], today: dt.date) -> dict[str, Any] | None:
    """The table entry of one product: its paid bands (a $0 band is a free tier, left out), or None."""
    dims = [dim for dim in _on_demand(product) if dim[2] > 0]
    if not dims:
        return None
    attrs = product["product"].get("attributes", {})
    entry: dict[str, Any] = {
        "usd": round(dims[0][2] * spec.per, 10), "per": spec.per, "unit": spec.unit,
        "source": f"https://aws.amazon.com/pricing/ via {API_SOURCE}: ServiceCode {spec.service}, "
                  f"usagetype {attrs.get('usagetype')}",
        "read": today.isoformat(),
        "seenIn": f"GetProducts sku {product['product'].get('sku')}, publicationDate {product.get('publicationDate')}",
        "verified": "price-list-api",
    }
    if len(dims) > 1:
        entry["tiers"] = [[end, round(usd * spec.per, 10)] for _, end, usd, _ in dims]
    return entry


# A Region's prefix in a usage type: three letters and a digit (USW2, EUC1, APN1), EU (eu-west-1's), or
# the Region code itself (KMS). Anything else before the name (IA-, Global-, TS-, Outposts-) is
# another product.
_REGION_PREFIX = r"(?:[A-Z]{3}[0-9]|EU|[a-z]{2}(?:-[a-z]+)+-[0-9])"


def usagetype_pattern(spec: Spec) -> re.Pattern[str]:
    name = re.escape(spec.usagetype)
    if spec.scope == "global":
        return re.compile(rf"{name}")
    if spec.scope == "location":
        return re.compile(rf"{_REGION_PREFIX}-[A-Za-z0-9]+-{name}")
    return re.compile(rf"(?:{_REGION_PREFIX}-){'' if spec.prefixed else '?'}{name}")


def _matches(product: Mapping[str, Any], spec: Spec) -> bool:
    attrs = product.get("product", {}).get("attributes", {})
    if not usagetype_pattern(spec).fullmatch(str(attrs.get("usagetype", ""))):
        return False
    return all(attrs.get(name) == value for name, value in spec.attributes)


def _pick(key: str, spec: Spec, products: Iterable[Mapping[str, Any]], today: dt.date
          ) -> tuple[dict[str, Any] | None, str | None]:
    """The entry for ``key`` from the products that match it, or why there is none. Products that
    match and disagree on the price (two locations, a variant the attributes do not tell apart) give
    no entry: which one AWS bills is not known here."""
    entries = [e for e in (_entry(key, spec, p, today) for p in products if _matches(p, spec)) if e is not None]
    if not entries:
        return None, None
    prices = {(e["usd"], json.dumps(e.get("tiers"))) for e in entries}
    if len(prices) > 1:
        seen = ", ".join(sorted(f"{e['usd']} ({e['seenIn'].split(',')[0].removeprefix('GetProducts ')})"
                                for e in entries))
        return None, f"{len(entries)} products match at different prices: {seen}"
    return min(entries, key=lambda e: e["seenIn"]), None


def refresh_region(client: Any, region: str, today: dt.date, keys: Iterable[str] | None = None,
                   instance_types: Iterable[str] = INSTANCE_TYPES, ambiguous: dict[str, str] | None = None,
                   global_products: dict[str, list[dict[str, Any]]] | None = None) -> dict[str, dict[str, Any]]:
    """Every price of ``keys`` (default: all of SPECS) and of the instance types found for ``region``;
    the keys whose matching products disagree go to ``ambiguous``, with why. ``global_products`` keeps
    the products of every Region (hosted zones, dashboards) from one Region's call to the next."""
    wanted = {k: SPECS[k] for k in (keys if keys is not None else SPECS)}
    found: dict[str, dict[str, Any]] = {}
    doubts = ambiguous if ambiguous is not None else {}
    shared = global_products if global_products is not None else {}
    regional = sorted({s.service for s in wanted.values() if s.scope != "global"})
    products_of = {service: list(_pages(client, service, [_term_filter("regionCode", region)])) for service in regional}
    for key, spec in wanted.items():
        if spec.scope == "global":
            if key not in shared:
                shared[key] = list(_pages(client, spec.service, [_term_filter("usagetype", spec.usagetype)]))
            products = shared[key]
        else:
            products = products_of[spec.service]
        entry, doubt = _pick(key, spec, products, today)
        if entry is not None:
            found[key] = entry
        elif doubt is not None:
            doubts[key] = doubt
    for instance_type in instance_types:
        filters = [_term_filter("regionCode", region), _term_filter("instanceType", instance_type),
                   _term_filter("operatingSystem", "Linux"), _term_filter("tenancy", "Shared"),
                   _term_filter("preInstalledSw", "NA"), _term_filter("capacitystatus", "Used")]
        key, spec = f"ec2.{instance_type}", Spec("AmazonEC2", f"BoxUsage:{instance_type}", 1, "instance-hour (Linux)")
        entry, doubt = _pick(key, spec, _pages(client, "AmazonEC2", filters), today)
        if entry is not None:
            found[key] = entry
        elif doubt is not None:
            doubts[key] = doubt
    return found


def refresh_table(client: Any, old: Mapping[str, Any], regions: Iterable[str], today: dt.date,
                  keys: Iterable[str] | None = None,
                  instance_types: Iterable[str] = INSTANCE_TYPES
                  ) -> tuple[dict[str, Any], dict[str, list[str]], dict[str, list[str]]]:
    """A new table for ``regions``; per Region the prices the API did not return (kept from ``old``;
    the table's ``ambiguous`` says why for those whose products disagreed); per Region the prices it did."""
    key_list = list(keys) if keys is not None else None
    types = list(instance_types)
    table = {
        "schemaVersion": 1,
        "currency": "USD",
        "readAt": today.isoformat(),
        "method": (f"written by `channelctl prices refresh` from the AWS Price List Query API ({PRICING_REGION}) on "
                   f"{today.isoformat()}; a price the API did not return keeps its earlier entry (notRefreshed)"),
        "referenceRegion": old.get("referenceRegion", "us-east-1"),
        "regions": {},
        "notRefreshed": {},
        "ambiguous": {},
    }
    missing: dict[str, list[str]] = {}
    read: dict[str, list[str]] = {}
    global_products: dict[str, list[dict[str, Any]]] = {}
    for region in regions:
        doubts: dict[str, str] = {}
        found = refresh_region(client, region, today, key_list, types, ambiguous=doubts,
                               global_products=global_products)
        if doubts:
            table["ambiguous"][region] = dict(sorted(doubts.items()))
        before = (old.get("regions") or {}).get(region, {})
        merged = dict(before) | found
        table["regions"][region] = dict(sorted(merged.items()))
        expected = set(key_list if key_list is not None else SPECS) | {f"ec2.{t}" for t in types}
        missing[region] = sorted(expected - set(found))
        read[region] = sorted(found)
        table["notRefreshed"][region] = missing[region]
    return table, missing, read
