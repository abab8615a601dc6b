"""Guardrails: each one fires when its condition holds and stays quiet when it does not, and
the terminal and the pack say so in plain words."""

from __future__ import annotations

import json
import math
import textwrap
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from simulation.analysis.compare import paired_difference
from simulation.analysis.guardrails import (
    CALIBRATION_BANDS,
    FIRM_KEYS,
    FRICTION_PAYROLL_LIMIT,
    MIN_REPLICATIONS,
    NOT_CUSTOMERS,
    best_of_k,
    bonferroni_confidence,
    calibration,
    check_plans,
    few_replications,
    firm_differences,
    friction_over_payroll,
    loaded_payroll,
    picked_difference,
    sweep_firm_axes,
)
from simulation.analysis.words import certainty, guardrail_text, verdict
from simulation.cli import main as cli
from simulation.scenario.config import Scenario, lever_table


def _config(**org: float) -> dict:
    """A scenario as a results folder stores it, with some org (or market) keys changed."""
    data = json.loads(Scenario().model_dump_json())
    for key, value in org.items():
        section, name = key.split("__")
        data[section][name] = value
    return data


IN_BAND = {"handover_churn": 0.15, "productivity_loss": 0.25, "win_rate": 0.45,
           "cost_of_friction": 8.0e6, "payroll_cost": 7.0e6}  # fmt: skip


# --------------------------------------------------------------------------------------------
# Different firms or markets
# --------------------------------------------------------------------------------------------


def test_different_firm_sizes_trigger_and_say_how() -> None:
    configs = {"big": _config(), "small": _config(org__sales_reps=12, org__ops_staff=5)}
    g = firm_differences(configs, "big")
    assert g is not None and g["kind"] == "different_firms"
    [plan] = g["plans"]
    assert plan["plan"] == "small"
    assert {x["key"] for x in plan["differences"]} == {"org.sales_reps", "org.ops_staff"}
    text = guardrail_text(g)
    assert "do not face the same customers" in text
    assert "12 sales reps (against 40)" in text and "5 operations staff (against 30)" in text
    assert "org." not in text  # board language: no dotted keys


def test_a_different_market_triggers() -> None:
    configs = {"today": _config(), "other": _config(market__deal_value=60000.0)}
    g = firm_differences(configs, "today")
    assert g is not None and g["plans"][0]["differences"][0]["key"] == "market.deal_value"
    assert "60,000 (against 40,000)" in guardrail_text(g)


def test_the_same_firm_with_other_levers_does_not_trigger() -> None:
    other = _config()
    other["incentives"]["weights"] = {"individual": 0.4, "team": 0.3, "company": 0.2,
                                      "silo_buster": 0.1}  # fmt: skip
    other["org"]["rep_salary"] = 90000.0  # pay is a lever, not the customers
    assert firm_differences({"today": _config(), "plan": other}, "today") is None


def test_sweep_axes_on_the_firm_or_market_trigger_and_others_do_not() -> None:
    g = sweep_firm_axes(["org.sales_reps", "incentives.weights.team"])
    assert g is not None and g["keys"] == ["org.sales_reps"]
    assert "the sweep changes the sales reps" in guardrail_text(g)
    assert sweep_firm_axes(["market.leads_per_rep_day"]) is not None
    assert sweep_firm_axes(["incentives.weights.team", "structure.team_size"]) is None
    assert sweep_firm_axes(["market.gross_margin"]) is None  # what a customer is worth


#: The keys that decide which customers a firm meets (its size and market; not its margin).
FIRM_AND_MARKET = [
    r
    for r in lever_table()
    if r["key"] in FIRM_KEYS
    or (r["key"].startswith("market.") and r["key"].split(".")[1] not in NOT_CUSTOMERS)
]


@pytest.mark.parametrize("row", FIRM_AND_MARKET, ids=lambda r: r["key"])
def test_a_firm_guardrail_names_each_setting_by_its_human_name(row: dict) -> None:
    """Whatever firm or market key a sweep varies or two plans differ on, the sentence names it
    by the short human name the assumptions table shows, never by its key."""
    key, name = row["key"], row["name"].lower()
    swept = guardrail_text(sweep_firm_axes([key]))
    value = (row["default"] or 0) * 2 + 1  # another value than the default
    plans = firm_differences({"a": _config(), "b": _config(**{key.replace(".", "__"): value})}, "a")
    assert plans is not None
    for text in (swept, guardrail_text(plans)):
        assert name in text.lower(), (key, text)
        assert key not in text and key.split(".")[1] not in text, (key, text)


# --------------------------------------------------------------------------------------------
# Today's plan outside the calibration bands, friction above payroll
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kpi", list(CALIBRATION_BANDS))
def test_a_kpi_outside_its_band_triggers_and_inside_does_not(kpi: str) -> None:
    low, high = CALIBRATION_BANDS[kpi]
    for value in (low - 0.01, high + 0.01):
        [g] = calibration({**IN_BAND, kpi: value}, "today")
        assert g["kpi"] == kpi and g["value"] == value
        assert f"outside the {low * 100:.0f}-{high * 100:.0f}% band" in guardrail_text(g)
    for value in (low, (low + high) / 2, high, math.nan):
        assert calibration({**IN_BAND, kpi: value}, "today") == []


