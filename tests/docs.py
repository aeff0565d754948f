"""The project's documentation: README.md, the front door, and the pages by task under docs/.

Tests that hold a page to the code read it through here, by its path in the project.
"""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = "README.md"
DOCS_DIR = ROOT / "docs"


def read_doc(path: str) -> str:
    """The text of README.md or of a page under docs/ (``read_doc("docs/configuration.md")``)."""
    return (ROOT / path).read_text(encoding="utf-8")


def doc_paths() -> list[str]:
    """README.md and every page under docs/, as paths relative to the project."""
    return [README, *sorted(f"docs/{p.name}" for p in DOCS_DIR.glob("*.md"))]
