"""`friction diagnose`: each playbook lever alone on common random numbers, ranked, in words."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest
from conftest import TINY_SCENARIO

from simulation.analysis.compare import format_kpi_value, paired_difference
from simulation.analysis.diagnosis import (
    count_wins,
    effects_frame,
    plan_diagnosis,
    rank_levers,
    summarise_diagnosis,
)
from simulation.analysis.results import load_results, paired_differences
from simulation.cli import main as cli
from simulation.cli.main import render_diagnosis
from simulation.experiments import diagnose
from simulation.model.metrics import AFTER_ROLLOUT, KPIS
from simulation.scenario.levers import CURRENT, LEVER_BY_KEY, LEVER_SETS, LEVERS
from simulation.scenario.loader import load_scenario

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"

pytestmark = pytest.mark.needs_model


def _comparable(s) -> dict:
    data = s.model_dump(mode="json")
    data.pop("name")
    data.pop("label")
    data.pop("description")
    return data


@pytest.mark.parametrize("lever", LEVERS, ids=lambda lv: lv.key)
def test_each_lever_equals_its_bundled_scenario_file(lever):
    base = load_scenario(SCENARIOS / "baseline.yaml")
    from_lever = load_scenario(base, lever.changes)
    from_file = load_scenario(SCENARIOS / lever.source)
    assert _comparable(from_lever) == _comparable(from_file)
    assert _comparable(from_lever) != _comparable(base)


def test_the_six_levers_cover_the_six_single_lever_files():
    assert len({lv.key for lv in LEVERS}) == len(LEVERS) == 6
    assert {lv.source for lv in LEVERS} == {
        "blended_40_30_20_10.yaml",
        "squads.yaml",
        "mvh.yaml",
        "channel_sla.yaml",
        "translation.yaml",
        "micro_coaching.yaml",
    }


# --------------------------------------------------------------------------------------------
# A real (tiny) diagnosis, shared by the tests below
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> Path:
    import textwrap

    folder = tmp_path_factory.mktemp("scen")
    path = folder / "tiny.yaml"
    path.write_text(textwrap.dedent(TINY_SCENARIO), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def diagnosis(tiny, tmp_path_factory) -> dict:
    out = tmp_path_factory.mktemp("diag") / "d"
    return diagnose(tiny, reps=4, seed=5, out=out)


def test_every_lever_runs_on_the_same_seeds_as_current(diagnosis):
    runs = pq.read_table(Path(diagnosis["results"]) / "runs.parquet").to_pandas()
    tested = [CURRENT, *(lv.key for lv in LEVER_SETS["all"])]
    assert sorted(runs["scenario"].unique()) == sorted(tested)
    seeds = runs.pivot(index="replication", columns="scenario", values="seed")
    assert len(seeds) == 4
    for label in seeds.columns:
        assert seeds[label].tolist() == seeds[CURRENT].tolist()
    assert seeds[CURRENT].nunique() == 4


def _paired(results, prefix: str) -> pd.DataFrame:
    """Paired differences from current of ``prefix + kpi``, as ``paired_differences`` gives
    them for the whole run."""
    if not prefix:
        return paired_differences(results, reference=0)
    rows = []
    for kpi in KPIS:
        table = results.values(prefix + kpi)
        for p in table.columns[1:]:
            d = paired_difference(table[0].to_numpy(), table[p].to_numpy(), KPIS[kpi].better)
            rows.append({"label": results.labels[p], "kpi": kpi, **d})
    return pd.DataFrame(rows)


@pytest.mark.parametrize("window", ["after_rollout", "whole_run"])
def test_rankings_follow_the_paired_differences(diagnosis, window):
    results = load_results(diagnosis["results"])
    assert diagnosis["rollout"]["ranked_on"] == "after_rollout"
    frame = _paired(results, AFTER_ROLLOUT if window == "after_rollout" else "")
    rankings = diagnosis["rankings"] if window == "after_rollout" else (
        diagnosis["whole_run"]["rankings"])  # fmt: skip
    for kpi, ranked in rankings.items():
        rows = frame[frame["kpi"] == kpi]
        sign = 1 if KPIS[kpi].better == "higher" else -1
        gains = {r.label: sign * r.diff for r in rows.itertuples()}
        ordered = [r["lever"] for r in ranked]
        assert sorted(ordered) == sorted(gains)
        shown = [gains[k] for k in ordered]
        finite = [g for g in shown if not math.isnan(g)]
        assert finite == sorted(finite, reverse=True), kpi
        assert all(math.isnan(g) for g in shown[len(finite) :])  # undefined ones last
        for r in ranked:
            assert r["diff"] == pytest.approx(
                rows.set_index("label").at[r["lever"], "diff"], rel=1e-12, nan_ok=True
            )
            assert r["rank"] == ordered.index(r["lever"]) + 1
    top = diagnosis["rankings"][diagnosis["rank_by"]][0]
    assert diagnosis["top"]["lever"] == top["lever"]


def test_wins_count_replications_where_the_top_lever_was_best(diagnosis):
    results = load_results(diagnosis["results"])
    assert diagnosis["rank_by"] == "net_value"
    table = results.values(AFTER_ROLLOUT + "net_value")  # the year after roll-out decides
    labels = results.labels
    levers = table[[p for p in table.columns if labels[p] != CURRENT]]
    best = levers.max(axis=1)  # higher net value is better
    top_point = labels.index(diagnosis["top"]["lever"])
    expected = int((table[top_point] == best).sum())
    assert diagnosis["wins"]["by_lever"][diagnosis["top"]["lever"]] == expected
    assert diagnosis["wins"]["replications"] == 4


def test_verdict_states_the_top_effect_as_in_the_json(diagnosis):
    top = diagnosis["top"]
    kpi = KPIS[diagnosis["rank_by"]]
    size = format_kpi_value(kpi, abs(top["diff"]), diff=True).lstrip("+")
    assert size in diagnosis["verdict"]
    lo, hi = sorted(
        format_kpi_value(kpi, abs(v), diff=True, unit=False).lstrip("+")
        for v in (top["ci_low"], top["ci_high"])
    )
    assert lo in diagnosis["verdict"] and hi in diagnosis["verdict"]
    lever = LEVER_BY_KEY[top["lever"]]  # a part can lead
    assert diagnosis["verdict"].startswith(lever.action)


def test_diagnosis_json_is_saved_and_renders(diagnosis):
    saved = json.loads((Path(diagnosis["results"]) / "diagnosis.json").read_text())
    assert saved == json.loads(cli.dump_json(diagnosis))
    assert (Path(diagnosis["results"]) / "comparison.json").is_file()
    text = render_diagnosis(diagnosis)
    assert "In plain words:" in text and "Ranked by net value" in text
    assert all(len(line) <= 100 for line in text.splitlines())
    effects = effects_frame(diagnosis)
    assert list(effects.columns) == ["lever", "label", "kpi", "diff", "ci_low", "ci_high",
                                     "p_better"]  # fmt: skip
    assert len(effects) == len(LEVER_SETS["all"]) * len(KPIS)


def test_same_seed_same_diagnosis_other_seed_other_numbers(tiny, diagnosis, tmp_path):
    again = diagnose(tiny, reps=4, seed=5, out=tmp_path / "again")
    strip = lambda d: {k: v for k, v in json.loads(cli.dump_json(d)).items() if k != "results"}  # noqa: E731
    assert strip(again) == strip(diagnosis)
    other = diagnose(tiny, reps=4, seed=6, out=tmp_path / "other")
    assert other["current"] != diagnosis["current"]
    assert other["rankings"]["cost_of_friction"] != diagnosis["rankings"]["cost_of_friction"]


def test_a_lever_already_in_place_is_skipped_and_reported(tiny, tmp_path):
    path = tmp_path / "with_sla.yaml"
    path.write_text(
        f"extends: {tiny}\nname: with_sla\n"
        "comms: {strategy: channel_sla, sla_answer_days: 1.0}\ninfo: {decision_archive: true}\n",
        encoding="utf-8",
    )
    d = diagnose(path, reps=2, seed=1, out=tmp_path / "d")
    in_place = ["channel_strategy", "sla_channels", "decision_archive"]  # the bundle, its parts
    assert [x["lever"] for x in d["already_in_place"]] == in_place
    assert not set(in_place) & {x["lever"] for x in d["levers"]}
    assert all(r["lever"] not in in_place for r in d["rankings"]["throughput"])
    assert any("already in place" in n for n in d["notes"])
    assert "Already in place, so not tested: Channel strategy with SLAs" in d["verdict"]
    assert load_results(d["results"]).manifest["config"]["labels"] == [
        CURRENT,
        *(lv.key for lv in LEVER_SETS["all"] if lv.key not in in_place),
    ]


def test_interventions_that_touch_a_lever_are_noted(tiny, tmp_path):
    path = tmp_path / "phased.yaml"
    path.write_text(
        f"extends: {tiny}\nname: phased\ninterventions:\n"
        "  - day: 10\n    label: back to individual pay\n"
        "    set: {incentives.weights.individual: 1.0, incentives.weights.team: 0.0,"
        " incentives.weights.company: 0.0, incentives.weights.silo_buster: 0.0}\n"
        "  - day: 12\n    label: glossary\n    set: {info.glossary: true}\n",
        encoding="utf-8",
    )
    # rolled out on day 0, before the scenario's own steps
    plan = plan_diagnosis(path, 2, 1, out=tmp_path / "d", rollout_day=0, levers="bundles")
    assert len(plan.levers) == 6
    bonus = [n for n in plan.notes if n.startswith("Blended bonus")]
    assert len(bonus) == 1 and "day 10" in bonus[0] and "overriding" in bonus[0]
    glossary = [n for n in plan.notes if n.startswith("Translation")]
    assert len(glossary) == 1 and "day 12" in glossary[0] and "brought forward" in glossary[0]
    playbook = plan_diagnosis(SCENARIOS / "playbook.yaml", 2, 1, out=tmp_path / "p",
                              rollout_day=0, levers="bundles")  # fmt: skip
    assert sum("brought forward" in n for n in playbook.notes) == 5
    assert playbook.rollout_days == {"channel_strategy": 20, "translation": 40,
                                     "blended_bonus": 60, "handover_gate": 80, "squads": 100,
                                     "micro_coaching": 100}  # fmt: skip


# --------------------------------------------------------------------------------------------
# Ranking and verdict, pure
# --------------------------------------------------------------------------------------------


def _row(lever: str, kpi: str, diff: float, half: float, p: float, n: int = 10) -> dict:
    return dict(
        lever=lever, kpi=kpi, n=n, base_mean=100.0, mean=100.0 + diff, diff=diff,
        ci_low=diff - half, ci_high=diff + half, relative=diff / 100, p_better=p,
    )  # fmt: skip


def test_rank_levers_puts_the_good_direction_first_and_undefined_last():
    rows = [_row("a", "throughput", -1, 0.1, 0.0), _row("b", "throughput", 2, 0.1, 1.0),
            _row("c", "throughput", math.nan, math.nan, math.nan)]  # fmt: skip
    assert [r["lever"] for r in rank_levers(rows, "throughput")] == ["b", "a", "c"]
    rows = [_row("a", "handover_churn", -0.02, 0.01, 1.0),
            _row("b", "handover_churn", 0.01, 0.01, 0.0)]  # fmt: skip
    ranked = rank_levers(rows, "handover_churn")
    assert [r["lever"] for r in ranked] == ["a", "b"]
    assert ranked[0]["certainty"] == "almost certainly" and ranked[0]["direction"] == "better"


def test_count_wins_counts_ties_and_skips_undefined_replications():
    wins, n = count_wins({"a": [1, 2, 3, math.nan], "b": [2, 2, 1, 0]}, "lower")
    assert n == 3 and wins == {"a": 2, "b": 2}


def _synthetic(top_runner_gap: float, wobble: float, reps: int = 10) -> dict:
    """Three levers on ten replications: the first cuts cost by 300, the second by 300 less
    ``top_runner_gap``, the third raises it; ``wobble`` makes the first two swap places."""
    from simulation.analysis.compare import paired_difference

    levers = LEVERS[:3]
    base = [1000.0 + 37 * ((7 * i) % 5) for i in range(reps)]
    sway = [wobble if i % 2 else -wobble for i in range(reps)]
    values = {
        CURRENT: base,
        levers[0].key: [b - 300 + s for b, s in zip(base, sway, strict=True)],
        levers[1].key: [b - 300 + top_runner_gap - s for b, s in zip(base, sway, strict=True)],
        levers[2].key: [b + 100 + s / 10 for b, s in zip(base, sway, strict=True)],
    }
    rows = []
    for kpi in KPIS:
        for lv in levers:
            if kpi == "cost_of_friction":
                d = paired_difference(values[CURRENT], values[lv.key], "lower")
            else:
                d = _row(lv.key, kpi, 0.0, 0.0, 0.5)
            rows.append({**d, "lever": lv.key, "kpi": kpi})
    current = dict.fromkeys(KPIS, 1.0)
    return summarise_diagnosis(
        rows, values, "cost_of_friction", levers, current, {"scenario": "baseline"}
    )


def test_verdict_says_when_the_top_two_cannot_be_separated():
    d = _synthetic(top_runner_gap=2, wobble=20)
    assert d["top"]["direction"] == "better"
    assert d["runner_up"]["direction"] == "no clear difference"
    assert "cannot separate it from the runner-up" in d["verdict"]
    assert "today's set-up" in d["verdict"]
    assert ("replications might separate them" in d["verdict"]) or ("equally good" in d["verdict"])


def test_verdict_names_the_runner_up_when_the_order_is_clear():
    d = _synthetic(top_runner_gap=150, wobble=10)
    assert d["runner_up"]["direction"] == "better"
    assert "beats the runner-up, " in d["verdict"]
    assert f"in {d['wins']['by_lever'][d['top']['lever']]} of 10 replications" in d["verdict"]


def test_verdict_with_one_replication_says_it_cannot_tell():
    levers = LEVERS[:2]
    values = {CURRENT: [10.0], levers[0].key: [8.0], levers[1].key: [9.0]}
    rows = [
        {**_row(lv.key, kpi, values[lv.key][0] - 10, 0.0, math.nan, n=1), "kpi": kpi}
        for kpi in KPIS
        for lv in levers
    ]
    d = summarise_diagnosis(rows, values, "cost_of_friction", levers, dict.fromkeys(KPIS, 1.0))
    assert "cannot tell how sure" in d["verdict"]


def test_verdict_mentions_a_clear_trade_off_on_a_mission_kpi():
    levers = LEVERS[:2]
    values = {CURRENT: [10.0, 11.0, 12.0], levers[0].key: [5, 6, 7], levers[1].key: [9, 10, 11]}
    rows = []
    for kpi in KPIS:
        for lv in levers:
            if kpi == "cost_of_friction":
                diff = sum(values[lv.key]) / 3 - 11
                rows.append(_row(lv.key, kpi, diff, 0.5, 1.0))
            elif kpi == "throughput" and lv.key == levers[0].key:
                rows.append(_row(lv.key, kpi, -2.0, 0.5, 0.01))
            else:
                rows.append(_row(lv.key, kpi, 0.0, 0.0, 0.5))
    d = summarise_diagnosis(rows, values, "cost_of_friction", levers, dict.fromkeys(KPIS, 1.0))
    assert [t["kpi"] for t in d["trade_offs"]] == ["throughput"]
    # a fall in throughput is the price, named in the same sentence as the gain
    first = d["verdict"].split(". ")[0]
    assert "cuts the cost of friction" in first
    assert "at a price: throughput almost certainly falls by 2.00 activations/month" in first
    assert "at a price: throughput falls by 2.00 activations/month" in d["headline"]


# --------------------------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------------------------


def run_cli(argv: list[str]) -> int:
    return cli.main(argv)


def test_cli_unknown_rank_by_is_a_user_error(tiny, tmp_path, capsys):
    code = run_cli(["diagnose", str(tiny), "--rank-by", "profit", "--out", str(tmp_path / "x")])
    _, err = capsys.readouterr()
    assert code == cli.EXIT_USAGE
    assert "--rank-by" in err and "'profit' is not a KPI" in err and "cost_of_friction" in err
    assert "Traceback" not in err
    assert not (tmp_path / "x").exists()


def test_cli_missing_scenario_is_a_user_error(tmp_path, capsys):
    code = run_cli(["diagnose", str(tmp_path / "nope.yaml"), "--out", str(tmp_path / "x")])
    _, err = capsys.readouterr()
    assert code == cli.EXIT_USAGE
    assert "scenario file not found" in err and "Traceback" not in err


def test_cli_json_and_text(tiny, tmp_path, capsys):
    out = tmp_path / "d"
    argv = ["diagnose", str(tiny), "--reps", "2", "--seed", "3", "--workers", "1"]
    code = run_cli([*argv, "--json", "--rank-by", "productivity_loss", "--out", str(out)])
    stdout, err = capsys.readouterr()
    assert code == cli.EXIT_OK, err
    d = json.loads(stdout)
    assert d["rank_by"] == "productivity_loss" and d["replications"] == 2
    assert d == json.loads((out / "diagnosis.json").read_text())
    charts = pytest.importorskip("simulation.report.charts")
    if hasattr(charts, "tornado"):
        assert list(out.glob("*.png")) and list(out.glob("*.svg"))
    code = run_cli([*argv, "--out", str(out), "--resume"])
    stdout, err = capsys.readouterr()
    assert code == cli.EXIT_OK, err
    assert "In plain words:" in stdout and "Ranked by net value" in stdout
