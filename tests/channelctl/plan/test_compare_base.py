"""`channelctl plan --compare` with a base plan of another shape: what can be compared is, the rest is said.

The pull-request workflow renders the base branch's plan with the base branch's channelctl; on
the first pull request after the plan's JSON changes shape, that base lacks keys (resources
without ``inputs``, ``urn``, ``options``, ``outputs``) or carries a newer ``schemaVersion``.
"""

from __future__ import annotations

import json

import jsonschema
import pytest

from channelctl.cli import main
from channelctl.plan import compare as cmp
from channelctl.plan import compare_base
from channelctl.plan.build import EXIT_BAD_INPUT
from channelctl.plan.output import SCHEMA_VERSION
from tests.channelctl.plan.test_plan_support import ROOT

COMPARE_SCHEMA = json.loads((ROOT / "docs" / "plan-compare.schema.json").read_text())

SUBNET = "aws:ec2/subnet:Subnet"
ENDPOINT = "aws:ec2/vpcEndpoint:VpcEndpoint"


def _raw(stack, type_, name, inputs, id_):
    return {"type": type_, "name": name, "id": id_, "urn": f"urn:pulumi:{stack}::p::{type_}::{name}",
            "inputs": inputs, "options": {}, "outputs": {}}


def _plan(subnet_cidr="10.20.0.0/19", *, with_endpoint=True):
    """A plan of one stack: a subnet and (optionally) an interface endpoint with a fixed IP."""
    resources = [_raw("iot", SUBNET, "subnet-a", {"cidrBlock": subnet_cidr, "vpcId": "vpc-00000001"}, "subnet-0001")]
    if with_endpoint:
        resources.append(_raw("iot", ENDPOINT, "iot-data-0", {
            "vpcEndpointType": "Interface", "serviceName": "com.amazonaws.us-west-2.iot.data",
            "subnetConfigurations": [{"ipv4": "10.20.0.10", "subnetId": "subnet-0001"}]}, "vpce-00000001"))
    return {"schemaVersion": SCHEMA_VERSION, "stacks": [{"name": "iot", "resources": resources}]}


def _earlier_shape(plan, keep=("type", "name", "id")):
    """The plan as a channelctl before `--compare` wrote it: resources with type, name and id only."""
    data = json.loads(json.dumps(plan))
    for stack in data["stacks"]:
        stack["resources"] = [{k: r[k] for k in keep if k in r} for r in stack["resources"]]
    return data


def _new(plan):
    return cmp.resources_of_plan(plan, "the new plan")


def _compare(base_data, new_plan):
    base = compare_base.read_base(base_data, "base.json")
    new = _new(new_plan)
    return base, cmp.compare(compare_base.align(base, new), new)


def test_a_full_base_is_compared_in_full_and_sees_a_replacement():
    base, result = _compare(_plan(), _plan("10.20.64.0/19"))
    assert base.gaps.complete and base.gaps.notes == []
    (change,) = [c for c in result.changes if c.resource.name == "subnet-a"]
    assert change.kind == cmp.REPLACED


def test_a_base_without_inputs_compares_which_resources_exist_and_says_what_it_could_not():
    # The same replacement as above cannot be seen without the base's inputs: it is said instead.
    base, result = _compare(_earlier_shape(_plan()), _plan("10.20.64.0/19"))
    assert not base.gaps.complete
    assert result.changes == [] and result.verdict == cmp.SAFE
    (stack_note, collisions) = base.gaps.notes
    assert stack_note.startswith("stack iot: 2 resources of the base not compared input by input (they carry no "
                                 "inputs: an earlier channelctl wrote it)")
    assert "2 the new plan also has are taken as unchanged" in stack_note
    assert "render base.json again with this channelctl" in collisions


