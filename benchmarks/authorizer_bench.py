"""Authorizer benchmark: decisions per second, p50/p99 latency and the decision's own overhead.

Warm and in-process: the handler runs as Lambda would call it (1,769 MB, the example's size), with
DynamoDB answered by an in-memory stand-in for the boto3 client (no network, so the numbers are the
handler's own cost). The handler does what it does today for an allowed device: it reads the
record and the table's registry of hash schemes, verifies the password with equal work (one
verification per registered scheme, the project's scrypt always among them), and after a legacy
hash re-hashes it with the project's scrypt (UpdateItem). Each scenario is one steady state of a
fleet; for "first login" the stand-in never keeps the upgrade, so every call is a first login.
Every hash the call computes (``hashlib`` in ``authorizer.hashes``) is timed inside it, so
"overhead" = handler time - hash time of the same call. Then the handler module's cold import time
in fresh interpreters, and which non-standard-library packages that import pulls in.

Run: .venv/bin/python -m benchmarks.authorizer_bench [--iterations N] [--no-record]
Appends a section to benchmarks/RESULTS.md unless --no-record.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import hashlib
import io
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

from authorizer import handler as handler_module, hashes as hashes_module, store  # noqa: E402
from authorizer.hashes import hash_password  # noqa: E402

PASSWORD = b"benchmark-password"
ENV = {
    "CREDENTIALS_TABLE": "device-credentials",
    "DATA_ENDPOINT_IDS": "vpce-0123456789abcdef0,vpce-0fedcba9876543210",
    "AWS_REGION": "eu-central-1",
    "IOT_ACCOUNT_ID": "123456789012",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "1769",
}


def mosquitto_sha512(password: bytes) -> str:
    salt = os.urandom(12)
    digest = hashlib.sha512(password + salt).digest()
    return f"$6${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"


def mosquitto_pbkdf2(password: bytes, iterations: int, salt_bytes: int) -> str:
    salt = os.urandom(salt_bytes)
    digest = hashlib.pbkdf2_hmac("sha512", password, salt, iterations, 64)
    return f"$7${iterations}${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"


SCRYPT = "scrypt:ln=15,r=8,p=1"
PBKDF2_101 = "mosquitto-pbkdf2:101"
# (name, the device's stored hash, the registry's schemes, what the device's login does)
SCENARIOS = [
    ("project scrypt; registry: scrypt", lambda: hash_password(PASSWORD), (SCRYPT,)),
    ("project scrypt; registry: scrypt + $7$ 101 (a fleet still migrating)", lambda: hash_password(PASSWORD),
     (SCRYPT, PBKDF2_101)),
    ("first login of a $7$ 101 hash (mosquitto 2.0 default): verify, dummies, re-hash",
     lambda: mosquitto_pbkdf2(PASSWORD, 101, 12), (SCRYPT, PBKDF2_101)),
    ("first login of a $6$ hash (mosquitto -H sha512): verify, dummies, re-hash",
     lambda: mosquitto_sha512(PASSWORD), (SCRYPT, "mosquitto-sha512")),
]


class StubDynamoDB:
    """Answers GetItem like the boto3 DynamoDB client, from memory: the device's record and the
    table's registry of hash schemes. UpdateItem (the upgrade's re-hash) is counted, never kept."""

    def __init__(self, item: dict, schemes: tuple[str, ...]):
        self._items = {
            item["username"]: {"Item": {k: {"BOOL": v} if isinstance(v, bool) else {"S": v} for k, v in item.items()}},
            store.HASH_SCHEMES_KEY: {"Item": {"username": {"S": store.HASH_SCHEMES_KEY}, "schemes": {"SS": list(schemes)}}},
        }
        self.updates = 0

    def get_item(self, **kwargs):
        return self._items.get(kwargs["Key"]["username"]["S"], {})

    def update_item(self, **kwargs):
        self.updates += 1
        return {}


class TimedHashlib:
    """``hashlib`` as authorizer.hashes uses it, adding each hash's time to ``spent``."""

    def __init__(self):
        self.spent = 0.0

    def __getattr__(self, name):
        real = getattr(hashlib, name)
        if name not in ("sha512", "pbkdf2_hmac", "scrypt"):
            return real

        def timed(*args, **kwargs):
            start = time.perf_counter()
            try:
                return real(*args, **kwargs)
            finally:
                self.spent += time.perf_counter() - start
        return timed


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


