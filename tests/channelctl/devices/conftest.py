"""Shared by the device command tests: ``run`` a command, and a small scrypt for new passwords.

``channelctl devices add`` and ``set-password`` hash with the project's scrypt
(``authorizer.hashes.DEFAULT_SCRYPT``, ln=15: about 0.17 s of CPU each here) and
the authorizer verifies it again on each CONNECT a test makes. What these tests
check does not depend on the cost parameters, which are a setting; the cost
itself is tested in tests/authorizer (test_hashes, test_cost, test_hash_work).
"""

from __future__ import annotations

import io
import sys

import pytest

from authorizer import hashes
from channelctl.cli import main

SMALL_SCRYPT = hashes.ScryptParams(log2_n=10, r=8, p=1)


@pytest.fixture(autouse=True)
def small_scrypt(request, monkeypatch):
    """Tests of the parameters themselves are marked ``project_scrypt`` and keep them."""
    if request.node.get_closest_marker("project_scrypt") is None:
        monkeypatch.setattr(hashes, "DEFAULT_SCRYPT", SMALL_SCRYPT)


@pytest.fixture
def run(monkeypatch, capsys):
    """``channelctl devices ARGV`` in this process: (exit code, stdout, stderr); ``stdin`` feeds passwords."""
    def run(*argv: str, stdin: bytes | None = None) -> tuple[int, str, str]:
        if stdin is not None:
            monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(stdin)))
        code = main(["devices", *argv])
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return run
