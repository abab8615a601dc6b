"""Sweep files: axes, the bonus simplex, sampled designs, seeds, and rejection of bad files."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulation.batch.design import SweepError, load_sweep, run_seed, simplex_mixes, slug
from simulation.batch.runner import replication_seeds
from simulation.cli import main as cli

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"


def test_simplex_at_tenths_has_286_mixes_summing_to_one():
    mixes = simplex_mixes(0.1)
    assert len(mixes) == math.comb(13, 3) == 286
    assert all(abs(sum(m.values()) - 1) < 1e-12 for m in mixes)
    assert len({tuple(m.values()) for m in mixes}) == 286
    assert mixes[0] == {"individual": 1.0, "team": 0.0, "company": 0.0, "silo_buster": 0.0}
    assert {"individual": 0.4, "team": 0.3, "company": 0.2, "silo_buster": 0.1} in mixes


def test_simplex_subsets():
    faces = simplex_mixes(0.1, keep="faces")
    interior = simplex_mixes(0.1, keep="interior")
    assert len(interior) == math.comb(9, 3)  # every weight at least 0.1
    assert len(faces) + len(interior) == 286
    assert all(min(m.values()) == 0 for m in faces)
    no_sb = simplex_mixes(0.1, fix={"silo_buster": 0.0})
    assert len(no_sb) == math.comb(12, 2)  # the three-weight face
    assert all(m["silo_buster"] == 0 for m in no_sb)


@given(st.sampled_from([0.5, 0.25, 0.2, 0.1, 0.05]))
def test_simplex_size_is_the_lattice_count(step):
    n = round(1 / step)
    assert len(simplex_mixes(step)) == math.comb(n + 3, 3)


def test_bundled_sweeps_load(tmp_path):
    sizes = {}
    for path in sorted((SCENARIOS / "sweeps").glob("*.yaml")):
        design = load_sweep(path)
        sizes[path.stem] = (len(design.points), design.replications)
    assert sizes["bonus_simplex"] == (286, 10)
    assert {"team_size", "mvh_threshold", "channels"} <= set(sizes)


def test_grid_axes_are_crossed_and_columns_typed(tiny_sweep):
    design = load_sweep(tiny_sweep)
    assert len(design.points) == 2 * 10
    assert design.n_runs == 40
    assert design.columns[0] == "structure.team_size"
    assert design.points[0].values["structure.team_size"] == 4
    assert design.points[0].scenario.structure.team_size == 4
    assert design.points[-1].scenario.structure.team_size == 5


def test_sampled_design_is_seeded_and_inside_its_ranges(write_yaml):
    write_yaml("tiny.yaml", "name: tiny\n")
    text = """\
        name: s
        base: tiny.yaml
        replications: 1
        seed: {seed}
        axes:
          b:
            sample: {kind}
            n: 16
            ranges: {{behaviour.logit_beta: [1.0, 5.0], org.sales_reps: [20, 60]}}
    """
    for kind in ("lhs", "sobol"):
        a = load_sweep(write_yaml("a.yaml", text.format(seed=1, kind=kind)))
        b = load_sweep(write_yaml("b.yaml", text.format(seed=1, kind=kind)))
        c = load_sweep(write_yaml("c.yaml", text.format(seed=2, kind=kind)))
        va = [p.values for p in a.points]
        assert va == [p.values for p in b.points]
        assert va != [p.values for p in c.points]
        beta = np.array([v["behaviour.logit_beta"] for v in va])
        reps = [v["org.sales_reps"] for v in va]
        assert beta.min() >= 1 and beta.max() <= 5
        assert all(isinstance(r, int) and 20 <= r <= 60 for r in reps)
        # space filling: every quarter of the range holds points
        assert len(set(np.floor((beta - 1) / 1.0).astype(int))) == 4


def test_seeds_are_common_across_points_and_match_friction_run(tiny_sweep):
    design = load_sweep(tiny_sweep)
    reps = design.replications
    assert [design.seed_of(i) for i in range(reps)] == replication_seeds(design.seed, reps)
    # replication r of every point shares its seed (common random numbers)
    assert design.seed_of(0) == design.seed_of(reps) == design.seed_of(5 * reps)
    assert design.seed_of(1) != design.seed_of(0)
    # without common random numbers every run has its own stream
    assert run_seed(7, 4, 0, common=False) != run_seed(7, 6, 0, common=False)


def test_slug_keeps_names_safe():
    assert slug("Bonus mix: 40/30/20/10!") == "bonus-mix-40-30-20-10"
    assert slug("../../etc/passwd") == "etc-passwd"
    assert slug("///") == "unnamed-732c4e97"


# --- malformed files: rejected before any run, exit 2, field named ---------------------------

BAD = [
    ("replications: 0", "replications"),
    ("seed: -1", "seed"),
    ("colour: red", "colour: unknown key"),
    ("axes: {structure.team_sise: [4, 8]}", "structure.team_sise' is not a lever"),
    ("axes: {structure.team_size: [4, 99]}", "design point 1"),
    ("axes: {structure.team_size: []}", "axes.structure.team_size"),
    ("axes: {incentives.weights: {simplex: 0.3}}", "1/step must be a whole number"),
    ("axes: {structure.team_size: {simplex: 0.1}}", "only for 'incentives.weights'"),
    ("axes: {b: {sample: sobol, n: 10, ranges: {behaviour.logit_beta: [1, 2]}}}", "power of two"),
    ("axes: {b: {sample: lhs, n: 10, ranges: {behaviour.logit_beta: [2, 1]}}}", "low < high"),
    ("axes: {b: {sample: lhs, n: 4, ranges: {behaviour.logit_beta: [-5, 1]}}}", "logit_beta"),
    ("axes: {b: {sample: grid, n: 4}}", "axes.b.sample: Input should be 'lhs' or 'sobol'"),
    ("axes: {b: {grid: [1, 2]}}", "axes.b: expected a list"),
    ("axes: {b: {points: [{structure.team_size: 4}, {structure.kind: pod}]}}", "missing"),
    (
        "axes: {structure.team_size: [4], b: {points: [{structure.team_size: 5}]}}",
        "already set by axes.structure.team_size",
    ),
    ("axes: {incentives.weights.team: [0.5]}", "weights must sum to 1"),
    ("base: nowhere.yaml", "base: scenario file 'nowhere.yaml' not found"),
    ("axes: {incentives.weights: {simplex: 0.001}}", "more than the limit"),
]


@pytest.mark.parametrize(("change", "expected"), BAD)
def test_malformed_sweep_rejected_before_any_run(write_yaml, tmp_path, capsys, change, expected):
    write_yaml("tiny.yaml", "name: tiny\n")
    good = {
        "name": "n",
        "base": "tiny.yaml",
        "replications": "2",
        "seed": "1",
        "axes": "{structure.team_size: [4, 8]}",
    }
    key, _, value = change.partition(": ")
    good[key] = value
    path = write_yaml("sweep.yaml", "".join(f"{k}: {v}\n" for k, v in good.items()))
    with pytest.raises(SweepError, match=None) as info:
        load_sweep(path)
    assert expected in str(info.value)
    out = tmp_path / "out"
    code = cli.main(["sweep", str(path), "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("error: ") and expected in err
    assert "Traceback" not in err
    assert not out.exists()


def test_sweep_file_that_is_not_a_mapping(write_yaml, capsys):
    path = write_yaml("sweep.yaml", "- just\n- a list\n")
    assert cli.main(["sweep", str(path)]) == 2
    assert "must be a mapping" in capsys.readouterr().err


def test_missing_sweep_file(tmp_path, capsys):
    assert cli.main(["sweep", str(tmp_path / "none.yaml")]) == 2
    assert "none.yaml" in capsys.readouterr().err


@settings(max_examples=25, deadline=None)
@given(st.lists(st.integers(min_value=3, max_value=20), min_size=1, max_size=4, unique=True))
def test_any_valid_grid_gives_one_point_per_value(values):
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        (Path(d) / "b.yaml").write_text("name: b\n")
        (Path(d) / "s.yaml").write_text(
            f"name: s\nbase: b.yaml\nreplications: 3\nseed: 0\naxes:\n"
            f"  structure.team_size: {values}\n"
        )
        design = load_sweep(Path(d) / "s.yaml")
    assert [p.scenario.structure.team_size for p in design.points] == values
    assert design.n_runs == 3 * len(values)
    assert sorted({design.point_of(i) for i in range(design.n_runs)}) == [
        (p, r) for p in range(len(values)) for r in range(3)
    ]
