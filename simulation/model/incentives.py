"""Incentives: the multitask problem, free riding, mutual monitoring, tournaments, payouts.

State (``Incentives``): each person's plan (time allocation, promise inflation), norms, beliefs
about the bonus plan, what each component measures for them, the plan's targets, the current
payout period's tallies and the bonuses paid. Functions on arrays; people are rows; tasks and
bonus components are columns.

Tasks (columns of an allocation): ``CORE`` (reps sell, ops deliver), ``QUALITY`` (reps document
and scope realistically, ops review scoping with sales), ``HELP`` (hours given to the other
department's work), ``SLACK`` (time not worked: where free riding shows up).

Bonus components: ``IND`` (individual KPI), ``TEAM``, ``COMP`` (company), ``SB`` (silo-buster
award for observed cross-department help).

The choice rule (Holmstrom & Milgrom 1991; McFadden logit): the perceived marginal return of an
hour on task k is ``salience * sum_j belief_j * attribution_j * elasticity_jk + norm_k``; the
preferred allocation is the logit (softmax) of ``beta * return``; people move a fixed share of the
way towards it at each weekly review, so a new plan takes weeks to show.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from simulation.model.hours import DAYS_PER_YEAR

#: Churn the plan's targets assume (the brief's ~15%): activation targets are bookings net of it.
NOMINAL_CHURN = 0.15

CORE, QUALITY, HELP, SLACK = range(4)
TASKS = ("core", "quality", "help", "slack")
IND, TEAM, COMP, SB = range(4)
COMPONENTS = ("individual", "team", "company", "silo_buster")

# What a KPI rewards: believed effect of an hour on each task (core, quality, help, slack) and of
# promise inflation, relative to the effect of an hour of core work on the KPI it is built for.
# These are the agents' beliefs about the production function (documented in ODD.md), not
# outcomes: whether quality work really lowers churn is decided by the simulated value stream.
KPI_BOOKINGS = 0  # rep's (or sales team's) closed-won value
KPI_DELIVERY = 1  # ops productive delivery hours
KPI_ACTIVATED = 2  # activated revenue (customers live)
KPI_HELP = 3  # observed help hours (silo-buster tournament)

ELASTICITY_REP = np.array(
    [
        [1.0, 0.0, 0.0, 0.0],  # bookings: only selling counts
        [0.0, 0.0, 0.0, 0.0],  # delivery: not a rep KPI
        [0.5, 0.35, 0.15, 0.0],  # activated revenue: selling, a clean handover, helping ops
        [0.0, 0.0, 1.0, 0.0],  # observed help
    ]
)
ELASTICITY_OPS = np.array(
    [
        [0.0, 0.0, 0.0, 0.0],
        [1.0, 0.0, 0.0, 0.0],  # delivery hours: only delivery counts
        [0.5, 0.3, 0.2, 0.0],  # activated revenue: delivery, scoping review, helping sales
        [0.0, 0.0, 1.0, 0.0],
    ]
)
#: Believed effect of promise inflation on each KPI kind (per unit of inflation, relative):
#: more wins raise bookings; for activated revenue the extra wins are outweighed by churn/rework.
PROMISE_ELASTICITY = np.array([0.45, 0.0, -0.35, 0.0])


def bonus_scale(s: Any) -> float:
    """Return units per unit of bonus pull: salience times the pool (a 20% pool at the default
    salience gives 1), for a scenario ``s``."""
    return s.behaviour.bonus_salience * s.incentives.bonus_pool


def peer_visibility(group_size: np.ndarray | float, half_size: float) -> np.ndarray:
    """Share of a person's effort their peers can see: 1 alone, 1/2 at ``half_size`` people."""
    n = np.asarray(group_size, dtype=float)
    return np.exp(-np.log(2.0) * np.maximum(n - 1.0, 0.0) / max(half_size - 1.0, 1e-9))


