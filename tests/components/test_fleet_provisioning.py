"""Fleet provisioning through the gatekeeper: the documents (pure) and the iot stack rendered with it on.

One render for the module: the example iot stack with ``fleetProvisioning`` (claim, JITP, Device
Advisor) on, fed the example plan's final network and consumer exports and the iot account's facts,
swapped into a copy of the example plan so that every plan check, the pack's checks and the deployer
policy run over it.
"""

from __future__ import annotations

import copy
import dataclasses
import json

import pytest

from channelctl.plan import deployer_policy as dp
from channelctl.plan import provider_calls as pc
from channelctl.plan.checks import ISOLATION, connect_problems, run_checks
from components.fleet_provisioning import (
    claim_policy_document,
    claim_topics,
    fleet_template_body,
    jitp_template_body,
    provisioning_role_policy,
)
from policies.checks import check_iot_connect_source_vpce
from tests.channelctl.plan.test_plan_support import example_plan, failing, resource
from channelctl.plan.render import render_stack
from tests.support import FQ, PROJECT_DIR, example_config

ENDPOINTS = ["vpce-0123456789abcdef0", "vpce-0fedcba9876543210"]
FLEET = {
    "enabled": True,
    "jitp": {
        "caCertificateFile": "tests/components/data/jitp-example-ca.pem",
        "verificationCertificateFile": "tests/components/data/jitp-example-verification.pem",
    },
    "deviceAdvisor": True,
}


# --------------------------------------------------------------------------- #
# Pure documents
# --------------------------------------------------------------------------- #


def claim_policy(template="plant"):
    return claim_policy_document(region="us-west-2", account_id="222222222222", template_name=template,
                                 data_endpoint_ids=ENDPOINTS)


def test_the_claim_policy_connects_only_through_the_gatekeeper():
    assert connect_problems(claim_policy(), set(ENDPOINTS)) == []
    # The same document through another endpoint is refused by the same check.
    assert connect_problems(claim_policy(), {"vpce-0aaaaaaaaaaaaaaaa"}) != []
    with pytest.raises(ValueError, match="without iot.data endpoint IDs"):
        claim_policy_document(region="us-west-2", account_id="222222222222", template_name="plant", data_endpoint_ids=[])


def test_the_claim_policy_names_only_the_provisioning_topics_of_its_template():
    document = claim_policy()
    resources = [r for s in document["Statement"] if s["Action"] != "iot:Connect" for r in s["Resource"]]
    prefix = "arn:aws:iot:us-west-2:222222222222:"
    for arn in resources:
        topic = arn.removeprefix(prefix).split("/", 1)[1]
        assert topic.startswith(("$aws/certificates/create/", "$aws/provisioning-templates/plant/provision/")), arn
        assert "*" not in topic and "+" not in topic and "#" not in topic, arn
    assert set(claim_topics("plant")["publish"]) == {
        "$aws/certificates/create/json", "$aws/certificates/create/cbor",
        "$aws/provisioning-templates/plant/provision/json", "$aws/provisioning-templates/plant/provision/cbor",
    }


def test_both_templates_attach_the_channel_policy_and_activate_the_certificate():
    for body, name_ref in ((fleet_template_body("thing-policy"), "SerialNumber"),
                           (jitp_template_body("thing-policy"), "AWS::IoT::Certificate::CommonName")):
        resources = body["Resources"]
        assert resources["policy"]["Properties"] == {"PolicyName": "thing-policy"}
        assert resources["certificate"]["Properties"]["Status"] == "ACTIVE"
        assert resources["thing"]["Properties"]["ThingName"] == {"Ref": name_ref}
        assert name_ref in body["Parameters"]


def test_the_provisioning_role_reads_only_the_channel_policy_and_holds_no_wildcard_action():
    document = provisioning_role_policy(region="us-west-2", account_id="222222222222", policy_name="thing-policy")
    actions = [a for s in document["Statement"] for a in s["Action"]]
    assert all("*" not in a for a in actions)
    assert not {"iot:CreatePolicy", "iot:DeleteThing", "iot:DetachPolicy", "iot:CreateCertificateFromCsr"} & set(actions)
    by_sid = {s["Sid"]: s for s in document["Statement"]}
    assert by_sid["TheChannelPolicy"]["Resource"] == "arn:aws:iot:us-west-2:222222222222:policy/thing-policy"


# --------------------------------------------------------------------------- #
# The iot stack rendered with provisioning on
# --------------------------------------------------------------------------- #


@pytest.fixture(scope="module")
def plan():
    return example_plan()


