"""`channelctl up`: the ordered release through the Automation API."""
