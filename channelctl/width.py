"""How wide the commands' text output is: $COLUMNS, else 100 (a light module: the commands import it
before anything heavy)."""

from __future__ import annotations

import os
from collections.abc import Mapping

# Width of the text output when $COLUMNS names none. Not the terminal's own size: plan.txt goes to
# CI logs and pull-request artifacts, which have no terminal, and `plan | tee plan.txt` must print
# the same text to both.
DEFAULT_WIDTH = 100


def width_from_environment(environ: Mapping[str, str] = os.environ) -> int:
    """$COLUMNS when it is a positive integer, else DEFAULT_WIDTH."""
    try:
        columns = int(environ.get("COLUMNS", "").strip())
    except ValueError:
        return DEFAULT_WIDTH
    return columns if columns > 0 else DEFAULT_WIDTH
