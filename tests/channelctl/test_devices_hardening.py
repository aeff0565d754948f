"""`channelctl devices` refuses what would widen a device's reach or undo an operator's decision."""

from __future__ import annotations

import io
import sys

import pytest

from channelctl.cli import main
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


@pytest.fixture
def run(monkeypatch, capsys):
    def run(*argv: str, stdin: bytes | None = None) -> tuple[int, str, str]:
        if stdin is not None:
            monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(stdin)))
        code = main(["devices", *argv])
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return run


def write(tmp_path, *lines: str, name="passwd") -> str:
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n")
    return str(path)


def items(table) -> dict[str, dict]:
    return {item["username"]: item for item in table.scan()["Items"]}


# --- topic scopes ------------------------------------------------------------------


def test_add_refuses_a_family_whose_prefix_holds_another_familys(table, run):
    code, _, err = run("add", "family1", "--family", "plant", "--password-stdin", *IOT_STACK, stdin=b"pw\n")
    assert code == 1 and "overlaps family 'family1' prefix 'plant/family1'" in err and "Pulumi.iot.yaml" in err
    assert items(table) == {}
    assert run("add", "family1", "--family", "family2", "--password-stdin", *IOT_STACK, stdin=b"pw\n")[0] == 0


def test_add_refuses_the_thing_prefix_as_a_family_even_without_a_stack(table, run):
    code, _, err = run("add", "pump-7", "--family", "things", "--password-stdin", stdin=b"pw\n")
    assert code == 1 and "certificate devices' topic prefix 'things'" in err and items(table) == {}


def test_the_stack_can_come_from_the_environment(table, run, monkeypatch):
    monkeypatch.setenv("CHANNELCTL_STACK", "iot")
    code, _, err = run("add", "x1", "--family", "plant", "--password-stdin", "--cwd", str(PROJECT_DIR), stdin=b"pw\n")
    assert code == 1 and "plant/family1" in err


def test_a_stack_that_is_not_the_iot_stack_is_refused(table, run):
    code, _, err = run("add", "x1", "--family", "meters", "--password-stdin", "--stack", "network",
                       "--cwd", str(PROJECT_DIR), stdin=b"pw\n")
    assert code == 2 and "network stack" in err and items(table) == {}


def test_update_refuses_moving_a_device_into_an_overlapping_family(table, run):
    assert run("add", "family1", "--family", "meters", "--password-stdin", *IOT_STACK, stdin=b"pw\n")[0] == 0
    code, _, err = run("update", "family1", "--family", "plant", *IOT_STACK)
    assert code == 1 and "plant/family1" in err
    assert items(table)["family1"]["family"] == "meters"


def test_import_refuses_an_overlapping_family_and_writes_nothing(table, run, tmp_path):
    code, _, err = run("import-mosquitto", write(tmp_path, ALICE, BOB), "--family", "plant", *IOT_STACK)
    assert code == 1 and "plant/family1" in err and items(table) == {}
    code, _, err = run("import-mosquitto", write(tmp_path, ALICE, BOB), "--family", "things")
    assert code == 1 and "certificate devices" in err and items(table) == {}
