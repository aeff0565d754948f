"""`plan --compare` on a provisioning template whose body changes: each change is a new template
version, and AWS keeps five of them (the provider never deletes one)."""

from channelctl.plan import compare as cmp

TEMPLATE = "aws:iot/provisioningTemplate:ProvisioningTemplate"


def _plan(body: str, description: str = "claim provisioning") -> dict:
    inputs = {"name": "iot-claim", "templateBody": body, "description": description, "enabled": True}
    return {"iot": [cmp.Resource(stack="iot", type=TEMPLATE, name="provisioning-template",
                                 urn="urn:iot:template", id="iot-claim", inputs=inputs, options={}, outputs={},
                                 tokens=("iot-claim",))]}


def test_a_new_template_body_says_how_to_make_room_for_its_version():
    result = cmp.compare(_plan('{"Resources": {}}'), _plan('{"Resources": {"thing": {}}}'))
    (change,) = result.changes
    assert change.kind == cmp.UPDATED and change.verdict == cmp.SAFE
    (reason,) = change.reasons
    assert "AWS keeps 5" in reason and "--template-name iot-claim" in reason
    assert "delete-provisioning-template-version" in reason
    assert reason in cmp.to_text(result)


def test_a_change_that_keeps_the_body_adds_no_version():
    result = cmp.compare(_plan('{"Resources": {}}'), _plan('{"Resources": {}}', description="another"))
    (change,) = result.changes
    assert change.properties == ["description"] and change.reasons == []
