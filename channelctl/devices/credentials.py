"""Pure parts of device-credential management: the Mosquitto password file and import plans.

A Mosquitto password file holds one ``username:hash`` per line. Mosquitto
skips lines starting with ``#`` and lines without ``:``, and trims blanks
around the user name; this reader skips ``#`` lines and blank lines the same
way but reports every other line it cannot import, with its line number,
instead of silently dropping it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from enum import Enum
from typing import Any, Mapping

from authorizer.cost import DEFAULT_MEMORY_MB, check_cost
from authorizer.errors import AuthorizerError
from authorizer.hashes import parse_hash
from authorizer.records import validate_username


@dataclass(frozen=True)
class FileEntry:
    line: int
    username: str
    password_hash: str

    def __repr__(self) -> str:  # the hash stays out of tracebacks and logs
        return f"FileEntry(line={self.line}, username={self.username!r})"


@dataclass(frozen=True)
class Refusal:
    line: int
    username: str | None
    reason: str

    def describe(self, source: str) -> str:
        who = f" user {self.username!r}:" if self.username is not None else ""
        return f"{source}:{self.line}:{who} {self.reason}"


@dataclass(frozen=True)
class PasswordFile:
    entries: tuple[FileEntry, ...]
    refusals: tuple[Refusal, ...]


def parse_password_file(data: bytes, memory_mb: int = DEFAULT_MEMORY_MB) -> PasswordFile:
    """Read every line; valid entries and refusals both carry their line numbers.

    memory_mb is the authorizer's memory size: a hash costing more than its
    ceiling (authorizer/cost.py) is refused.
    """
    candidates: list[FileEntry] = []
    refusals: list[Refusal] = []
    for number, raw in enumerate(data.split(b"\n"), start=1):
        raw = raw.rstrip(b"\r")
        if not raw.strip() or raw.startswith(b"#"):
            continue
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            refusals.append(Refusal(number, None, "line is not UTF-8 text"))
            continue
        if ":" not in text:
            refusals.append(Refusal(number, None, "no ':' between user name and password hash"))
            continue
        username, _, password_hash = text.partition(":")
        username, password_hash = username.strip(" \t"), password_hash.strip(" \t")
        problem = _entry_problem(username, password_hash, memory_mb)
        if problem:
            refusals.append(Refusal(number, username or None, problem))
        else:
            candidates.append(FileEntry(number, username, password_hash))

    lines_by_user: dict[str, list[int]] = {}
    for entry in candidates:
        lines_by_user.setdefault(entry.username, []).append(entry.line)
    entries = []
    for entry in candidates:
        lines = lines_by_user[entry.username]
        if len(lines) > 1:
            others = ", ".join(str(n) for n in lines if n != entry.line)
            refusals.append(
                Refusal(entry.line, entry.username, f"duplicate user (also on line {others}) — keep one entry")
            )
        else:
            entries.append(entry)
    return PasswordFile(tuple(entries), tuple(sorted(refusals, key=lambda r: r.line)))


def _entry_problem(username: str, password_hash: str, memory_mb: int) -> str | None:
    if not username:
        return "empty user name"
    try:
        validate_username(username, "user name")
    except AuthorizerError as err:
        return str(err)
    if ":" in password_hash:
        return "more than one ':' on the line — expected username:hash"
    try:
        check_cost(parse_hash(password_hash), memory_mb)
    except AuthorizerError as err:
        return str(err)
    return None


class Outcome(Enum):
    CREATED = "created"
    UNCHANGED = "unchanged"
    UPDATED = "updated"
    SKIPPED = "skipped"
    REFUSED = "refused"


# Attribute recording which file hash a record was last imported with (SHA-256 hex of the
# hash string), so a re-run can tell "the file changed" from "an operator changed the record".
IMPORTED_HASH_ATTRIBUTE = "imported_hash_sha256"


def hash_fingerprint(password_hash: str) -> str:
    return hashlib.sha256(password_hash.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class ImportStep:
    entry: FileEntry
    outcome: Outcome
    changed: tuple[str, ...] = ()  # attribute names an update changes
    reason: str = ""  # why a step is refused or a stored hash kept


def plan_entry(
    entry: FileEntry,
    family: str,
    existing: Mapping[str, Any] | None,
    *,
    move_family: bool = False,
    overwrite: bool = False,
) -> ImportStep:
    """What importing entry does to the existing item: create, update, nothing, or refuse.

    An import never undoes an operator's decision: a record of another family
    moves only with move_family, and a hash set after the record's import
    (``set-password``, or the authorizer's upgrade on login) is replaced only
    with overwrite. A file hash unchanged since the last import leaves the
    stored hash alone whatever it now is.
    """
    if existing is None:
        return ImportStep(entry, Outcome.CREATED)
    changed: list[str] = []
    notes: list[str] = []
    if existing.get("family") != family:
        if not move_family:
            return ImportStep(
                entry,
                Outcome.REFUSED,
                reason=f"exists in family {existing.get('family')!r}, not {family!r} — pass --move-family to move it",
            )
        changed.append("family")
    stored = existing.get("password_hash")
    imported = existing.get(IMPORTED_HASH_ATTRIBUTE)
    incoming = hash_fingerprint(entry.password_hash)
    if stored == entry.password_hash:
        if imported != incoming:
            changed.append(IMPORTED_HASH_ATTRIBUTE)  # a record imported before fingerprints were kept
    else:
        if imported == incoming and not overwrite:
            notes.append("password set after import kept")
        elif overwrite or (imported is not None and isinstance(stored, str) and hash_fingerprint(stored) == imported):
            # The record still holds what an earlier import wrote: the broker's password changed.
            changed.append("password_hash")
        else:
            return ImportStep(
                entry,
                Outcome.REFUSED,
                reason="its password was set after it was imported (or it was never imported) — the file would undo "
                "that; pass --overwrite to replace it",
            )
    outcome = Outcome.UPDATED if changed else Outcome.UNCHANGED
    return ImportStep(entry, outcome, tuple(changed), "; ".join(notes))
