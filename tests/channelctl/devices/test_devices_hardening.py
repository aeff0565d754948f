"""`channelctl devices` refuses what would widen a device's reach or undo an operator's decision."""

from __future__ import annotations


import pytest

from tests.authorizer.support import DATA, TABLE, create_table, mocked_aws
from tests.support import PROJECT_DIR

REAL_LINES = (DATA / "mosquitto-2.0.11.passwd").read_text().splitlines()
ALICE, BOB, CAROL, DAVE, ERIN = REAL_LINES
IOT_STACK = ("--stack", "iot", "--cwd", str(PROJECT_DIR))  # Pulumi.iot.yaml: family1 -> plant/family1


@pytest.fixture
def table(monkeypatch):
    with mocked_aws(monkeypatch):
        monkeypatch.setenv("CREDENTIALS_TABLE", TABLE)
        monkeypatch.delenv("CHANNELCTL_STACK", raising=False)
        yield create_table()


def write(tmp_path, *lines: str, name="passwd") -> str:
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n")
    return str(path)


def items(table) -> dict[str, dict]:
    return {item["username"]: item for item in table.scan()["Items"] if item["username"] != "#hash-schemes"}


# --- topic scopes ------------------------------------------------------------------


def test_add_refuses_a_family_whose_prefix_holds_another_familys(table, run):
    code, _, err = run("add", "family1", "--family", "plant", "--password-stdin", *IOT_STACK, stdin=b"relay-cabinet-blue\n")
    assert code == 1 and "overlaps family 'family1' prefix 'plant/family1'" in err and "Pulumi.iot.yaml" in err
    assert items(table) == {}
    assert run("add", "family1", "--family", "family2", "--password-stdin", *IOT_STACK, stdin=b"relay-cabinet-blue\n")[0] == 0


def test_add_refuses_the_thing_prefix_as_a_family_even_without_a_stack(table, run):
    code, _, err = run("add", "pump-7", "--family", "things", "--password-stdin", stdin=b"relay-cabinet-blue\n")
    assert code == 1 and "certificate devices' topic prefix 'things'" in err and items(table) == {}


def test_the_stack_can_come_from_the_environment(table, run, monkeypatch):
    monkeypatch.setenv("CHANNELCTL_STACK", "iot")
    code, _, err = run("add", "x1", "--family", "plant", "--password-stdin", "--cwd", str(PROJECT_DIR), stdin=b"relay-cabinet-blue\n")
    assert code == 1 and "plant/family1" in err


def test_a_stack_that_is_not_the_iot_stack_is_refused(table, run):
    code, _, err = run("add", "x1", "--family", "meters", "--password-stdin", "--stack", "network",
                       "--cwd", str(PROJECT_DIR), stdin=b"relay-cabinet-blue\n")
    assert code == 2 and "network stack" in err and items(table) == {}


def test_update_refuses_moving_a_device_into_an_overlapping_family(table, run):
    assert run("add", "family1", "--family", "family2", "--password-stdin", *IOT_STACK, stdin=b"relay-cabinet-blue\n")[0] == 0
    code, _, err = run("update", "family1", "--family", "plant", *IOT_STACK)
    assert code == 1 and "plant/family1" in err
    assert items(table)["family1"]["family"] == "family2"


def test_import_refuses_an_overlapping_family_and_writes_nothing(table, run, tmp_path):
    code, _, err = run("import-mosquitto", write(tmp_path, ALICE, BOB), "--family", "plant", *IOT_STACK)
    assert code == 1 and "plant/family1" in err and items(table) == {}
    code, _, err = run("import-mosquitto", write(tmp_path, ALICE, BOB), "--family", "things")
    assert code == 1 and "certificate devices" in err and items(table) == {}


# --- bounded work per CONNECT -------------------------------------------------------


def pbkdf2_line(username: str, iterations: int) -> str:
    import base64
    import hashlib

    salt = b"0123456789ab"
    digest = hashlib.pbkdf2_hmac("sha512", b"pw", salt, 1, 64)  # the cost is in the count, not the digest
    return f"{username}:$7${iterations}${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"


