"""Environment settings: defaults, and errors that name the variable."""

from __future__ import annotations

import pytest

from authorizer.errors import SettingsError
from authorizer.hashes import MosquittoPbkdf2, Scrypt
from authorizer.settings import load_settings

BASE = {
    "CREDENTIALS_TABLE": "device-credentials",
    "DATA_ENDPOINT_IDS": "vpce-0123456789abcdef0, vpce-0fedcba9876543210",
    "AWS_REGION": "eu-central-1",
    "IOT_ACCOUNT_ID": "123456789012",
}
FUNCTION_ARN = "arn:aws:lambda:eu-central-1:210987654321:function:authorizer:live"


def test_defaults():
    settings = load_settings(BASE)
    assert settings.data_endpoint_ids == ("vpce-0123456789abcdef0", "vpce-0fedcba9876543210")
    assert (settings.disconnect_after_seconds, settings.refresh_after_seconds) == (86400, 900)
    assert settings.topic_prefix("meters") == "meters"
    assert isinstance(settings.unknown_user_hash, Scrypt)
    assert settings.iot_arn("client/x") == "arn:aws:iot:eu-central-1:123456789012:client/x"


def test_account_comes_from_the_function_arn_when_not_set():
    env = {k: v for k, v in BASE.items() if k != "IOT_ACCOUNT_ID"}
    assert load_settings(env, FUNCTION_ARN).account_id == "210987654321"


@pytest.mark.parametrize(
    ("region", "partition"), [("cn-north-1", "aws-cn"), ("us-gov-west-1", "aws-us-gov"), ("eu-west-1", "aws")]
)
def test_partition_follows_the_region(region, partition):
    settings = load_settings({**BASE, "IOT_REGION": region})
    assert settings.iot_arn("topic/a").startswith(f"arn:{partition}:iot:{region}:")


def test_overrides():
    settings = load_settings(
        {
            **BASE,
            "DISCONNECT_AFTER_SECONDS": "3600",
            "REFRESH_AFTER_SECONDS": "300",
            "FAMILY_TOPIC_PREFIXES": '{"meters": "plant1/meters"}',
            "UNKNOWN_USER_HASH": "mosquitto-pbkdf2:101",
        }
    )
    assert (settings.disconnect_after_seconds, settings.refresh_after_seconds) == (3600, 300)
    assert settings.topic_prefix("meters") == "plant1/meters" and settings.topic_prefix("valves") == "valves"
    assert isinstance(settings.unknown_user_hash, MosquittoPbkdf2) and settings.unknown_user_hash.iterations == 101


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"CREDENTIALS_TABLE": None}, "CREDENTIALS_TABLE ''"),
        ({"CREDENTIALS_TABLE": "a b"}, "CREDENTIALS_TABLE 'a b'"),
        ({"DATA_ENDPOINT_IDS": None}, "DATA_ENDPOINT_IDS '' must list"),
        ({"DATA_ENDPOINT_IDS": " , "}, "DATA_ENDPOINT_IDS"),
        ({"DATA_ENDPOINT_IDS": "vpce-0123456789abcdef0,*"}, r"not endpoint IDs: '\*'"),
        ({"AWS_REGION": None}, "AWS_REGION '' is not an AWS region"),
        ({"IOT_REGION": "moon-1"}, "IOT_REGION 'moon-1'"),
        ({"IOT_ACCOUNT_ID": "12345"}, "IOT_ACCOUNT_ID '12345' must be a 12-digit"),
        ({"IOT_ACCOUNT_ID": None}, "IOT_ACCOUNT_ID is not set"),
        ({"DISCONNECT_AFTER_SECONDS": "299"}, "DISCONNECT_AFTER_SECONDS '299' .* 300 to 86400"),
        ({"REFRESH_AFTER_SECONDS": "86401"}, "REFRESH_AFTER_SECONDS '86401'"),
        ({"REFRESH_AFTER_SECONDS": "²"}, "REFRESH_AFTER_SECONDS"),
        ({"FAMILY_TOPIC_PREFIXES": "meters=plant1"}, "FAMILY_TOPIC_PREFIXES .* JSON object"),
        ({"FAMILY_TOPIC_PREFIXES": '{"meters": "plant1/#"}'}, r"FAMILY_TOPIC_PREFIXES\['meters'\]"),
        ({"FAMILY_TOPIC_PREFIXES": '{"a/b": "x"}'}, "FAMILY_TOPIC_PREFIXES family 'a/b'"),
        ({"UNKNOWN_USER_HASH": "argon2id"}, "UNKNOWN_USER_HASH"),
    ],
)
def test_bad_settings_name_the_variable_and_the_value(change, message):
    env = dict(BASE)
    for key, value in change.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    with pytest.raises(SettingsError, match=message):
        load_settings(env)
