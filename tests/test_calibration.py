"""The default baseline hits the design brief's calibration bands.

Bands (design brief "Calibration targets"): churn at handover 10-20% of closed-won customers,
productivity loss 15-35% of paid hours, win rate 35-55% of decided opportunities, and a churn
hazard that is front-loaded (highest in the first weeks after close). The fast tests check the
mean of a few seeds; the slow ones require the 95% confidence interval of the mean over 30 seeds
to lie inside each band.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from simulation.model.deals import ACTIVATED, CHURNED, HANDOVER
from simulation.model.model import FrictionModel
from simulation.scenario.loader import load_scenario

pytestmark = pytest.mark.needs_model

BASELINE = Path(__file__).resolve().parents[1] / "scenarios" / "baseline.yaml"
BANDS = {
    "handover_churn": (0.10, 0.20),
    "productivity_loss": (0.15, 0.35),
    "win_rate": (0.35, 0.55),
}
EARLY_DAYS = 20  # "first weeks after close": four working weeks


def run_seeds(seeds: range) -> list[FrictionModel]:
    s = load_scenario(BASELINE)
    return [FrictionModel(s, rng=seed).run() for seed in seeds]


@pytest.fixture(scope="module")
def fast_runs() -> list[FrictionModel]:
    return run_seeds(range(8))


@pytest.fixture(scope="module")
def many_runs() -> list[FrictionModel]:
    return run_seeds(range(100, 130))


@pytest.mark.parametrize("kpi", list(BANDS))
def test_baseline_mean_in_band(fast_runs: list[FrictionModel], kpi: str) -> None:
    lo, hi = BANDS[kpi]
    values = np.array([m.kpis[kpi] for m in fast_runs])
    mean = values.mean()
    assert lo <= mean <= hi, (
        f"baseline {kpi}: mean over {len(values)} seeds should lie in the design brief's band "
        f"[{lo:.2f}, {hi:.2f}], got {mean:.3f} (seeds range {values.min():.3f}..{values.max():.3f})"
    )


@pytest.mark.slow
@pytest.mark.parametrize("kpi", list(BANDS))
def test_baseline_confidence_interval_in_band(many_runs: list[FrictionModel], kpi: str) -> None:
    lo, hi = BANDS[kpi]
    values = np.array([m.kpis[kpi] for m in many_runs])
    mean = values.mean()
    half = 1.96 * values.std(ddof=1) / math.sqrt(len(values))
    assert lo <= mean - half and mean + half <= hi, (
        f"baseline {kpi}: the 95% CI of the mean over {len(values)} seeds should lie inside "
        f"[{lo:.2f}, {hi:.2f}], got {mean:.4f} +- {half:.4f}"
    )


def churn_by_age(model: FrictionModel, max_age: int = 400) -> tuple[np.ndarray, np.ndarray]:
    """Churn events and customer-days at risk by days since close (measured-window closes).

    A customer is at risk from its closing day to the day it churned, the day before it was
    activated, or the last simulated day.
    """
    d = model.deals
    n = d.n
    stage, closed, done = d.stage[:n], d.closed[:n], d.done[:n]
    won = (stage >= HANDOVER) & (closed >= model.warmup)
    last = np.where(
        stage == CHURNED,
        done - closed,
        np.where(stage == ACTIVATED, done - closed - 1, model.total_days - 1 - closed),
    )[won]
    last = np.minimum(last, max_age - 1)
    exposure = np.bincount(last[last >= 0], minlength=max_age)[::-1].cumsum()[::-1].astype(float)
    events = np.bincount(last[stage[won] == CHURNED], minlength=max_age).astype(float)
    return events, exposure


def hazard_ratio(runs: list[FrictionModel]) -> tuple[float, float, float, float, float]:
    """Early/late empirical hazard pooled over runs, and the standard error of its log."""
    events = exposure = 0.0
    for m in runs:
        e, x = churn_by_age(m)
        events = events + e
        exposure = exposure + x
    ev_early, ev_late = events[:EARLY_DAYS].sum(), events[EARLY_DAYS:].sum()
    h_early = ev_early / exposure[:EARLY_DAYS].sum()
    h_late = ev_late / exposure[EARLY_DAYS:].sum()
    se_log = math.sqrt(1.0 / max(ev_early, 1.0) + 1.0 / max(ev_late, 1.0))
    return h_early / h_late, se_log, h_early, h_late, ev_late


def test_churn_hazard_front_loaded(fast_runs: list[FrictionModel]) -> None:
    ratio, se, h_early, h_late, ev_late = hazard_ratio(fast_runs)
    assert ratio > 1.0, (
        f"baseline churn hazard should be front-loaded: churn per customer-day at risk in the "
        f"first {EARLY_DAYS} days after close ({h_early:.4f}) must exceed the later hazard "
        f"({h_late:.4f}); ratio {ratio:.3f} (sampling se of log ratio {se:.2f}, {ev_late:.0f} "
        f"late events, {len(fast_runs)} seeds pooled)"
    )


@pytest.mark.slow
def test_churn_hazard_front_loaded_significant(many_runs: list[FrictionModel]) -> None:
    ratio, se, h_early, h_late, _ = hazard_ratio(many_runs)
    lower = ratio * math.exp(-1.96 * se)
    assert lower > 1.0, (
        f"baseline churn hazard should be front-loaded: the 95% lower bound of early/late hazard "
        f"ratio must exceed 1, got ratio {ratio:.3f} (lower {lower:.3f}; early {h_early:.4f}, "
        f"late {h_late:.4f}/day, {len(many_runs)} seeds)"
    )


def test_churn_events_concentrate_early(fast_runs: list[FrictionModel]) -> None:
    """Most churn happens in the first weeks: at least half of all events within 20 days."""
    events = sum(churn_by_age(m)[0] for m in fast_runs)
    share = events[:EARLY_DAYS].sum() / events.sum()
    assert share > 0.5, (
        f"share of churn events in the first {EARLY_DAYS} days should exceed 50%, got {share:.2f}"
    )
