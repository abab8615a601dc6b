"""Statistics over replications: means and confidence intervals.

Replications of a stochastic model are a small sample (typically 10-50 runs), so intervals use
Student's t rather than a normal approximation, which would be too narrow at that size.

:func:`summarise` is defined next to the runs it summarises (:mod:`simulation.batch.runner`, which
the
results store also uses) and re-exported here with the rest of the statistics.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from scipy import stats

from simulation.batch.runner import summarise

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["MAX_SUGGESTED_REPS", "row_interval", "summarise"]

MAX_SUGGESTED_REPS = 1000  # replications beyond which a gap is too small to matter or to measure


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
