"""Learning and coaching: spaced micro-coaching vs a massed workshop, and decay without practice.

Micro-coaching runs four weekly sessions (job swaps, peer review of handoffs, call reviews,
problem-solving pairs); a workshop spends the same hours in one day. Each session lifts
cross-functional understanding and handover skill towards the programme's gain; a massed
session retains only ``massed_retention`` of that (spacing effect, Cepeda et al. 2006). Gains
decay with a half-life (Arthur et al. 1998) that practice - doing handovers - slows.

State (``Learning``): each person's initial handover skill, handovers done (learning curve),
cross-functional understanding, lessons from post-mortems and recent practice.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

PRACTICE_HOURS_REP = 0.25  # documentation hours in a day that count as handover practice
PRACTICE_HOURS_OPS = 4.0  # delivery hours in a day that count as practice
PRACTICE_RATE = 0.05  # weight of today in the practice average (~20-day memory)

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


@dataclass
class Learning:
    """What each person has learnt about the other department's work (rows: people)."""

    skill0: np.ndarray  # initial handover skill
    understanding: np.ndarray  # cross-functional understanding from coaching (0..1)
    skill_lessons: np.ndarray  # skill added by post-mortems
    handovers_done: np.ndarray  # experience on the learning curve
    practice: np.ndarray  # share of recent days with hands-on cross-functional work
    start_day: int  # measured day the programme starts


def new(rng: np.random.Generator, s: Any, N: int) -> Learning:
    """Initial handover skill around ``behaviour.handover_skill`` (stream ``people``)."""
    b = s.behaviour
    return Learning(
        skill0=np.clip(rng.normal(b.handover_skill, 0.1, N), 0.05, 1.0),
        understanding=np.zeros(N),
        skill_lessons=np.zeros(N),
        handovers_done=np.zeros(N),
        practice=np.zeros(N),
        start_day=s.coaching.start_day,
    )


def coach(state: Learning, c: Any, day: int, learning_hours: np.ndarray) -> None:
    """Today's session, if one is due (its hours added to ``learning_hours``), then decay."""
    if day >= state.start_day and session_today(c.program, day - state.start_day):
        n = len(SESSION_OFFSETS[c.program])
        learning_hours += c.hours / n
        g = session_gain(c.program, c.gain, c.massed_retention, c.hours)
        state.understanding += g * (1.0 - state.understanding)
    if state.understanding.any():
        state.understanding *= decay_factor(
            c.decay_half_life_days, state.practice, c.practice_protection
        )


def rep_skill(state: Learning, who: np.ndarray | slice, learning_exponent: float) -> np.ndarray:
    """Handover skill of people ``who``: learning curve, plus coaching and lessons."""
    learnt = 1.0 - (1.0 + state.handovers_done[who]) ** (-learning_exponent)
    skill0 = state.skill0[who]
    skill = skill0 + (1.0 - skill0) * learnt * 0.5
    skill = skill + 0.5 * state.understanding[who] + state.skill_lessons[who]
    return np.minimum(np.maximum(skill, 0.05), 1.5)


def record_practice(state: Learning, is_rep: np.ndarray, quality_hours: np.ndarray,
                    core_hours: np.ndarray) -> None:  # fmt: skip
    """Practice: share of recent days with hands-on cross-functional work (keeps coaching gains
    alive): reps documenting handovers, ops delivering onboarding work."""
    did = np.where(is_rep, quality_hours >= PRACTICE_HOURS_REP, core_hours >= PRACTICE_HOURS_OPS)
    state.practice += PRACTICE_RATE * (did - state.practice)


def postmortems(state: Learning, c: Any, reps: np.ndarray, ops: np.ndarray,
                learning_hours: np.ndarray) -> None:  # fmt: skip
    """A post-mortem per churned customer: hours for its rep and ops person, a lesson for the
    rep."""
    np.add.at(learning_hours, reps, c.postmortem_hours)
    np.add.at(learning_hours, ops, c.postmortem_hours)
    np.add.at(state.skill_lessons, reps, c.postmortem_gain)


def count_handovers(state: Learning, reps: np.ndarray) -> None:
    """One more handover done by each of ``reps`` (the learning curve)."""
    np.add.at(state.handovers_done, reps, 1.0)
