"""`channelctl plan` over facts read from the accounts (`channelctl discover`): the render answers the
program's look-ups from them, every check says where its account-dependent figures came from, and a
plan without facts passes as before and says they are assumed.

Each distinct plan is built once per module: the committed facts (``facts/``) with the example
stacks, the same without facts, and copies of the facts directory with one file edited (``--facts``).
Facts that do not change a render (quotas, roles, RAM, log groups) are varied on a copy of the
example plan's stacks, with the checks run again.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import re
import shutil
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import yaml

from channelctl.accounts.facts import Fact, load_facts
from channelctl.cli import main
from channelctl.plan.build import EXIT_BAD_INPUT, EXIT_OK, PlanInputError, build_plan
from channelctl.plan.checks import ACCOUNTS, CAPACITY, DEPLOYABLE, run_checks
from channelctl.plan.describe import resource_json
from channelctl.plan.output import to_json, to_text
from channelctl.plan.render import AwsRefusal, RenderCache, render_stack
from tests.channelctl.plan.test_plan_support import ROOT, copy_project
from tests.docs import read_doc

FACTS = ROOT / "facts"
AGE = re.compile(r"\((\d+ (?:min|h|days)) old")
PLAN_DOC = read_doc("docs/release-and-review.md")


def facts_dir(target: Path, **edits) -> Path:
    """A copy of the committed facts under ``target``; ``edits[stack](document)`` changes one file."""
    target.mkdir(parents=True, exist_ok=True)
    for path in FACTS.glob("*.json"):
        document = json.loads(path.read_text())
        if path.stem in edits:
            edits[path.stem](document)
        (target / path.name).write_text(json.dumps(document, indent=2))
    return target


def set_fact(name: str, value):
    def edit(document: dict) -> None:
        document["facts"][name] = {"value": value, "source": "test"}
    return edit


def checks_of(plan) -> dict:
    return {c.name: c for c in plan.checks}


def with_fact(stacks: dict, stack: str, name: str, value) -> dict:
    """The stacks with one fact of one stack's account replaced (the render does not read it)."""
    facts = stacks[stack].facts
    stacks[stack].facts = dataclasses.replace(facts, facts={**facts.facts, name: Fact(value=value, source="test")})
    return stacks


def rerun(plan, stacks: dict):
    """The plan with its checks run again over ``stacks``."""
    return dataclasses.replace(plan, stacks=stacks, checks=run_checks(stacks))


@pytest.fixture(scope="module")
def example():
    return build_plan(ROOT)


@pytest.fixture(scope="module")
def no_facts():
    return build_plan(ROOT, read_facts=False)


@pytest.fixture
def stacks(example):
    return copy.deepcopy(example.stacks)


# --------------------------------------------------------------------------- #
# With the committed facts, and without any
# --------------------------------------------------------------------------- #


def test_the_example_with_its_committed_facts_passes_and_says_what_it_read(example):
    assert example.passed and {c.status for c in example.checks} == {"PASS"}
    assert [c.name for c in example.checks][-2:] == [ACCOUNTS, DEPLOYABLE]
    assert {name: str(f.path) for name, f in example.facts.items()} == {
        "network": "facts/network.json", "iot": "facts/iot.json", "consumer": "facts/consumer.json"}
    assert all(stack.facts is example.facts[name] for name, stack in example.stacks.items())
    lines = to_text(example).splitlines()
    assert lines[1].startswith("Facts from the accounts: facts/network.json (")
    checks = checks_of(example)
    # Figures the facts hold are read; the one they leave unknown (IoT Core's connect quota) is assumed.
    assert any(s.startswith("read: facts/iot.json (") and "Lambda concurrency quota 1,000" in s
               for s in checks[DEPLOYABLE].sources)
    (connect,) = checks[CAPACITY].sources
    assert connect.startswith("assumed: IoT Core connect quota 500/s (AWS default 500, adjustable; facts/iot.json: "
                              "iotcore/L-AEA1E176 unknown: ")
    assert connect.endswith("run channelctl discover iot)")
    assert checks[ACCOUNTS].detail.startswith("9 prerequisites met")


