"""Shared fixtures: the example stacks, rendered offline on Pulumi's mocks."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import botocore.loaders
import botocore.session
import pytest

from channelctl.plan.render import RENDER_CACHE
from tests.support import FQ, example_config, render, render_chain

PROJECT_DIR = Path(__file__).resolve().parents[1]

# Each distinct render once per test run: many tests render the same stack with the same config
# and peers (the example stacks above all). A hit is a deep copy, so no test sees another's changes.
# The workers of one run (pytest-xdist) share their renders through one directory: the first
# process to need a render makes it, the others wait for it and read it.
RENDERS_DIRECTORY = "CHANNEL_TEST_RENDERS"


# Every botocore session loads the service models it uses (DynamoDB's, the endpoint rules, ...)
# into its own loader, and moto starts each test with a new default session: without this, each
# test that makes a client reads and parses the same JSON files again (about 0.14 s a test). The
# models do not change during a run, so the sessions of one process share one loader.
_LOADERS: dict[str | None, botocore.loaders.Loader] = {}
_create_loader = botocore.loaders.create_loader


def _shared_loader(search_path_string: str | None = None) -> botocore.loaders.Loader:
    if search_path_string not in _LOADERS:
        _LOADERS[search_path_string] = _create_loader(search_path_string)
    return _LOADERS[search_path_string]


botocore.session.create_loader = _shared_loader


def pytest_configure(config):
    if not hasattr(config, "workerinput") and RENDERS_DIRECTORY not in os.environ:
        # The controller (or a run without workers): the workers it starts inherit the variable.
        os.environ[RENDERS_DIRECTORY] = tempfile.mkdtemp(prefix="channel-renders-")
        config.stash[_OWNED] = os.environ[RENDERS_DIRECTORY]
    RENDER_CACHE.enable(os.environ[RENDERS_DIRECTORY])


def pytest_unconfigure(config):
    owned = config.stash.get(_OWNED, None)
    if owned is not None:
        shutil.rmtree(owned, ignore_errors=True)
        os.environ.pop(RENDERS_DIRECTORY, None)


_OWNED = pytest.StashKey[str]()


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
