"""Rankings and headlines: *beats* and *cannot be separated* mean one thing everywhere, no plan
or lever is named first when another beats it on every mission KPI, the bottom line is one
sentence with its interval, and every "better" sentence names its price."""

from __future__ import annotations

import json
import math
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from simulation.analysis.compare import (
    beats,
    cannot_separate,
    compare_values,
    named_first_order,
    paired_difference,
    rank_plans,
)
from simulation.analysis.diagnosis import summarise_diagnosis
from simulation.analysis.results import load_results
from simulation.analysis.words import (
    comparison_bottom_line,
    comparison_headline,
    price_clause,
    verdict,
)
from simulation.cli import main as cli
from simulation.model.metrics import KPIS, MISSION
from simulation.scenario.levers import CURRENT, DEFAULT_RANK, LEVERS

BETTER = {k: KPIS[k].better for k in KPIS}


def _row(diff: float, half: float, n: int = 10, p: float = 0.5) -> dict:
    return {"n": n, "base_mean": 100.0, "mean": 100.0 + diff, "diff": diff,
            "ci_low": diff - half, "ci_high": diff + half, "relative": diff / 100,
            "p_better": p}  # fmt: skip


# --------------------------------------------------------------------------------------------
# The two definitions
# --------------------------------------------------------------------------------------------


def test_beats_needs_the_interval_to_exclude_zero_in_the_plans_favour() -> None:
    assert beats(_row(0.3, 0.2), "higher") and not beats(_row(0.3, 0.2), "lower")
    assert beats(_row(-0.3, 0.2), "lower") and not beats(_row(-0.3, 0.2), "higher")
    assert not beats(_row(0.3, 0.3), "higher")  # the interval touches 0
    assert not beats(_row(0.3, 0.0, n=1), "higher")  # one pair has no interval
    assert not beats(_row(math.nan, math.nan, n=0), "higher")


def test_the_top_two_cannot_be_separated_when_the_interval_includes_zero() -> None:
    assert cannot_separate(_row(0.1, 0.2)) and cannot_separate(_row(-0.2, 0.2))
    assert not cannot_separate(_row(0.3, 0.2)) and not cannot_separate(_row(-0.3, 0.2))
    assert cannot_separate(_row(5.0, 0.0, n=1))


@settings(max_examples=80, deadline=None)
@given(
    st.lists(st.floats(-50, 50), min_size=1, max_size=12),
    st.floats(-10, 10),
    st.sampled_from(["higher", "lower"]),
)
def test_either_one_beats_the_other_or_they_cannot_be_separated(noise, shift, better) -> None:
    base = np.linspace(0, 1, len(noise)) * 7
    other = base + shift + np.array(noise) / 10
    d = paired_difference(base, other, better)
    reverse = paired_difference(other, base, better)
    assert cannot_separate(d) == (not beats(d, better) and not beats(reverse, better))
    assert not (beats(d, better) and beats(reverse, better))
    if beats(d, better):  # beating agrees with the interval of a paired t-test
        diffs = other - base
        half = stats.t.ppf(0.975, len(diffs) - 1) * diffs.std(ddof=1) / math.sqrt(len(diffs))
        gain = diffs.mean() if better == "higher" else -diffs.mean()
        assert gain - half > -1e-9


# --------------------------------------------------------------------------------------------
# Named first
# --------------------------------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(st.integers(2, 8), st.data())
def test_no_plan_comes_before_one_that_beats_it_on_every_kpi(n, data) -> None:
    """Beating on every KPI follows some true quality order (it cannot go round in a circle);
    whatever the ranking KPI's order, no plan is placed before one that beats it."""
    plans = [f"p{i}" for i in range(n)]
    quality = data.draw(st.permutations(plans))
    pairs = [(a, b) for a in plans for b in plans if quality.index(b) < quality.index(a)]
    beaten = set(data.draw(st.lists(st.sampled_from(pairs), unique=True))) if pairs else set()
    order = data.draw(st.permutations(plans))
    out, passed = named_first_order(order, lambda p, o: (p, o) in beaten)
    assert sorted(out) == sorted(plans)
    for plan, other in beaten:
        assert out.index(other) < out.index(plan), (plan, other, out)
    for plan, beaters in passed.items():
        assert all((plan, b) in beaten for b in beaters)
    if not beaten:
        assert out == list(order) and passed == {}


def test_named_first_order_stops_at_the_limit() -> None:
    out, _ = named_first_order(["a", "b", "c", "d"], lambda p, o: (p, o) == ("a", "c"), limit=2)
    assert out == ["b", "c"]


def _runs(mean: float, spread: float = 0.0, n: int = 8, seed: int = 0) -> list[float]:
    noise = np.random.default_rng(seed).normal(0, 1, n)
    return list(mean + spread * noise)