def test_import_refuses_a_hash_over_the_ceiling_of_the_stacks_memory(table, run, tmp_path):
    path = write(tmp_path, ALICE, pbkdf2_line("slow", 900_000))
    code, _, err = run("import-mosquitto", path, "--family", "family1", *IOT_STACK)
    assert code == 1 and ":2: user 'slow':" in err and "ceiling" in err and "1769 MB" in err
    assert items(table) == {}


def copy_project(tmp_path, memory: int) -> str:
    import yaml

    directory = tmp_path / "project"
    directory.mkdir()
    (directory / "Pulumi.yaml").write_text((PROJECT_DIR / "Pulumi.yaml").read_text())
    stack = yaml.safe_load((PROJECT_DIR / "Pulumi.iot.yaml").read_text())
    stack["config"]["private-mqtt-channel:authorizer"]["memorySize"] = memory
    (directory / "Pulumi.iot.yaml").write_text(yaml.safe_dump(stack))
    return str(directory)


@pytest.mark.project_scrypt
def test_a_larger_memory_size_raises_the_ceiling(table, run, tmp_path):
    project = copy_project(tmp_path, 1769)
    path = write(tmp_path, pbkdf2_line("slow", 300_000))
    (tmp_path / "small").mkdir()
    code, _, err = run("import-mosquitto", path, "--family", "family1", "--stack", "iot",
                       "--cwd", copy_project(tmp_path / "small", 512))
    # At 512 MB the stack itself is refused: a first legacy login there costs more than the ceiling.
    assert code == 2 and "ceiling" in err and "512 MB" in err and "at least 743 MB" in err
    code, out, err = run("import-mosquitto", path, "--family", "family1", "--stack", "iot", "--cwd", project)
    assert code == 0, err
    assert items(table)["slow"]["password_hash"].startswith("$7$300000$")


@pytest.mark.project_scrypt
def test_the_tables_schemes_together_stay_within_the_ceiling(table, run, tmp_path):
    # Each fits alone at 1769 MB (1 s), but every CONNECT verifies one hash of each scheme in the table,
    # and a first login with the $7$ hash re-hashes it with the project's scrypt.
    project = copy_project(tmp_path, 1769)
    path = write(tmp_path, pbkdf2_line("slow", 600_000))
    code, _, err = run("import-mosquitto", path, "--family", "family1", "--stack", "iot", "--cwd", project)
    assert code == 1 and "per CONNECT" in err and "mosquitto-pbkdf2:600000" in err and "re-hash" in err
    assert items(table) == {}


@pytest.mark.project_scrypt
def test_set_password_refuses_when_the_stack_cannot_afford_the_projects_scrypt(table, run, tmp_path):
    assert run("add", "meter-1", "--family", "meters", "--password-stdin", stdin=b"relay-cabinet-blue\n")[0] == 0
    before = items(table)["meter-1"]["password_hash"]
    # A stack whose memory cannot afford the project's scrypt is refused by the configuration itself.
    code, _, err = run("set-password", "meter-1", "--password-stdin", "--stack", "iot",
                       "--cwd", copy_project(tmp_path, 256), stdin=b"new-password-5678\n")
    assert code == 2 and "authorizer.memorySize" in err and "at least" in err
    assert items(table)["meter-1"]["password_hash"] == before


# --- credential tools never undo an operator's decision ------------------------------


def hash_of(line: str) -> str:
    return line.split(":", 1)[1]


def test_rerunning_the_import_does_not_undo_a_set_password(table, run, tmp_path):
    path = write(tmp_path, ALICE, BOB)
    assert run("import-mosquitto", path, "--family", "meters")[0] == 0
    assert run("set-password", "bob", "--password-stdin", stdin=b"rotated-password-42\n")[0] == 0
    rotated = items(table)["bob"]["password_hash"]
    assert rotated.startswith("$scrypt$")
    code, out, err = run("import-mosquitto", path, "--family", "meters")
    assert code == 0, err
    assert "bob: unchanged (password set after import kept)" in out
    assert items(table)["bob"]["password_hash"] == rotated
    # Only an explicit --overwrite puts the file's hash back.
    code, out, _ = run("import-mosquitto", path, "--family", "meters", "--overwrite")
    assert code == 0 and "bob: updated (password_hash)" in out
    assert items(table)["bob"]["password_hash"] == hash_of(BOB)


