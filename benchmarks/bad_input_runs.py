"""Every bad-input case of `channelctl plan`, run many times as fresh processes: is stderr always one line?

A bad input must print exactly one line on stderr and exit 2, every time. Noise at interpreter exit
(an event loop's ``__del__`` printing "Exception ignored", a traceback) shows only in some runs, so
each case runs ``--runs`` times (default 50) as ``python -m channelctl plan`` in a broken copy of the
project, without any warning filter, as an operator would run it. The cases are the ones
tests/channelctl/test_plan.py checks (one run each there, with ResourceWarnings shown, which makes a
leaked event loop visible in every run).

Usage:
    .venv/bin/python benchmarks/bad_input_runs.py [--runs 50] [--jobs 2] [--cases NAME ...] [--append benchmarks/RESULTS.md]

Exit code 1 if any run printed more than its one line or exited other than 2.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.plan_bench import copy_project  # noqa: E402
from tests.channelctl.plan.test_plan import BAD_INPUT  # noqa: E402


def run_once(project: Path, extra: list[str]) -> tuple[int, str]:
    done = subprocess.run(
        [sys.executable, "-m", "channelctl", "plan", "--cwd", str(project), *extra],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
    )
    return done.returncode, done.stderr


def clean(code: int, stderr: str) -> bool:
    return code == 2 and stderr.startswith("channelctl plan: ") and stderr.count("\n") == 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--cases", nargs="+", default=list(BAD_INPUT), choices=list(BAD_INPUT))
    parser.add_argument("--append", type=Path)
    args = parser.parse_args()

    rows = []
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        for case in args.cases:
            breaks, _ = BAD_INPUT[case]
            project = Path(tmp) / case
            project.mkdir()
            copy_project(project)
            extra = breaks(project)
            case_started = time.perf_counter()
            with ThreadPoolExecutor(max_workers=args.jobs) as pool:
                results = list(pool.map(lambda _: run_once(project, extra), range(args.runs)))
            noisy = [stderr for code, stderr in results if not clean(code, stderr)]
            rows.append((case, len(results), len(noisy), time.perf_counter() - case_started,
                         noisy[0].splitlines()[1] if noisy and len(noisy[0].splitlines()) > 1 else ""))
            print(f"{case}: {len(results) - len(noisy)}/{len(results)} clean", flush=True)

    total = sum(r[1] for r in rows)
    noisy_total = sum(r[2] for r in rows)
    lines = [
        f"## channelctl plan: bad input stays one line ({datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC)",
        "",
        f"Command: `.venv/bin/python benchmarks/bad_input_runs.py --runs {args.runs} --jobs {args.jobs}`",
        "",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
        f"load average at start {os.getloadavg()[0]:.2f}. Each run is a fresh `python -m channelctl plan` "
        "process in a broken copy of the project, no warning filter; a run is clean when it exits 2 with "
        "exactly one line on stderr.",
        "",
        "| case | runs | clean | not clean | wall s (case) | first extra line seen |",
        "|---|---|---|---|---|---|",
        *(f"| {case} | {runs} | {runs - noisy} | {noisy} | {wall:.0f} | {sample or '-'} |"
          for case, runs, noisy, wall, sample in rows),
        "",
        f"Total: {total - noisy_total} of {total} runs clean in {time.perf_counter() - started:.0f} s.",
        "",
    ]
    report = "\n".join(lines)
    print(report)
    if args.append:
        with args.append.open("a", encoding="utf-8") as out:
            out.write("\n" + report)
    return 1 if noisy_total else 0


if __name__ == "__main__":
    sys.exit(main())