def attribution(
    team_size: np.ndarray, firm_size: int, noise: float, peer_monitoring: float, half_size: float
) -> np.ndarray:
    """How much of each component a person can move by their own effort (rows: people).

    Individual pay is fully attributable; team and company pay only 1/N of it (free riding,
    Holmstrom 1982), partly restored by peers who see and sanction shirking (Knez & Simester
    2001), which fades as the group grows (Ringelmann). The tournament's pull falls with judging
    noise: the chance of winning moves less with effort when the judge sees less.
    """
    n = team_size.astype(float)
    out = np.empty((len(n), 4))
    out[:, IND] = 1.0
    out[:, TEAM] = 1.0 / n + peer_monitoring * peer_visibility(n, half_size)
    out[:, COMP] = 1.0 / firm_size + peer_monitoring * peer_visibility(firm_size, half_size)
    out[:, SB] = 1.0 / np.sqrt(1.0 + noise**2)
    return out


def marginal_returns(
    beliefs: np.ndarray,
    attrib: np.ndarray,
    kpi_kind: np.ndarray,
    elasticity: np.ndarray,
    norms: np.ndarray,
    salience: float,
) -> np.ndarray:
    """Perceived return of an hour on each task, per person (rows) and task (columns).

    ``kpi_kind[i, j]`` says which KPI component j measures for person i; ``elasticity`` maps a
    KPI kind to the tasks that move it for this role.
    """
    e = elasticity[kpi_kind]  # (people, components, tasks)
    pull = np.einsum("ij,ij,ijk->ik", beliefs, attrib, e)
    return salience * pull + norms


def promise_return(
    beliefs: np.ndarray,
    attrib: np.ndarray,
    kpi_kind: np.ndarray,
    salience: float,
    honesty: np.ndarray,
) -> np.ndarray:
    """Perceived return of inflating the promise, per rep: positive when bookings pay."""
    return (
        salience * np.einsum("ij,ij,ij->i", beliefs, attrib, PROMISE_ELASTICITY[kpi_kind]) - honesty
    )


def logit_shares(returns: np.ndarray, beta: float) -> np.ndarray:
    """Boundedly rational allocation: softmax of ``beta * return`` across tasks."""
    z = beta * returns
    z = z - z.max(axis=1, keepdims=True)
    w = np.exp(z)
    return w / w.sum(axis=1, keepdims=True)


#: Allocation the budget rule reproduces under the reference plan (100% individual pay at the
#: default pool, defaults for norms): close to what the logit rule gives for the baseline, so
#: both rules start from the same organisation and differ only in how they respond to change.
REFERENCE_ALLOCATION = np.array([0.90, 0.05, 0.035])  # core, quality, help; slack = the rest
COOPERATIVE_CAP = 0.4  # largest share of the day anyone gives to documentation or to help


def budget_shares(
    returns: np.ndarray, elasticity: float, reference_returns: np.ndarray
) -> np.ndarray:
    """Own-return effort under a time budget (Holmstrom & Milgrom 1991 with bounded rationality).

    Each working task gets ``cap_k * logistic(elasticity * (return_k - threshold_k))`` of the
    day, so a task's effort follows its own marginal return: when team pay in a large team
    weakens the pull on documentation, documentation falls, whatever happens to selling.
    If the tasks ask for more than the day, all are scaled down together (the time budget binds:
    a task that pays more crowds out the others). Slack is what is left. The thresholds are
    anchored so that ``reference_returns`` (the reference plan) give ``REFERENCE_ALLOCATION``.
    """
    caps = np.array([1.0, COOPERATIVE_CAP, COOPERATIVE_CAP])
    target = REFERENCE_ALLOCATION / caps
    threshold = reference_returns[:3] - np.log(target / (1.0 - target)) / max(elasticity, 1e-9)
    want = caps / (1.0 + np.exp(-elasticity * (returns[:, :3] - threshold)))
    total = want.sum(axis=1, keepdims=True)
    work = np.where(total > 1.0, want / total, want)
    out = np.empty((len(returns), 4))
    out[:, :3] = work
    out[:, SLACK] = 1.0 - work.sum(axis=1)
    return out


