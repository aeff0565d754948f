"""Hash formats against vectors made by real programs and published test vectors."""

from __future__ import annotations

import base64
import hashlib

import pytest

from authorizer.errors import HashFormatError, UnsupportedHashFormat
from authorizer.hashes import (
    MosquittoPbkdf2,
    MosquittoSha512,
    Scrypt,
    ScryptParams,
    dummy_hash,
    hash_password,
    parse_hash,
    verify_password,
)
from tests.authorizer.support import DATA

# Written by /usr/bin/mosquitto_passwd 2.0.11 (Debian 12); the passwords it was given:
MOSQUITTO_FILE = DATA / "mosquitto-2.0.11.passwd"
MOSQUITTO_PASSWORDS = {
    "alice": "correct horse",  # -H sha512
    "bob": "s3cret:with:colons",  # default sha512-pbkdf2, 101 iterations
    "carol": "pässwörd ünïcödé",  # -I 1000
    "dave": " spaces around ",  # -I 7
    "erin": "日本語のパスワード",  # -H sha512
}


def mosquitto_entries() -> dict[str, str]:
    lines = MOSQUITTO_FILE.read_text(encoding="utf-8").splitlines()
    return dict(line.split(":", 1) for line in lines)


@pytest.mark.parametrize("username", sorted(MOSQUITTO_PASSWORDS))
def test_mosquitto_passwd_entries_verify_with_their_password(username):
    stored = parse_hash(mosquitto_entries()[username])
    assert verify_password(MOSQUITTO_PASSWORDS[username].encode("utf-8"), stored)


@pytest.mark.parametrize("username", sorted(MOSQUITTO_PASSWORDS))
def test_mosquitto_passwd_entries_refuse_other_passwords(username):
    stored = parse_hash(mosquitto_entries()[username])
    password = MOSQUITTO_PASSWORDS[username].encode("utf-8")
    for wrong in (password + b"x", password[:-1], password.strip(), password.upper(), b""):
        if wrong != password:
            assert not verify_password(wrong, stored)


def test_mosquitto_passwd_formats_parse_to_the_expected_schemes():
    entries = {user: parse_hash(text) for user, text in mosquitto_entries().items()}
    assert isinstance(entries["alice"], MosquittoSha512)
    assert isinstance(entries["bob"], MosquittoPbkdf2) and entries["bob"].iterations == 101
    assert entries["carol"].iterations == 1000 and entries["dave"].iterations == 7
    assert all(len(e.salt) == 12 and len(e.digest) == 64 for e in entries.values())


def test_encode_round_trips_mosquitto_text_exactly():
    for text in mosquitto_entries().values():
        assert parse_hash(text).encode() == text


def test_pbkdf2_with_a_64_byte_salt_as_mosquitto_2_1_writes_it():
    # No mosquitto 2.1 here: the entry is built with hashlib from the documented layout.
    salt = bytes(range(64))
    digest = hashlib.pbkdf2_hmac("sha512", b"pw", salt, 1000, 64)
    text = f"$7$1000${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"
    assert verify_password(b"pw", parse_hash(text))
    assert not verify_password(b"pW", parse_hash(text))


def test_scrypt_matches_rfc_7914_test_vector():
    # RFC 7914 section 12: scrypt(P="password", S="NaCl", N=1024, r=8, p=16, dkLen=64)
    expected = bytes.fromhex(
        "fdbabe1c9d3472007856e7190d01e9fe7c6ad7cbc8237830e77376634b373162"
        "2eaf30d92e22a3886ff109279d9830dac727afb94a83ee6d8360cbdfa2cc0640"
    )
    stored = Scrypt(ScryptParams(log2_n=10, r=8, p=16), b"NaCl", expected)
    assert verify_password(b"password", stored)
    assert not verify_password(b"Password", stored)


def test_hash_password_writes_a_parseable_scrypt_string_with_its_parameters():
    text = hash_password(b"new secret", ScryptParams(log2_n=10, r=8, p=1))
    assert text.startswith("$scrypt$ln=10,r=8,p=1$")
    stored = parse_hash(text)
    assert isinstance(stored, Scrypt) and stored.params == ScryptParams(10, 8, 1)
    assert verify_password(b"new secret", stored)
    assert not verify_password(b"new secreT", stored)
    assert "=" not in text.split("$", 3)[3]  # PHC: base64 without padding


