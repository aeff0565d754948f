"""Tests of channelctl.plan: the plan, its checks, --compare, the diagram and the deployer policy."""
