"""Inverse-transform samplers used on pre-drawn per-deal uniforms."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import poisson

from simulation.model.deals import _lognormal
from simulation.model.deals import poisson_inverse as _poisson_inverse


@settings(max_examples=40, deadline=None)
@given(mean=st.floats(min_value=0.01, max_value=80.0), seed=st.integers(0, 2**32 - 1))
def test_poisson_inverse_equals_scipy_ppf(mean: float, seed: int) -> None:
    u = np.random.default_rng(seed).random(500)
    got = _poisson_inverse(u, np.full(len(u), mean))
    want = poisson.ppf(u, mean).astype(int)
    mismatch = np.flatnonzero(got != want)
    assert len(mismatch) == 0, f"mean {mean}: {len(mismatch)} of 500 counts differ from scipy"


def test_poisson_inverse_handles_zero_mean_and_empty() -> None:
    assert _poisson_inverse(np.array([0.3, 0.99]), np.zeros(2)).tolist() == [0, 0]
    assert len(_poisson_inverse(np.zeros(0), np.zeros(0))) == 0


def test_lognormal_has_requested_mean_and_cv() -> None:
    u = np.random.default_rng(1).random((400_000, 2))
    x = _lognormal(u, np.array([40_000.0, 26.0]), np.array([0.6, 0.0]))
    mean, cv = x[:, 0].mean(), x[:, 0].std() / x[:, 0].mean()
    assert abs(mean / 40_000 - 1) < 0.01, f"mean {mean:.0f}, expected 40000 within 1%"
    assert abs(cv - 0.6) < 0.02, f"cv {cv:.3f}, expected 0.6 +- 0.02"
    assert np.all(x[:, 1] == 26.0), "cv 0 must give the mean exactly"
