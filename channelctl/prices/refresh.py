"""Regenerate the price table from the AWS Price List Query API (``pricing:GetProducts``).

The Price List Query API answers only from a few endpoints; ``us-east-1`` serves every Region's
prices (AWS Billing user guide, "Using the AWS Price List Query API": endpoints in us-east-1,
eu-central-1 and ap-south-1). One ``GetProducts`` call (paged) per service and Region, filtered by
``regionCode``; EC2, whose list is huge, one call per instance type with the Linux, shared-tenancy,
no-software filters. Each product's ``usagetype`` (``USW2-VpcEndpoint-Hours``; no prefix in some
us-east-1 products) is matched by its suffix, and the on-demand term's price dimensions become the
price and its tiers (``beginRange``/``endRange``).

The usage types below come from public quotes of the API where one was seen
(``VpcEndpoint-Hours``, ``VpcEndpoint-Bytes``, ``TransitGateway-Hours``, ``KMS-Keys``,
``BoxUsage:<type>``); the others are the names the pricing pages' units suggest and are not
confirmed. A price the API does not return keeps the table's earlier entry and is listed in
``notRefreshed``, so a wrong usage type shows up as that, never as a made-up price.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

PRICING_REGION = "us-east-1"
API_SOURCE = "https://pricing.us-east-1.amazonaws.com (Price List Query API, GetProducts)"


@dataclass(frozen=True)
class Spec:
    """Where one price of the table is in the Price List: service, usage-type suffix, our unit."""

    service: str
    usagetype: str
    per: float
    unit: str
    attributes: tuple[tuple[str, str], ...] = ()


SPECS: dict[str, Spec] = {
    "vpce.endpointHours": Spec("AmazonVPC", "VpcEndpoint-Hours", 1, "endpoint-AZ-hour"),
    "vpce.dataGb": Spec("AmazonVPC", "VpcEndpoint-Bytes", 1, "GB processed"),
    "tgw.attachmentHours": Spec("AmazonVPC", "TransitGateway-Hours", 1, "attachment-hour"),
    "tgw.dataGb": Spec("AmazonVPC", "TransitGateway-Bytes", 1, "GB sent to the TGW"),
    "nlb.hours": Spec("AWSELB", "LoadBalancerUsage", 1, "NLB-hour", (("operation", "LoadBalancing:Network"),)),
    "nlb.nlcuHours": Spec("AWSELB", "LCUUsage", 1, "NLCU-hour", (("operation", "LoadBalancing:Network"),)),
    "resolver.eniHours": Spec("AmazonRoute53", "ResolverNetworkInterface", 1, "endpoint-ENI-hour"),
    "resolver.queries": Spec("AmazonRoute53", "Resolver-Queries", 1_000_000, "queries through an endpoint"),
    "dx.dataOutGb": Spec("AWSDirectConnect", "DataXfer-Out", 1, "GB out to a Direct Connect location"),
    "lambda.requests": Spec("AWSLambda", "Request-ARM", 1_000_000, "requests"),
    "lambda.armGbSeconds": Spec("AWSLambda", "Lambda-GB-Second-ARM", 1, "GB-second (arm64)"),
    "lambda.x86GbSeconds": Spec("AWSLambda", "Lambda-GB-Second", 1, "GB-second (x86_64)"),
    "dynamodb.readRequests": Spec("AmazonDynamoDB", "ReadRequestUnits", 1_000_000, "read request units (on-demand)"),
    "dynamodb.writeRequests": Spec("AmazonDynamoDB", "WriteRequestUnits", 1_000_000, "write request units (on-demand)"),
    "dynamodb.storageGbMonth": Spec("AmazonDynamoDB", "TimedStorage-ByteHrs", 1, "GB-month"),
    "kms.keyMonth": Spec("awskms", "KMS-Keys", 1, "customer managed key-month"),
    "kms.requests": Spec("awskms", "KMS-Requests", 10_000, "requests"),
    "logs.ingestGb": Spec("AmazonCloudWatch", "DataProcessing-Bytes", 1, "GB ingested (standard log class)"),
    "logs.vendedGb": Spec("AmazonCloudWatch", "VendedLog-Bytes", 1, "GB of vended logs delivered"),
    "logs.storageGbMonth": Spec("AmazonCloudWatch", "TimedStorage-ByteHrs", 1, "GB-month archived (compressed)"),
    "cloudwatch.alarmMetric": Spec("AmazonCloudWatch", "CW:AlarmMonitorUsage", 1, "alarm metric-month"),
    "cloudwatch.dashboard": Spec("AmazonCloudWatch", "DashboardsUsageHour-Basic", 1, "dashboard-month"),
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
    dims = _on_demand(product)
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


def _matches(product: Mapping[str, Any], spec: Spec) -> bool:
    attrs = product.get("product", {}).get("attributes", {})
    usagetype = str(attrs.get("usagetype", ""))
    if not (usagetype == spec.usagetype or usagetype.endswith("-" + spec.usagetype)):
        return False
    return all(attrs.get(name) == value for name, value in spec.attributes)


def refresh_region(client: Any, region: str, today: dt.date, keys: Iterable[str] | None = None,
                   instance_types: Iterable[str] = INSTANCE_TYPES) -> dict[str, dict[str, Any]]:
    """Every price of ``keys`` (default: all of SPECS) and of the instance types found for ``region``."""
    wanted = {k: SPECS[k] for k in (keys if keys is not None else SPECS)}
    found: dict[str, dict[str, Any]] = {}
    for service in sorted({s.service for s in wanted.values()}):
        products = list(_pages(client, service, [_term_filter("regionCode", region)]))
        for key, spec in wanted.items():
            if spec.service != service or key in found:
                continue
            for product in products:
                if _matches(product, spec):
                    entry = _entry(key, spec, product, today)
                    if entry is not None:
                        found[key] = entry
                        break
    for instance_type in instance_types:
        filters = [_term_filter("regionCode", region), _term_filter("instanceType", instance_type),
                   _term_filter("operatingSystem", "Linux"), _term_filter("tenancy", "Shared"),
                   _term_filter("preInstalledSw", "NA"), _term_filter("capacitystatus", "Used")]
        spec = Spec("AmazonEC2", f"BoxUsage:{instance_type}", 1, "instance-hour (Linux)")
        for product in _pages(client, "AmazonEC2", filters):
            if _matches(product, spec):
                entry = _entry(f"ec2.{instance_type}", spec, product, today)
                if entry is not None:
                    found[f"ec2.{instance_type}"] = entry
                    break
    return found


def refresh_table(client: Any, old: Mapping[str, Any], regions: Iterable[str], today: dt.date,
                  keys: Iterable[str] | None = None,
                  instance_types: Iterable[str] = INSTANCE_TYPES
                  ) -> tuple[dict[str, Any], dict[str, list[str]], dict[str, list[str]]]:
    """A new table for ``regions``; per Region the prices the API did not return (kept from ``old``);
    per Region the prices it did."""
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
    }
    missing: dict[str, list[str]] = {}
    read: dict[str, list[str]] = {}
    for region in regions:
        found = refresh_region(client, region, today, key_list, types)
        before = (old.get("regions") or {}).get(region, {})
        merged = dict(before) | found
        table["regions"][region] = dict(sorted(merged.items()))
        expected = set(key_list if key_list is not None else SPECS) | {f"ec2.{t}" for t in types}
        missing[region] = sorted(expected - set(found))
        read[region] = sorted(found)
        table["notRefreshed"][region] = missing[region]
    return table, missing, read
