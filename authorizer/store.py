"""The credentials table as the authorizer uses it.

GetItem of a device's record and of the hash-scheme registry; one conditional
UpdateItem that replaces a legacy hash with the project's scrypt after a
successful login; one UpdateItem per refusal that counts failed guesses
(authorizer/lockout.py). The function's role may change nothing else.
"""

from __future__ import annotations

import os
from dataclasses import replace
from typing import Any

import boto3
from boto3.dynamodb.types import TypeDeserializer
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from .errors import CredentialStoreUnavailable, MalformedRecord
from .lockout import FailureUpdate, moment
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


# The item listing every hash scheme (and cost) the table's records use, kept by channelctl.
# Its key is not a valid user name, so no CONNECT can ever read it as a device.
HASH_SCHEMES_KEY = "#hash-schemes"


def get_hash_schemes(table_name: str) -> tuple[str, ...] | None:
    """The registry's dummy_hash specs, or None if the table has no registry."""
    try:
        response = dynamodb_client().get_item(
            TableName=table_name, Key={"username": {"S": HASH_SCHEMES_KEY}}, ConsistentRead=True
        )
    except (ClientError, BotoCoreError) as err:
        raise CredentialStoreUnavailable(f"GetItem {HASH_SCHEMES_KEY} on {table_name} failed: {type(err).__name__}") from None
    item = response.get("Item")
    if item is None:
        return None
    schemes = item.get("schemes", {}).get("SS")
    if not isinstance(schemes, list) or not all(isinstance(s, str) for s in schemes):
        raise MalformedRecord(f"{HASH_SCHEMES_KEY} has no string set 'schemes'")
    return tuple(sorted(schemes))


def upgrade_hash(table_name: str, username: str, old_hash: str, new_hash: str, now: str) -> bool:
    """Replace old_hash by new_hash if the record still holds old_hash; False if it changed meanwhile."""
    try:
        dynamodb_client().update_item(
            TableName=table_name,
            Key={"username": {"S": username}},
            UpdateExpression="SET #h = :new, #u = :now",
            ConditionExpression="#h = :old",
            ExpressionAttributeNames={"#h": "password_hash", "#u": "updated_at"},
            ExpressionAttributeValues={":new": {"S": new_hash}, ":old": {"S": old_hash}, ":now": {"S": now}},
        )
    except ClientError as err:
        if err.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
            return False
        raise CredentialStoreUnavailable(f"UpdateItem on {table_name} failed: {type(err).__name__}") from None
    except BotoCoreError as err:
        raise CredentialStoreUnavailable(f"UpdateItem on {table_name} failed: {type(err).__name__}") from None
    return True


def record_failure(table_name: str, username: str, update: FailureUpdate, retry: bool = True) -> bool:
    """Make the refusal's one UpdateItem; True if it counted the failure.

    A counting update whose condition failed on an existing record (another
    request started or ended the window meanwhile) is retried once the other
    way, so a guess is never lost. retry=False for a name without a record.
    """
    if _update_failure(table_name, username, update):
        return True
    if retry and update.counts:
        return _update_failure(table_name, username, replace(update, new_window=not update.new_window))
    return False


def failure_request(table_name: str, username: str, update: FailureUpdate) -> dict[str, Any]:
    """The UpdateItem arguments: one shape for every refusal (authorizer/lockout.py)."""
    names = {"#k": "username", "#c": "failed_attempts", "#s": "failed_since"}
    values = {":one": {"N": "1"}, ":now": {"S": moment(update.now)}}
    if update.new_window:
        expression = "SET #c = :one, #s = :now"
        window = "(attribute_not_exists(#s) OR #s <= :start)"
    else:
        # ADD is DynamoDB's atomic counter: concurrent failures each add one.
        expression = "ADD #c :one SET #s = if_not_exists(#s, :now)"
        window = "#s > :start"
    values[":start"] = {"S": moment(update.window_start)}
    if update.lock_until is not None:
        names["#l"] = "locked_until"
        values[":lock"] = {"S": moment(update.lock_until)}
        expression += ", #l = :lock"
    # A refusal that does not count sends the same request with a condition that cannot hold:
    # the same round trip, nothing written (and never an item created for the name).
    condition = f"attribute_exists(#k) AND {window}"
    if not update.counts:
        condition = f"attribute_exists(#k) AND attribute_not_exists(#k) AND {window}"
    return {
        "TableName": table_name,
        "Key": {"username": {"S": username}},
        "UpdateExpression": expression,
        "ConditionExpression": condition,
        "ExpressionAttributeNames": names,
        "ExpressionAttributeValues": values,
    }


def _update_failure(table_name: str, username: str, update: FailureUpdate) -> bool:
    try:
        dynamodb_client().update_item(**failure_request(table_name, username, update))
    except ClientError as err:
        if err.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
            return False
        raise CredentialStoreUnavailable(f"UpdateItem on {table_name} failed: {type(err).__name__}") from None
    except BotoCoreError as err:
        raise CredentialStoreUnavailable(f"UpdateItem on {table_name} failed: {type(err).__name__}") from None
    return True


def clear_failures(table_name: str, username: str) -> None:
    try:
        dynamodb_client().update_item(
            TableName=table_name,
            Key={"username": {"S": username}},
            UpdateExpression="REMOVE #c, #s, #l",
            ConditionExpression="attribute_exists(#k)",
            ExpressionAttributeNames={"#k": "username", "#c": "failed_attempts", "#s": "failed_since", "#l": "locked_until"},
        )
    except (ClientError, BotoCoreError) as err:
        raise CredentialStoreUnavailable(f"UpdateItem on {table_name} failed: {type(err).__name__}") from None
