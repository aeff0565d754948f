"""What the authorizer writes to its log group per call, from the code that writes it.

Each allowed call writes the decision's log line (``authorizer.handler``: "allow principal=...
connection=..."), which Lambda's JSON log format wraps in a record with timestamp, level, message,
logger and requestId (Lambda developer guide, "Configuring JSON and plain text log formats"), and
the decision's metric line in the embedded metric format (``authorizer.metrics.emf_line``). Lambda
adds its own platform records for each invocation (start and report); their size is assumed.
"""

from __future__ import annotations

import json

# Assumed, not measured: the platform.start and platform.report records Lambda writes for each
# invocation in JSON (time, type, requestId, version; the report's duration, billed duration,
# memory size and memory used), about 150 and 250 bytes.
PLATFORM_RECORD_BYTES = 400
# A user name as the example fleet's are (the principal holds its letters and digits and a SHA-256).
_EXAMPLE_USER = "meter-000001"
_UUID = "e56f08c3-c559-490f-aa9f-7e8427d0f57b"


def authorizer_log_bytes_per_call() -> int:
    """Bytes one allowed call adds to the authorizer's log group."""
    from authorizer.metrics import ALLOW, emf_line
    from authorizer.principal import principal_id

    record = {"timestamp": "2026-12-04T00:00:00.000Z", "level": "INFO",
              "message": f"allow principal={principal_id(_EXAMPLE_USER)} connection={_UUID}",
              "logger": "authorizer", "requestId": _UUID}
    return len(json.dumps(record)) + len(emf_line(ALLOW)) + PLATFORM_RECORD_BYTES
