"""`channelctl prices`: the price table the plan's cost estimate uses (channelctl/plan/cost/prices.json)."""
