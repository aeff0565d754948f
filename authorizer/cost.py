"""How much hash work one CONNECT may cost, and what a stored hash costs.

The ceiling, derived:

1. IoT Core waits at most 5 s for a custom authorizer (IoT developer guide).
2. Of those, at most 2 s go to hash verification; the rest is for a cold start
   (about 0.15 s of a full core to import the handler, so about 0.5 s at
   512 MB), GetItem (1 s timeout, two attempts) and the hash upgrade's
   UpdateItem.
3. Lambda gives a function CPU in proportion to its memory: 1,769 MB = one
   vCPU (Lambda developer guide, "Configuring function memory"); the hash runs
   on one thread, so more than one vCPU does not help it.
4. The per-unit costs below were measured here (``benchmarks/hash_cost_bench.py``,
   results in ``benchmarks/RESULTS.md``) as CPU time of one x86 core and
   rounded up to the highest rate seen, on a loaded machine, so that the
   costliest hash the model admits, measured, stays under the ceiling (the
   bench's "at the ceiling" table). The function runs on arm64 (Graviton),
   not measured here: a safety factor of 2 covers a slower core.
5. One CONNECT verifies one hash of every scheme in the table's registry, and
   a first login with a legacy hash re-hashes it with the project's scrypt
   (``connect_cost_seconds``): that whole work is held to the ceiling.

So the ceiling in core-seconds as measured here is
``5 s × 0.4 × min(1, memory / 1769) / 2``: 0.289 s at 512 MB, 0.579 s at the default 1,024 MB, 1 s
at 1,769 MB. A stored hash, the unknown-user dummies and the project's own
scrypt parameters are refused above it: at import, at ``set-password``, in
the stack configuration and in the Lambda itself. scrypt's working set
(128·r·N bytes) must also fit in a quarter of the function's memory.
"""

from __future__ import annotations

from dataclasses import dataclass

from . import hashes
from .errors import AuthorizerError, HashTooCostly

LAMBDA_TIMEOUT_SECONDS = 5  # IoT Core's limit for a custom authorizer
HASH_SHARE_OF_TIMEOUT = 0.4  # 2 of the 5 s
FULL_VCPU_MEMORY_MB = 1_769  # Lambda: 1,769 MB = one vCPU
SAFETY_FACTOR = 2.0  # arm64 cores, not measured here
DEFAULT_MEMORY_MB = 1024  # authorizer.memorySize default (components/config/)
LAMBDA_MEMORY_RANGE_MB = (128, 10_240)

# Measured: benchmarks/hash_cost_bench.py (RESULTS.md, "hash cost per unit of work"), rounded up
# from the highest rates seen (2026-12-04: PBKDF2 1.29 µs per iteration at 289,429 iterations, and
# 1.46 µs at 1,000,000 on a loaded machine, over the 1.0 µs this constant was; scrypt 0.66 µs per
# N·r·p at ln=17,r=8; SHA-512 1.31 µs).
PBKDF2_SECONDS_PER_ITERATION = 1.6e-6  # PBKDF2-HMAC-SHA512, 64-byte key
SCRYPT_SECONDS_PER_BLOCK = 0.8e-6  # per N·r·p
SHA512_SECONDS = 2.0e-6  # one SHA-512 of a short password + salt

SCRYPT_MEMORY_SHARE = 0.25


def cpu_share(memory_mb: int) -> float:
    return min(1.0, memory_mb / FULL_VCPU_MEMORY_MB)


def ceiling_seconds(memory_mb: int) -> float:
    """Core-seconds (as measured here) of hash work one CONNECT may cost at this memory size."""
    return LAMBDA_TIMEOUT_SECONDS * HASH_SHARE_OF_TIMEOUT * cpu_share(memory_mb) / SAFETY_FACTOR


def memory_needed_mb(seconds: float) -> int:
    """The smallest memory size whose ceiling covers seconds (None above one vCPU)."""
    for memory in range(LAMBDA_MEMORY_RANGE_MB[0], FULL_VCPU_MEMORY_MB + 1):
        if ceiling_seconds(memory) >= seconds:
            return memory
    return LAMBDA_MEMORY_RANGE_MB[1] + 1


