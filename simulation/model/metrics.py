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
from simulation.model.hours import (
    DAYS_PER_YEAR,
    HC,
    HOURS_PER_DAY,
    LOSS_COLUMNS,
    UNPRODUCTIVE_COLUMNS,
)
from simulation.model.incentives import COMPONENTS

#: A FrictionModel (not imported here: the model imports this module, never the reverse).
FrictionModel = Any

CA_COMPLETENESS = 0.7  # a package counts as complete & accurate at or above this completeness
#: Lead time is a mean restricted to this many working days (half a year, or the window if
#: shorter): a customer still waiting counts the days they waited, up to this cap, so plans and
#: runs of different lengths are measured alike (the baseline's waits are two to three weeks).
LEAD_TIME_TAU = 125


@dataclass(frozen=True)
class KPI:
    name: str
    label: str
    unit: str
    better: str  # "higher" or "lower"
    description: str
    signed: bool = False  # may be negative (net value)

    @property
    def bounds(self) -> tuple[float, float]:
        """The values the KPI can take: shares lie in [0, 1], money may be signed, everything
        else is >= 0."""
        if self.signed:
            return (-math.inf, math.inf)
        share = self.unit.startswith("share") or self.unit == "completeness 0-1"
        return (0.0, 1.0) if share else (0.0, math.inf)


_K = [
    KPI("net_value", "Net value", "currency/year", "higher",
        "Gross margin on the contract value activated (one year of it), minus bonus cost, minus the loaded payroll, minus the redeployable share of the loaded cost of unproductive hours; per year.",
        signed=True),
    KPI("productivity_loss", "Productivity loss", "share of paid hours", "lower",
        "Unproductive paid hours over paid hours: friction (interruptions, searching, rework, coordination) plus slack (paid hours not worked while work was there). Idle hours (no work to do) are spare capacity, not loss."),
    KPI("handover_churn", "Churn at handover", "share of closed-won", "lower",
        "Share of closed-won customers lost before activation (Aalen-Johansen cumulative incidence, open cases censored)."),
    KPI("throughput", "Throughput", "activations/month", "higher", "Customers activated per month (250/12 working days)."),
    KPI("win_rate", "Win rate", "share of decided opportunities", "higher",
        "Won over won + lost (lost includes opportunities that went stale)."),
    KPI("lead_time_days", "Lead time", "working days", "lower",
        "Mean working days from close to activation, counting customers still waiting at the end (Kaplan-Meier restricted mean over the window; a customer who churns is counted as waiting until then)."),
    KPI("waiting_share", "Still waiting", "share of closed-won", "lower",
        "Share of the customers won in the window still waiting for activation at its end (neither activated nor lost)."),
    KPI("revenue", "Activated revenue", "currency/year", "higher", "Annual contract value of customers activated, per year."),
    KPI("gross_margin", "Gross margin", "currency/year", "higher",
        "Gross margin on the annual contract value of customers activated, per year (before the payroll modelled here)."),
    KPI("bonus_cost", "Bonus cost", "currency/year", "lower", "Bonus paid (all components), per year."),
    KPI("payroll_cost", "Payroll", "currency/year", "lower", "Salaries of the reps and ops staff times the loaded-cost factor, per year."),
    KPI("handover_quality", "Handover quality", "completeness 0-1", "higher",
        "Mean completeness of the packages ops actually receives (after any gate or return)."),
    KPI("friction_loss", "Friction loss", "share of paid hours", "lower",
        "Hours lost to interruptions (handling + resumption), searching, rework and coordination, over paid hours (productivity loss without slack)."),
    KPI("utilisation", "Utilisation", "share of paid hours", "higher",
        "Paid hours with work to do: one minus idle hours (ops with an empty queue, reps with nothing to sell)."),
    KPI("interruptions_per_day", "Interruptions", "per person per day", "lower", "Messages that interrupt work, per person per day."),
    KPI("help_hours_share", "Cross-department help", "share of paid hours", "higher", "Hours given to the other department's work."),
    KPI("rework_hours_share", "Rework", "share of paid hours", "lower", "Ops rework on misread or overpromised deals and reps fixing returned packages."),
    KPI("search_hours_share", "Searching", "share of paid hours", "lower", "Time spent looking for information."),
    KPI("coordination_hours_share", "Coordination", "share of paid hours", "lower",
        "Meetings, reorganisation, gate forms, exceptions, owner follow-up, translation and tool upkeep."),
    KPI("interruption_hours_share", "Interruption time", "share of paid hours", "lower", "Message handling plus resumption time."),
    KPI("slack_hours_share", "Slack", "share of paid hours", "lower", "Paid hours not worked (free riding)."),
    KPI("learning_hours_share", "Learning", "share of paid hours", "higher",
        "Coaching sessions and post-mortems (an investment, counted neither as loss nor as work)."),
    KPI("decision_latency_days", "Decision latency", "working days", "lower",
        "Days to settle a deal's exceptions (in the team or escalated), deals with exceptions."),
    KPI("cost_of_friction", "Cost of friction", "currency/year", "lower",
        "Friction hours at loaded cost plus the annual value of customers lost at handover, per year (it leaves out sales a plan does not make; net value counts them)."),
    KPI("payout_rep_mean", "Bonus per rep", "currency/year", "higher", "Mean bonus paid to a rep, per year."),
    KPI("payout_ops_mean", "Bonus per ops", "currency/year", "higher", "Mean bonus paid to an ops staff member, per year."),
]  # fmt: skip
KPIS: dict[str, KPI] = {k.name: k for k in _K}
#: The decision: money the plan earns, customers lost at handover, hours lost, customers
#: delivered. Rankings and headlines decide on the first unless told otherwise.
MISSION = ("net_value", "handover_churn", "productivity_loss", "throughput")
#: The KPIs a summary leads with, most important first.
HEADLINE = (*MISSION, "win_rate", "lead_time_days", "revenue", "bonus_cost")
#: Every KPI is also measured over the year after a scenario's first roll-out (columns
#: ``after_rollout_<kpi>``), NaN for a scenario without roll-outs.
WINDOW_KPIS = tuple(KPIS)
AFTER_ROLLOUT = "after_rollout_"