def test_the_committed_facts_render_the_channel_the_defaults_render(example, no_facts):
    def resources(stack):
        return sorted(json.dumps(resource_json(r), sort_keys=True) for r in stack.rendered.resources)

    for name, stack in example.stacks.items():
        assert resources(stack) == resources(no_facts.stacks[name]), name


def test_without_facts_the_plan_passes_as_before_and_says_assumed(no_facts, example):
    assert no_facts.passed and no_facts.facts == {} and all(s.facts is None for s in no_facts.stacks.values())
    assert [c.name for c in no_facts.checks] == [c.name for c in example.checks]
    text = " ".join(to_text(no_facts).split())
    assert "Facts from the accounts: none read (--no-facts) — the account-dependent figures" in text
    assert text.count("channelctl discover STACK for each stack") == 1
    sources = [s for c in no_facts.checks for s in c.sources]
    assert sources and all(s.startswith("assumed: ") for s in sources)
    accounts = checks_of(no_facts)[ACCOUNTS]
    assert accounts.passed and accounts.detail.startswith("assumed (no facts): the account prerequisites of network")
    assert all("assumed (no facts)" in v for v in accounts.verified)


def test_the_command_reads_facts_by_default_and_not_with_no_facts(tmp_path, capsys):
    assert main(["plan", "--cwd", str(ROOT)]) == EXIT_OK
    assert capsys.readouterr().out.splitlines()[1].startswith("Facts from the accounts: facts/network.json")
    assert main(["plan", "--cwd", str(ROOT), "--no-facts"]) == EXIT_OK
    assert capsys.readouterr().out.splitlines()[1].startswith("Facts from the accounts: none read (--no-facts)")
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["plan", "--cwd", str(ROOT), "--facts", str(empty)]) == EXIT_OK
    assert "none read (no facts/<stack>.json found)" in capsys.readouterr().out


def test_a_stack_without_a_facts_file_is_planned_on_the_defaults_and_named(tmp_path):
    directory = tmp_path / "facts"
    directory.mkdir()
    shutil.copy(FACTS / "iot.json", directory / "iot.json")
    plan = build_plan(ROOT, facts_dir=directory)
    assert plan.passed and set(plan.facts) == {"iot"}
    assert " ".join(to_text(plan).split()).startswith(
        f"Plan of private-mqtt-channel: 3 stacks, 5 steps, rendered offline in {plan.elapsed_s:.1f} s Facts from the "
        f"accounts: {directory / 'iot.json'} (")
    assert "; none for network, consumer, whose account-dependent figures are assumed — run .venv/bin/channelctl " \
           "discover STACK for each" in " ".join(to_text(plan).split())
    accounts = checks_of(plan)[ACCOUNTS]
    assert accounts.detail.startswith("5 prerequisites met; assumed (no facts): the account prerequisites of "
                                      "network, consumer — run channelctl discover STACK for each")


def test_the_json_names_each_stacks_facts_file_and_each_checks_sources(example, no_facts):
    data = json.loads(json.dumps(to_json(example), default=str))
    assert {s["name"]: s["facts"]["file"] for s in data["stacks"]} == {
        "network": "facts/network.json", "iot": "facts/iot.json", "consumer": "facts/consumer.json"}
    assert next(s for s in data["stacks"] if s["name"] == "consumer")["facts"]["unknown"] == ["serviceZones"]
    capacity = next(c for c in data["checks"] if c["name"] == CAPACITY)
    assert capacity["sources"] == list(checks_of(example)[CAPACITY].sources)
    assert all(s["facts"] is None for s in to_json(no_facts)["stacks"])


# --------------------------------------------------------------------------- #
# Facts files the plan refuses
# --------------------------------------------------------------------------- #


