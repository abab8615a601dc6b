"""Hours: the paid day, its categories, and how each person's day is split and booked.

Every person is paid ``HOURS_PER_DAY`` hours a working day. Overheads (meetings, messages, gate
forms, coaching, search, ...) take their hours first; what is left is split by the person's plan
(core, quality, help, slack). The categories sum to the paid day; the loss categories are the
hours the productivity-loss KPI counts.
"""

from __future__ import annotations

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
LOSS_CATEGORIES = ("interruptions", "search", "rework", "coordination")
LOSS_COLUMNS = tuple(HC[c] for c in LOSS_CATEGORIES)