def scrypt_memory_ceiling_bytes(memory_mb: int) -> int:
    return int(memory_mb * 1024 * 1024 * SCRYPT_MEMORY_SHARE)


def cost_seconds(stored: object) -> float:
    """Estimated core-seconds to verify one password against stored (a parsed hash)."""
    scheme = getattr(stored, "scheme", None)
    if scheme == "mosquitto-sha512":
        return SHA512_SECONDS
    if scheme == "mosquitto-pbkdf2":
        return stored.iterations * PBKDF2_SECONDS_PER_ITERATION  # type: ignore[attr-defined]
    if scheme == "scrypt":
        p = stored.params  # type: ignore[attr-defined]
        return (1 << p.log2_n) * p.r * p.p * SCRYPT_SECONDS_PER_BLOCK
    raise TypeError(f"no cost model for {type(stored).__name__}")


def check_cost(stored: object, memory_mb: int, what: str = "password hash") -> float:
    """Raise HashTooCostly if verifying stored would exceed the ceiling at memory_mb; return its cost.

    The message holds the scheme and derived figures, never the stored text.
    """
    seconds = cost_seconds(stored)
    ceiling = ceiling_seconds(memory_mb)
    if seconds > ceiling:
        needed = memory_needed_mb(seconds)
        fix = (
            f"raise authorizer.memorySize to at least {needed} MB or re-hash it cheaper"
            if needed <= FULL_VCPU_MEMORY_MB
            else "no memory size is enough (the hash runs on one vCPU); re-hash it cheaper"
        )
        raise HashTooCostly(
            f"{what} ({stored.scheme}) costs about {seconds:.2f} s of a core, over the ceiling of "  # type: ignore[attr-defined]
            f"{ceiling:.2f} s for a {memory_mb} MB function (5 s limit; see authorizer/cost.py) — {fix}"
        )
    if getattr(stored, "scheme", None) == "scrypt":
        working_set = stored.params.memory_bytes()  # type: ignore[attr-defined]
        if working_set > scrypt_memory_ceiling_bytes(memory_mb):
            raise HashTooCostly(
                f"{what} (scrypt) needs {working_set >> 20} MiB, more than a quarter of a {memory_mb} MB "
                "function — raise authorizer.memorySize or re-hash it with a smaller ln or r"
            )
    return seconds


# --------------------------------------------------------------------------- #
# The work of one CONNECT: every registered scheme, and the upgrade's re-hash
# --------------------------------------------------------------------------- #


def project_scrypt_spec() -> str:
    """The scheme channelctl and the upgrade on login write (hashes.DEFAULT_SCRYPT, read at call time)."""
    return hashes.Scrypt(hashes.DEFAULT_SCRYPT, b"", b"").work_spec()


def upgrade_target(stored: object) -> "hashes.ScryptParams | None":
    """The scrypt a successful login re-hashes stored with, or None: never a lower cost than stored's.

    A Mosquitto hash and a scrypt priced below the project's are upgraded to the
    project's scrypt; a scrypt priced at or above it (stronger parameters set on
    purpose) is kept.
    """
    target = hashes.DEFAULT_SCRYPT
    if getattr(stored, "scheme", None) == "scrypt" and cost_seconds(stored) >= cost_seconds(
        hashes.Scrypt(target, b"", b"")
    ):
        return None
    return target


def registry_specs(unknown_user_spec: str) -> tuple[str, ...]:
    """Every scheme a table imported with unknown_user_spec can hold: it, and the project's scrypt
    (``add``, ``set-password`` and the upgrade on login write it)."""
    return tuple(sorted({unknown_user_spec, project_scrypt_spec()}))


def verify_seconds(specs: "tuple[str, ...] | list[str] | set[str]") -> float:
    """Core-seconds of one verification of each spec (what every CONNECT costs)."""
    return sum(cost_seconds(hashes.dummy_hash(spec)) for spec in specs)


