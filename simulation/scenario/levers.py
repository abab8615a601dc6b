"""The six levers of the playbook and their parts, each as the dotted scenario changes that
switch it on.

One place for them: ``friction diagnose`` rolls each out alone, the report names them, and the
tests check the six against the bundled single-lever scenario files. The playbook packages some
levers as bundles of separate changes (the Minimum Viable Handoff is a gate, red flags and a CRM
trigger); each such bundle names its ``parts``, each part its ``bundle``, so a diagnosis can show
which part earns the effect. Also here: how a starting scenario already holds a lever, or rolls it
out itself (pure functions of the scenario).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from simulation.common.formats import format_value
from simulation.scenario.config import Scenario, get_dotted, same_value, with_changes

__all__ = [
    "ALL_LEVERS",
    "CURRENT",
    "DEFAULTS",
    "DEFAULT_LEVER_SET",
    "DEFAULT_RANK",
    "DEFAULT_ROLLOUT_DAY",
    "LEVERS",
    "LEVER_BY_KEY",
    "LEVER_SETS",
    "PARTS",
    "Lever",
    "in_place",
    "intervention_notes",
    "lever_set",
    "rollout_day",
    "state_on",
]

CURRENT = "current"  # label of the starting scenario in a diagnosis results folder
DEFAULT_RANK = "net_value"  # the money a year of the plan earns (margin less bonus and payroll)
#: Measured day a diagnosis rolls each lever out on: after one pay period (21 working days, a
#: month) of the current set-up, so every run shows the before and the after on the same seeds
#: and a change, squads' reorganisation dip included, lands on a running organisation with full
#: pipelines, as a real roll-out does (a lever in place through the warm-up would skip its dip).
DEFAULT_ROLLOUT_DAY = 21


@dataclass(frozen=True)
class Lever:
    """One system of the playbook, or one part of it: dotted changes that switch it on.

    A bundle (a lever the playbook packages from separate changes) lists its ``parts`` by key;
    a part names its ``bundle``. The changes of a bundle's parts together are the bundle's.
    A lever with neither is a single change (the blended bonus, squads, the handoff owner).
    """

    key: str
    label: str  # plain name, in tables and charts
    noun: str  # as it reads inside a sentence ("the handover gate")
    action: str  # the imperative that starts the verdict ("Introduce the ... gate")
    changes: dict[str, Any] = field(hash=False)
    source: str = ""  # the bundled single-lever scenario file with the same changes
    bundle: str = ""  # key of the playbook lever this is a part of ("" for none)
    parts: tuple[str, ...] = ()  # keys of this bundle's parts (() for a single change)

    @property
    def kind(self) -> str:
        """``bundle`` (has parts), ``part`` (of a bundle) or ``single``."""
        return "bundle" if self.parts else "part" if self.bundle else "single"


MVH = "handover_gate"

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
        MVH,
        "Minimum Viable Handoff (all 3 parts)",
        "the Minimum Viable Handoff (gate, red flags and automatic trigger together)",
        "Introduce the Minimum Viable Handoff (gate, red flags and automatic trigger)",
        {
            "handover.mvh": True,
            "handover.mvh_threshold": 0.7,
            "handover.compliance": 0.9,
            "handover.red_flag": True,
            "handover.auto_trigger": True,
        },
        "mvh.yaml",
        parts=("gate", "red_flags", "auto_trigger"),
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
        parts=("sla_channels", "decision_archive"),
    ),
    Lever(
        "translation",
        "Translation champions and glossary",
        "translation champions and the glossary",
        "Appoint translation champions and share a glossary",
        {"info.glossary": True, "info.eli5": True, "info.translation_champions": 4},
        "translation.yaml",
        parts=("glossary", "champions"),
    ),
    Lever(
        "micro_coaching",
        "Micro-coaching",
        "micro-coaching",
        "Start micro-coaching",
        {"coaching.program": "micro_4wk", "coaching.start_day": 0, "coaching.postmortems": True},
        "micro_coaching.yaml",
        parts=("coaching_sessions", "postmortems"),
    ),
)

#: The parts of the bundles, in playbook order, and the handoff owner: a change the model has
#: that no playbook lever packages. A part takes the values its bundle sets (the red flags
#: check against the gate's threshold, so they carry it too).
PARTS: tuple[Lever, ...] = (
    Lever(
        "gate",
        "Handover gate at 70% completeness",
        "the handover gate on its own",
        "Introduce the handover gate on its own (packages at least 70% complete)",
        {"handover.mvh": True, "handover.mvh_threshold": 0.7, "handover.compliance": 0.9},
        bundle=MVH,
    ),
    Lever(
        "red_flags",
        "Red flags at ops intake",
        "red flags at ops intake",
        "Let ops raise red flags on thin packages at intake",
        {"handover.red_flag": True, "handover.mvh_threshold": 0.7},
        bundle=MVH,
    ),
    Lever(
        "auto_trigger",
        "Automatic handover trigger in the CRM",
        "the automatic handover trigger",
        "Let the CRM trigger the handover when a deal closes",
        {"handover.auto_trigger": True},
        bundle=MVH,
    ),
    Lever(
        "handoff_owner",
        "Named handoff owner",
        "a named handoff owner",
        "Name a handoff owner who follows each customer to activation",
        {"handover.owner": True},
    ),
    Lever(
        "sla_channels",
        "Urgent-only chat, channels with SLAs",
        "urgent-only chat with answer deadlines",
        "Keep chat for urgent matters and answer the rest within a day",
        {"comms.strategy": "channel_sla", "comms.sla_answer_days": 1.0},
        bundle="channel_strategy",
    ),
    Lever(
        "decision_archive",
        "Decision archive",
        "the decision archive",
        "Keep a read-only archive of decisions",
        {"info.decision_archive": True},
        bundle="channel_strategy",
    ),
    Lever(
        "glossary",
        "Glossary and plain-words answers",
        "the glossary and plain-words answers",
        "Share a glossary and answer other departments in plain words",
        {"info.glossary": True, "info.eli5": True},
        bundle="translation",
    ),
    Lever(
        "champions",
        "Four translation champions",
        "translation champions",
        "Appoint four translation champions",
        {"info.translation_champions": 4},
        bundle="translation",
    ),
    Lever(
        "coaching_sessions",
        "Micro-coaching sessions",
        "the micro-coaching sessions",
        "Start four weekly micro-coaching sessions",
        {"coaching.program": "micro_4wk", "coaching.start_day": 0},
        bundle="micro_coaching",
    ),
    Lever(
        "postmortems",
        "Blame-free post-mortems",
        "blame-free post-mortems",
        "Hold a blame-free post-mortem of each customer lost at handover",
        {"coaching.postmortems": True},
        bundle="micro_coaching",
    ),
)
ALL_LEVERS: tuple[Lever, ...] = (*LEVERS, *PARTS)
LEVER_BY_KEY: dict[str, Lever] = {lever.key: lever for lever in ALL_LEVERS}
DEFAULTS = Scenario()  # schema defaults, to tell a deliberate setting from an untouched one


def _sets() -> dict[str, tuple[Lever, ...]]:
    """The lever sets a diagnosis can test, each in playbook order (the handoff owner after
    the handover parts)."""
    loose = [p for p in PARTS if not p.bundle]
    bundles, parts, every = [], [], []
    for lever in LEVERS:
        own = [LEVER_BY_KEY[k] for k in lever.parts] + (loose if lever.key == MVH else [])
        bundles.append(lever)
        parts += own if lever.parts else [lever, *own]
        every += [lever, *own]
    return {"bundles": tuple(bundles), "parts": tuple(parts), "all": tuple(every)}


#: ``bundles``: the six playbook levers as the playbook packages them; ``parts``: every single
#: change (the bundles' parts, the levers that are one change, the handoff owner); ``all``:
#: both, so a diagnosis shows which part earns a bundle's effect and what the bundle does.
LEVER_SETS: dict[str, tuple[Lever, ...]] = _sets()
DEFAULT_LEVER_SET = "all"


def lever_set(name: str) -> tuple[Lever, ...]:
    """The levers of a set (``bundles``, ``parts`` or ``all``).

    Raises:
        ValueError: not a set name (the message names the valid ones).
    """
    if name not in LEVER_SETS:
        raise ValueError(f"'{name}' is not a set of levers; choose one of {', '.join(LEVER_SETS)}")
    return LEVER_SETS[name]


def state_on(start: Scenario, day: int) -> Scenario:
    """``start`` as its own roll-out has made it on measured ``day`` (its interventions up to
    and including that day applied, in day order).

    Raises:
        KeyError, ValueError: a roll-out step gives an invalid scenario (cannot happen for a
            validated scenario).
    """
    state = start
    for iv in sorted(start.interventions, key=lambda iv: iv.day):
        if iv.day > day:
            break
        state = with_changes(state, iv.set)
    return state


def _holds(state: Scenario, key: str, value: Any, day: int) -> bool:
    """Whether ``state`` on measured ``day`` has the lever's ``key`` at ``value``.

    A programme due to start on day 0 holds once the scenario's own programme has started.
    """
    now = get_dotted(state, key)
    if key == "coaching.start_day":
        return int(now) <= max(day, int(value))
    return same_value(now, value)


def in_place(start: Scenario, lever: Lever, day: int = 0) -> bool:
    """True when every change of ``lever`` already holds in ``start`` on measured ``day``
    (after the scenario's own roll-out steps up to that day)."""
    try:
        state = state_on(start, day)
    except (KeyError, ValueError):
        return False
    return all(_holds(state, k, v, day) for k, v in lever.changes.items())


def _events(start: Scenario, lever: Lever, day: int) -> list[tuple[str, str, str]]:
    """What each later step of the scenario's own roll-out does to ``lever`` rolled out on
    ``day``: ``("overrides", when, sets)`` or ``("brings", when, "")``, in day order."""
    later = sorted((iv for iv in start.interventions if iv.day > day), key=lambda iv: iv.day)
    if not later:
        return []
    try:
        state = with_changes(state_on(start, day), lever.changes)
    except (KeyError, ValueError):
        return []  # the lever cannot be applied at all: plan_diagnosis says so
    events = []
    overridden: set[str] = set()
    for iv in later:
        when = f"day {iv.day}" + (f" ({iv.label})" if iv.label else "")
        try:
            state = with_changes(state, iv.set)
        except (KeyError, ValueError):
            break
        touched = [k for k in lever.changes if any(k == s or k.startswith(s + ".") for s in iv.set)]
        changed = [
            k
            for k in lever.changes
            if k not in overridden and not same_value(get_dotted(state, k), lever.changes[k])
        ]
        if changed:
            overridden.update(changed)
            sets = ", ".join(f"{k}={format_value(get_dotted(state, k))}" for k in changed)
            events.append(("overrides", when, sets))
        elif touched and not overridden:
            events.append(("brings", when, ""))
    return events


def intervention_notes(start: Scenario, levers: Lever | Sequence[Lever], day: int = 0) -> list[str]:
    """What the starting scenario's own roll-out does to ``levers`` each rolled out on ``day``.

    Roll-out steps on or before ``day`` come first (a lever is put on top of them); a later
    step either overrides some of a lever's changes from its day on, or brings in what the
    lever already did (the lever brings it forward). Levers a step treats alike share a note.
    """
    group: dict[tuple[str, str, str], list[str]] = {}
    for lever in [levers] if isinstance(levers, Lever) else levers:
        for event in _events(start, lever, day):
            group.setdefault(event, []).append(lever.label)
    notes = []
    for (kind, when, sets), labels in group.items():
        names = "; ".join(labels)
        if kind == "overrides":
            one = len(labels) == 1
            notes.append(
                f"{names}: the scenario's roll-out sets {sets} on {when}, overriding "
                f"{'the lever' if one else 'each'} (rolled out on day {day}) from then on."
            )
        elif len(labels) == 1:
            notes.append(
                f"{names}: the scenario already rolls this out on {when}; tested alone on "
                f"day {day}, it is brought forward rather than added."
            )
        else:
            notes.append(
                f"The scenario already rolls these out on {when}: {names}. Tested alone on "
                f"day {day}, each is brought forward rather than added."
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
