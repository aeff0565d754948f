"""What a documented later step completes: a failed check becomes *pending*, never a silent pass.

The release switches each backward reference on only once the stack it names exists (docs/getting-started.md,
"Deploying to real accounts"): the network stack's ``iotStack`` before step 3, the iot stack's
``consumers[].stack`` before step 5. Until then the channel is incomplete by design: the gatekeeper's
Transit Gateway attachment is not accepted (devices reach nothing), a consumer's endpoint connection
is not accepted.

A failed check is pending only when the same checks, run over the same stack files with nothing
changed but the switched-off backward references switched on (``Completion``, rendered by
``channelctl.plan``), pass it. What differs between the two plans is then exactly what the later step
adds, so anything else that is broken still fails: a finished channel (every reference on) has no
completion at all, and a channel broken in some other way fails in its completion too.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from channelctl.plan.checks.model import CheckResult, PlannedStack


@dataclass(frozen=True)
class Completion:
    """A later step of the release with the backward references it switches on, and the plan it leaves."""

    step: int
    stack: str
    what: str  # what the step does, as the release order describes it
    switch_on: tuple[str, ...]  # "<stack file>: <key> = <value>" for each reference it needs set
    stacks: Mapping[str, PlannedStack]

    def describe(self) -> str:
        return f"step {self.step} ({self.stack} again: {self.what}) once {', '.join(self.switch_on)}"


def settle(results: Sequence[CheckResult], completions: Sequence[tuple[Completion, Sequence[CheckResult]]]) -> list[CheckResult]:
    """``results`` with each failed check that a completion passes marked pending until that step.

    Completions are in release order and cumulative (the second includes the first's references), so
    the first one that passes a check is the step that completes it.
    """
    settled: list[CheckResult] = []
    for result in results:
        if not result.passed:
            for completion, later in completions:
                if any(r.name == result.name and r.passed for r in later):
                    result = dataclasses.replace(result, pending=completion.describe())
                    break
        settled.append(result)
    return settled
