"""The custom-authorizer response; refuses to build one IoT Core would reject."""

from __future__ import annotations

import json
import re
from typing import Any

from .errors import InvalidResponse
from .policy import MAX_POLICY_DOCUMENT_CHARS, MAX_POLICY_DOCUMENTS
from .settings import MAX_SESSION_SECONDS, MIN_SESSION_SECONDS

# IoT developer guide, "Defining your Lambda function": principalId pattern.
PRINCIPAL_ID_PATTERN = re.compile(r"[A-Za-z0-9]{1,128}")
DENIED_PRINCIPAL_ID = "denied"


def allow_response(
    principal_id: str,
    policy_documents: tuple[str, ...],
    disconnect_after_seconds: int,
    refresh_after_seconds: int,
) -> dict[str, Any]:
    _check_principal(principal_id)
    if not policy_documents:
        raise InvalidResponse("an allow needs at least one policy document")
    if len(policy_documents) > MAX_POLICY_DOCUMENTS:
        raise InvalidResponse(f"{len(policy_documents)} policy documents — at most {MAX_POLICY_DOCUMENTS}")
    for index, document in enumerate(policy_documents):
        _check_document(index, document)
    for name, value in (
        ("disconnectAfterInSeconds", disconnect_after_seconds),
        ("refreshAfterInSeconds", refresh_after_seconds),
    ):
        if type(value) is not int or not MIN_SESSION_SECONDS <= value <= MAX_SESSION_SECONDS:
            raise InvalidResponse(f"{name} {value!r} is outside {MIN_SESSION_SECONDS}..{MAX_SESSION_SECONDS}")
    return {
        "isAuthenticated": True,
        "principalId": principal_id,
        "disconnectAfterInSeconds": disconnect_after_seconds,
        "refreshAfterInSeconds": refresh_after_seconds,
        "policyDocuments": list(policy_documents),
    }


def deny_response(principal_id: str | None = None) -> dict[str, Any]:
    """A deny; never fails, so the handler always has something valid to return."""
    if principal_id is None or not PRINCIPAL_ID_PATTERN.fullmatch(principal_id):
        principal_id = DENIED_PRINCIPAL_ID
    return {
        "isAuthenticated": False,
        "principalId": principal_id,
        "disconnectAfterInSeconds": MIN_SESSION_SECONDS,
        "refreshAfterInSeconds": MIN_SESSION_SECONDS,
        "policyDocuments": [],
    }


def _check_principal(principal_id: str) -> None:
    if not isinstance(principal_id, str) or not PRINCIPAL_ID_PATTERN.fullmatch(principal_id):
        raise InvalidResponse("principalId must match [A-Za-z0-9]{1,128}")


def _check_document(index: int, document: str) -> None:
    if not isinstance(document, str):
        raise InvalidResponse(f"policy document {index} is not a string")
    if len(document) > MAX_POLICY_DOCUMENT_CHARS:
        raise InvalidResponse(
            f"policy document {index} has {len(document)} characters — at most {MAX_POLICY_DOCUMENT_CHARS}"
        )
    try:
        parsed = json.loads(document)
    except ValueError:
        raise InvalidResponse(f"policy document {index} is not JSON") from None
    statements = parsed.get("Statement") if isinstance(parsed, dict) else None
    if not isinstance(statements, list) or not statements:
        raise InvalidResponse(f"policy document {index} has no statements")
    if any(not isinstance(s, dict) or s.get("Effect") != "Allow" for s in statements):
        # Only allows are built; a Deny in an authenticated response means the decision went wrong.
        raise InvalidResponse(f"policy document {index} holds a statement that is not an Allow")
