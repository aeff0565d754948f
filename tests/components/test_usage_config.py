"""The ``usage`` map (the cost estimate's figures): documented defaults, and every refusal naming the
key, the value and the fix, before any resource is declared."""

from __future__ import annotations

import pytest

from components.config import ConfigError, load_config, load_usage
from tests.support import example_config


def test_defaults_when_absent():
    usage = load_usage(None, "iot")
    assert usage.connected_devices is None  # then expectedDevices
    assert (usage.messages_per_device_per_minute, usage.message_bytes) == (1.0, 512)
    # Derived when absent: the consumer's share of the iot stack's deliveries (channelctl/plan/cost).
    assert load_usage({}, "consumer").consumer_gb_per_month is None
    assert (usage.deliveries_per_message, usage.consumer_qos, usage.messages_to_devices_qos) == (None, 1, 1)


def test_written_figures_are_read():
    usage = load_usage({"connectedDevices": 1000, "messagesPerDevicePerMinute": 0.5, "messageBytes": 2048}, "iot")
    assert (usage.connected_devices, usage.messages_per_device_per_minute, usage.message_bytes) == (1000, 0.5, 2048)


@pytest.mark.parametrize("role, value, message", [
    ("iot", "lots", r"usage 'lots' is not a map — like \{messagesPerDevicePerMinute: 1\}"),
    ("iot", {"connectedDevices": 1.5}, r"usage.connectedDevices 1.5 is not a whole number — write it like"),
    ("iot", {"messagesPerDevicePerMinute": "1/s"}, r"usage.messagesPerDevicePerMinute '1/s' is not a number"),
    ("iot", {"messageBytes": True}, r"usage.messageBytes True is not a whole number"),
    ("iot", {"connectedDevices": -1}, r"usage.connectedDevices -1 is outside 0–100,000,000"),
    ("iot", {"messageBytes": 200_000}, r"usage.messageBytes 200000 is outside 0–131,072"),
    ("iot", {"connectedDevicse": 5}, r"usage has unknown key\(s\) connectedDevicse — known keys: connectedDevices"),
    ("network", {"connectedDevices": 5}, r"usage has unknown key\(s\) connectedDevices — known keys: dnsQueries"),
    ("consumer", {"consumerGbPerMonth": None}, r"usage.consumerGbPerMonth None is not a number"),
])
def test_refusals_name_the_key_the_value_and_the_fix(role, value, message):
    with pytest.raises(ConfigError, match=message):
        load_usage(value, role)


def test_the_stack_config_refuses_a_bad_usage_before_any_resource():
    config = example_config("consumer")
    load_config(config | {"usage": {"consumerGbPerMonth": 50}}, stack="consumer")
    with pytest.raises(ConfigError, match=r"usage.consumerGbPerMonth -5 is outside"):
        load_config(config | {"usage": {"consumerGbPerMonth": -5}}, stack="consumer")
