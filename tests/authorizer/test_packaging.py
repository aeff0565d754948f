"""The Lambda package: standard library + boto3/botocore only, importable from the zip root."""

from __future__ import annotations

import ast
import importlib
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "authorizer"
ALLOWED = set(sys.stdlib_module_names) | {"boto3", "botocore"}


def imported_top_levels(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("path", sorted(PACKAGE.glob("*.py")), ids=lambda p: p.name)
def test_modules_import_only_the_standard_library_and_boto3(path):
    assert imported_top_levels(path) <= ALLOWED


def test_the_check_sees_a_third_party_import(tmp_path):
    module = tmp_path / "bad.py"
    module.write_text("import requests\nfrom authorizer import hashes\n")
    assert imported_top_levels(module) - ALLOWED == {"requests", "authorizer"}


def test_handler_string_resolves():
    module_name, _, function = "authorizer.handler.handler".rpartition(".")
    assert callable(getattr(importlib.import_module(module_name), function))
