"""The six levers of the playbook, each as the dotted scenario changes that switch it on.

One place for them: ``friction diagnose`` applies each alone, the report names them, and the
tests check them against the bundled single-lever scenario files. Also here: how a starting
scenario already holds a lever, or rolls it out later (pure functions of the scenario).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from simulation.common.formats import format_value
from simulation.scenario.config import Scenario, get_dotted, same_value, with_changes

__all__ = [
    "CURRENT",
    "DEFAULTS",
    "DEFAULT_RANK",
    "LEVERS",
    "LEVER_BY_KEY",
    "Lever",
    "in_place",
    "intervention_notes",
    "rollout_day",
]

CURRENT = "current"  # label of the starting scenario in a diagnosis results folder
DEFAULT_RANK = "net_value"  # the money a year of the plan earns (margin less bonus and payroll)


@dataclass(frozen=True)
class Lever:
    """One system of the playbook: dotted changes that switch it on from day 0."""

    key: str
    label: str  # plain name, in tables and charts
    noun: str  # as it reads inside a sentence ("the handover gate")
    action: str  # the imperative that starts the verdict ("Introduce the ... gate")
    changes: dict[str, Any] = field(hash=False)
    source: str = ""  # the bundled single-lever scenario file with the same changes


LEVERS: tuple[Lever, ...] = (
    Lever(
        "blended_bonus",
        "Blended bonus 40/30/20/10",
        "the blended bonus",
        "Move the bonus to 40/30/20/10 (individual/team/company/silo-buster)",
        {
            "incentives.weights.individual": 0.4,
            "incentives.weights.team": 0.3,
            "incentives.weights.company": 0.2,
            "incentives.weights.silo_buster": 0.1,
        },
        "blended_40_30_20_10.yaml",
    ),
    Lever(
        "squads",
        "Cross-functional squads of 8",
        "cross-functional squads",
        "Reorganise into cross-functional squads of 8",
        {"structure.kind": "squad", "structure.team_size": 8},
        "squads.yaml",
    ),
    Lever(
        "handover_gate",
        "Minimum Viable Handoff gate",
        "the handover gate",
        "Introduce the Minimum Viable Handoff gate",
        {
            "handover.mvh": True,
            "handover.mvh_threshold": 0.7,
            "handover.compliance": 0.9,
            "handover.red_flag": True,
            "handover.auto_trigger": True,
        },
        "mvh.yaml",
    ),
    Lever(
        "channel_strategy",
        "Channel strategy with SLAs",
        "the channel strategy",
        "Adopt the channel strategy with SLAs",
        {
            "comms.strategy": "channel_sla",
            "comms.sla_answer_days": 1.0,
            "info.decision_archive": True,
        },
        "channel_sla.yaml",
    ),
    Lever(
        "translation",
        "Translation champions and glossary",
        "translation champions and the glossary",
        "Appoint translation champions and share a glossary",
        {"info.glossary": True, "info.eli5": True, "info.translation_champions": 4},
        "translation.yaml",
    ),
    Lever(
        "micro_coaching",
        "Micro-coaching",
        "micro-coaching",
        "Start micro-coaching",
        {"coaching.program": "micro_4wk", "coaching.start_day": 0, "coaching.postmortems": True},
        "micro_coaching.yaml",
    ),
)
LEVER_BY_KEY: dict[str, Lever] = {lever.key: lever for lever in LEVERS}
DEFAULTS = Scenario()  # schema defaults, to tell a deliberate setting from an untouched one


def in_place(start: Scenario, lever: Lever) -> bool:
    """True when every change of ``lever`` already holds in ``start`` (at day 0)."""
    return all(same_value(get_dotted(start, k), v) for k, v in lever.changes.items())


def intervention_notes(start: Scenario, lever: Lever) -> list[str]:
    """What the starting scenario's time-phased roll-out does to a lever applied from day 0."""
    if not start.interventions:
        return []
    notes = []
    try:
        state = with_changes(start, lever.changes)
    except (KeyError, ValueError):
        return []
    overridden: set[str] = set()
    for iv in sorted(start.interventions, key=lambda iv: iv.day):
        when = f"day {iv.day}" + (f" ({iv.label})" if iv.label else "")
        try:
            state = with_changes(state, iv.set)
        except (KeyError, ValueError):
            break  # the lever cannot be applied at all: plan_diagnosis says so
        touched = [k for k in lever.changes if any(k == s or k.startswith(s + ".") for s in iv.set)]
        changed = [
            k
            for k in lever.changes
            if k not in overridden and not same_value(get_dotted(state, k), lever.changes[k])
        ]
        if changed:
            overridden.update(changed)
            sets = ", ".join(f"{k}={format_value(get_dotted(state, k))}" for k in changed)
            notes.append(
                f"{lever.label}: the scenario's roll-out sets {sets} on {when}, overriding the "
                "lever (applied from day 0) from then on."
            )
        elif touched and not overridden:
            notes.append(
                f"{lever.label}: the scenario already rolls this out on {when}; tested alone "
                "from day 0, it is brought forward rather than added."
            )
    return notes


def rollout_day(start: Scenario, lever: Lever) -> int | None:
    """The measured day the starting scenario's own roll-out puts ``lever`` in place, if any.

    A lever whose only missing change is ``coaching.start_day`` is in place from the day the
    scenario's coaching starts.
    """

    def day_of(state: Scenario, today: int) -> int | None:
        missing = [k for k, v in lever.changes.items() if not same_value(get_dotted(state, k), v)]
        if not missing:
            return today
        if missing == ["coaching.start_day"]:
            return max(today, int(state.coaching.start_day))
        return None

    state = start
    for iv in sorted(start.interventions, key=lambda iv: iv.day):
        try:
            state = with_changes(state, iv.set)
        except (KeyError, ValueError):
            return None
        day = day_of(state, iv.day)
        if day is not None:
            return day
    return day_of(start, 0) if not in_place(start, lever) else None
