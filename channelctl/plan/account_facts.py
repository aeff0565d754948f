"""The facts the plan reads: ``<facts dir>/<stack>.json`` for each stack of the plan, written by
``channelctl discover`` (``channelctl.accounts.facts``), and what the plan says when they refuse it.

A stack without a facts file is planned on the documented defaults (``channelctl.plan.world``), and
the plan says so. A facts file that is not one, or that was read from another account or Region than
its stack deploys into, is bad input: its figures would describe another world.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from pathlib import Path

from channelctl.accounts.facts import DEFAULT_DIRECTORY, Facts, FactsError, load_facts
from channelctl.plan.world import AwsRefusal
from channelctl.project import Project


class FactsInputError(Exception):
    """A facts file the plan cannot use; the one-line message names the file and the fix."""


def facts_directory(project: Project, facts_dir: Path | None) -> Path:
    return Path(facts_dir) if facts_dir is not None else project.directory / DEFAULT_DIRECTORY


def display_path(path: Path, project: Project) -> Path:
    """The path as a reader finds it: relative to the project directory when inside it."""
    try:
        return path.resolve().relative_to(Path(project.directory).resolve())
    except ValueError:
        return path


def load_plan_facts(project: Project, facts_dir: Path | None = None) -> dict[str, Facts]:
    """The facts of each stack of ``project`` that has a facts file, by stack name.

    ``facts_dir`` (default: ``facts/`` in the project directory) must exist when it is given.
    """
    directory = facts_directory(project, facts_dir)
    if facts_dir is not None and not directory.is_dir():
        raise FactsInputError(
            f"--facts {facts_dir}: no such directory — point it at the directory channelctl discover wrote "
            f"(default: {DEFAULT_DIRECTORY}/ in the project), or plan without facts: --no-facts")
    found: dict[str, Facts] = {}
    for name, stack_file in project.stacks.items():
        path = directory / f"{name}.json"
        if not path.is_file():
            continue
        shown = display_path(path, project)
        try:
            facts = load_facts(path)
        except FactsError as exc:
            raise FactsInputError(str(exc).replace(str(path), str(shown), 1)) from None
        config = stack_file.config
        account, region = str(config.get("accountId", "")), str(config.get("region", ""))
        if (facts.account, facts.region) != (account, region):
            raise FactsInputError(
                f"{shown}: read from account {facts.account} in {facts.region}, but {stack_file.path.name} deploys "
                f"into account {account or '(no accountId)'} in {region or '(no region)'} — run 'channelctl discover "
                f"{name}' again, or delete {shown} to plan with assumed defaults")
        found[name] = dataclasses.replace(facts, path=shown)
    return found


def refusal_message(stack_file_name: str, project_name: str, key: str | None, refusal: AwsRefusal,
                    facts: Facts | None, account: str) -> str:
    """The one line for a call AWS would refuse for what the account is (a zone it does not have)."""
    where = f"{facts.path} ({facts.age_text()} old)" if facts is not None else "the account"
    key_text = f"key '{project_name}:{key}': " if key else ""
    return (f"{stack_file_name}: {key_text}{refusal.value} is not an availability zone of account {account} — AWS "
            f"would refuse the subnet ({refusal.api}: {refusal.code}); the account's zones ({where}): "
            f"{', '.join(refusal.valid) or 'none'} — use zones of that list")


def facts_note(facts: Mapping[str, Facts], stack: str) -> str:
    """What a refusal of the program adds when the stack's look-ups were answered from facts."""
    found = facts.get(stack)
    if found is None:
        return ""
    return f" (the account's look-ups answered from {found.path}, {found.age_text()} old)"
