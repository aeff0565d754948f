"""`channelctl devices` refuses a family the stack does not serve (no NLB port carries its devices),
when the stack's families are known; without them it behaves as before."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tests.authorizer.support import DATA
# The hardening tests' moto table and `channelctl devices` runner, shared rather than copied.
from tests.channelctl.devices.test_devices_hardening import table  # noqa: F401 -- fixtures
from tests.support import PROJECT_DIR

IOT_STACK = ("--stack", "iot", "--cwd", str(PROJECT_DIR))  # Pulumi.iot.yaml: tls-proxy, families family1, family2
ALICE = (DATA / "mosquitto-2.0.11.passwd").read_text().splitlines()[0]
UNKNOWN = ("--family 'unknownfam' is not a family of stack iot (Pulumi.iot.yaml): its deviceAccess.families are "
           "family1, family2 — use one of them, or add the family (name and port) to deviceAccess.families and "
           "update the stack first")


def users(table) -> set[str]:
    return {item["username"] for item in table.scan()["Items"] if item["username"] != "#hash-schemes"}


def project_with_device_access(tmp_path: Path, access: dict | None) -> str:
    """A copy of the example project whose iot stack has this deviceAccess (None: none)."""
    (tmp_path / "Pulumi.yaml").write_text((PROJECT_DIR / "Pulumi.yaml").read_text())
    stack = yaml.safe_load((PROJECT_DIR / "Pulumi.iot.yaml").read_text())
    key = "private-mqtt-channel:deviceAccess"
    if access is None:
        stack["config"].pop(key)
    else:
        stack["config"][key] = access
    (tmp_path / "Pulumi.iot.yaml").write_text(yaml.safe_dump(stack))
    return str(tmp_path)


def test_add_refuses_a_family_the_stack_does_not_serve_in_one_line(table, run):
    code, out, err = run("add", "meter-1", "--family", "unknownfam", "--password-stdin", *IOT_STACK, stdin=b"relay-cabinet-blue\n")
    assert (code, out) == (2, "")
    assert err == f"channelctl devices add: {UNKNOWN}\n"
    assert users(table) == set()


def test_add_accepts_a_family_the_stack_serves(table, run):
    code, out, err = run("add", "meter-1", "--family", "family2", "--password-stdin", *IOT_STACK, stdin=b"relay-cabinet-blue\n")
    assert code == 0, err
    assert users(table) == {"meter-1"}


def test_update_and_import_refuse_it_too(table, run, tmp_path):
    assert run("add", "meter-1", "--family", "family1", "--password-stdin", *IOT_STACK, stdin=b"relay-cabinet-blue\n")[0] == 0
    code, _, err = run("update", "meter-1", "--family", "unknownfam", *IOT_STACK)
    assert (code, err) == (2, f"channelctl devices update: {UNKNOWN}\n")
    passwd = tmp_path / "passwd"
    passwd.write_text(ALICE + "\n")
    code, _, err = run("import-mosquitto", str(passwd), "--family", "unknownfam", *IOT_STACK)
    assert (code, err) == (2, f"channelctl devices import-mosquitto: {UNKNOWN}\n")
    assert users(table) == {"meter-1"}
    assert run("import-mosquitto", str(passwd), "--family", "family2", *IOT_STACK)[0] == 0


def test_without_a_stack_any_family_is_taken_as_before(table, run):
    code, _, err = run("add", "meter-1", "--family", "unknownfam", "--password-stdin", stdin=b"relay-cabinet-blue\n")
    assert code == 0, err
    assert users(table) == {"meter-1"}


@pytest.mark.parametrize("access", [None, {"mode": "direct"}], ids=["no-device-access", "direct"])
def test_a_stack_that_names_no_families_takes_any_family_as_before(table, run, tmp_path, access):
    # Without deviceAccess, or in direct mode (every family on 443), the stack does not list its families.
    project = project_with_device_access(tmp_path, access)
    code, _, err = run("add", "meter-1", "--family", "unknownfam", "--password-stdin", "--stack", "iot",
                       "--cwd", project, stdin=b"relay-cabinet-blue\n")
    assert code == 0, err
    assert users(table) == {"meter-1"}
