"""Conservation laws and state bounds of FrictionModel, checked at every simulated day.

design brief "Sanity checks": every lead is in exactly one stage, hours per person per day sum to
the paid day, bonus paid equals the sum of payouts. Hypothesis draws random valid scenarios
(structure kind and size, bonus weights on the simplex, every switchable lever, small orgs and
short horizons) and the model is stepped by hand so each law is checked after every step.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simulation.model import metrics
from simulation.model.agents import OpsStaff, SalesRep
from simulation.model.deals import ACTIVATED, CHURNED, HANDOVER, LOST, ONBOARDING, OPEN, STAGE_NAMES
from simulation.model.model import FrictionModel
from simulation.scenario.config import TEAM_SIZE_RANGE, Scenario
from simulation.scenario.loader import load_scenario

pytestmark = pytest.mark.needs_model

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"
HOURS = metrics.HOURS_PER_DAY
EPS = 1e-6

#: Stage a deal may be in one day later, given its stage today. A win is decided after the
#: day's handovers, so a lead reaches ops at the earliest the next day; it may still churn on
#: its closing day, and a handover may enter ops and be finished in the same day.
ALLOWED_NEXT = {
    OPEN: {OPEN, LOST, HANDOVER, CHURNED},
    HANDOVER: {HANDOVER, ONBOARDING, ACTIVATED, CHURNED},
    ONBOARDING: {ONBOARDING, ACTIVATED, CHURNED},
    LOST: {LOST},
    ACTIVATED: {ACTIVATED},
    CHURNED: {CHURNED},
}


def col(model: FrictionModel, name: str) -> np.ndarray:
    """The existing deals' values of one DealBook column."""
    return getattr(model.deals, name)[: model.deals.n]


def feasible_structures(reps: int, ops: int) -> list[tuple[str, int]]:
    """(kind, team_size) pairs that validate for this org (cross-functional: a rep and an ops
    person in every team)."""
    out = []
    for kind, (lo, hi) in TEAM_SIZE_RANGE.items():
        for size in range(lo, hi + 1):
            if kind == "silo" or max(1, round((reps + ops) / size)) <= min(reps, ops):
                out.append((kind, size))
    return out


@st.composite
def scenarios(draw: st.DrawFn) -> Scenario:
    reps = draw(st.integers(4, 30))
    ops = draw(st.integers(4, 30))
    kind, size = draw(st.sampled_from(feasible_structures(reps, ops)))
    raw = draw(st.lists(st.integers(0, 10), min_size=4, max_size=4).filter(lambda v: sum(v) > 0))
    w = [v / sum(raw) for v in raw]
    w[0] = 1.0 - sum(w[1:])  # exact simplex despite rounding
    horizon = draw(st.integers(20, 40))
    data: dict[str, Any] = {
        "name": "hypothesis",
        "horizon_days": horizon,
        "warmup_days": draw(st.integers(0, 8)),
        "org": {"sales_reps": reps, "ops_staff": ops},
        "structure": {
            "kind": kind,
            "team_size": size,
            "decision_authority": draw(st.none() | st.floats(0.0, 1.0)),
        },
        "incentives": {
            "weights": dict(zip(("individual", "team", "company", "silo_buster"), w, strict=True)),
            "silo_buster_noise": draw(st.sampled_from([0.0, 0.5, 3.0])),
            "payout_period_days": draw(st.integers(5, 21)),
        },
        "handover": {
            "mvh": draw(st.booleans()),
            "compliance": draw(st.sampled_from([0.0, 0.5, 1.0])),
            "red_flag": draw(st.booleans()),
            "auto_trigger": draw(st.booleans()),
            "owner": draw(st.booleans()),
        },
        "comms": {"strategy": draw(st.sampled_from(["chat_first", "channel_sla"]))},
        "info": {
            "glossary": draw(st.booleans()),
            "eli5": draw(st.booleans()),
            "decision_archive": draw(st.booleans()),
            "translation_champions": draw(st.integers(0, 3)),
            "champion_hours_per_day": draw(st.sampled_from([0.1, 1.5])),
        },
        "coaching": {
            "program": draw(st.sampled_from(["none", "micro_4wk", "workshop"])),
            "postmortems": draw(st.booleans()),
        },
        "market": {
            "leads_per_rep_day": draw(st.sampled_from([0.25, 0.6])),
            "max_hours_per_deal_day": draw(st.sampled_from([4.0, 1000.0])),
        },
        "behaviour": {"overpromise_max": draw(st.sampled_from([0.0, 0.5, 1.0]))},
    }
    if draw(st.booleans()):
        # a roll-out mid-run: reorganise into silos (always feasible) and switch channels
        data["interventions"] = [
            {
                "day": draw(st.integers(0, horizon - 1)),
                "set": {"structure.kind": "silo", "structure.team_size": 8,
                        "comms.strategy": "channel_sla"},
            }
        ]  # fmt: skip
    return Scenario.model_validate(data)


