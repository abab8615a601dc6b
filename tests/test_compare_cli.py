"""`friction compare`: runs on common random numbers into a results folder, paired report."""

from __future__ import annotations

import json

import pyarrow.parquet as pq
import pytest
from conftest import TINY_BLENDED

from simulation.batch.runner import run_replications
from simulation.cli import main as cli

pytestmark = pytest.mark.needs_model


@pytest.fixture
def pair(write_yaml, tiny_sweep):
    """The tiny scenario and a 40/30/20/10 version of it."""
    return tiny_sweep.parent / "tiny.yaml", write_yaml("blended.yaml", TINY_BLENDED)


def test_compare_json_matches_the_stored_runs_and_friction_run(pair, tmp_path, capsys):
    from simulation.scenario.loader import load_scenario

    out = tmp_path / "cmp"
    code = cli.main(
        [
            "compare",
            *map(str, pair),
            "--reps",
            "4",
            "--seed",
            "5",
            "--json",
            "--out",
            str(out),
            "--workers",
            "1",
        ]
    )
    stdout, err = capsys.readouterr()
    assert code == 0, err
    result = json.loads(stdout)
    assert result["scenarios"] == ["tiny", "blended"] and result["replications"] == 4
    runs = pq.read_table(out / "runs.parquet").to_pandas()
    assert sorted(runs["scenario"].unique()) == ["blended", "tiny"]
    # the same seeds as `friction run --seed 5`: replication i of each scenario matches
    direct = run_replications(load_scenario(pair[1]), 4, 5)
    assert [r["throughput"] for r in direct["runs"]] == result["runs"]["blended"]["throughput"]
    assert result["seeds"] == [r["seed"] for r in direct["runs"]]
    tiny = runs[runs["scenario"] == "tiny"].sort_values("replication")
    blended = runs[runs["scenario"] == "blended"].sort_values("replication")
    diff = result["differences"]["blended"]["handover_churn"]
    expected = (blended["handover_churn"].to_numpy() - tiny["handover_churn"].to_numpy()).mean()
    assert diff["diff"] == pytest.approx(expected, rel=1e-12)
    assert len(result["verdicts"]["blended"]) == len(result["differences"]["blended"])
    saved = json.loads((out / "comparison.json").read_text())
    assert saved["differences"] == result["differences"]
    daily = pq.read_table(out / "daily.parquet")
    assert daily.num_rows == 8 * 35  # daily series are always kept for a comparison
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["kind"] == "compare" and manifest["design"]["columns"] == ["scenario"]


def test_compare_text_report(pair, tmp_path, capsys):
    code = cli.main(
        ["compare", *map(str, pair), "--reps", "3", "--out", str(tmp_path / "c"), "--workers", "1"]
    )
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "Blended against Tiny" in out  # the scenarios' labels
    assert "In plain words:" in out
    assert "- Churn at handover: " in out
    assert "95% interval" in out


def test_compare_needs_distinct_names(pair, tmp_path, capsys):
    code = cli.main(["compare", str(pair[0]), str(pair[0]), "--out", str(tmp_path / "c")])
    assert code == 2
    assert "names must differ" in capsys.readouterr().err
    assert not (tmp_path / "c").exists()


def test_compare_bad_override_is_a_user_error(pair, tmp_path, capsys):
    code = cli.main(
        [
            "compare",
            *map(str, pair),
            "--set",
            "incentives.weights.team=2",
            "--out",
            str(tmp_path / "c"),
        ]
    )
    err = capsys.readouterr().err
    assert code == 2 and "incentives.weights.team" in err and "Traceback" not in err


def test_python_compare_resume_starts_then_reuses(pair, tmp_path) -> None:
    """From Python, resume=True starts a missing folder and reuses a finished one; results
    from other inputs are refused with ResumeRefused, which names what changed."""
    from simulation.batch.store import ResumeRefused
    from simulation.experiments import compare

    paths = list(pair)
    out = tmp_path / "cmp"
    first = compare(paths, reps=2, seed=3, out=out, resume=True)
    again = compare(paths, reps=2, seed=3, out=out, resume=True)
    assert again["differences"] == first["differences"]
    with pytest.raises(ResumeRefused, match="changed"):
        compare(paths, reps=2, seed=4, out=out, resume=True)