def _plan(net: float, churn: float, loss: float, throughput: float, cost: float,
          seed: int = 0) -> dict[str, list[float]]:  # fmt: skip
    """One plan's runs; every plan shares the same noise (common random numbers)."""
    return {
        "net_value": _runs(net, 1e5, seed=seed),
        "handover_churn": _runs(churn, 0.01, seed=seed + 1),
        "productivity_loss": _runs(loss, 0.01, seed=seed + 2),
        "throughput": _runs(throughput, 1.0, seed=seed + 3),
        "cost_of_friction": _runs(cost, 1e5, seed=seed + 4),
        "revenue": _runs(10 * net, 1e5, seed=seed + 5),
    }


def test_a_plan_beaten_on_every_mission_kpi_is_not_named_first_whatever_the_ranking_kpi() -> None:
    values = {
        "today": _plan(4.0e6, 0.30, 0.28, 16, 4.3e6),
        "bonus": _plan(4.1e6, 0.25, 0.285, 16, 3.4e6),  # cheapest friction, beaten elsewhere
        "channels": _plan(5.2e6, 0.24, 0.20, 19, 3.5e6),
    }
    ranking = rank_plans(values, "cost_of_friction", MISSION, BETTER)
    assert ranking["by_mean"][0] == "bonus"
    assert ranking["first"] == "channels" and ranking["runner_up"] == "bonus"
    assert "channels" in ranking["passed_over"]["bonus"]
    by_net = rank_plans(values, "net_value", MISSION, BETTER)
    assert by_net["first"] == "channels" and by_net["passed_over"] == {}


def test_without_a_beater_the_ranking_kpi_decides() -> None:
    values = {
        "a": _plan(4.0e6, 0.30, 0.28, 16, 4.3e6),
        "b": _plan(4.5e6, 0.31, 0.27, 15, 4.0e6),  # more net value, but more churn
    }
    ranking = rank_plans(values, "net_value", MISSION, BETTER)
    assert ranking["order"] == ["b", "a"] and ranking["passed_over"] == {}
    assert ranking["beats"] and ranking["separated"]


def test_a_rule_that_cannot_be_checked_names_no_plan_beaten() -> None:
    values = {"a": {"x": [1.0, 2.0, 3.0]}, "b": {"x": [5.0, 6.0, 7.0]}}
    ranking = rank_plans(values, "x", ("x", "missing"), {"x": "lower", "missing": "higher"})
    assert ranking["order"] == ["a", "b"] and ranking["passed_over"] == {}


# --------------------------------------------------------------------------------------------
# Headlines and the bottom line (synthetic comparisons)
# --------------------------------------------------------------------------------------------

KPI_NAMES = ["net_value", "handover_churn", "productivity_loss", "throughput", "revenue",
             "cost_of_friction"]  # fmt: skip


def _compare(values: dict) -> dict:
    out = compare_values(values, list(values), KPI_NAMES, list(range(8)))
    assert out["rank_by"] == DEFAULT_RANK == "net_value"
    return out


def _sentences(text: str) -> list[str]:
    return [s for s in text.replace("e.g.", "eg").split(". ") if s]


def test_the_bottom_line_is_one_sentence_with_the_interval_of_the_plan_named_first() -> None:
    values = {"today": _plan(4.0e6, 0.30, 0.28, 16, 4.3e6),
              "better": _plan(5.2e6, 0.24, 0.20, 19, 3.5e6)}  # fmt: skip
    out = _compare(values)
    line = out["bottom_line"]
    d = out["differences"]["better"]["net_value"]
    assert len(_sentences(line)) == 1 and line.endswith(".")
    assert line.startswith("better would almost certainly raise net value by 1.20M a year")
    assert "95% interval" in line and "against today" in line
    assert f"{d['ci_low'] / 1e6:.2f}M" in line and f"{d['ci_high'] / 1e6:.2f}M" in line


def test_the_bottom_line_says_to_keep_todays_plan_when_it_comes_first() -> None:
    values = {"today": _plan(5.2e6, 0.24, 0.20, 19, 3.5e6),
              "worse": _plan(4.0e6, 0.30, 0.28, 16, 4.3e6)}  # fmt: skip
    out = _compare(values)
    assert out["ranking"]["first"] == "today"
    assert out["bottom_line"].startswith("Keep today: the best alternative, worse, would")
    assert "lower net value" in out["bottom_line"]
    assert out["headline"].startswith("today beats the best alternative, worse, on net value")