def test_a_changed_file_does_not_replace_a_password_set_after_import(table, run, tmp_path):
    assert run("import-mosquitto", write(tmp_path, BOB), "--family", "meters")[0] == 0
    assert run("set-password", "bob", "--password-stdin", stdin=b"rotated-password-42\n")[0] == 0
    rotated = items(table)["bob"]["password_hash"]
    changed = write(tmp_path, "bob:" + hash_of(CAROL), name="changed")
    code, out, err = run("import-mosquitto", changed, "--family", "meters")
    assert code == 1 and "user 'bob': refused — its password was set after it was imported" in err
    assert "--overwrite" in err and "refused 1" in err
    assert items(table)["bob"]["password_hash"] == rotated


def test_the_broker_changing_a_password_still_updates_an_untouched_record(table, run, tmp_path):
    assert run("import-mosquitto", write(tmp_path, BOB), "--family", "meters")[0] == 0
    code, out, _ = run("import-mosquitto", write(tmp_path, "bob:" + hash_of(CAROL), name="changed"), "--family", "meters")
    assert code == 0 and "bob: updated (password_hash)" in out
    assert items(table)["bob"]["password_hash"] == hash_of(CAROL)


def test_a_device_added_by_an_operator_is_not_overwritten_by_an_import(table, run, tmp_path):
    assert run("add", "bob", "--family", "meters", "--password-stdin", stdin=b"chosen-password-77\n")[0] == 0
    chosen = items(table)["bob"]["password_hash"]
    code, _, err = run("import-mosquitto", write(tmp_path, BOB), "--family", "meters")
    assert code == 1 and "refused" in err and items(table)["bob"]["password_hash"] == chosen


def test_a_user_of_another_family_is_moved_only_with_move_family(table, run, tmp_path):
    path = write(tmp_path, ALICE)
    assert run("import-mosquitto", path, "--family", "meters")[0] == 0
    code, _, err = run("import-mosquitto", path, "--family", "valves", "--dry-run")
    assert code == 1 and "would be refused — exists in family 'meters'" in err
    code, _, err = run("import-mosquitto", path, "--family", "valves")
    assert code == 1 and items(table)["alice"]["family"] == "meters"
    code, out, _ = run("import-mosquitto", path, "--family", "valves", "--move-family")
    assert code == 0 and "alice: updated (family)" in out and items(table)["alice"]["family"] == "valves"


def test_client_ids_are_unique_across_records(table, run, tmp_path):
    assert run("add", "meter-1", "--family", "meters", "--client-id", "meter-2", "--password-stdin", stdin=b"relay-cabinet-blue\n")[0] == 0
    # meter-2 would connect with its own name, which meter-1 already uses.
    code, _, err = run("add", "meter-2", "--family", "meters", "--password-stdin", stdin=b"relay-cabinet-blue\n")
    assert code == 1 and "client ID 'meter-2' belongs to device 'meter-1'" in err
    assert run("add", "meter-3", "--family", "meters", "--password-stdin", stdin=b"relay-cabinet-blue\n")[0] == 0
    code, _, err = run("update", "meter-3", "--client-id", "meter-2")
    assert code == 1 and "belongs to device 'meter-1'" in err and "client_id" not in items(table)["meter-3"]
    code, _, err = run("import-mosquitto", write(tmp_path, "meter-2:" + hash_of(BOB)), "--family", "meters")
    assert code == 1 and "client ID 'meter-2' belongs to device 'meter-1'" in err and "meter-2" not in items(table)
    # Its own client ID again is no conflict.
    assert run("update", "meter-1", "--client-id", "meter-2")[0] == 0
