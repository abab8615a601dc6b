"""Chart helpers: the Pareto front, headline wording, money ticks and the house palette."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from simulation.report import charts

finite = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False)


@settings(max_examples=200, deadline=None)
@given(
    data=st.integers(min_value=1, max_value=40).flatmap(
        lambda n: st.tuples(
            arrays(np.float64, n, elements=finite), arrays(np.float64, n, elements=finite)
        )
    ),
    higher=st.booleans(),
)
def test_pareto_front_is_exactly_the_undominated(data: tuple[np.ndarray, np.ndarray],
                                                 higher: bool) -> None:  # fmt: skip
    cost, value = data
    v = value if higher else -value
    front = set(charts.pareto_front(cost, value, higher).tolist())

    def dominated(i: int) -> bool:
        return any((cost[j] <= cost[i] and v[j] > v[i]) or (cost[j] < cost[i] and v[j] >= v[i])
                   for j in range(len(cost)))  # fmt: skip

    for i in range(len(cost)):
        if i in front:
            assert not dominated(i), "a front point is beaten on both cost and value"
        else:
            assert dominated(i) or any(cost[j] == cost[i] and v[j] == v[i] for j in front), (
                "a point left off the front is beaten (or tied with a front point)"
            )


def test_pareto_front_skips_undefined_values() -> None:
    cost = np.array([1.0, 2.0, np.nan, 0.5])
    value = np.array([3.0, np.nan, 9.0, 1.0])
    assert charts.pareto_front(cost, value, True).tolist() == [3, 0]


def _rows(**kpis: tuple[float, float]) -> pd.DataFrame:
    return pd.DataFrame([{"kpi": k, "diff": d, "p_better": p} for k, (d, p) in kpis.items()])


def test_change_phrase_good_news_first_then_the_price() -> None:
    rows = _rows(handover_churn=(-0.048, 0.999), productivity_loss=(-0.11, 0.999),
                 throughput=(-1.78, 0.001))  # fmt: skip
    assert charts.change_phrase(rows) == (
        "cuts churn at handover by 4.8 points and productivity loss by 11.0 points, but lowers "
        "throughput by 1.78 activations/month"
    )


def test_change_phrase_calls_unsure_changes_unclear() -> None:
    rows = _rows(handover_churn=(0.01, 0.5), productivity_loss=(0.02, 0.1),
                 throughput=(2.0, 0.85))  # fmt: skip
    assert charts.change_phrase(rows) == (
        "raises throughput by 2.00 activations/month, but raises productivity loss by 2.0 "
        "points; no clear change in churn at handover"
    )


@pytest.mark.parametrize(
    ("lo", "hi"), [(1_055_000, 1_095_000), (0, 4_000_000), (0, 1_000), (-45_000, 0), (8e5, 1.1e6)]
)
def test_money_ticks_are_distinct_and_read_back_exactly(lo: float, hi: float) -> None:
    with charts.theme():
        fig, ax = plt.subplots()
        ax.set_xlim(lo, hi)
        ax.xaxis.set_major_formatter(charts.MoneyFormatter())
        fig.canvas.draw()
        ticks = [(t.get_position()[0], t.get_text()) for t in ax.get_xticklabels() if t.get_text()]
    plt.close(fig)
    shown = [text for _, text in ticks]
    assert len(shown) == len(set(shown)), shown
    scale = {"M": 1e6, "k": 1e3}
    for loc, text in ticks:
        number = text.replace(",", "").replace("\u2212", "-")
        value = float(number.rstrip("Mk")) * scale.get(number[-1], 1.0)
        assert value == pytest.approx(loc, abs=1e-6), (loc, text)


def test_palette_is_colour_blind_safe() -> None:
    """Every colour with a meaning comes from Okabe & Ito's set (plus neutral ink and grey)."""
    allowed = set(charts.OKABE_ITO.values()) | {charts.INK, charts.UNCLEAR}
    assert set(charts.PALETTE) <= allowed
    assert {charts.BETTER, charts.WORSE, charts.HIGHLIGHT} <= allowed
    assert set(charts.COMPONENT_COLOURS.values()) <= allowed
    assert charts.BETTER != charts.WORSE


def test_rollout_steps_are_numbered_once_per_day() -> None:
    steps = charts.rollout_steps({0: [(20, "SLAs"), (40, "gate")], 1: [(20, "SLAs"), (20, "x")]})
    assert steps == ["(1) day 20: SLAs and x", "(2) day 40: gate"]
