"""CrossGuard policy pack of the private MQTT channel: rules in ``policies.rules``."""
