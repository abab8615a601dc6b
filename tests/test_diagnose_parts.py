"""`friction diagnose` splits bundled levers into their parts and rolls each out on a stated day.

The playbook packages some levers from separate changes (the Minimum Viable Handoff is a gate,
red flags and a CRM trigger); a diagnosis tests each part alone beside the bundle, so it shows
which part earns the effect. Every lever is rolled out as an intervention on the roll-out day of
a run one horizon longer, so transition costs (squads' reorganisation dip) fall in the measured
year after roll-out.
"""

from __future__ import annotations

import json
import math
import textwrap
from pathlib import Path

import numpy as np
import pytest
from conftest import TINY_SCENARIO

from simulation.analysis.compare import paired_difference
from simulation.analysis.diagnosis import (
    LONGEST_HORIZON,
    MARK_LABEL,
    DiagnoseError,
    check_rollout_day,
    plan_diagnosis,
    rolled_out,
)
from simulation.analysis.results import load_results
from simulation.cli import main as cli
from simulation.cli.main import render_diagnosis
from simulation.experiments import diagnose
from simulation.model.metrics import AFTER_ROLLOUT as AFTER
from simulation.model.metrics import KPIS, compute_kpis
from simulation.scenario.config import get_dotted, same_value, with_changes
from simulation.scenario.levers import (
    CURRENT,
    DEFAULT_LEVER_SET,
    DEFAULT_ROLLOUT_DAY,
    LEVER_BY_KEY,
    LEVER_SETS,
    LEVERS,
    PARTS,
    in_place,
    intervention_notes,
    lever_set,
    state_on,
)
from simulation.scenario.loader import load_scenario

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"
BUNDLES = [lv for lv in LEVERS if lv.parts]
#: A small firm (12 reps, 5 ops) over a short horizon: quick to run, every lever applies.
SMALL = {
    "name": "small",
    "horizon_days": 40,
    "warmup_days": 10,
    "org": {"sales_reps": 12, "ops_staff": 5},
    "structure": {"team_size": 5},
}


# --------------------------------------------------------------------------------------------
# The data: bundles and parts (pure)
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("part", [p for p in PARTS if p.bundle], ids=lambda p: p.key)
def test_each_part_is_a_subset_of_its_bundle(part):
    bundle = LEVER_BY_KEY[part.bundle]
    assert part.key in bundle.parts and part.kind == "part"
    assert part.changes, part.key
    for key, value in part.changes.items():
        assert key in bundle.changes, key
        assert same_value(bundle.changes[key], value), key


@pytest.mark.parametrize("bundle", BUNDLES, ids=lambda b: b.key)
def test_the_parts_of_a_bundle_together_are_the_bundle(bundle):
    together: dict = {}
    for key in bundle.parts:
        together.update(LEVER_BY_KEY[key].changes)
    assert together.keys() == bundle.changes.keys()
    assert all(same_value(together[k], v) for k, v in bundle.changes.items())
    # and each part leaves out something the bundle does: none is the whole bundle
    assert all(LEVER_BY_KEY[k].changes.keys() < bundle.changes.keys() for k in bundle.parts)


@pytest.mark.needs_model
@pytest.mark.parametrize("part", PARTS, ids=lambda p: p.key)
def test_each_part_alone_changes_only_its_own_keys(part):
    base = load_scenario(SCENARIOS / "baseline.yaml")
    alone = load_scenario(base, part.changes)
    changed = {k for k in part.changes if not same_value(get_dotted(base, k), part.changes[k])}
    assert changed, f"{part.key} changes nothing in the baseline"
    for lever in (*LEVERS, *PARTS):  # every other playbook key keeps the baseline's value
        for key in lever.changes:
            if key not in part.changes:
                assert same_value(get_dotted(alone, key), get_dotted(base, key)), key


