"""`channelctl prices refresh`: rewrite the cost estimate's price table from the AWS Price List API."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from pathlib import Path

from channelctl.plan.cost.prices import TABLE_PATH
from channelctl.prices import refresh
from channelctl.project import PROJECT_FILE, ProjectError, load_project

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT = 0, 1, 2


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("prices", help="the list prices the plan's cost estimate uses")
    sub = parser.add_subparsers(dest="prices_command", required=True, metavar="ACTION")
    run_parser = sub.add_parser(
        "refresh",
        help="rewrite the price table from the AWS Price List Query API (pricing:GetProducts, read-only)",
        description=(
            "Read the list prices the cost estimate uses from the AWS Price List Query API (us-east-1 endpoint, "
            "pricing:GetProducts, with the caller's credentials) for each Region, and rewrite the price table. "
            "A price the API does not return keeps its earlier entry and is listed. Exit 0: written; 1: the API "
            "could not be read; 2: bad input."
        ),
    )
    run_parser.add_argument("--region", action="append", metavar="REGION", dest="regions",
                            help="a Region to price (repeat it; default: the Regions already in the table and "
                                 "the Region of every stack under --cwd)")
    run_parser.add_argument("--cwd", type=Path, default=Path("."),
                            help="the Pulumi project directory whose stacks' Regions are priced (default: .)")
    run_parser.add_argument("--instance-type", action="append", metavar="TYPE", dest="instance_types",
                            help="an EC2 instance type to price besides the t4g sizes (repeat it)")
    run_parser.add_argument("--output", type=Path, default=TABLE_PATH,
                            help=f"the table to write (default: {TABLE_PATH.relative_to(TABLE_PATH.parents[3])})")
    run_parser.set_defaults(func=run)
    types_parser = sub.add_parser(
        "usage-types",
        help="list a service's usage types in the Price List and which table keys find theirs "
             "(pricing:GetAttributeValues, read-only)",
        description=(
            "List the usage types the AWS Price List holds for SERVICE (a ServiceCode such as AWSIoT, AmazonVPC) "
            "and, for each key of the price table priced from it, the usage types its name matches: a key that "
            "matches none is one `prices refresh` cannot read. Exit 0: listed; 1: the API could not be read."
        ),
    )
    types_parser.add_argument("service", metavar="SERVICE", help="the Price List ServiceCode, e.g. AWSIoT")
    types_parser.add_argument("--contains", metavar="TEXT", help="list only usage types containing TEXT")
    types_parser.set_defaults(func=run_usage_types)


def stack_regions(args: argparse.Namespace) -> set[str]:
    """The Regions of the stacks under ``--cwd``: a project's own Regions are priced without being named.
    Outside a project directory (or with stack files the plan would refuse) none: the table's Regions."""
    directory = getattr(args, "cwd", None)
    if directory is None or not (Path(directory) / PROJECT_FILE).is_file():
        return set()
    try:
        project = load_project(Path(directory))
    except ProjectError:
        return set()
    return {str(stack.config["region"]) for stack in project.stacks.values()
            if isinstance(stack.config.get("region"), str)}


def run(args: argparse.Namespace, client=None) -> int:
    try:
        old = json.loads(Path(args.output).read_text(encoding="utf-8")) if Path(args.output).exists() else {}
    except (OSError, ValueError) as exc:
        print(f"channelctl prices refresh: --output {args.output}: not a price table ({exc}) — give the table's path "
              "or a new file", file=sys.stderr)
        return EXIT_BAD_INPUT
    regions = args.regions or sorted(set((old.get("regions") or {}).keys()) | stack_regions(args)) or ["us-east-1"]
    if client is None:
        import boto3

        client = boto3.client("pricing", region_name=refresh.PRICING_REGION)
    types = list(refresh.INSTANCE_TYPES) + [t for t in (args.instance_types or []) if t not in refresh.INSTANCE_TYPES]
    try:
        table, missing, read = refresh.refresh_table(client, old, regions, dt.date.today(), instance_types=types)
    except Exception as exc:  # botocore's ClientError, NoCredentialsError, EndpointConnectionError, ...
        print(f"channelctl prices refresh: the Price List API could not be read ({type(exc).__name__}: {exc}) — "
              "the table is unchanged; check credentials with pricing:GetProducts", file=sys.stderr)
        return EXIT_FAILED
    Path(args.output).write_text(json.dumps(table, indent=1) + "\n", encoding="utf-8")
    for region in regions:
        kept = missing[region]
        print(f"{region}: {len(read[region])} prices read"
              + (f"; not returned by the API, kept from before: {', '.join(kept)}" if kept else ""))
        for key, why in table["ambiguous"].get(region, {}).items():
            print(f"  {key}: {why}")
    if any(missing.values()):
        print("a key not returned may have the wrong usage type: `channelctl prices usage-types SERVICE` lists "
              "the Price List's names for a service (the keys' services are in channelctl/prices/refresh.py)")
    print(f"wrote {args.output}")
    return EXIT_OK


def run_usage_types(args: argparse.Namespace, client=None) -> int:
    from channelctl.prices import usage_types

    if client is None:
        import boto3

        client = boto3.client("pricing", region_name=refresh.PRICING_REGION)
    try:
        values = usage_types.usage_types(client, args.service)
    except Exception as exc:  # botocore's ClientError, NoCredentialsError, EndpointConnectionError, ...
        print(f"channelctl prices usage-types: the Price List API could not be read ({type(exc).__name__}: {exc}) — "
              "check credentials with pricing:GetAttributeValues", file=sys.stderr)
        return EXIT_FAILED
    for line in usage_types.key_report(args.service, values):
        print(line)
    shown = usage_types.filtered(values, args.contains)
    print(f"{args.service}: {len(values)} usage types" + (f", {len(shown)} containing {args.contains!r}"
                                                          if args.contains else "") + (":" if shown else ""))
    for value in shown:
        print(f"  {value}")
    return EXIT_OK
