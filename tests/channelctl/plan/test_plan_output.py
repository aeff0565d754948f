"""`channelctl plan` reads well in a terminal: its text fits $COLUMNS (else 100), the long lists wait
for --verbose, and its JSON (and --compare's) follows the schema under docs/."""

from __future__ import annotations

import copy
import dataclasses
import json
import re
from collections import Counter

import pytest
from hypothesis import given
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from channelctl.cli import main
from channelctl.plan import command, compare
from channelctl.plan.build import EXIT_OK, counted
from channelctl.plan.checks import CheckResult, short_type
from channelctl.plan.describe import verdict
from channelctl.plan.output import (
    DEFAULT_WIDTH,
    VERBOSE_HINT,
    _items,
    _text,
    fit_lines,
    to_json,
    to_text,
)
from channelctl.width import width_from_environment
from tests.channelctl.plan.test_plan_support import ROOT, example_plan
from tests.docs import read_doc

HINT = VERBOSE_HINT.replace("\u00a0", " ")
PLAN_SCHEMA = json.loads((ROOT / "docs" / "plan.schema.json").read_text())
COMPARE_SCHEMA = json.loads((ROOT / "docs" / "plan-compare.schema.json").read_text())
PLAN_DOC = read_doc("docs/release-and-review.md")


@pytest.fixture(scope="module")
def plan():
    return example_plan()


@pytest.fixture
def cli(plan, monkeypatch, capsys):
    """`channelctl plan ARGS` on the module's plan (rendered once), with $COLUMNS as given: (exit code, stdout)."""
    monkeypatch.setattr(command, "build_plan", lambda directory, stacks=None, facts_dir=None, read_facts=True: plan)

    def run(*args: str, columns: str | None = None) -> tuple[int, str]:
        if columns is None:
            monkeypatch.delenv("COLUMNS", raising=False)
        else:
            monkeypatch.setenv("COLUMNS", columns)
        code = main(["plan", "--cwd", str(ROOT), *args])
        return code, capsys.readouterr().out

    return run


def assert_fits(text: str, width: int) -> None:
    wide = [line for line in text.splitlines() if len(line) > width]
    assert not wide, f"{len(wide)} lines wider than {width} columns, the first: {wide[0]!r}"


def no_space(text: str) -> str:
    return re.sub(r"\s+", "", text)


# --------------------------------------------------------------------------- #
# The width
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize(
    "environ, width",
    [({}, 100), ({"COLUMNS": ""}, 100), ({"COLUMNS": "80"}, 80), ({"COLUMNS": " 132 "}, 132), ({"COLUMNS": "1"}, 1),
     ({"COLUMNS": "0"}, 100), ({"COLUMNS": "-80"}, 100), ({"COLUMNS": "wide"}, 100), ({"COLUMNS": "80.5"}, 100)],
)
def test_the_width_is_COLUMNS_when_a_positive_integer_else_100(environ, width):
    assert DEFAULT_WIDTH == 100
    assert width_from_environment(environ) == width


@pytest.mark.parametrize("columns, width", [(None, 100), ("100", 100), ("80", 80)],
                         ids=["COLUMNS-unset", "COLUMNS=100", "COLUMNS=80"])
def test_the_command_fits_the_width(cli, plan, columns, width):
    code, out = cli(columns=columns)
    assert code == EXIT_OK
    assert_fits(out, width)
    assert out.splitlines()[-1] == f"PASS: all {len(plan.checks)} checks passed"
    assert max(len(line) for line in out.splitlines()) > width - 10  # the width is used, not just respected
    # The counterparts: the same check fails on a line one column too wide, and on this very
    # output at ten columns less.
    with pytest.raises(AssertionError, match=f"1 lines wider than {width} columns"):
        assert_fits(out + "x" * (width + 1) + "\n", width)
    with pytest.raises(AssertionError, match="lines wider than"):
        assert_fits(out, width - 10)


def test_the_text_of_a_fixed_160_columns_would_not_fit_100(plan):
    """What `plan` printed before it read $COLUMNS: the width check is not trivially met."""
    with pytest.raises(AssertionError, match="lines wider than 100 columns"):
        assert_fits(to_text(plan, width=160, verbose=True), 100)


