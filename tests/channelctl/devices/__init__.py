"""Tests of channelctl.devices: the device credentials."""
