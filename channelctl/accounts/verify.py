"""`channelctl verify STACK`: after a release, check that the stack's account holds what the plan
expects and that it works.

The expectation is the plan (``channelctl.plan.build.build_plan``: every stack rendered offline in
release order); the account is reached as the stack's provider reaches it (Region, ``assumeRoleArn``
assumed as session ``channelctl-verify``, account pinned). Four checks, each PASS or FAIL with its
evidence and, on failure, the fix, printed as ``channelctl plan`` prints its checks:

- ``resources``: the planned resources exist in their working state (``verify_checks``);
- ``dns``: the names devices use answer with the endpoints' addresses (``verify_dns``);
- ``authorizer``: TestInvokeAuthorizer admits the operator's canary and refuses a wrong password
  (``verify_probes``; not run without ``--canary-user``);
- ``reachability``: Reachability Analyzer proves the device and consumer paths (``verify_probes``).

Verify reads, with two exceptions the operator asks for: TestInvokeAuthorizer runs the authorizer
(a wrong password counts on the canary's record), and Reachability Analyzer's paths and analyses
are created and deleted again (analysis objects, not infrastructure; ``--no-reachability`` skips
them). Every other call that is not a read is refused before it is sent (``verify_aws``).

Exit codes: 0 every check passed (or was not run), 1 a check failed, 2 bad input.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

from channelctl.width import DEFAULT_WIDTH, width_from_environment

EXIT_OK, EXIT_CHECK_FAILED, EXIT_BAD_INPUT = 0, 1, 2
# The shape of the JSON output: raised when a key changes meaning or goes away.
SCHEMA_VERSION = 1


class VerifyInputError(Exception):
    """Bad input: the message is one line naming what is wrong and the fix."""


def register(subparsers: argparse._SubParsersAction) -> None:
    from channelctl.accounts.verify_probes import DEFAULT_PASSWORD_ENV, DEFAULT_TIMEOUT_SECONDS

    parser = subparsers.add_parser(
        "verify",
        help="after a release: check that a stack's account holds what the plan expects, and that it works",
        description=(
            "Render the plan offline, then read the stack's account (its provider's Region, assumeRoleArn assumed "
            "as session channelctl-verify) and check: resources (the planned resources exist in their working "
            "state), dns (the names devices use answer with the endpoints' addresses), authorizer "
            "(TestInvokeAuthorizer with a canary device; not run without --canary-user) and reachability "
            "(Reachability Analyzer: device VPC -> iot.data endpoints from the network stack, consumer -> endpoint "
            "service from a consumer stack). Verify only reads, except that TestInvokeAuthorizer runs the "
            "authorizer (the wrong-password test counts once toward the canary's lockout) and that reachability "
            "creates Reachability Analyzer paths and analyses (analysis objects, not infrastructure, billed per "
            "analysis by AWS) and deletes them afterwards. Exit 0: all checks passed; 1: a check failed; 2: bad input."
        ),
    )
    parser.add_argument("stack", metavar="STACK", help="the stack to verify (its Pulumi.<stack>.yaml)")
    parser.add_argument("--cwd", type=Path, default=Path("."), help="the Pulumi project directory (default: .)")
    parser.add_argument("--format", choices=("text", "json"), default="text", help="output format (default: text)")
    parser.add_argument("--canary-user", metavar="NAME",
                        help="a device user name the authorizer knows, kept for this test (iot stack)")
    parser.add_argument("--canary-password-env", metavar="VAR", default=DEFAULT_PASSWORD_ENV,
                        help=f"environment variable holding the canary's password (default: {DEFAULT_PASSWORD_ENV}); "
                             "never printed")
    parser.add_argument("--canary-client-id", metavar="ID",
                        help="the canary's MQTT client ID (default: its user name, as the authorizer expects)")
    parser.add_argument("--no-reachability", action="store_true",
                        help="skip Reachability Analyzer (creates no paths or analyses)")
    parser.add_argument("--reachability-timeout", type=_positive, default=DEFAULT_TIMEOUT_SECONDS, metavar="SECONDS",
                        help=f"how long to wait for the analyses (default: {DEFAULT_TIMEOUT_SECONDS:g})")
    parser.set_defaults(func=run)


def _positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds")
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{text} must be more than 0 seconds")
    return value


def base_session():
    """The session verify starts from (the caller's own credentials); tests replace it."""
    import boto3

    return boto3.Session()


def run(args: argparse.Namespace) -> int:
    from channelctl.accounts.verify_aws import AccountError

    started = time.perf_counter()
    try:
        canary = _canary(args)
        plan = _plan(args.cwd, args.stack)
        report = verify(plan, args.stack, canary=canary, reachability=not args.no_reachability,
                        timeout=args.reachability_timeout)
    except (VerifyInputError, AccountError) as exc:
        print(f"channelctl verify: {_one_line(str(exc))}", file=sys.stderr)
        return EXIT_BAD_INPUT
    report["elapsedSeconds"] = round(time.perf_counter() - started, 3)
    if args.format == "json":
        json.dump(report, sys.stdout, indent=2, default=str)
        sys.stdout.write("\n")
    else:
        sys.stdout.write(to_text(report, width=width_from_environment()))
    return EXIT_OK if report["passed"] else EXIT_CHECK_FAILED


def _canary(args: argparse.Namespace):
    from channelctl.accounts.verify_probes import Canary

    if not args.canary_user:
        return None
    password = os.environ.get(args.canary_password_env, "")
    if not password:
        raise VerifyInputError(f"--canary-user {args.canary_user}: the environment variable "
                               f"{args.canary_password_env} holds no password — export the canary's password in it "
                               "(never on the command line)")
    return Canary(user=args.canary_user, client_id=args.canary_client_id or args.canary_user,
                  password_env=args.canary_password_env, password=password)


def _plan(directory: Path, stack: str):
    from channelctl.plan.build import PlanInputError, build_plan
    from channelctl.project import ProjectError

    try:
        plan = build_plan(directory)
    except (ProjectError, PlanInputError) as exc:
        raise VerifyInputError(str(exc))
    if stack not in plan.stacks:
        raise VerifyInputError(f"no stack {stack!r} in {Path(plan.directory).resolve()} "
                               f"(stacks: {', '.join(plan.stacks)}) — pass one of them")
    return plan


def verify(plan, stack_name: str, *, canary=None, reachability: bool = True, timeout: float = 300.0,
           session=None) -> dict[str, Any]:
    """Run the four checks of one stack against its account: the report as a JSON-ready dict."""
    from channelctl.accounts.verify_checks import check_resources
    from channelctl.accounts.verify_dns import check_dns
    from channelctl.accounts.verify_probes import check_authorizer, check_reachability

    target = open_target(plan, stack_name, session if session is not None else base_session())
    stack, account = target.stack, target.account
    checks = [
        check_resources(target),
        check_dns(target),
        check_authorizer(target, canary),
        check_reachability(target, enabled=reachability, timeout=timeout),
    ]
    if canary is not None:
        checks = [_scrubbed(c, canary) for c in checks]
    plan_failed = [c.name for c in plan.checks if c.status == "FAIL"]
    return {
        "schemaVersion": SCHEMA_VERSION,
        "project": plan.project,
        "stack": stack.name,
        "role": stack.role,
        "accountId": account.account_id,
        "region": account.region,
        "session": {"roleArn": account.settings.role_arn, "callerArn": account.caller_arn},
        "planPassed": not plan_failed,
        "planFailedChecks": plan_failed,
        "passed": all(c.passed for c in checks),
        "verdict": verdict(checks),
        "checks": [c.to_json() for c in checks],
    }


def open_target(plan, stack_name: str, base):
    """The stack, its account reached from ``base``, and the plan's channel; peers' accounts open on demand."""
    from channelctl.accounts.verify_aws import Target, open_account
    from channelctl.plan.checks import Channel

    stack = plan.stacks[stack_name]
    peers = {stack.name: open_account(stack, base)}

    def open_peer(peer):
        if peer.name not in peers:
            peers[peer.name] = open_account(peer, base)
        return peers[peer.name]

    return Target(channel=Channel(plan.stacks), stack=stack, account=peers[stack.name], open_peer=open_peer)


def _scrubbed(check, canary):
    """The check with the canary's password masked wherever a message might carry it."""
    import dataclasses

    return dataclasses.replace(
        check,
        detail=canary.scrub(check.detail),
        problems=tuple(canary.scrub(p) for p in check.problems),
        verified=tuple(canary.scrub(v) for v in check.verified),
    )


def verdict(checks) -> str:
    """The one-line verdict, in the plan's words; checks not run are named."""
    failed = [c.name for c in checks if not c.passed]
    not_run = [c.name for c in checks if c.status == "NOT RUN"]
    if failed:
        return f"FAIL: {len(failed)} of {len(checks)} checks failed ({', '.join(failed)})"
    if not_run:
        return (f"PASS: {len(checks) - len(not_run)} of {len(checks)} checks passed, {len(not_run)} not run "
                f"({', '.join(not_run)})")
    return f"PASS: all {len(checks)} checks passed"


def _lines(text: str, width: int, indent: str) -> list[str]:
    lead = text[: len(text) - len(text.lstrip(" "))]
    return textwrap.wrap(text.strip(), width=width, initial_indent=lead, subsequent_indent=indent,
                         break_long_words=True, break_on_hyphens=False) or [text]


def to_text(report: dict[str, Any], *, width: int = DEFAULT_WIDTH) -> str:
    """The report for a reader: the checks as ``channelctl plan`` prints them, the verdict last."""
    out: list[str] = []
    session = report["session"]
    via = f"assumed {session['roleArn']} as channelctl-verify" if session.get("roleArn") else "the caller's credentials"
    out += _lines(f"Verify of stack {report['stack']} (role {report['role']}): account {report['accountId']}, "
                  f"{report['region']}, {via}", width, "    ")
    if not report["planPassed"]:
        out += _lines(f"  note: the plan itself fails checks ({', '.join(report['planFailedChecks'])}): verify compares "
                      "the account with a plan that `channelctl plan` refuses", width, "        ")
    out.append("")
    checks = report["checks"]
    failed = sum(1 for c in checks if c["status"] == "FAIL")
    not_run = sum(1 for c in checks if c["status"] == "NOT RUN")
    out += _lines(f"Checks: {len(checks) - failed - not_run} passed, " + (f"{not_run} not run, " if not_run else "")
                  + f"{failed} failed", width, "  ")
    for check in checks:
        detail = check.get("notRun") or check["detail"]
        out += _lines(f"  {check['status']} {check['name']}: {detail}", width, " " * 7)
        if not check["passed"]:
            for problem in check["problems"]:
                out += _lines(f"       - {problem}", width, " " * 9)
        if check["resources"]:
            shown = list(check["resources"][:12])
            if len(check["resources"]) > 12:
                shown.append(f"(+{len(check['resources']) - 12} more)")
            out += _lines(f"       resources: {', '.join(shown)}", width, " " * 9)
    out.append("")
    out.append(report["verdict"])
    return "\n".join(out) + "\n"


def _one_line(text: str) -> str:
    return " ".join(text.split())