STAGES = ("qualification", "handover", "onboarding")
END_TO_END = "end_to_end"  # whole stream: summed process and wait days, rolled %C&A
STAGE_METRICS = ("process_days", "wait_days", "pct_complete_accurate")
STAGE_BOUNDS = {
    "process_days": (0.0, math.inf),
    "wait_days": (0.0, math.inf),
    "pct_complete_accurate": (0.0, 100.0),
}


def compute_kpis(m: FrictionModel, start: int = 0, end: int | None = None) -> dict[str, float]:
    """All KPIs of a finished run over measured days ``[start, end)`` (default: the whole
    measured window). Flows count events dated in the window; a customer whose fate falls after
    ``end`` counts as still waiting at ``end``; money is per year of the window."""
    end = m.s.horizon_days if end is None else end
    if not 0 <= start < end <= m.s.horizon_days:
        raise ValueError(f"window [{start}, {end}) is not inside the measured days")
    a, b = m.warmup + start, m.warmup + end  # simulated days
    years = (end - start) / DAYS_PER_YEAR
    out = {
        **_hour_kpis(m, a, b, years),
        **_deal_kpis(m, a, b, years),
        **_money_kpis(m, a, b, start, end, years),
    }
    return {k: out[k] for k in KPIS}


def after_rollout_kpis(m: FrictionModel) -> dict[str, float]:
    """The KPIs over the year after the scenario's first roll-out (clipped to the horizon),
    or ``{}`` when the scenario rolls nothing out."""
    days = [iv.day for iv in m.base_scenario.interventions]
    if not days:
        return {}
    first = min(days)
    return compute_kpis(m, first, min(first + int(DAYS_PER_YEAR), m.s.horizon_days))


