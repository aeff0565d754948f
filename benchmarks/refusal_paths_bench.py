"""Refusal paths: does any refusal answer sooner than another? p50 per path with a simulated round trip.

The handler runs against a moto DynamoDB table; every DynamoDB call first
sleeps a fixed round trip (default 4 ms, --rtt-ms), standing in for the
network and the service, and the time moto itself takes to answer (Python
parsing and serialising, 1-60 ms here depending on the machine's load, and
no part of DynamoDB's latency) is timed and taken out of the call's time. The paths (unknown user, wrong password,
locked, right password with a foreign client ID) run interleaved, round-robin,
so load on the machine falls on all of them alike; each path's p50 is compared
with the fastest path's. A control row, an allow without earlier failures
(one GetItem, no UpdateItem), shows what one round trip fewer looks like.

The hash work is the same for every path by design (authorizer/decision.py);
it is kept cheap here (mosquitto-sha512 and scrypt ln=10) so that the DynamoDB
round trips, which this measures, are most of each call.

Run: .venv/bin/python -m benchmarks.refusal_paths_bench [--rounds N] [--rtt-ms MS] [--no-record]
Appends a section to benchmarks/RESULTS.md unless --no-record.
"""

from __future__ import annotations

import argparse
import base64
import copy
import json
import os
import platform
import statistics
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PASSWORD = b"benchmark-password"
TABLE = "device-credentials"
ENV = {
    "CREDENTIALS_TABLE": TABLE,
    "DATA_ENDPOINT_IDS": "vpce-0123456789abcdef0",
    "AWS_REGION": "eu-central-1",
    "AWS_DEFAULT_REGION": "eu-central-1",
    "IOT_ACCOUNT_ID": "123456789012",
    "UNKNOWN_USER_HASH": "mosquitto-sha512",
    "MAX_FAILED_ATTEMPTS": "1000",  # the wrong-password device must not lock during the run
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
}


class SlowClient:
    """The authorizer's DynamoDB client with a fixed round trip added to every call."""

    def __init__(self, client, rtt_s: float):
        self.client, self.rtt_s = client, rtt_s
        self.moto_s = 0.0  # time spent inside moto since the last reset

    def __getattr__(self, operation):
        method = getattr(self.client, operation)

        def call(**kwargs):
            time.sleep(self.rtt_s)
            start = time.perf_counter()
            try:
                return method(**kwargs)
            finally:
                self.moto_s += time.perf_counter() - start

        return call


def event(username: str, password: bytes, client_id: str) -> dict:
    template = json.loads((ROOT / "tests" / "events" / "iot_mqtt_connect.json").read_text())
    evt = copy.deepcopy(template)
    evt["protocolData"]["mqtt"].update(
        username=username, password=base64.b64encode(password).decode(), clientId=client_id)
    return evt


def run(rounds: int, rtt_ms: float) -> dict[str, list[float]]:
    os.environ.update(ENV)
    import boto3
    from moto import mock_aws

    from authorizer import handler as handler_module, hashes, store
    from authorizer.hashes import ScryptParams, hash_password

    hashes.DEFAULT_SCRYPT = ScryptParams(10, 8, 1)
    with mock_aws():
        store.reset_client()
        client = boto3.client("dynamodb", region_name=ENV["AWS_REGION"])
        client.create_table(
            TableName=TABLE, KeySchema=[{"AttributeName": "username", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "username", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST")
        table = boto3.resource("dynamodb", region_name=ENV["AWS_REGION"]).Table(TABLE)
        stored = hash_password(PASSWORD, hashes.DEFAULT_SCRYPT)
        for name, extra in (("meter-0001", {}), ("meter-0002", {}), ("meter-0003", {}),
                            ("locked-0001", {"locked_until": "2999-01-01T00:00:00+00:00"})):
            table.put_item(Item={"username": name, "password_hash": stored, "family": "meters", **extra})
        paths = {
            "unknown user": event("nobody-0001", PASSWORD, "nobody-0001"),
            "wrong password": event("meter-0001", b"wrong-password", "meter-0001"),
            "locked": event("locked-0001", PASSWORD, "locked-0001"),
            "right password, wrong client ID": event("meter-0002", PASSWORD, "thing-0042"),
            "control: allow (no UpdateItem)": event("meter-0003", PASSWORD, "meter-0003"),
        }
        handler_module._settings.cache_clear()
        handler_module._work_cache.clear()
        handler_module.handler(paths["unknown user"], None)  # warm: settings, registry, dummies
        slow = store._client = SlowClient(store.dynamodb_client(), rtt_ms / 1000)
        times: dict[str, list[float]] = {path: [] for path in paths}
        for _ in range(rounds):
            for path, evt in paths.items():
                slow.moto_s = 0.0
                start = time.perf_counter()
                answer = handler_module.handler(evt, None)
                times[path].append((time.perf_counter() - start - slow.moto_s) * 1000)
                assert answer["isAuthenticated"] is path.startswith("control"), path
        store.reset_client()
    return times


def report(times: dict[str, list[float]], rounds: int, rtt_ms: float) -> str:
    refusals = {p: statistics.median(t) for p, t in times.items() if not p.startswith("control")}
    fastest = min(refusals.values())
    lines = [
        f"## authorizer: refusal paths with a {rtt_ms:g} ms DynamoDB round trip "
        f"({datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC)",
        "",
        f"Command: `.venv/bin/python -m benchmarks.refusal_paths_bench --rounds {rounds} --rtt-ms {rtt_ms:g}`. "
        f"{platform.machine()}, Python {platform.python_version()}, load average "
        f"{os.getloadavg()[0]:.1f} at the end; moto table, every DynamoDB call delayed {rtt_ms:g} ms and "
        "moto's own time taken out; paths interleaved round-robin.",
        "",
        "| path | p50 ms | p90 ms | p50 vs fastest refusal |",
        "|---|---:|---:|---:|",
    ]
    for path, samples in times.items():
        p50 = statistics.median(samples)
        p90 = statistics.quantiles(samples, n=10)[-1]
        lines.append(f"| {path} | {p50:.2f} | {p90:.2f} | {(p50 / fastest - 1) * 100:+.1f}% |")
    spread = (max(refusals.values()) / fastest - 1) * 100
    lines += ["", f"Refusal paths' p50 spread: {spread:.1f}% (the target: at most 5%).", ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=300)
    parser.add_argument("--rtt-ms", type=float, default=4.0)
    parser.add_argument("--no-record", action="store_true")
    args = parser.parse_args(argv)
    text = report(run(args.rounds, args.rtt_ms), args.rounds, args.rtt_ms)
    print(text)
    if not args.no_record:
        with open(ROOT / "benchmarks" / "RESULTS.md", "a") as out:
            out.write("\n" + text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
