"""`channelctl devices import-mosquitto`: validate everything first, all or nothing, idempotent."""

from __future__ import annotations

import pytest

from channelctl.cli import main
from channelctl.devices.credentials import parse_password_file
from tests.authorizer.support import DATA, TABLE, create_table, mocked_aws

# Written by mosquitto_passwd 2.0.11 (see tests/authorizer/test_hashes.py for the passwords).
REAL_LINES = (DATA / "mosquitto-2.0.11.passwd").read_text().splitlines()
ALICE, BOB, CAROL, DAVE, ERIN = REAL_LINES
ARGON2 = "frank:$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaA"


@pytest.fixture
def table(monkeypatch):
    with mocked_aws(monkeypatch):
        monkeypatch.setenv("CREDENTIALS_TABLE", TABLE)
        yield create_table()


@pytest.fixture
def run(capsys):
    def run(*argv: str) -> tuple[int, str, str]:
        code = main(["devices", *argv])
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return run


def write(tmp_path, *lines: str, name="passwd", ending="\n") -> str:
    path = tmp_path / name
    path.write_bytes(ending.join(lines).encode("utf-8") + ending.encode())
    return str(path)


def items(table) -> dict[str, dict]:
    return {item["username"]: item for item in table.scan()["Items"] if item["username"] != "#hash-schemes"}


def test_a_clean_file_is_imported_as_it_is(table, run, tmp_path):
    path = write(tmp_path, "# exported from broker-1", "", *REAL_LINES)
    code, out, err = run("import-mosquitto", path, "--family", "meters")
    assert code == 0, err
    assert f"{path}:3: alice: created" in out and f"{path}:7: erin: created" in out
    stored = items(table)
    assert set(stored) == {"alice", "bob", "carol", "dave", "erin"}
    for line in REAL_LINES:
        user, password_hash = line.split(":", 1)
        assert stored[user]["password_hash"] == password_hash
        assert stored[user]["family"] == "meters" and stored[user]["enabled"] is True


def test_running_it_twice_changes_nothing(table, run, tmp_path):
    path = write(tmp_path, *REAL_LINES)
    run("import-mosquitto", path, "--family", "meters")
    before = items(table)
    code, out, err = run("import-mosquitto", path, "--family", "meters")
    assert code == 0
    assert out.count(": unchanged") == 5 and "created" not in out and "updated" not in out
    assert "created 0, unchanged 5, updated 0, skipped 0" in err
    assert items(table) == before  # not even updated_at moved


def test_a_changed_hash_or_family_is_updated_and_other_attributes_kept(table, run, tmp_path):
    run("import-mosquitto", write(tmp_path, *REAL_LINES), "--family", "meters")
    run("disable", "bob")
    new_bob = "bob:" + CAROL.split(":", 1)[1]
    code, out, _ = run("import-mosquitto", write(tmp_path, ALICE, new_bob, name="second"), "--family", "meters")
    assert code == 0 and "bob: updated (password_hash)" in out and "alice: unchanged" in out
    bob = items(table)["bob"]
    assert bob["password_hash"] == CAROL.split(":", 1)[1] and bob["enabled"] is False
    code, out, err = run("import-mosquitto", write(tmp_path, ALICE, name="third"), "--family", "valves")
    assert code == 1 and "alice': refused — exists in family 'meters'" in err and "--move-family" in err
    code, out, _ = run("import-mosquitto", write(tmp_path, ALICE, name="third"), "--family", "valves", "--move-family")
    assert "alice: updated (family)" in out and items(table)["alice"]["family"] == "valves"


def test_one_refused_line_means_nothing_is_written(table, run, tmp_path):
    path = write(tmp_path, ALICE, BOB, ARGON2, CAROL)
    code, out, err = run("import-mosquitto", path, "--family", "meters")
    assert code == 1 and out == ""
    assert f"{path}:3: user 'frank': password hash uses $argon2id$" in err
    assert "nothing written: 1 line(s) refused" in err and "--skip-invalid" in err
    assert items(table) == {}


def test_skip_invalid_imports_the_rest_and_still_reports_the_refusals(table, run, tmp_path):
    path = write(tmp_path, ALICE, "no-colon-here", BOB, ARGON2)
    code, out, err = run("import-mosquitto", path, "--family", "meters", "--skip-invalid")
    assert code == 1
    assert f"{path}:2: no ':' between user name and password hash" in err
    assert f"{path}:4: user 'frank'" in err
    assert "created 2, unchanged 0, updated 0, skipped 2" in err
    assert set(items(table)) == {"alice", "bob"}


