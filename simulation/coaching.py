"""Learning and coaching: spaced micro-coaching vs a massed workshop, and decay without practice.

Micro-coaching runs four weekly sessions (job swaps, peer review of handoffs, call reviews,
problem-solving pairs); a workshop spends the same hours in one day. Each session lifts
cross-functional understanding and handover skill towards the programme's gain; a massed
session retains only ``massed_retention`` of that (spacing effect, Cepeda et al. 2006). Gains
decay with a half-life (Arthur et al. 1998) that practice - doing handovers - slows.
"""

from __future__ import annotations

import numpy as np

SESSION_OFFSETS = {"micro_4wk": (0, 5, 10, 15), "workshop": (0,), "none": ()}


def session_today(program: str, days_since_start: int) -> bool:
    """Whether the programme holds a session today."""
    return days_since_start in SESSION_OFFSETS[program]


#: Hours of the reference programme (four 1.5 h sessions) that earns the full ``gain``.
REFERENCE_HOURS = 6.0


def session_gain(program: str, gain: float, massed_retention: float, hours: float) -> float:
    """Understanding added by one session, as a share of the remaining headroom.

    A programme of ``hours`` earns ``1 - (1 - gain) ** (hours / REFERENCE_HOURS)`` when spaced
    (diminishing returns on hours; no hours, no gain); its sessions compound to that total.
    A one-day workshop keeps only ``massed_retention`` of it (spacing effect).
    """
    n = len(SESSION_OFFSETS[program])
    if n == 0 or hours <= 0:
        return 0.0
    total = 1.0 - (1.0 - gain) ** (hours / REFERENCE_HOURS)
    if program == "workshop":
        return total * massed_retention
    return 1.0 - (1.0 - total) ** (1.0 / n)


def decay_factor(half_life_days: float, practice: np.ndarray, protection: float) -> np.ndarray:
    """Daily retention of gains; ``practice`` in 0..1 (share of days with a handover)."""
    rate = np.log(2.0) / half_life_days
    return np.exp(-rate * (1.0 - protection * np.minimum(np.maximum(practice, 0.0), 1.0)))