def conditional_cooperation(
    preferred: np.ndarray, current: np.ndarray, team: np.ndarray, n_teams: int, slope: float
) -> np.ndarray:
    """Pull cooperative effort (quality, help) towards what teammates currently give.

    Conditional cooperators (Fischbacher & Gachter 2010) match others' contributions with a
    slope below one, so a team where some free ride drifts down; one where most give, up.
    """
    if slope <= 0.0:
        return preferred
    counts = np.bincount(team, minlength=n_teams).astype(float)
    out = preferred.copy()
    for k in (QUALITY, HELP):
        mean = np.bincount(team, weights=current[:, k], minlength=n_teams) / np.maximum(counts, 1.0)
        out[:, k] = (1.0 - slope) * preferred[:, k] + slope * mean[team]
    coop = out[:, QUALITY] + out[:, HELP]
    rest = preferred[:, CORE] + preferred[:, SLACK]
    scale = np.where(rest > 0, (1.0 - np.minimum(coop, 0.95)) / np.maximum(rest, 1e-12), 0.0)
    out[:, CORE] = preferred[:, CORE] * scale
    out[:, SLACK] = preferred[:, SLACK] * scale
    return out / out.sum(axis=1, keepdims=True)


def tournament_awards(
    observed_help: np.ndarray,
    noise: float,
    winner_share: float,
    pool: float,
    z: np.ndarray,
) -> np.ndarray:
    """Silo-buster award: the top ``winner_share`` by judged help split ``pool`` equally.

    The judge sees true help plus noise scaled to the spread of true help (``noise`` = 0 is a
    perfect judge); ``z`` are standard normal draws from the judging stream.
    """
    n = len(observed_help)
    if pool <= 0.0 or n == 0:
        return np.zeros(n)
    spread = observed_help.std()
    judged = observed_help + noise * (spread if spread > 0 else 1.0) * z
    k = max(1, round(winner_share * n))
    winners = np.argsort(-judged, kind="stable")[:k]
    award = np.zeros(n)
    award[winners] = pool / k
    return award


def component_payouts(
    weights: np.ndarray, target_bonus: np.ndarray, attainment: np.ndarray, cap: float
) -> np.ndarray:
    """Payout per person and formula component (IND, TEAM, COMP); SB is paid by tournament."""
    return weights[None, :3] * target_bonus[:, None] * np.clip(attainment, 0.0, cap)


#: Where everyone starts before the first weekly review (core, quality, help, slack).
INITIAL_SHARES = (0.85, 0.06, 0.04, 0.05)


@dataclass
class Incentives:
    """Plans, beliefs and pay of every person (rows: reps ``0..R-1``, then ops)."""

    is_rep: np.ndarray
    norms: np.ndarray  # intrinsic return of an hour on each task
    honesty: np.ndarray  # intrinsic cost of inflating a promise
    shares: np.ndarray  # current time allocation over TASKS
    promise: np.ndarray  # promise inflation (reps; 0 = honest scope)
    reference_returns: np.ndarray  # returns under the reference plan (budget rule anchor)
    beliefs: np.ndarray  # perceived value of each bonus component
    kpi_kind: np.ndarray = field(default_factory=lambda: np.zeros((0, 4), dtype=np.int64))
    attrib: np.ndarray = field(default_factory=lambda: np.zeros((0, 4)))
    target_bookings: float = 0.0  # per rep per working day
    target_activated: float = 0.0  # per rep per working day
    target_delivery: float = 0.0  # delivery hours per ops person per working day
    target_bonus: np.ndarray = field(default_factory=lambda: np.zeros(0))  # per person per day
    period_days: int = 0  # working days in the current payout period
    period_bookings: np.ndarray = field(default_factory=lambda: np.zeros(0))  # per rep
    period_activated: np.ndarray = field(default_factory=lambda: np.zeros(0))  # per rep
    period_delivery: np.ndarray = field(default_factory=lambda: np.zeros(0))  # per ops person
    period_help: np.ndarray = field(default_factory=lambda: np.zeros(0))  # per person
    payouts: np.ndarray = field(default_factory=lambda: np.zeros(0))  # booked, by COMPONENTS
    #: every period paid, booked or not: (first measured day of the period, the day after its
    #: last, reps' total, ops' total), so bonus cost can be measured over any window of days
    ledger: list[tuple[int, int, float, float]] = field(default_factory=list)


