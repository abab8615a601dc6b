"""Structure: teams, ops queues, reorganisation, team coordination and escalated exceptions.

A functional organisation (``silo``) has sales teams and ops teams and one pooled ops queue; a
cross-functional one has mixed teams, each serving the deals of its own reps from its own queue.
Every link in a team costs coordination time; a reorganisation costs transition hours that taper
off over ``transition_days``. Deal exceptions are settled in the team when it has the authority,
or escalated to managers, whose backlog sets how long an escalated deal waits.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from simulation.model.deals import HANDOVER, ONBOARDING, DealBook


@dataclass
class Structure:
    """Who is in which team, which ops queue serves which rep, and the structure's backlogs.

    People are rows ``0..R-1`` (reps) then ``R..N-1`` (ops).
    """

    R: int
    team: np.ndarray  # team of each person
    n_teams: int
    team_size_of: np.ndarray  # size of each person's team
    cross_functional: bool
    n_queues: int
    queue_of_rep: np.ndarray  # ops queue that receives each rep's deals
    ops_queue: np.ndarray  # queue each ops person serves
    ops_per_queue: np.ndarray  # ops people per queue (float)
    team_age: float = 0.0  # working days since the teams were formed
    transition_left: int = 0  # days of reorganisation overhead still to come
    escalation_backlog: float = 0.0  # exceptions waiting for a manager


def build(st: Any, R: int, n_ops: int) -> Structure:
    """Teams and queues for structure parameters ``st`` (kind, team size)."""
    N, ts = R + n_ops, st.team_size
    reps, ops = np.arange(R), np.arange(n_ops)
    if st.kind == "silo":
        n_rep_teams = math.ceil(R / ts)
        team = np.r_[reps // ts, n_rep_teams + ops // ts]
        n_teams = n_rep_teams + math.ceil(n_ops / ts)
        n_queues = 1
        queue_of_rep = np.zeros(R, dtype=np.int64)
        ops_queue = np.zeros(n_ops, dtype=np.int64)
    else:
        n_teams = max(1, round(N / ts))
        team = np.r_[reps % n_teams, ops % n_teams]
        n_queues = n_teams
        queue_of_rep = team[:R].copy()
        ops_queue = team[R:].copy()
    team = team.astype(np.int64)
    return Structure(
        R=R,
        team=team,
        n_teams=n_teams,
        team_size_of=np.bincount(team, minlength=n_teams)[team].astype(float),
        cross_functional=st.kind != "silo",
        n_queues=n_queues,
        queue_of_rep=queue_of_rep,
        ops_queue=ops_queue,
        ops_per_queue=np.bincount(ops_queue, minlength=n_queues).astype(float),
    )


def reorganise(old: Structure, st: Any, n_ops: int, d: DealBook) -> Structure:
    """New teams mid-run: transition overhead starts, waiting deals move to their rep's queue.

    The managers' escalation backlog carries over.
    """
    new = build(st, old.R, n_ops)
    new.transition_left = st.transition_days
    new.escalation_backlog = old.escalation_backlog
    waiting = (d.stage == HANDOVER) | (d.stage == ONBOARDING)
    d.queue[waiting] = new.queue_of_rep[d.rep[waiting]]
    return new


def coordination_hours(state: Structure, st: Any) -> np.ndarray:
    """Today's team coordination per person: a few minutes per link, plus any reorganisation.

    Counts down the reorganisation's transition days.
    """
    coord = st.coordination_minutes_per_link * (state.team_size_of - 1.0) / 60.0
    if state.transition_left > 0:
        coord = coord + st.transition_hours * state.transition_left / max(st.transition_days, 1)
        state.transition_left -= 1
    return coord


def drain_escalations(state: Structure, per_day: float) -> None:
    """Managers settle up to ``per_day`` escalated exceptions a day."""
    if state.escalation_backlog > 0:
        state.escalation_backlog = max(0.0, state.escalation_backlog - per_day)


def settle_exceptions(state: Structure, st: Any, n_exc: np.ndarray, u_auth: np.ndarray
                      ) -> np.ndarray:  # fmt: skip
    """Days each entering deal waits for its ``n_exc`` exceptions to be settled.

    A deal's exceptions are all settled in the team (half a day) with probability
    ``authority ** n_exc``; otherwise the deal waits for a manager, behind the backlog, and its
    escalated exceptions join the backlog.
    """
    authority = st.authority
    in_team = u_auth < authority**n_exc
    escalated = (n_exc > 0) & ~in_team
    esc_latency = st.escalation_days + state.escalation_backlog / st.escalations_per_day
    # exceptions of an escalated deal that go up: E[escalated | at least one] = n(1-a)/(1-a^n)
    n_up = n_exc[escalated] * (1.0 - authority) / (1.0 - authority ** n_exc[escalated])
    state.escalation_backlog += float(n_up.sum())
    return np.where(n_exc == 0, 0.0, np.where(in_team, 0.5, esc_latency))


def ops_for(state: Structure, queue: np.ndarray, deals: np.ndarray) -> np.ndarray:
    """One ops person (row) of each deal's queue, rotating through the queue by deal id."""
    order = np.argsort(state.ops_queue, kind="stable")  # ops rows grouped by queue
    per_queue = state.ops_per_queue.astype(np.int64)
    start = np.concatenate(([0], np.cumsum(per_queue)[:-1]))
    count = np.maximum(per_queue, 1)
    return state.R + order[start[queue] + deals % count[queue]]


def per_queue_mean(state: Structure, ops_values: np.ndarray) -> np.ndarray:
    """Mean of a per-ops-person value over each queue's ops staff."""
    total = np.bincount(state.ops_queue, weights=ops_values, minlength=state.n_queues)
    total /= np.maximum(state.ops_per_queue, 1.0)
    return total
