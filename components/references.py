"""Reading another stack's exports, synchronously.

The program decides *whether* a cross-account step exists from whether the
upstream stack has exported what the step needs. That decision must be made
while resources are declared, never inside ``apply``, so the outputs of the
stack reference are awaited here — the same way Pulumi's Python SDK waits for
data-source invokes.
"""

from __future__ import annotations

from typing import Any

import pulumi
from pulumi.runtime.sync_await import _sync_await

from components.config import ConfigError


def known_now(output: pulumi.Output[Any]) -> Any | None:
    """The output's plain value once the engine has it, or None while it is
    unknown (a resource a preview has not created yet)."""
    return _sync_await(output.future())


class UpstreamStack:
    """The exports of one referenced stack, read once."""

    def __init__(self, resource_name: str, stack_name: str, opts: pulumi.ResourceOptions | None = None):
        self.stack_name = stack_name
        self.reference = pulumi.StackReference(resource_name, stack_name=stack_name, opts=opts)
        self._cache: dict[str, Any] = {}

    def get(self, name: str) -> Any | None:
        """The export's plain value, or None when the stack has not exported it (yet)."""
        if name not in self._cache:
            details = _sync_await(self.reference.get_output_details(name))
            value = details.value if details.value is not None else details.secret_value
            self._cache[name] = value
        return self._cache[name]

    def missing(self, names: list[str]) -> list[str]:
        return [n for n in names if self.get(n) in (None, "", [], {})]

    def require(self, names: list[str], *, key: str, step: str) -> None:
        """Refuse to go on without exports this stack cannot exist without."""
        missing = self.missing(names)
        if missing:
            raise ConfigError(
                f"{key} {self.stack_name} has not exported {', '.join(missing)} — "
                f"run `pulumi up` on that stack first ({step} of the deploy order)"
            )