def test_lever_sets_bundles_parts_and_all():
    assert LEVER_SETS["bundles"] == LEVERS
    parts = LEVER_SETS["parts"]
    assert not any(lv.parts for lv in parts)  # single changes only
    assert {lv.key for lv in parts} == {p.key for p in PARTS} | {
        lv.key for lv in LEVERS if not lv.parts
    }
    every = LEVER_SETS["all"]
    assert {lv.key for lv in every} == {lv.key for lv in LEVERS} | {lv.key for lv in parts}
    assert len({lv.key for lv in every}) == len(every) == 16
    assert "handoff_owner" in {lv.key for lv in parts} - {lv.key for lv in LEVERS}
    assert LEVER_BY_KEY["handoff_owner"].changes == {"handover.owner": True}
    assert DEFAULT_LEVER_SET == "all"
    with pytest.raises(ValueError, match="choose one of bundles, parts, all"):
        lever_set("some")


# --------------------------------------------------------------------------------------------
# Planning: roll-out day, horizon, the marker on current, notes (no model run)
# --------------------------------------------------------------------------------------------


def _sets(s) -> list[tuple[int, dict]]:
    return [(iv.day, dict(iv.set)) for iv in s.interventions]


def test_every_lever_is_rolled_out_alone_on_the_day_of_a_longer_run(tmp_path):
    start = load_scenario(SMALL)
    plan = plan_diagnosis(start, 2, 1, out=tmp_path / "d", rollout_day=15)
    assert [lv.key for lv in plan.levers] == [lv.key for lv in LEVER_SETS["all"]]
    assert plan.horizon_days == 55 and plan.window == (15, 55)
    points = plan.design.points
    assert [p.values["scenario"] for p in points] == [CURRENT, *(lv.key for lv in plan.levers)]
    for point, lever in zip(points[1:], plan.levers, strict=True):
        s = point.scenario
        assert s.horizon_days == 55 and s.warmup_days == start.warmup_days
        assert _sets(s) == [(15, lever.changes)]
        # before the roll-out day the variant is the current set-up
        assert s.model_dump(exclude={"horizon_days", "interventions"}) == start.model_dump(
            exclude={"horizon_days", "interventions"}
        )
    current = points[0].scenario
    ((day, marker),) = _sets(current)
    assert day == 15 and current.interventions[0].label == MARK_LABEL
    assert with_changes(current, marker) == with_changes(current, {})  # changes nothing


def test_the_default_roll_out_day_and_lever_set(tmp_path):
    plan = plan_diagnosis(load_scenario(SMALL), 2, 1, out=tmp_path / "d")
    assert plan.rollout_day == DEFAULT_ROLLOUT_DAY == 21
    assert plan.horizon_days == 21 + 40 and len(plan.levers) == 16
    bundles = plan_diagnosis(load_scenario(SMALL), 2, 1, out=tmp_path / "b", levers="bundles")
    assert [lv.key for lv in bundles.levers] == [lv.key for lv in LEVERS]
    assert bundles.design.config["diagnose"]["lever_set"] == "bundles"
    assert bundles.design.config["diagnose"]["rollout_day"] == 21


def test_the_estimator_prices_every_variant_over_the_longer_run(tmp_path):
    from argparse import Namespace

    from simulation.batch.estimate import RunSize, estimate

    start = load_scenario(SMALL)
    plan = plan_diagnosis(start, 3, 1, out=tmp_path / "d", rollout_day=30)
    est = estimate(cli.design_request(Namespace(workers=1), plan.design))
    assert est.runs == 3 * 17
    longer = RunSize.of(start.model_copy(update={"horizon_days": 70}))
    assert est.run_seconds == pytest.approx(longer.seconds, rel=1e-9)
    assert est.run_seconds > RunSize.of(start).seconds


