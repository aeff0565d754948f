"""`channelctl devices` against a moto credentials table; the authorizer reads what it writes."""

from __future__ import annotations

import json

import pytest

from authorizer import handler as handler_module
from authorizer.handler import handler
from channelctl.devices import command as devices
from tests.authorizer.support import ACCOUNT, ENDPOINTS, TABLE, connect_event, create_table, mocked_aws


@pytest.fixture
def table(monkeypatch):
    with mocked_aws(monkeypatch):
        monkeypatch.setenv("CREDENTIALS_TABLE", TABLE)
        monkeypatch.setenv("DATA_ENDPOINT_IDS", ",".join(ENDPOINTS))
        monkeypatch.setenv("IOT_ACCOUNT_ID", ACCOUNT)
        monkeypatch.setenv("UNKNOWN_USER_HASH", "mosquitto-sha512")
        handler_module._settings.cache_clear()
        handler_module._work_cache.clear()
        yield create_table()
        handler_module._settings.cache_clear()
        handler_module._work_cache.clear()


def connects(username: str, password: bytes, client_id: str = "<username>") -> bool:
    return handler(connect_event(username, password, client_id), None)["isAuthenticated"]


def items(table) -> list[dict]:
    return [item for item in table.scan()["Items"] if item["username"] != "#hash-schemes"]


@pytest.mark.project_scrypt
def test_add_stores_an_scrypt_hash_the_authorizer_accepts(table, run):
    code, out, _ = run("add", "meter-0001", "--family", "meters", "--password-stdin", stdin=b"n3w pass:word-long\n")
    assert code == 0 and "added" in out
    [item] = items(table)
    assert item["password_hash"].startswith("$scrypt$ln=15,r=8,p=1$")
    assert "n3w pass:word-long" not in json.dumps(item, default=str)
    assert item["enabled"] is True and item["prohibited"] is False and item["family"] == "meters"
    assert connects("meter-0001", b"n3w pass:word-long")
    assert not connects("meter-0001", b"n3w pass:word-long\n")


def test_add_reads_the_password_twice_from_the_prompt(table, run, monkeypatch):
    answers = iter(["prompted-password-9", "prompted-password-9"])
    monkeypatch.setattr(devices.getpass, "getpass", lambda prompt: next(answers))
    assert run("add", "meter-0001", "--family", "meters")[0] == 0
    assert connects("meter-0001", b"prompted-password-9")


def test_add_refuses_two_different_prompted_passwords_and_writes_nothing(table, run, monkeypatch):
    answers = iter(["one", "two"])
    monkeypatch.setattr(devices.getpass, "getpass", lambda prompt: next(answers))
    code, _, err = run("add", "meter-0001", "--family", "meters")
    assert code == 2 and "differ" in err and items(table) == []


def test_there_is_no_way_to_pass_a_password_in_argv(table, run):
    with pytest.raises(SystemExit) as exited:
        run("add", "meter-0001", "--family", "meters", "--password", "visible-in-ps")
    assert exited.value.code == 2 and items(table) == []


@pytest.mark.parametrize(
    ("stdin", "message"),
    [(b"", "empty"), (b"\n", "empty"), (b"a\nb\n", "more than one line"), (b"a\x00b", "NUL")],
)
def test_bad_stdin_passwords_are_refused(table, run, stdin, message):
    code, _, err = run("add", "meter-0001", "--family", "meters", "--password-stdin", stdin=stdin)
    assert code == 2 and message in err and items(table) == []


def test_add_validates_every_option_before_asking_for_the_password(table, run, monkeypatch):
    def no_prompt(prompt):
        raise AssertionError("prompted although an option was bad")

    monkeypatch.setattr(devices.getpass, "getpass", no_prompt)
    for argv, message in [
        (("meter/#", "--family", "meters"), "user name 'meter/#' is not allowed"),
        (("m", "--family", "a b"), "--family 'a b'"),
        (("m", "--family", "f", "--publish", "fleet/*"), "--publish entry 'fleet/\\*'"),
        (("m", "--family", "f", "--subscribe", "#"), "--subscribe entry '#'"),
        (("m", "--family", "f", "--client-id", "c*"), "--client-id 'c\\*'"),
        (("m", "--family", "f", "--hours", "9-5"), "--hours '9-5'"),
        (("m", "--family", "f", "--days", "weekdays"), "--days entry 'weekdays'"),
        (("m", "--family", "f", "--time-zone", "Nowhere/City"), "--time-zone 'Nowhere/City'"),
        (("m", "--family", "f", "--valid-until", "2026-01-01"), "--valid-until '2026-01-01'"),
    ]:
        code, _, err = run("add", *argv)
        assert code == 2, argv
        assert __import__("re").search(message, err), (message, err)
    assert items(table) == []


def test_add_refuses_an_existing_device(table, run):
    run("add", "meter-0001", "--family", "meters", "--password-stdin", stdin=b"first-password-abc")
    code, _, err = run("add", "meter-0001", "--family", "meters", "--password-stdin", stdin=b"second-password-xyz")
    assert code == 1 and "already exists" in err
    assert connects("meter-0001", b"first-password-abc") and not connects("meter-0001", b"second-password-xyz")


def test_table_comes_from_option_or_environment_or_a_clear_error(table, run, monkeypatch):
    monkeypatch.delenv("CREDENTIALS_TABLE")
    code, _, err = run("list")
    assert code == 2 and "--table" in err and "CREDENTIALS_TABLE" in err
    assert run("list", "--table", TABLE)[0] == 0
    code, _, err = run("list", "--table", "other-table")
    assert code == 2 and "'other-table' does not exist" in err