@pytest.mark.parametrize("width", [1, 2, 7, 20, 40, 60, 80, 100, 120, 160])
@pytest.mark.parametrize("verbose", [False, True], ids=["default", "verbose"])
def test_every_line_fits_any_width_and_nothing_is_lost(plan, width, verbose):
    text = to_text(plan, width=width, verbose=verbose)
    assert_fits(text, width)
    if verbose:  # (without it, a step's "adds" list gives way to a count once it takes 3 lines)
        # Breaking lines loses no character: the same text as at a width that breaks nothing.
        assert no_space(text) == no_space(to_text(plan, width=10_000, verbose=True))
    if width >= len(verdict(plan)):
        assert text.splitlines()[-1] == verdict(plan)


def test_long_identifiers_break_at_a_dot_slash_or_space_and_continue_deeper():
    head = "    transitGatewayAttachmentId = tgw-attach-8cb4560f79ed8b577 ->"
    item = "ec2transitgateway.VpcAttachmentAccepter channel-gatekeeper-accepter.transitGatewayAttachmentId"
    assert _items(head, [item], 100, " " * 8) == [
        head,
        "        ec2transitgateway.VpcAttachmentAccepter channel-gatekeeper-accepter",
        "          .transitGatewayAttachmentId",
    ]
    arn = "    resourceShareArn = arn:aws:ram:us-west-2:111111111111:resource-share/425708c745822343334034ca1e679458"
    assert _text(arn, 80, " " * 8) == [
        "    resourceShareArn = arn:aws:ram:us-west-2:111111111111:resource-share/",
        "        425708c745822343334034ca1e679458",
    ]
    # Nothing to break at: cut at the width.
    assert _text("  id " + "0123456789" * 6, 30, "    ") == [
        "  id 0123456789012345678901234",
        "    56789012345678901234567890",
        "    123456789",
    ]
    # An item that fits a line of its own starts one rather than breaking.
    assert _items("  resources:", ["a:b", "network:channel-route-onprem-192-168-0-0-16"], 50, " " * 4) == [
        "  resources: a:b,",
        "    network:channel-route-onprem-192-168-0-0-16",
    ]


@given(
    words=st.lists(st.text(alphabet="ab.-/:= ", min_size=1, max_size=70), min_size=1, max_size=12),
    width=st.integers(min_value=1, max_value=120),
    indent=st.integers(min_value=0, max_value=14),
    lead=st.integers(min_value=0, max_value=10),
)
def test_any_text_fits_and_keeps_every_character(words, width, indent, lead):
    text = " " * lead + " ".join(words)
    for lines in (_text(text, width, " " * indent), _items(" " * lead + "head:", words, width, " " * indent)):
        assert all(len(line) <= width for line in lines)
    assert no_space("".join(_text(text, width, " " * indent))) == no_space(text)


def test_check_problem_lines_fit(plan):
    broken = copy.copy(plan)
    long_problem = ("on-premises 192.168.0.0/16 cannot reach iot:gatekeeper-iot-data-0 (10.20.0.10): "
                    "route53.ZoneAssociation channel-zone-c1d2e3f4a5b6c7-credentials-iot-us-west-2.zoneId "
                    "names arn:aws:ram:us-west-2:111111111111:resource-share/425708c745822343334034ca1e679458")
    broken.checks = [CheckResult(name="devices-path", passed=False, detail="on-premises reaches nothing",
                                 problems=(long_problem, "short")), *plan.checks[1:]]
    for width in (100, 80, 60):
        text = to_text(broken, width=width)
        assert_fits(text, width)
        problem = text.split("  FAIL devices-path: on-premises reaches nothing\n", 1)[1].split("\n  PASS ", 1)[0]
        assert problem.startswith("       - on-premises 192.168.0.0/16 cannot reach")
        assert no_space(long_problem) in no_space(problem)
    assert len(long_problem) > 100  # the counterpart: unbroken, it would not fit


