"""The shape of the provider-call tables (``provider_calls``, ``cloud_control_calls``): one resource's
Create, Read, Update and Delete functions and the SDK operations each makes."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Calls:
    """The SDK operations of one resource's Create, Read, Update and Delete functions."""

    source: str
    create: tuple[str, ...]
    read: tuple[str, ...]
    update: tuple[str, ...] = ()
    delete: tuple[str, ...] = ()

    def operations(self) -> tuple[str, ...]:
        return self.create + self.read + self.update + self.delete


def _ops(client: str, *names: str) -> tuple[str, ...]:
    return tuple(f"{client}.{n}" for n in names)