def test_a_lever_the_scenario_brings_in_before_the_roll_out_day_is_in_place(tmp_path):
    playbook = load_scenario(SCENARIOS / "playbook.yaml")
    plan = plan_diagnosis(playbook, 2, 1, out=tmp_path / "p")  # day 21: channels came on day 20
    skipped = {lv.key for lv in plan.already_in_place}
    assert {"channel_strategy", "sla_channels", "decision_archive"} <= skipped
    assert "postmortems" in skipped  # the playbook has them from the start
    assert all(not in_place(playbook, LEVER_BY_KEY[k], 19) for k in ("sla_channels",))
    assert in_place(playbook, LEVER_BY_KEY["sla_channels"], 20)
    # the handover parts come on day 80: brought forward to day 21, in one note
    grouped = [n for n in plan.notes if "day 80" in n]
    assert len(grouped) == 1 and "each is brought forward" in grouped[0]
    for key in ("handover_gate", "gate", "red_flags", "auto_trigger", "handoff_owner"):
        assert LEVER_BY_KEY[key].label in grouped[0]
        assert plan.rollout_days[key] == 80
    assert plan.window == (20, 270)  # the playbook's own first step on day 20
    assert any("measured from day 20" in n for n in plan.notes)
    coaching = [n for n in plan.notes if n.startswith("Micro-coaching sessions")]
    assert coaching and "100 -> 21 (the roll-out day)" in coaching[0]


def test_a_later_roll_out_step_that_overrides_a_lever_is_noted(tmp_path):
    step = {"day": 30, "label": "back to chat", "set": {"comms.strategy": "chat_first"}}
    start = load_scenario({**SMALL, "interventions": [step]})
    notes = intervention_notes(start, [LEVER_BY_KEY["sla_channels"]], 15)
    assert len(notes) == 1
    assert "comms.strategy=chat_first on day 30 (back to chat)" in notes[0]
    assert "rolled out on day 15" in notes[0]
    assert intervention_notes(start, [LEVER_BY_KEY["sla_channels"]], 30) == []  # came before
    assert state_on(start, 30).comms.strategy == "chat_first"


def test_rollout_day_rules():
    assert check_rollout_day(0, 250) == 0
    assert check_rollout_day(LONGEST_HORIZON - 250, 250) == LONGEST_HORIZON - 250
    with pytest.raises(DiagnoseError, match=r"^rollout_day: must be a whole number .* got -1$"):
        check_rollout_day(-1, 250)
    with pytest.raises(DiagnoseError, match=r"choose 2250 or less$"):
        check_rollout_day(2251, 250)
    with pytest.raises(DiagnoseError, match=r"^levers: 'some' is not a set of levers"):
        plan_diagnosis(load_scenario(SMALL), 2, 1, levers="some")


# --------------------------------------------------------------------------------------------
# The model side: the marker changes nothing; the dip falls after the roll-out
# --------------------------------------------------------------------------------------------


def _run(s, seed):
    from simulation.model.model import FrictionModel

    return FrictionModel(s, rng=seed).run()


@pytest.mark.needs_model
def test_current_with_its_marker_runs_exactly_as_without_it(tmp_path):
    start = load_scenario(SMALL)
    plan = plan_diagnosis(start, 2, 1, out=tmp_path / "d", rollout_day=15)
    marked = plan.design.points[0].scenario
    plain = start.model_copy(update={"horizon_days": 55})
    for seed in (3, 4):
        a, b = _run(marked, seed), _run(plain, seed)
        assert a.datacollector.model_vars["loss_share_today"] == pytest.approx(
            b.datacollector.model_vars["loss_share_today"], rel=0, abs=0
        )
        for k in KPIS:
            assert a.kpis[k] == pytest.approx(b.kpis[k], rel=0, abs=0, nan_ok=True), k