def check_day(model: FrictionModel, prev_stage: np.ndarray, measured_days: int) -> None:
    """Every law that must hold after any step."""
    s = model.s
    n = model.deals.n
    where = f"(step {model.steps}, measured day {model.day})"

    # conservation of leads: one stage each, the counts add up to the leads created
    counts = metrics.stage_counts(model)
    assert set(counts) == set(STAGE_NAMES), f"stage_counts keys {sorted(counts)} {where}"
    assert sum(counts.values()) == n, (
        f"stage counts {counts} sum to {sum(counts.values())}, not the {n} leads created {where}"
    )
    stage = col(model, "stage")
    bad = ~np.isin(stage, list(ALLOWED_NEXT))
    assert not bad.any(), f"{bad.sum()} deals in an invalid stage {np.unique(stage[bad])} {where}"

    # stage transitions only move forward; final stages are absorbing
    old = stage[: len(prev_stage)]
    for frm, allowed in ALLOWED_NEXT.items():
        moved = old[prev_stage == frm]
        wrong = ~np.isin(moved, list(allowed))
        assert not wrong.any(), (
            f"{wrong.sum()} deals went from {STAGE_NAMES[frm]} to "
            f"{[STAGE_NAMES[k] for k in np.unique(moved[wrong])]} {where}"
        )

    # time stamps are ordered along the value stream
    created, closed, done, entry = (
        col(model, k) for k in ("created", "closed", "done", "ops_entry")
    )
    decided = stage != OPEN
    assert (closed[decided] >= created[decided]).all(), (
        f"a deal closed before it was created {where}"
    )
    final = (stage == ACTIVATED) | (stage == CHURNED)
    assert (done[final] >= closed[final]).all(), f"a customer finished before closing {where}"
    assert (entry[stage == ACTIVATED] >= 0).all(), (
        f"a customer activated without entering ops {where}"
    )
    in_ops = entry >= 0
    assert (entry[in_ops] >= closed[in_ops]).all(), f"a customer entered ops before closing {where}"

    # hours: every person's measured day sums to the paid day, no category negative
    rows = model.hours.sum(axis=1)
    expected = HOURS * measured_days
    worst = np.abs(rows - expected).max()
    assert worst < EPS * max(1, measured_days), (
        f"hours per person should sum to {HOURS:g} x {measured_days} = {expected:g} within 1e-6, "
        f"worst row is off by {worst:.3g} {where}"
    )
    assert model.hours.min() >= -EPS, f"negative hours {model.hours.min():.3g} booked {where}"

    # time allocation and promise are valid shares
    sh = model.shares
    assert np.allclose(sh.sum(axis=1), 1.0, atol=1e-9), (
        f"shares rows sum to {sh.sum(axis=1).min():.12f}..{sh.sum(axis=1).max():.12f} {where}"
    )
    assert sh.min() >= -1e-12 and sh.max() <= 1 + 1e-12, (
        f"shares outside [0, 1]: {sh.min()} .. {sh.max()} {where}"
    )
    omax = s.behaviour.overpromise_max
    pr = model.promise
    assert pr.min() >= 0 and pr.max() <= omax + 1e-12, (
        f"promise outside [0, {omax}]: {pr.min()} .. {pr.max()} {where}"
    )

    # payouts are never negative
    assert model.payouts.min() >= 0, f"negative payout {model.payouts.min()} {where}"
    assert 0 <= model.loss_share_today <= 1 + EPS, (
        f"loss share today {model.loss_share_today} {where}"
    )


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(s=scenarios(), seed=st.integers(0, 2**31 - 1))
def test_conservation_laws_hold_every_day(s: Scenario, seed: int) -> None:
    check_run(s, seed)