def test_a_malformed_facts_file_is_bad_input_naming_the_file_and_the_fix(tmp_path, capsys):
    directory = facts_dir(tmp_path / "facts")
    (directory / "iot.json").write_text("{not json")
    assert main(["plan", "--cwd", str(ROOT), "--facts", str(directory)]) == EXIT_BAD_INPUT
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert f"{directory / 'iot.json'}: not JSON" in err and "run 'channelctl discover'" in err


def test_facts_of_another_account_are_bad_input_naming_both(tmp_path):
    directory = facts_dir(tmp_path / "facts", network=lambda d: d.update(account="999999999999"))
    with pytest.raises(PlanInputError) as raised:
        build_plan(ROOT, facts_dir=directory)
    message = str(raised.value)
    assert "read from account 999999999999 in us-west-2, but Pulumi.network.yaml deploys into account " \
           "111111111111 in us-west-2" in message
    assert message.startswith(str(directory / "network.json"))


def test_a_facts_directory_that_does_not_exist_is_bad_input(tmp_path, capsys):
    assert main(["plan", "--cwd", str(ROOT), "--facts", str(tmp_path / "nowhere")]) == EXIT_BAD_INPUT
    assert "no such directory" in capsys.readouterr().err


def test_the_render_cache_keeps_renders_of_different_facts_apart():
    facts = load_facts(FACTS / "iot.json")
    other = dataclasses.replace(facts, facts={**facts.facts, "quotas": Fact(unknown="AccessDenied")})
    keys = {RenderCache.key(ROOT, "iot", {}, project="p", peers={}, preview=False, service_quotas=None, facts=f)
            for f in (None, facts, other)}
    assert len(keys) == 3


# --------------------------------------------------------------------------- #
# Zones: the account's names, where the endpoint service is offered
# --------------------------------------------------------------------------- #


def _without_zone_b(document):
    zones = document["facts"]["availabilityZones"]["value"]
    zones[:] = [z for z in zones if z["name"] != "us-west-2b"]


def test_a_zone_the_account_does_not_have_is_refused_naming_the_key_and_the_real_zones(tmp_path, capsys):
    # In a copy of the project, so that the facts file is named as the page shows it.
    project = copy_project(tmp_path)
    facts_dir(project / "facts", network=_without_zone_b)
    assert main(["plan", "--cwd", str(project)]) == EXIT_BAD_INPUT
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert err.startswith("channelctl plan: Pulumi.network.yaml: key 'private-mqtt-channel:availabilityZones[1]': "
                          "us-west-2b is not an availability zone of account 111111111111")
    assert "(CreateSubnet: InvalidParameterValue)" in err
    assert err.endswith("the account's zones (facts/network.json (" + AGE.search(err).group(1) + " old)): us-west-2a, "
                        "us-west-2c, us-west-2d — use zones of that list")
    assert AGE.sub("(1 h old", err) in PLAN_DOC.splitlines()  # the page shows this very refusal


def test_without_facts_a_zone_name_is_not_refused(tmp_path):
    """The counterpart: the facts decide; without them any name maps to a zone, as before."""
    facts = load_facts(FACTS / "network.json")
    config = yaml.safe_load((ROOT / "Pulumi.network.yaml").read_text())["config"]
    config = {k.split(":", 1)[1]: v for k, v in config.items()}
    refused = dataclasses.replace(facts, facts={**facts.facts, "availabilityZones": Fact(
        value=[z for z in facts.value("availabilityZones") if z["name"] != "us-west-2b"], source="test")})
    with pytest.raises(AwsRefusal) as raised:
        render_stack(ROOT, "network", config, facts=refused)
    assert raised.value.valid == ("us-west-2a", "us-west-2c", "us-west-2d")
    subnets = [r for r in render_stack(ROOT, "network", config).resources if r.type == "aws:ec2/subnet:Subnet"]
    assert sorted(r.inputs["availabilityZone"] for r in subnets) == ["us-west-2a", "us-west-2b"]


