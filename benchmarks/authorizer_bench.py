"""Authorizer benchmark: decisions per second, p50/p99 latency and the decision's own overhead.

Warm and in-process: the handler runs as Lambda would call it, with the
DynamoDB GetItem answered by an in-memory stand-in for the boto3 client (no
network, so the numbers are the handler's own cost). For each hash format at
its default cost the hash verification is timed inside every call, so
"overhead" = handler time - hash time for the same call. Then the handler
module's cold import time in fresh interpreters, and which non-standard-library
packages that import pulls in.

Run: .venv/bin/python -m benchmarks.authorizer_bench [--iterations N] [--no-record]
Appends a section to benchmarks/RESULTS.md unless --no-record.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from authorizer import decision, handler as handler_module, store  # noqa: E402
from authorizer.hashes import hash_password  # noqa: E402

PASSWORD = b"benchmark-password"
ENV = {
    "CREDENTIALS_TABLE": "device-credentials",
    "DATA_ENDPOINT_IDS": "vpce-0123456789abcdef0,vpce-0fedcba9876543210",
    "AWS_REGION": "eu-central-1",
    "IOT_ACCOUNT_ID": "123456789012",
}


def mosquitto_sha512(password: bytes) -> str:
    salt = os.urandom(12)
    digest = hashlib.sha512(password + salt).digest()
    return f"$6${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"


def mosquitto_pbkdf2(password: bytes, iterations: int, salt_bytes: int) -> str:
    salt = os.urandom(salt_bytes)
    digest = hashlib.pbkdf2_hmac("sha512", password, salt, iterations, 64)
    return f"$7${iterations}${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"


FORMATS = {
    "$6$ (mosquitto -H sha512)": (lambda: mosquitto_sha512(PASSWORD), "mosquitto-sha512"),
    "$7$ 101 it, 12-byte salt (mosquitto 2.0 default)": (
        lambda: mosquitto_pbkdf2(PASSWORD, 101, 12), "mosquitto-pbkdf2:101"),
    "$7$ 1000 it, 64-byte salt (mosquitto 2.1 default)": (
        lambda: mosquitto_pbkdf2(PASSWORD, 1000, 64), "mosquitto-pbkdf2:1000"),
    "$scrypt$ ln=15,r=8,p=1 (project default)": (lambda: hash_password(PASSWORD), "scrypt"),
}


class StubDynamoDB:
    """Answers GetItem like the boto3 DynamoDB client, from memory."""

    def __init__(self, item: dict):
        self._response = {"Item": {key: {"BOOL": v} if isinstance(v, bool) else {"S": v} for key, v in item.items()}}

    def get_item(self, **kwargs):
        return self._response


def event(username: str) -> dict:
    return {
        "token": "",
        "signatureVerified": False,
        "protocols": ["tls", "mqtt"],
        "protocolData": {
            "tls": {"serverName": "mqtt.plant.example.com"},
            "mqtt": {"username": username, "password": base64.b64encode(PASSWORD).decode(), "clientId": username},
        },
        "connectionMetadata": {"id": "e56f08c3-c559-490f-aa9f-7e8427d0f57b"},
    }


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def run_format(name: str, make_hash, dummy_spec: str, iterations: int) -> dict:
    os.environ.update(ENV, UNKNOWN_USER_HASH=dummy_spec)
    handler_module._settings.cache_clear()
    item = {"username": "meter-0001", "password_hash": make_hash(), "family": "meters", "enabled": True}
    store._client = StubDynamoDB(item)

    hash_times: list[float] = []
    original_verify = decision.verify_password

    def timed_verify(password, stored):
        start = time.perf_counter()
        result = original_verify(password, stored)
        hash_times.append(time.perf_counter() - start)
        return result

    decision.verify_password = timed_verify
    try:
        request = event("meter-0001")
        for _ in range(max(3, iterations // 20)):  # warm-up
            assert handler_module.handler(request, None)["isAuthenticated"] is True
        hash_times.clear()
        totals = []
        wall_start = time.perf_counter()
        for _ in range(iterations):
            start = time.perf_counter()
            response = handler_module.handler(request, None)
            totals.append(time.perf_counter() - start)
        wall = time.perf_counter() - wall_start
        assert response["isAuthenticated"] is True
    finally:
        decision.verify_password = original_verify
        store.reset_client()
    overhead = [t - h for t, h in zip(totals, hash_times)]
    return {
        "name": name,
        "iterations": iterations,
        "per_second": iterations / wall,
        "p50": percentile(totals, 0.50) * 1000,
        "p99": percentile(totals, 0.99) * 1000,
        "hash_p50": percentile(hash_times, 0.50) * 1000,
        "overhead_p50": percentile(overhead, 0.50) * 1000,
        "overhead_p99": percentile(overhead, 0.99) * 1000,
    }


def cache_effect(samples: int = 100) -> tuple[float, float]:
    """Median ms of the same small Python work (parse a hash, dump a small JSON) cold vs right after scrypt.

    scrypt's 32 MiB working set evicts the CPU caches, so the code that runs
    after it is slower; this separates that effect from the decision's own cost.
    """
    from authorizer.hashes import parse_hash

    text = hash_password(b"x")
    payload = {"Statement": [{"Effect": "Allow", "Resource": ["arn:aws:iot:eu-central-1:1:topic/a"] * 20}]}

    def work() -> float:
        start = time.perf_counter()
        parse_hash(text)
        json.dumps(payload)
        return time.perf_counter() - start

    plain = [work() for _ in range(samples)]
    after = []
    for _ in range(samples // 4):
        hashlib.scrypt(b"x", salt=b"s" * 16, n=1 << 15, r=8, p=1, maxmem=64 << 20, dklen=32)
        after.append(work())
    return statistics.median(plain) * 1000, statistics.median(after) * 1000


IMPORT_PROBE = r"""
import json, sys, time
start = time.perf_counter()
import authorizer.handler
elapsed = time.perf_counter() - start
# Names starting with "_" are interpreter/site internals (sysconfig data, setuptools' .pth hook).
top = sorted({m.split(".")[0] for m in sys.modules} - set(sys.stdlib_module_names))
top = [name for name in top if not name.startswith("_")]
print(json.dumps({"seconds": elapsed, "packages": top}))
"""


def cold_imports(runs: int) -> tuple[list[float], list[str]]:
    times, packages = [], []
    for _ in range(runs):
        out = subprocess.run([sys.executable, "-c", IMPORT_PROBE], cwd=ROOT, capture_output=True, text=True, check=True)
        result = json.loads(out.stdout)
        times.append(result["seconds"] * 1000)
        packages = result["packages"]
    return times, packages


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--iterations", type=int, default=2000, help="handler calls per format (scrypt: a tenth)")
    parser.add_argument("--no-record", action="store_true", help="print only; do not append to RESULTS.md")
    args = parser.parse_args()

    results = []
    for name, (make_hash, dummy_spec) in FORMATS.items():
        count = args.iterations if "scrypt" not in name else max(50, args.iterations // 10)
        results.append(run_format(name, make_hash, dummy_spec, count))
    import_times, packages = cold_imports(7)
    plain_ms, after_scrypt_ms = cache_effect()

    command = ".venv/bin/python -m benchmarks.authorizer_bench" + (
        f" --iterations {args.iterations}" if args.iterations != 2000 else "")
    worst_overhead = max(r["overhead_p99"] for r in results)
    allowed_packages = {"authorizer", "boto3", "botocore"}
    extra = [p for p in packages if p not in allowed_packages]
    lines = [
        "",
        f"## authorizer: decision latency per hash format ({datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC)",
        "",
        f"Command: `{command}`",
        "",
        f"Machine: {os.cpu_count()} CPUs, {platform.platform()}, Python {platform.python_version()}. "
        "Warm, in-process handler calls (parse event -> GetItem -> decide -> build response) for an allowed "
        "device; GetItem answered by an in-memory stand-in for the boto3 DynamoDB client. Overhead = handler "
        "time minus the hash verification timed inside the same call.",
        "",
        "| hash format | calls | decisions/s | p50 ms | p99 ms | hash p50 ms | overhead p50 ms | overhead p99 ms |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        lines.append(
            f"| {r['name']} | {r['iterations']} | {r['per_second']:.0f} | {r['p50']:.3f} | {r['p99']:.3f} | "
            f"{r['hash_p50']:.3f} | {r['overhead_p50']:.3f} | {r['overhead_p99']:.3f} |"
        )
    lines += [
        "",
        f"Target: decision overhead beyond the hash under 1 ms at p99 — "
        f"{'met' if worst_overhead < 1 else 'NOT met'} (worst p99 {worst_overhead:.3f} ms).",
        "",
        f"Cache effect: the same small piece of Python work (parse a hash string, serialize a small policy) "
        f"takes {plain_ms:.3f} ms (median) normally and {after_scrypt_ms:.3f} ms right after one scrypt "
        "ln=15 call, whose 32 MiB working set evicts the CPU caches; part of the scrypt row's overhead is this "
        "eviction, paid by the code that runs after the hash.",
        "",
        f"Cold import of `authorizer.handler` in a fresh interpreter ({len(import_times)} runs): median "
        f"{statistics.median(import_times):.0f} ms, max {max(import_times):.0f} ms. Non-standard-library "
        f"top-level packages loaded: {', '.join(packages)}.",
        "Target: nothing beyond the standard library, boto3 and botocore — "
        + ("met." if not extra else f"not strictly: boto3 and botocore load their own dependencies "
           f"{', '.join(extra)} (the authorizer imports none of them itself)."),
    ]
    text = "\n".join(lines) + "\n"
    print(text)
    if not args.no_record:
        with open(ROOT / "benchmarks" / "RESULTS.md", "a", encoding="utf-8") as handle:
            handle.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
