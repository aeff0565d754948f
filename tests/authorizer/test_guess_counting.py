"""Guess counting under concurrency, one DynamoDB sequence for every refusal, the lockout alarm line.

Waves of parallel guesses run on threads against moto. moto applies an
UpdateItem in Python without a lock, while DynamoDB applies each single-item
write atomically (DynamoDB developer guide, "Atomic counters" and "Condition
expressions"): the tests serialise moto's item operations to give it that
guarantee. A barrier holds every guess of a wave after its record read until
all of the wave have read, so N guesses are truly in flight at once.
"""

from __future__ import annotations

import json
import logging
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from moto.dynamodb.models import DynamoDBBackend

from authorizer import handler as handler_module, hashes, store
from authorizer.handler import handler
from authorizer.hashes import ScryptParams, hash_password
from tests.authorizer.support import connect_event

PASSWORD = b"right-password"
THRESHOLD = 7  # MAX_FAILED_ATTEMPTS: not a divisor of either wave size
SMALL_SCRYPT = ScryptParams(10, 8, 1)  # the project's scrypt in these tests, to keep them fast
_seen = threading.local()  # the record each guess's handler read, for the naive counter


@pytest.fixture
def device(authorizer_env, monkeypatch):
    monkeypatch.setattr(hashes, "DEFAULT_SCRYPT", SMALL_SCRYPT)
    monkeypatch.setenv("MAX_FAILED_ATTEMPTS", str(THRESHOLD))
    monkeypatch.setenv("LOCKOUT_SECONDS", "600")
    authorizer_env.put_item(Item={
        "username": "meter-0001", "password_hash": hash_password(PASSWORD, ScryptParams(10, 8, 1)), "family": "meters"})
    item_lock = threading.Lock()
    for operation in ("get_item", "update_item", "put_item"):
        original = getattr(DynamoDBBackend, operation)

        def atomic(self, *args, _original=original, **kwargs):
            with item_lock:
                return _original(self, *args, **kwargs)

        monkeypatch.setattr(DynamoDBBackend, operation, atomic)
    return authorizer_env


def stored(table, username="meter-0001") -> dict:
    return table.get_item(Key={"username": username})["Item"]


def checked_guesses(caplog) -> int:
    """Guesses whose password was compared: the refusals logged as WrongPassword."""
    return sum("deny reason=WrongPassword" in r.getMessage() for r in caplog.records)


def guess_in_waves(monkeypatch, wave: int, waves: int) -> None:
    """waves waves of `wave` wrong passwords, each wave all in flight at once."""
    read = store.get_record

    for _ in range(waves):
        barrier = threading.Barrier(wave, timeout=30)

        def held_read(*args, _barrier=barrier):
            record = _seen.record = read(*args)
            _barrier.wait()  # every guess of the wave has read the record before any counts
            return record

        monkeypatch.setattr(handler_module, "get_record", held_read)
        with ThreadPoolExecutor(wave) as pool:
            answers = list(pool.map(lambda i: handler(connect_event("meter-0001", b"guess-%d" % i), None), range(wave)))
        assert not any(a["isAuthenticated"] for a in answers)
    monkeypatch.setattr(handler_module, "get_record", read)


def naive_count(table_name, username, update, retry=True):
    """The optimistic SET of earlier versions: the count the handler read plus one, if still unchanged."""
    client = store.dynamodb_client()
    if _seen.record is None:
        return False
    seen = str(_seen.record.failed_attempts)
    values = {":c": {"N": str(int(seen) + 1)}, ":e": {"N": seen}, ":s": {"S": store.moment(update.now)}}
    try:
        client.update_item(
            TableName=table_name, Key={"username": {"S": username}},
            UpdateExpression="SET failed_attempts = :c, failed_since = if_not_exists(failed_since, :s)",
            ConditionExpression="attribute_not_exists(failed_attempts) OR failed_attempts = :e",
            ExpressionAttributeValues=values,
        )
    except client.exceptions.ConditionalCheckFailedException:
        return False
    return True


@pytest.mark.parametrize("wave", [10, 25])
def test_waves_of_parallel_guesses_lock_within_threshold_plus_wave(device, monkeypatch, caplog, wave):
    caplog.set_level(logging.INFO, logger="authorizer")
    guess_in_waves(monkeypatch, wave, waves=2)
    checked = checked_guesses(caplog)
    assert THRESHOLD <= checked <= THRESHOLD + wave, checked
    item = stored(device)
    assert item["failed_attempts"] == 2 * wave  # every guess counted, none lost to a concurrent one
    assert "locked_until" in item
    assert handler(connect_event("meter-0001", PASSWORD), None)["isAuthenticated"] is False


def test_a_read_modify_write_counter_loses_guesses_and_the_bound_fails(device, monkeypatch, caplog):
    caplog.set_level(logging.INFO, logger="authorizer")
    monkeypatch.setattr(handler_module, "record_failure", naive_count)
    guess_in_waves(monkeypatch, 10, waves=2)
    assert stored(device)["failed_attempts"] == 2  # one of each wave's ten
    assert checked_guesses(caplog) == 20 > THRESHOLD + 10


# --- one DynamoDB sequence for every refusal -----------------------------------------


class Recorder:
    """Wraps the authorizer's DynamoDB client; records each call's operation and its request's shape."""

    def __init__(self, client):
        self.client, self.calls = client, []

    def __getattr__(self, operation):
        method = getattr(self.client, operation)

        def call(**kwargs):
            self.calls.append((operation, kwargs["TableName"], json.dumps(kwargs["Key"]), sorted(kwargs)))
            return method(**kwargs)

        return call


