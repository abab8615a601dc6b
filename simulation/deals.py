"""Deals (leads -> customers) as a struct of arrays: the work items of the value stream.

Thousands of deals per run are kept as columns, not Mesa agents. Each deal draws everything
random about itself once, at creation, from the ``deals`` stream (its value, work, patience,
...), so whatever a scenario changes, the same customer behaves the same way.
"""

from __future__ import annotations

import numpy as np
from scipy.special import ndtri

# Stages: every lead is in exactly one of these.
OPEN, LOST, HANDOVER, ONBOARDING, ACTIVATED, CHURNED = range(6)
STAGE_NAMES = ("open", "lost", "handover", "onboarding", "activated", "churned")

_FLOAT = (
    "value", "sell_need", "sell_done", "doc_hours", "impl_base", "complexity",
    "u_win", "stale_budget", "patience", "u_misread", "u_comply", "u_exc", "u_auth", "u_trigger",
    "u_oversell",
    "promise", "c_close", "c_ops", "remaining", "work_total", "rework_h", "search_h",
    "cum_hazard", "handover_hours", "exc_latency", "questions",
)  # fmt: skip
_INT = (
    "rep", "queue", "created", "closed", "trigger", "ops_entry", "ready", "done", "seq", "n_exc",
)  # fmt: skip
_BOOL = ("gated", "flagged", "returned", "misread", "translated")

#: Number of uniform draws per deal (columns of the creation draw, see ``DealBook.add``).
N_UNIFORMS = 13


class DealBook:
    """Growable columns for every deal created in a run.

    Columns are plain attributes over the whole allocated capacity (unused rows have stage -1),
    so the daily hot path indexes arrays directly; ``n`` deals exist.
    """

    def __init__(self, capacity: int) -> None:
        self.n = 0
        self.cap = max(16, capacity)
        self.names: list[str] = [*_FLOAT, *_INT, *_BOOL, "stage"]
        for name in _FLOAT:
            setattr(self, name, np.zeros(self.cap))
        for name in _INT:
            setattr(self, name, np.full(self.cap, -1, dtype=np.int64))
        for name in _BOOL:
            setattr(self, name, np.zeros(self.cap, dtype=bool))
        self.stage = np.full(self.cap, -1, dtype=np.int8)

    def column(self, name: str) -> np.ndarray:
        """The existing deals' values of one column (a view)."""
        return getattr(self, name)[: self.n]

    def _grow(self, need: int) -> None:
        new_cap = max(need, int(self.cap * 1.5))
        for name in self.names:
            col = getattr(self, name)
            fill = -1 if col.dtype.kind == "i" else 0
            grown = np.full(new_cap, fill, dtype=col.dtype)
            grown[: self.cap] = col
            setattr(self, name, grown)
        self.cap = new_cap

    def add(
        self,
        reps: np.ndarray,
        day: int,
        u: np.ndarray,
        *,
        value_mean: float,
        value_cv: float,
        sell_hours: float,
        impl_hours: float,
        work_cv: float,
    ) -> None:
        """Create leads for ``reps`` on ``day`` from a (n, N_UNIFORMS) block of uniforms."""
        k = len(reps)
        if k == 0:
            return
        if self.n + k > self.cap:
            self._grow(self.n + k)
        s = slice(self.n, self.n + k)
        self.stage[s] = OPEN
        self.rep[s] = reps
        self.created[s] = day
        sizes = _lognormal(
            u[:, :4],
            np.array([value_mean, sell_hours, impl_hours, 1.0]),
            np.array([value_cv, work_cv, work_cv, work_cv]),
        )
        self.value[s] = sizes[:, 0]
        self.sell_need[s] = sizes[:, 1]
        self.impl_base[s] = sizes[:, 2]
        self.complexity[s] = sizes[:, 3]
        self.u_win[s] = u[:, 4]
        self.stale_budget[s] = -np.log1p(-u[:, 5])  # Exp(1)
        self.patience[s] = -np.log1p(-u[:, 6])  # Exp(1)
        self.u_misread[s] = u[:, 7]
        self.u_comply[s] = u[:, 8]
        self.u_exc[s] = u[:, 9]
        self.u_auth[s] = u[:, 10]
        self.u_trigger[s] = u[:, 11]
        self.u_oversell[s] = u[:, 12]
        self.n += k

    def counts(self) -> np.ndarray:
        """Deals per stage (conservation: sums to the number of leads)."""
        return np.bincount(self.stage[: self.n], minlength=len(STAGE_NAMES))


def _lognormal(u: np.ndarray, mean: np.ndarray, cv: np.ndarray) -> np.ndarray:
    """Lognormal columns with the given means and coefficients of variation (inverse transform).

    A coefficient of variation of 0 gives the mean exactly.
    """
    sigma = np.sqrt(np.log1p(cv * cv))
    mu = np.log(mean) - 0.5 * sigma * sigma
    z = ndtri(np.minimum(np.maximum(u, 1e-12), 1.0 - 1e-12))
    return np.exp(mu + sigma * z)
