"""Wall time of `channelctl plan` for the example stacks and for 1, 10 and 50 generated consumer stacks.

Each case runs ``python -m channelctl plan --format json`` as a fresh process
(interpreter start and imports included, as an operator sees it) in a copy of
the project. The generated cases replace the example consumer with N consumer
stacks ``Pulumi.consumer-<n>.yaml`` (distinct account IDs and VPC ranges) and
list them in the iot stack's ``consumers``.

Usage:
    .venv/bin/python benchmarks/plan_bench.py [--repeat 3] [--consumers 1 10 50] [--append benchmarks/RESULTS.md]

With ``--compare``, each case also runs ``plan --compare OLD.json --format json``
against the plan JSON its own run wrote (every resource and input compared) and
reports what the comparison adds to the plan's time.

Targets: under 5 s for the examples; time growing no faster than linearly
with the number of consumers (the time per added consumer must not grow);
``--compare`` adding under 20% to the plan's own time.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from channelctl.plan.render import zone_id_of, zone_name_of  # noqa: E402
PREFIX = "private-mqtt-channel:"
TARGET_EXAMPLES_S = 5.0
TARGET_COMPARE_OVERHEAD = 0.20


def copy_project(target: Path) -> Path:
    for path in ROOT.glob("Pulumi*.yaml"):
        shutil.copy(path, target / path.name)
    shutil.copy(ROOT / "__main__.py", target / "__main__.py")
    for folder in ("components", "certs", "authorizer", "provisioning_hook"):
        if (ROOT / folder).exists():
            (target / folder).symlink_to(ROOT / folder)
    return target


def generate_consumers(project: Path, count: int) -> None:
    """Replace the example consumer with ``count`` consumer stacks wired into the iot stack."""
    template = yaml.safe_load((project / "Pulumi.consumer.yaml").read_text())
    (project / "Pulumi.consumer.yaml").unlink()
    iot_path = project / "Pulumi.iot.yaml"
    iot = yaml.safe_load(iot_path.read_text())
    org_project = iot["config"][f"{PREFIX}consumers"][0]["stack"].rsplit("/", 1)[0]
    template_account = str(template["config"][f"{PREFIX}accountId"])
    region = template["config"][f"{PREFIX}region"]
    template_zones = template["config"][f"{PREFIX}availabilityZones"]
    entries = []
    for n in range(1, count + 1):
        name = f"consumer-{n}"
        account = f"{400000000000 + n}"
        cidr = f"10.{100 + n}.0.0/16"
        config = dict(template["config"])
        config[f"{PREFIX}accountId"] = account
        config[f"{PREFIX}assumeRoleArn"] = f"arn:aws:iam::{account}:role/mqtt-channel-deployer"
        config[f"{PREFIX}vpcCidr"] = cidr
        # The same physical zones as the example consumer, under the names this
        # account gives them (the offline renderer maps AZ names per account).
        config[f"{PREFIX}availabilityZones"] = [
            zone_name_of(account, region, zone_id_of(template_account, region, zone)) for zone in template_zones
        ]
        (project / f"Pulumi.{name}.yaml").write_text(yaml.safe_dump({"config": config}, sort_keys=False))
        entries.append({"name": name, "accountId": account, "vpcCidr": cidr, "stack": f"{org_project}/{name}"})
    iot["config"][f"{PREFIX}consumers"] = entries
    iot_path.write_text(yaml.safe_dump(iot, sort_keys=False))


def run_plan(project: Path, *extra: str) -> tuple[float, int, dict]:
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "channelctl", "plan", "--cwd", str(project), "--format", "json", *extra],
        cwd=ROOT, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    elapsed = time.perf_counter() - started
    if done.returncode not in (0, 1):
        raise SystemExit(f"plan failed with exit {done.returncode}: {done.stderr.strip()}")
    return elapsed, done.returncode, json.loads(done.stdout)


def measure(label: str, consumers: int | None, repeat: int, with_compare: bool = False) -> dict:
    with tempfile.TemporaryDirectory(prefix="plan-bench-") as tmp:
        project = copy_project(Path(tmp))
        if consumers is not None:
            generate_consumers(project, consumers)
        times, code, data = [], 0, {}
        compare_times: list[float] = []
        compared: dict = {}
        for _ in range(repeat):
            elapsed, code, data = run_plan(project)
            times.append(elapsed)
            if with_compare:
                old = project / "old-plan.json"
                old.write_text(json.dumps(data))
                # Alternating with the plan runs, so both see the same machine load.
                elapsed, _, compared = run_plan(project, "--compare", str(old))
                compare_times.append(elapsed)
    resources = sum(len(s["resources"]) for s in data["stacks"])
    failed = [c["name"] for c in data["checks"] if not c["passed"]]
    return {
        "case": label,
        "consumers": consumers if consumers is not None else 1,
        "stacks": len(data["stacks"]),
        "steps": len(data["steps"]),
        "resources": resources,
        "median_s": statistics.median(times),
        "min_s": min(times),
        "in_process_s": data["elapsedSeconds"],
        "exit": code,
        "failed_checks": failed,
        "compare_median_s": statistics.median(compare_times) if compare_times else None,
        "compare_in_process_s": compared.get("compareSeconds"),
        "compare_plan_s": compared.get("planSeconds"),
        "compare_verdict": compared.get("verdict"),
    }


def report(rows: list[dict], command: str, repeat: int) -> str:
    lines = [
        f"## channelctl plan wall time ({datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC)",
        "",
        f"Command: `{command}`",
        "",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
        f"load average at start {os.getloadavg()[0]:.2f}. Each case is a fresh `python -m channelctl plan --format json` "
        f"process in a copy of the project, {repeat} runs; 'plan' is the time the command itself reports "
        "(render of every step + checks), the rest is interpreter start and imports.",
        "",
        "| case | consumer stacks | stacks | steps | resources | median wall s | min wall s | plan s (last run) | exit | failed checks |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['case']} | {r['consumers']} | {r['stacks']} | {r['steps']} | {r['resources']} | "
            f"{r['median_s']:.2f} | {r['min_s']:.2f} | {r['in_process_s']:.2f} | {r['exit']} | "
            f"{', '.join(r['failed_checks']) or '-'} |"
        )
    generated = [r for r in rows if r["case"] != "examples"]
    lines.append("")
    examples = next((r for r in rows if r["case"] == "examples"), None)
    if examples:
        verdict = "met" if examples["median_s"] < TARGET_EXAMPLES_S else "NOT met"
        lines.append(f"Examples: median {examples['median_s']:.2f} s against the {TARGET_EXAMPLES_S:.0f} s target: {verdict}.")
    if len(generated) >= 2:
        first, last = generated[0], generated[-1]
        per = (last["median_s"] - first["median_s"]) / (last["consumers"] - first["consumers"])
        steps = []
        for a, b in zip(generated, generated[1:]):
            steps.append(f"{(b['median_s'] - a['median_s']) / (b['consumers'] - a['consumers']):.3f} s "
                         f"({a['consumers']}->{b['consumers']})")
        lines.append(f"Time per added consumer: {', '.join(steps)}; overall {per:.3f} s per consumer. "
                     "Linear growth means these stay flat (or fall as fixed costs spread).")
    compared = [r for r in rows if r.get("compare_median_s") is not None]
    if compared:
        lines += [
            "",
            "`--compare` against the plan JSON of the same project (every resource and input compared), "
            "each run alternating with a plain plan run:",
            "",
            "| case | resources | plan median wall s | --compare median wall s | added (wall) | plan itself s | "
            "comparison itself s | added (in process) | verdict |",
            "|---|---|---|---|---|---|---|---|---|",
        ]
        worst_wall = worst = 0.0
        for r in compared:
            added_wall = r["compare_median_s"] / r["median_s"] - 1
            added = r["compare_in_process_s"] / r["compare_plan_s"]
            worst_wall, worst = max(worst_wall, added_wall), max(worst, added)
            lines.append(f"| {r['case']} | {r['resources']} | {r['median_s']:.2f} | {r['compare_median_s']:.2f} | "
                         f"{added_wall:+.1%} | {r['compare_plan_s']:.2f} | {r['compare_in_process_s']:.3f} | "
                         f"{added:+.1%} | {r['compare_verdict']} |")
        verdict = "met" if worst < TARGET_COMPARE_OVERHEAD else "NOT met"
        lines += ["", f"--compare itself (reading OLD, comparing) adds at most {worst:+.1%} to the plan's own time in the "
                      f"same process, against the {TARGET_COMPARE_OVERHEAD:.0%} target: {verdict}. The wall-time "
                      f"difference between separate processes (at most {worst_wall:+.1%}) also carries the machine's "
                      "load changes between runs."]
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--consumers", type=int, nargs="*", default=[1, 10, 50])
    parser.add_argument("--append", type=Path, help="append the results to this markdown file")
    parser.add_argument("--compare", action="store_true", help="also time plan --compare against each case's plan")
    args = parser.parse_args()
    command = "python benchmarks/plan_bench.py " + " ".join(sys.argv[1:])
    rows = [measure("examples", None, args.repeat, args.compare)]
    for count in args.consumers:
        rows.append(measure(f"{count} generated", count, args.repeat, args.compare))
    text = report(rows, command.strip(), args.repeat)
    print(text)
    if args.append:
        with args.append.open("a", encoding="utf-8") as out:
            out.write("\n" + text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
