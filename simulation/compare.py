"""Paired comparisons of scenarios run on common random numbers, and plain-language verdicts.

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

Functions here are pure: they take the runs' values and return numbers and sentences.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from scipy import stats

from simulation.analysis import summarise
from simulation.metrics import KPI, KPIS
from simulation.runner import value_bounds
from simulation.tables import format_number, number_style

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

#: Probability thresholds of the verdict's words, from the most to the least sure.
CERTAINTY = (
    (0.99, "almost certainly"),
    (0.95, "very likely"),
    (0.80, "probably"),
)
SMALL_CHANGE = 0.01  # a change under 1% of the first scenario's mean is called small


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


def certainty(p_better: float) -> tuple[str, str]:
    """``(how sure, direction)``: ("very likely", "better"), ("", "no clear difference")."""
    if math.isnan(p_better):
        return "", "not enough replications to say"
    for threshold, words in CERTAINTY:
        if p_better >= threshold:
            return words, "better"
        if 1 - p_better >= threshold:
            return words, "worse"
    return "", "no clear difference"


def is_share(kpi: KPI) -> bool:
    """A KPI that is a share (shown in %, its differences in percentage points)."""
    return kpi.bounds == (0.0, 1.0) and kpi.unit.startswith("share")


def display_unit(kpi: KPI | None, diff: bool = False) -> str:
    """The unit a reader sees: shares in % (their differences in points), money per year."""
    if kpi is None:
        return ""
    if is_share(kpi):
        return "points" if diff else "%"
    if kpi.unit.startswith("currency"):
        return "/year" if kpi.unit.endswith("/year") else ""
    if "0-1" in kpi.unit:
        return ""
    return kpi.unit


def table_unit(kpi: KPI | None, diff: bool = False) -> str:
    """The unit a table states once per row: money keeps its period ("currency/year")."""
    if kpi is not None and kpi.unit.startswith("currency"):
        return kpi.unit
    return display_unit(kpi, diff) or "-"


def format_kpi_value(kpi: KPI | None, value: float, diff: bool = False, unit: bool = True) -> str:
    """A KPI value as a reader expects it: shares in % (differences in points), money compact.

    ``unit=False`` leaves the unit out (a table states it once per row).
    """
    if value is None or math.isnan(value):
        return "n/a"
    sign = "+" if diff and value > 0 else ""
    shown = display_unit(kpi, diff) if unit else ""
    if kpi is not None and is_share(kpi):
        text = f"{value * 100:.1f}"
        return f"{sign}{text}{' ' if diff else ''}{shown}".rstrip()
    if kpi is not None and kpi.unit.startswith("currency"):
        text = format_number(value, number_style(value, compact=True))
        return f"{sign}{text}{shown}"
    text = format_number(value, number_style(value))
    return f"{sign}{text} {shown}".rstrip()


def verdict(name: str, d: Mapping[str, float], base_label: str, label: str) -> str:
    """One sentence a board member understands: what changed, by how much, how sure."""
    kpi = KPIS.get(name)
    title = kpi.label if kpi is not None else name
    if d["n"] == 0:
        return f"{title}: not defined in these runs."
    base_v = format_kpi_value(kpi, d["base_mean"])
    new_v = format_kpi_value(kpi, d["mean"])
    if d["diff"] == 0 and d["ci_low"] == d["ci_high"]:
        return f"{title}: unchanged at {base_v} under {label}."
    move = "up" if d["diff"] > 0 else "down"
    rel = "" if math.isnan(d["relative"]) else f", {d['relative']:+.0%}"
    change = format_kpi_value(kpi, d["diff"], diff=True)
    lo = format_kpi_value(kpi, d["ci_low"], diff=True, unit=False)
    hi = format_kpi_value(kpi, d["ci_high"], diff=True, unit=False)
    words, direction = certainty(d["p_better"])
    if direction == "not enough replications to say":
        judgement = "One replication cannot say how sure this is."
    elif direction == "no clear difference":
        judgement = (
            f"No clear difference ({d['p_better']:.0%} chance it is better); more replications "
            "could settle it."
        )
    else:
        chance = d["p_better"] if direction == "better" else 1 - d["p_better"]
        judgement = f"{words.capitalize()} {direction} ({_chance(chance)} chance)"
        if not math.isnan(d["relative"]) and abs(d["relative"]) < SMALL_CHANGE:
            judgement += ", but a small change"
        judgement += "."
    return (
        f"{title}: {move} from {base_v} under {base_label} to {new_v} under {label} "
        f"({change}{rel}; 95% interval {lo} to {hi}). {judgement}"
    )


def _chance(p: float) -> str:
    """A probability as people say it: 'over 99%' rather than '100%'."""
    if p >= 0.995:
        return "over 99%"
    return f"{p:.0%}"


def compare_values(
    values: Mapping[str, Mapping[str, Sequence[float]]],
    labels: Sequence[str],
    kpis: Sequence[str],
    seeds: Sequence[int],
) -> dict[str, Any]:
    """The whole comparison from per-run values: ``values[label][kpi]`` lists, in seed order.

    Returns the JSON shape of ``friction compare --json``: per-scenario summaries, paired
    differences against the first scenario, verdict lines, and the per-run values.
    """
    base = labels[0]
    out: dict[str, Any] = {
        "baseline": base,
        "scenarios": list(labels),
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
        out["verdicts"][label] = [verdict(k, diffs[k], base, label) for k in kpis]
    return out


def _better(name: str) -> str:
    kpi = KPIS.get(name)
    return kpi.better if kpi is not None else "higher"
