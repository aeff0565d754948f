"""What a change adds to the monthly cost: the estimate of an earlier ``plan --format json`` against
this plan's, per account and in total, for ``plan --compare``."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from channelctl.plan.cost.estimate import ChannelCost
from channelctl.plan.cost.text import money


@dataclass(frozen=True)
class CostChange:
    """Monthly totals before and after; ``old`` None when the earlier plan carries no estimate."""

    old: dict[str, float] | None
    new: dict[str, float]
    old_total: float | None
    new_total: float

    @property
    def difference(self) -> float | None:
        return None if self.old_total is None else self.new_total - self.old_total

    def to_json(self) -> dict[str, Any]:
        accounts = sorted(set(self.new) | set(self.old or {}))
        return {
            "currency": "USD",
            "oldMonthly": None if self.old_total is None else round(self.old_total, 2),
            "newMonthly": round(self.new_total, 2),
            "monthlyDifference": None if self.difference is None else round(self.difference, 2),
            "accounts": {
                a: {"oldMonthly": None if self.old is None else round(self.old.get(a, 0.0), 2),
                    "newMonthly": round(self.new.get(a, 0.0), 2),
                    "monthlyDifference": None if self.old is None else round(self.new.get(a, 0.0) - self.old.get(a, 0.0), 2)}
                for a in accounts
            },
        }

    def text(self) -> str:
        if self.old is None or self.difference is None:
            return (f"\nCost: the earlier plan has no cost estimate (an older channelctl wrote it); this plan: "
                    f"{money(self.new_total)} a month\n")
        lines = [f"\nCost of this change: {_signed(self.difference)} a month "
                 f"({money(self.old_total or 0.0)} -> {money(self.new_total)}, list prices)"]
        for account in sorted(set(self.new) | set(self.old)):
            before, after = self.old.get(account, 0.0), self.new.get(account, 0.0)
            lines.append(f"  account {account}: {_signed(after - before)} a month ({money(before)} -> {money(after)})")
        return "\n".join(lines) + "\n"


def _signed(usd: float) -> str:
    return ("+" if round(usd, 2) >= 0 else "-") + money(abs(usd))


def cost_change(old_plan: Mapping[str, Any] | None, new: ChannelCost) -> CostChange:
    """The change from ``old_plan`` (a ``plan --format json`` document) to ``new``."""
    old_cost = (old_plan or {}).get("cost") if isinstance(old_plan, Mapping) else None
    # In cents, as the JSON output writes them, so that an unchanged plan differs by exactly 0.
    new_accounts = {a: round(v, 2) for a, v in new.accounts().items()}
    new_total = round(new.monthly, 2)
    if not isinstance(old_cost, Mapping) or not isinstance(old_cost.get("accounts"), Mapping):
        return CostChange(None, new_accounts, None, new_total)
    try:
        old_accounts = {str(a): round(float(v), 2) for a, v in old_cost["accounts"].items()}
        old_total = round(float(old_cost["monthly"]), 2)
    except (TypeError, ValueError, KeyError):
        return CostChange(None, new_accounts, None, new_total)
    return CostChange(old_accounts, new_accounts, old_total, new_total)


def read_old_plan(path: Path) -> Mapping[str, Any] | None:
    """The earlier plan's JSON (``--compare`` has already refused a file that is not one)."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, Mapping) else None


def compare_cost(old_path: Path, stacks: Mapping[str, Any]) -> CostChange:
    """For ``plan --compare OLD.json``: the cost change from OLD's estimate to this plan's."""
    from channelctl.plan.cost.estimate import estimate

    return cost_change(read_old_plan(old_path), estimate(stacks))
