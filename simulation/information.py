"""Information asymmetry between departments (Carlile 2004) and the tools against it.

Asymmetry ``a`` (0..1) drives misunderstanding of requirements (rework), questions and search.
Cross-functional teams build shared context over time, ``a_team = a * (1 - r * (1 - exp(-t/T)))``;
coaching adds cross-functional understanding. A glossary and ELI5 answers cut misunderstanding;
translation champions cut it on the questions they have hours to translate; a decision archive
cuts search. None of these changes what anybody is paid for.
"""

from __future__ import annotations

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