def provisioned_plan(plan):
    """(the example plan's stacks with the provisioned iot render swapped in, that render); the render
    cache answers a second module asking for the same render."""
    config = example_config("iot") | {"fleetProvisioning": FLEET}
    peers = {FQ(name): plan.stacks[name].rendered.exports for name in ("network", "consumer")}
    rendered = render_stack(PROJECT_DIR, "iot", config, peers=peers, facts=plan.facts.get("iot"))
    stacks = copy.deepcopy(plan.stacks)
    stacks["iot"] = dataclasses.replace(stacks["iot"], rendered=rendered, config=config)
    return stacks, rendered


@pytest.fixture(scope="module")
def provisioned(plan):
    return provisioned_plan(plan)


def test_every_plan_check_passes_with_provisioning_on(provisioned):
    stacks, _ = provisioned
    assert failing(run_checks(stacks)) == set()


def test_the_stack_renders_the_template_with_its_hook_the_claim_policy_and_the_jitp_ca(provisioned):
    _, rendered = provisioned
    template = rendered.named("provisioning-template")
    assert template.inputs["type"] == "FLEET_PROVISIONING" and template.inputs["enabled"] is True
    hook = rendered.named("provisioning-hook")
    assert template.inputs["preProvisioningHook"]["targetArn"] == hook.state["arn"]
    permission = rendered.named("provisioning-hook-invoke")
    assert permission.inputs["sourceArn"].endswith(f":provisioningtemplate/{template.inputs['name']}")
    body = json.loads(template.inputs["templateBody"])
    thing_policy = rendered.named("gatekeeper-thing-policy")
    assert body["Resources"]["policy"]["Properties"]["PolicyName"] == thing_policy.state["name"]
    jitp = rendered.named("provisioning-jitp-template")
    ca = rendered.named("provisioning-company-ca")
    assert jitp.inputs["type"] == "JITP" and ca.inputs["registrationConfig"]["templateName"] == jitp.inputs["name"]
    assert json.loads(jitp.inputs["templateBody"])["Resources"]["policy"] == body["Resources"]["policy"]
    assert ca.inputs["allowAutoRegistration"] is True and ca.inputs["active"] is True
    assert rendered.exports["claimPolicyName"] == rendered.named("provisioning-claim-policy").state["name"]


def test_the_claim_policy_as_rendered_is_bound_to_the_gatekeeper_endpoints(provisioned):
    _, rendered = provisioned
    ids = set(rendered.exports["dataEndpointIds"])
    claim = json.loads(rendered.named("provisioning-claim-policy").inputs["policy"])
    assert connect_problems(claim, ids) == []


def test_a_claim_policy_without_the_gatekeeper_condition_fails_isolation(provisioned):
    stacks, _ = provisioned
    stacks = copy.deepcopy(stacks)
    claim = resource(stacks, "iot", "provisioning-claim-policy")
    document = json.loads(claim.inputs["policy"])
    del document["Statement"][0]["Condition"]
    claim.inputs["policy"] = json.dumps(document)
    assert failing(run_checks(stacks)) == {ISOLATION}


def test_the_hook_reads_the_allow_list_through_the_vpcs_one_dynamodb_endpoint(provisioned):
    _, rendered = provisioned
    endpoints = [r for r in rendered.of_type("aws:ec2/vpcEndpoint:VpcEndpoint")
                 if r.inputs.get("vpcEndpointType") == "Gateway" and r.inputs["serviceName"].endswith(".dynamodb")]
    # The example stack has the authorizer: its gateway endpoint serves the allow-list too.
    assert len(endpoints) == 1
    statements = json.loads(endpoints[0].inputs["policy"])["Statement"]
    table = rendered.exports["provisioningAllowListTable"]
    assert any(s["Action"] == "dynamodb:GetItem" and s["Resource"] == [f"arn:aws:dynamodb:us-west-2:222222222222:table/{table}"]
               for s in statements)
    hook = rendered.named("provisioning-hook")
    assert hook.inputs["vpcConfig"]["subnetIds"] and hook.inputs["timeout"] == 5


