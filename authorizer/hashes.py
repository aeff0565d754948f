"""Password hash formats: parse, verify, and hash new passwords.

Supported, exactly as the real programs write them:

``$6$<salt>$<digest>``
    Mosquitto ``mosquitto_passwd -H sha512``: ONE SHA-512 over the password
    bytes followed by the salt bytes (not crypt(3)'s sha512-crypt). Standard
    base64 with padding; 12-byte salt (Mosquitto 2.0) or 64-byte salt
    (Mosquitto 2.1); 64-byte digest.
``$7$<iterations>$<salt>$<digest>``
    Mosquitto ``mosquitto_passwd`` default (``-H sha512-pbkdf2``):
    PBKDF2-HMAC-SHA512, any iteration count (``-I``), 12- or 64-byte salt,
    64-byte key. Standard base64 with padding.
``$scrypt$ln=<log2 N>,r=<r>,p=<p>[,cstr=1]$<salt>$<digest>``
    The project's own format for passwords it hashes itself (PHC string
    format: standard base64 alphabet without padding). The cost parameters
    live in the string, so they can be raised later without breaking stored
    hashes. ``cstr=1`` marks a hash upgraded from a Mosquitto one on login:
    the password is cut at its first NUL byte, as the broker read it.

For the two Mosquitto formats a password is cut at its first NUL byte, as the
broker does (it hashes the password as a C string).

Mosquitto 2.1's ``$argon2id$`` is refused: the standard library cannot verify
it, and the authorizer takes no third-party dependency.

Error messages name the scheme (from a fixed list) and what is wrong, never any
part of the stored field itself: a malformed field may be a plaintext password.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import re
from dataclasses import dataclass
from typing import Union

from .errors import HashFormatError, UnsupportedHashFormat

MOSQUITTO_SALT_LENGTHS = (12, 64)  # 12: mosquitto 2.0 SALT_LEN; 64: mosquitto 2.1
MOSQUITTO_DIGEST_LENGTH = 64  # SHA-512 output, also the PBKDF2 key length mosquitto asks for
MOSQUITTO_DEFAULT_ITERATIONS = 101  # mosquitto_passwd 2.0 default for sha512-pbkdf2
# A record is read on every CONNECT and the authorizer has 5 s in total: an
# iteration count this large already costs about half a second in CPython.
MAX_PBKDF2_ITERATIONS = 1_000_000

SCRYPT_SALT_BYTES = 16
SCRYPT_DIGEST_BYTES = 32
SCRYPT_SALT_RANGE = (16, 64)
SCRYPT_DIGEST_RANGE = (32, 64)
# Bounds keep a stored string from asking for more memory or time than a
# Lambda container has; 2**15 * 8 * 128 B = 32 MiB and about 0.1 s per check.
SCRYPT_LOG2_N_RANGE = (10, 20)
SCRYPT_R_RANGE = (1, 32)
SCRYPT_P_RANGE = (1, 16)
SCRYPT_MAX_MEMORY = 256 * 1024 * 1024

# The largest password an MQTT CONNECT can carry (two-byte length prefix).
MAX_PASSWORD_BYTES = 65_535


@dataclass(frozen=True)
class ScryptParams:
    """scrypt cost: N = 2**log2_n, block size r, parallelism p."""

    log2_n: int = 15
    r: int = 8
    p: int = 1

    def memory_bytes(self) -> int:
        return 128 * self.r * (1 << self.log2_n)


DEFAULT_SCRYPT = ScryptParams()


@dataclass(frozen=True)
class MosquittoSha512:
    """Mosquitto ``$6$``: sha512(password + salt)."""

    salt: bytes
    digest: bytes

    scheme = "mosquitto-sha512"

    def compute(self, password: bytes) -> bytes:
        return hashlib.sha512(_as_mosquitto_reads_it(password) + self.salt).digest()

    def encode(self) -> str:
        return f"$6${_b64(self.salt)}${_b64(self.digest)}"

    def describe(self) -> str:
        return f"{self.scheme} ({len(self.salt)}-byte salt)"

    def work_spec(self) -> str:
        """The dummy_hash spec costing the same to verify."""
        return self.scheme


@dataclass(frozen=True)
class MosquittoPbkdf2:
    """Mosquitto ``$7$``: PBKDF2-HMAC-SHA512."""

    iterations: int
    salt: bytes
    digest: bytes

    scheme = "mosquitto-pbkdf2"

    def compute(self, password: bytes) -> bytes:
        return hashlib.pbkdf2_hmac(
            "sha512", _as_mosquitto_reads_it(password), self.salt, self.iterations, len(self.digest)
        )

    def encode(self) -> str:
        return f"$7${self.iterations}${_b64(self.salt)}${_b64(self.digest)}"

    def describe(self) -> str:
        return f"{self.scheme} ({self.iterations} iterations, {len(self.salt)}-byte salt)"

    def work_spec(self) -> str:
        return f"{self.scheme}:{self.iterations}"


@dataclass(frozen=True)
class Scrypt:
    """The project's ``$scrypt$`` format."""

    params: ScryptParams
    salt: bytes
    digest: bytes
    # Upgraded from a Mosquitto hash on login: the password is cut at its first NUL
    # byte as the broker reads it, so the device's accepted passwords stay the same.
    cut_at_nul: bool = False

    scheme = "scrypt"

    def compute(self, password: bytes) -> bytes:
        p = self.params
        return hashlib.scrypt(
            _as_mosquitto_reads_it(password) if self.cut_at_nul else password,
            salt=self.salt,
            n=1 << p.log2_n,
            r=p.r,
            p=p.p,
            # OpenSSL refuses when maxmem is exactly the working set; leave headroom.
            maxmem=p.memory_bytes() + 16 * 1024 * 1024,
            dklen=len(self.digest),
        )

    def encode(self) -> str:
        p = self.params
        cut = ",cstr=1" if self.cut_at_nul else ""
        return f"$scrypt$ln={p.log2_n},r={p.r},p={p.p}{cut}${_b64_nopad(self.salt)}${_b64_nopad(self.digest)}"

    def describe(self) -> str:
        p = self.params
        return f"{self.scheme} (ln={p.log2_n}, r={p.r}, p={p.p})"

    def work_spec(self) -> str:
        p = self.params
        return f"{self.scheme}:ln={p.log2_n},r={p.r},p={p.p}"


