"""Serve the policy pack to the Pulumi engine: ``pulumi preview --policy-pack policies``.

Building the PolicyPack starts a gRPC server and blocks until the engine stops it, so this is
the only place that builds it; the rules themselves live in ``policies.rules``.
"""

import sys
from pathlib import Path

# The engine runs this file as ``python policies/``, which puts only this directory on sys.path;
# the rules are imported as the ``policies`` package, the same name the tests use.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pulumi_policy import EnforcementLevel, PolicyPack  # noqa: E402

from policies.authorizers import AUTHORIZER_RULES  # noqa: E402
from policies.observability import STACK_RULES  # noqa: E402
from policies.rules import RULES  # noqa: E402

PACK_NAME = "private-mqtt-channel"

PolicyPack(
    name=PACK_NAME,
    enforcement_level=EnforcementLevel.MANDATORY,
    policies=[*RULES, *STACK_RULES, *AUTHORIZER_RULES],
)