# --------------------------------------------------------------------------- #
# The verdict stays one line, the last
# --------------------------------------------------------------------------- #


def _pending(plan, steps: dict[str, str]):
    """The plan with these checks pending until these steps."""
    pending = copy.copy(plan)
    pending.checks = [CheckResult(name=c.name, passed=False, detail="waits", pending=f"{steps[c.name]} (again)")
                      if c.name in steps else c for c in plan.checks]
    return pending


def test_a_verdict_wider_than_the_text_names_fewer_checks(plan):
    pending = _pending(plan, {"devices-path": "step 3", "devices-dns": "step 3", "consumer-path:consumer": "step 5"})
    full = verdict(pending)
    n = len(plan.checks)
    assert full == (f"PASS: {n - 3} of {n} checks passed, 3 pending until step 3 and step 5 of the release "
                    "(devices-path, devices-dns, consumer-path:consumer)")
    assert len(full) > 110  # the counterpart: in full, it would not fit
    assert to_json(pending)["verdict"] == full
    lines = to_text(pending, width=110).splitlines()
    assert lines[-1] == f"PASS: {n - 3} of {n} checks passed, 3 pending until step 3 and step 5 of the release (devices-path, +2 more)"
    assert sum(line.startswith(("PASS:", "FAIL:")) for line in lines) == 1
    assert to_text(pending, width=80).splitlines()[-1] == (
        f"PASS: {n - 3} of {n} checks passed, 3 pending until step 3 and step 5 of the release")
    assert to_text(pending, width=200).splitlines()[-1] == full


# --------------------------------------------------------------------------- #
# --verbose
# --------------------------------------------------------------------------- #


def test_verbose_lists_the_resources_and_unused_exports_and_the_default_counts_them(cli, plan):
    _, default = cli()
    code, verbose = cli("--verbose")
    assert code == EXIT_OK
    assert_fits(verbose, 100)
    for stack in plan.stacks.values():
        counts = Counter(short_type(r.type) for r in counted(stack.rendered.resources))
        total, (first, n) = sum(counts.values()), min(counts.items())
        assert f"  {total} resources: {len(counts)} types {HINT}" in default.splitlines()
        assert re.search(rf"^  {total} resources: {re.escape(first)} x{n}, ", verbose, re.M)
        for type_, count in counts.items():
            assert f"{type_} x{count}" in verbose
    assert not re.search(r"^  \d+ resources: \S+ x\d", default, re.M)
    assert re.search(r"^    also exported, carried by no resource input: alarmTopicArn, authorizerName,", verbose, re.M)
    assert re.search(rf"^    also exported, carried by no resource input: 20 exports {re.escape(HINT)}$", default, re.M)
    assert "carried by no resource input: alarmTopicArn" not in default
    # The rest is the same, line for line: important resources, wiring, checks, the verdict last.
    kept = [line for line in default.splitlines() if HINT not in line]
    assert _subsequence(kept, verbose.splitlines())
    assert default.splitlines()[-1] == verbose.splitlines()[-1] == f"PASS: all {len(plan.checks)} checks passed"
    assert len(default.splitlines()) < len(verbose.splitlines())


def _subsequence(short: list[str], long: list[str]) -> bool:
    rest = iter(long)
    return all(any(line == other for other in rest) for line in short)


def test_a_long_adds_list_waits_for_verbose_and_a_short_one_stays(plan):
    many = copy.copy(plan)
    third = plan.steps[2]
    added = tuple(f"ec2.Type{n}Of{'Something' * 3} name-{n}" for n in range(12))
    many.steps = [*plan.steps[:2], dataclasses.replace(third, added=added), *plan.steps[3:]]
    default, verbose = to_text(many), to_text(many, verbose=True)
    assert f"       adds 12 resources: 12 types {HINT}" in default.splitlines()
    assert "ec2.Type11OfSomethingSomethingSomething" not in default
    assert re.search(r"^       adds ec2.Type0Of\w+, ", verbose, re.M) and "ec2.Type11OfSomethingSomethingSomething" in verbose
    # The example's own adds lists are short: shown without --verbose.
    assert "       adds ec2.Route x2, ec2.VpcEndpointConnectionAccepter" in to_text(plan).splitlines()


