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
# Every file hash the record was ever imported with (string set of SHA-256 hex), the last one
# included: a file carrying one of them that is not the last is older than the record (stale).
IMPORTED_HASHES_ATTRIBUTE = "imported_hashes_sha256"


def hash_fingerprint(password_hash: str) -> str:
    return hashlib.sha256(password_hash.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class ImportStep:
    entry: FileEntry
    outcome: Outcome
    changed: tuple[str, ...] = ()  # attribute names an update changes
    reason: str = ""  # why a step is refused or a stored hash kept
    # The record's import history after this step (written with the entry's fingerprint).
    history: tuple[str, ...] = ()


def import_history(existing: Mapping[str, Any] | None) -> set[str]:
    """Every fingerprint the record was imported with (the last one too, for records from before the set)."""
    if existing is None:
        return set()
    history = existing.get(IMPORTED_HASHES_ATTRIBUTE) or set()
    fingerprints = {f for f in history if isinstance(f, str)} if isinstance(history, (set, frozenset, list, tuple)) else set()
    last = existing.get(IMPORTED_HASH_ATTRIBUTE)
    if isinstance(last, str):
        fingerprints.add(last)
    return fingerprints


def upgraded_on_login(stored: Any) -> bool:
    """True for a hash only the authorizer's upgrade on login writes: scrypt that cuts at NUL (``cstr=1``).

    ``add`` and ``set-password`` never write that marker, so such a hash stands for the password the
    last import carried, not for an operator's decision.
    """
    if not isinstance(stored, str):
        return False
    try:
        parsed = parse_hash(stored)
    except AuthorizerError:
        return False
    return getattr(parsed, "cut_at_nul", False) is True and parsed.scheme == "scrypt"


def plan_entry(
    entry: FileEntry,
    family: str,
    existing: Mapping[str, Any] | None,
    *,
    move_family: bool = False,
    overwrite: bool = False,
) -> ImportStep:
    """What importing entry does to the existing item: create, update, nothing, or refuse.

    An import never undoes an operator's decision and never travels back in
    time. The file's hash is compared with the hash the record was last
    imported with, not with the stored one (the upgrade on login replaces the
    stored one with scrypt): the same hash changes nothing; a hash the record
    was imported with before (a stale file) restores nothing, even with
    overwrite; a new hash is the broker's rotation and replaces the stored one
    if that is still the last import's (as imported or upgraded on login). A
    hash set by ``set-password`` (or a record never imported) is replaced only
    with overwrite, and a record of another family moves only with
    move_family.
    """
    incoming = hash_fingerprint(entry.password_hash)
    if existing is None:
        return ImportStep(entry, Outcome.CREATED, history=(incoming,))
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
    last = existing.get(IMPORTED_HASH_ATTRIBUTE)
    history = import_history(existing)
    recorded = tuple(sorted(history | {incoming}))
    if stored == entry.password_hash:
        if last != incoming or incoming not in history:
            changed.append(IMPORTED_HASH_ATTRIBUTE)  # a record imported before fingerprints were kept
    elif incoming in history and incoming != last:
        notes.append("stale: the record was imported with a newer hash since; nothing restored")
        recorded = tuple(sorted(history))
    elif incoming == last and not overwrite:
        notes.append("hash upgraded on login kept" if upgraded_on_login(stored) else "password set after import kept")
    elif overwrite or (
        last is not None and isinstance(stored, str) and (hash_fingerprint(stored) == last or upgraded_on_login(stored))
    ):
        # The record still holds what the last import wrote (or its upgrade on login): the broker's password changed.
        changed.append("password_hash")
    else:
        return ImportStep(
            entry,
            Outcome.REFUSED,
            reason="its password was set after it was imported (or it was never imported) — the file would undo "
            "that; pass --overwrite to replace it",
        )
    outcome = Outcome.UPDATED if changed else Outcome.UNCHANGED
    return ImportStep(entry, outcome, tuple(changed), "; ".join(notes), history=recorded)