def test_every_kind_of_bad_line_is_reported_with_its_line_number(tmp_path):
    data = "\n".join([
        "# comment",                                   # 1: skipped like mosquitto does
        ALICE,                                         # 2
        "plain:hunter2",                               # 3: plaintext
        "",                                            # 4: blank, skipped
        "bad/user:" + BOB.split(":", 1)[1],            # 5: unsafe user name
        ":" + BOB.split(":", 1)[1],                    # 6: empty user name
        "carl:$1$abc$def",                             # 7: unsupported scheme
        "dup:" + BOB.split(":", 1)[1],                 # 8: duplicate
        "dup:" + CAROL.split(":", 1)[1],               # 9: duplicate
        "extra:" + BOB.split(":", 1)[1] + ":x",        # 10: two colons
        "no separator",                                # 11
        "  erin  :  " + ERIN.split(":", 1)[1] + "  ",  # 12: blanks trimmed as mosquitto does
    ]).encode() + b"\nbin:\xff\xfe\n"                  # 13: not UTF-8
    parsed = parse_password_file(data)
    assert [e.username for e in parsed.entries] == ["alice", "erin"]
    reasons = {r.line: r.reason for r in parsed.refusals}
    assert sorted(reasons) == [3, 5, 6, 7, 8, 9, 10, 11, 13]
    assert "plaintext" in reasons[3] and "mosquitto_passwd -U" in reasons[3]
    assert "not allowed" in reasons[5]
    assert "empty user name" in reasons[6]
    assert "$1$ (md5-crypt) is not supported" in reasons[7]
    assert "also on line 9" in reasons[8] and "also on line 8" in reasons[9]
    assert "more than one ':'" in reasons[10]
    assert "no ':'" in reasons[11]
    assert "UTF-8" in reasons[13]
    assert all("hunter2" not in r.describe("f") for r in parsed.refusals)


def test_crlf_files_import(table, run, tmp_path):
    code, out, _ = run("import-mosquitto", write(tmp_path, ALICE, BOB, ending="\r\n"), "--family", "meters")
    assert code == 0 and items(table)["bob"]["password_hash"] == BOB.split(":", 1)[1]


def test_no_plaintext_is_ever_stored(table, run, tmp_path):
    path = write(tmp_path, ALICE, "plain:hunter2", BOB)
    run("import-mosquitto", path, "--family", "meters", "--skip-invalid")
    stored = items(table)
    assert "plain" not in stored
    assert all(item["password_hash"].startswith(("$6$", "$7$")) for item in stored.values())


def test_dry_run_reports_and_writes_nothing(table, run, tmp_path):
    code, out, err = run("import-mosquitto", write(tmp_path, ALICE, BOB), "--family", "meters", "--dry-run")
    assert code == 0 and "alice: would be created" in out and items(table) == {}


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (("import-mosquitto", "/nonexistent/passwd", "--family", "meters"), "cannot read password file"),
        (("import-mosquitto", "FILE", "--family", "a/b"), "--family 'a/b'"),
    ],
)
def test_usage_errors_exit_2(table, run, tmp_path, argv, message):
    argv = tuple(write(tmp_path, ALICE) if a == "FILE" else a for a in argv)
    code, _, err = run(*argv)
    assert code == 2 and message in err and items(table) == {}


def test_a_record_changed_during_import_is_not_overwritten(table, run, tmp_path, monkeypatch):
    run("import-mosquitto", write(tmp_path, ALICE), "--family", "meters")
    from channelctl.devices.credentials_store import CredentialTable

    stale = dict(items(table)["alice"])
    table.update_item(Key={"username": "alice"}, UpdateExpression="SET password_hash = :h",
                      ExpressionAttributeValues={":h": BOB.split(":", 1)[1]})
    monkeypatch.setattr(CredentialTable, "get", lambda self, username: stale)
    new_alice = "alice:" + CAROL.split(":", 1)[1]
    code, out, err = run("import-mosquitto", write(tmp_path, new_alice, name="again"), "--family", "meters")
    assert code == 1 and "changed while it was being updated" in err and "conflicts 1" in err
    assert items(table)["alice"]["password_hash"] == BOB.split(":", 1)[1]
