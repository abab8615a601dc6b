"""Named random streams: one generator per stochastic process (common random numbers).

Every draw in a run comes from a stream derived from the run's root seed and the stream's name,
so changing a lever that does not touch a process leaves that process's draws unchanged, and
two scenarios run on the same seed see the same leads, deal sizes and customer patience.
"""

from __future__ import annotations

import zlib

import numpy as np

#: The processes that draw random numbers. Adding a stream never shifts the others.
STREAM_NAMES = (
    "leads",  # daily lead arrivals per rep
    "deals",  # per-deal attributes drawn once at creation (value, work, patience, ...)
    "people",  # per-person traits at initialisation (norms)
    "chatter",  # daily non-deal messages per person
    "judging",  # silo-buster judging noise
)


def root_entropy(
    rng: int | np.integer | np.random.SeedSequence | np.random.Generator | None,
) -> int:
    """Turn whatever Mesa accepts as ``rng`` into one integer of root entropy."""
    if isinstance(rng, np.random.SeedSequence):
        return int(rng.generate_state(2, np.uint64)[0])
    if isinstance(rng, np.random.Generator):
        return int(rng.integers(0, 2**63 - 1))
    if rng is None:
        return int(np.random.SeedSequence().entropy)  # fresh OS entropy, recorded by the model
    return int(rng)


def make_streams(entropy: int) -> dict[str, np.random.Generator]:
    """One independent generator per named process, keyed by a stable hash of its name."""
    return {
        name: np.random.default_rng(
            np.random.SeedSequence(entropy=entropy, spawn_key=(zlib.crc32(name.encode()),))
        )
        for name in STREAM_NAMES
    }