PasswordHash = Union[MosquittoSha512, MosquittoPbkdf2, Scrypt]


def _as_mosquitto_reads_it(password: bytes) -> bytes:
    # The broker keeps the CONNECT password as a C string and hashes strlen() bytes,
    # so "pw\0anything" is "pw" to it; devices that rely on that keep working.
    return password.split(b"\x00", 1)[0]

_ARGON2_PREFIXES = ("$argon2id$", "$argon2i$", "$argon2d$")
# Schemes crypt(3) and other brokers write; named in refusals, never verified.
_OTHER_SCHEMES = {
    "1": "md5-crypt",
    "2a": "bcrypt",
    "2b": "bcrypt",
    "2y": "bcrypt",
    "5": "sha256-crypt",
    "apr1": "Apache md5",
    "y": "yescrypt",
    "pbkdf2-sha256": "passlib pbkdf2",
    "pbkdf2-sha512": "passlib pbkdf2",
}
_SCRYPT_PARAMS = re.compile(r"ln=([0-9]{1,2}),r=([0-9]{1,2}),p=([0-9]{1,2})(,cstr=1)?")


def parse_hash(encoded: str) -> PasswordHash:
    """Parse a stored hash string; raise HashFormatError saying what is wrong."""
    if not isinstance(encoded, str) or not encoded:
        raise HashFormatError("password hash is empty — store a $6$, $7$ or $scrypt$ hash")
    if encoded.startswith(_ARGON2_PREFIXES):
        raise UnsupportedHashFormat(
            "password hash uses $argon2id$ (Mosquitto 2.1), which the Python standard library "
            "cannot verify — set a new password with `channelctl devices set-password`, or "
            "re-create the entry with `mosquitto_passwd -H sha512-pbkdf2` before importing"
        )
    if not encoded.startswith("$"):
        raise HashFormatError(
            "password field is not a hash (it does not start with '$'; a plaintext password?) — "
            "hash the file with `mosquitto_passwd -U FILE` before importing"
        )
    fields = encoded.split("$")
    marker = fields[1]
    if marker == "6":
        return _parse_sha512(fields)
    if marker == "7":
        return _parse_pbkdf2(fields)
    if marker == "scrypt":
        return _parse_scrypt(fields)
    # Only a scheme from this fixed list is ever named: the field may be a plaintext password.
    known = _OTHER_SCHEMES.get(marker)
    raise UnsupportedHashFormat(
        (f"password hash scheme ${marker}$ ({known}) is not supported" if known else
         "password hash scheme is not one this tool knows")
        + " — supported are $6$ and $7$ (mosquitto_passwd) and $scrypt$ (channelctl)"
    )


