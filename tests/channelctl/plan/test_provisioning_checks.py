"""The provisioning path inside ``isolation``: each rule seen passing on the provisioned plan and failing
on a copy broken in exactly that way."""

from __future__ import annotations

import copy
import json

import pytest

from channelctl.plan.checks import ISOLATION, run_checks
from channelctl.plan.checks.provisioning import claim_topic_problems, provisioning_topic_template
from tests.channelctl.plan.test_plan_support import example_plan, failing, resource
from tests.components.test_fleet_provisioning import provisioned_plan

ARN = "arn:aws:iot:us-west-2:222222222222"


@pytest.fixture(scope="module")
def provisioned():
    return provisioned_plan(example_plan())[0]


@pytest.fixture()
def stacks(provisioned):
    return copy.deepcopy(provisioned)


def isolation_problems(stacks):
    results = run_checks(stacks)
    assert failing(results) <= {ISOLATION}
    return [p for r in results if r.name == ISOLATION for p in r.problems]


def test_the_provisioned_plan_passes_and_says_what_it_proved(provisioned):
    results = {r.name: r for r in run_checks(provisioned)}
    assert results[ISOLATION].passed
    verified = " ".join(results[ISOLATION].verified)
    assert "provisioning template iot:provisioning-template admits devices through hook iot:provisioning-hook" in verified
    assert "iot:provisioning-jitp-template attaches" in verified


def _edit_template(stacks, name, change):
    template = resource(stacks, "iot", name)
    body = json.loads(template.inputs["templateBody"])
    change(body)
    template.inputs["templateBody"] = json.dumps(body)


def test_a_template_attaching_a_policy_the_plan_does_not_declare_fails(stacks):
    _edit_template(stacks, "provisioning-template",
                   lambda b: b["Resources"]["policy"]["Properties"].update(PolicyName="AdminAccessPolicy"))
    assert any("attaches ['AdminAccessPolicy']" in p for p in isolation_problems(stacks))


def test_a_template_leaving_the_certificate_inactive_fails(stacks):
    _edit_template(stacks, "provisioning-jitp-template",
                   lambda b: b["Resources"]["certificate"]["Properties"].update(Status="INACTIVE"))
    assert any("does not activate the certificate" in p for p in isolation_problems(stacks))


def test_claim_provisioning_without_the_hook_fails(stacks):
    template = resource(stacks, "iot", "provisioning-template")
    del template.inputs["preProvisioningHook"], template.state["preProvisioningHook"]
    assert any("without a pre-provisioning hook of the plan" in p for p in isolation_problems(stacks))


def test_a_ca_provisioning_through_an_inline_template_fails(stacks):
    ca = resource(stacks, "iot", "provisioning-company-ca")
    ca.inputs["registrationConfig"] = {"templateBody": "{}", "roleArn": "arn:aws:iam::222222222222:role/x"}
    assert any("through an inline template body" in p for p in isolation_problems(stacks))


@pytest.mark.parametrize("topic, problem", [
    ("$aws/things/+/shadow/update", "not a provisioning API topic"),
    ("$aws/certificates/create/#", "not a provisioning API topic"),
    ("$aws/provisioning-templates/someone-elses/provision/json", "which the plan does not declare"),
])
def test_a_claim_policy_reaching_past_the_provisioning_topics_fails(stacks, topic, problem):
    claim = resource(stacks, "iot", "provisioning-claim-policy")
    document = json.loads(claim.inputs["policy"])
    document["Statement"][1]["Resource"].append(f"{ARN}:topic/{topic}")
    claim.inputs["policy"] = json.dumps(document)
    assert any(problem in p and "provisioning-claim-policy" in p for p in isolation_problems(stacks))


@pytest.mark.parametrize("topic, owner", [
    ("$aws/certificates/create/json", ""),
    ("$aws/certificates/create/cbor/rejected", ""),
    ("$aws/provisioning-templates/plant/provision/json/accepted", "plant"),
    ("$aws/provisioning-templates/plant/provision/xml", None),
    ("$aws/certificates/create-from-csr/json", None),
    ("$aws/provisioning-templates/*/provision/json", None),
])
def test_provisioning_topics_are_recognised_exactly(topic, owner):
    assert provisioning_topic_template(topic) == owner


def test_topics_outside_aws_reserved_ones_are_left_to_the_other_checks():
    document = {"Statement": [{"Effect": "Allow", "Action": "iot:Publish", "Resource": f"{ARN}:topic/things/a/b"}]}
    assert claim_topic_problems(document, set()) == []
