"""Paired comparisons of scenarios run on common random numbers.

Every scenario of a comparison runs on the same replication seeds, so replication ``i`` of each
faces the same customers, deal sizes and chatter. The difference of scenario B from the first
scenario A is therefore estimated from the paired differences ``d_i = B_i - A_i``, whose spread
is far smaller than that of either scenario alone:

* difference: the mean of ``d``, with a two-sided 95% Student-t interval (``n - 1`` degrees of
  freedom), the interval of a paired t-test;
* probability that B is better: with a flat prior on the true mean difference, its posterior is
  a Student-t centred on ``mean(d)`` with scale ``sd(d)/sqrt(n)``, so
  ``P(B better) = T_{n-1}(mean(d) / se)`` for a KPI where higher is better (``-mean(d)/se`` where
  lower is better). It is one minus the one-sided p-value, read as a probability a board member
  understands.

Functions here are pure: they take the runs' values and return numbers; the verdict lines are
worded by :mod:`simulation.analysis.words` (its number and verdict functions are re-exported here).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from scipy import stats

from simulation.analysis.words import (
    certainty,
    display_unit,
    format_kpi_value,
    is_share,
    table_unit,
    verdict,
)
from simulation.batch.runner import summarise, value_bounds
from simulation.model.metrics import KPIS

__all__ = [
    "certainty",
    "compare_values",
    "display_unit",
    "format_kpi_value",
    "is_share",
    "paired_difference",
    "table_unit",
    "verdict",
]


def paired_difference(
    base: Sequence[float], other: Sequence[float], better: str, confidence: float = 0.95
) -> dict[str, float]:
    """Paired difference ``other - base`` over replications, with interval and P(better).

    Pairs where either value is NaN (a KPI undefined in that run) are dropped.

    Returns:
        ``{"n", "base_mean", "mean", "diff", "ci_low", "ci_high", "relative", "p_better"}``;
        with one pair the interval is the point and ``p_better`` is NaN.
    """
    a = np.asarray(base, dtype=float)
    b = np.asarray(other, dtype=float)
    if a.shape != b.shape:
        raise ValueError(f"paired values need equal lengths, got {a.size} and {b.size}")
    keep = ~(np.isnan(a) | np.isnan(b))
    a, b = a[keep], b[keep]
    n = int(a.size)
    if n == 0:
        nan = math.nan
        return dict(n=0, base_mean=nan, mean=nan, diff=nan, ci_low=nan, ci_high=nan,
                    relative=nan, p_better=nan)  # fmt: skip
    d = b - a
    diff = float(d.mean())
    base_mean, mean = float(a.mean()), float(b.mean())
    relative = diff / abs(base_mean) if base_mean != 0 else math.nan
    if n == 1:
        return dict(n=1, base_mean=base_mean, mean=mean, diff=diff, ci_low=diff, ci_high=diff,
                    relative=relative, p_better=math.nan)  # fmt: skip
    se = float(d.std(ddof=1)) / math.sqrt(n)
    if se == 0:
        half = 0.0
        up = 0.5 if diff == 0 else (1.0 if diff > 0 else 0.0)
    else:
        half = float(stats.t.ppf(0.5 + confidence / 2, df=n - 1)) * se
        up = float(stats.t.cdf(diff / se, df=n - 1))
    return {
        "n": n,
        "base_mean": base_mean,
        "mean": mean,
        "diff": diff,
        "ci_low": diff - half,
        "ci_high": diff + half,
        "relative": relative,
        "p_better": up if better == "higher" else 1.0 - up,
    }


def compare_values(
    values: Mapping[str, Mapping[str, Sequence[float]]],
    labels: Sequence[str],
    kpis: Sequence[str],
    seeds: Sequence[int],
    shown: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The whole comparison from per-run values: ``values[label][kpi]`` lists, in seed order.

    ``shown`` gives the plain-words label people read for each scenario (default: its name);
    the verdict lines use it, the JSON keys stay the names.

    Returns the JSON shape of ``friction compare --json``: per-scenario summaries, paired
    differences against the first scenario, verdict lines, and the per-run values.
    """
    base = labels[0]
    shown = {x: (shown or {}).get(x, x) for x in labels}
    out: dict[str, Any] = {
        "baseline": base,
        "scenarios": list(labels),
        "labels": shown,
        "replications": len(seeds),
        "seeds": list(seeds),
        "summaries": {},
        "differences": {},
        "verdicts": {},
        "runs": {label: {k: list(values[label][k]) for k in kpis} for label in labels},
    }
    for label in labels:
        out["summaries"][label] = {
            k: summarise(values[label][k], bounds=value_bounds(k)) for k in kpis
        }
    for label in labels[1:]:
        diffs = {k: paired_difference(values[base][k], values[label][k], _better(k)) for k in kpis}
        out["differences"][label] = diffs
        out["verdicts"][label] = [verdict(k, diffs[k], shown[base], shown[label]) for k in kpis]
    return out


def _better(name: str) -> str:
    kpi = KPIS.get(name)
    return kpi.better if kpi is not None else "higher"
