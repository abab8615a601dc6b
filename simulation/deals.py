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
    """Growable columns for every deal created in a run."""

    def __init__(self, capacity: int) -> None:
        self.n = 0
        self.cap = max(16, capacity)
        self.cols: dict[str, np.ndarray] = {}
        for name in _FLOAT:
            self.cols[name] = np.zeros(self.cap)
        for name in _INT:
            self.cols[name] = np.full(self.cap, -1, dtype=np.int64)
        for name in _BOOL:
            self.cols[name] = np.zeros(self.cap, dtype=bool)
        self.cols["stage"] = np.full(self.cap, -1, dtype=np.int8)

    def __getattr__(self, name: str) -> np.ndarray:
        cols = self.__dict__.get("cols")
        if cols is not None and name in cols:
            return cols[name][: self.n]
        raise AttributeError(name)

    def _grow(self, need: int) -> None:
        new_cap = max(need, int(self.cap * 1.5))
        for name, col in self.cols.items():
            fill = -1 if col.dtype.kind == "i" else 0
            grown = np.full(new_cap, fill, dtype=col.dtype)
            grown[: self.cap] = col
            self.cols[name] = grown
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
        c = self.cols
        c["stage"][s] = OPEN
        c["rep"][s] = reps
        c["created"][s] = day
        c["value"][s] = _lognormal(u[:, 0], value_mean, value_cv)
        c["sell_need"][s] = _lognormal(u[:, 1], sell_hours, work_cv)
        c["impl_base"][s] = _lognormal(u[:, 2], impl_hours, work_cv)
        c["complexity"][s] = _lognormal(u[:, 3], 1.0, work_cv)
        c["u_win"][s] = u[:, 4]
        c["stale_budget"][s] = -np.log1p(-u[:, 5])  # Exp(1)
        c["patience"][s] = -np.log1p(-u[:, 6])  # Exp(1)
        c["u_misread"][s] = u[:, 7]
        c["u_comply"][s] = u[:, 8]
        c["u_exc"][s] = u[:, 9]
        c["u_auth"][s] = u[:, 10]
        c["u_trigger"][s] = u[:, 11]
        c["u_oversell"][s] = u[:, 12]
        self.n += k

    def counts(self) -> np.ndarray:
        """Deals per stage (conservation: sums to the number of leads)."""
        return np.bincount(self.stage, minlength=len(STAGE_NAMES))


def _lognormal(u: np.ndarray, mean: float, cv: float) -> np.ndarray:
    """Lognormal with the given mean and coefficient of variation, by inverse transform."""
    if cv <= 0:
        return np.full(len(u), mean)
    sigma = np.sqrt(np.log1p(cv * cv))
    mu = np.log(mean) - 0.5 * sigma * sigma
    return np.exp(mu + sigma * ndtri(np.clip(u, 1e-12, 1 - 1e-12)))