@pytest.fixture(scope="module")
def service_name(example):
    return example.stacks["iot"].rendered.exports["endpointServiceName"]


def _consumer_offered(service: str, zones: list[str]):
    return set_fact("serviceZones", {service: zones})


def test_a_consumer_whose_facts_offer_the_endpoint_service_elsewhere_is_refused_with_those_zones(
        tmp_path, capsys, service_name):
    directory = facts_dir(tmp_path / "facts", consumer=_consumer_offered(service_name, ["us-west-2a", "us-west-2c"]))
    assert main(["plan", "--cwd", str(ROOT), "--facts", str(directory)]) == EXIT_BAD_INPUT
    err = capsys.readouterr().err.strip()
    assert err.startswith("channelctl plan: Pulumi.consumer.yaml: configuration error: availabilityZones "
                          "[us-west-2b, us-west-2d] overlaps 0 of the zones")
    offered = re.search(r"offered as account 333333333333 names them \(([^)]*)\)", err).group(1)
    assert offered == "us-west-2a, us-west-2c"
    assert re.search(r"\(the account's look-ups answered from .*consumer\.json, \d+ (min|h|days) old\)$", err), err


def test_a_consumer_whose_facts_offer_the_endpoint_service_in_its_zones_passes_and_says_so(tmp_path, service_name):
    directory = facts_dir(tmp_path / "facts", consumer=_consumer_offered(service_name, ["us-west-2b", "us-west-2d"]))
    plan = build_plan(ROOT, facts_dir=directory)
    assert plan.passed
    sources = checks_of(plan)["consumer-path:consumer"].sources
    assert any(s.startswith("read: ") and f"{service_name} offered in us-west-2b, us-west-2d" in s for s in sources)


# --------------------------------------------------------------------------- #
# Capacity: IoT Core's connect quota
# --------------------------------------------------------------------------- #


def _connect_quota(value):
    def edit(document):
        document["facts"]["quotas"]["value"]["iotcore/L-AEA1E176"] = {"value": value, "default": value,
                                                                      "applied": False}
    return edit


def test_the_reconnect_storm_follows_the_connect_quota_read_from_the_facts(tmp_path, example):
    plan = build_plan(ROOT, facts_dir=facts_dir(tmp_path / "facts", iot=_connect_quota(3000)))
    capacity = checks_of(plan)[CAPACITY]
    assert capacity.passed
    (source,) = capacity.sources
    assert re.fullmatch(r"read: .*iot\.json \(\d+ (min|h|days) old\): IoT Core connect quota 3,000/s", source)
    assert any(v.startswith("reconnect storm, IoT Core CONNECT quota: 3,000/s, 50 s for 150,000 devices — 3,000 "
                            "CONNECT/s per account (the account's quota, read from") for v in capacity.verified)
    # The example's authorizer (286 CONNECT/s, 525 s) is slower than either quota: with the assumed 500/s or
    # the 3,000/s read, it stays the bottleneck, and the quota never is.
    assert "full reconnect in 525 s (bottleneck custom authorizer" in checks_of(example)[CAPACITY].detail
    assert "full reconnect in 525 s (bottleneck custom authorizer" in capacity.detail
    assert "bottleneck IoT Core CONNECT quota" not in capacity.detail


def test_a_connect_quota_below_the_configured_rate_fails_capacity(example, stacks):
    quotas = dict(stacks["iot"].facts.value("quotas"))
    quotas["iotcore/L-AEA1E176"] = {"value": 100, "default": 100, "applied": False}
    capacity = checks_of(rerun(example, with_fact(stacks, "iot", "quotas", quotas)))[CAPACITY]
    assert not capacity.passed
    assert any(p.startswith("capacity.iotConnectsPerSecond 500 (the default) is more than the account's IoT Core "
                            "connect quota 100/s") and p.endswith("set capacity.iotConnectsPerSecond to 100")
               for p in capacity.problems)
    assert any("1,500 s, bottleneck IoT Core CONNECT quota at 100/s" in p for p in capacity.problems)


