"""One CloudWatch metric per decision, by reason, in CloudWatch embedded metric format.

The Lambda writes one JSON line per decision to its log; CloudWatch Logs turns it into the
metric ``Decisions`` (namespace ``PrivateMqttChannel/Authorizer``, dimension ``Reason``) without
an API call or a library (CloudWatch user guide, "Specification: Embedded metric format").
The line carries the reason and nothing else of the request: no user name, no password.

A lock is one more line: the metric ``Lockouts`` (its one dimension fixed, ``Reason=Lockout``) and, as a plain property
beside it, the locked user name (``record_lockout``). The name is never a dimension: each
value would be a metric of its own, so a guesser locking many names would create metrics
without bound. The alarm on ``Lockouts`` (components/fleet_monitoring.py) says which log
query lists the names. A lock is written only on an existing record, so the name is a
device's, never a password typed into the user-name field.
"""

from __future__ import annotations

import json
import re
import sys
import time
from typing import Callable, TextIO

NAMESPACE = "PrivateMqttChannel/Authorizer"
METRIC = "Decisions"
DIMENSION = "Reason"
ALLOW = "Allow"
LOCKOUT_METRIC = "Lockouts"
LOCKOUT_REASON = "Lockout"
LOCKED_USER = "lockedUser"  # the property naming the user in a lockout line
# A reason is a class name or a fixed word: never text from the event.
_REASON = re.compile(r"^[A-Za-z]{1,64}$")


def _emf(metric: str, reason: str, now_ms: int | None, **properties: str) -> str:
    """One embedded-metric-format record: ``metric`` counted once under the ``reason`` dimension."""
    return json.dumps({
        "_aws": {
            "Timestamp": int(time.time() * 1000) if now_ms is None else now_ms,
            "CloudWatchMetrics": [{
                "Namespace": NAMESPACE,
                "Dimensions": [[DIMENSION]],
                "Metrics": [{"Name": metric, "Unit": "Count"}],
            }],
        },
        DIMENSION: reason,
        metric: 1,
        **properties,
    }, separators=(",", ":"))


def _write(line: Callable[[], str], out: TextIO | None) -> None:
    """Print to standard output, which Lambda sends to the function's log group."""
    try:
        print(line(), file=out or sys.stdout, flush=True)
    except Exception:  # noqa: BLE001 — a metric must never turn a decision into an error
        pass


def emf_line(reason: str, now_ms: int | None = None) -> str:
    """The embedded-metric-format record of one decision."""
    if not _REASON.match(reason):
        reason = "Unexpected"
    return _emf(METRIC, reason, now_ms)


def record_decision(reason: str, out: TextIO | None = None) -> None:
    """Write the decision's metric line to the function's log group."""
    _write(lambda: emf_line(reason), out)


def lockout_line(username: str, now_ms: int | None = None) -> str:
    """The embedded-metric-format record of one lock, naming the user (JSON-escaped)."""
    return _emf(LOCKOUT_METRIC, LOCKOUT_REASON, now_ms, **{LOCKED_USER: username[:128]})


def record_lockout(username: str, out: TextIO | None = None) -> None:
    """Write the lock's metric line, naming the user, to the function's log group."""
    _write(lambda: lockout_line(username), out)
