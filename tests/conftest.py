"""Shared fixtures: the example stacks, rendered offline on Pulumi's mocks."""

from __future__ import annotations

from pathlib import Path

import pytest

from channelctl.plan.render import RENDER_CACHE
from tests.support import FQ, example_config, render, render_chain

PROJECT_DIR = Path(__file__).resolve().parents[1]

# Each distinct render once per test run: many tests render the same stack with the same config
# and peers (the example stacks above all). A hit is a deep copy, so no test sees another's changes.
RENDER_CACHE.enable()


def pytest_terminal_summary(terminalreporter):
    if RENDER_CACHE.hits or RENDER_CACHE.misses:
        terminalreporter.write_line(
            f"renders: {RENDER_CACHE.misses} rendered, {RENDER_CACHE.hits} answered from the render cache"
        )


@pytest.fixture(scope="session")
def chain():
    """The five-step deploy order rendered once: {step label: RenderedStack}."""
    return render_chain()


@pytest.fixture
def network_config():
    return example_config("network")


@pytest.fixture
def iot_config():
    return example_config("iot")


@pytest.fixture
def consumer_config():
    return example_config("consumer")


__all__ = ["FQ", "PROJECT_DIR", "render"]
