"""Hours: the paid day, its categories, and how each person's day is split and booked.

Every person is paid ``HOURS_PER_DAY`` hours a working day. Overheads (meetings, messages, gate
forms, coaching, search, ...) take their hours first; what is left is split by the person's plan
(core, quality, help, slack). The categories sum to the paid day; the loss categories are the
hours the friction KPIs count.

Hours are kept twice: by person over the measured window (``booked``), and by role and day over
the whole run (``daily``: reps and ops summed), so a KPI can be measured over any window of days
(the year after a roll-out) at a cost of a few kilobytes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

HOURS_PER_DAY = 8.0  # paid hours per person per working day
DAYS_PER_YEAR = 250.0  # working days per year
DAYS_PER_MONTH = DAYS_PER_YEAR / 12.0

#: Hour categories booked per person per day; they sum to the paid day.
HOUR_CATEGORIES = (
    "core",  # selling (reps) / productive delivery (ops)
    "quality",  # documentation and realistic scoping (reps) / scoping review (ops)
    "help",  # hours given to the other department's work
    "slack",  # not worked (free riding)
    "idle",  # core hours with no work to do: ops with an empty queue, reps with no deal to sell
    "interruptions",  # message handling + resumption
    "search",  # background search + ops search on thin packages
    "rework",  # ops rework on misread or overpromised deals + reps fixing returned packages
    "coordination",  # team meetings, reorganisation, gate forms, exceptions, owner follow-up,
    # translation, tool upkeep
    "learning",  # coaching sessions and post-mortems
)
HC = {name: i for i, name in enumerate(HOUR_CATEGORIES)}
#: Friction: hours lost to the way work is organised (the friction-loss KPI).
LOSS_CATEGORIES = ("interruptions", "search", "rework", "coordination")
LOSS_COLUMNS = tuple(HC[c] for c in LOSS_CATEGORIES)
#: Unproductive paid hours: friction plus slack (the productivity-loss KPI).
UNPRODUCTIVE_CATEGORIES = (*LOSS_CATEGORIES, "slack")
UNPRODUCTIVE_COLUMNS = tuple(HC[c] for c in UNPRODUCTIVE_CATEGORIES)
ROLES = ("rep", "ops")  # rows of ``Hours.daily``: reps are people ``0 .. R-1``


@dataclass
class Hours:
    """Hours booked over the measured window, and hours already owed for tomorrow."""

    booked: np.ndarray  # people x HOUR_CATEGORIES, measured window
    pending_learning: np.ndarray  # post-mortems held tomorrow
    pending_rework: np.ndarray  # returned packages fixed tomorrow
    daily: np.ndarray  # simulated days x ROLES x HOUR_CATEGORIES, the whole run
    daily_interruptions: np.ndarray  # interruptions per simulated day (all people)
    reps: int = 0  # people 0 .. reps-1 are reps
    interruptions: float = 0.0  # interruptions in the measured window (all people)


def new(N: int, reps: int = 0, days: int = 0) -> Hours:
    """An empty timesheet for ``N`` people (the first ``reps`` of them reps) over ``days``."""
    return Hours(
        booked=np.zeros((N, len(HOUR_CATEGORIES))),
        pending_learning=np.zeros(N),
        pending_rework=np.zeros(N),
        daily=np.zeros((days, len(ROLES), len(HOUR_CATEGORIES))),
        daily_interruptions=np.zeros(days),
        reps=reps,
    )


def start_day(state: Hours) -> np.ndarray:
    """Today's overheads (people x categories), starting with the hours owed from yesterday."""
    overhead = np.zeros((len(state.pending_learning), len(HOUR_CATEGORIES)))
    overhead[:, HC["learning"]] = state.pending_learning
    overhead[:, HC["rework"]] = state.pending_rework
    state.pending_learning[:] = 0.0
    state.pending_rework[:] = 0.0
    return overhead


def allocate(overhead: np.ndarray, shares: np.ndarray) -> np.ndarray:
    """Split the paid day: overheads first, then each person's plan over the rest.

    ``shares`` columns are the plan's tasks: core, quality, help, slack.
    """
    day = HOURS_PER_DAY
    total = overhead.sum(axis=1)
    scale = np.where(total > day, day / np.maximum(total, 1e-12), 1.0)
    hours = overhead * scale[:, None]
    free = day - hours.sum(axis=1)
    for k, name in enumerate(("core", "quality", "help", "slack")):
        hours[:, HC[name]] = free * shares[:, k]
    return hours


def book(
    state: Hours, hours: np.ndarray, interruptions: float, measuring: bool, sim_day: int = -1
) -> None:
    """Add today's hours and interruptions to the measured window (from day 0), and to the
    role totals of simulated day ``sim_day`` (when the timesheet has that day)."""
    if 0 <= sim_day < len(state.daily):
        R = state.reps
        state.daily[sim_day, 0] = hours[:R].sum(axis=0)
        state.daily[sim_day, 1] = hours[R:].sum(axis=0)
        state.daily_interruptions[sim_day] = interruptions
    if measuring:
        state.booked += hours
        state.interruptions += interruptions


def shares_today(hours: np.ndarray) -> tuple[float, float, float, float]:
    """Today's shares of paid hours: lost, help, slack and quality."""
    by_cat = (hours.sum(axis=0) / (len(hours) * HOURS_PER_DAY)).tolist()
    loss = sum(by_cat[i] for i in LOSS_COLUMNS)
    return loss, by_cat[HC["help"]], by_cat[HC["slack"]], by_cat[HC["quality"]]
