"""Information asymmetry between departments (Carlile 2004) and the tools against it.

Asymmetry ``a`` (0..1) drives misunderstanding of requirements (rework), questions and search.
Cross-functional teams build shared context over time, ``a_team = a * (1 - r * (1 - exp(-t/T)))``;
coaching adds cross-functional understanding. A glossary and ELI5 answers cut misunderstanding;
translation champions cut it on the questions they have hours to translate; a decision archive
cuts search. None of these changes what anybody is paid for.

State (``Information``): who is a translation champion, the champions' backlog of translation
hours, and the asymmetry each person faces today.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

#: A deal skips the champions if joining their queue would exceed this many days of their hours.
CHAMPION_BYPASS_DAYS = 5.0


def shared_context_factor(
    team_age_days: np.ndarray | float, build_days: float, max_reduction: float
) -> np.ndarray:
    """Multiplier on asymmetry from working in one team for ``team_age_days``."""
    return 1.0 - max_reduction * (
        1.0 - np.exp(-np.asarray(team_age_days, dtype=float) / build_days)
    )


def misunderstanding_probability(
    asymmetry: np.ndarray,
    glossary_cut: float,
    eli5_cut: float,
    translated: np.ndarray,
    champion_cut: float,
) -> np.ndarray:
    """Chance that ops misreads a deal's requirements, so part of the work is redone."""
    p = asymmetry * (1.0 - glossary_cut) * (1.0 - eli5_cut)
    return np.minimum(np.maximum(p * (1.0 - champion_cut * translated), 0.0), 1.0)


def questions_per_deal(c: np.ndarray, asymmetry: np.ndarray, per_gap: float) -> np.ndarray:
    """Expected questions ops must ask about a deal: more when the package is thin or foreign."""
    return per_gap * (1.0 - c) * (0.5 + asymmetry)


def deal_search_hours(
    c: np.ndarray, asymmetry: np.ndarray, per_gap: float, archive_cut: float
) -> np.ndarray:
    """Ops hours spent hunting for what the package left out."""
    return per_gap * (1.0 - c) * (0.5 + asymmetry) * (1.0 - archive_cut)


def daily_search_hours(
    asymmetry: np.ndarray, hours_at_full: float, archive_cut: float
) -> np.ndarray:
    """Background search time per person per day (surveys: 15-25% of the week)."""
    return hours_at_full * asymmetry * (1.0 - archive_cut)


@dataclass
class Information:
    """Translation champions and today's asymmetry (rows: people)."""

    champion: np.ndarray  # bool: translates questions in both directions
    champion_backlog: float = 0.0  # translation hours waiting for the champions
    asymmetry: np.ndarray = field(default_factory=lambda: np.zeros(0))  # per person, today


def assign_champions(R: int, N: int, k: int) -> np.ndarray:
    """Champions alternate between the departments: they translate in both directions."""
    reps, ops = list(range(R)), list(range(R, N))
    order = [p for pair in zip(reps, ops, strict=False) for p in pair]
    order += reps[len(ops) :] + ops[len(reps) :]
    champion = np.zeros(N, dtype=bool)
    champion[order[: min(k, N)]] = True
    return champion


def person_asymmetry(info: Any, st: Any, understanding: np.ndarray, cross_functional: bool,
                     team_age: float) -> np.ndarray:  # fmt: skip
    """Information asymmetry each person faces across the Sales/Ops boundary."""
    a = info.asymmetry * (1.0 - 0.5 * understanding)
    if cross_functional:
        a = a * shared_context_factor(team_age, st.context_build_days, st.context_max_reduction)
    return a


def tool_upkeep_hours(info: Any) -> float:
    """Daily hours each person spends keeping the glossary and decision archive up to date."""
    return (int(info.glossary) + int(info.decision_archive)) * info.upkeep_minutes / 60.0


def serve_champions(state: Information, hours_per_day: float, coordination: np.ndarray) -> None:
    """Champions work off their backlog, up to their hours, booked as ``coordination``."""
    n_champions = int(state.champion.sum())
    if state.champion_backlog > 0 and n_champions == 0:
        state.champion_backlog = 0.0  # champions stood down: their queue is dropped
    elif state.champion_backlog > 0:
        served = min(state.champion_backlog, hours_per_day * n_champions)
        coordination[state.champion] += served / n_champions
        state.champion_backlog -= served


def translate(state: Information, info: Any, questions: np.ndarray
              ) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """Which entering deals the champions translate (1.0) and the days those wait for them.

    Deals join the champions' queue while it stays within ``CHAMPION_BYPASS_DAYS`` of their
    capacity; the rest go untranslated rather than wait longer.
    """
    k = len(questions)
    translated = np.zeros(k)
    wait = np.zeros(k)
    cap = state.champion.sum() * info.champion_hours_per_day
    if cap > 0:
        demand = questions * info.champion_minutes / 60.0
        ahead = state.champion_backlog + np.cumsum(demand) - demand
        joins = ahead + demand <= CHAMPION_BYPASS_DAYS * cap
        translated[joins] = 1.0
        wait[joins] = ahead[joins] / cap
        state.champion_backlog += float(demand[joins].sum())
    return translated, wait
