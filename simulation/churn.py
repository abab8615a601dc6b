"""Churn at handover: a daily hazard on every closed-won customer not yet activated.

``h = base * (1 + early * exp(-age / tau)) + wait * waiting * (1 - owner_contact)
      + gap * overpromise + info * (1 - completeness) * in_onboarding``

The early term front-loads risk into the first weeks after close; the other terms are the
frictions: waiting with no progress, disappointment from an inflated promise, and repeating
oneself to ops because the package was thin. A customer churns when the cumulative hazard passes
its own patience (an Exp(1) draw made when the lead was created), so two scenarios run on the
same seed face the same customers.
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
    h = base * (1.0 + early * np.exp(-age_days / early_days))
    h = h + wait * (1.0 - owner_contact) * waiting
    h = h + gap * promise
    return h + info * (1.0 - completeness) * onboarding