def test_when_the_top_two_cannot_be_separated_the_headline_says_so_and_names_both() -> None:
    values = {
        "today": _plan(4.0e6, 0.30, 0.28, 16, 4.3e6),
        "a": _plan(5.2e6, 0.24, 0.20, 19, 3.5e6, seed=10),
        "b": _plan(5.2e6 - 1e4, 0.25, 0.21, 19, 3.5e6, seed=20),  # independent noise
    }
    out = _compare(values)
    ranking = out["ranking"]
    assert not ranking["separated"] and cannot_separate(ranking["head_to_head"])
    first, runner = ranking["first"], ranking["runner_up"]
    assert {first, runner} == {"a", "b"}
    assert f"{first} and {runner} cannot be separated on net value" in out["headline"]
    assert f"the model cannot separate it from {runner}" in out["bottom_line"]


def test_a_better_verdict_names_the_price_in_the_same_sentence() -> None:
    values = {"today": _plan(4.0e6, 0.30, 0.28, 16, 4.3e6),
              "cheap": _plan(3.5e6, 0.24, 0.20, 12, 3.0e6)}  # fmt: skip
    out = _compare(values)
    by_kpi = dict(zip(KPI_NAMES, out["verdicts"]["cheap"], strict=True))
    for name in ("handover_churn", "productivity_loss", "cost_of_friction"):
        better = [s for s in _sentences(by_kpi[name]) if "better" in s.lower()]
        assert better, by_kpi[name]
        assert all("at a price: net value falls by" in s and "throughput by" in s for s in better)
    # the headline names the price in the same sentence as the gains
    assert "but lowers net value" in out["headline"] and "throughput" in out["headline"]


def test_no_price_when_nothing_falls() -> None:
    values = {"today": _plan(4.0e6, 0.30, 0.28, 16, 4.3e6),
              "good": _plan(5.2e6, 0.24, 0.20, 19, 3.5e6)}  # fmt: skip
    out = _compare(values)
    assert not any("at a price" in v for v in out["verdicts"]["good"])
    assert price_clause(out["differences"]["good"]) == ""


def test_a_revenue_fall_is_a_price_even_outside_the_headline_kpis() -> None:
    rows = pd.DataFrame([
        {"kpi": "handover_churn", "diff": -0.03, "p_better": 0.999},
        {"kpi": "revenue", "diff": -2e6, "p_better": 0.001},
    ])  # fmt: skip
    diffs = rows.assign(label="plan")
    text = comparison_headline(diffs, "today")
    assert text == (
        "plan against today: cuts churn at handover by 3.0 points, but lowers activated revenue "
        "by 2.00M a year"  # money said as a board reads it (issue 11, board language)
    )


def test_a_verdict_picked_as_the_best_of_many_says_its_interval_is_widened() -> None:
    d = {**_row(-0.03, 0.01, p=0.999), "picked_of": 70}
    text = verdict("handover_churn", d, "today", "best")
    assert "95% interval widened for picking the best of 70 designs" in text
    assert "even allowing for the pick" in text and "chance)" not in text


def test_a_sweeps_bottom_line_says_it_was_picked() -> None:
    ranking = {"rank_by": "net_value", "first": "mix 40/30/20/10", "runner_up": "today",
               "beats": False, "separated": False, "passed_over": {}}  # fmt: skip
    diffs = {"mix 40/30/20/10": {"net_value": {**_row(1e6, 3e6, n=3, p=0.5), "picked_of": 70}}}
    line = comparison_bottom_line(ranking, diffs, "today", picked_of=70)
    assert line.startswith("Picked as the best of 70 designs, mix 40/30/20/10 might raise")
    assert "widened for picking the best of 70 designs" in line and "no clear difference" in line


# --------------------------------------------------------------------------------------------
# Diagnosis
# --------------------------------------------------------------------------------------------


def _diagnosis(values: dict, rank_by: str) -> dict:
    """summarise_diagnosis on synthetic runs (levers keyed as the playbook's)."""
    levers = [lv for lv in LEVERS if lv.key in values]
    rows = []
    for kpi in KPIS:
        for lv in levers:
            if kpi in values[lv.key]:
                d = paired_difference(values[CURRENT][kpi], values[lv.key][kpi], BETTER[kpi])
            else:
                d = _row(0.0, 0.0)
            rows.append({**d, "lever": lv.key, "kpi": kpi})
    current = {k: float(np.mean(values[CURRENT].get(k, [1.0]))) for k in KPIS}
    rank_values = {k: v[rank_by] for k, v in values.items()}
    return summarise_diagnosis(rows, rank_values, rank_by, levers, current,
                               {"scenario": "baseline"}, values)  # fmt: skip


