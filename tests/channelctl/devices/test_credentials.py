"""Imports never travel back in time: the record remembers every hash it was imported with.

Pure tests of ``channelctl.devices.credentials.plan_entry`` over the items
DynamoDB returns, and one run of `channelctl devices import-mosquitto` against
a moto table with the authorizer's upgrade on login in between.
"""

from __future__ import annotations

import pytest

from authorizer import handler as handler_module, hashes
from authorizer.handler import handler
from authorizer.hashes import ScryptParams, hash_password
from channelctl.devices.credentials import (
    IMPORTED_HASH_ATTRIBUTE,
    IMPORTED_HASHES_ATTRIBUTE,
    FileEntry,
    Outcome,
    hash_fingerprint,
    plan_entry,
)
from tests.authorizer.support import ACCOUNT, ENDPOINTS, connect_event
from tests.authorizer.test_hashes import MOSQUITTO_PASSWORDS
from tests.channelctl.devices.test_devices_import import ALICE, BOB, CAROL, items, run, table, write  # noqa: F401

OLD, NEW, NEWER = (line.split(":", 1)[1] for line in (ALICE, BOB, CAROL))
UPGRADED = hash_password(b"pw", ScryptParams(10, 8, 1), cut_at_nul=True)  # what the upgrade on login writes
SET_PASSWORD = hash_password(b"pw", ScryptParams(10, 8, 1))  # what set-password writes


def entry(password_hash: str) -> FileEntry:
    return FileEntry(line=1, username="bob", password_hash=password_hash)


def record(stored: str, *imported: str) -> dict:
    """A record whose imports were imported[0], ..., imported[-1] (the last one)."""
    item = {"username": "bob", "family": "meters", "password_hash": stored}
    if imported:
        item[IMPORTED_HASH_ATTRIBUTE] = hash_fingerprint(imported[-1])
        item[IMPORTED_HASHES_ATTRIBUTE] = {hash_fingerprint(h) for h in imported}
    return item


@pytest.mark.parametrize("stored", [NEW, UPGRADED, SET_PASSWORD], ids=["new", "upgraded", "set-password"])
@pytest.mark.parametrize("overwrite", [False, True])
def test_a_stale_file_restores_nothing(stored, overwrite):
    # Imported OLD, then NEW; the file still carries OLD.
    step = plan_entry(entry(OLD), "meters", record(stored, OLD, NEW), overwrite=overwrite)
    assert step.outcome is Outcome.UNCHANGED and "stale" in step.reason
    assert set(step.history) == {hash_fingerprint(OLD), hash_fingerprint(NEW)}


def test_the_current_file_is_not_stale():
    step = plan_entry(entry(NEW), "meters", record(UPGRADED, OLD, NEW))
    assert step.outcome is Outcome.UNCHANGED and "stale" not in step.reason
    assert step.reason == "hash upgraded on login kept"


def test_a_rotation_after_an_upgrade_on_login_is_imported():
    # The comparison is with the last imported hash (NEW), not with the stored upgrade.
    step = plan_entry(entry(NEWER), "meters", record(UPGRADED, OLD, NEW))
    assert step.outcome is Outcome.UPDATED and step.changed == ("password_hash",)
    assert set(step.history) == {hash_fingerprint(h) for h in (OLD, NEW, NEWER)}


def test_a_rotation_after_a_set_password_is_refused_without_overwrite():
    refused = plan_entry(entry(NEWER), "meters", record(SET_PASSWORD, OLD, NEW))
    assert refused.outcome is Outcome.REFUSED and "--overwrite" in refused.reason
    forced = plan_entry(entry(NEWER), "meters", record(SET_PASSWORD, OLD, NEW), overwrite=True)
    assert forced.outcome is Outcome.UPDATED and forced.changed == ("password_hash",)


def test_a_record_from_before_the_history_counts_its_last_import():
    item = record(NEW, NEW)
    del item[IMPORTED_HASHES_ATTRIBUTE]
    step = plan_entry(entry(NEW), "meters", item)
    assert step.outcome is Outcome.UNCHANGED and step.history == (hash_fingerprint(NEW),)
    rotated = plan_entry(entry(NEWER), "meters", item)
    assert rotated.outcome is Outcome.UPDATED and set(rotated.history) == {hash_fingerprint(NEW), hash_fingerprint(NEWER)}


