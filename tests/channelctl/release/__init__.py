"""Tests of channelctl.release: the ordered release."""