def test_the_small_firms_churn_is_flagged() -> None:
    [g] = calibration({**IN_BAND, "handover_churn": 0.316}, "baseline")
    assert guardrail_text(g).startswith("Under baseline, churn at handover is 31.6%, outside")


def test_friction_far_above_payroll_triggers_and_near_it_does_not() -> None:
    means = {"cost_of_friction": 4.35e6, "payroll_cost": 1.78e6}  # the small firm: 2.4 times
    g = friction_over_payroll(means, _config(), "baseline")
    assert g is not None and g["cost"] / g["payroll"] == pytest.approx(2.44, abs=0.01)
    assert "2.4 times the payroll" in guardrail_text(g)
    calibrated = {"cost_of_friction": 8.87e6, "payroll_cost": 7.15e6}  # the default: 1.2 times
    assert friction_over_payroll(calibrated, _config(), "baseline") is None
    at_limit = {"cost_of_friction": FRICTION_PAYROLL_LIMIT * 1e6, "payroll_cost": 1e6}
    assert friction_over_payroll(at_limit, _config(), "baseline") is None


def test_payroll_comes_from_the_scenario_when_the_runs_lack_it() -> None:
    config = _config(org__sales_reps=12, org__ops_staff=5)
    payroll = loaded_payroll(config)
    assert payroll == pytest.approx((12 * 85_000 + 5 * 70_000) * 1.3)
    g = friction_over_payroll({"cost_of_friction": 2.5 * payroll}, config, "small")
    assert g is not None and g["payroll"] == pytest.approx(payroll)
    assert friction_over_payroll({"cost_of_friction": 1.5 * payroll}, config, "small") is None


# --------------------------------------------------------------------------------------------
# Few replications; the best of many
# --------------------------------------------------------------------------------------------


def test_few_replications_trigger_below_the_minimum_only() -> None:
    g = few_replications(MIN_REPLICATIONS - 2)
    assert g is not None and "Only 3 replications per plan, fewer than 5" in guardrail_text(g)
    assert "--" not in guardrail_text(g)  # board language: no command options
    assert few_replications(MIN_REPLICATIONS) is None and few_replications(30) is None


def test_a_best_picked_from_many_triggers_and_from_two_does_not() -> None:
    g = best_of_k(70, 3)
    assert g is not None and g["comparisons"] == 69 and g["adjusted"]
    assert "picked from 70" in guardrail_text(g) and "widened" in guardrail_text(g)
    assert best_of_k(2, 3) is None


def test_check_plans_gathers_every_guardrail_in_order() -> None:
    configs = {"big": _config(), "small": _config(org__sales_reps=12)}
    means = {**IN_BAND, "handover_churn": 0.31, "cost_of_friction": 20e6}
    kinds = [g["kind"] for g in check_plans(configs, "big", means, 3)]
    assert kinds == ["different_firms", "calibration", "friction_over_payroll",
                     "few_replications"]  # fmt: skip
    assert check_plans({"a": _config(), "b": _config()}, "a", IN_BAND, 10) == []


def test_the_picked_interval_is_the_bonferroni_interval_and_contains_the_plain_one() -> None:
    rng = np.random.default_rng(4)
    base = rng.normal(0, 1, 6)
    other = base + 0.5 + rng.normal(0, 0.3, 6)
    plain = paired_difference(base, other, "higher")
    picked = picked_difference(base, other, "higher", picked_of=70)
    d = other - base
    t = stats.t.ppf(1 - (1 - bonferroni_confidence(69)) / 2, len(d) - 1)
    half = t * d.std(ddof=1) / math.sqrt(len(d))
    assert picked["ci_low"] == pytest.approx(d.mean() - half)
    assert picked["ci_high"] == pytest.approx(d.mean() + half)
    assert picked["ci_low"] <= plain["ci_low"] and plain["ci_high"] <= picked["ci_high"]
    assert picked["p_better"] <= plain["p_better"]
    two = picked_difference(base, other, "higher", picked_of=2)
    assert two["ci_low"] == pytest.approx(plain["ci_low"])
    assert two["p_better"] == pytest.approx(plain["p_better"])


