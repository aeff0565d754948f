"""`channelctl prices usage-types SERVICE`: the usage types the Price List holds for a service, and
which of the table's keys find theirs among them.

The refresh matches each price by its usage type (``refresh.SPECS``); a name that matches nothing
shows up there as "not refreshed". This lists what the Price List Query API really calls them
(``pricing:GetAttributeValues``, read-only), so a wrong name in SPECS is found in one command.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from channelctl.prices.refresh import SPECS, usagetype_pattern


def usage_types(client: Any, service: str) -> list[str]:
    """Every ``usagetype`` value of ``service`` in the Price List (paged)."""
    values: list[str] = []
    token = None
    while True:
        kwargs: dict[str, Any] = {"ServiceCode": service, "AttributeName": "usagetype", "MaxResults": 100}
        if token:
            kwargs["NextToken"] = token
        page = client.get_attribute_values(**kwargs)
        values += [str(item["Value"]) for item in page.get("AttributeValues", []) if "Value" in item]
        token = page.get("NextToken")
        if not token:
            return sorted(set(values))


def key_report(service: str, values: Iterable[str]) -> list[str]:
    """One line per table key priced from ``service``: the usage types of ``values`` its spec matches."""
    values = list(values)
    lines = []
    for key, spec in sorted(SPECS.items()):
        if spec.service != service:
            continue
        pattern = usagetype_pattern(spec)
        found = [v for v in values if pattern.fullmatch(v)]
        shown = ", ".join(found[:3]) + (f" (+{len(found) - 3} more)" if len(found) > 3 else "")
        lines.append(f"{key} ({spec.usagetype}): " + (f"matches {shown}" if found else "matches NO usage type"))
    return lines


def filtered(values: Iterable[str], contains: str | None) -> list[str]:
    if not contains:
        return list(values)
    needle = re.escape(contains)
    return [v for v in values if re.search(needle, v, re.IGNORECASE)]