def test_without_the_quota_in_the_facts_the_configured_rate_is_assumed_and_named(example, stacks):
    stacks["iot"].config["capacity"] = {"iotConnectsPerSecond": 2000}
    capacity = checks_of(rerun(example, stacks))[CAPACITY]
    assert capacity.passed
    (source,) = capacity.sources
    assert source.startswith("assumed: IoT Core connect quota 2,000/s (capacity.iotConnectsPerSecond; facts/iot.json")


# --------------------------------------------------------------------------- #
# The accounts check, prerequisite by prerequisite
# --------------------------------------------------------------------------- #


def accounts_of(example, stacks):
    return checks_of(rerun(example, stacks))[ACCOUNTS]


def test_ram_sharing_inside_the_organization_with_same_organization_false_fails_naming_it(example, stacks):
    plan = rerun(example, with_fact(stacks, "network", "ramSharingWithOrganization", True))
    accounts = checks_of(plan)[ACCOUNTS]
    assert not plan.passed and not accounts.passed
    (problem,) = accounts.problems
    assert problem.startswith("Pulumi.network.yaml sameOrganization false, but RAM sharing with the Organization is "
                              "enabled in account 111111111111 (facts/network.json (")
    assert problem.endswith("set sameOrganization: true in the network and iot stacks")
    assert to_text(plan).splitlines()[-1] == f"FAIL: 1 of {len(plan.checks)} checks failed (accounts)"


def test_same_organization_true_needs_ram_sharing_with_the_organization(example, stacks):
    for name in ("network", "iot"):
        stacks[name].config["sameOrganization"] = True
    accounts = accounts_of(example, copy.deepcopy(stacks))
    assert not accounts.passed
    assert "sameOrganization true, but RAM sharing with the Organization is not enabled" in accounts.problems[0]
    assert accounts_of(example, with_fact(stacks, "network", "ramSharingWithOrganization", True)).passed


def test_an_unknown_fact_is_neither_met_nor_failed_and_says_why(example, stacks):
    stacks["network"].facts = dataclasses.replace(stacks["network"].facts, facts={
        **stacks["network"].facts.facts,
        "ramSharingWithOrganization": Fact(unknown="AccessDenied: only the management account may ask",
                                           source="test")})
    accounts = accounts_of(example, stacks)
    assert accounts.passed and accounts.detail.startswith("8 prerequisites met; unknown: network RAM sharing with the "
                                                          "Organization (facts/network.json (")
    assert any(s.startswith("unknown: network RAM sharing") and s.endswith("AccessDenied: only the management "
                                                                            "account may ask)")
               for s in accounts.sources)


def test_a_missing_operators_role_fails_naming_the_role(example, stacks):
    arn = "arn:aws:iam::222222222222:role/mqtt-channel-operators"
    roles = {**stacks["iot"].facts.value("roles"), arn: False}
    accounts = accounts_of(example, with_fact(stacks, "iot", "roles", roles))
    (problem,) = accounts.problems
    assert problem.startswith(f"Pulumi.iot.yaml authorizer.operatorRoleArns[0]: role {arn} does not exist in account "
                              "222222222222 (facts/iot.json (")
    assert "create the role first: KMS refuses a key policy naming a missing principal" in problem


def test_an_existing_iot_log_group_fails_naming_the_import(example, stacks):
    groups = {**stacks["iot"].facts.value("logGroups"), "AWSIotLogsV2": True}
    accounts = accounts_of(example, with_fact(stacks, "iot", "logGroups", groups))
    (problem,) = accounts.problems
    assert problem.startswith("log group AWSIotLogsV2 already exists in account 222222222222 (facts/iot.json (")
    assert ("import it as iot:monitoring-iot-logs: pulumi import aws:cloudwatch/logGroup:LogGroup monitoring-iot-logs "
            "AWSIotLogsV2 --parent 'parent=urn:pulumi:iot::private-mqtt-channel::channel:iot:GatekeeperVpc"
            "$channel:ops:FleetMonitoring::monitoring' --provider 'aws=urn:pulumi:iot::private-mqtt-channel::"
            "pulumi:providers:aws::iot-222222222222' -s iot") in problem
    assert "iot:monitoring-iot-logs" in accounts.resources


