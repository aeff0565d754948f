"""Lambda entry point of the fleet-provisioning pre-provisioning hook.

Reads one item of the allow-list table (``ALLOW_LIST_TABLE``) with GetItem and answers AWS IoT;
any failure, missing setting or malformed event is a refusal, never an exception. Logs the reason
and the certificate ID, never the certificate or the event.
"""

from __future__ import annotations

import logging
import os
import time
from typing import Any

from .decision import REFUSED, decide

LOG = logging.getLogger("provisioning_hook")
LOG.setLevel(os.environ.get("AWS_LAMBDA_LOG_LEVEL", "INFO").upper())
for _name in ("boto3", "botocore", "urllib3"):
    logging.getLogger(_name).setLevel(logging.WARNING)

_CLIENT: Any = None


def _client() -> Any:
    global _CLIENT
    if _CLIENT is None:
        import boto3

        _CLIENT = boto3.client("dynamodb")
    return _CLIENT


def lookup_in(table: str, client: Any) -> Any:
    def lookup(name: str) -> Any:
        answer = client.get_item(TableName=table, Key={"device": {"S": name}}, ConsistentRead=True)
        return answer.get("Item")

    return lookup


def handle(event: Any, environ: Any, client_factory: Any = _client, now: Any = time.time) -> dict[str, Any]:
    try:
        table = environ.get("ALLOW_LIST_TABLE") or ""
        template_arn = environ.get("TEMPLATE_ARN") or ""
        if not table or not template_arn:
            LOG.error("refused: ALLOW_LIST_TABLE or TEMPLATE_ARN is not set")
            return dict(REFUSED)
        decision = decide(event, template_arn=template_arn, lookup=lookup_in(table, client_factory()), now=now)
    except Exception:  # noqa: BLE001 -- the hook never raises: AWS IoT would deny anyway, we say why
        LOG.exception("refused: unexpected failure")
        return dict(REFUSED)
    certificate = event.get("certificateId") if isinstance(event, dict) else None
    LOG.info("%s: %s (certificate %s)", "allowed" if decision.allow else "refused", decision.reason,
             str(certificate)[:64] if certificate else "-")
    return decision.response()


def handler(event: Any, context: Any) -> dict[str, Any]:
    return handle(event, os.environ)