def new(rng: np.random.Generator, s: Any, is_rep: np.ndarray, reference: Any) -> Incentives:
    """Draw norms and honesty (stream ``people``); everyone starts on ``INITIAL_SHARES``.

    ``reference`` is the reference scenario (100% individual pay, default pool) whose returns
    anchor the budget choice rule, the same for every scenario.
    """
    b, N = s.behaviour, len(is_rep)
    R = int(is_rep.sum())
    norms = np.zeros((N, 4))
    norms[:, CORE] = b.norm_core
    norms[:, QUALITY] = np.maximum(0.0, rng.normal(b.norm_quality, b.norm_sd, N))
    norms[:, HELP] = np.maximum(0.0, rng.normal(b.norm_help, b.norm_sd, N))
    norms[:, SLACK] = b.slack_value
    honesty = np.maximum(0.0, rng.normal(b.honesty_norm, b.norm_sd, N))
    pull = bonus_scale(reference)
    rb = reference.behaviour
    return Incentives(
        is_rep=is_rep,
        norms=norms,
        honesty=honesty,
        shares=np.tile(INITIAL_SHARES, (N, 1)),
        promise=np.zeros(N),
        reference_returns=np.array([rb.norm_core + pull, rb.norm_quality, rb.norm_help, 0.0]),
        beliefs=np.tile(np.array(s.incentives.weights.as_array()), (N, 1)),
        target_bonus=np.zeros(N),
        period_bookings=np.zeros(R),
        period_activated=np.zeros(R),
        period_delivery=np.zeros(N - R),
        period_help=np.zeros(N),
        payouts=np.zeros((N, 4)),
    )


def measure(state: Incentives, s: Any, team_size_of: np.ndarray, cross_functional: bool) -> None:
    """What each component measures for each person and how much they can move it."""
    is_rep, N = state.is_rep, len(state.is_rep)
    kind = np.empty((N, 4), dtype=np.int64)
    ind_rep = KPI_ACTIVATED if s.incentives.rep_measure == "activation" else KPI_BOOKINGS
    kind[:, IND] = np.where(is_rep, ind_rep, KPI_DELIVERY)
    if cross_functional:
        kind[:, TEAM] = KPI_ACTIVATED
    else:
        kind[:, TEAM] = np.where(is_rep, KPI_BOOKINGS, KPI_DELIVERY)
    kind[:, COMP] = KPI_ACTIVATED
    kind[:, SB] = KPI_HELP
    state.kpi_kind = kind
    b = s.behaviour
    state.attrib = attribution(
        team_size_of, N, s.incentives.silo_buster_noise, b.peer_monitoring, b.visibility_size
    )


def set_targets(state: Incentives, s: Any) -> None:
    """Plan targets per working day, from the plan's nominal expectations (ODD.md)."""
    m = s.market
    R = len(state.period_bookings)
    n_ops = len(state.is_rep) - R
    state.target_bookings = m.leads_per_rep_day * m.win_base * m.deal_value
    state.target_activated = state.target_bookings * (1.0 - NOMINAL_CHURN)
    deals_per_day = R * state.target_activated / m.deal_value
    state.target_delivery = deals_per_day * m.implementation_hours / n_ops
    salary = np.where(state.is_rep, s.org.rep_salary, s.org.ops_salary)
    state.target_bonus = s.incentives.bonus_pool * salary / DAYS_PER_YEAR