def window_values(m: FrictionModel) -> dict[str, float]:
    """``after_rollout_<kpi>`` columns of a results store (NaN without roll-outs)."""
    after = m.kpis_after_rollout
    return {f"{AFTER_ROLLOUT}{k}": float(after.get(k, math.nan)) for k in WINDOW_KPIS}


def _hours(m: FrictionModel, a: int, b: int) -> np.ndarray:
    """Hours by role (rows: reps, ops) and category, summed over simulated days ``[a, b)``."""
    return m.timesheet.daily[a:b].sum(axis=0)


def _loaded_per_hour(m: FrictionModel) -> np.ndarray:
    """Loaded cost of a paid hour by role (reps, ops)."""
    org = m.s.org
    salary = np.array([org.rep_salary, org.ops_salary])
    return salary / (DAYS_PER_YEAR * HOURS_PER_DAY) * org.loaded_cost_factor


def _hour_kpis(m: FrictionModel, a: int, b: int, years: float) -> dict[str, float]:
    h = _hours(m, a, b)
    by_cat = h.sum(axis=0)
    paid = by_cat.sum()
    share = {c: float(by_cat[i] / paid) for c, i in HC.items()}
    interruptions = m.timesheet.daily_interruptions[a:b].sum()
    return {
        "productivity_loss": float(by_cat[list(UNPRODUCTIVE_COLUMNS)].sum() / paid),
        "friction_loss": float(by_cat[list(LOSS_COLUMNS)].sum() / paid),
        "utilisation": 1.0 - share["idle"],
        "interruptions_per_day": float(interruptions / (m.N * (b - a))),
        "help_hours_share": share["help"],
        "rework_hours_share": share["rework"],
        "search_hours_share": share["search"],
        "coordination_hours_share": share["coordination"],
        "interruption_hours_share": share["interruptions"],
        "slack_hours_share": share["slack"],
        "learning_hours_share": share["learning"],
    }


def _deal_kpis(m: FrictionModel, a: int, b: int, years: float) -> dict[str, float]:
    d = m.deals
    n = d.n
    closed, done, stage = d.closed[:n], d.done[:n], d.stage[:n]
    in_window = (closed >= a) & (closed < b)
    decided = in_window & ((stage == LOST) | (stage >= HANDOVER))
    won = decided & (stage >= HANDOVER)
    # the fate of a customer as it stood at the end of the window
    settled = ((stage == ACTIVATED) | (stage == CHURNED)) & (done < b)
    fate = np.where(settled, stage, HANDOVER)
    activated_in = (stage == ACTIVATED) & (done >= a) & (done < b)
    entered = (d.ops_entry[:n] >= a) & (d.ops_entry[:n] < b)
    exc = entered & (d.n_exc[:n] > 0)
    return {
        "handover_churn": handover_churn(closed[won], done[won], fate[won], b),
        "throughput": float(activated_in.sum() / (years * 12.0)),
        "win_rate": _ratio(won.sum(), decided.sum()),
        "lead_time_days": restricted_mean_lead_time(
            closed[won], done[won], fate[won], b, min(LEAD_TIME_TAU, b - a)
        ),
        "waiting_share": _mean((fate[won] != ACTIVATED) & (fate[won] != CHURNED)),
        "revenue": float(d.value[:n][activated_in].sum() / years),
        "handover_quality": _mean(d.c_ops[:n][entered]),
        "decision_latency_days": _mean(d.exc_latency[:n][exc]),
    }