def test_hash_password_default_parameters_are_in_the_string():
    text = hash_password(b"x")
    assert text.startswith("$scrypt$ln=15,r=8,p=1$")
    assert text != hash_password(b"x")  # a fresh salt each time


def test_raised_scrypt_parameters_still_verify_older_hashes():
    old = hash_password(b"pw", ScryptParams(log2_n=10, r=8, p=1))
    new = hash_password(b"pw", ScryptParams(log2_n=11, r=8, p=2))
    assert verify_password(b"pw", parse_hash(old)) and verify_password(b"pw", parse_hash(new))


def test_argon2id_is_refused_with_a_message_saying_what_to_do():
    text = "$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA"
    with pytest.raises(UnsupportedHashFormat, match=r"argon2id.*standard library.*set-password"):
        parse_hash(text)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty"),
        ("hunter2", r"plaintext.*mosquitto_passwd -U"),
        ("$1$abc$def", r"\$1\$ \(md5-crypt\) is not supported"),
        ("$secretpw$abc", r"^password hash scheme is not one this tool knows"),
        ("$6$onlysalt", r"\$6\$<salt>\$<digest>"),
        ("$6$!!!!$AAAA", "salt is not valid padded base64"),
        ("$6$" + "A" * 16 + "$" + "A" * 8, "digest is 6 bytes"),
        ("$6$" + "A" * 12 + "$" + base64.b64encode(bytes(64)).decode(), "salt is 9 bytes"),
        ("$7$abc$" + "A" * 16 + "$" + "A" * 88, "iteration count is not a positive integer"),
        ("$7$0$" + "A" * 16 + "$" + base64.b64encode(bytes(64)).decode(), r"outside 1\.\.1000000"),
        ("$7$2000000$" + "A" * 16 + "$" + base64.b64encode(bytes(64)).decode(), r"outside 1\.\.1000000"),
        ("$7$101$" + "A" * 16 + "$" + "A" * 86, "digest is not valid padded base64"),
        ("$scrypt$ln=15,r=8$AAAA$AAAA", r"ln=15,r=8,p=1"),
        ("$scrypt$ln=25,r=8,p=1$" + "A" * 22 + "$" + "A" * 43, r"parameter ln is outside 10\.\.20"),
        ("$scrypt$ln=20,r=32,p=1$" + "A" * 22 + "$" + "A" * 43, r"need more than 256 MiB"),
        ("$scrypt$ln=15,r=8,p=1$" + "A" * 22 + "==$" + "A" * 43, "salt is not valid unpadded base64"),
        ("$scrypt$ln=15,r=8,p=1$AAAA$" + "A" * 43, "salt is 3 bytes"),
    ],
)
def test_malformed_hashes_are_refused_with_a_reason(text, message):
    with pytest.raises(HashFormatError, match=message):
        parse_hash(text)


def test_error_messages_never_quote_the_hash():
    digest = base64.b64encode(bytes(range(64))).decode()
    text = f"$7$101$!!notbase64!!${digest}"
    with pytest.raises(HashFormatError) as caught:
        parse_hash(text)
    assert digest not in str(caught.value) and "notbase64" not in str(caught.value)


@pytest.mark.parametrize(
    ("spec", "kind", "cost"),
    [
        ("scrypt", Scrypt, ScryptParams(15, 8, 1)),
        ("scrypt:ln=12,r=8,p=2", Scrypt, ScryptParams(12, 8, 2)),
        ("mosquitto-pbkdf2", MosquittoPbkdf2, 101),
        ("mosquitto-pbkdf2:1000", MosquittoPbkdf2, 1000),
        ("mosquitto-sha512", MosquittoSha512, None),
    ],
)
def test_dummy_hashes_have_the_requested_cost_and_match_nothing(spec, kind, cost):
    dummy = dummy_hash(spec)
    assert isinstance(dummy, kind)
    if kind is Scrypt:
        assert dummy.params == cost
    elif kind is MosquittoPbkdf2:
        assert dummy.iterations == cost
    assert not verify_password(b"", dummy) and not verify_password(b"password", dummy)


@pytest.mark.parametrize("spec", ["argon2id", "scrypt:ln=99,r=8,p=1", "mosquitto-pbkdf2:zero", "sha1"])
def test_bad_dummy_specs_are_refused(spec):
    with pytest.raises(HashFormatError):
        dummy_hash(spec)