@pytest.mark.slow
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(s=scenarios(), seed=st.integers(0, 2**31 - 1))
def test_conservation_laws_hold_every_day_many_scenarios(s: Scenario, seed: int) -> None:
    check_run(s, seed)


def check_run(s: Scenario, seed: int) -> None:
    """Step a run by hand, checking every law after each day and the bonus books at the end."""
    model = FrictionModel(s, rng=seed)
    prev = col(model, "stage").copy()
    measured = 0
    while model.running:
        model.step()
        if model.day >= 0:
            measured += 1
        check_day(model, prev, measured)
        prev = col(model, "stage").copy()
    assert model.steps == s.warmup_days + s.horizon_days
    assert measured == s.horizon_days

    # bonus conservation: what people received adds up, component by component, to the cost
    total = model.payouts.sum()
    by_component = sum(model.payouts[:, j].sum() for j in range(model.payouts.shape[1]))
    by_person = sum(a.payout_total for a in model.agents)
    years = s.horizon_days / metrics.DAYS_PER_YEAR
    assert total >= 0
    assert math.isclose(by_component, total, rel_tol=1e-9, abs_tol=1e-6), (
        f"components {by_component} vs total {total}"
    )
    assert math.isclose(by_person, total, rel_tol=1e-9, abs_tol=1e-6), (
        f"agents' payout_total {by_person} vs total {total}"
    )
    assert math.isclose(model.kpis["bonus_cost"] * years, total, rel_tol=1e-9, abs_tol=1e-6), (
        f"bonus_cost KPI x years {model.kpis['bonus_cost'] * years} vs payouts {total}"
    )
    # the silo-buster tournament pays out exactly its pool: its weight times the at-target bonus
    # (bonus_pool x salary) for the measured days; formula components never exceed the cap
    w = s.incentives.weights.as_array()
    salary = np.where(model.is_rep, s.org.rep_salary, s.org.ops_salary)
    target = s.incentives.bonus_pool * salary * years  # at-target bonus per person, whole window
    pool = w[3] * target.sum()
    assert math.isclose(model.payouts[:, 3].sum(), pool, rel_tol=1e-9, abs_tol=1e-6), (
        f"silo-buster paid {model.payouts[:, 3].sum():.2f}, its pool over the measured "
        f"{s.horizon_days} days is {pool:.2f}"
    )
    cap = s.incentives.payout_cap
    for j in range(3):
        over = model.payouts[:, j] - cap * w[j] * target
        assert (over <= 1e-6).all(), f"component {j} paid {over.max():.2f} above {cap}x target"

    # the per-person views agree with the arrays
    assert len(model.agents_by_type[SalesRep]) == s.org.sales_reps
    assert len(model.agents_by_type[OpsStaff]) == s.org.ops_staff


def test_baseline_conservation_every_day() -> None:
    """The default scenario over a short horizon, checked daily (a fixed, readable example)."""
    from simulation.scenario.config import with_changes

    s = with_changes(
        load_scenario(SCENARIOS / "baseline.yaml"), {"horizon_days": 40, "warmup_days": 10}
    )
    model = FrictionModel(s, rng=7)
    prev = col(model, "stage").copy()
    measured = 0
    while model.running:
        model.step()
        measured += model.day >= 0
        check_day(model, prev, measured)
        prev = col(model, "stage").copy()
    final = metrics.stage_counts(model)
    assert final["activated"] > 0 and final["lost"] > 0, (
        f"a 50-day baseline should activate and lose deals: {final}"
    )


def test_standing_down_champions_mid_run_drops_their_queue() -> None:
    """Champions removed by a roll-out leave no backlog behind and no invalid arithmetic."""
    import warnings

    s = Scenario.model_validate(
        {
            "horizon_days": 80,
            "warmup_days": 10,
            "info": {"translation_champions": 2, "champion_hours_per_day": 0.2},
            "interventions": [{"day": 30, "set": {"info.translation_champions": 0}}],
        }
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        m = FrictionModel(s, rng=1).run()
    assert m.champion_backlog == 0.0
    assert not m.champion.any()
    assert np.isfinite(m.kpis["lead_time_days"])
