"""Reads a device's record from the credentials table (DynamoDB GetItem only)."""

from __future__ import annotations

import os
from typing import Any

import boto3
from boto3.dynamodb.types import TypeDeserializer
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from .errors import CredentialStoreUnavailable, MalformedRecord
from .records import DeviceRecord, record_from_item

# The authorizer has 5 s in total (IoT Core limit): fail fast rather than retry long.
_CLIENT_CONFIG = Config(connect_timeout=1, read_timeout=1, retries={"max_attempts": 2, "mode": "standard"})

_client: Any = None  # one client per container, created on first use
_deserializer = TypeDeserializer()


def dynamodb_client() -> Any:
    global _client
    if _client is None:
        # Lambda sets AWS_REGION (and AWS_DEFAULT_REGION, which boto3 reads otherwise).
        _client = boto3.client("dynamodb", region_name=os.environ.get("AWS_REGION") or None, config=_CLIENT_CONFIG)
    return _client


def reset_client() -> None:
    """Forget the cached client (a new container, or a test starting a fresh AWS mock)."""
    global _client
    _client = None


def get_record(table_name: str, username: str) -> DeviceRecord | None:
    try:
        response = dynamodb_client().get_item(
            TableName=table_name,
            Key={"username": {"S": username}},
            # A device disabled a moment ago must not connect on a stale replica.
            ConsistentRead=True,
        )
    except (ClientError, BotoCoreError) as err:
        raise CredentialStoreUnavailable(f"GetItem on {table_name} failed: {type(err).__name__}") from None
    raw = response.get("Item")
    if raw is None:
        return None
    try:
        item = {key: _deserializer.deserialize(value) for key, value in raw.items()}
    except (TypeError, ValueError):
        raise MalformedRecord("the item holds a value DynamoDB types cannot describe") from None
    return record_from_item(item)
