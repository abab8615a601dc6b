"""Churn at handover: a daily hazard on every closed-won customer not yet activated.

``h = (base + wait * waiting * (1 - owner_contact) + gap * oversold
       + info * (1 - completeness) * in_onboarding) * (1 + early * exp(-age / tau))``

The bracket holds the base hazard and the frictions: waiting with no progress, disappointment
from an oversold promise, and repeating oneself to ops because the package was thin. The last
factor front-loads all of it: a customer is most fragile in the first weeks after signing, when
commitment is lowest (design brief: churn hazard highest in the first weeks). A customer churns when
the cumulative hazard passes its own patience (an Exp(1) draw made when the lead was created), so
two scenarios run on the same seed face the same customers.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from simulation.model import coaching, structure
from simulation.model.deals import CHURNED, ONBOARDING, DealBook


def daily_hazard(
    age_days: np.ndarray,
    waiting: np.ndarray,
    promise: np.ndarray,
    completeness: np.ndarray,
    onboarding: np.ndarray,
    *,
    base: float,
    early: float,
    early_days: float,
    wait: float,
    owner_contact: float,
    gap: float,
    info: float,
) -> np.ndarray:
    h = base + wait * (1.0 - owner_contact) * waiting + gap * promise
    h = h + info * (1.0 - completeness) * onboarding
    return h * (1.0 + early * np.exp(-age_days / early_days))


def churn_day(d: DealBook, served_today: np.ndarray, sim_day: int, s: Any,
              org: structure.Structure, learning: coaching.Learning,
              learning_hours: np.ndarray) -> float:  # fmt: skip
    """Every waiting customer accrues today's hazard; those past their patience churn.

    A customer served today is not waiting. With post-mortems, each churned customer costs its
    rep and one ops person of its queue ``postmortem_hours`` tomorrow (``learning_hours``) and
    teaches the rep a lesson. Returns the customers churned today.
    """
    m, hv = s.market, s.handover
    act = d.waiting()
    if len(act) == 0:
        return 0.0
    onboarding = d.stage[act] == ONBOARDING
    served = np.zeros(len(d.stage), dtype=bool)
    served[served_today] = True
    waiting = ~served[act]
    c = np.where(onboarding, d.c_ops[act], 1.0)
    h = daily_hazard(
        (sim_day - d.closed[act]).astype(float), waiting.astype(float), d.promise[act], c,
        onboarding.astype(float),
        base=m.churn_base_hazard, early=m.churn_early_multiplier, early_days=m.churn_early_days,
        wait=m.churn_wait_hazard, owner_contact=hv.owner_contact_effect if hv.owner else 0.0,
        gap=m.churn_gap_hazard, info=m.churn_info_hazard,
    )  # fmt: skip
    d.cum_hazard[act] += h
    gone = act[d.cum_hazard[act] > d.patience[act]]
    if len(gone) == 0:
        return 0.0
    d.stage[gone] = CHURNED
    d.done[gone] = sim_day
    if s.coaching.postmortems:
        ops = structure.ops_for(org, d.queue[gone], gone)
        coaching.postmortems(learning, s.coaching, d.rep[gone], ops, learning_hours)
    return float(len(gone))
