"""One CloudWatch metric per decision, by reason, in CloudWatch embedded metric format.

The Lambda writes one JSON line per decision to its log; CloudWatch Logs turns it into the
metric ``Decisions`` (namespace ``PrivateMqttChannel/Authorizer``, dimension ``Reason``) without
an API call or a library (CloudWatch user guide, "Specification: Embedded metric format").
The line carries the reason and nothing else of the request: no user name, no password.
"""

from __future__ import annotations

import json
import re
import sys
import time
from typing import TextIO

NAMESPACE = "PrivateMqttChannel/Authorizer"
METRIC = "Decisions"
DIMENSION = "Reason"
ALLOW = "Allow"
# A reason is a class name or a fixed word: never text from the event.
_REASON = re.compile(r"^[A-Za-z]{1,64}$")


def emf_line(reason: str, now_ms: int | None = None) -> str:
    """The embedded-metric-format record of one decision."""
    if not _REASON.match(reason):
        reason = "Unexpected"
    return json.dumps({
        "_aws": {
            "Timestamp": int(time.time() * 1000) if now_ms is None else now_ms,
            "CloudWatchMetrics": [{
                "Namespace": NAMESPACE,
                "Dimensions": [[DIMENSION]],
                "Metrics": [{"Name": METRIC, "Unit": "Count"}],
            }],
        },
        DIMENSION: reason,
        METRIC: 1,
    }, separators=(",", ":"))


def record_decision(reason: str, out: TextIO | None = None) -> None:
    """Write the decision's metric line to standard output, which Lambda sends to the function's log group."""
    try:
        print(emf_line(reason), file=out or sys.stdout, flush=True)
    except Exception:  # noqa: BLE001 — a metric must never turn a decision into an error
        pass
