"""The decision KPIs: net value, productivity loss with slack, lead time counting the waiting.

The arithmetic is pinned on a hand-built run (a few deals, a timesheet and a bonus ledger set by
hand), so every figure can be checked with a calculator, and moving one customer or one hour
from one place to another shows that nothing is counted twice. Behaviour on real runs: a plan
that sells a quarter less comes out worse on net value, and the year after a roll-out is
measured from the roll-out day.
"""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulation.model import hours, metrics
from simulation.model.deals import ACTIVATED, CHURNED, HANDOVER, LOST, DealBook
from simulation.model.hours import DAYS_PER_YEAR, HC, HOURS_PER_DAY
from simulation.scenario.config import Intervention, Scenario, with_changes

WARMUP, HORIZON = 10, 250  # a hand-built run: one measured year after a short warm-up
R, O = 2, 2  # noqa: E741 (reps and ops, as in the model)
REP_SALARY, OPS_SALARY, LOADED = 100_000.0, 50_000.0, 1.5
MARGIN = 0.8
VALUE = 10_000.0


def scenario(**changes: object) -> Scenario:
    base = {
        "horizon_days": HORIZON,
        "warmup_days": WARMUP,
        "org.sales_reps": R,
        "org.ops_staff": O,
        "org.rep_salary": REP_SALARY,
        "org.ops_salary": OPS_SALARY,
        "org.loaded_cost_factor": LOADED,
        "market.gross_margin": MARGIN,
        "structure.team_size": 3,
    }
    return with_changes(Scenario(), {**base, **changes})


def hand_built(
    deals: list[tuple[int, int, int]], s: Scenario | None = None, slack: float = 0.0
) -> SimpleNamespace:
    """A finished run: ``deals`` as (stage, closed measured day, done measured day or -1).

    Every person works 8 paid hours a day: 1 hour of interruptions, ``slack`` hours of slack,
    1 idle hour, the rest core. Bonus: 1,000 to reps and 500 to ops in one period covering the
    measured year, and 700 in a period of the warm-up (not counted).
    """
    s = s or scenario()
    total = WARMUP + HORIZON
    sheet = hours.new(R + O, R, total)
    day = np.zeros(len(hours.HOUR_CATEGORIES))
    day[HC["interruptions"]] = 1.0
    day[HC["slack"]] = slack
    day[HC["idle"]] = 1.0
    day[HC["core"]] = HOURS_PER_DAY - day.sum()
    for d in range(total):
        hours.book(sheet, np.tile(day, (R + O, 1)), interruptions=2.0, measuring=d >= WARMUP,
                   sim_day=d)  # fmt: skip
    book = DealBook(capacity=len(deals))
    for i, (stage, closed, done) in enumerate(deals):
        book.stage[i] = stage
        book.closed[i] = closed + WARMUP
        book.done[i] = done + WARMUP if done >= 0 else -1
        book.value[i] = VALUE
        book.ops_entry[i] = closed + WARMUP + 1 if stage >= HANDOVER else -1
        book.c_ops[i] = 0.5
        book.n_exc[i] = 0
    book.n = len(deals)
    plans = SimpleNamespace(ledger=[(-21, 0, 700.0, 0.0), (0, HORIZON, 1000.0, 500.0)])
    return SimpleNamespace(
        s=s, base_scenario=s, warmup=WARMUP, N=R + O, R=R, O=O, timesheet=sheet, deals=book,
        plans=plans,
    )  # fmt: skip


LOADED_HOUR = np.array([REP_SALARY, OPS_SALARY]) / (DAYS_PER_YEAR * HOURS_PER_DAY) * LOADED
PAYROLL = (R * REP_SALARY + O * OPS_SALARY) * LOADED  # per year, loaded


def test_net_value_arithmetic_by_hand() -> None:
    """Two activated customers, one churned, one lost, one still waiting."""
    m = hand_built(
        [(ACTIVATED, 5, 20), (ACTIVATED, 30, 40), (CHURNED, 50, 60), (LOST, 70, -1),
         (HANDOVER, 240, -1)],
    )  # fmt: skip
    k = metrics.compute_kpis(m)
    revenue = 2 * VALUE
    assert k["revenue"] == pytest.approx(revenue)
    assert k["gross_margin"] == pytest.approx(MARGIN * revenue)
    assert k["bonus_cost"] == pytest.approx(1500.0), "the warm-up period's 700 is not counted"
    assert k["payroll_cost"] == pytest.approx(PAYROLL)
    assert k["net_value"] == pytest.approx(MARGIN * revenue - 1500.0 - PAYROLL)
    assert k["payout_rep_mean"] == pytest.approx(500.0) and k["payout_ops_mean"] == 250.0
    friction_cost = (LOADED_HOUR * 1.0 * HORIZON * np.array([R, O])).sum()
    assert k["cost_of_friction"] == pytest.approx(friction_cost + VALUE)
    assert k["throughput"] == pytest.approx(2 / 12)
    assert k["win_rate"] == pytest.approx(4 / 5)
    assert k["waiting_share"] == pytest.approx(1 / 4)