def verify_password(password: bytes, stored: PasswordHash) -> bool:
    """True when password matches; compares in constant time."""
    return hmac.compare_digest(stored.compute(password), stored.digest)


def hash_password(
    password: bytes, params: ScryptParams | None = None, salt: bytes | None = None, cut_at_nul: bool = False
) -> str:
    """Hash a new password in the project's scrypt format (cut_at_nul: as Mosquitto reads it);
    ``params`` default to ``DEFAULT_SCRYPT`` as it is when called."""
    params = DEFAULT_SCRYPT if params is None else params
    _check_scrypt_params(params)
    salt = os.urandom(SCRYPT_SALT_BYTES) if salt is None else salt
    template = Scrypt(params=params, salt=salt, digest=bytes(SCRYPT_DIGEST_BYTES), cut_at_nul=cut_at_nul)
    return Scrypt(params=params, salt=salt, digest=template.compute(password), cut_at_nul=cut_at_nul).encode()


def dummy_hash(spec: str) -> PasswordHash:
    """A hash no password matches, costing what `spec` costs to verify.

    spec: ``scrypt`` | ``scrypt:ln=15,r=8,p=1`` | ``mosquitto-sha512`` |
    ``mosquitto-pbkdf2`` | ``mosquitto-pbkdf2:<iterations>``.
    """
    name, _, arg = spec.strip().partition(":")
    # Random digests: verifying against them does the full work and never matches.
    if name == "scrypt":
        params = DEFAULT_SCRYPT if not arg else _scrypt_params_from_text(arg)
        _check_scrypt_params(params)
        return Scrypt(params, os.urandom(SCRYPT_SALT_BYTES), os.urandom(SCRYPT_DIGEST_BYTES))
    if name == "mosquitto-sha512" and not arg:
        return MosquittoSha512(os.urandom(12), os.urandom(MOSQUITTO_DIGEST_LENGTH))
    if name == "mosquitto-pbkdf2":
        iterations = MOSQUITTO_DEFAULT_ITERATIONS if not arg else _iterations(arg)
        return MosquittoPbkdf2(iterations, os.urandom(12), os.urandom(MOSQUITTO_DIGEST_LENGTH))
    raise HashFormatError(
        f"hash scheme spec {spec!r} is not recognised — use scrypt, scrypt:ln=15,r=8,p=1, "
        "mosquitto-sha512, mosquitto-pbkdf2 or mosquitto-pbkdf2:<iterations>"
    )


# --- parsing helpers ---------------------------------------------------------


def _parse_sha512(fields: list[str]) -> MosquittoSha512:
    if len(fields) != 4:
        raise HashFormatError("$6$ hash must look like $6$<salt>$<digest>")
    salt = _mosquitto_b64("$6$", "salt", fields[2])
    digest = _mosquitto_b64("$6$", "digest", fields[3])
    _check_mosquitto_lengths("$6$", salt, digest)
    return MosquittoSha512(salt=salt, digest=digest)


def _parse_pbkdf2(fields: list[str]) -> MosquittoPbkdf2:
    if len(fields) != 5:
        raise HashFormatError("$7$ hash must look like $7$<iterations>$<salt>$<digest>")
    iterations = _iterations(fields[2])
    salt = _mosquitto_b64("$7$", "salt", fields[3])
    digest = _mosquitto_b64("$7$", "digest", fields[4])
    _check_mosquitto_lengths("$7$", salt, digest)
    return MosquittoPbkdf2(iterations=iterations, salt=salt, digest=digest)


