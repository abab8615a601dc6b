"""Replication statistics: Student-t intervals that survive small and incomplete samples."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from simulation.analysis.stats import summarise


def test_matches_scipy_t_interval():
    values = [3.1, 2.7, 3.9, 3.3, 2.8]
    low, high = stats.t.interval(
        0.95, df=len(values) - 1, loc=np.mean(values), scale=stats.sem(values)
    )
    s = summarise(values)
    assert s["mean"] == pytest.approx(np.mean(values))
    assert (s["ci_low"], s["ci_high"]) == pytest.approx((low, high))
    assert all(type(v) is float for v in s.values())


def test_wider_confidence_gives_wider_interval():
    values = [1.0, 2.0, 4.0, 3.0]
    narrow, wide = summarise(values, 0.8), summarise(values, 0.99)
    assert wide["ci_low"] < narrow["ci_low"] < narrow["ci_high"] < wide["ci_high"]


def test_single_value_collapses_to_the_mean():
    assert summarise([2.5]) == {"mean": 2.5, "ci_low": 2.5, "ci_high": 2.5}


def test_nan_values_are_ignored():
    assert summarise([1.0, math.nan, 3.0]) == pytest.approx(summarise([1.0, 3.0]))
    assert summarise([math.nan, 4.0]) == {"mean": 4.0, "ci_low": 4.0, "ci_high": 4.0}


@pytest.mark.parametrize("values", [[], [math.nan, math.nan]])
def test_no_usable_value_gives_nan(values):
    assert all(math.isnan(v) for v in summarise(values).values())


def test_identical_values_have_no_spread():
    s = summarise(iter([0.25] * 6))  # any iterable, including a generator
    assert s["ci_low"] == s["mean"] == s["ci_high"] == pytest.approx(0.25)


def test_confidence_must_be_a_probability():
    with pytest.raises(ValueError, match="confidence"):
        summarise([1.0, 2.0], confidence=95)


def test_interval_is_clipped_to_the_quantity_bounds() -> None:
    raw = summarise([0.01, 0.30])
    clipped = summarise([0.01, 0.30], bounds=(0.0, 1.0))
    assert raw["ci_low"] < 0.0, "set-up: two spread values give a wide t-interval"
    assert clipped["ci_low"] == 0.0 and clipped["ci_high"] == min(raw["ci_high"], 1.0)
    assert clipped["mean"] == raw["mean"]


def test_share_kpis_are_bounded_to_zero_one() -> None:
    from simulation.model.metrics import KPIS

    assert KPIS["handover_churn"].bounds == (0.0, 1.0)
    assert KPIS["handover_quality"].bounds == (0.0, 1.0)
    assert KPIS["throughput"].bounds == (0.0, math.inf)
