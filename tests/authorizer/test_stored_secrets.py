"""No code path prints or logs any part of a stored password field.

A malformed field may be a plaintext password (a file never run through
`mosquitto_passwd -U`): refusals, `devices show`, import reports and the
Lambda's log name the scheme and the problem, never a piece of the field.
"""

from __future__ import annotations

import io
import logging
import sys

import pytest

from authorizer.errors import HashFormatError
from authorizer.handler import handler
from authorizer.hashes import parse_hash
from channelctl.cli import main
from tests.authorizer.support import connect_event

SECRET = "Qx7vK2mZp9wL"

FIELDS = [
    SECRET,
    "$" + SECRET,
    f"${SECRET}$x",
    f"$7${SECRET}$AAAAAAAAAAAAAAAA$AAAA",
    f"$7$101${SECRET}$AAAA",
    f"$6${SECRET}$AAAA",
    f"$6$AAAAAAAAAAAAAAAA${SECRET}",
    f"$scrypt${SECRET}$AAAA$AAAA",
    f"$scrypt$ln=15,r=8,p=1${SECRET}$AAAA",
    f"$scrypt$ln=15,r=8,p=1$AAAAAAAAAAAAAAAAAAAAAA${SECRET}",
    f"$argon2id${SECRET}",
]


def leaks(text: str) -> list[str]:
    """Every 4-character piece of the secret found in text."""
    return [SECRET[i : i + 4] for i in range(len(SECRET) - 3) if SECRET[i : i + 4] in text]


@pytest.mark.parametrize("field", FIELDS)
def test_refusals_quote_no_part_of_the_field(field):
    with pytest.raises(HashFormatError) as refused:
        parse_hash(field)
    assert leaks(str(refused.value)) == []


@pytest.mark.parametrize("field", FIELDS)
def test_the_lambda_log_holds_no_part_of_the_field(authorizer_env, caplog, field):
    authorizer_env.put_item(Item={"username": "meter-0001", "password_hash": field, "family": "meters"})
    with caplog.at_level(logging.DEBUG):
        response = handler(connect_event("meter-0001", b"anything"), None)
    assert response["isAuthenticated"] is False
    assert "reason=" in caplog.text and leaks(caplog.text) == []


@pytest.mark.parametrize("field", FIELDS)
def test_devices_show_and_import_print_no_part_of_the_field(authorizer_env, monkeypatch, capsys, tmp_path, field):
    monkeypatch.delenv("CHANNELCTL_STACK", raising=False)
    authorizer_env.put_item(Item={"username": "meter-0001", "password_hash": field, "family": "meters"})
    for argv in (["show", "meter-0001"], ["show", "meter-0001", "--json"]):
        assert main(["devices", *argv]) == 0
        captured = capsys.readouterr()
        assert "unusable" in captured.out and leaks(captured.out + captured.err) == []
    path = tmp_path / "passwd"
    path.write_text(f"meter-0002:{field}\n")
    assert main(["devices", "import-mosquitto", str(path), "--family", "meters"]) == 1
    captured = capsys.readouterr()
    assert ":1:" in captured.err and leaks(captured.out + captured.err) == []
