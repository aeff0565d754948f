"""The authorizer's decision metrics: one embedded-metric-format line per decision, by reason,
free of anything the device sent."""

from __future__ import annotations

import base64
import json

from authorizer.handler import handler
from authorizer.hashes import ScryptParams, hash_password
from authorizer.metrics import METRIC, NAMESPACE, emf_line
from tests.authorizer.support import FIXTURE_PASSWORD, connect_event

SECRET = b"hunter2-secret-guess"


class Context:
    invoked_function_arn = "arn:aws:lambda:us-west-2:222222222222:function:channel-authorizer"
    aws_request_id = "req-1"


def emf_records(text: str) -> list[dict]:
    records = []
    for line in text.splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict) and "_aws" in record:
            records.append(record)
    return records


def is_valid_emf(record: dict) -> bool:
    """The parts of the EMF specification CloudWatch needs to extract the metric."""
    meta = record["_aws"]
    directive = meta["CloudWatchMetrics"][0]
    return (
        isinstance(meta["Timestamp"], int)
        and directive["Namespace"] == NAMESPACE
        and all(dim in record for dims in directive["Dimensions"] for dim in dims)
        and all(m["Name"] in record and isinstance(record[m["Name"]], (int, float)) for m in directive["Metrics"])
    )


def test_a_line_is_valid_embedded_metric_format():
    record = json.loads(emf_line("WrongPassword", now_ms=1_700_000_000_000))
    assert is_valid_emf(record) and record["Reason"] == "WrongPassword" and record[METRIC] == 1


def test_a_reason_that_is_not_a_plain_word_is_not_written():
    assert json.loads(emf_line("user meter-0001 pw=x"))["Reason"] == "Unexpected"


def test_each_decision_writes_one_metric_with_its_reason(authorizer_env, capsys):
    authorizer_env.put_item(Item={
        "username": "meter-0001", "family": "meters", "enabled": True,
        "password_hash": hash_password(FIXTURE_PASSWORD, ScryptParams(log2_n=10, r=8, p=1)),
    })
    handler(connect_event("meter-0001", FIXTURE_PASSWORD), Context())
    handler(connect_event("meter-0001", SECRET), Context())
    handler(connect_event("nobody-here", SECRET), Context())
    out = capsys.readouterr().out
    records = emf_records(out)
    assert [r["Reason"] for r in records] == ["Allow", "WrongPassword", "UnknownDevice"]
    assert all(is_valid_emf(r) for r in records)
    for needle in (SECRET.decode(), base64.b64encode(SECRET).decode(), "nobody-here", "meter-0001"):
        assert needle not in out


def test_a_lock_line_names_the_user_as_a_property_not_a_dimension():
    from authorizer.metrics import lockout_line

    line = json.loads(lockout_line("meter-0001", now_ms=1))
    directive = line["_aws"]["CloudWatchMetrics"][0]
    assert directive["Dimensions"] == [["Reason"]] and line["Reason"] == "Lockout"
    assert [m["Name"] for m in directive["Metrics"]] == ["Lockouts"] and line["Lockouts"] == 1
    assert line["lockedUser"] == "meter-0001"
    assert "lockedUser" not in sum(directive["Dimensions"], [])