def run_scenario(name: str, make_hash, schemes: tuple[str, ...], iterations: int) -> dict:
    os.environ.update(ENV, UNKNOWN_USER_HASH=SCRYPT)
    handler_module._settings.cache_clear()
    handler_module._work_cache.clear()
    item = {"username": "meter-0001", "password_hash": make_hash(), "family": "meters", "enabled": True}
    stub = StubDynamoDB(item, schemes)
    store._client = stub
    timed = TimedHashlib()
    original = hashes_module.hashlib
    hashes_module.hashlib = timed
    try:
        request = event("meter-0001")
        with contextlib.redirect_stdout(io.StringIO()):  # the metric lines Lambda would send to its log
            for _ in range(max(3, iterations // 20)):  # warm-up
                assert handler_module.handler(request, None)["isAuthenticated"] is True
            stub.updates = 0
            totals, hash_times = [], []
            wall_start = time.perf_counter()
            for _ in range(iterations):
                timed.spent = 0.0
                start = time.perf_counter()
                response = handler_module.handler(request, None)
                totals.append(time.perf_counter() - start)
                hash_times.append(timed.spent)
            wall = time.perf_counter() - wall_start
        assert response["isAuthenticated"] is True
    finally:
        hashes_module.hashlib = original
        store.reset_client()
    overhead = [t - h for t, h in zip(totals, hash_times)]
    return {
        "name": name,
        "iterations": iterations,
        "upgrades": stub.updates,
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
    parser.add_argument("--iterations", type=int, default=100, help="handler calls per scenario")
    parser.add_argument("--no-record", action="store_true", help="print only; do not append to RESULTS.md")
    args = parser.parse_args()

    load_start = os.getloadavg()[0]
    results = [run_scenario(name, make_hash, schemes, args.iterations) for name, make_hash, schemes in SCENARIOS]
    import_times, packages = cold_imports(7)
    plain_ms, after_scrypt_ms = cache_effect()

    command = ".venv/bin/python -m benchmarks.authorizer_bench" + (
        f" --iterations {args.iterations}" if args.iterations != 100 else "")
    worst_overhead = max(r["overhead_p99"] for r in results)
    allowed_packages = {"authorizer", "boto3", "botocore"}
    extra = [p for p in packages if p not in allowed_packages]
    lines = [
        "",
        f"## authorizer: decision latency per login ({datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC)",
        "",
        f"Command: `{command}`",
        "",
        f"Machine: {os.cpu_count()} CPUs, {platform.platform()}, Python {platform.python_version()}; load average "
        f"at start {load_start:.2f}, at the end {os.getloadavg()[0]:.2f}. Warm, in-process handler calls at "
        "1,769 MB for an allowed device (parse event -> GetItem record -> registry -> equal-work verification -> "
        "response -> upgrade of a legacy hash); DynamoDB answered by an in-memory stand-in for the boto3 client. "
        "Hash = every hash computed in the call (verification, one dummy per other registered scheme, the "
        "upgrade's re-hash); overhead = handler time minus that hash time.",
        "",
        "| login | calls | upgrades written | decisions/s | p50 ms | p99 ms | hash p50 ms | overhead p50 ms | "
        "overhead p99 ms |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        lines.append(
            f"| {r['name']} | {r['iterations']} | {r['upgrades']} | {r['per_second']:.1f} | {r['p50']:.3f} | {r['p99']:.3f} | "
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
