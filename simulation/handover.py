"""Handover: package completeness, the Minimum Viable Handoff gate, red flags.

A package's completeness is the share of what ops needs that the rep wrote down. It rises with
documentation hours and skill with diminishing returns, ``1 - exp(-skill * hours / need)``, where
``need`` grows with the deal's complexity. A real gate check returns a package below the
threshold to the rep (hours and days, but the information gets fixed); a box-ticked check lets it
through unchanged (Urbach et al. 2014).
"""

from __future__ import annotations

import numpy as np


def completeness(
    doc_hours: np.ndarray, skill: np.ndarray, need: float, complexity: np.ndarray
) -> np.ndarray:
    """Share of required information in the package (0..1)."""
    return 1.0 - np.exp(-skill * doc_hours / (need * complexity))


def gate_returns(c: np.ndarray, threshold: float, checked_for_real: np.ndarray) -> np.ndarray:
    """Which packages a gate (or a red flag) sends back: below threshold and really checked."""
    return checked_for_real & (c < threshold)


#: Completeness a fix can reach at most (the curve never reaches 1 in finite hours).
MAX_FIXED_COMPLETENESS = 0.99


def fix_hours(
    c: np.ndarray,
    threshold: float,
    skill: np.ndarray,
    need: float,
    complexity: np.ndarray,
    factor: float,
) -> np.ndarray:
    """Rep hours to bring a returned package from ``c`` up to ``threshold``.

    The documentation hours the rep's own completeness curve needs for that step,
    ``need * complexity / skill * ln((1 - c) / (1 - threshold))``, times ``factor`` (redoing a
    package after the fact is slower than writing it while selling). Each extra point of
    completeness costs more than the last, so a gate at 0.95 is far dearer than one at 0.7.
    """
    target = min(threshold, MAX_FIXED_COMPLETENESS)
    gap = np.log(np.maximum(1.0 - c, 1e-12) / (1.0 - target))
    return factor * need * complexity / skill * np.maximum(gap, 0.0)
