"""The credentials table as channelctl writes it: conditional writes only.

Region, credentials and endpoint come from the standard boto3 environment
(``AWS_DEFAULT_REGION``, ``AWS_PROFILE``, ``AWS_ENDPOINT_URL`` ...).
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Iterator, Mapping

import boto3
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError, NoRegionError

from authorizer.store import HASH_SCHEMES_KEY
from channelctl.devices.credentials_errors import (
    ConcurrentChange,
    ConditionNotMet,
    ConfigError,
    DeviceExists,
    DeviceNotFound,
)

LIST_ATTRIBUTES = ("username", "family", "enabled", "prohibited", "client_id", "valid_until")


def now_text() -> str:
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat()


class CredentialTable:
    def __init__(self, table_name: str, region: str | None = None):
        self.table_name = table_name
        try:
            self._table = boto3.resource("dynamodb", region_name=region).Table(table_name)
        except NoRegionError:
            raise ConfigError("no AWS region — set AWS_DEFAULT_REGION or pass --region") from None

    def get(self, username: str) -> dict[str, Any] | None:
        response = self._call(self._table.get_item, Key={"username": username}, ConsistentRead=True)
        return response.get("Item")

    def create(self, item: Mapping[str, Any]) -> None:
        try:
            self._call(
                self._table.put_item,
                Item=dict(item),
                ConditionExpression="attribute_not_exists(username)",
            )
        except ConditionNotMet:
            raise DeviceExists(
                f"device {item['username']!r} already exists in {self.table_name} — "
                "use `channelctl devices set-password` or `update`"
            ) from None

    def update(
        self,
        username: str,
        set_values: Mapping[str, Any],
        remove: tuple[str, ...] = (),
        expected: Mapping[str, Any] | None = None,
    ) -> None:
        """Set and remove attributes of an existing item; with expected, only if it still holds those values."""
        names: dict[str, str] = {}
        values: dict[str, Any] = {}
        sets = []
        for index, (key, value) in enumerate(set_values.items()):
            names[f"#s{index}"] = key
            values[f":s{index}"] = value
            sets.append(f"#s{index} = :s{index}")
        removes = []
        for index, key in enumerate(remove):
            names[f"#r{index}"] = key
            removes.append(f"#r{index}")
        conditions = ["attribute_exists(username)"]
        for index, (key, value) in enumerate((expected or {}).items()):
            names[f"#e{index}"] = key
            values[f":e{index}"] = value
            conditions.append(f"#e{index} = :e{index}")
        expression = ("SET " + ", ".join(sets) if sets else "") + (" REMOVE " + ", ".join(removes) if removes else "")
        kwargs: dict[str, Any] = {
            "Key": {"username": username},
            "UpdateExpression": expression.strip(),
            "ConditionExpression": " AND ".join(conditions),
            "ExpressionAttributeNames": names,
        }
        if values:
            kwargs["ExpressionAttributeValues"] = values
        try:
            self._call(self._table.update_item, **kwargs)
        except ConditionNotMet:
            if expected and self.get(username) is not None:
                raise ConcurrentChange(
                    f"device {username!r} changed while it was being updated — nothing was overwritten; run again"
                ) from None
            raise DeviceNotFound(f"no device {username!r} in {self.table_name}") from None

    def scan(self, attributes: tuple[str, ...] = LIST_ATTRIBUTES) -> Iterator[dict[str, Any]]:
        """Device records (never the hash-scheme registry), only the given attributes."""
        names = {f"#a{i}": name for i, name in enumerate(attributes)}
        kwargs: dict[str, Any] = {
            "ProjectionExpression": ", ".join(names),
            "ExpressionAttributeNames": names,
        }
        while True:
            page = self._call(self._table.scan, **kwargs)
            yield from (item for item in page.get("Items", []) if item.get("username") != HASH_SCHEMES_KEY)
            if "LastEvaluatedKey" not in page:
                return
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    # --- the hash-scheme registry the authorizer derives its unknown-user work from ---

    def hash_schemes(self) -> set[str] | None:
        item = self.get(HASH_SCHEMES_KEY)
        return None if item is None else set(item.get("schemes", set()))

    def add_hash_schemes(self, specs: set[str]) -> None:
        self._call(
            self._table.update_item,
            Key={"username": HASH_SCHEMES_KEY},
            UpdateExpression="ADD #s :s SET #u = :u",
            ExpressionAttributeNames={"#s": "schemes", "#u": "updated_at"},
            ExpressionAttributeValues={":s": set(specs), ":u": now_text()},
        )

    def put_hash_schemes(self, specs: set[str]) -> None:
        self._call(
            self._table.put_item, Item={"username": HASH_SCHEMES_KEY, "schemes": set(specs), "updated_at": now_text()}
        )

    def _call(self, operation: Any, **kwargs: Any) -> dict[str, Any]:
        try:
            return operation(**kwargs)
        except ClientError as err:
            code = err.response.get("Error", {}).get("Code", "")
            if code == "ConditionalCheckFailedException":
                raise ConditionNotMet() from None
            if code == "ResourceNotFoundException":
                raise ConfigError(
                    f"table {self.table_name!r} does not exist in this account/region — check --table, "
                    "CREDENTIALS_TABLE and AWS_DEFAULT_REGION"
                ) from None
            raise ConfigError(f"DynamoDB refused the request on {self.table_name!r}: {code or err}") from None
        except NoCredentialsError:
            raise ConfigError("no AWS credentials — set AWS_PROFILE or the AWS_ACCESS_KEY_ID variables") from None
        except NoRegionError:
            raise ConfigError("no AWS region — set AWS_DEFAULT_REGION or pass --region") from None
        except BotoCoreError as err:
            raise ConfigError(f"cannot reach DynamoDB: {err}") from None
