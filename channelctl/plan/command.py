"""`channelctl plan`: the command line around ``build_plan`` and its outputs."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from channelctl.plan.build import (
    EXIT_BAD_INPUT,
    EXIT_CHECK_FAILED,
    EXIT_OK,
    Plan,
    PlanInputError,
    _one_line,
    build_plan,
)
from channelctl.plan.output import fit_lines, to_json, to_text
from channelctl.width import width_from_environment
from channelctl.project import ProjectError


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "plan",
        help="render every stack offline, show what each account gets, and prove the channel private",
        description=(
            "Render the project's stacks offline on Pulumi's mock runtime in release order, feeding each "
            "stack's exports to the next stack's references; print each account's resources and the "
            "cross-account wiring, and check the channel. Exit 0: all checks passed; 1: a check failed; "
            "2: bad input."
        ),
    )
    parser.add_argument("--cwd", type=Path, default=Path("."), help="the Pulumi project directory (default: .)")
    parser.add_argument("--stacks", nargs="+", metavar="STACK", help="stacks to plan (default: every Pulumi.<stack>.yaml)")
    parser.add_argument("--format", choices=("text", "json"), default="text", help="output format (default: text)")
    facts = parser.add_mutually_exclusive_group()
    facts.add_argument(
        "--facts", type=Path, metavar="DIR",
        help="answer each stack's look-ups (zones, where services are offered, quotas) and check its account's "
             "prerequisites from DIR/<stack>.json, written by `channelctl discover STACK` (default: facts/ under "
             "--cwd, when a stack's file is there)",
    )
    facts.add_argument("--no-facts", action="store_true",
                       help="plan as if no facts file existed: every account-dependent figure is assumed")
    parser.add_argument("--diagram", type=Path, metavar="PATH", help="also write a Mermaid flowchart of the channel")
    parser.add_argument(
        "--verbose", action="store_true",
        help="text output: also list each account's resources by type, each step's long 'adds' list and the "
             "exports no resource carries (by default counted); lines fit $COLUMNS, else 100 columns",
    )
    from channelctl.plan import deployer_policy

    deployer_policy.add_arguments(parser)
    parser.add_argument(
        "--compare", type=Path, metavar="OLD.json",
        help="print what changes against an earlier `plan --format json` (added, changed in place, replaced, "
             "deleted) and whether each change is safe, disruptive or refused by AWS; exit 1 unless all are safe",
    )
    parser.add_argument("--allow-disruptive", action="store_true",
                        help="with --compare: exit 0 for disruptive changes (never for refused ones)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from channelctl.plan import compare, compare_base

    old, load_s = None, 0.0
    try:
        if getattr(args, "compare", None) is not None:
            started = time.perf_counter()
            # A base of an earlier (or newer) shape is compared as far as it can tell.
            old = compare_base.load_base(args.compare)
            load_s = time.perf_counter() - started
        plan = build_plan(args.cwd, args.stacks, getattr(args, "facts", None),
                          read_facts=not getattr(args, "no_facts", False))
    except (ProjectError, PlanInputError, compare.CompareInputError) as exc:
        print(f"channelctl plan: {_one_line(str(exc))}", file=sys.stderr)
        return EXIT_BAD_INPUT
    from channelctl.plan.cost.estimate import estimate
    from channelctl.plan.cost.prices import PriceTableError

    try:
        estimate(plan.stacks)  # the cost estimate's prices: a missing one is bad input, before any output
    except PriceTableError as exc:
        print(f"channelctl plan: {_one_line(str(exc))}", file=sys.stderr)
        return EXIT_BAD_INPUT
    if args.deployer_policy is not None or args.read_only:
        from channelctl.plan.deployer_policy import print_policies

        return print_policies(plan, args.deployer_policy, read_only=args.read_only)
    if args.diagram is not None:
        from channelctl.plan.diagram import render_mermaid

        try:
            args.diagram.write_text(render_mermaid(plan.stacks), encoding="utf-8")
        except OSError as exc:
            print(f"channelctl plan: --diagram {args.diagram}: cannot write ({exc.strerror}) — pick a writable path",
                  file=sys.stderr)
            return EXIT_BAD_INPUT
    if old is not None:
        return _run_compare(args, plan, old, load_s)
    if args.format == "json":
        json.dump(to_json(plan, args.diagram), sys.stdout, indent=2, default=str)
        sys.stdout.write("\n")
    else:
        sys.stdout.write(to_text(plan, args.diagram, width=width_from_environment(), verbose=args.verbose))
    return EXIT_OK if plan.passed else EXIT_CHECK_FAILED


def _run_compare(args: argparse.Namespace, plan: Plan, old, load_s: float) -> int:
    from channelctl.plan import compare, compare_base, dns_change
    from channelctl.plan.fleet_refresh import fleet_basis

    started = time.perf_counter()
    try:
        new = compare.plan_resources(plan.stacks)
        comparison = compare.compare(compare_base.align(old, new), new, old_file=str(args.compare),
                                     basis=fleet_basis(plan.stacks))
    except compare.CompareInputError as exc:
        print(f"channelctl plan: {_one_line(str(exc))}", file=sys.stderr)
        return EXIT_BAD_INPUT
    # A renamed private zone (a new customDomain): the DNS gap of the VPCs associated from other accounts.
    dns_change.judge_domain_changes(comparison, old, new, roles={n: s.role for n, s in plan.stacks.items()})
    gaps = getattr(old, "gaps", None)
    comparison.checks_passed = plan.passed
    # What the change adds to the monthly cost, next to its safety verdict.
    from channelctl.plan.cost.diff import compare_cost

    cost_change = compare_cost(args.compare, plan.stacks)
    allow = bool(args.allow_disruptive)
    if args.format == "json":
        data = compare.to_json(comparison, allow_disruptive=allow)
        if gaps is not None and not gaps.complete:
            data["notCompared"] = gaps.notes
        data["cost"] = cost_change.to_json()
        data["planSeconds"] = round(plan.elapsed_s, 3)
        # Reading OLD and comparing: what --compare adds to the plan.
        data["compareSeconds"] = round(load_s + time.perf_counter() - started, 3)
        json.dump(data, sys.stdout, indent=2, default=str)
        sys.stdout.write("\n")
    else:
        text = compare.to_text(comparison, allow_disruptive=allow) + compare_base.notes_text(gaps) + cost_change.text()
        sys.stdout.write(fit_lines(text, width_from_environment(), compare.TEXT_MARKERS))
    return comparison.exit_code(allow_disruptive=allow)
