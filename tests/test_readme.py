"""The README is the front door: its commands, and the docs pages' config reference, diagram and
capacity table, match the code."""

import re
from pathlib import Path

from components.config import ROLES, known_keys
from tests.docs import read_doc

ROOT = Path(__file__).resolve().parents[1]
README = read_doc("README.md")
CONFIGURATION = read_doc("docs/configuration.md")
RELEASE_AND_REVIEW = read_doc("docs/release-and-review.md")
DEVICE_ACCESS_AND_CAPACITY = read_doc("docs/device-access-and-capacity.md")


def quickstart_commands():
    section = README.split("## Quickstart", 1)[1]
    block = re.search(r"```[a-z]*\n(.*?)```", section, re.S).group(1)
    return [line for line in block.splitlines() if line.strip()]


def test_quickstart_holds_exactly_two_commands_plan_then_tests():
    commands = quickstart_commands()
    assert len(commands) == 2
    assert commands[0].endswith("channelctl plan")
    assert "pytest" in commands[1]


def test_ci_runs_both_readme_commands_verbatim_first_in_a_fresh_virtualenv():
    ci = [line.strip() for line in (ROOT / ".ci" / "run").read_text().splitlines()]
    first, second = quickstart_commands()
    assert first in ci and second in ci
    # The first command runs before anything installs the test extras, in a virtualenv made anew.
    assert ci.index("rm -rf .venv") < ci.index(first) < ci.index(second)


def documented_keys():
    reference = CONFIGURATION.split("# Configuration reference", 1)[1]
    return set(re.findall(r"^\| `([A-Za-z.\[\]]+)`", reference, re.M))


def test_every_config_key_is_in_the_reference():
    documented = {k.split(".")[0].split("[")[0] for k in documented_keys()}
    for role in ROLES:
        missing = known_keys(role) - documented
        assert not missing, f"{role} keys missing from the configuration reference (docs/configuration.md): {missing}"


def test_the_reference_names_no_key_the_program_does_not_know():
    every = set().union(*(known_keys(role) for role in ROLES))
    unknown = {k for k in documented_keys() if k.split(".")[0].split("[")[0] not in every}
    assert not unknown


def test_the_embedded_diagram_is_the_one_the_plan_generates():
    from channelctl.plan.diagram import render_mermaid
    from channelctl.plan.build import build_plan

    embedded = re.search(r"```mermaid\n(.*?)```", RELEASE_AND_REVIEW, re.S).group(1)
    plan = build_plan(ROOT)
    assert render_mermaid(plan.stacks).strip() == embedded.strip()


def test_the_capacity_table_is_the_one_the_program_derives():
    from components.proxy_capacity import instance_table

    assert instance_table() in DEVICE_ACCESS_AND_CAPACITY
