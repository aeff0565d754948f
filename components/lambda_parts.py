"""What every Lambda function and service role of the program is built from.

One place for the package archive, the function name and the trust policy of a
role an AWS service assumes, so the authorizer and the provisioning hook (and
the instance and flow-log roles) cannot drift apart.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pulumi

# Lambda CreateFunction: FunctionName of letters, digits, hyphens and underscores, at most 64
# characters (Lambda API reference, CreateFunction, FunctionName). A Pulumi stack name may also
# hold periods, which AWS refuses in a function name.
FUNCTION_NAME_MAX = 64
_NOT_IN_FUNCTION_NAMES = re.compile(r"[^A-Za-z0-9_-]")


def function_name(prefix: str, stack: str) -> str:
    """``<prefix>-<stack>``: one function per stack, within what CreateFunction accepts."""
    return _NOT_IN_FUNCTION_NAMES.sub("-", f"{prefix}-{stack}")[:FUNCTION_NAME_MAX]


def package_archive(directory: Path) -> pulumi.AssetArchive:
    """The Python package ``directory`` at the archive root: its runtime files (``*.py``) only."""
    files = sorted(directory.glob("*.py"))
    if not any(p.name == "handler.py" for p in files):
        raise FileNotFoundError(f"{directory}/handler.py is missing")
    return pulumi.AssetArchive({f"{directory.name}/{p.name}": pulumi.FileAsset(str(p)) for p in files})


def service_trust_policy(service: str) -> str:
    """A role only ``service`` (``lambda.amazonaws.com``, ...) may assume, as JSON."""
    return json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}],
    })