def test_a_customer_lost_at_handover_counts_once_through_the_margin_it_never_brings() -> None:
    kept = metrics.compute_kpis(hand_built([(ACTIVATED, 5, 20), (ACTIVATED, 30, 40)]))
    lost = metrics.compute_kpis(hand_built([(ACTIVATED, 5, 20), (CHURNED, 30, 40)]))
    assert kept["net_value"] - lost["net_value"] == pytest.approx(MARGIN * VALUE), (
        "churning one customer must cost exactly its margin, no more (counted once)"
    )


@pytest.mark.parametrize("share", [0.0, 0.5, 1.0])
def test_unproductive_hours_cost_only_their_redeployable_share(share: float) -> None:
    """Slack and friction hours are paid either way; net value subtracts only the share the
    firm could save or redeploy (default 0), so an hour moved from work to slack costs
    ``share`` x its loaded cost, and the payroll does not move."""
    s = scenario(**{"economics.redeployable_share": share})
    deals = [(ACTIVATED, 5, 20)]
    busy = metrics.compute_kpis(hand_built(deals, s, slack=0.0))
    lazy = metrics.compute_kpis(hand_built(deals, s, slack=1.0))
    assert lazy["payroll_cost"] == pytest.approx(busy["payroll_cost"])
    slack_cost = (LOADED_HOUR * 1.0 * HORIZON * np.array([R, O])).sum()
    assert busy["net_value"] - lazy["net_value"] == pytest.approx(share * slack_cost)
    friction_cost = slack_cost  # the hand-built day has 1 hour of interruptions too
    expected = MARGIN * VALUE - 1500.0 - PAYROLL - share * friction_cost
    assert busy["net_value"] == pytest.approx(expected)


def test_productivity_loss_counts_slack_and_friction_but_not_idle_or_learning() -> None:
    deals = [(ACTIVATED, 5, 20)]
    busy = metrics.compute_kpis(hand_built(deals, slack=0.0))
    lazy = metrics.compute_kpis(hand_built(deals, slack=2.0))
    assert busy["friction_loss"] == pytest.approx(1 / 8)
    assert busy["productivity_loss"] == pytest.approx(1 / 8)
    assert lazy["productivity_loss"] == pytest.approx(3 / 8)
    assert lazy["friction_loss"] == pytest.approx(1 / 8), "slack is not friction"
    assert busy["utilisation"] == pytest.approx(7 / 8), "one idle hour in eight"
    assert busy["interruptions_per_day"] == pytest.approx(2.0 / (R + O))


def test_lead_time_counts_customers_still_waiting() -> None:
    """Two customers activated after 10 and 20 days: lead time 15. A third one still waiting at
    the end, 100 days after close, counts its 100 days: the Kaplan-Meier curve is 1 to day 9,
    2/3 to day 19 and 1/3 to day 99, so the mean is (10 + 2/3*10 + 1/3*80) = 43.33 days."""
    done = [(ACTIVATED, 5, 15), (ACTIVATED, 5, 25)]
    assert metrics.compute_kpis(hand_built(done))["lead_time_days"] == pytest.approx(15.0)
    stuck = metrics.compute_kpis(hand_built([*done, (HANDOVER, HORIZON - 100, -1)]))
    assert stuck["lead_time_days"] == pytest.approx(10 + 10 * 2 / 3 + 80 / 3)
    assert stuck["waiting_share"] == pytest.approx(1 / 3)


def test_lead_time_stops_counting_at_its_cap() -> None:
    """A customer waiting longer than the cap counts the cap, whatever the window's length."""
    tau = metrics.LEAD_TIME_TAU
    waits = metrics.restricted_mean_lead_time(
        np.array([0]), np.array([-1]), np.array([HANDOVER]), end=400, tau=tau
    )
    assert waits == pytest.approx(tau)


@settings(max_examples=60, deadline=None)
@given(
    waits=st.lists(st.integers(0, 200), min_size=1, max_size=30),
    censored=st.lists(st.integers(0, 200), max_size=10),
)
def test_restricted_mean_is_the_plain_mean_without_censoring_and_grows_with_waiting(
    waits: list[int], censored: list[int]
) -> None:
    end, tau = 1000, 1000
    closed = np.zeros(len(waits), dtype=np.int64)
    done = np.array(waits, dtype=np.int64)
    stage = np.full(len(waits), ACTIVATED)
    plain = metrics.restricted_mean_lead_time(closed, done, stage, end, tau)
    assert plain == pytest.approx(float(np.mean(waits)))
    if censored:
        # customers still waiting at the end of the window, having waited ``c`` days
        c_closed = np.array([end - c for c in censored], dtype=np.int64)
        both = metrics.restricted_mean_lead_time(
            np.r_[closed, c_closed], np.r_[done, np.full(len(censored), -1)],
            np.r_[stage, np.full(len(censored), HANDOVER)], end, tau,
        )  # fmt: skip
        # a censored customer adds to those at risk without an event: the share still waiting
        # can only rise, at every day, so the restricted mean can only grow
        assert both >= plain - 1e-9