# --------------------------------------------------------------------------- #
# JSON and its schema
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize("schema", [PLAN_SCHEMA, COMPARE_SCHEMA], ids=["plan", "compare"])
def test_the_schemas_are_draft_2020_12_and_describe_every_property(schema):
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    Draft202012Validator.check_schema(schema)
    undescribed = []

    def walk(node: dict, where: str) -> None:
        for name, sub in (node.get("properties") or {}).items():
            if "description" not in sub:
                undescribed.append(f"{where}.{name}")
            walk(sub, f"{where}.{name}")
        for name, sub in (node.get("$defs") or {}).items():
            walk(sub, f"{where}.$defs.{name}")
        for keyword in ("items", "additionalProperties"):
            if isinstance(node.get(keyword), dict):
                walk(node[keyword], f"{where}.{keyword}")

    walk(schema, "$")
    assert not undescribed


def _errors(schema, data) -> list[str]:
    return [error.message for error in Draft202012Validator(schema).iter_errors(data)]


def test_the_json_follows_the_schema_schema_version_first(cli, plan):
    code, out = cli("--format", "json")
    data = json.loads(out)
    assert code == EXIT_OK
    assert list(data)[:3] == ["schemaVersion", "project", "passed"] and data["schemaVersion"] == 1
    assert _errors(PLAN_SCHEMA, data) == []
    assert list(PLAN_SCHEMA["properties"]) == list(data)  # the schema names the keys in the order they come
    # A failing plan, with a diagram, follows it too.
    broken = copy.copy(plan)
    broken.checks = [CheckResult(name="devices-dns", passed=False, detail="broken", problems=("x",)), *plan.checks[1:]]
    assert _errors(PLAN_SCHEMA, json.loads(json.dumps(to_json(broken, ROOT / "channel.mmd"), default=str))) == []


@pytest.mark.parametrize(
    "breaks, message",
    [
        (lambda d: d.pop("schemaVersion"), "'schemaVersion' is a required property"),
        (lambda d: d.update(schemaVersion=2), "1 was expected"),
        (lambda d: d["stacks"][0].pop("accountId"), "'accountId' is a required property"),
        (lambda d: d["stacks"][1]["resources"][0].pop("inputs"), "'inputs' is a required property"),
        (lambda d: d["checks"][0].update(status="MAYBE"), "'MAYBE' is not one of"),
        (lambda d: d.update(undocumented=True), "Additional properties are not allowed"),
    ],
    ids=["no-schemaVersion", "schemaVersion-2", "stack-without-accountId", "resource-without-inputs",
         "unknown-check-status", "undocumented-key"],
)
def test_json_that_breaks_the_schema_fails_validation(plan, breaks, message):
    data = json.loads(json.dumps(to_json(plan), default=str))
    breaks(data)
    assert any(message in error for error in _errors(PLAN_SCHEMA, data)), _errors(PLAN_SCHEMA, data)


def test_the_schema_names_the_roles_the_program_knows():
    from components.config import ROLES

    assert PLAN_SCHEMA["$defs"]["stack"]["properties"]["role"]["enum"] == list(ROLES)
    assert PLAN_SCHEMA["$defs"]["step"]["properties"]["role"]["enum"] == list(ROLES)


def _old_plan_with_every_kind_of_change(plan) -> dict:
    """The example plan's JSON as if deployed before four changes: one resource more in the iot
    stack, one input changed, the consumer VPC's range changed (replacements) and one resource fewer."""
    old = json.loads(json.dumps(to_json(plan), default=str))
    stacks = {s["name"]: s for s in old["stacks"]}
    record = next(r for r in stacks["iot"]["resources"] if r["type"] == "aws:route53/record:Record")
    stacks["iot"]["resources"].remove(record)
    next(r for r in stacks["iot"]["resources"] if r["type"] == "aws:lambda/function:Function")["inputs"]["memorySize"] = 1
    next(r for r in stacks["consumer"]["resources"] if r["type"] == "aws:ec2/vpc:Vpc")["inputs"]["cidrBlock"] = "10.31.0.0/16"
    gone = copy.deepcopy(next(r for r in stacks["consumer"]["resources"] if r["type"] == "aws:kms/alias:Alias"))
    gone["name"], gone["urn"] = gone["name"] + "-old", gone["urn"] + "-old"
    stacks["consumer"]["resources"].append(gone)
    return old


