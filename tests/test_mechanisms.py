"""Each mechanism of the design brief moves its outcome in the direction theory predicts.

Every test compares two scenarios on common random numbers: the same seeds, paired differences
averaged over several seeds, short horizons where the mechanism shows within weeks. Each
assertion names the minimal effect it requires, so a failure says by how much the model missed.
Directions, not magnitudes: magnitudes are the calibration tests' business.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from simulation.model.model import HC, FrictionModel
from simulation.scenario.config import Scenario, with_changes
from simulation.scenario.loader import load_scenario

pytestmark = pytest.mark.needs_model

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"
SEEDS = tuple(range(6))
SHORT = {"horizon_days": 120, "warmup_days": 40}
TEAM_PAY = {"incentives.weights.individual": 0.0, "incentives.weights.team": 1.0}
COMPANY_PAY = {"incentives.weights.individual": 0.0, "incentives.weights.company": 1.0}


@lru_cache(maxsize=16)
def _base(name: str) -> Scenario:
    return load_scenario(SCENARIOS / f"{name}.yaml")


@lru_cache(maxsize=256)
def _run(name: str, changes: tuple[tuple[str, Any], ...], seed: int) -> FrictionModel:
    return FrictionModel(with_changes(_base(name), dict(changes)), rng=seed).run()


def run(changes: dict[str, Any], seed: int, base: str = "baseline") -> FrictionModel:
    """A finished run (cached: several tests share their reference scenarios)."""
    return _run(base, tuple(sorted({**SHORT, **changes}.items())), seed)


Metric = Callable[[FrictionModel], float]


def kpi(name: str) -> Metric:
    return lambda m: m.kpis[name]


def stage(name: str, key: str) -> Metric:
    return lambda m: m.stages[name][key]


def hours_share(category: str, reps_only: bool = False) -> Metric:
    """Share of (all, or the reps') measured paid hours booked to one category."""

    def share(m: FrictionModel) -> float:
        h = m.hours[: m.R] if reps_only else m.hours
        return float(h[:, HC[category]].sum() / h.sum())

    return share


@dataclass
class Paired:
    """B minus A on common random numbers."""

    what: str
    a: np.ndarray
    b: np.ndarray

    @property
    def diff(self) -> np.ndarray:
        return self.b - self.a

    @property
    def mean(self) -> float:
        return float(self.diff.mean())

    def __str__(self) -> str:
        d = self.diff
        return (
            f"{self.what}: A {self.a.mean():.4f}, B {self.b.mean():.4f}, paired B-A mean "
            f"{d.mean():+.4f} (sd {d.std(ddof=1):.4f}, range {d.min():+.4f}..{d.max():+.4f}, "
            f"{len(d)} seeds)"
        )

    def expect_rise(self, by: float) -> None:
        assert self.mean > by, f"expected B > A by more than {by:g}; {self}"

    def expect_fall(self, by: float) -> None:
        assert self.mean < -by, f"expected B < A by more than {by:g}; {self}"

    def expect_unchanged(self, within: float) -> None:
        assert abs(self.mean) < within, f"expected B = A within +-{within:g}; {self}"


def paired(
    metric: Metric,
    a: dict[str, Any],
    b: dict[str, Any],
    what: str,
    base: str = "baseline",
    seeds: tuple[int, ...] = SEEDS,
) -> Paired:
    va = np.array([metric(run(a, s, base)) for s in seeds])
    vb = np.array([metric(run(b, s, base)) for s in seeds])
    return Paired(what, va, vb)


# ------------------------------------------------------------------ 1. multitask / silo-buster
SILO_BUSTER = {"incentives.weights.individual": 0.5, "incentives.weights.silo_buster": 0.5}


def test_silo_buster_award_raises_help() -> None:
    paired(
        kpi("help_hours_share"), {}, SILO_BUSTER, "help share: 100% individual -> 50/50 silo-buster"
    ).expect_rise(0.02)


def test_noisy_judging_weakens_silo_buster_pull() -> None:
    noisy = {**SILO_BUSTER, "incentives.silo_buster_noise": 3.0}
    rise = paired(kpi("help_hours_share"), {}, SILO_BUSTER, "help rise, default judge")
    rise_noisy = paired(kpi("help_hours_share"), {}, noisy, "help rise, noise 3")
    assert rise_noisy.mean < rise.mean - 0.01, (
        f"a noisier judge (noise 3 vs 0.5) should weaken the rise in help by more than 1 pp:\n"
        f"  {rise}\n  {rise_noisy}"
    )
    assert rise_noisy.mean > 0, f"even a noisy award should still pull some help; {rise_noisy}"


def test_measured_task_crowds_out_unmeasured() -> None:
    """Holmstrom-Milgrom: pay on bookings alone pulls reps' hours to selling, away from
    handover quality, compared with company pay on activated revenue."""
    paired(
        hours_share("quality", reps_only=True),
        COMPANY_PAY,
        {},
        "reps' quality share: company -> individual bookings pay",
    ).expect_fall(0.02)
    paired(
        hours_share("core", reps_only=True),
        COMPANY_PAY,
        {},
        "reps' selling share: company -> individual bookings pay",
    ).expect_rise(0.05)


# ------------------------------------------------------------------ 2. free riding
POD4 = {**TEAM_PAY, "structure.kind": "pod", "structure.team_size": 4}
TRIBE15 = {**TEAM_PAY, "structure.kind": "tribe", "structure.team_size": 15}
NO_MONITORING = {"behaviour.peer_monitoring": 0.0}


def test_team_pay_slack_grows_with_team_size() -> None:
    paired(
        kpi("slack_hours_share"),
        POD4,
        TRIBE15,
        "slack share under team pay: pods of 4 -> tribes of 15",
    ).expect_rise(0.01)
    paired(
        hours_share("core"),
        POD4,
        TRIBE15,
        "core-work share under team pay: pods of 4 -> tribes of 15",
    ).expect_fall(0.02)


@pytest.mark.xfail(
    strict=True,
    reason=(
        "MODEL ISSUE (reported): under team pay the quality share does not fall with team size "
        "(pods of 4 vs tribes of 15: paired diff ~ -0.0004, help share even rises +1.7 pp). The "
        "logit choice flattens towards uniform when every bonus pull weakens, so free riding "
        "shows only as less core work and more slack, never as less cooperative effort."
    ),
)
def test_team_pay_quality_falls_with_team_size() -> None:
    paired(
        hours_share("quality"),
        POD4,
        TRIBE15,
        "quality share under team pay: pods of 4 -> tribes of 15",
    ).expect_fall(0.005)


def test_peer_monitoring_is_part_of_small_team_advantage() -> None:
    with_pm = paired(
        kpi("slack_hours_share"), POD4, TRIBE15, "slack, tribe - pod, peer monitoring 0.6"
    )
    without = paired(
        kpi("slack_hours_share"),
        {**POD4, **NO_MONITORING},
        {**TRIBE15, **NO_MONITORING},
        "slack, tribe - pod, no peer monitoring",
    )
    assert 0 < without.mean < with_pm.mean - 0.005, (
        "peer_monitoring = 0 should remove part (not all) of the small-team advantage in slack "
        f"(expected 0 < gap without < gap with - 0.5 pp):\n  {with_pm}\n  {without}"
    )


# ------------------------------------------------------------------ 4. overpromising
def mean_promise(m: FrictionModel) -> float:
    return float(m.promise[: m.R].mean())


def test_bookings_pay_raises_promise() -> None:
    paired(
        mean_promise, COMPANY_PAY, {}, "reps' promise inflation: company -> individual bookings pay"
    ).expect_rise(0.05)
    series = paired(
        lambda m: float(
            m.datacollector.get_model_vars_dataframe()["mean_promise"].iloc[-20:].mean()
        ),
        COMPANY_PAY,
        {},
        "mean_promise daily series, last 20 days",
    )
    series.expect_rise(0.05)


def test_no_overpromising_gives_zero_promise_and_lower_win_rate() -> None:
    off = {"behaviour.overpromise_max": 0.0}
    for seed in SEEDS[:2]:
        m = run(off, seed)
        promise = m.datacollector.get_model_vars_dataframe()["mean_promise"]
        assert (promise == 0).all() and (m.promise == 0).all(), (
            f"overpromise_max 0 should keep every promise at 0, max {promise.max()}"
        )
        oversold = m.deals.promise[: m.deals.n]
        assert (oversold == 0).all(), (
            f"{(oversold > 0).sum()} deals oversold with overpromise_max 0"
        )
    paired(kpi("win_rate"), {}, off, "win rate: overpromising allowed -> off").expect_fall(0.02)


# ------------------------------------------------------------------ 5. handover
MVH = {"handover.mvh": True, "handover.compliance": 1.0}


def test_mvh_gate_raises_handover_quality() -> None:
    paired(
        kpi("handover_quality"), {}, MVH, "handover quality: no gate -> gate, compliance 1"
    ).expect_rise(0.1)


def test_box_ticked_gate_costs_time_without_better_information() -> None:
    ticked = {**MVH, "handover.compliance": 0.0}
    paired(
        kpi("handover_quality"), {}, ticked, "handover quality: no gate -> box-ticked gate"
    ).expect_unchanged(0.01)
    paired(
        kpi("coordination_hours_share"),
        {},
        ticked,
        "coordination share: no gate -> box-ticked gate",
    ).expect_rise(0.001)


def test_red_flag_raises_handover_quality() -> None:
    paired(
        kpi("handover_quality"),
        {},
        {"handover.red_flag": True},
        "handover quality: red flags off -> on",
    ).expect_rise(0.1)


def test_auto_trigger_cuts_handover_wait() -> None:
    auto = {"handover.auto_trigger": True}
    paired(
        stage("handover", "wait_days"), {}, auto, "handover wait days: manual -> CRM trigger"
    ).expect_fall(1.0)
    paired(kpi("lead_time_days"), {}, auto, "lead time: manual -> CRM trigger").expect_fall(0.5)


# ------------------------------------------------------------------ 6. pooling
def test_split_queues_wait_longer_than_pooled_queue() -> None:
    """Zero-friction world, same staff: cross-functional pods split ops into small queues."""
    pods = {"structure.kind": "pod", "structure.team_size": 4}
    zf = "zero_friction"
    paired(
        stage("onboarding", "wait_days"),
        {},
        pods,
        "onboarding wait, zero friction: pooled silo queue -> pods of 4",
        base=zf,
    ).expect_rise(0.5)
    paired(
        kpi("lead_time_days"), {}, pods, "lead time, zero friction: pooled -> pods of 4", base=zf
    ).expect_rise(0.5)
    squads = {"structure.kind": "squad", "structure.team_size": 8}
    paired(
        stage("onboarding", "wait_days"),
        squads,
        pods,
        "onboarding wait, zero friction: squads of 8 -> pods of 4",
        base=zf,
    ).expect_rise(0.3)


# ------------------------------------------------------------------ 7. channels
def test_channel_sla_trades_interruptions_for_waiting() -> None:
    sla = {"comms.strategy": "channel_sla"}
    paired(
        kpi("interruptions_per_day"), {}, sla, "interruptions/person/day: chat-first -> channel SLA"
    ).expect_fall(1.0)
    paired(
        kpi("interruption_hours_share"),
        {},
        sla,
        "interruption hours share: chat-first -> channel SLA",
    ).expect_fall(0.01)
    # the other side: batched answers make deals wait
    paired(kpi("lead_time_days"), {}, sla, "lead time: chat-first -> channel SLA").expect_rise(0.2)
    paired(
        stage("onboarding", "wait_days"), {}, sla, "onboarding wait: chat-first -> channel SLA"
    ).expect_rise(0.2)


def test_slower_sla_means_longer_waits() -> None:
    fast = {"comms.strategy": "channel_sla", "comms.sla_answer_days": 0.5}
    slow = {"comms.strategy": "channel_sla", "comms.sla_answer_days": 2.0}
    paired(kpi("lead_time_days"), fast, slow, "lead time: SLA 0.5 -> 2 days").expect_rise(0.5)


# ------------------------------------------------------------------ 8. information
def test_glossary_and_eli5_reduce_rework() -> None:
    paired(
        kpi("rework_hours_share"), {}, {"info.glossary": True}, "rework share: glossary off -> on"
    ).expect_fall(0.003)
    paired(
        kpi("rework_hours_share"), {}, {"info.eli5": True}, "rework share: ELI5 off -> on"
    ).expect_fall(0.003)


def test_decision_archive_reduces_search() -> None:
    paired(
        kpi("search_hours_share"),
        {},
        {"info.decision_archive": True},
        "search share: archive off -> on",
    ).expect_fall(0.01)


def test_information_tools_do_not_fix_incentives() -> None:
    """Glossary, ELI5 and archive change what people know, not what they are paid for."""
    tools = {"info.glossary": True, "info.eli5": True, "info.decision_archive": True}
    paired(
        mean_promise, {}, tools, "promise inflation: information tools off -> on"
    ).expect_unchanged(0.01)
    paired(
        kpi("slack_hours_share"), {}, tools, "slack share: information tools off -> on"
    ).expect_unchanged(0.002)


def test_scarce_translation_champions_become_a_bottleneck() -> None:
    """Four champions with 0.5 h/day each cannot keep up with the questions; 8 h/day can.

    Note the model lets questions bypass champions whose backlog exceeds
    ``information.CHAMPION_BYPASS_DAYS``, so with *vanishing* hours (e.g. 0.05 h/day) nothing is
    translated and nothing waits: the bottleneck shows when capacity is short but not absent.
    """
    ample = {"info.translation_champions": 4, "info.champion_hours_per_day": 8.0}
    scarce = {"info.translation_champions": 4, "info.champion_hours_per_day": 0.5}
    paired(
        kpi("lead_time_days"), ample, scarce, "lead time: ample -> scarce champion hours"
    ).expect_rise(1.0)
    paired(
        stage("onboarding", "wait_days"),
        ample,
        scarce,
        "onboarding wait: ample -> scarce champion hours",
    ).expect_rise(1.0)


def test_cross_functional_teams_build_shared_context() -> None:
    """Working in one team lowers asymmetry over time: less search than silos of the same size."""
    paired(
        kpi("search_hours_share"),
        {"structure.team_size": 8},
        {"structure.kind": "squad", "structure.team_size": 8},
        "search share: silo -> squads of 8",
    ).expect_fall(0.01)


# ------------------------------------------------------------------ 9. coordination
def test_coordination_grows_with_team_size_as_brooks_predicts() -> None:
    small, large = {"structure.team_size": 4}, {"structure.team_size": 20}
    p = paired(
        kpi("coordination_hours_share"), small, large, "coordination share: silo teams of 4 -> 20"
    )
    p.expect_rise(0.02)
    # each person spends minutes_per_link on each of the (n - 1) links of their team (n(n-1)/2
    # channels per team): the rise must match that, whatever else coordination contains
    minutes = _base("baseline").structure.coordination_minutes_per_link

    def link_share(m: FrictionModel) -> float:
        return float(np.mean(m.team_size_of - 1.0) * minutes / 60.0 / 8.0)

    predicted = link_share(run(large, 0)) - link_share(run(small, 0))
    assert abs(p.mean - predicted) < 0.1 * predicted, (
        f"coordination rise should match Brooks' link count (minutes/link x (n-1) per person) "
        f"{predicted:.4f} within 10%; {p}"
    )


# ------------------------------------------------------------------ 10. coaching
def test_micro_coaching_raises_handover_quality() -> None:
    paired(
        kpi("handover_quality"),
        {},
        {"coaching.program": "micro_4wk"},
        "handover quality: no coaching -> micro_4wk",
    ).expect_rise(0.02)


def test_spaced_coaching_beats_massed_workshop() -> None:
    p = paired(
        kpi("handover_quality"),
        {"coaching.program": "workshop"},
        {"coaching.program": "micro_4wk"},
        "handover quality: workshop -> micro_4wk (same hours)",
    )
    p.expect_rise(0.01)
    paired(
        kpi("handover_quality"),
        {},
        {"coaching.program": "workshop"},
        "handover quality: none -> workshop",
    ).expect_rise(0.005)


def quality_entering(lo: int, hi: int) -> Metric:
    """Mean completeness of packages reaching ops on measured days lo..hi-1."""

    def q(m: FrictionModel) -> float:
        n = m.deals.n
        day = m.deals.ops_entry[:n] - m.warmup
        sel = (day >= lo) & (day < hi) & (m.deals.ops_entry[:n] >= 0)
        return float(m.deals.c_ops[:n][sel].mean())

    return q


def test_coaching_gains_decay_without_practice() -> None:
    year = {"horizon_days": 250, "warmup_days": 40}
    late = quality_entering(150, 250)
    effect = {}
    for half_life in (10.0, 1000.0):
        coached = {
            **year,
            "coaching.program": "micro_4wk",
            "coaching.decay_half_life_days": half_life,
        }
        effect[half_life] = paired(
            late, year, coached, f"late-year handover quality, coaching half-life {half_life:g} d"
        )
    effect[1000.0].expect_rise(0.02)
    assert effect[10.0].mean < effect[1000.0].mean - 0.02, (
        "with a short half-life the coaching effect late in the year should be smaller than with a "
        f"long one by more than 2 pp:\n  {effect[10.0]}\n  {effect[1000.0]}"
    )
    early = paired(
        quality_entering(20, 60),
        year,
        {**year, "coaching.program": "micro_4wk", "coaching.decay_half_life_days": 10.0},
        "early handover quality, half-life 10 d",
    )
    assert early.mean > effect[10.0].mean + 0.01, (
        f"a fast-decaying gain should be larger early than late:\n  {early}\n  {effect[10.0]}"
    )


# ------------------------------------------------------------------ 11. interventions
BLENDED = {
    "incentives.weights.individual": 0.4,
    "incentives.weights.team": 0.3,
    "incentives.weights.company": 0.2,
    "incentives.weights.silo_buster": 0.1,
}


@pytest.mark.parametrize(
    ("label", "changes", "immediate"),
    [
        ("channel SLA", {"comms.strategy": "channel_sla"}, True),
        ("reorganise into squads", {"structure.kind": "squad", "structure.team_size": 8}, True),
        # people learn a new plan from realised payouts: its effect appears from the next payout
        ("bonus 40/30/20/10", BLENDED, False),
    ],
)  # fmt: skip
def test_intervention_changes_series_only_from_its_day(
    label: str, changes: dict[str, Any], immediate: bool
) -> None:
    day = 25
    base = with_changes(_base("baseline"), {"horizon_days": 60, "warmup_days": 20})
    data = base.model_dump()
    data["interventions"] = [{"day": day, "set": changes, "label": label}]
    rolled = Scenario.model_validate(data)
    a = FrictionModel(base, rng=3).run().datacollector.get_model_vars_dataframe()
    model = FrictionModel(rolled, rng=3).run()
    b = model.datacollector.get_model_vars_dataframe()
    before = a["day"] < day
    pd.testing.assert_frame_equal(
        a[before], b[before], check_exact=True, obj=f"daily rows before the {label} roll-out"
    )
    series = [c for c in a.columns if c not in model.kpis and c != "day"]
    differs = (a[series].to_numpy() != b[series].to_numpy()).any(axis=1)
    assert differs.any(), f"{label} on day {day} left the daily series unchanged"
    first = int(a["day"][differs].iloc[0])
    payout = base.incentives.payout_period_days
    latest = day if immediate else day + payout + 5  # next payout, then the weekly review
    assert day <= first <= latest, (
        f"{label} on day {day}: the series should first differ on day {day}..{latest}, "
        f"first differs on day {first}"
    )
    assert differs[-10:].all(), f"{label}: the series should still differ in the last 10 days"
    assert model.applied_interventions and model.applied_interventions[0]["day"] == day


def test_reorganisation_has_a_transition_dip() -> None:
    """A change of structure costs extra coordination for transition_days, then it fades."""
    base = with_changes(_base("baseline"), {"horizon_days": 80, "warmup_days": 20})
    data = base.model_dump()
    data["interventions"] = [
        {"day": 20, "set": {"structure.kind": "squad", "structure.team_size": 8}}
    ]
    rolled = (
        FrictionModel(Scenario.model_validate(data), rng=2)
        .run()
        .datacollector.get_model_vars_dataframe()
    )
    direct = FrictionModel(
        with_changes(base, {"structure.kind": "squad", "structure.team_size": 8}), rng=2
    ).run()
    direct_df = direct.datacollector.get_model_vars_dataframe()
    window = (rolled["day"] >= 20) & (rolled["day"] < 30)
    dip = (
        rolled.loc[window, "loss_share_today"].mean()
        - direct_df.loc[window, "loss_share_today"].mean()
    )
    assert dip > 0.02, (
        "the first 10 days after a reorganisation should lose > 2 pp more hours than a settled "
        f"squad organisation, got {dip:+.4f}"
    )


# ------------------------------------------------------------------ decision authority
def test_decision_authority_cuts_decision_latency() -> None:
    tribe = {"structure.kind": "tribe", "structure.team_size": 12}
    paired(
        kpi("decision_latency_days"), {}, tribe, "decision latency: silo -> tribes (authority 0.8)"
    ).expect_fall(0.5)
    paired(
        kpi("decision_latency_days"),
        {},
        {"structure.decision_authority": 0.9},
        "decision latency: authority 0.2 -> 0.9",
    ).expect_fall(0.5)


# ------------------------------------------------------------------ full-year, more seeds
YEAR = {"horizon_days": 250, "warmup_days": 60}
SLOW_SEEDS = tuple(range(100, 112))


SLOW_CASES = [
    (
        "help: individual -> silo-buster 50%",
        kpi("help_hours_share"),
        {},
        SILO_BUSTER,
        "baseline",
        +1,
        0.02,
    ),
    (
        "slack: team pay pods 4 -> tribes 15",
        kpi("slack_hours_share"),
        POD4,
        TRIBE15,
        "baseline",
        +1,
        0.01,
    ),
    ("promise: company -> bookings pay", mean_promise, COMPANY_PAY, {}, "baseline", +1, 0.05),
    ("quality: no gate -> gate", kpi("handover_quality"), {}, MVH, "baseline", +1, 0.1),
    (
        "interruptions: chat -> SLA",
        kpi("interruptions_per_day"),
        {},
        {"comms.strategy": "channel_sla"},
        "baseline",
        -1,
        1.0,
    ),
    (
        "lead time: chat -> SLA",
        kpi("lead_time_days"),
        {},
        {"comms.strategy": "channel_sla"},
        "baseline",
        +1,
        0.2,
    ),
    (
        "onboarding wait: pooled -> pods",
        stage("onboarding", "wait_days"),
        {},
        {"structure.kind": "pod", "structure.team_size": 4},
        "zero_friction",
        +1,
        0.5,
    ),
    (
        "rework: glossary off -> on",
        kpi("rework_hours_share"),
        {},
        {"info.glossary": True},
        "baseline",
        -1,
        0.003,
    ),
    (
        "search: archive off -> on",
        kpi("search_hours_share"),
        {},
        {"info.decision_archive": True},
        "baseline",
        -1,
        0.01,
    ),
    (
        "quality: none -> micro coaching",
        kpi("handover_quality"),
        {},
        {"coaching.program": "micro_4wk"},
        "baseline",
        +1,
        0.01,
    ),
    (
        "latency: silo -> tribes",
        kpi("decision_latency_days"),
        {},
        {"structure.kind": "tribe", "structure.team_size": 12},
        "baseline",
        -1,
        0.5,
    ),
]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("what", "metric", "a", "b", "base", "sign", "by"), SLOW_CASES, ids=[c[0] for c in SLOW_CASES]
)
def test_mechanism_directions_full_year(
    what: str, metric: Metric, a: dict[str, Any], b: dict[str, Any], base: str, sign: int, by: float
) -> None:
    p = paired(
        metric, {**YEAR, **a}, {**YEAR, **b}, f"{what} (full year)", base=base, seeds=SLOW_SEEDS
    )
    if sign > 0:
        p.expect_rise(by)
    else:
        p.expect_fall(by)
    # and not by luck: the paired mean is at least 3 standard errors from 0
    se = p.diff.std(ddof=1) / np.sqrt(len(p.diff))
    assert abs(p.mean) > 3 * se, f"the effect should be at least 3 standard errors from 0; {p}"