def rehash_seconds(specs: "tuple[str, ...] | list[str] | set[str]") -> float:
    """Core-seconds of the upgrade's re-hash a login of one of specs may add (0: none would be upgraded)."""
    targets = [upgrade_target(hashes.dummy_hash(spec)) for spec in specs]
    return max((cost_seconds(hashes.Scrypt(t, b"", b"")) for t in targets if t is not None), default=0.0)


def connect_cost_seconds(specs: "tuple[str, ...] | list[str] | set[str]") -> float:
    """The most one CONNECT costs with these schemes registered: one verification of each, then, for a
    legacy hash, the re-hash of the upgrade on login (a first login after a Mosquitto import)."""
    return verify_seconds(specs) + rehash_seconds(specs)


def check_connect_cost(specs: "tuple[str, ...] | list[str] | set[str]", memory_mb: int, what: str) -> float:
    """Raise HashTooCostly if one CONNECT with specs registered can exceed the ceiling at memory_mb."""
    verify, rehash = verify_seconds(specs), rehash_seconds(specs)
    seconds, ceiling = verify + rehash, ceiling_seconds(memory_mb)
    if seconds > ceiling:
        needed = memory_needed_mb(seconds)
        fix = (
            f"raise authorizer.memorySize to at least {needed} MB"
            if needed <= FULL_VCPU_MEMORY_MB
            else "no memory size is enough (the hash runs on one vCPU); use cheaper schemes"
        )
        raise HashTooCostly(
            f"{what}: one CONNECT verifies {', '.join(sorted(specs))} ({verify:.3f} s of a core)"
            + (f" and a first legacy login re-hashes with {project_scrypt_spec()} ({rehash:.3f} s)" if rehash else "")
            + f", {seconds:.3f} s in all, over the ceiling of {ceiling:.3f} s for a {memory_mb} MB function "
            f"(see authorizer/cost.py) — {fix}"
        )
    return seconds


@dataclass(frozen=True)
class HashWork:
    """What the authorizer verifies on every CONNECT, and whether a login may upgrade a legacy hash."""

    specs: tuple[str, ...]
    upgrade: bool
    problems: tuple[str, ...] = ()


def plan_hash_work(registry: "tuple[str, ...] | None", unknown_user_spec: str, memory_mb: int) -> HashWork:
    """The CONNECT work from the table's registry (None: absent or unreadable as a registry).

    Always the project's scrypt (what add, set-password and the upgrade write)
    beside the registered schemes; without a registry, UNKNOWN_USER_HASH beside
    it, so unknown names cost what the table's known ones do. An entry that is
    no scheme spec, or costs more than the ceiling alone, is never used. If all
    of them together exceed the ceiling, the costliest are left out until they
    fit; the upgrade's re-hash is left out first.
    """
    ceiling = ceiling_seconds(memory_mb)
    problems: list[str] = []
    wanted = set(registry) if registry is not None else {unknown_user_spec}
    wanted.add(project_scrypt_spec())
    usable: dict[str, float] = {}
    for spec in sorted(wanted):
        try:
            seconds = cost_seconds(hashes.dummy_hash(spec))
        except AuthorizerError:
            problems.append("a registry entry is not a hash scheme spec; left out")
            continue
        if seconds > ceiling:
            problems.append(f"{spec} alone exceeds the cost ceiling; left out")
            continue
        usable[spec] = seconds
    if not usable:
        usable[unknown_user_spec] = cost_seconds(hashes.dummy_hash(unknown_user_spec))
    while sum(usable.values()) > ceiling and len(usable) > 1:
        dropped = max(usable, key=lambda spec: usable[spec])
        del usable[dropped]
        problems.append(f"{dropped} left out, the schemes together exceed the cost ceiling")
    specs = tuple(sorted(usable))
    upgrade = project_scrypt_spec() in usable and connect_cost_seconds(specs) <= ceiling
    if project_scrypt_spec() in usable and not upgrade:
        problems.append("no upgrade on login: the re-hash would exceed the cost ceiling")
    return HashWork(specs=specs, upgrade=upgrade, problems=tuple(problems))