def _money_kpis(
    m: FrictionModel, a: int, b: int, start: int, end: int, years: float
) -> dict[str, float]:
    """Net value and its parts, cost of friction and bonus, per year of the window."""
    d = m.deals
    n = d.n
    s = m.s
    loaded = _loaded_per_hour(m)  # reps, ops
    h = _hours(m, a, b)
    friction_cost = float((h[:, list(LOSS_COLUMNS)].sum(axis=1) * loaded).sum())
    unproductive_cost = float((h[:, list(UNPRODUCTIVE_COLUMNS)].sum(axis=1) * loaded).sum())
    # every person is paid HOURS_PER_DAY a day: payroll is exact, the same for every plan
    payroll = float((np.array([m.R, m.O]) * HOURS_PER_DAY * (b - a) * loaded).sum())
    stage, done = d.stage[:n], d.done[:n]
    churned_in = (stage == CHURNED) & (done >= a) & (done < b)
    activated_in = (stage == ACTIVATED) & (done >= a) & (done < b)
    revenue = float(d.value[:n][activated_in].sum())
    bonus_rep, bonus_ops = bonus_in_window(m.plans.ledger, start, end)
    margin = s.market.gross_margin * revenue
    bonus = bonus_rep + bonus_ops
    redeployable = s.economics.redeployable_share * unproductive_cost
    return {
        "net_value": (margin - bonus - payroll - redeployable) / years,
        "gross_margin": margin / years,
        "bonus_cost": bonus / years,
        "payroll_cost": payroll / years,
        "cost_of_friction": (friction_cost + float(d.value[:n][churned_in].sum())) / years,
        "payout_rep_mean": bonus_rep / m.R / years,
        "payout_ops_mean": bonus_ops / m.O / years,
    }


def result_columns() -> list[str]:
    """Every per-run value a results store keeps: the KPIs, payout summaries, stage figures and
    the KPIs of the year after the first roll-out."""
    return [*KPIS, *payout_columns(), *stage_columns(), *(AFTER_ROLLOUT + k for k in WINDOW_KPIS)]


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


def bonus_in_window(
    ledger: list[tuple[int, int, float, float]], start: int, end: int
) -> tuple[float, float]:
    """Bonus of reps and of ops earned in measured days ``[start, end)``: each payout period
    counts pro rata to its days inside the window (whole periods inside it count in full, as
    in the measured window, whose periods start on day 0)."""
    rep = ops = 0.0
    for first, last, paid_rep, paid_ops in ledger:
        days = last - first
        inside = min(last, end) - max(first, start)
        if days > 0 and inside > 0:
            rep += paid_rep * inside / days
            ops += paid_ops * inside / days
    return rep, ops


def restricted_mean_lead_time(
    closed: np.ndarray, done: np.ndarray, stage: np.ndarray, end: int, tau: int
) -> float:
    """Kaplan-Meier restricted mean of working days from close to activation, up to ``tau``.

    Activation is the event; a customer still waiting at ``end`` is censored there and one who
    churned is censored on the day they left, so customers who wait long count for the time
    they waited instead of dropping out (a plain mean over the activated would reward a stuck
    organisation with a short lead time). The mean is the area under the curve of the share
    still waiting, from day 0 to ``tau`` or the longest follow-up if shorter (beyond it the
    curve is not known).
    """
    if len(closed) == 0:
        return float("nan")
    activated = stage == ACTIVATED
    t = np.where(activated | (stage == CHURNED), done - closed, end - closed).astype(np.int64)
    t = np.clip(t, 0, tau)
    tau = int(t.max())  # never beyond the longest follow-up: no extrapolation past the data
    T = tau + 1
    events = np.bincount(t[activated], minlength=T)[:T]
    leaving = np.bincount(t, minlength=T)[:T]
    at_risk = len(t) - np.r_[0, np.cumsum(leaving)[:-1]]
    with np.errstate(invalid="ignore", divide="ignore"):
        h = np.where(at_risk > 0, events / at_risk, 0.0)
    waiting_after = np.cumprod(1.0 - h)  # share still waiting after day k: P(T > k)
    return float(waiting_after[:tau].sum())  # sum of P(T > k), k < tau: the restricted mean


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