def test_a_base_without_inputs_still_reports_deleted_and_added_resources():
    base, result = _compare(_earlier_shape(_plan()), _plan(with_endpoint=False))
    (deleted,) = result.changes
    assert deleted.kind == cmp.DELETED and deleted.resource.name == "iot-data-0"
    # What the deleted endpoint held (its IP) is unknown: not judged, but said.
    assert deleted.verdict == cmp.SAFE
    assert "1 deleted, whose names, addresses and answers are unknown" in base.gaps.notes[0]

    base, result = _compare(_earlier_shape(_plan(with_endpoint=False)), _plan())
    (added,) = result.changes
    assert added.kind == cmp.ADDED and added.resource.name == "iot-data-0"


def test_a_full_base_reports_the_deleted_endpoint_as_disruptive():
    """The counterpart of the case above: with inputs, losing the endpoint's IP is disruptive."""
    _, result = _compare(_plan(), _plan(with_endpoint=False))
    (deleted,) = result.changes
    assert deleted.verdict == cmp.DISRUPTIVE


def test_a_base_with_urns_but_no_inputs_matches_by_urn():
    base, result = _compare(_earlier_shape(_plan(), keep=("type", "name", "id", "urn")), _plan())
    assert result.changes == [] and base.gaps.matched == {"iot": 2}


def test_a_base_of_a_newer_schema_compares_only_which_resources_exist():
    newer = _plan()
    newer["schemaVersion"] = SCHEMA_VERSION + 1
    base, result = _compare(newer, _plan("10.20.64.0/19"))
    assert result.changes == []
    assert f"schemaVersion {SCHEMA_VERSION + 1} is newer than this channelctl's {SCHEMA_VERSION}" in base.gaps.notes[0]


def test_an_ambiguous_name_without_urn_is_not_matched():
    plan = _plan()
    twin = dict(plan["stacks"][0]["resources"][0], urn="urn:pulumi:iot::p::parent$aws:ec2/subnet:Subnet::subnet-a")
    new_plan = {"stacks": [{"name": "iot", "resources": [*plan["stacks"][0]["resources"], twin]}]}
    base, result = _compare(_earlier_shape(plan), new_plan)
    # Two new subnets answer to (type, name): neither is picked; the base one counts as deleted.
    assert base.gaps.unmatched["iot"] == ["ec2.Subnet subnet-a"]
    assert sorted(c.kind for c in result.changes) == [cmp.ADDED, cmp.ADDED, cmp.DELETED]


@pytest.mark.parametrize("content, message", [
    ('{"stacks": [{"name": "iot", "resources": [{"id": "vpc-1"}]}]}', "a resource without 'type' or 'name'"),
    ('{"stacks": [{"resources": []}]}', "a stack without 'name' or 'resources'"),
    ('{"project": "x"}', "no 'stacks' list"),
])
def test_what_no_plan_could_be_is_still_bad_input(content, message):
    with pytest.raises(cmp.CompareInputError, match=message):
        compare_base.read_base(json.loads(content), "base.json")


def test_the_command_compares_an_earlier_shape_and_lists_what_it_could_not(tmp_path, capsys):
    """The pull request's first run after the plan's JSON changed shape: exit per the usual rules."""
    assert main(["plan", "--cwd", str(ROOT), "--format", "json"]) in (0, 1)
    full = json.loads(capsys.readouterr().out)
    base = tmp_path / "base-plan.json"
    base.write_text(json.dumps(_earlier_shape(full)))

    code = main(["plan", "--cwd", str(ROOT), "--compare", str(base)])
    out = capsys.readouterr().out
    assert code == (0 if full["passed"] else 1), out
    assert "Verdict: safe (0 refused by AWS, 0 disruptive, 0 safe changes)" in out
    assert "Not compared (the base plan cannot tell):" in out and "stack iot: " in out

    code = main(["plan", "--cwd", str(ROOT), "--compare", str(base), "--format", "json"])
    data = json.loads(capsys.readouterr().out)
    jsonschema.validate(data, COMPARE_SCHEMA)
    assert data["exitCode"] == code and len(data["notCompared"]) == len(full["stacks"]) + 1

    # Unreadable input stays bad input (exit 2).
    base.write_text("{not json")
    assert main(["plan", "--cwd", str(ROOT), "--compare", str(base)]) == EXIT_BAD_INPUT
    assert "not JSON" in capsys.readouterr().err
