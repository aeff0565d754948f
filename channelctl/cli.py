"""Entry point of `channelctl`: one sub-command per module.

Each module in COMMANDS provides ``register(subparsers)``, which adds its
sub-command and sets ``func`` on it; ``func(args)`` returns the exit code.
"""

from __future__ import annotations

import argparse
import importlib
import sys

COMMANDS = (
    "devices",
    "up",
    "plan",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="channelctl",
        description="Operate the private MQTT channel: plan, deploy, manage device credentials.",
    )
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(f"channelctl.{name}").register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
