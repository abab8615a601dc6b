"""Run replications of a scenario and summarise them.

Seeds come from :mod:`simulation.batch.seeds` (re-exported here): the same ``(seed, i)`` always
gives the same run, so two scenarios run with the same seed are compared on common random numbers.

Functions here are pure (no printing, no files) so the CLI, notebooks and tests share them.
The model class is looked up as this module's ``FrictionModel`` when a run starts, so a test can
put a stand-in there (``monkeypatch.setattr(runner, "FrictionModel", ...)``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
from scipy import stats

from simulation.batch.seeds import replication_seeds, spawned_seed
from simulation.model.metrics import (
    AFTER_ROLLOUT,
    KPIS,
    STAGE_BOUNDS,
    payout_summary,
    stage_values,
    window_values,
)
from simulation.model.model import DAILY_SERIES, FrictionModel
from simulation.scenario.config import Scenario

__all__ = [
    "replication_seeds",
    "run_one",
    "run_record",
    "run_replications",
    "spawned_seed",
    "summarise",
    "value_bounds",
]

#: Called after each finished replication with (done, total); the CLI uses it for progress.
Progress = Callable[[int, int], None]


def run_one(scenario: Scenario, seed: int) -> dict[str, Any]:
    """Run the model once to the end: ``{"seed", "kpis": {...}, "stages": {...}}``."""
    model = FrictionModel(scenario=scenario, rng=seed)
    model.run()
    return {
        "seed": seed,
        "kpis": {name: float(value) for name, value in model.kpis.items()},
        "stages": {
            stage: {metric: float(value) for metric, value in metrics.items()}
            for stage, metrics in model.stages.items()
        },
    }


def run_record(scenario: Scenario, seed: int, daily: bool = False) -> dict[str, Any]:
    """One run as a results-store record: ``{"values": {kpi, payout or stage column: float},
    "daily": {series: array} | None}``. Daily series cover every day, warm-up included
    (``day`` < 0 in the warm-up)."""
    model = FrictionModel(scenario=scenario, rng=seed)
    model.run()
    values = {name: float(v) for name, v in model.kpis.items()}
    values.update(payout_summary(model))
    values.update(stage_values(model))
    values.update(window_values(model))
    series = None
    if daily:
        mv = model.datacollector.model_vars
        series = {
            name: np.asarray(mv[name], dtype=int if name == "day" else float)
            for name in DAILY_SERIES
        }
    return {"values": values, "daily": series}


def run_replications(
    scenario: Scenario, reps: int, seed: int, progress: Progress | None = None
) -> dict[str, Any]:
    """Run ``reps`` replications and summarise every KPI and stage metric.

    Returns:
        ``{"scenario", "seed", "reps", "kpis": {kpi: summary}, "stages": {stage: {metric:
        summary}}, "runs": [{"seed": s, kpi: value, ...}]}`` where a summary is
        ``{"mean", "ci_low", "ci_high"}`` (95% Student-t interval over the replications).
    """
    runs = []
    for i, s in enumerate(replication_seeds(seed, reps)):
        runs.append(run_one(scenario, s))
        if progress is not None:
            progress(i + 1, reps)
    kpi_names = list(runs[0]["kpis"])
    stage_metrics = {stage: list(metrics) for stage, metrics in runs[0]["stages"].items()}
    return {
        "scenario": scenario.name,
        "seed": seed,
        "reps": reps,
        "kpis": {
            k: summarise((r["kpis"][k] for r in runs), bounds=value_bounds(k)) for k in kpi_names
        },
        "stages": {
            stage: {
                m: summarise((r["stages"][stage][m] for r in runs), bounds=_stage_bounds(m))
                for m in metrics
            }
            for stage, metrics in stage_metrics.items()
        },
        "runs": [{"seed": r["seed"], **r["kpis"]} for r in runs],
    }


def value_bounds(name: str) -> tuple[float, float]:
    """The values a run's KPI, payout or stage column can take (payouts are >= 0)."""
    kpi = KPIS.get(name.removeprefix(AFTER_ROLLOUT))
    if kpi is not None:
        return kpi.bounds
    if name.startswith("pay_"):
        return (0.0, math.inf)
    metric = next((m for m in STAGE_BOUNDS if name.endswith(m)), None)
    return STAGE_BOUNDS[metric] if metric else (-math.inf, math.inf)


def _stage_bounds(metric: str) -> tuple[float, float]:
    return STAGE_BOUNDS.get(metric, (-math.inf, math.inf))


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
