"""Deals (leads -> customers) as a struct of arrays: the work items of the value stream.

Thousands of deals per run are kept as columns, not Mesa agents. Each deal draws everything
random about itself once, at creation, from the ``deals`` stream (its value, work, patience,
...), so whatever a scenario changes, the same customer behaves the same way.
"""

from __future__ import annotations

import functools
import math

import numpy as np
from scipy.special import ndtri

# Stages: every lead is in exactly one of these.
OPEN, LOST, HANDOVER, ONBOARDING, ACTIVATED, CHURNED = range(6)
STAGE_NAMES = ("open", "lost", "handover", "onboarding", "activated", "churned")

_FLOAT = (
    "value", "sell_need", "sell_done", "doc_hours", "impl_base", "complexity",
    "u_win", "stale_budget", "patience", "u_misread", "u_comply", "u_exc", "u_auth", "u_trigger",
    "u_oversell", "u_flag",
    "promise", "c_close", "c_ops", "remaining", "work_total", "rework_h", "search_h",
    "cum_hazard", "handover_hours", "exc_latency", "questions",
)  # fmt: skip
_INT = (
    "rep", "queue", "created", "closed", "trigger", "ops_entry", "ready", "done", "seq", "n_exc",
)  # fmt: skip
_BOOL = ("gated", "flagged", "returned", "misread", "translated")

#: Number of uniform draws per deal (columns of the creation draw, see ``DealBook.add``).
N_UNIFORMS = 14


class DealBook:
    """Columns for every deal of a run: scheduled at set-up, released on their arrival day.

    Lead arrivals and every deal attribute are exogenous (the market), so the whole arrival
    schedule is drawn once, in arrival order, from the ``leads`` and ``deals`` streams; a deal
    exists (``stage`` >= 0) from its ``created`` day. ``n`` deals have arrived so far; rows beyond
    that are scheduled but not yet real (stage -1), and every column is a plain attribute over the
    whole capacity so the daily hot path indexes arrays directly.
    """

    def __init__(self, capacity: int) -> None:
        self.n = 0  # deals that have arrived
        self.scheduled = 0  # deals drawn so far (arrived or future)
        self.cap = max(16, capacity)
        self.names: list[str] = [*_FLOAT, *_INT, *_BOOL, "stage"]
        for name in self.names:
            setattr(self, name, self._blank(name, self.cap))
        self.live = np.zeros(0, dtype=np.int64)  # deals not yet lost, activated or churned

    @staticmethod
    def _blank(name: str, size: int) -> np.ndarray:
        if name == "stage":
            return np.full(size, -1, dtype=np.int8)
        if name in _INT:
            return np.full(size, -1, dtype=np.int64)
        if name in _BOOL:
            return np.zeros(size, dtype=bool)
        return np.zeros(size)

    def _grow(self, need: int) -> None:
        new_cap = max(need, int(self.cap * 1.5))
        for name in self.names:
            grown = self._blank(name, new_cap)
            grown[: self.cap] = getattr(self, name)
            setattr(self, name, grown)
        self.cap = new_cap

    def drop_future(self) -> None:
        """Forget deals scheduled but not yet arrived (the market changed mid-run)."""
        for name in self.names:
            getattr(self, name)[self.n : self.scheduled] = self._blank(name, 1)[0]
        self.scheduled = self.n

    def schedule(
        self,
        reps: np.ndarray,
        days: np.ndarray,
        u: np.ndarray,
        *,
        value_mean: float,
        value_cv: float,
        sell_hours: float,
        impl_hours: float,
        work_cv: float,
    ) -> None:
        """Append future leads for ``reps`` arriving on ``days`` (non-decreasing) from uniforms."""
        k = len(reps)
        if k == 0:
            return
        if self.scheduled + k > self.cap:
            self._grow(self.scheduled + k)
        s = slice(self.scheduled, self.scheduled + k)
        self.rep[s] = reps
        self.created[s] = days
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
        self.u_flag[s] = u[:, 13]
        self.scheduled += k

    def release(self, day: int) -> np.ndarray:
        """Ids of the leads arriving on ``day``; they become open opportunities."""
        end = self.n + int(
            np.searchsorted(self.created[self.n : self.scheduled], day, side="right")
        )
        new = np.arange(self.n, end)
        self.stage[new] = OPEN
        self.n = end
        return new

    def arrive(self, day: int) -> None:
        """Today's leads become open opportunities and join the live deals."""
        new = self.release(day)
        if len(new):
            self.live = np.concatenate((self.live, new))

    def live_in(self, stage: int) -> np.ndarray:
        """Ids of the live deals in ``stage``."""
        return self.live[self.stage[self.live] == stage]

    def waiting(self) -> np.ndarray:
        """Closed-won customers not yet activated (in handover or onboarding)."""
        st = self.stage[self.live]
        return self.live[(st == HANDOVER) | (st == ONBOARDING)]

    def settle(self) -> tuple[float, float, float]:
        """Drop deals that reached a final stage today from the live set.

        Returns the open opportunities, handover backlog and onboarding work in progress.
        """
        st = self.stage[self.live]
        keep = (st == OPEN) | (st == HANDOVER) | (st == ONBOARDING)
        self.live = self.live[keep]
        counts = np.bincount(st[keep], minlength=ONBOARDING + 1)
        return float(counts[OPEN]), float(counts[HANDOVER]), float(counts[ONBOARDING])

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
    return np.where(cv > 0, np.exp(mu + sigma * z), mean)


def poisson_inverse(u: np.ndarray, mean: np.ndarray) -> np.ndarray:
    """Poisson counts by inverse transform of pre-drawn uniforms (keeps draws per deal fixed).

    The support is cut where the upper tail is negligible (mean + 10 sd + 10).
    """
    if len(mean) == 0:
        return np.zeros(0, dtype=np.int64)
    top = float(mean.max())
    kmax = int(top + 10.0 * math.sqrt(top) + 10.0)
    k = np.arange(kmax)
    lgamma = _lgamma_table(kmax)
    logpmf = k[None, :] * np.log(np.maximum(mean, 1e-300))[:, None] - mean[:, None] - lgamma
    cdf = np.cumsum(np.exp(logpmf), axis=1)
    return (u[:, None] > cdf).sum(axis=1)


@functools.cache
def _lgamma_table(kmax: int) -> np.ndarray:
    return np.array([math.lgamma(k + 1) for k in range(kmax)])[None, :]
