"""Shared fixtures: the example stacks, rendered offline on Pulumi's mocks."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support import FQ, example_config, render, render_chain

PROJECT_DIR = Path(__file__).resolve().parents[1]


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
