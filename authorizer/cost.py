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
   rounded up to the highest rate seen, on a loaded machine. The function runs
   on arm64 (Graviton), not measured here: a safety factor of 2 covers a slower
   core.

So the ceiling in core-seconds as measured here is
``5 s × 0.4 × min(1, memory / 1769) / 2``: 0.289 s at the default 512 MB, 1 s
at 1,769 MB. A stored hash, the unknown-user dummies and the project's own
scrypt parameters are refused above it: at import, at ``set-password``, in
the stack configuration and in the Lambda itself. scrypt's working set
(128·r·N bytes) must also fit in a quarter of the function's memory.
"""

from __future__ import annotations

from .errors import HashTooCostly

LAMBDA_TIMEOUT_SECONDS = 5  # IoT Core's limit for a custom authorizer
HASH_SHARE_OF_TIMEOUT = 0.4  # 2 of the 5 s
FULL_VCPU_MEMORY_MB = 1_769  # Lambda: 1,769 MB = one vCPU
SAFETY_FACTOR = 2.0  # arm64 cores, not measured here
DEFAULT_MEMORY_MB = 512  # authorizer.memorySize default (components/config/)
LAMBDA_MEMORY_RANGE_MB = (128, 10_240)

# Measured: benchmarks/hash_cost_bench.py (RESULTS.md, "hash cost per unit of work").
PBKDF2_SECONDS_PER_ITERATION = 1.0e-6  # PBKDF2-HMAC-SHA512, 64-byte key
SCRYPT_SECONDS_PER_BLOCK = 0.7e-6  # per N·r·p
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
