"""The cost estimate's bytes per authorizer call (channelctl/plan/cost/log_volume.py) against what the
handler really writes for an allowed device: its log records and the metric line it prints."""

from __future__ import annotations

import json
import logging

from authorizer.handler import handler
from channelctl.plan.cost.log_volume import PLATFORM_RECORD_BYTES, authorizer_log_bytes_per_call
from tests.authorizer.support import FIXTURE_PASSWORD, connect_event
from tests.authorizer.test_handler import Context, put_device


def _lambda_json(record: logging.LogRecord) -> str:
    """The record as Lambda's JSON log format writes an application log line of Python's logging."""
    return json.dumps({"timestamp": "2026-12-04T00:00:00.000Z", "level": record.levelname,
                       "message": record.getMessage(), "logger": record.name, "requestId": Context.aws_request_id})


def test_the_estimate_counts_what_an_allowed_call_writes(authorizer_env, caplog, capsys):
    put_device(authorizer_env, username="meter-000001")
    event = connect_event("meter-000001", FIXTURE_PASSWORD)
    event["connectionMetadata"]["id"] = "e56f08c3-c559-490f-aa9f-7e8427d0f57b"
    capsys.readouterr()
    with caplog.at_level(logging.INFO, logger="authorizer"):
        assert handler(event, Context())["isAuthenticated"] is True
    printed = capsys.readouterr().out
    written = sum(len(_lambda_json(r)) for r in caplog.records) + len(printed.rstrip("\n"))

    assert [r.getMessage().split(" ")[0] for r in caplog.records] == ["allow"]
    assert '"Decisions":1' in printed
    # The model's request ID is a UUID where this context's is short: the rest is byte for byte.
    model = authorizer_log_bytes_per_call() - PLATFORM_RECORD_BYTES
    assert written + len("e56f08c3-c559-490f-aa9f-7e8427d0f57b") - len(Context.aws_request_id) == model