def test_hours_by_day_add_up_to_the_hours_by_person() -> None:
    """The daily role totals (every window's source) hold the same hours as the per-person
    timesheet of the measured window, and two half-windows add up to the whole."""
    from simulation.model.model import FrictionModel

    m = FrictionModel(scenario(**{"org.sales_reps": 6, "org.ops_staff": 4}), rng=3).run()
    daily = m.timesheet.daily[m.warmup :].sum(axis=(0, 1))
    np.testing.assert_allclose(daily, m.hours.sum(axis=0), rtol=1e-9)
    assert m.kpis_after_rollout == {}, "no roll-out, no after-roll-out window"
    assert all(math.isnan(v) for v in metrics.window_values(m).values())
    half = HORIZON // 2
    first, second = metrics.compute_kpis(m, 0, half), metrics.compute_kpis(m, half, HORIZON)
    whole = m.kpis
    for k in ("revenue", "bonus_cost", "payroll_cost", "gross_margin"):  # per year: average
        assert (first[k] + second[k]) / 2 == pytest.approx(whole[k], rel=1e-9), k
    assert (first["throughput"] + second["throughput"]) / 2 == pytest.approx(whole["throughput"])


def test_a_window_counts_a_payout_period_pro_rata() -> None:
    """A window that starts mid-period counts the days of the period inside it."""
    ledger = [(0, 20, 200.0, 100.0), (20, 40, 400.0, 0.0)]
    assert metrics.bonus_in_window(ledger, 0, 40) == (600.0, 100.0)
    assert metrics.bonus_in_window(ledger, 10, 30) == pytest.approx((300.0, 50.0))
    assert metrics.bonus_in_window(ledger, 40, 60) == (0.0, 0.0)


def test_the_year_after_a_roll_out_starts_on_the_roll_out_day_and_stops_at_the_horizon() -> None:
    from simulation.model.model import FrictionModel

    base = scenario(**{"org.sales_reps": 6, "org.ops_staff": 4, "horizon_days": 200})
    s = base.model_copy(
        update={"interventions": [Intervention(day=50, set={"handover.mvh": True}, label="g")]}
    )
    m = FrictionModel(s, rng=3).run()
    after = m.kpis_after_rollout
    expected = metrics.compute_kpis(m, 50, 200)  # a year from day 50 is clipped at 200
    assert set(after) == set(expected)
    for k, v in expected.items():
        assert after[k] == pytest.approx(v, nan_ok=True), k
    assert after["net_value"] != pytest.approx(m.kpis["net_value"]), "a different window"
    assert metrics.window_values(m)["after_rollout_net_value"] == after["net_value"]


@pytest.mark.needs_model
def test_paying_mostly_for_help_loses_net_value() -> None:
    """0/0/20/80 pay sells about a quarter less; net value must show the loss that productivity
    loss and cost of friction once hid."""
    from simulation.model.model import FrictionModel

    today = Scenario()
    helpers = with_changes(today, {
        "incentives.weights.individual": 0.0, "incentives.weights.team": 0.0,
        "incentives.weights.company": 0.2, "incentives.weights.silo_buster": 0.8,
    })  # fmt: skip
    diffs, ratio = [], []
    for seed in (1, 2, 3):
        a = FrictionModel(today, rng=seed).run().kpis
        b = FrictionModel(helpers, rng=seed).run().kpis
        diffs.append(b["net_value"] - a["net_value"])
        ratio.append(b["throughput"] / a["throughput"])
    assert np.mean(ratio) < 0.9, f"0/0/20/80 should sell clearly less, throughput x{ratio}"
    assert max(diffs) < 0, f"0/0/20/80 should lose net value on every seed, got {diffs}"


def test_a_period_is_paid_under_the_plan_it_ran_under_when_a_new_plan_starts_that_day() -> None:
    """A roll-out on a payout day (day 21) must not pay the period that just ended under the
    new weights: its payout is the same as in a run without the roll-out."""
    from simulation.model.model import FrictionModel

    base = scenario(**{"org.sales_reps": 6, "org.ops_staff": 4, "horizon_days": 60})
    period = base.incentives.payout_period_days
    w = "incentives.weights."
    new_plan = {w + "individual": 0.0, w + "team": 0.0, w + "company": 0.2, w + "silo_buster": 0.8}
    rolled = base.model_copy(
        update={"interventions": [Intervention(day=period, set=new_plan, label="new plan")]}
    )
    a = FrictionModel(base, rng=5).run().plans.ledger
    b = FrictionModel(rolled, rng=5).run().plans.ledger
    first = [i for i, (start, *_) in enumerate(a) if start == 0]
    assert first, "the run should pay a period starting on measured day 0"
    i = first[0]
    assert b[i] == a[i], "the period before the roll-out is paid under the old plan"
    assert b[i + 1] != a[i + 1], "the period after it is paid under the new plan"