def _parse_scrypt(fields: list[str]) -> Scrypt:
    if len(fields) != 5:
        raise HashFormatError("$scrypt$ hash must look like $scrypt$ln=<n>,r=<r>,p=<p>$<salt>$<digest>")
    params = _scrypt_params_from_text(fields[2])
    _check_scrypt_params(params)
    cut_at_nul = fields[2].endswith(",cstr=1")
    salt = _phc_b64("salt", fields[3])
    digest = _phc_b64("digest", fields[4])
    if not SCRYPT_SALT_RANGE[0] <= len(salt) <= SCRYPT_SALT_RANGE[1]:
        raise HashFormatError(
            f"$scrypt$ salt is {len(salt)} bytes — it must be {SCRYPT_SALT_RANGE[0]} to {SCRYPT_SALT_RANGE[1]} bytes"
        )
    if not SCRYPT_DIGEST_RANGE[0] <= len(digest) <= SCRYPT_DIGEST_RANGE[1]:
        raise HashFormatError(
            f"$scrypt$ digest is {len(digest)} bytes — it must be "
            f"{SCRYPT_DIGEST_RANGE[0]} to {SCRYPT_DIGEST_RANGE[1]} bytes"
        )
    return Scrypt(params=params, salt=salt, digest=digest, cut_at_nul=cut_at_nul)


def _iterations(text: str) -> int:
    if not text.isascii() or not text.isdigit() or len(text) > 9:
        raise HashFormatError("$7$ iteration count is not a positive integer of at most 9 digits")
    value = int(text)
    if not 1 <= value <= MAX_PBKDF2_ITERATIONS:
        raise HashFormatError(
            f"$7$ iteration count is outside 1..{MAX_PBKDF2_ITERATIONS} — "
            "re-hash with a smaller `mosquitto_passwd -I` value"
        )
    return value


def _scrypt_params_from_text(text: str) -> ScryptParams:
    match = _SCRYPT_PARAMS.fullmatch(text)
    if not match:
        raise HashFormatError("scrypt parameters must look like ln=15,r=8,p=1")
    return ScryptParams(log2_n=int(match[1]), r=int(match[2]), p=int(match[3]))


def _check_scrypt_params(params: ScryptParams) -> None:
    for name, value, (low, high) in (
        ("ln", params.log2_n, SCRYPT_LOG2_N_RANGE),
        ("r", params.r, SCRYPT_R_RANGE),
        ("p", params.p, SCRYPT_P_RANGE),
    ):
        if not low <= value <= high:
            raise HashFormatError(f"scrypt parameter {name} is outside {low}..{high}")
    if params.memory_bytes() > SCRYPT_MAX_MEMORY:
        raise HashFormatError(
            f"scrypt parameters ln and r need more than {SCRYPT_MAX_MEMORY >> 20} MiB — lower them"
        )


def _check_mosquitto_lengths(marker: str, salt: bytes, digest: bytes) -> None:
    if len(salt) not in MOSQUITTO_SALT_LENGTHS:
        raise HashFormatError(
            f"{marker} salt is {len(salt)} bytes — mosquitto_passwd writes 12 (2.0) or 64 (2.1) bytes"
        )
    if len(digest) != MOSQUITTO_DIGEST_LENGTH:
        raise HashFormatError(f"{marker} digest is {len(digest)} bytes — mosquitto_passwd writes 64 bytes")


def _mosquitto_b64(marker: str, part: str, text: str) -> bytes:
    try:
        return base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError):
        raise HashFormatError(f"{marker} {part} is not valid padded base64") from None


def _phc_b64(part: str, text: str) -> bytes:
    try:
        raw = base64.b64decode((text + "=" * (-len(text) % 4)).encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError):
        raw = None
    # Re-encoding catches '=' inside the text and non-canonical trailing bits.
    if raw is None or _b64_nopad(raw) != text:
        raise HashFormatError(f"$scrypt$ {part} is not valid unpadded base64")
    return raw


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def _b64_nopad(raw: bytes) -> str:
    return _b64(raw).rstrip("=")
