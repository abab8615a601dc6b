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


def fix_hours(c: np.ndarray, threshold: float, hours_full: float) -> np.ndarray:
    """Rep hours to bring a returned package up to the threshold (pro rata of the gap)."""
    return hours_full * np.maximum(threshold - c, 0.0)
