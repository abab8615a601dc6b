"""Churn at handover: a daily hazard on every closed-won customer not yet activated.

``h = (base + wait * waiting * (1 - owner_contact) + gap * oversold
       + info * (1 - completeness) * in_onboarding) * (1 + early * exp(-age / tau))``

The bracket holds the base hazard and the frictions: waiting with no progress, disappointment
from an oversold promise, and repeating oneself to ops because the package was thin. The last
factor front-loads all of it: a customer is most fragile in the first weeks after signing, when
commitment is lowest (MODEL.md: churn hazard highest in the first weeks). A customer churns when
the cumulative hazard passes its own patience (an Exp(1) draw made when the lead was created), so
two scenarios run on the same seed face the same customers.
"""

from __future__ import annotations

import numpy as np


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
