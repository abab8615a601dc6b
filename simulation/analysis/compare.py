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

Two words have one meaning everywhere (:func:`beats`, :func:`cannot_separate`):

* A *beats* B on a KPI when the paired 95% interval of the difference A - B excludes 0 in A's
  favour (above 0 where higher is better, below 0 where lower is better);
* the top two *cannot be separated* when the interval of their paired difference includes 0.

:func:`rank_plans` orders plans (or levers) for a headline with them: by the ranking KPI, except
that a plan is never named before one that beats it on every mission KPI
(:data:`simulation.model.metrics.MISSION`).

Functions here are pure: they take the runs' values and return numbers; the verdict lines are
worded by :mod:`simulation.analysis.words` (its number and verdict functions are re-exported here).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
from scipy import stats

from simulation.analysis.words import (
    certainty,
    comparison_bottom_line,
    comparison_headline_of,
    display_unit,
    format_kpi_value,
    is_share,
    table_unit,
    verdict,
)
from simulation.batch.runner import summarise, value_bounds
from simulation.model.metrics import KPIS, MISSION
from simulation.scenario.levers import DEFAULT_RANK

__all__ = [
    "beaten_on_every_kpi",
    "beats",
    "cannot_separate",
    "certainty",
    "compare_values",
    "display_unit",
    "format_kpi_value",
    "is_share",
    "named_first_order",
    "paired_difference",
    "rank_plans",
    "relabel",
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


def beats(d: Mapping[str, Any], better: str) -> bool:
    """True when a paired difference says the plan it measures beats the one it is measured
    against: ``d`` is ``other - base`` (as :func:`paired_difference` returns it) and its 95%
    interval excludes 0 in the KPI's good direction (``better``: "higher" or "lower").

    With fewer than two pairs there is no interval, so nothing beats anything.
    """
    lo, hi = float(d["ci_low"]), float(d["ci_high"])
    if int(d["n"]) < 2 or math.isnan(lo) or math.isnan(hi):
        return False
    return lo > 0 if better == "higher" else hi < 0


def cannot_separate(d: Mapping[str, Any]) -> bool:
    """True when the interval of a paired difference includes 0 (or there is no interval):
    neither plan beats the other (see :func:`beats`)."""
    lo, hi = float(d["ci_low"]), float(d["ci_high"])
    if int(d["n"]) < 2 or math.isnan(lo) or math.isnan(hi):
        return True
    return lo <= 0 <= hi


Values = Mapping[str, Mapping[str, Sequence[float]]]  # values[plan][kpi], in seed order


def beaten_on_every_kpi(
    values: Values, plan: str, other: str, kpis: Sequence[str], better: Mapping[str, str]
) -> bool:
    """True when ``other`` beats ``plan`` on each of ``kpis`` (paired on the same seeds).

    With no KPI, or a KPI either plan lacks, nothing is beaten: the claim cannot be checked.
    """
    if not kpis or plan == other:
        return False
    for k in kpis:
        if k not in values[plan] or k not in values[other]:
            return False
        if not beats(paired_difference(values[plan][k], values[other][k], better[k]), better[k]):
            return False
    return True


def named_first_order(
    order: Sequence[str], is_beaten_by: Callable[[str, str], bool], limit: int | None = None
) -> tuple[list[str], dict[str, list[str]]]:
    """``order`` (best first on the ranking KPI) with every plan moved after the plans that beat
    it on every mission KPI (``is_beaten_by(plan, other)``); otherwise the order is kept.

    Beating on every mission KPI cannot go round in a circle (each step raises every paired
    mean), so some plan is always free to come next; should the intervals say otherwise
    (undefined values dropped from different pairs), the next plan of ``order`` comes next.

    Returns:
        The first ``limit`` plans (all by default) and, for each plan passed over on the way,
        the plans that beat it on every mission KPI.
    """
    remaining = list(order)
    out: list[str] = []
    passed: dict[str, list[str]] = {}
    while remaining and (limit is None or len(out) < limit):
        pick = None
        for plan in remaining:
            beaters = [o for o in remaining if o != plan and is_beaten_by(plan, o)]
            if not beaters:
                pick = plan
                break
            passed.setdefault(plan, beaters)
        if pick is None:  # a circle (see above): keep the ranking KPI's order
            pick = remaining[0]
            passed.pop(pick, None)
        out.append(pick)
        remaining.remove(pick)
    return out, passed


def rank_plans(
    values: Values,
    rank_by: str,
    mission: Sequence[str] = MISSION,
    better: Mapping[str, str] | None = None,
    limit: int | None = None,
) -> dict[str, Any]:
    """Which plan to name first, and whether the runner-up can be told apart from it.

    Args:
        values: ``values[plan][kpi]`` by replication, every plan on the same seeds (a plan's
            KPI may be NaN in some runs: those pairs are dropped).
        rank_by: the ranking KPI; plans are ordered by its mean, best first (undefined last).
        mission: a plan is never named before one that beats it on every one of these KPIs.
        better: each KPI's good direction (default: the KPI registry's).
        limit: order only the first ``limit`` plans (a sweep needs the first two).

    Returns:
        ``rank_by``, ``order`` (plans, named-first order), ``by_mean`` (plans by the ranking
        KPI alone), ``first`` (``None`` when the ranking KPI is undefined everywhere),
        ``runner_up``, ``head_to_head`` (the paired difference first - runner-up on the ranking
        KPI), ``beats`` (the first beats the runner-up on it), ``separated`` (the interval
        excludes 0) and ``passed_over`` (a plan ahead on the ranking KPI, named later because
        the listed plans beat it on every mission KPI).
    """
    plans = list(values)
    direction = {k: (better or {}).get(k) or _better(k) for k in (rank_by, *mission)}
    sign = 1.0 if direction[rank_by] == "higher" else -1.0

    def key(item: tuple[int, str]) -> tuple[bool, float, int]:
        i, plan = item
        m = _mean(values[plan][rank_by])
        return (math.isnan(m), 0.0 if math.isnan(m) else -sign * m, i)

    by_mean = [p for _, p in sorted(enumerate(plans), key=key)]
    known: dict[tuple[str, str], bool] = {}

    def is_beaten_by(plan: str, other: str) -> bool:
        if (plan, other) not in known:
            known[plan, other] = beaten_on_every_kpi(values, plan, other, mission, direction)
        return known[plan, other]

    order, passed = named_first_order(by_mean, is_beaten_by, limit)
    first = order[0] if order and not math.isnan(_mean(values[order[0]][rank_by])) else None
    runner = order[1] if first is not None and len(order) > 1 else None
    head = None
    if runner is not None:
        head = paired_difference(
            values[runner][rank_by], values[first][rank_by], direction[rank_by]
        )
    return {
        "rank_by": rank_by,
        "order": order,
        "by_mean": by_mean,
        "first": first,
        "runner_up": runner,
        "head_to_head": head,
        "beats": head is not None and beats(head, direction[rank_by]),
        "separated": head is not None and not cannot_separate(head),
        "passed_over": passed,
    }


def _mean(xs: Sequence[float]) -> float:
    a = np.asarray(xs, dtype=float)
    a = a[~np.isnan(a)]
    return float(a.mean()) if a.size else math.nan


def compare_values(
    values: Mapping[str, Mapping[str, Sequence[float]]],
    labels: Sequence[str],
    kpis: Sequence[str],
    seeds: Sequence[int],
    rank_by: str = DEFAULT_RANK,
    shown: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The whole comparison from per-run values: ``values[label][kpi]`` lists, in seed order.

    ``shown`` gives the plain-words label people read for each scenario (default: its name);
    the verdict lines use it, the JSON keys stay the names.

    Returns the JSON shape of ``friction compare --json``: per-scenario summaries, paired
    differences against the first scenario, verdict lines (each naming the price when a plan
    that does better loses throughput, revenue or net value), and the per-run values. When
    ``rank_by`` is among ``kpis``, also the ranking (:func:`rank_plans`, every scenario a
    candidate), the headline and the bottom line: one sentence with its 95% interval.
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
        out["verdicts"][label] = [
            verdict(k, diffs[k], shown[base], shown[label], diffs) for k in kpis
        ]
    if rank_by in kpis:
        mission = [k for k in MISSION if k in kpis]
        ranking = rank_plans({lb: values[lb] for lb in labels}, rank_by, mission)
        out["rank_by"] = rank_by
        out["ranking"] = ranking  # by name; the sentences name the plans by their labels
        said = relabel(ranking, shown)
        diffs_said = {shown[x]: d for x, d in out["differences"].items()}
        out["headline"] = comparison_headline_of(said, diffs_said, shown[base])
        out["bottom_line"] = comparison_bottom_line(said, diffs_said, shown[base])
    return out


def relabel(ranking: Mapping[str, Any], shown: Mapping[str, str]) -> dict[str, Any]:
    """A ranking (:func:`rank_plans`) with each plan (a name, or a design point's number)
    replaced by the label people read (plans without a label stay)."""

    def said(x: Any) -> Any:
        if isinstance(x, list):
            return [said(y) for y in x]
        return shown.get(x, x) if isinstance(x, str | int) else x

    out = dict(ranking)
    for key in ("first", "runner_up"):
        out[key] = said(ranking.get(key))
    out["order"] = [said(x) for x in ranking.get("order", [])]
    out["by_mean"] = [said(x) for x in ranking.get("by_mean", [])]
    out["passed_over"] = {said(k): said(v) for k, v in ranking.get("passed_over", {}).items()}
    return out


def _better(name: str) -> str:
    kpi = KPIS.get(name)
    return kpi.better if kpi is not None else "higher"