@pytest.fixture
def recorder(device, monkeypatch):
    device.put_item(Item={"username": "locked-0001", "password_hash": hash_password(PASSWORD, ScryptParams(10, 8, 1)),
                          "family": "meters", "locked_until": "2999-01-01T00:00:00+00:00"})
    handler(connect_event("warm-up", b"x"), None)  # the hash-scheme registry is read once a minute, for every path
    rec = Recorder(store.dynamodb_client())
    monkeypatch.setattr(store, "_client", rec)
    return rec


def test_every_refusal_path_makes_the_same_dynamodb_calls(recorder):
    paths = {
        "unknown user": connect_event("nobody-0001", PASSWORD, client_id="nobody-0001"),
        "wrong password": connect_event("meter-0001", b"wrong"),
        "locked": connect_event("locked-0001", PASSWORD),
        "right password, wrong client ID": connect_event("meter-0001", PASSWORD, client_id="meter-0002"),
    }
    sequences = {}
    for path, event in paths.items():
        recorder.calls.clear()
        assert handler(event, None)["isAuthenticated"] is False, path
        sequences[path] = [(op, table, fields) for op, table, _key, fields in recorder.calls]
    assert {json.dumps(s) for s in sequences.values()} == {json.dumps(sequences["unknown user"])}, sequences
    assert [op for op, *_ in sequences["unknown user"]] == ["get_item", "update_item"]


def test_an_allow_makes_other_calls_so_the_comparison_tells_paths_apart(recorder):
    assert handler(connect_event("meter-0001", PASSWORD), None)["isAuthenticated"] is True
    assert [op for op, *_ in recorder.calls] == ["get_item"]


def test_a_refusal_that_does_not_count_writes_nothing(recorder, device):
    device.put_item(Item={"username": "off-0001", "password_hash": hash_password(PASSWORD, ScryptParams(10, 8, 1)),
                          "family": "meters", "enabled": False})
    recorder.calls.clear()
    assert handler(connect_event("off-0001", PASSWORD), None)["isAuthenticated"] is False
    assert [op for op, *_ in recorder.calls] == ["get_item", "update_item"]
    assert "failed_attempts" not in stored(device, "off-0001")
    assert handler(connect_event("off-0001", b"wrong"), None)["isAuthenticated"] is False
    assert stored(device, "off-0001")["failed_attempts"] == 1  # a wrong password still counts


def test_a_wrong_client_id_with_the_right_password_counts(device):
    for _ in range(THRESHOLD):
        handler(connect_event("meter-0001", PASSWORD, client_id="thing-0042"), None)
    assert "locked_until" in stored(device)


# --- the lockout alarm's line, and the per-family switch ---------------------------------


def test_a_lock_writes_one_metric_line_naming_the_user(device, capsys, caplog):
    caplog.set_level(logging.INFO, logger="authorizer")
    for _ in range(THRESHOLD):
        handler(connect_event("meter-0001", b"guess"), None)
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    locks = [line for line in lines if "Lockouts" in line]
    assert [(line["lockedUser"], line["Reason"]) for line in locks] == [("meter-0001", "Lockout")]
    assert sum("lockout user=meter-0001 " in r.getMessage() for r in caplog.records) == 1


def test_guesses_at_unknown_names_never_write_a_lock(device, capsys):
    for _ in range(THRESHOLD + 1):
        handler(connect_event("nobody-0001", b"guess", client_id="nobody-0001"), None)
    assert "Lockouts" not in capsys.readouterr().out
    assert "Item" not in device.get_item(Key={"username": "nobody-0001"})


def test_an_exempt_family_is_counted_but_never_locked_and_a_family_not_listed_is(device, monkeypatch):
    monkeypatch.setenv("LOCKOUT_EXEMPT_FAMILIES", "valves,pumps")
    handler_module._settings.cache_clear()
    device.put_item(Item={"username": "valve-0001", "password_hash": hash_password(PASSWORD, SMALL_SCRYPT),
                          "family": "valves"})
    for _ in range(THRESHOLD + 2):
        handler(connect_event("valve-0001", b"guess"), None)
        handler(connect_event("meter-0001", b"guess"), None)
    item = stored(device, "valve-0001")
    assert item["failed_attempts"] == THRESHOLD + 2 and "locked_until" not in item
    assert handler(connect_event("valve-0001", PASSWORD), None)["isAuthenticated"] is True
    assert handler(connect_event("meter-0001", PASSWORD), None)["isAuthenticated"] is False  # meters: not exempt


# --- event fields in log lines ----------------------------------------------------------


def test_a_newline_in_the_connection_id_does_not_start_a_log_line(device, caplog):
    caplog.set_level(logging.INFO, logger="authorizer")
    forged = "abc\ndeny reason=Allow principal=admin connection=x"
    event = connect_event("meter-0001", PASSWORD)
    event["connectionMetadata"]["id"] = forged
    assert handler(event, None)["isAuthenticated"] is True
    messages = [r.getMessage() for r in caplog.records]
    assert messages and not any("\n" in m or "\r" in m for m in messages)
    assert any("connection=abc%0Adeny%20reason%3DAllow%20principal%3Dadmin%20connection%3Dx" in m for m in messages)
    # The same line written without escaping would have started a forged one:
    assert len(("allow principal=p connection=%s" % forged).splitlines()) == 2
