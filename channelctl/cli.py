"""Entry point of `channelctl`: one sub-command per module.

Each module in COMMANDS provides ``register(subparsers)``, which adds its
sub-command and sets ``func`` on it; ``func(args)`` returns the exit code. The
commands are grouped by what they serve: ``devices/`` the device credentials,
``release/`` the release, ``accounts/`` what the accounts already are (discover),
``plan/`` the plan and its checks.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

# Exit code of a command whose reader went away (`channelctl plan | head -1`), as a shell
# reports a process killed by SIGPIPE: 128 + 13.
EXIT_BROKEN_PIPE = 141

COMMANDS = (
    "channelctl.devices.command",
    "channelctl.release.up",
    "channelctl.accounts.discover",
    "channelctl.accounts.verify",
    "channelctl.plan.command",
    "channelctl.prices.command",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="channelctl",
        description="Operate the private MQTT channel: plan, deploy, manage device credentials.",
    )
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(name).register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code = int(args.func(args) or 0)
        sys.stdout.flush()
    except BrokenPipeError:
        # The reader closed the pipe: nothing more can be said on stdout, and Python's own flush
        # at exit would fail again with a traceback, so stdout becomes /dev/null (the recipe of
        # the Python documentation, "Note on SIGPIPE").
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
        code = EXIT_BROKEN_PIPE
    finally:
        _close_render_runtime()
    return code


def _close_render_runtime() -> None:
    """Close the event loops a rendered plan left open, before the interpreter tears them down."""
    render = sys.modules.get("channelctl.plan.render")
    if render is not None:
        render.close_runtime_loops()


if __name__ == "__main__":
    sys.exit(main())