def test_diagnose_never_names_first_a_lever_beaten_on_every_mission_kpi() -> None:
    values = {
        CURRENT: _plan(4.0e6, 0.30, 0.28, 16, 4.3e6),
        "blended_bonus": _plan(4.1e6, 0.25, 0.285, 16, 3.4e6),
        "channel_strategy": _plan(5.2e6, 0.24, 0.20, 19, 3.5e6),
        "translation": _plan(4.4e6, 0.27, 0.283, 17, 3.9e6),
    }
    d = _diagnosis(values, "cost_of_friction")
    assert d["top"]["lever"] == "channel_strategy"
    ranked = d["rankings"]["cost_of_friction"]
    assert [r["rank"] for r in ranked] == list(range(1, len(ranked) + 1))
    blended = next(r for r in ranked if r["lever"] == "blended_bonus")
    assert blended["beaten_by"] == ["channel_strategy"]
    assert d["headline"].startswith("Change first: the channel strategy")
    assert "It comes before the blended bonus" in d["verdict"]
    assert d["bottom_line"].startswith("The channel strategy would almost certainly cut")
    # net value (the default) names the same lever and keeps the JSON's shape
    n = _diagnosis(values, "net_value")
    assert n["top"]["lever"] == "channel_strategy"
    assert all({"lever", "diff"} <= set(r) for rows in n["rankings"].values() for r in rows)


def test_diagnose_says_when_the_top_two_levers_cannot_be_separated() -> None:
    values = {
        CURRENT: _plan(4.0e6, 0.30, 0.28, 16, 4.3e6),
        "blended_bonus": _plan(5.2e6, 0.24, 0.20, 19, 3.5e6, seed=10),
        "channel_strategy": _plan(5.2e6 - 1e4, 0.24, 0.20, 19, 3.5e6, seed=20),
    }
    d = _diagnosis(values, "net_value")
    assert not d["runner_up"]["separated"]
    top, runner = d["top"]["lever"], d["runner_up"]["lever"]
    nouns = {"blended_bonus": "the blended bonus", "channel_strategy": "the channel strategy"}
    assert d["headline"].startswith(f"Change first: {nouns[top]} or {nouns[runner]}")
    assert "cannot separate" in d["headline"]
    assert f"the model cannot separate it from {nouns[runner]}" in d["bottom_line"]


# --------------------------------------------------------------------------------------------
# Command line: a firm of 12 reps and 5 ops
# --------------------------------------------------------------------------------------------

SMALL_FIRM = """\
    name: small
    description: A firm of 12 reps and 5 ops, run briefly.
    horizon_days: 80
    warmup_days: 20
    org: {sales_reps: 12, ops_staff: 5}
    structure: {team_size: 6}
"""


def _beats(a: list[float], b: list[float], better: str) -> bool:
    """Independently of the package: a's paired t-interval against b excludes 0 its way."""
    pairs = [(x, y) for x, y in zip(a, b, strict=True) if not (math.isnan(x) or math.isnan(y))]
    if len(pairs) < 2:
        return False
    d = np.array([x - y for x, y in pairs])
    half = stats.t.ppf(0.975, len(d) - 1) * d.std(ddof=1) / math.sqrt(len(d))
    return d.mean() - half > 0 if better == "higher" else d.mean() + half < 0


@pytest.mark.needs_model
@pytest.mark.parametrize("rank_by", ["net_value", "cost_of_friction", "throughput"])
def test_small_firm_diagnose_names_first_no_lever_another_beats_everywhere(
    rank_by: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    scenario = tmp_path / "small.yaml"
    scenario.write_text(textwrap.dedent(SMALL_FIRM), encoding="utf-8")
    out = tmp_path / "diagnosis"
    argv = ["diagnose", str(scenario), "--reps", "4", "--seed", "3", "--workers", "1",
            "--out", str(out), "--rank-by", rank_by]  # fmt: skip
    assert cli.main([*argv, "--json"]) == cli.EXIT_OK
    d = json.loads(capsys.readouterr().out)
    # the decision is on the year after roll-out: read those runs from the results folder
    results = load_results(out)
    assert d["rollout"]["ranked_on"] == "after_rollout"
    runs = {
        label: {k: results.values("after_rollout_" + k)[p].tolist() for k in MISSION}
        for p, label in enumerate(results.labels)
    }
    top = d["top"]["lever"]
    for other in (lv["lever"] for lv in d["levers"] if lv["lever"] != top):
        beaten = [_beats(runs[other][k], runs[top][k], BETTER[k]) for k in MISSION]
        assert not all(beaten), f"{other} beats the named-first {top} on every mission KPI"
    assert all({"lever", "diff"} <= set(r) for rows in d["rankings"].values() for r in rows)
    # the text starts with the bottom line, then the guardrails (4 replications are too few)
    assert cli.main([*argv, "--resume"]) == cli.EXIT_OK
    text = capsys.readouterr().out
    assert " ".join(text.split()).startswith(d["bottom_line"])
    assert "Read with care:" in text and "Only 4 replications per plan" in text
