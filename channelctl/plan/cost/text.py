"""The cost estimate as the plan's text shows it: per-account totals, the channel's total and the
largest lines; ``--format json`` has every line."""

from __future__ import annotations

from channelctl.plan.cost.estimate import ChannelCost

# Lines of the estimate the text output lists; the JSON output has them all.
TOP_LINES = 8


def money(usd: float) -> str:
    return f"${usd:,.2f}"


def cost_lines(cost: ChannelCost) -> list[str]:
    """Sentences (unwrapped) for the text output's cost section; the caller fits them to the width."""
    table = cost.table
    out = [f"Monthly cost estimate (list prices of {table.read_at}, {table.path.name}; per account, then the "
           f"{TOP_LINES} largest lines; every line and its source in --format json)"]
    for account, total in cost.accounts().items():
        stacks = ", ".join(s.name for s in cost.stacks.values() if s.account_id == account)
        out.append(f"  account {account} ({stacks}): {money(total)} a month")
    out.append(f"  channel: {money(cost.monthly)} a month")
    for line in sorted(cost.lines(), key=lambda line: -line.monthly)[:TOP_LINES]:
        where = "" if line.price.region == cost.stacks[line.stack].region else f", {line.price.region} price"
        out.append(f"  - {line.stack}: {line.resource_class} {money(line.monthly)} ({line.description}; "
                   f"{line.quantity:,.0f} {line.price.unit}{where})")
    for note in cost.notes:
        out.append(f"  note: {note}")
    out.append("  limits: " + "; ".join(_short_limits()))
    return out


def _short_limits() -> list[str]:
    return ["list prices without free tier, Savings Plans or tax", "no inter-Region or inter-AZ transfer",
            "assumed figures in docs/costs.md"]