def test_set_password_replaces_the_hash(table, run):
    run("add", "meter-0001", "--family", "meters", "--password-stdin", stdin=b"old-password-1234")
    assert run("set-password", "meter-0001", "--password-stdin", stdin=b"new-password-5678")[0] == 0
    assert connects("meter-0001", b"new-password-5678") and not connects("meter-0001", b"old-password-1234")
    code, _, err = run("set-password", "meter-0002", "--password-stdin", stdin=b"x-password-for-none")
    assert code == 1 and "no device 'meter-0002'" in err and len(items(table)) == 1


def test_disable_enable_deny_allow_decide_whether_the_device_connects(table, run):
    run("add", "meter-0001", "--family", "meters", "--password-stdin", stdin=b"relay-cabinet-blue")
    assert connects("meter-0001", b"relay-cabinet-blue")
    assert run("disable", "meter-0001")[0] == 0 and not connects("meter-0001", b"relay-cabinet-blue")
    assert run("enable", "meter-0001")[0] == 0 and connects("meter-0001", b"relay-cabinet-blue")
    assert run("deny", "meter-0001", "--reason", "reported stolen")[0] == 0 and not connects("meter-0001", b"relay-cabinet-blue")
    assert run("enable", "meter-0001")[0] == 0 and not connects("meter-0001", b"relay-cabinet-blue")  # deny wins
    assert "reported stolen" in run("show", "meter-0001")[1]
    assert run("allow", "meter-0001")[0] == 0 and connects("meter-0001", b"relay-cabinet-blue")
    assert "prohibited_reason" not in items(table)[0]
    for action in ("disable", "enable", "deny", "allow"):
        code, _, err = run(action, "meter-0404")
        assert code == 1 and "no device 'meter-0404'" in err
    assert len(items(table)) == 1


def test_add_with_client_id_topics_and_window_reaches_the_policy(table, run):
    code, _, err = run(
        "add", "meter-0001", "--family", "meters", "--client-id", "thing-1", "--publish", "fleet/status",
        "--subscribe", "fleet/+/cmd", "--cross-scope-reason", "fleet-wide status and commands",
        "--days", "mon,tue,wed,thu,fri,sat,sun", "--hours", "00:00-24:00",
        "--time-zone", "Europe/Berlin", "--valid-until", "2999-01-01T00:00:00+00:00", "--password-stdin",
        stdin=b"relay-cabinet-blue",
    )
    assert code == 0, err
    assert connects("meter-0001", b"relay-cabinet-blue", client_id="thing-1")
    assert not connects("meter-0001", b"relay-cabinet-blue")  # client ID must be the record's
    response = handler(connect_event("meter-0001", b"relay-cabinet-blue", "thing-1"), None)
    assert "topic/fleet/status" in "".join(response["policyDocuments"])


def test_update_changes_and_clears_attributes(table, run):
    run("add", "meter-0001", "--family", "meters", "--client-id", "thing-1", "--password-stdin", stdin=b"relay-cabinet-blue")
    assert not connects("meter-0001", b"relay-cabinet-blue")
    code, out, _ = run("update", "meter-0001", "--clear", "client_id", "--days", "mon", "--time-zone", "UTC")
    assert code == 0 and "-client_id" in out
    item = items(table)[0]
    assert "client_id" not in item and item["access_window"] == {"days": ["mon"], "time_zone": "UTC"}
    code, _, _ = run("update", "meter-0001", "--hours", "08:00-09:00")
    assert items(table)[0]["access_window"] == {"days": ["mon"], "hours": "08:00-09:00", "time_zone": "UTC"}
    code, _, err = run("update", "meter-0001", "--client-id", "x", "--clear", "client_id")
    assert code == 2 and "conflicts" in err
    code, _, err = run("update", "meter-0001")
    assert code == 2 and "nothing to change" in err
    code, _, err = run("update", "meter-0404", "--family", "valves")
    assert code == 1 and "no device" in err


@pytest.mark.project_scrypt
def test_show_never_prints_the_hash(table, run):
    run("add", "meter-0001", "--family", "meters", "--password-stdin", stdin=b"relay-cabinet-blue")
    stored = items(table)[0]["password_hash"]
    code, out, _ = run("show", "meter-0001")
    assert code == 0 and "scrypt (ln=15, r=8, p=1)" in out and "principal_id:" in out
    code, out_json, _ = run("show", "meter-0001", "--json")
    view = json.loads(out_json)
    assert "password_hash" not in view and view["password"].startswith("scrypt")
    for text in (out, out_json):
        assert stored not in text and stored.split("$")[3] not in text and stored.split("$")[4] not in text
    code, _, err = run("show", "meter-0404")
    assert code == 1 and "no device" in err


def test_list_shows_names_families_and_status_but_no_hashes(table, run):
    for name, family in (("b-dev", "valves"), ("a-dev", "meters"), ("c-dev", "meters")):
        run("add", name, "--family", family, "--password-stdin", stdin=b"relay-cabinet-blue")
    run("disable", "c-dev")
    run("deny", "a-dev")
    code, out, err = run("list")
    assert code == 0 and "3 device(s)" in err
    assert out.splitlines() == ["a-dev\tmeters\tenabled, denied", "b-dev\tvalves\tenabled",
                                "c-dev\tmeters\tdisabled"]
    assert "$scrypt$" not in out
    assert run("list", "--family", "valves")[1].splitlines() == ["b-dev\tvalves\tenabled"]
