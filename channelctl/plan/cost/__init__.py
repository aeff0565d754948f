"""What the channel costs: a monthly estimate per stack, per account and in total, at list prices.

``prices`` loads the dated, sourced price table (``prices.json``); ``fleet`` turns the iot stack's
usage figures into the fleet's monthly traffic; ``estimate`` turns each stack's rendered resources
into line items; ``diff`` compares two plans' estimates for ``plan --compare``; ``text`` is the
estimate as the plan's text output shows it.
"""