@pytest.mark.needs_model
def test_a_lever_changes_nothing_before_its_roll_out_day(tmp_path):
    plan = plan_diagnosis(load_scenario(SMALL), 2, 1, out=tmp_path / "d", rollout_day=15)
    current = _run(plan.design.points[0].scenario, 7).datacollector.model_vars
    for point in plan.design.points[1:4]:
        series = _run(point.scenario, 7).datacollector.model_vars
        days = np.array(series["day"])
        before, after = days < 15, days >= 15
        for name in ("loss_share_today", "handover_backlog", "activated_today"):
            a, b = np.array(series[name]), np.array(current[name])
            assert np.array_equal(a[before], b[before]), (point.values, name)
        loss = np.array(series["loss_share_today"])
        assert not np.array_equal(loss[after], np.array(current["loss_share_today"])[after])


@pytest.mark.needs_model
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_squads_rolled_out_pay_their_dip_inside_the_year_after(seed):
    squads = LEVER_BY_KEY["squads"]
    start = load_scenario(SMALL)
    day = 15
    rolled = rolled_out(start, squads.changes, day, squads.label)
    from_start = load_scenario(start.model_copy(update={"horizon_days": 55}), squads.changes)
    dip = slice(day, day + start.structure.transition_days)  # measured days of the dip
    a, b = _run(rolled, seed), _run(from_start, seed)
    loss = {}
    for name, m in (("rolled", a), ("from_start", b)):
        v = m.datacollector.model_vars
        days = np.array(v["day"])
        share = np.array(v["loss_share_today"])
        loss[name] = share[(days >= dip.start) & (days < dip.stop)].mean()
    # the reorganisation's coordination hours make the roll-out's first weeks cost more
    assert loss["rolled"] > loss["from_start"] + 0.02
    # and they are inside the measured year after roll-out, the window the ranking uses
    year_after = a.kpis_after_rollout
    same_days = compute_kpis(b, day, 55)
    assert year_after == pytest.approx(compute_kpis(a, day, 55), rel=1e-12, nan_ok=True)
    assert year_after["coordination_hours_share"] > same_days["coordination_hours_share"] + 0.005


