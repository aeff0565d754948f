"""The price table the cost estimate multiplies by: list prices as data, each dated and sourced.

``prices.json`` beside this module holds, per Region, the prices the estimate uses, keyed like
``vpce.endpointHours``; each names the AWS pricing page it comes from (``source``), the day it was
read and where the figure was seen. ``channelctl prices refresh`` rewrites the file from the AWS
Price List API (``channelctl.prices.refresh``).

A Region the table lacks, or a price a Region lacks, is priced at the reference Region's list
price (``referenceRegion``, US East (N. Virginia), the Region every AWS pricing page shows
first) and every such line says so (``priceRegion``): the config accepts any Region, and an
estimate in another Region's prices is more useful than none, as long as it is labelled.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

TABLE_PATH = Path(__file__).with_name("prices.json")

# A table older than this is refused by the test suite (tests/channelctl/plan/cost): AWS changes
# list prices rarely, but it does (DynamoDB on-demand halved in November 2024), so a year-old
# table is refreshed before it is trusted.
MAX_TABLE_AGE_DAYS = 365

# The prices the estimate reads (channelctl.plan.cost.estimate); a table lacking one in its
# reference Region is incomplete.
PRICE_KEYS = (
    "vpce.endpointHours", "vpce.dataGb", "nlb.hours", "nlb.nlcuHours", "tgw.attachmentHours", "tgw.dataGb",
    "resolver.eniHours", "resolver.queries", "route53.hostedZone", "dx.port1GbpsHours", "dx.port10GbpsHours",
    "dx.port100GbpsHours", "dx.dataOutGb", "lambda.requests", "lambda.armGbSeconds", "lambda.x86GbSeconds",
    "dynamodb.readRequests", "dynamodb.writeRequests", "dynamodb.storageGbMonth", "dynamodb.pitrGbMonth",
    "kms.keyMonth", "kms.requests", "logs.ingestGb", "logs.vendedGb", "logs.storageGbMonth",
    "cloudwatch.alarmMetric", "cloudwatch.dashboard", "cloudwatch.customMetric", "sns.email",
    "iot.connectivityMinutes", "iot.messages", "iot.rulesTriggered", "iot.actions",
    "ec2.t4g.small", "ec2.t4g.medium",
)


class PriceTableError(Exception):
    """The price table is not one: the message names the file and the key."""


@dataclass(frozen=True)
class Price:
    """``usd`` per ``per`` units of ``unit``; ``tiers`` are (up to this many units, usd) steps."""

    key: str
    usd: float
    per: float
    unit: str
    region: str
    source: str
    read: str
    seen_in: str
    verified: str
    tiers: tuple[tuple[float | None, float], ...] = ()

    def cost(self, quantity: float) -> float:
        """What ``quantity`` units cost, step by step through the tiers when there are any."""
        if not self.tiers:
            return quantity * self.usd / self.per
        total, below = 0.0, 0.0
        for upto, usd in self.tiers:
            top = quantity if upto is None else min(quantity, upto)
            if top > below:
                total += (top - below) * usd / self.per
            if upto is None or quantity <= upto:
                break
            below = upto
        return total


@dataclass(frozen=True)
class PriceTable:
    path: Path
    read_at: dt.date
    method: str
    reference_region: str
    regions: dict[str, dict[str, Price]]

    def price(self, region: str, key: str) -> Price:
        """The Region's price, else the reference Region's (its ``region`` says which)."""
        found = self.regions.get(region, {}).get(key) or self.regions.get(self.reference_region, {}).get(key)
        if found is None:
            raise PriceTableError(f"{self.path}: no price {key!r} for {region} nor {self.reference_region} — "
                                  "run `channelctl prices refresh` or add it with its source")
        return found

    def to_json(self) -> dict[str, Any]:
        return {"file": str(self.path), "readAt": self.read_at.isoformat(), "method": self.method,
                "referenceRegion": self.reference_region, "regions": sorted(self.regions)}


def load_table(path: Path = TABLE_PATH) -> PriceTable:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        read_at = dt.date.fromisoformat(data["readAt"])
        regions = {
            region: {key: _price(key, region, raw) for key, raw in prices.items()}
            for region, prices in data["regions"].items()
        }
        return PriceTable(Path(path), read_at, str(data["method"]), str(data["referenceRegion"]), regions)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise PriceTableError(f"{path}: not a price table ({type(exc).__name__}: {exc}) — regenerate it with "
                              "`channelctl prices refresh`") from None


def _price(key: str, region: str, raw: dict[str, Any]) -> Price:
    tiers = tuple((None if upto is None else float(upto), float(usd)) for upto, usd in raw.get("tiers") or ())
    return Price(key=key, usd=float(raw["usd"]), per=float(raw["per"]), unit=str(raw["unit"]), region=region,
                 source=str(raw["source"]), read=str(raw["read"]), seen_in=str(raw.get("seenIn", "")),
                 verified=str(raw.get("verified", "")), tiers=tiers)


def table_problems(table: PriceTable, today: dt.date, regions: set[str]) -> list[str]:
    """Why ``table`` cannot be trusted today for a channel in ``regions`` (empty: it can)."""
    problems = []
    age = (today - table.read_at).days
    if age > MAX_TABLE_AGE_DAYS:
        problems.append(f"{table.path}: read {table.read_at} ({age} days ago), older than {MAX_TABLE_AGE_DAYS} days — "
                        "run `channelctl prices refresh`")
    if table.read_at > today:
        problems.append(f"{table.path}: readAt {table.read_at} is in the future — fix the date")
    for region in sorted(regions | {table.reference_region}):
        if region not in table.regions:
            problems.append(f"{table.path}: no prices for {region} — run `channelctl prices refresh --region {region}`")
    reference = table.regions.get(table.reference_region, {})
    missing = [key for key in PRICE_KEYS if key not in reference]
    if missing:
        problems.append(f"{table.path}: {table.reference_region} lacks {', '.join(missing)} — add them with their source")
    for region, prices in table.regions.items():
        for key, price in prices.items():
            if not price.source.startswith("https://aws.amazon.com/") or not price.read:
                problems.append(f"{table.path}: {region} {key} names no AWS pricing page and date — add source and read")
    return problems
