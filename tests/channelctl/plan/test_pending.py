"""Intermediate states of the release: what a later step completes is pending, anything else still fails."""

from __future__ import annotations

import pytest
import yaml

from channelctl.plan.checks import CheckResult
from channelctl.plan.checks.pending import Completion, settle
from channelctl.plan.build import build_plan
from channelctl.plan.describe import verdict
from channelctl.plan.output import to_text
from channelctl.project import ProjectError
from tests.channelctl.plan.test_plan_support import copy_project
from tests.docs import read_doc

# The page that shows channelctl plan's example verdicts.
PLAN_DOC = read_doc("docs/release-and-review.md")

PREFIX = "private-mqtt-channel:"


def _edit(path, change):
    document = yaml.safe_load(path.read_text())
    change(document["config"])
    path.write_text(yaml.safe_dump(document, sort_keys=False))


def _first_deploy(project):
    """The files of a first release: no backward reference switched on yet."""
    _edit(project / "Pulumi.network.yaml", lambda c: c.pop(f"{PREFIX}iotStack"))
    _edit(project / "Pulumi.iot.yaml", lambda c: [e.pop("stack") for e in c[f"{PREFIX}consumers"]])


def _add_consumer_before_step_5(project):
    """A second consumer: its stack file exists and the iot stack allows it, its entry has no stack yet."""
    consumer = yaml.safe_load((project / "Pulumi.consumer.yaml").read_text())
    config = consumer["config"]
    config[f"{PREFIX}accountId"] = "444444444444"
    config[f"{PREFIX}assumeRoleArn"] = "arn:aws:iam::444444444444:role/mqtt-channel-deployer"
    config[f"{PREFIX}vpcCidr"] = "10.40.0.0/16"
    # Where the endpoint service is offered, as this account names the zones (the mocks shift names per account).
    config[f"{PREFIX}availabilityZones"] = ["us-west-2a", "us-west-2c"]
    (project / "Pulumi.consumer-b.yaml").write_text(yaml.safe_dump(consumer, sort_keys=False))
    _edit(project / "Pulumi.iot.yaml", lambda c: c[f"{PREFIX}consumers"].append(
        {"name": "plant-b", "accountId": "444444444444", "vpcCidr": "10.40.0.0/16"}))


def _statuses(plan):
    return {c.name: c.status for c in plan.checks}


def test_first_deploy_passes_with_what_steps_3_and_5_complete(tmp_path):
    project = copy_project(tmp_path)
    _first_deploy(project)

    plan = build_plan(project)

    statuses = _statuses(plan)
    assert {name: statuses.pop(name) for name in ("devices-path", "devices-dns", "consumer-path:consumer")} == {
        "devices-path": "PENDING", "devices-dns": "PENDING", "consumer-path:consumer": "PENDING"}
    # Every other check passes.
    assert {"isolation", "capacity", "coherence", "observability", "accounts", "deployable"} <= set(statuses)
    assert set(statuses.values()) == {"PASS"}
    assert plan.passed
    pending = {c.name: c.pending for c in plan.checks if c.pending}
    assert pending["devices-path"].startswith("step 3 (network again: accept the TGW attachment")
    assert "once Pulumi.network.yaml: iotStack = acme/private-mqtt-channel/iot" in pending["devices-path"]
    assert pending["consumer-path:consumer"].startswith("step 5 (iot again: ")
    assert "accept the consumers' endpoint connections" in pending["consumer-path:consumer"]
    assert pending["consumer-path:consumer"].endswith(
        "once Pulumi.iot.yaml: consumers[0].stack = acme/private-mqtt-channel/consumer")
    consumer = next(c for c in plan.checks if c.name == "consumer-path:consumer")
    assert any("nothing accepts consumer:consumer-endpoint" in p for p in consumer.problems)  # what is missing
    text = to_text(plan)
    assert "  PENDING devices-path: completed by step 3 (network again" in text
    assert verdict(plan) == (f"PASS: {len(plan.checks) - 3} of {len(plan.checks)} checks passed, 3 pending until step 3 and step 5 of the release "
                             "(devices-path, devices-dns, consumer-path:consumer)")
    # Wider than the text (110 columns here), the verdict line names fewer checks (the check lines name all).
    assert to_text(plan, width=110).splitlines()[-1] == (f"PASS: {len(plan.checks) - 3} of {len(plan.checks)} checks passed, 3 pending until step 3 and step 5 of the release "
                                     "(devices-path, +2 more)")


def test_a_consumer_added_before_step_5_is_pending_until_step_5(tmp_path):
    project = copy_project(tmp_path)
    _add_consumer_before_step_5(project)

    plan = build_plan(project)

    statuses = _statuses(plan)
    assert statuses.pop("consumer-path:consumer-b") == "PENDING"
    assert set(statuses.values()) == {"PASS"}
    (pending,) = [c.pending for c in plan.checks if c.pending]
    assert pending.startswith("step 5 (iot again") and pending.endswith(
        "once Pulumi.iot.yaml: consumers[1].stack = acme/private-mqtt-channel/consumer-b")
    assert plan.passed
    verdict = to_text(plan).splitlines()[-1]
    assert verdict == f"PASS: {len(plan.checks) - 1} of {len(plan.checks)} checks passed, 1 pending until step 5 of the release (consumer-path:consumer-b)"
    assert f"`{verdict}`" in PLAN_DOC  # the example verdict docs/release-and-review.md shows is this one


def test_a_broken_channel_in_a_first_deploy_still_fails(tmp_path):
    """No Direct Connect connection: step 3 does not fix that, so the device checks fail; the rest stays pending."""
    project = copy_project(tmp_path)
    _first_deploy(project)
    _edit(project / "Pulumi.network.yaml", lambda c: c.update({f"{PREFIX}directConnect": {"gatewayAsn": 64513}}))

    plan = build_plan(project)

    statuses = _statuses(plan)
    assert statuses["devices-path"] == "FAIL"
    assert statuses["devices-dns"] == "FAIL"  # the Resolver is out of reach from on-premises too
    assert statuses["consumer-path:consumer"] == "PENDING"
    assert not plan.passed
    assert to_text(plan).splitlines()[-1] == f"FAIL: 2 of {len(plan.checks)} checks failed (devices-path, devices-dns)"


def test_a_consumer_the_iot_stack_does_not_list_is_refused_rather_than_pending(tmp_path):
    """The consumer's account is in no consumers entry: no step of the release accepts it."""
    project = copy_project(tmp_path)
    _first_deploy(project)
    _edit(project / "Pulumi.iot.yaml", lambda c: c[f"{PREFIX}consumers"][0].update({"accountId": "555555555555"}))

    with pytest.raises(ProjectError, match="account 333333333333 is in no entry"):
        build_plan(project)


def test_settle_marks_pending_only_what_a_completion_passes():
    failed = CheckResult(name="a", passed=False, detail="x", problems=("x",))
    other = CheckResult(name="b", passed=False, detail="y", problems=("y",))
    step3 = Completion(step=3, stack="network", what="w", switch_on=("iotStack = o/p/iot",), stacks={})
    settled = settle([failed, other], [(step3, [CheckResult(name="a", passed=True, detail=""),
                                                CheckResult(name="b", passed=False, detail="y")])])
    assert [r.status for r in settled] == ["PENDING", "FAIL"]
    assert settled[0].pending == "step 3 (network again: w) once iotStack = o/p/iot"
    assert settle([failed], []) == [failed]  # a finished channel has no completion: a failure stays one
