"""The trust and resource-policy rules read a document given as JSON text or as a map; anything else
is refused with the key and the fix, never passed as "no statement"."""

from __future__ import annotations

import json

import pytest

from policies.forms import check_resource_policy_principals, check_role_trust

SERVICE_ONLY = {"Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
                               "Action": "sts:AssumeRole"}]}


@pytest.mark.parametrize("check, resource_type, key, fix, kind", [
    (check_role_trust, "aws:iam/role:Role", "assumeRolePolicy", "the trust policy", "a trust policy"),
    (check_resource_policy_principals, "aws:kms/key:Key", "policy", "the policy", "a policy document"),
])
def test_a_document_is_json_text_or_a_map(check, resource_type, key, fix, kind):
    assert check(resource_type, {key: json.dumps(SERVICE_ONLY)}) == []
    assert check(resource_type, {key: SERVICE_ONLY}) == []
    assert check(resource_type, {key: "{not json"}) == [
        f"{key} is not valid JSON (Expecting property name enclosed in double quotes) — fix {fix}"]
    (problem,) = check(resource_type, {key: ["Statement"]})
    assert problem.startswith(f"{key} is ") and problem.endswith(f", not {kind} — pass the document as a JSON string")
