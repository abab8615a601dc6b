"""Replication seeds: one independent stream per run, derived from a root seed.

Seeds come from ``numpy.random.SeedSequence`` rather than ``seed + i``: consecutive integer
seeds give correlated streams in some generators and make replication ``i`` of seed ``S`` equal
replication ``i - 1`` of seed ``S + 1``. The same ``(seed, i)`` always gives the same run, so
two scenarios run with the same seed are compared on common random numbers.

This module needs only NumPy, so sweep files (:mod:`simulation.batch.design`) can number their runs
without loading the model.
"""

from __future__ import annotations

import numpy as np

__all__ = ["replication_seeds", "spawned_seed"]


def replication_seeds(seed: int, reps: int) -> list[int]:
    """One independent 63-bit seed per replication, derived from ``seed``.

    63 bits keep the seed a non-negative signed 64-bit integer, safe for any consumer.
    """
    if seed < 0:
        raise ValueError(f"seed must be >= 0, got {seed}")
    if reps < 1:
        raise ValueError(f"reps must be >= 1, got {reps}")
    return [spawned_seed(seed, i) for i in range(reps)]


def spawned_seed(root: int, index: int) -> int:
    """Seed number ``index`` spawned from ``root``: the first 64 bits of
    ``SeedSequence(entropy=root, spawn_key=(index,))``, shifted to 63 bits."""
    state = np.random.SeedSequence(entropy=root, spawn_key=(index,)).generate_state(1, np.uint64)
    return int(state[0]) >> 1