def test_the_compare_json_follows_its_schema(cli, plan, tmp_path):
    old_file = tmp_path / "deployed.json"
    old_file.write_text(json.dumps(_old_plan_with_every_kind_of_change(plan)))
    code, out = cli("--compare", str(old_file), "--format", "json")
    data = json.loads(out)
    assert code == 1 and data["verdict"] != "safe"
    assert list(data)[0] == "schemaVersion" and data["schemaVersion"] == 1
    assert _errors(COMPARE_SCHEMA, data) == []
    changes = [c for s in data["stacks"] for kind in ("added", "changed", "replaced", "deleted") for c in s[kind]]
    assert {key for c in changes for key in c} == set(COMPARE_SCHEMA["$defs"]["change"]["properties"])
    assert all(any(s[kind] for s in data["stacks"]) for kind in ("added", "changed", "replaced", "deleted"))
    for breaks, message in ((lambda d: d.pop("schemaVersion"), "'schemaVersion' is a required property"),
                            (lambda d: d["stacks"][0].pop("deleted"), "'deleted' is a required property"),
                            (lambda d: d.update(verdict="fine"), "'fine' is not one of")):
        broken = copy.deepcopy(data)
        breaks(broken)
        assert any(message in error for error in _errors(COMPARE_SCHEMA, broken))


@pytest.mark.parametrize("columns", ["100", "72"])
def test_the_compare_text_fits_the_width_and_keeps_every_word(cli, plan, tmp_path, columns):
    old_file = tmp_path / "deployed.json"
    old_file.write_text(json.dumps(_old_plan_with_every_kind_of_change(plan)))
    _, wide = cli("--compare", str(old_file), columns="100000")
    code, out = cli("--compare", str(old_file), columns=columns)
    assert code == 1 and "Cost of this change" in out
    assert max(len(line) for line in out.splitlines()) <= int(columns)
    assert max(len(line) for line in wide.splitlines()) > int(columns)  # there was something to break
    assert "".join(out.split()) == "".join(wide.split())  # only whitespace differs


def test_a_long_compare_line_continues_under_its_text():
    reason = "       - " + " ".join(f"word{i}" for i in range(30))
    change = "  +- aws.Resource " + "x" * 90

    lines = fit_lines(f"short\n{reason}\n{change}", 60, compare.TEXT_MARKERS).split("\n")

    assert lines[0] == "short" and all(len(line) <= 60 for line in lines)
    continued = [line for line in lines[1:] if line.startswith("         word")]
    assert continued and lines[1].startswith("       - word0")
    assert any(line.startswith("     x") for line in lines)  # under the resource label, past "+- "


# --------------------------------------------------------------------------- #
# The docs
# --------------------------------------------------------------------------- #


def test_the_docs_name_every_top_level_key_and_link_the_schemas():
    section = PLAN_DOC.split("### JSON output", 1)[1].split("\n### ", 1)[0]
    for key in PLAN_SCHEMA["properties"]:
        assert f"`{key}`" in section, key
    assert "(../docs/plan.schema.json)" in section or "(plan.schema.json)" in section
    compare_section = PLAN_DOC.split("### `channelctl plan --compare`", 1)[1].split("\n### ", 1)[0]
    for key in COMPARE_SCHEMA["properties"]:
        assert f"`{key}`" in compare_section, key
    assert "(plan-compare.schema.json)" in compare_section


def test_the_default_output_the_docs_show_is_what_the_plan_prints(plan):
    shown = re.search(r"What the network account looks like[^\n]*\n\n```\n(.*?)```", PLAN_DOC, re.S).group(1)
    assert shown in to_text(plan)
    assert_fits(shown, 100)
