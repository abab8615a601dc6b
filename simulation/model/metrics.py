"""Every KPI, defined once, with its label, unit and which direction is better.

KPIs are computed at the horizon from the run's deal records and booked hours, over the
measured window (after warm-up). Customers closed near the end whose fate is still open are
not counted as successes: handover churn is a competing-risks (Aalen-Johansen) estimate of the
share of closed-won customers lost before activation, with still-open customers censored.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from simulation.model.deals import ACTIVATED, CHURNED, HANDOVER, LOST, STAGE_NAMES
from simulation.model.hours import DAYS_PER_MONTH, DAYS_PER_YEAR, HC, HOURS_PER_DAY, LOSS_COLUMNS
from simulation.model.incentives import COMPONENTS

#: A FrictionModel (not imported here: the model imports this module, never the reverse).
FrictionModel = Any

CA_COMPLETENESS = 0.7  # a package counts as complete & accurate at or above this completeness


@dataclass(frozen=True)
class KPI:
    name: str
    label: str
    unit: str
    better: str  # "higher" or "lower"
    description: str

    @property
    def bounds(self) -> tuple[float, float]:
        """The values the KPI can take: shares lie in [0, 1], everything else is >= 0."""
        share = self.unit.startswith("share") or self.unit == "completeness 0-1"
        return (0.0, 1.0) if share else (0.0, math.inf)


_K = [
    KPI("productivity_loss", "Productivity loss", "share of paid hours", "lower",
        "Hours lost to interruptions (handling + resumption), searching, rework and coordination, over paid hours."),
    KPI("handover_churn", "Churn at handover", "share of closed-won", "lower",
        "Share of closed-won customers lost before activation (Aalen-Johansen cumulative incidence, open cases censored)."),
    KPI("throughput", "Throughput", "activations/month", "higher", "Customers activated per month (250/12 working days)."),
    KPI("win_rate", "Win rate", "share of decided opportunities", "higher",
        "Won over won + lost (lost includes opportunities that went stale)."),
    KPI("lead_time_days", "Lead time", "working days", "lower", "Mean days from close to activation of customers activated in the window (those still waiting at the horizon are left out, so it reads slightly low)."),
    KPI("revenue", "Activated revenue", "currency/year", "higher", "Annual contract value of customers activated, per year."),
    KPI("bonus_cost", "Bonus cost", "currency/year", "lower", "Bonus paid (all components), per year."),
    KPI("handover_quality", "Handover quality", "completeness 0-1", "higher",
        "Mean completeness of the packages ops actually receives (after any gate or return)."),
    KPI("interruptions_per_day", "Interruptions", "per person per day", "lower", "Messages that interrupt work, per person per day."),
    KPI("help_hours_share", "Cross-department help", "share of paid hours", "higher", "Hours given to the other department's work."),
    KPI("rework_hours_share", "Rework", "share of paid hours", "lower", "Ops rework on misread or overpromised deals and reps fixing returned packages."),
    KPI("search_hours_share", "Searching", "share of paid hours", "lower", "Time spent looking for information."),
    KPI("coordination_hours_share", "Coordination", "share of paid hours", "lower",
        "Meetings, reorganisation, gate forms, exceptions, owner follow-up, translation and tool upkeep."),
    KPI("interruption_hours_share", "Interruption time", "share of paid hours", "lower", "Message handling plus resumption time."),
    KPI("slack_hours_share", "Slack", "share of paid hours", "lower", "Paid hours not worked (free riding)."),
    KPI("decision_latency_days", "Decision latency", "working days", "lower",
        "Days to settle a deal's exceptions (in the team or escalated), deals with exceptions."),
    KPI("cost_of_friction", "Cost of friction", "currency/year", "lower",
        "Lost hours at loaded cost plus the annual value of customers lost at handover, per year."),
    KPI("payout_rep_mean", "Bonus per rep", "currency/year", "higher", "Mean bonus paid to a rep, per year."),
    KPI("payout_ops_mean", "Bonus per ops", "currency/year", "higher", "Mean bonus paid to an ops staff member, per year."),
]  # fmt: skip
KPIS: dict[str, KPI] = {k.name: k for k in _K}
#: The brief's three questions: hours lost, customers lost at handover, customers delivered.
MISSION = ("productivity_loss", "handover_churn", "throughput")
#: The KPIs a summary leads with, most important first.
HEADLINE = (*MISSION, "win_rate", "lead_time_days", "revenue", "bonus_cost")

STAGES = ("qualification", "handover", "onboarding")
END_TO_END = "end_to_end"  # whole stream: summed process and wait days, rolled %C&A
STAGE_METRICS = ("process_days", "wait_days", "pct_complete_accurate")
STAGE_BOUNDS = {
    "process_days": (0.0, math.inf),
    "wait_days": (0.0, math.inf),
    "pct_complete_accurate": (0.0, 100.0),
}


def compute_kpis(m: FrictionModel) -> dict[str, float]:
    """All KPIs of a finished run (measured window only)."""
    d = m.deals
    w0 = m.warmup
    end = m.total_days
    years = m.s.horizon_days / DAYS_PER_YEAR
    paid = m.hours.sum()
    by_cat = m.hours.sum(axis=0)
    share = {c: float(by_cat[i] / paid) for c, i in HC.items()}
    lost_per_person = m.hours[:, list(LOSS_COLUMNS)].sum(axis=1)

    decided = (d.closed >= w0) & ((d.stage == LOST) | (d.stage >= HANDOVER))
    won = decided & (d.stage >= HANDOVER)
    churn = handover_churn(d.closed[won], d.done[won], d.stage[won], end)
    activated_in = (d.stage == ACTIVATED) & (d.done >= w0)
    act_cohort = won & (d.stage == ACTIVATED)
    churned_in = (d.stage == CHURNED) & (d.done >= w0)
    entered = d.ops_entry >= w0  # never-entered deals have ops_entry -1 < w0
    exc = entered & (d.n_exc > 0)

    salary_hour = np.where(m.is_rep, m.s.org.rep_salary, m.s.org.ops_salary) / (
        DAYS_PER_YEAR * HOURS_PER_DAY
    )
    loaded = salary_hour * m.s.org.loaded_cost_factor
    lost_cost = float((lost_per_person * loaded).sum())
    churn_value = float(d.value[churned_in].sum())
    pay = m.payouts.sum(axis=1)
    return {
        "productivity_loss": float(lost_per_person.sum() / paid),
        "handover_churn": churn,
        "throughput": float(activated_in.sum() / (m.s.horizon_days / DAYS_PER_MONTH)),
        "win_rate": _ratio(won.sum(), decided.sum()),
        "lead_time_days": _mean(d.done[act_cohort] - d.closed[act_cohort]),
        "revenue": float(d.value[activated_in].sum() / years),
        "bonus_cost": float(m.payouts.sum() / years),
        "handover_quality": _mean(d.c_ops[entered]),
        "interruptions_per_day": float(m.interruptions_total / (m.N * m.s.horizon_days)),
        "help_hours_share": share["help"],
        "rework_hours_share": share["rework"],
        "search_hours_share": share["search"],
        "coordination_hours_share": share["coordination"],
        "interruption_hours_share": share["interruptions"],
        "slack_hours_share": share["slack"],
        "decision_latency_days": _mean(d.exc_latency[exc]),
        "cost_of_friction": float((lost_cost + churn_value) / years),
        "payout_rep_mean": float(pay[: m.R].mean() / years),
        "payout_ops_mean": float(pay[m.R :].mean() / years),
    }


def result_columns() -> list[str]:
    """Every per-run value a results store keeps: the KPIs, payout summaries, stage figures."""
    return [*KPIS, *payout_columns(), *stage_columns()]


def stage_columns() -> list[str]:
    """Flat column names of the value-stream figures in a results store: ``<stage>_<metric>``."""
    return [f"{st}_{m}" for st in (*STAGES, END_TO_END) for m in STAGE_METRICS]


def stage_values(m: FrictionModel) -> dict[str, float]:
    """The value-stream figures of a run as flat columns (see :func:`stage_columns`)."""
    return {f"{st}_{k}": float(v) for st, row in m.stages.items() for k, v in row.items()}


#: Who gains and who loses: per-run payout summaries by role, all in currency/year per person.
PAY_ROLES = ("rep", "ops")
PAY_QUANTILES = (10, 50, 90)
PAY_COMPONENTS = COMPONENTS  # the columns of model.payouts


def payout_columns() -> list[str]:
    """Column names of :func:`payout_summary`, in order."""
    cols = []
    for role in PAY_ROLES:
        cols += [f"pay_{role}_p{q}" for q in PAY_QUANTILES]
        cols += [f"pay_{role}_{c}" for c in PAY_COMPONENTS]
    return cols


def payout_summary(m: FrictionModel) -> dict[str, float]:
    """Distribution of annual bonus per person by role (10th/50th/90th percentile) and the mean
    paid by each bonus component, so a report can show who gains and who loses under a plan.

    The role means are the KPIs ``payout_rep_mean`` and ``payout_ops_mean``.
    """
    years = m.s.horizon_days / DAYS_PER_YEAR
    out: dict[str, float] = {}
    for role, rows in (("rep", slice(0, m.R)), ("ops", slice(m.R, m.N))):
        pay = m.payouts[rows] / years
        total = pay.sum(axis=1)
        for q, v in zip(PAY_QUANTILES, np.percentile(total, PAY_QUANTILES), strict=True):
            out[f"pay_{role}_p{q}"] = float(v)
        for c, v in zip(PAY_COMPONENTS, pay.mean(axis=0), strict=True):
            out[f"pay_{role}_{c}"] = float(v)
    return out


def handover_churn(closed: np.ndarray, done: np.ndarray, stage: np.ndarray, end: int) -> float:
    """Cumulative incidence of churn before activation (Aalen-Johansen, competing risks).

    Time is days since close; activation competes with churn; customers still waiting at the
    horizon are censored at ``end``, so a late cohort neither counts as success nor as loss.
    """
    if len(closed) == 0:
        return float("nan")
    finished = (stage == ACTIVATED) | (stage == CHURNED)
    t = np.where(finished, done - closed, end - closed).astype(np.int64)
    t = np.maximum(t, 0)
    T = int(t.max()) + 1
    churn_ev = np.bincount(t[stage == CHURNED], minlength=T)
    act_ev = np.bincount(t[stage == ACTIVATED], minlength=T)
    leaving = np.bincount(t, minlength=T)
    at_risk = len(t) - np.r_[0, np.cumsum(leaving)[:-1]]
    with np.errstate(invalid="ignore", divide="ignore"):
        h_c = np.where(at_risk > 0, churn_ev / at_risk, 0.0)
        h_a = np.where(at_risk > 0, act_ev / at_risk, 0.0)
    surv_before = np.r_[1.0, np.cumprod(1.0 - h_c - h_a)[:-1]]
    return float((surv_before * h_c).sum())


def stage_table(m: FrictionModel) -> dict[str, dict[str, float]]:
    """Process time, wait time and %C&A per value-stream stage, plus the end-to-end summary.

    Process days are touch time (hours / 8); elapsed days are the difference of the stage's
    start and end days (so the stages add up to the lead time); wait days are elapsed minus
    touch time, floored at 0;
    %C&A is the share leaving the stage complete and accurate. ``end_to_end`` sums the days
    and multiplies the %C&A (rolled %C&A); activity ratio = process / (process + wait).
    """
    d = m.deals
    w0 = m.warmup
    won = (d.closed >= w0) & (d.stage >= HANDOVER)
    entered = d.ops_entry >= w0
    act = entered & (d.stage == ACTIVATED)
    # touch time of the sales stage: selling plus the documentation written while selling
    q_process = (d.sell_need[won] + d.doc_hours[won]) / HOURS_PER_DAY
    q_total = (d.closed[won] - d.created[won]).astype(float)
    h_process = d.handover_hours[entered] / HOURS_PER_DAY
    h_total = (d.ops_entry[entered] - d.closed[entered]).astype(float)
    o_process = d.work_total[act] / HOURS_PER_DAY
    o_total = (d.done[act] - d.ops_entry[act]).astype(float)
    stages = {
        "qualification": _stage(q_process, q_total, d.promise[won] == 0),
        "handover": _stage(h_process, h_total, d.c_ops[entered] >= CA_COMPLETENESS),
        "onboarding": _stage(o_process, o_total, ~d.misread[act] & (d.promise[act] == 0)),
    }
    # the value-stream map's summary: lead time = process + wait; rolled %C&A = product
    rolled = 100.0
    for st in stages.values():
        rolled *= st["pct_complete_accurate"] / 100.0
    stages[END_TO_END] = {
        "process_days": sum(st["process_days"] for st in stages.values()),
        "wait_days": sum(st["wait_days"] for st in stages.values()),
        "pct_complete_accurate": rolled,
    }
    return stages


def _stage(process: np.ndarray, total: np.ndarray, ok: np.ndarray) -> dict[str, float]:
    p = _mean(process)
    return {
        "process_days": p,
        "wait_days": _mean(np.maximum(total - process, 0.0)),
        "pct_complete_accurate": _mean(ok.astype(float)) * 100.0,
    }


def stage_counts(m: FrictionModel) -> dict[str, int]:
    """Leads by stage right now (conservation check)."""
    return dict(zip(STAGE_NAMES, m.deals.counts().tolist(), strict=True))


def _ratio(a: float, b: float) -> float:
    return float(a / b) if b else float("nan")


def _mean(x: np.ndarray) -> float:
    return float(np.mean(x)) if len(x) else float("nan")
