"""Hash cost benchmark: CPU seconds per unit of work for each scheme the authorizer verifies.

The authorizer's cost ceiling (``authorizer/cost.py``) turns a stored hash's
parameters into seconds of one core: PBKDF2-HMAC-SHA512 per iteration, scrypt
per N·r·p (2·N·r·p salsa20/8 block mixes), one SHA-512 for ``$6$``. This
measures those rates here, as the thread's CPU time (``time.thread_time``), so
other processes sharing the machine do not inflate them; the lowest of several
runs per size is kept, and several sizes show the cost is linear in the unit.

Run: .venv/bin/python -m benchmarks.hash_cost_bench [--repeat N] [--no-record]
Appends a section to benchmarks/RESULTS.md unless --no-record.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import platform
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from authorizer import cost  # noqa: E402

PASSWORD = b"benchmark-password"


def cpu_seconds(work, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.thread_time()
        work()
        best = min(best, time.thread_time() - start)
    return best


def pbkdf2_rows(repeat: int) -> list[tuple[str, int, float]]:
    rows = []
    for iterations in (10_000, 100_000, 400_000):
        seconds = cpu_seconds(
            lambda: hashlib.pbkdf2_hmac("sha512", PASSWORD, os.urandom(12), iterations, 64), repeat
        )
        rows.append((f"$7$ PBKDF2-HMAC-SHA512, {iterations:,} iterations", iterations, seconds))
    return rows


def scrypt_rows(repeat: int) -> list[tuple[str, int, float]]:
    rows = []
    for log2_n, r, p in ((14, 8, 1), (15, 8, 1), (16, 8, 1), (14, 8, 4)):
        units = (1 << log2_n) * r * p
        memory = 128 * r * (1 << log2_n)
        seconds = cpu_seconds(
            lambda: hashlib.scrypt(
                PASSWORD, salt=os.urandom(16), n=1 << log2_n, r=r, p=p, maxmem=memory + (16 << 20), dklen=32
            ),
            max(2, repeat // 2),
        )
        rows.append((f"$scrypt$ ln={log2_n},r={r},p={p}", units, seconds))
    return rows


def sha512_row(repeat: int) -> tuple[str, int, float]:
    count = 10_000
    salt = os.urandom(12)

    def work() -> None:
        for _ in range(count):
            hashlib.sha512(PASSWORD + salt).digest()

    return ("$6$ one SHA-512", count, cpu_seconds(work, repeat))


def largest_admitted_scrypt(memory_mb: int) -> tuple[int, int, int] | None:
    """The scrypt (ln, r, p) the cost model admits at memory_mb that it prices highest."""
    from authorizer import hashes

    best = None
    for log2_n in range(hashes.SCRYPT_LOG2_N_RANGE[0], hashes.SCRYPT_LOG2_N_RANGE[1] + 1):
        for r in range(hashes.SCRYPT_R_RANGE[0], hashes.SCRYPT_R_RANGE[1] + 1):
            for p in (1, 2, 4):
                params = hashes.ScryptParams(log2_n, r, p)
                modelled = cost.cost_seconds(hashes.Scrypt(params, b"", b""))
                if (params.memory_bytes() > min(hashes.SCRYPT_MAX_MEMORY, cost.scrypt_memory_ceiling_bytes(memory_mb))
                        or modelled > cost.ceiling_seconds(memory_mb)):
                    continue
                if best is None or modelled > best[0]:
                    best = (modelled, (log2_n, r, p))
    return None if best is None else best[1]


def ceiling_rows(repeat: int) -> list[tuple[str, float, float, float]]:
    """(work, modelled core-s, measured CPU s, ceiling) for the costliest hashes the model admits, and a
    first legacy login (every registered scheme verified, then the upgrade's scrypt re-hash)."""
    from authorizer import hashes

    rows = []
    for memory in (cost.DEFAULT_MEMORY_MB, cost.FULL_VCPU_MEMORY_MB):
        ceiling = cost.ceiling_seconds(memory)
        iterations = min(hashes.MAX_PBKDF2_ITERATIONS, int(ceiling / cost.PBKDF2_SECONDS_PER_ITERATION))
        stored = hashes.MosquittoPbkdf2(iterations, os.urandom(12), os.urandom(64))
        rows.append((f"{memory} MB: $7$ {iterations:,} iterations", cost.cost_seconds(stored),
                     cpu_seconds(lambda: stored.compute(PASSWORD), max(2, repeat // 2)), ceiling))
        found = largest_admitted_scrypt(memory)
        if found is not None:
            params = hashes.ScryptParams(*found)
            dummy = hashes.Scrypt(params, os.urandom(16), os.urandom(32))
            rows.append((f"{memory} MB: $scrypt$ ln={found[0]},r={found[1]},p={found[2]}", cost.cost_seconds(dummy),
                         cpu_seconds(lambda: dummy.compute(PASSWORD), max(2, repeat // 2)), ceiling))
        specs = ("mosquitto-pbkdf2:101", cost.project_scrypt_spec())
        work = [hashes.dummy_hash(spec) for spec in specs]

        def login() -> None:
            for dummy in work:
                dummy.compute(PASSWORD)
            hashes.hash_password(PASSWORD, hashes.DEFAULT_SCRYPT)

        rows.append((f"{memory} MB: first legacy login, registry {' + '.join(specs)} + re-hash",
                     cost.connect_cost_seconds(specs), cpu_seconds(login, max(2, repeat // 2)), ceiling))
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=7, help="runs per size; the lowest CPU time is kept")
    parser.add_argument("--no-record", action="store_true", help="print only; do not append to RESULTS.md")
    args = parser.parse_args()

    pbkdf2 = pbkdf2_rows(args.repeat)
    scrypt = scrypt_rows(args.repeat)
    sha512 = sha512_row(args.repeat)
    at_ceiling = ceiling_rows(args.repeat)
    lines = [
        "",
        f"## authorizer: hash cost per unit of work ({datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC)",
        "",
        "Command: `.venv/bin/python -m benchmarks.hash_cost_bench`",
        "",
        f"Machine: {os.cpu_count()} CPUs, {platform.platform()}, Python {platform.python_version()}, "
        f"{platform.machine()}; load average at start {os.getloadavg()[0]:.2f}. CPU time of the hashing "
        f"thread (`time.thread_time`), lowest of {args.repeat} runs per size (scrypt: {max(2, args.repeat // 2)}).",
        "",
        "| work | units | CPU s | µs per unit |",
        "|---|---|---|---|",
    ]
    for label, units, seconds in [*pbkdf2, *scrypt, sha512]:
        lines.append(f"| {label} | {units:,} | {seconds:.4f} | {seconds / units * 1e6:.4f} |")
    per_iteration = max(seconds / units for _, units, seconds in pbkdf2)
    per_block = max(seconds / units for _, units, seconds in scrypt)
    lines += [
        "",
        f"Highest rate per unit: PBKDF2 {per_iteration * 1e6:.3f} µs per iteration, scrypt "
        f"{per_block * 1e6:.3f} µs per N·r·p, SHA-512 {sha512[2] / sha512[1] * 1e6:.3f} µs.",
        f"Constants in `authorizer/cost.py`: PBKDF2 {cost.PBKDF2_SECONDS_PER_ITERATION * 1e6:.3f} µs, scrypt "
        f"{cost.SCRYPT_SECONDS_PER_BLOCK * 1e6:.3f} µs, SHA-512 {cost.SHA512_SECONDS * 1e6:.3f} µs "
        f"({'at or above' if cost.PBKDF2_SECONDS_PER_ITERATION >= per_iteration and cost.SCRYPT_SECONDS_PER_BLOCK >= per_block else 'BELOW'} "
        "the rates measured in this run).",
        "Ceilings they give (`authorizer.memorySize` → core-seconds here → largest scrypt N·r·p / PBKDF2 iterations): "
        + "; ".join(
            f"{memory} MB → {cost.ceiling_seconds(memory):.3f} s → "
            f"{int(cost.ceiling_seconds(memory) / cost.SCRYPT_SECONDS_PER_BLOCK):,} / "
            f"{int(cost.ceiling_seconds(memory) / cost.PBKDF2_SECONDS_PER_ITERATION):,}"
            for memory in (128, 256, 512, 1024, 1769, 3008)
        )
        + ".",
        "",
        "At the ceiling: the costliest work the model admits at each memory size, measured (CPU s of this core; "
        "the ceiling is in the same unit).",
        "",
        "| work | modelled s | measured s | ceiling s | measured / ceiling | the model |",
        "|---|---|---|---|---|---|",
    ]
    for label, modelled, measured, ceiling in at_ceiling:
        verdict = "admits it" if modelled <= ceiling else "refuses it"
        lines.append(f"| {label} | {modelled:.3f} | {measured:.3f} | {ceiling:.3f} | {measured / ceiling:.2f} | {verdict} |")
    lines += [
        "",
        f"Load average at the end: {os.getloadavg()[0]:.2f}.",
    ]
    print("\n".join(lines))
    if not args.no_record:
        with open(ROOT / "benchmarks" / "RESULTS.md", "a", encoding="utf-8") as handle:
            handle.write("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