def payout_due(state: Incentives, day: int, period: int) -> bool:
    """A payout falls on measured days that are multiples of ``period`` (warm-up aligned)."""
    return bool(state.period_days) and day % period == 0


def pay_period(state: Incentives, s: Any, team: np.ndarray, n_teams: int, cross_functional: bool,
               z: np.ndarray, booked: bool, start: int = 0) -> None:  # fmt: skip
    """Pay the period just ended and update beliefs; ``z``: judging noise for the tournament.

    Targets scale with the days in the period, so the last, partial period is paid pro rata.
    A KPI whose target is 0 (no leads, no bonus) attains 0. Only ``booked`` periods (in the
    measured window) count towards ``payouts``; every period goes into ``ledger`` with its
    measured days ``[start, start + days)``.
    """
    days = float(state.period_days)
    w = np.array(s.incentives.weights.as_array())
    target_bonus = state.target_bonus * days
    att = _attainment(state, s, team, n_teams, cross_functional, days)
    pay = np.zeros((len(team), 4))
    pay[:, :3] = component_payouts(w, target_bonus, att, s.incentives.payout_cap)
    pool = w[SB] * target_bonus.sum()
    pay[:, SB] = tournament_awards(
        state.period_help, s.incentives.silo_buster_noise, s.incentives.silo_buster_winners,
        pool, z,
    )  # fmt: skip
    # beliefs: realised value of each component relative to the at-target bonus
    realised = attain(pay, np.broadcast_to(target_bonus[:, None], pay.shape))
    state.beliefs += s.behaviour.belief_rate * (realised - state.beliefs)
    if booked:
        state.payouts += pay
    R = len(state.period_bookings)
    end = start + int(days)
    state.ledger.append((start, end, float(pay[:R].sum()), float(pay[R:].sum())))
    state.period_days = 0
    for tally in (state.period_bookings, state.period_activated, state.period_delivery,
                  state.period_help):  # fmt: skip
        tally[:] = 0.0


def _attainment(state: Incentives, s: Any, team: np.ndarray, n_teams: int,
                cross_functional: bool, days: float) -> np.ndarray:  # fmt: skip
    """Attainment of the individual, team and company KPIs per person over the period."""
    R, N = len(state.period_bookings), len(team)
    t_book = state.target_bookings * days
    t_act = state.target_activated * days
    t_deliv = state.target_delivery * days
    bookings, activated = state.period_bookings, state.period_activated
    delivery = state.period_delivery
    on_activation = s.incentives.rep_measure == "activation"
    att = np.zeros((N, 3))
    att[:R, IND] = attain(
        activated if on_activation else bookings, t_act if on_activation else t_book
    )
    att[R:, IND] = attain(delivery, t_deliv)
    reps_team = np.bincount(team[:R], minlength=n_teams).astype(float)
    if cross_functional:
        act_team = np.bincount(team[:R], weights=activated, minlength=n_teams)
        att[:, TEAM] = attain(act_team[team], reps_team[team] * t_act)
    else:
        book_team = np.bincount(team[:R], weights=bookings, minlength=n_teams)
        deliv_team = np.bincount(team[R:], weights=delivery, minlength=n_teams)
        ops_team = np.bincount(team[R:], minlength=n_teams).astype(float)
        att[:R, TEAM] = attain(book_team[team[:R]], reps_team[team[:R]] * t_book)
        att[R:, TEAM] = attain(deliv_team[team[R:]], ops_team[team[R:]] * t_deliv)
    att[:, COMP] = attain(np.full(N, activated.sum()), np.full(N, R * t_act))
    return att


def attain(actual: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Actual over target, 0 where there is no target."""
    t = np.asarray(target, dtype=float)
    return np.divide(actual, t, out=np.zeros(np.shape(actual)), where=t > 0)
