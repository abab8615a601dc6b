"""The zero-friction world must reduce to textbook behaviour (design brief "Sanity checks").

Perfect information, no messages, no overpromising, no coordination cost: friction loss (the
hours productivity loss counts apart from slack) is about 0, churn at handover is the base
hazard alone, and ops is a first-come-first-served queue
whose waits follow Pollaczek-Khinchine and whose throughput is capped by capacity.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulation.model import churn, metrics
from simulation.model.deals import ACTIVATED, CHURNED, HANDOVER, ONBOARDING
from simulation.model.model import HC, FrictionModel
from simulation.model.queueing import fifo_serve
from simulation.scenario.config import Scenario, with_changes
from simulation.scenario.loader import load_scenario

pytestmark = pytest.mark.needs_model

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"
#: ops hour categories that make up the daily delivery capacity (used, idle, or spent on
#: rework/search inside a deal's work content)
DELIVERY = [HC["core"], HC["idle"], HC["rework"], HC["search"]]


def zero_friction(**changes: object) -> Scenario:
    s = load_scenario(SCENARIOS / "zero_friction.yaml")
    return with_changes(s, dict(changes)) if changes else s


def col(model: FrictionModel, name: str) -> np.ndarray:
    return getattr(model.deals, name)[: model.deals.n]


# ------------------------------------------------------------------------------ no friction
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_no_friction_loss_and_no_interruptions(seed: int) -> None:
    k = FrictionModel(zero_friction(), rng=seed).run().kpis
    assert k["friction_loss"] < 0.005, (
        f"friction loss should be ~0 (< 0.5%), got {k['friction_loss']:.4f}"
    )
    assert k["productivity_loss"] == pytest.approx(
        k["friction_loss"] + k["slack_hours_share"], abs=1e-12
    ), "productivity loss is friction plus slack"
    assert k["interruptions_per_day"] == 0, (
        f"no messages, yet {k['interruptions_per_day']} interruptions/day"
    )
    for key in ("interruption_hours_share", "rework_hours_share", "search_hours_share"):
        assert k[key] < 1e-9, f"{key} should be 0 in the zero-friction world, got {k[key]:.3g}"
    assert k["throughput"] > 0 and k["win_rate"] > 0


def base_hazard_compensator(model: FrictionModel) -> tuple[int, float]:
    """Observed churn events and the number the base hazard alone predicts.

    Each closed-won customer is at risk from its closing day to the day before activation (or to
    the day it churned, or to the last simulated day). A customer churns on day ``a`` after
    close with probability ``1 - exp(-h(a))``, ``h(a)`` the hazard of ``simulation.model.churn``
    with
    every friction term at zero (``base * (1 + early * exp(-a / tau))``), so the expected
    number of churn events is the sum of those probabilities over every customer-day at risk
    (the compensator of the churn process).
    """
    m = model.s.market
    stage, closed, done = col(model, "stage"), col(model, "closed"), col(model, "done")
    won = stage >= HANDOVER
    last_day = model.total_days - 1
    last_age = np.where(
        stage == CHURNED,
        done - closed,
        np.where(stage == ACTIVATED, done - closed - 1, last_day - closed),
    )[won]
    ages = np.arange(int(last_age.max()) + 1, dtype=float)
    none = np.zeros_like(ages)
    h = churn.daily_hazard(
        ages, none, none, np.ones_like(ages), none,
        base=m.churn_base_hazard, early=m.churn_early_multiplier, early_days=m.churn_early_days,
        wait=0.0, owner_contact=0.0, gap=0.0, info=0.0,
    )  # fmt: skip
    cum = np.cumsum(-np.expm1(-h))  # P(churn on day a | at risk), summed over ages 0..a
    expected = float(cum[last_age[last_age >= 0]].sum())
    observed = int((stage[won] == CHURNED).sum())
    return observed, expected


def test_handover_churn_is_base_hazard_only() -> None:
    observed = expected = 0.0
    kpis = []
    for seed in range(4):
        model = FrictionModel(zero_friction(), rng=seed).run()
        o, e = base_hazard_compensator(model)
        observed += o
        expected += e
        kpis.append(model.kpis["handover_churn"])
    tol = 3.0 * math.sqrt(expected) + 2.0
    assert abs(observed - expected) <= tol, (
        f"zero friction: churn events should follow the base hazard alone; expected "
        f"{expected:.1f} +- {tol:.1f} (3 Poisson sd), observed {observed:.0f} over 4 seeds"
    )
    assert np.mean(kpis) < 0.05, (
        "zero-friction handover churn should be far below the 10-20% baseline, "
        f"got {np.mean(kpis):.3f}"
    )


def test_base_hazard_check_detects_waiting_hazard() -> None:
    """Power of the check above: switching the waiting hazard back on must break it."""
    observed = expected = 0.0
    for seed in range(4):
        model = FrictionModel(zero_friction(**{"market.churn_wait_hazard": 0.03}), rng=seed).run()
        o, e = base_hazard_compensator(model)
        observed += o
        expected += e
    tol = 3.0 * math.sqrt(expected) + 2.0
    assert observed > expected + tol, (
        f"with a waiting hazard of 0.03/day, churn should exceed the base-hazard prediction "
        f"{expected:.1f} by more than {tol:.1f}; observed {observed:.0f}"
    )


# ------------------------------------------------------------------------------ ops queue
@dataclass
class QueueRun:
    capacity: float  # mean daily delivery hours (ops + reps' help at its efficiency)
    arrival_rate: float  # deals entering ops per measured day
    s1: float  # E[S], S = work hours / capacity, in days
    s2: float  # E[S^2]
    wait_first_service: float  # mean whole days from ops entry to first hour of service
    wait_work_ahead: float  # mean (work ahead at entry) / capacity, in days
    activation_rate: float  # activations per measured day
    mean_work: float  # mean work content of deals entering ops

    @property
    def rho(self) -> float:
        return self.arrival_rate * self.s1

    @property
    def pk_wait(self) -> float:
        """Pollaczek-Khinchine mean wait in queue of an M/G/1 server."""
        return self.arrival_rate * self.s2 / (2.0 * (1.0 - self.rho)) if self.rho < 1 else math.inf


def run_queue(ops_staff: int, seed: int, horizon: int = 200, warmup: int = 40) -> QueueRun:
    """Zero-friction world, one pooled queue, no per-deal pace limit (a single server)."""
    s = zero_friction(
        **{
            "horizon_days": horizon,
            "warmup_days": warmup,
            "org.ops_staff": ops_staff,
            "market.max_hours_per_deal_day": 1000.0,
        }
    )
    model = FrictionModel(s, rng=seed)
    R, eff = model.R, s.behaviour.help_efficiency
    first_service = np.full(model.deals.cap * 4, -1, dtype=np.int64)
    prev_hours = model.hours.copy()
    backlog = 0.0  # unfinished onboarding work at the end of the previous day
    caps, ahead = [], []
    while model.running:
        model.step()
        today = model.steps - 1
        n = model.deals.n
        if n > len(first_service):
            first_service = np.r_[first_service, np.full(n, -1, dtype=np.int64)]
        stage, entry = col(model, "stage"), col(model, "ops_entry")
        remaining, work, seq = col(model, "remaining"), col(model, "work_total"), col(model, "seq")
        started = (entry >= 0) & (remaining < work - 1e-9) & (first_service[:n] < 0)
        first_service[:n][started] = today
        new = np.flatnonzero(entry == today)
        if model.day >= 0:
            booked = model.hours - prev_hours
            caps.append(booked[R:, DELIVERY].sum() + eff * booked[:R, HC["help"]].sum())
            order = new[np.argsort(seq[new])]
            ahead.extend(backlog + np.cumsum(work[order]) - work[order])
        prev_hours = model.hours.copy()
        backlog = float(remaining[stage == ONBOARDING].sum())
    n = model.deals.n
    stage, entry, work, done = (col(model, k) for k in ("stage", "ops_entry", "work_total", "done"))
    cap = float(np.mean(caps))
    entered = entry >= model.warmup
    S = work[entered] / cap
    fs = first_service[:n]
    started = entered & (fs >= 0)
    return QueueRun(
        capacity=cap,
        arrival_rate=entered.sum() / horizon,
        s1=float(S.mean()),
        s2=float(np.mean(S**2)),
        wait_first_service=float(np.mean(fs[started] - entry[started])),
        wait_work_ahead=float(np.mean(ahead) / cap),
        activation_rate=((stage == ACTIVATED) & (done >= model.warmup)).sum() / horizon,
        mean_work=float(work[entered].mean()),
    )


def check_pollaczek_khinchine(runs: list[QueueRun]) -> None:
    rho = np.mean([r.rho for r in runs])
    assert 0.7 < rho < 0.92, f"test set-up: ops load should be about 0.8, got rho {rho:.3f}"
    pk = float(np.mean([r.pk_wait for r in runs]))
    tol = 0.5 + 0.35 * pk  # whole-day service and start-of-day arrivals shift waits by < 1 day
    for label, obs in (
        ("whole days to first service", np.mean([r.wait_first_service for r in runs])),
        ("work ahead at entry / capacity", np.mean([r.wait_work_ahead for r in runs])),
    ):
        assert abs(obs - pk) <= tol, (
            f"pooled ops queue at rho {rho:.2f}: mean onboarding wait ({label}) should match "
            f"Pollaczek-Khinchine Wq = {pk:.3f} days within 0.5 day + 35% (+-{tol:.2f}), got "
            f"{obs:.3f} over {len(runs)} seeds"
        )


def test_ops_queue_waits_follow_pollaczek_khinchine() -> None:
    check_pollaczek_khinchine([run_queue(17, seed) for seed in range(4)])


@pytest.mark.slow
def test_ops_queue_waits_follow_pollaczek_khinchine_many_seeds() -> None:
    check_pollaczek_khinchine([run_queue(17, seed, horizon=400) for seed in range(16)])


def test_wait_grows_with_load() -> None:
    light = [run_queue(24, seed) for seed in range(3)]
    heavy = [run_queue(16, seed) for seed in range(3)]
    w_light = np.mean([r.wait_work_ahead for r in light])
    w_heavy = np.mean([r.wait_work_ahead for r in heavy])
    rho_l, rho_h = np.mean([r.rho for r in light]), np.mean([r.rho for r in heavy])
    assert rho_l < rho_h < 1
    assert w_heavy > 2 * w_light, (
        f"queueing: the wait should grow steeply with load (more than double from rho {rho_l:.2f} "
        f"to {rho_h:.2f}), got {w_light:.3f} -> {w_heavy:.3f} days"
    )


def test_throughput_equals_arrival_rate_below_capacity() -> None:
    runs = [run_queue(20, seed) for seed in range(3)]
    rho = np.mean([r.rho for r in runs])
    lam = np.mean([r.arrival_rate for r in runs])
    act = np.mean([r.activation_rate for r in runs])
    assert rho < 0.85, f"set-up: rho should be well below 1, got {rho:.2f}"
    assert abs(act - lam) <= 0.05 * lam, (
        f"below capacity (rho {rho:.2f}) activations per day should equal arrivals within 5%: "
        f"{act:.3f} vs {lam:.3f}"
    )


def test_throughput_capped_by_capacity_when_overloaded() -> None:
    runs = [run_queue(8, seed) for seed in range(3)]
    rho = np.mean([r.rho for r in runs])
    act = np.mean([r.activation_rate for r in runs])
    cap_rate = np.mean([r.capacity / r.mean_work for r in runs])
    assert rho > 1.3, f"set-up: 8 ops staff should be overloaded, got rho {rho:.2f}"
    assert abs(act - cap_rate) <= 0.10 * cap_rate, (
        f"overloaded ops (rho {rho:.2f}): activations per day should equal capacity / mean work "
        f"= {cap_rate:.3f} within 10%, got {act:.3f}"
    )
    assert act < np.mean([r.arrival_rate for r in runs]) * 0.8


def test_throughput_kpi_is_capacity_bound() -> None:
    """The monthly KPI tells the same story: halving ops staff in an overloaded world halves it."""
    s8 = zero_friction(**{"org.ops_staff": 8, "horizon_days": 120, "warmup_days": 60})
    s4 = with_changes(s8, {"org.ops_staff": 4})
    t8 = np.mean([FrictionModel(s8, rng=k).run().kpis["throughput"] for k in range(2)])
    t4 = np.mean([FrictionModel(s4, rng=k).run().kpis["throughput"] for k in range(2)])
    assert abs(t4 / t8 - 0.5) < 0.1, (
        "capacity-bound throughput should scale with staff: 4 vs 8 ops gives ratio "
        f"{t4 / t8:.3f}, expected 0.5 +- 0.1"
    )
    assert metrics.KPIS["throughput"].better == "higher"


# ------------------------------------------------------------------------------ fifo_serve
def test_fifo_serve_example() -> None:
    queue = np.array([0, 0, 1, 0, 1])
    key = np.array([3, 1, 5, 2, 4])
    remaining = np.array([5.0, 4.0, 10.0, 4.0, 2.0])
    served = fifo_serve(queue, key, remaining, np.array([6.0, 3.0]))
    # queue 0 in key order: job1 (4h) fully, job3 gets the last 2h, job0 waits;
    # queue 1: job4 (2h) fully, job2 gets 1h
    np.testing.assert_allclose(served, [0.0, 4.0, 1.0, 2.0, 2.0])
    capped = fifo_serve(queue, key, remaining, np.array([6.0, 3.0]), job_cap=2.5)
    np.testing.assert_allclose(capped, [1.0, 2.5, 1.0, 2.5, 2.0])


@st.composite
def queue_problems(draw: st.DrawFn) -> tuple[np.ndarray, ...]:
    n = draw(st.integers(1, 40))
    nq = draw(st.integers(1, 4))
    queue = np.array(draw(st.lists(st.integers(0, nq - 1), min_size=n, max_size=n)))
    key = np.array(draw(st.permutations(list(range(n)))))
    remaining = np.array(draw(st.lists(st.floats(0.01, 50.0), min_size=n, max_size=n)))
    capacity = np.array(draw(st.lists(st.floats(0.0, 120.0), min_size=nq, max_size=nq)))
    job_cap = draw(st.sampled_from([math.inf, 0.5, 3.0, 8.0, 25.0]))
    return queue, key, remaining, capacity, np.array(job_cap)


@settings(max_examples=200, deadline=None)
@given(problem=queue_problems())
def test_fifo_serve_properties(problem: tuple[np.ndarray, ...]) -> None:
    queue, key, remaining, capacity, job_cap_arr = problem
    job_cap = float(job_cap_arr)
    served = fifo_serve(queue, key, remaining, capacity, job_cap)
    absorb = np.minimum(remaining, job_cap)
    assert served.shape == remaining.shape
    assert (served >= -1e-12).all(), "negative service"
    assert (served <= absorb + 1e-9).all(), "a job received more than it needs or than job_cap"
    for q in range(len(capacity)):
        mine = np.flatnonzero(queue == q)
        got = served[mine].sum()
        assert got <= capacity[q] + 1e-9, f"queue {q} used {got} > capacity {capacity[q]}"
        # work conserving: no hour left idle while a job in the queue could absorb it
        want = min(capacity[q], absorb[mine].sum())
        assert math.isclose(got, want, rel_tol=1e-9, abs_tol=1e-9), (
            f"queue {q} served {got}, could serve {want}"
        )
        # FIFO: once a job is short of what it can absorb, every later job gets nothing
        order = mine[np.argsort(key[mine])]
        short = np.flatnonzero(served[order] < absorb[order] - 1e-9)
        if len(short):
            later = served[order][short[0] + 1 :]
            assert (later <= 1e-12).all(), (
                f"queue {q}: a later job was served before an earlier one finished"
            )