@pytest.mark.parametrize("entry, expected", [
    ({"status": "PENDING_VALIDATION", "names": ["iot.plant.example.com"], "region": "us-west-2"}, "wait for validation"),
    ({"status": "ISSUED", "names": ["iot.plant.example.com"], "region": "eu-west-1"},
     "is in eu-west-1, the stack deploys in us-west-2"),
    ({"status": None, "names": [], "region": "us-west-2"}, "is missing"),
    ({"status": "ISSUED", "names": ["other.example.com"], "region": "us-west-2"}, "not customDomain iot.plant"),
], ids=["pending-validation", "other-region", "missing", "other-domain"])
def test_the_custom_domain_certificate_must_be_issued_in_the_region_for_the_domain(example, stacks, entry, expected):
    arn = stacks["iot"].config["customDomainCertificateArn"]
    accounts = accounts_of(example, with_fact(stacks, "iot", "certificates", {arn: entry}))
    (problem,) = accounts.problems
    assert problem.startswith("Pulumi.iot.yaml customDomainCertificateArn: certificate") and expected in problem
    wildcard = {"status": "ISSUED", "names": ["*.plant.example.com"], "region": "us-west-2"}
    assert accounts_of(example, with_fact(stacks, "iot", "certificates", {arn: wildcard})).passed


@pytest.mark.parametrize("state, expected", [
    ("down", "the link is down"), ("requested", "give the LOA-CFA"), (None, "is not in the account"),
])
def test_the_direct_connect_connection_must_be_available(example, stacks, state, expected):
    dx = {"connections": {"dxcon-ffabc123": state}, "gateways": {"dx-gw-1": "deleting"}}
    accounts = accounts_of(example, with_fact(stacks, "network", "directConnect", dx))
    (problem,) = accounts.problems
    assert problem.startswith("Pulumi.network.yaml directConnect.connectionId: connection dxcon-ffabc123 is")
    assert expected in problem
    assert any(v.startswith("note: Direct Connect gateways in account 111111111111") and "dx-gw-1 deleting" in v
               for v in accounts.verified)


def test_a_pending_invitation_from_the_network_account_is_met_and_none_is_a_note(example, stacks):
    assert "note: no pending RAM invitation from account 111111111111" in checks_of(example)[ACCOUNTS].detail
    invitation = {"arn": "arn:aws:ram:us-west-2:111111111111:resource-share-invitation/1", "shareArn": "s",
                  "status": "PENDING", "sender": "111111111111"}
    accounts = accounts_of(example, with_fact(stacks, "iot", "ramInvitations", [invitation]))
    assert accounts.passed and accounts.detail == "10 prerequisites met"


# --------------------------------------------------------------------------- #
# The page shows what the command prints
# --------------------------------------------------------------------------- #


def test_the_documented_sources_lines_are_what_the_plan_prints(example):
    # The facts read an hour ago, so that every age (and so every line break) is the page's.
    stacks = copy.deepcopy(example.stacks)
    an_hour_ago = datetime.now(timezone.utc) - timedelta(hours=1, minutes=1)
    for stack in stacks.values():
        stack.facts = dataclasses.replace(stack.facts, read_at=an_hour_ago)
    plan = dataclasses.replace(rerun(example, stacks), facts={n: s.facts for n, s in stacks.items()})
    section = PLAN_DOC.split("The example's committed facts print", 1)[1]
    documented = re.search(r"```\n(.*?)```", section, re.S).group(1)
    printed = to_text(plan)
    for block in documented.strip().split("\n...\n"):
        assert block in printed, block