# --------------------------------------------------------------------------------------------
# A real (small) diagnosis: part rows, bundle rows, windows, JSON
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def small(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("scen") / "small.yaml"
    path.write_text(json.dumps(SMALL), encoding="utf-8")  # JSON is YAML
    return path


@pytest.fixture(scope="module")
def small_diagnosis(small, tmp_path_factory) -> dict:
    return diagnose(small, reps=3, seed=2, out=tmp_path_factory.mktemp("d") / "d", rollout_day=15)


@pytest.mark.needs_model
def test_a_small_firm_diagnosis_shows_part_rows_and_bundle_rows(small_diagnosis):
    d = small_diagnosis
    kinds = {lv["lever"]: lv["kind"] for lv in d["levers"]}
    assert {k for k, v in kinds.items() if v == "bundle"} == {lv.key for lv in BUNDLES}
    assert {k for k, v in kinds.items() if v == "part"} == {p.key for p in PARTS if p.bundle}
    for kpi, ranked in d["rankings"].items():
        assert {r["lever"] for r in ranked} == set(kinds), kpi
    assert d["bundles"] == {b.key: list(b.parts) for b in BUNDLES}
    assert d["lever_set"] == "all"
    assert d["rollout"]["day"] == 15 and d["rollout"]["horizon_days"] == 55
    text = render_diagnosis(d)
    assert "rolled out alone on day 15 of a 55-day run" in " ".join(text.split())
    assert " part " in text and " bundle " in text
    assert "Bundles and the parts tested alone:" in text
    assert all(len(line) <= 100 for line in text.splitlines())
    saved = json.loads((Path(d["results"]) / "diagnosis.json").read_text())
    assert saved == json.loads(cli.dump_json(d))


@pytest.mark.needs_model
def test_whole_run_rankings_are_paired_differences_over_the_whole_run(small_diagnosis):
    d = small_diagnosis
    results = load_results(d["results"])
    labels = results.labels
    for kpi in ("throughput", "cost_of_friction"):
        table = results.values(kpi)
        for r in d["whole_run"]["rankings"][kpi]:
            p = labels.index(r["lever"])
            expected = paired_difference(table[0].to_numpy(), table[p].to_numpy(),
                                         KPIS[kpi].better)  # fmt: skip
            assert r["diff"] == pytest.approx(expected["diff"], rel=1e-12, nan_ok=True)
    assert d["whole_run"]["current"]["throughput"] == pytest.approx(
        float(results.values("throughput")[0].mean()), rel=1e-12
    )


@pytest.mark.needs_model
def test_the_decision_ranks_on_the_year_after_roll_out(small_diagnosis):
    d = small_diagnosis
    after = d["rollout"]["after_rollout_kpis"]
    results = load_results(d["results"])
    labels = results.labels
    if not after:  # the model gives no window figures: the whole run decides, and says so
        assert d["rollout"]["ranked_on"] == "whole_run"
        assert any("no figures for the year after roll-out" in n for n in d["notes"])
        assert d["rankings"] == d["whole_run"]["rankings"]
        return
    assert d["rollout"]["ranked_on"] == "after_rollout"
    for kpi in after:
        table = results.values(AFTER + kpi)
        for r in d["rankings"][kpi]:
            p = labels.index(r["lever"])
            expected = paired_difference(table[0].to_numpy(), table[p].to_numpy(),
                                         KPIS[kpi].better)  # fmt: skip
            assert r["diff"] == pytest.approx(expected["diff"], rel=1e-12, nan_ok=True)
        assert d["current"][kpi] == pytest.approx(float(table[0].mean()), rel=1e-12)
    # the days before the roll-out are alike in every variant, so the whole run dilutes
    kpi = d["rank_by"]
    whole = {r["lever"]: r["diff"] for r in d["whole_run"]["rankings"][kpi]}
    assert any(not math.isclose(r["diff"], whole[r["lever"]]) for r in d["rankings"][kpi])


# --------------------------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("-3", "argument --rollout-day: must be at least 0, got -3"),
        ("soon", "argument --rollout-day: expected an integer, got 'soon'"),
        ("2300", "--rollout-day: day 2300 plus the scenario's horizon of 250 days is more than"),
    ],
)
def test_cli_bad_rollout_day_is_one_line_exit_2(value, message, tmp_path, capsys):
    out = tmp_path / "x"
    code = cli.main(["diagnose", str(SCENARIOS / "baseline.yaml"), "--rollout-day", value,
                     "--out", str(out)])  # fmt: skip
    _, err = capsys.readouterr()
    assert code == cli.EXIT_USAGE
    assert message in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1
    assert not out.exists()


def test_cli_bad_levers_is_one_line_exit_2(tmp_path, capsys):
    code = cli.main(["diagnose", str(SCENARIOS / "baseline.yaml"), "--levers", "some",
                     "--out", str(tmp_path / "x")])  # fmt: skip
    _, err = capsys.readouterr()
    assert code == cli.EXIT_USAGE and "--levers" in err and "'some'" in err
    assert len(err.strip().splitlines()) == 1


@pytest.mark.needs_model
def test_cli_levers_and_rollout_day(tmp_path, capsys):
    tiny = tmp_path / "tiny.yaml"
    tiny.write_text(textwrap.dedent(TINY_SCENARIO), encoding="utf-8")
    out = tmp_path / "d"
    code = cli.main(["diagnose", str(tiny), "--reps", "2", "--workers", "1", "--levers", "parts",
                     "--rollout-day", "5", "--json", "--out", str(out)])  # fmt: skip
    stdout, err = capsys.readouterr()
    assert code == cli.EXIT_OK, err
    d = json.loads(stdout)
    assert [lv["lever"] for lv in d["levers"]] == [lv.key for lv in LEVER_SETS["parts"]]
    assert d["rollout"]["day"] == 5 and d["rollout"]["horizon_days"] == 35
    assert d["lever_set"] == "parts" and d["bundles"] == {}
