"""Bounded work per CONNECT: a hash costing more than the ceiling is refused everywhere."""

from __future__ import annotations

import base64
import logging

import pytest

from authorizer import cost, hashes
from authorizer.cost import ceiling_seconds, check_cost, memory_needed_mb
from authorizer.errors import HashTooCostly, SettingsError
from authorizer.handler import handler
from authorizer.hashes import MosquittoPbkdf2, Scrypt, ScryptParams, parse_hash
from authorizer.settings import load_settings
from components.config import ConfigError, load_config
from tests.authorizer.support import ACCOUNT, ENDPOINTS, REGION, connect_event
from tests.support import example_config


def pbkdf2(iterations: int) -> MosquittoPbkdf2:
    return MosquittoPbkdf2(iterations, bytes(12), bytes(64))


def scrypt(log2_n: int, r: int, p: int) -> Scrypt:
    return Scrypt(ScryptParams(log2_n, r, p), bytes(16), bytes(32))


def test_the_ceiling_follows_the_cpu_share_of_the_memory_size():
    # 5 s x 0.4 for hashing x (memory / 1769 MB per vCPU) / safety factor 2.
    assert ceiling_seconds(512) == pytest.approx(5 * 0.4 * 512 / 1769 / 2)
    assert ceiling_seconds(1769) == pytest.approx(1.0)
    assert ceiling_seconds(3008) == ceiling_seconds(1769)  # one thread uses one vCPU at most
    assert ceiling_seconds(256) < ceiling_seconds(512)


@pytest.mark.parametrize(
    ("stored", "memory", "accepted"),
    [
        (pbkdf2(101), 128, True),  # mosquitto 2.0 default
        (pbkdf2(1000), 128, True),  # mosquitto 2.1 default
        (pbkdf2(1_000_000), 512, False),  # the red team's record: about 0.7 s of a full core here
        (pbkdf2(800_000), 512, False),
        (pbkdf2(600_000), 1769, True),
        (pbkdf2(800_000), 1769, False),  # 1.28 s at the rate measured 2026-12-04
        (scrypt(15, 8, 1), 512, True),  # channelctl's own default
        (scrypt(15, 8, 1), 256, False),
        (scrypt(20, 2, 16), 10_240, False),  # the red team's 17 s record: no memory size is enough
        (scrypt(17, 8, 1), 1769, True),
        (scrypt(17, 8, 1), 1024, False),
    ],
)
def test_check_cost(stored, memory, accepted):
    if accepted:
        assert check_cost(stored, memory) <= ceiling_seconds(memory)
    else:
        with pytest.raises(HashTooCostly, match=r"ceiling|quarter"):
            check_cost(stored, memory)


def test_the_refusal_says_which_memory_size_would_do():
    with pytest.raises(HashTooCostly, match=r"raise authorizer.memorySize to at least (\d+) MB") as refused:
        check_cost(scrypt(15, 8, 1), 256)
    needed = int(refused.value.args[0].split("at least ")[1].split(" MB")[0])
    check_cost(scrypt(15, 8, 1), needed)
    assert needed == memory_needed_mb(cost.cost_seconds(scrypt(15, 8, 1)))
    with pytest.raises(HashTooCostly, match="no memory size is enough"):
        check_cost(scrypt(20, 2, 16), 10_240)


BASE_ENV = {
    "CREDENTIALS_TABLE": "device-credentials",
    "DATA_ENDPOINT_IDS": ",".join(ENDPOINTS),
    "AWS_REGION": REGION,
    "IOT_ACCOUNT_ID": ACCOUNT,
}


def test_an_unknown_user_hash_over_the_ceiling_is_refused_at_the_memory_lambda_reports():
    with pytest.raises(SettingsError, match="UNKNOWN_USER_HASH.*ceiling"):
        load_settings({**BASE_ENV, "UNKNOWN_USER_HASH": "mosquitto-pbkdf2:500000"})
    loaded = load_settings(
        {**BASE_ENV, "UNKNOWN_USER_HASH": "mosquitto-pbkdf2:500000", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "1769"}
    )
    assert loaded.memory_mb == 1769
    with pytest.raises(SettingsError, match="AWS_LAMBDA_FUNCTION_MEMORY_SIZE"):
        load_settings({**BASE_ENV, "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "64"})


def test_the_lambda_never_computes_a_hash_over_the_ceiling(authorizer_env, monkeypatch, caplog):
    computed = []
    for cls in (hashes.MosquittoSha512, hashes.MosquittoPbkdf2, hashes.Scrypt):
        original = cls.compute
        monkeypatch.setattr(cls, "compute", lambda self, pw, _o=original: computed.append(self.scheme) or _o(self, pw))
    salt = base64.b64encode(bytes(12)).decode()
    digest = base64.b64encode(bytes(64)).decode()
    authorizer_env.put_item(Item={
        "username": "meter-0001", "password_hash": f"$7$999999${salt}${digest}", "family": "meters"})
    with caplog.at_level(logging.INFO, logger="authorizer"):
        response = handler(connect_event("meter-0001", b"anything"), None)
    assert response["isAuthenticated"] is False
    assert "reason=HashTooCostly" in caplog.text
    # The dummies (UNKNOWN_USER_HASH mosquitto-sha512 and the project's scrypt) were verified instead:
    # the same work as an unknown name.
    assert sorted(computed) == ["mosquitto-sha512", "scrypt"]


@pytest.mark.parametrize(
    ("authorizer", "message"),
    [
        ({"memorySize": 256}, r"authorizer.memorySize: the scrypt channelctl hashes passwords with .* at least \d+ MB"),
        ({"unknownUserHash": "mosquitto-pbkdf2:300000"}, r"authorizer.unknownUserHash: .* ceiling"),
        ({"unknownUserHash": "scrypt:ln=15,r=16,p=1"}, r"authorizer.unknownUserHash: .* ceiling"),
    ],
)
def test_config_refuses_hash_work_over_the_ceiling(authorizer, message):
    cfg = example_config("iot")
    cfg["authorizer"] = {**cfg["authorizer"], "memorySize": 512, **authorizer}
    with pytest.raises(ConfigError, match=message):
        load_config(cfg, stack="iot")
    cfg["authorizer"]["memorySize"] = 1769
    load_config(cfg, stack="iot")


def test_parse_then_cost_of_a_stored_string():
    stored = parse_hash("$7$101$" + base64.b64encode(bytes(12)).decode() + "$" + base64.b64encode(bytes(64)).decode())
    assert check_cost(stored, 128) == pytest.approx(101 * cost.PBKDF2_SECONDS_PER_ITERATION)
