"""Price List products in the shape GetProducts returns them, for the refresh tests."""

from __future__ import annotations

import datetime as dt
import json

TODAY = dt.date(2026, 12, 4)


def _product(service: str, sku: str, usagetype: str, dims: list[tuple[str, str, str]], **attributes) -> str:
    """One Price List product as GetProducts returns it: dims are (beginRange, endRange, USD per unit)."""
    term = f"{sku}.JRTCKXETXF"
    return json.dumps({
        "product": {"productFamily": "x", "sku": sku,
                    "attributes": {"servicecode": service, "regionCode": "us-west-2", "location": "US West (Oregon)",
                                   "usagetype": usagetype, **attributes}},
        "serviceCode": service,
        "terms": {"OnDemand": {term: {
            "offerTermCode": "JRTCKXETXF", "sku": sku, "effectiveDate": "2026-11-01T00:00:00Z",
            "priceDimensions": {f"{term}.{i}": {"rateCode": f"{term}.{i}", "beginRange": begin, "endRange": end,
                                                 "unit": "Hrs", "pricePerUnit": {"USD": usd},
                                                 "description": f"{usagetype} {begin}-{end}"}
                                for i, (begin, end, usd) in enumerate(dims)},
        }}},
        "version": "20261101000000",
        "publicationDate": "2026-11-01T00:00:00Z",
    })


def _filters(region: str, **extra: str) -> list[dict[str, str]]:
    return [{"Type": "TERM_MATCH", "Field": "regionCode", "Value": region},
            *({"Type": "TERM_MATCH", "Field": k, "Value": v} for k, v in extra.items())]
