"""Pure parts of device-credential management: the Mosquitto password file and import plans.

A Mosquitto password file holds one ``username:hash`` per line. Mosquitto
skips lines starting with ``#`` and lines without ``:``, and trims blanks
around the user name; this reader skips ``#`` lines and blank lines the same
way but reports every other line it cannot import, with its line number,
instead of silently dropping it.
"""

from __future__ import annotations

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


@dataclass(frozen=True)
class ImportStep:
    entry: FileEntry
    outcome: Outcome
    changed: tuple[str, ...] = ()  # attribute names an update changes


def plan_entry(entry: FileEntry, family: str, existing: Mapping[str, Any] | None) -> ImportStep:
    """What importing entry does to the existing item: create, update or nothing."""
    if existing is None:
        return ImportStep(entry, Outcome.CREATED)
    changed = tuple(
        name
        for name, wanted in (("password_hash", entry.password_hash), ("family", family))
        if existing.get(name) != wanted
    )
    return ImportStep(entry, Outcome.UPDATED if changed else Outcome.UNCHANGED, changed)
