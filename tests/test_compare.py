"""Paired comparisons: statistics against known cases, and verdicts a board member can read."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from simulation.analysis.compare import certainty, compare_values, paired_difference, verdict


def test_paired_difference_known_case():
    base = [10.0, 12.0, 11.0, 13.0, 9.0]
    other = [11.0, 14.0, 14.0, 17.0, 14.0]  # differences 1..5
    d = paired_difference(base, other, better="higher")
    assert d["n"] == 5
    assert d["diff"] == pytest.approx(3.0)
    se = math.sqrt(2.5) / math.sqrt(5)  # sd of 1..5 is sqrt(2.5)
    half = stats.t.ppf(0.975, 4) * se
    assert d["ci_low"] == pytest.approx(3 - half) and d["ci_high"] == pytest.approx(3 + half)
    assert d["ci_low"] == pytest.approx(1.0367, abs=1e-4)  # textbook value, t(0.975, 4) = 2.776
    # P(better) is one minus the one-sided p-value of the paired t-test
    p_one_sided = stats.ttest_rel(other, base, alternative="greater").pvalue
    assert d["p_better"] == pytest.approx(1 - p_one_sided)
    assert d["relative"] == pytest.approx(3 / 11)
    lower = paired_difference(base, other, better="lower")
    assert lower["p_better"] == pytest.approx(p_one_sided)


def test_pairing_removes_shared_noise():
    """Common random numbers: a shared shock cancels in the paired interval, not in unpaired."""
    rng = np.random.default_rng(0)
    shock = rng.normal(0, 10, 20)
    base = 100 + shock + rng.normal(0, 0.1, 20)
    other = 101 + shock + rng.normal(0, 0.1, 20)
    d = paired_difference(base, other, better="higher")
    assert d["ci_high"] - d["ci_low"] < 0.2
    assert d["p_better"] > 0.999
    welch = stats.ttest_ind(other, base, equal_var=False)
    assert welch.pvalue > 0.1  # unpaired, the same data cannot tell the difference


@settings(max_examples=50, deadline=None)
@given(
    st.lists(st.floats(-1e3, 1e3), min_size=2, max_size=30),
    st.floats(-100, 100),
    st.floats(-1e3, 1e3),
)
def test_paired_difference_invariants(noise, shift, level):
    base = np.array(noise) + level
    other = base + shift + np.linspace(-1, 1, len(noise))
    d = paired_difference(base, other, better="higher")
    assert d["ci_low"] <= d["diff"] + 1e-9 <= d["ci_high"] + 2e-9
    assert 0 <= d["p_better"] <= 1
    flipped = paired_difference(other, base, better="higher")
    assert flipped["diff"] == pytest.approx(-d["diff"], abs=1e-9)
    assert flipped["p_better"] == pytest.approx(1 - d["p_better"], abs=1e-9)
    # adding the same constant to both scenarios changes nothing about the difference
    moved = paired_difference(base + 7, other + 7, better="higher")
    assert moved["diff"] == pytest.approx(d["diff"], abs=1e-6)


def test_degenerate_cases():
    same = paired_difference([1.0, 2.0, 3.0], [1.0, 2.0, 3.0], better="lower")
    assert same["diff"] == 0 and same["p_better"] == 0.5
    constant = paired_difference([1.0, 2.0, 3.0], [2.0, 3.0, 4.0], better="lower")
    assert constant["p_better"] == 0.0 and constant["ci_low"] == constant["ci_high"] == 1.0
    one = paired_difference([1.0], [2.0], better="higher")
    assert one["diff"] == 1.0 and math.isnan(one["p_better"])
    with_nan = paired_difference([1.0, math.nan, 3.0], [2.0, 5.0, 4.5], better="higher")
    assert with_nan["n"] == 2
    empty = paired_difference([math.nan], [1.0], better="higher")
    assert empty["n"] == 0 and math.isnan(empty["diff"])
    with pytest.raises(ValueError, match="equal lengths"):
        paired_difference([1.0, 2.0], [1.0], better="higher")


@pytest.mark.parametrize(
    ("p", "expected"),
    [
        (0.999, ("almost certainly", "better")),
        (0.97, ("very likely", "better")),
        (0.85, ("probably", "better")),
        (0.5, ("", "no clear difference")),
        (0.15, ("probably", "worse")),
        (0.001, ("almost certainly", "worse")),
    ],
)
def test_certainty_words(p, expected):
    assert certainty(p) == expected


def _diff(**kw):
    d = dict(
        n=10,
        base_mean=0.143,
        mean=0.115,
        diff=-0.028,
        ci_low=-0.034,
        ci_high=-0.022,
        relative=-0.028 / 0.143,
        p_better=0.9995,
    )
    d.update(kw)
    return d


def test_verdict_reads_as_a_sentence():
    text = verdict("handover_churn", _diff(), "baseline", "blended")
    assert text.startswith(
        "Churn at handover: down from 14.3% under baseline to 11.5% under blended"
    )
    assert "-2.8 points" in text and "-20%" in text
    assert "95% interval -3.4 to -2.2" in text
    assert text.endswith("Almost certainly better (over 99% chance).")


def test_verdict_says_when_it_cannot_tell():
    text = verdict(
        "throughput",
        _diff(
            base_mean=80.0,
            mean=80.3,
            diff=0.3,
            ci_low=-0.5,
            ci_high=1.1,
            relative=0.3 / 80,
            p_better=0.6,
        ),
        "a",
        "b",
    )
    assert "No clear difference (60% chance it is better)" in text
    small = verdict(
        "throughput",
        _diff(
            base_mean=80.0,
            mean=80.3,
            diff=0.3,
            ci_low=0.2,
            ci_high=0.4,
            relative=0.3 / 80,
            p_better=0.999,
        ),
        "a",
        "b",
    )
    assert "but a small change" in small
    worse = verdict(
        "throughput",
        _diff(
            base_mean=80.0,
            mean=78.0,
            diff=-2.0,
            ci_low=-2.5,
            ci_high=-1.5,
            relative=-0.025,
            p_better=0.0,
        ),
        "a",
        "b",
    )
    assert "Almost certainly worse" in worse and "activations/month" in worse
    one = verdict("throughput", _diff(n=1, p_better=math.nan), "a", "b")
    assert "One replication cannot say" in one


def test_compare_values_shape_and_numbers():
    values = {
        "a": {"throughput": [80.0, 81.0, 79.0], "handover_churn": [0.15, 0.14, 0.16]},
        "b": {"throughput": [82.0, 83.0, 80.0], "handover_churn": [0.12, 0.12, 0.13]},
    }
    out = compare_values(values, ["a", "b"], ["throughput", "handover_churn"], [11, 12, 13])
    assert out["baseline"] == "a" and out["replications"] == 3
    d = out["differences"]["b"]["throughput"]
    assert d["diff"] == pytest.approx(5 / 3)
    assert out["summaries"]["a"]["throughput"]["mean"] == pytest.approx(80.0)
    assert out["runs"]["b"]["handover_churn"] == [0.12, 0.12, 0.13]
    assert len(out["verdicts"]["b"]) == 2
    assert "a" not in out["differences"]
