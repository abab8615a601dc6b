"""The two time-allocation rules: logit (default) and own-return effort under a time budget."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from simulation.model import incentives as inc
from simulation.model.model import FrictionModel
from simulation.scenario.config import Scenario, with_changes

REF = np.array([1.5, 0.15, 0.1, 0.0])


def test_budget_rule_reproduces_the_reference_allocation() -> None:
    shares = inc.budget_shares(REF[None, :], 2.0, REF)[0]
    assert np.allclose(shares[:3], inc.REFERENCE_ALLOCATION)
    assert np.isclose(shares.sum(), 1.0)


@settings(max_examples=60, deadline=None)
@given(
    rets=st.lists(st.floats(-2, 4), min_size=3, max_size=3),
    task=st.integers(0, 2),
    bump=st.floats(0.05, 2.0),
    elasticity=st.floats(0.2, 6.0),
)
def test_budget_rule_is_a_valid_allocation_that_follows_own_returns(
    rets: list[float], task: int, bump: float, elasticity: float
) -> None:
    r = np.array([[*rets, 0.0]])
    base = inc.budget_shares(r, elasticity, REF)[0]
    assert np.all(base >= -1e-12) and np.isclose(base.sum(), 1.0)
    up = r.copy()
    up[0, task] += bump
    more = inc.budget_shares(up, elasticity, REF)[0]
    assert more[task] >= base[task] - 1e-12, "a task that pays more never gets less time"
    others = [k for k in range(3) if k != task]
    assert np.all(more[others] <= base[others] + 1e-12), "other tasks are crowded out, never up"


def _mean_quality(rule: str, kind: str, size: int, seeds: range) -> float:
    s = with_changes(
        Scenario(),
        {
            "behaviour.choice_rule": rule,
            "structure.kind": kind,
            "structure.team_size": size,
            "incentives.weights.individual": 0.0,
            "incentives.weights.team": 1.0,
            "horizon_days": 100,
        },
    )
    return float(
        np.mean([FrictionModel(s, rng=i).run().shares[:, inc.QUALITY].mean() for i in seeds])
    )


def test_budget_rule_free_riding_cuts_documentation_in_large_teams() -> None:
    """Under team pay, documentation falls from pods of 4 to tribes of 15 (own return 1/N)."""
    pod = _mean_quality("budget", "pod", 4, range(3))
    tribe = _mean_quality("budget", "tribe", 15, range(3))
    assert pod - tribe > 0.005, (
        f"budget rule: quality share should fall by > 0.5 pp from pods to tribes, "
        f"got {pod:.4f} -> {tribe:.4f}"
    )


def test_budget_rule_baseline_stays_in_the_calibration_bands() -> None:
    s = with_changes(Scenario(), {"behaviour.choice_rule": "budget"})
    runs = [FrictionModel(s, rng=i).run().kpis for i in range(4)]
    churn = np.mean([k["handover_churn"] for k in runs])
    loss = np.mean([k["productivity_loss"] for k in runs])
    win = np.mean([k["win_rate"] for k in runs])
    assert 0.10 <= churn <= 0.20, f"churn {churn:.3f} outside 10-20%"
    assert 0.15 <= loss <= 0.35, f"productivity loss {loss:.3f} outside 15-35%"
    assert 0.35 <= win <= 0.55, f"win rate {win:.3f} outside 35-55%"
