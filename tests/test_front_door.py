"""The README's first command works with the runtime dependencies alone.

`bin/setup` without `--test` installs no test or policy extra, so nothing `channelctl` runs may
import `pulumi-policy` (the pack's checks live in `policies.checks` for that reason). Each
command runs in a fresh interpreter in which importing `pulumi_policy` fails, as it does in
a virtualenv made by a plain `bin/setup`.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
WITHOUT_POLICY = (
    "import sys; sys.modules['pulumi_policy'] = None; "
    "from channelctl.cli import main; sys.exit(main(sys.argv[1:]))"
)


def channelctl_without_policy(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", WITHOUT_POLICY, *args], cwd=ROOT, capture_output=True, text=True, timeout=120
    )


def test_the_blocker_really_blocks_pulumi_policy():
    blocked = subprocess.run(
        [sys.executable, "-c", "import sys; sys.modules['pulumi_policy'] = None; import policies.rules"],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
    )
    assert blocked.returncode != 0
    assert "pulumi_policy" in blocked.stderr


@pytest.mark.parametrize("args", [("--help",), ("plan", "--help"), ("devices", "--help"), ("up", "--help")])
def test_help_works_without_pulumi_policy(args):
    result = channelctl_without_policy(*args)
    assert result.returncode == 0, result.stderr
    assert "usage: channelctl" in result.stdout


def test_the_plan_passes_without_pulumi_policy():
    result = channelctl_without_policy("plan")
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.rstrip().splitlines()[-1].startswith("PASS")
