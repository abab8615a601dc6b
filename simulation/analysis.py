"""Statistics over replications: means and confidence intervals.

Replications of a stochastic model are a small sample (typically 10-50 runs), so intervals use
Student's t rather than a normal approximation, which would be too narrow at that size.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import TYPE_CHECKING

import numpy as np
from scipy import stats

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["MAX_SUGGESTED_REPS", "row_interval", "summarise"]

MAX_SUGGESTED_REPS = 1000  # replications beyond which a gap is too small to matter or to measure


def summarise(
    values: Iterable[float],
    confidence: float = 0.95,
    bounds: tuple[float, float] = (-math.inf, math.inf),
) -> dict[str, float]:
    """Mean and two-sided Student-t confidence interval of the mean.

    ``bounds`` are the values the quantity can take (a share lies in [0, 1]); the interval is
    clipped to them, so a few replications never report a negative churn rate.

    NaN values are ignored: a KPI can be undefined in a run (for example lead time when no
    customer was activated), and one such run should not erase the others. With a single value
    the interval collapses to the mean (there is no spread to estimate); with no usable value
    every field is NaN.

    Returns:
        ``{"mean": ..., "ci_low": ..., "ci_high": ...}`` as plain floats.
    """
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be between 0 and 1, got {confidence}")
    arr = np.asarray(list(values), dtype=float)
    arr = arr[~np.isnan(arr)]
    if arr.size == 0:
        return {"mean": math.nan, "ci_low": math.nan, "ci_high": math.nan}
    mean = float(arr.mean())
    if arr.size == 1:
        return {"mean": mean, "ci_low": mean, "ci_high": mean}
    sem = float(arr.std(ddof=1)) / math.sqrt(arr.size)
    half = float(stats.t.ppf(0.5 + confidence / 2, df=arr.size - 1)) * sem
    lo, hi = bounds
    return {"mean": mean, "ci_low": max(mean - half, lo), "ci_high": min(mean + half, hi)}


def row_interval(
    table: pd.DataFrame, confidence: float = 0.95
) -> tuple[pd.Series, pd.Series | None]:
    """Mean of each row over its columns (replications) and the half-width of the row's
    two-sided Student-t confidence interval; the half-width is ``None`` with one column (no
    spread to estimate). A daily chart's band is ``mean - half`` to ``mean + half``.
    """
    n = table.shape[1]
    mean = table.mean(axis=1)
    if n < 2:
        return mean, None
    t = float(stats.t.ppf(0.5 + confidence / 2, df=n - 1))
    return mean, t * table.std(axis=1, ddof=1) / math.sqrt(n)
