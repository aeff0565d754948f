"""The hook's Lambda package: standard library + boto3/botocore only, and the handler string resolves."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

from components.fleet_provisioning import HOOK_HANDLER, hook_code
from tests.authorizer.test_packaging import ALLOWED, imported_top_levels

PACKAGE = Path(__file__).resolve().parents[2] / "provisioning_hook"


@pytest.mark.parametrize("path", sorted(PACKAGE.glob("*.py")), ids=lambda p: p.name)
def test_modules_import_only_the_standard_library_and_boto3(path):
    assert imported_top_levels(path) <= ALLOWED


def test_the_handler_string_resolves_and_the_archive_holds_the_package():
    module_name, _, function = HOOK_HANDLER.rpartition(".")
    assert callable(getattr(importlib.import_module(module_name), function))
    assert set(hook_code().assets) == {f"provisioning_hook/{p.name}" for p in PACKAGE.glob("*.py")}