def test_a_stale_import_restores_nothing_after_an_upgrade_on_login(table, run, tmp_path, monkeypatch):  # noqa: F811
    """The whole path: import, rotate, log in (upgrade), re-import the old file, rotate again."""
    monkeypatch.setattr(hashes, "DEFAULT_SCRYPT", ScryptParams(10, 8, 1))
    for key, value in (("DATA_ENDPOINT_IDS", ",".join(ENDPOINTS)), ("IOT_ACCOUNT_ID", ACCOUNT),
                       ("UNKNOWN_USER_HASH", "mosquitto-sha512")):
        monkeypatch.setenv(key, value)
    handler_module._settings.cache_clear()
    handler_module._work_cache.clear()
    old_file = write(tmp_path, "bob:" + OLD, name="old")
    assert run("import-mosquitto", old_file, "--family", "meters")[0] == 0
    assert run("import-mosquitto", write(tmp_path, BOB, name="new"), "--family", "meters")[0] == 0
    assert handler(connect_event("bob", MOSQUITTO_PASSWORDS["bob"].encode()), None)["isAuthenticated"] is True
    upgraded = items(table)["bob"]["password_hash"]
    assert upgraded.startswith("$scrypt$ln=10,r=8,p=1,cstr=1$")

    code, out, err = run("import-mosquitto", old_file, "--family", "meters")
    assert code == 0, err
    assert "stale" in out
    assert items(table)["bob"]["password_hash"] == upgraded
    assert handler(connect_event("bob", MOSQUITTO_PASSWORDS["alice"].encode()), None)["isAuthenticated"] is False

    code, out, err = run("import-mosquitto", write(tmp_path, "bob:" + NEWER, name="newer"), "--family", "meters")
    assert code == 0 and "bob: updated (password_hash)" in out, err
    assert items(table)["bob"]["password_hash"] == NEWER
    assert len(items(table)["bob"][IMPORTED_HASHES_ATTRIBUTE]) == 3
    handler_module._settings.cache_clear()
    handler_module._work_cache.clear()


@pytest.mark.project_scrypt
def test_a_scheme_missing_from_the_registry_is_added_when_a_record_is_written(table, run, tmp_path):  # noqa: F811
    # A registry written before these schemes were in the table (or around channelctl).
    table.put_item(Item={"username": "#hash-schemes", "schemes": {"mosquitto-sha512"}})
    assert "mosquitto-pbkdf2:101" not in table.get_item(Key={"username": "#hash-schemes"})["Item"]["schemes"]
    code, _, err = run("import-mosquitto", write(tmp_path, BOB), "--family", "meters")
    assert code == 0, err
    schemes = table.get_item(Key={"username": "#hash-schemes"})["Item"]["schemes"]
    # The imported $7$ (mosquitto_passwd 2.0's 101 iterations) and the scrypt the upgrade on login writes.
    assert schemes == {"mosquitto-sha512", "mosquitto-pbkdf2:101", "scrypt:ln=15,r=8,p=1"}


@pytest.mark.project_scrypt
def test_hash_schemes_shows_the_rehash_a_first_legacy_login_adds(table, run, tmp_path):  # noqa: F811
    assert run("import-mosquitto", write(tmp_path, BOB), "--family", "meters")[0] == 0
    code, out, _ = run("hash-schemes")
    assert code == 0
    lines = dict(line.split("\t") for line in out.splitlines() if "\t" in line)
    assert set(lines) == {"mosquitto-pbkdf2:101", "scrypt:ln=15,r=8,p=1", "upgrade on login: re-hash"}
    assert lines["upgrade on login: re-hash"] == lines["scrypt:ln=15,r=8,p=1"]
    total = sum(float(value.split()[0]) for value in lines.values())
    assert f"per CONNECT: {total:.1f} ms of a core at most" in out


def test_hash_schemes_of_a_scrypt_table_has_no_rehash(table, run):  # noqa: F811
    table.put_item(Item={"username": "#hash-schemes", "schemes": {"scrypt:ln=15,r=8,p=1"}})
    code, out, _ = run("hash-schemes")
    assert code == 0 and "re-hash" not in out
