"""channelctl: the operator's command line for the private MQTT channel."""