def test_the_best_of_70_noise_designs_at_3_replications_is_not_called_better() -> None:
    """70 designs with no true effect, 3 replications each: unadjusted, the best one usually
    reads "better" (at least 80%) and sometimes "almost certainly better"; allowing for the
    pick, it almost never does, and never "almost certainly"."""
    plain_better = picked_better = 0
    for seed in range(40):
        rng = np.random.default_rng(seed)
        shared = rng.normal(0, 1, 3)  # common random numbers
        designs = shared + rng.normal(0, 0.2, (70, 3))
        best = int(designs.mean(axis=1).argmax())
        plain = paired_difference(designs[0], designs[best], "higher")
        picked = picked_difference(designs[0], designs[best], "higher", picked_of=70)
        plain_better += certainty(plain["p_better"])[1] == "better"
        picked_better += certainty(picked["p_better"])[1] == "better"
        assert certainty(picked["p_better"])[0] != "almost certainly", seed
        assert "Almost certainly better" not in verdict("throughput", picked, "today", "best")
    assert plain_better >= 20  # the pick flatters: without the adjustment most read "better"
    assert picked_better <= 4  # Bonferroni: under 20% of noise picks at the 80% word, expected


# --------------------------------------------------------------------------------------------
# Terminal and pack
# --------------------------------------------------------------------------------------------

TINY = """\
    name: {name}
    horizon_days: 30
    warmup_days: 5
    org: {{sales_reps: {reps}, ops_staff: {ops}}}
    structure: {{team_size: 5}}
"""


def _scenario(folder: Path, name: str, reps: int, ops: int) -> Path:
    path = folder / f"{name}.yaml"
    text = textwrap.dedent(TINY).format(name=name, reps=reps, ops=ops)
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.needs_model
def test_compare_of_different_firms_says_the_customers_differ(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    big, small = _scenario(tmp_path, "big", 14, 10), _scenario(tmp_path, "small", 6, 4)
    out = tmp_path / "cmp"
    argv = ["compare", str(big), str(small), "--reps", "3", "--workers", "1", "--out", str(out)]
    assert cli.main(argv) == cli.EXIT_OK
    text = capsys.readouterr().out
    flat = " ".join(text.split())
    assert "Read with care:" in text
    # the plans by their labels (the names in plain words)
    assert "The plans do not face the same customers: against Big, Small has 6 sales reps" in flat
    assert "faces the same customers" not in flat
    assert "Only 3 replications per plan" in flat
    report = tmp_path / "pack"
    assert cli.main(["report", str(out), "--out", str(report), "--format", "html"]) == 0
    capsys.readouterr()
    index = json.loads((report / "report.json").read_text(encoding="utf-8"))
    assert [g["kind"] for g in index["guardrails"]][:1] == ["different_firms"]
    care = next(item for item in index["summary"] if item["text"] == "Read with care")
    assert index["summary"].index(care) <= 1  # near the top: right after the bottom line
    assert any("do not face the same customers" in p for p in care["points"])
    html = (report / "report.html").read_text(encoding="utf-8")
    assert "Read with care" in html and "every plan on the same simulated customers" not in html


@pytest.mark.needs_model
def test_compare_of_the_same_firm_has_no_firm_guardrail(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    a, b = _scenario(tmp_path, "a", 6, 4), _scenario(tmp_path, "b", 6, 4)
    out = tmp_path / "cmp"
    argv = ["compare", str(a), str(b), "--reps", "5", "--workers", "1", "--out", str(out)]
    assert cli.main([*argv, "--json"]) == cli.EXIT_OK
    result = json.loads(capsys.readouterr().out)
    assert "different_firms" not in [g["kind"] for g in result["guardrails"]]
    assert "few_replications" not in [g["kind"] for g in result["guardrails"]]
    assert cli.main(argv) == cli.EXIT_OK
    text = capsys.readouterr().out
    assert " ".join(text.split()).startswith(result["bottom_line"])
    assert "every scenario faces the same customers" in " ".join(text.split())


@pytest.mark.needs_model
def test_a_sweep_widens_its_best_for_the_pick_in_the_terminal_and_the_pack(
    tiny_sweep: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "sweep"
    assert cli.main(["sweep", str(tiny_sweep), "--workers", "1", "--out", str(out)]) == 0
    text = " ".join(capsys.readouterr().out.split())
    first = text.split(" Read with care: ")[0]
    assert first.startswith(("Picked as the best of 20 designs,", "Keep ")), first
    assert "The best design was picked from 20 after the runs" in text
    assert "Only 2 replications per plan" in text
    report = tmp_path / "pack"
    assert cli.main(["report", str(out), "--out", str(report), "--format", "html"]) == 0
    capsys.readouterr()
    index = json.loads((report / "report.json").read_text(encoding="utf-8"))
    assert {"best_of_k", "few_replications"} <= {g["kind"] for g in index["guardrails"]}
    assert index["summary"][0]["text"] == index["bottom_line"]
    paired = [t for item in index["summary"] for t in [item["text"]] if "On the same" in t]
    assert paired, "the sweep summary compares each KPI's best design with today's plan"
    for t in paired:
        if "it is unchanged at" in t:  # the same value as today's plan: nothing to widen
            continue
        assert "widened for picking the best of 20 designs" in t
        assert "chance)" not in t  # no unadjusted chance for a design picked after the runs
