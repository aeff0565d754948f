"""Renders shared between processes through a directory.

``RenderCache`` keeps renders in memory, one process at a time. When several
processes render the same stacks (the test suite's workers), each would pay
for every render again; with a directory they share them instead: one process
renders a key while holding that key's lock, the others wait for it and read
the result. A render's entry is a pickle named by its key, written to a
temporary name and renamed, so a reader never sees half of one.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import pickle
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any


def _path(directory: Path, key: str) -> Path:
    return directory / f"{key}.pickle"


def load(directory: Path, key: str) -> Any | None:
    """The entry stored under ``key``, or None."""
    try:
        with open(_path(directory, key), "rb") as handle:
            return pickle.load(handle)
    except FileNotFoundError:
        return None


def store(directory: Path, key: str, entry: Any) -> None:
    handle, temporary = tempfile.mkstemp(dir=directory, prefix=f".{key}.")
    try:
        with os.fdopen(handle, "wb") as out:
            pickle.dump(entry, out, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(temporary, _path(directory, key))
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise


@contextlib.contextmanager
def locked(directory: Path, key: str) -> Iterator[None]:
    """Hold ``key``'s lock: one process renders it, the others wait for its entry."""
    with open(directory / f"{key}.lock", "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