def test_the_device_advisor_role_trusts_only_device_advisor_for_this_account(provisioned):
    _, rendered = provisioned
    role = rendered.named("device-advisor-role")
    statement = json.loads(role.inputs["assumeRolePolicy"])["Statement"][0]
    assert statement["Principal"] == {"Service": "iotdeviceadvisor.amazonaws.com"}
    assert statement["Condition"]["StringEquals"] == {"aws:SourceAccount": "222222222222"}
    assert statement["Condition"]["ArnLike"]["aws:SourceArn"].startswith("arn:aws:iotdeviceadvisor:us-west-2:222222222222:")
    pass_role = json.loads(rendered.exports["deviceAdvisorPassRolePolicy"])["Statement"][0]
    assert pass_role["Condition"] == {"StringEquals": {"iam:PassedToService": "iotdeviceadvisor.amazonaws.com"}}
    assert pass_role["Resource"] == role.state["arn"]


def test_the_qualification_policy_is_exported_not_attached_because_the_pack_refuses_it(provisioned):
    _, rendered = provisioned
    qualification = rendered.exports["deviceAdvisorQualificationPolicy"]
    # Attached to the role in a stack, the pack would refuse it (Connect without aws:SourceVpce) ...
    assert check_iot_connect_source_vpce("aws:iam/rolePolicy:RolePolicy", {"policy": qualification}) != []
    # ... and the stack attaches nothing to the role.
    role_urn = rendered.named("device-advisor-role").urn
    assert [r.name for r in rendered.resources if r.parent == role_urn] == []
    assert [r.name for r in rendered.of_type("aws:iam/rolePolicy:RolePolicy") if "advisor" in r.name] == []


def test_the_deployer_policy_covers_every_call_for_the_new_types(plan, provisioned):
    _, rendered = provisioned
    usage = dataclasses.replace(dp.stack_usage(plan, "iot"), resources=tuple(rendered.resources),
                                invokes=tuple(rendered.invokes))
    documents = dp.deployer_policies(usage)
    granted = {a for d in documents for s in d["Statement"] for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])}
    needed = {pc.iam_action(op) for r in rendered.resources if r.type in (
        "aws:iot/provisioningTemplate:ProvisioningTemplate", "aws:iot/caCertificate:CaCertificate")
        for op in pc.PROVIDER_CALLS[r.type].operations()}
    assert needed and needed <= granted
    # Creating the templates passes the provisioning role to IoT Core, and only to it.
    pass_iot = [s for d in documents for s in d["Statement"] if s["Sid"] == "PassRoleToIot"]
    assert pass_iot and pass_iot[0]["Condition"] == {"StringEquals": {"iam:PassedToService": "iot.amazonaws.com"}}
    role = rendered.named("provisioning-provisioning-role")
    assert any(f"role/{role.name}" in r for r in ([pass_iot[0]["Resource"]] if isinstance(pass_iot[0]["Resource"], str)
                                                  else pass_iot[0]["Resource"]))
    # RegisterCACertificate takes no resource ARN: granted on "*", where it can be.
    unscoped = [s for d in documents for s in d["Statement"] if s["Sid"] == "ReadWithoutResourceLevelPermissions"]
    assert "iot:RegisterCACertificate" in unscoped[0]["Action"]


def test_without_the_authorizer_the_hook_gets_a_gateway_endpoint_for_the_allow_list_only(plan):
    config = example_config("iot") | {"fleetProvisioning": {"enabled": True}, "authorizer": {"enabled": False}}
    peers = {FQ(name): plan.stacks[name].rendered.exports for name in ("network", "consumer")}
    rendered = render_stack(PROJECT_DIR, "iot", config, peers=peers, facts=plan.facts.get("iot"))
    endpoints = [r for r in rendered.of_type("aws:ec2/vpcEndpoint:VpcEndpoint")
                 if r.inputs.get("vpcEndpointType") == "Gateway" and r.inputs["serviceName"].endswith(".dynamodb")]
    assert [e.name for e in endpoints] == ["provisioning-dynamodb"]
    table = rendered.named("provisioning-allow-list")
    assert table.inputs["name"] == rendered.exports["provisioningAllowListTable"]
    assert json.loads(endpoints[0].inputs["policy"])["Statement"] == [{
        "Effect": "Allow", "Principal": "*", "Action": "dynamodb:GetItem", "Resource": table.state["arn"],
    }]
    assert endpoints[0].inputs["routeTableIds"] == [rendered.named("gatekeeper-rt").id]
    assert "jitpTemplateName" not in rendered.exports and "deviceAdvisorRoleArn" not in rendered.exports


def test_the_company_ca_is_deregistered_before_it_is_registered_again(provisioned):
    # A changed verification certificate re-registers the same CA, whose ID is its fingerprint.
    _, rendered = provisioned
    assert rendered.named("provisioning-company-ca").options.get("deleteBeforeReplace") is True
    assert not rendered.named("provisioning-jitp-template").options.get("deleteBeforeReplace")
