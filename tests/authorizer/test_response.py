"""The response builder refuses what IoT Core would reject, and accepts what it takes."""

from __future__ import annotations

import json

import pytest

from authorizer.errors import InvalidResponse
from authorizer.principal import principal_id
from authorizer.response import allow_response, deny_response

DOC = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "iot:Connect", "Resource": "*"}]})


def test_valid_allow_is_built():
    response = allow_response("abc123", (DOC,), 86400, 300)
    assert response == {
        "isAuthenticated": True,
        "principalId": "abc123",
        "disconnectAfterInSeconds": 86400,
        "refreshAfterInSeconds": 300,
        "policyDocuments": [DOC],
    }


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("", (DOC,), 300, 300), "principalId"),
        (("a-b", (DOC,), 300, 300), "principalId"),
        (("a" * 129, (DOC,), 300, 300), "principalId"),
        (("a", (), 300, 300), "at least one"),
        (("a", (DOC,) * 11, 300, 300), "11 policy documents"),
        (("a", (DOC[:-2] + " " * 2048 + "]}",), 300, 300), "characters"),
        (("a", ("{not json",), 300, 300), "not JSON"),
        (("a", ('{"Statement": []}',), 300, 300), "no statements"),
        (("a", (DOC.replace("Allow", "Deny"),), 300, 300), "not an Allow"),
        (("a", (DOC,), 299, 300), "disconnectAfterInSeconds 299"),
        (("a", (DOC,), 300, 86401), "refreshAfterInSeconds 86401"),
        (("a", (DOC,), 300.0, 300), "disconnectAfterInSeconds 300.0"),
    ],
)
def test_invalid_responses_are_refused(args, message):
    with pytest.raises(InvalidResponse, match=message):
        allow_response(*args)


def test_limits_at_their_edges_are_accepted():
    assert allow_response("a" * 128, (DOC,) * 10, 300, 86400)["isAuthenticated"] is True


def test_deny_is_always_valid_and_never_authenticates():
    for given in (None, "", "bad id!", principal_id("meter-0001")):
        response = deny_response(given)
        assert response["isAuthenticated"] is False and response["policyDocuments"] == []
        assert response["principalId"].isalnum() and len(response["principalId"]) <= 128


@pytest.mark.parametrize("name", ["a", "meter-0001", "x" * 128, "a.b", "ab", "a@b_c-d"])
def test_principal_id_pattern_for_any_user_name(name):
    pid = principal_id(name)
    assert pid.isascii() and pid.isalnum() and 1 <= len(pid) <= 128
    assert pid == principal_id(name)  # stable


def test_principal_ids_differ_when_readable_parts_collide():
    assert principal_id("a.b") != principal_id("ab") != principal_id("a-b")
    assert principal_id("a.b")[:2] == principal_id("ab")[:2] == "ab"
