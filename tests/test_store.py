"""The results store and the sweep runner: layout, resume, refusal, failure isolation, identity
across executors, and killing a sweep with SIGKILL at several points."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from simulation.batch import execute, store
from simulation.batch.design import SweepError, load_sweep
from simulation.cli import main as cli
from simulation.model import metrics
from simulation.model.model import DAILY_SERIES

pytestmark = pytest.mark.needs_model
ROOT = Path(__file__).resolve().parents[1]


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _sweep(sweep: Path, out: Path, *extra: str) -> int:
    return cli.main(["sweep", str(sweep), "--out", str(out), "--workers", "1", *extra])


@pytest.fixture
def reference(tiny_sweep, tmp_path) -> Path:
    """The tiny sweep run once, uninterrupted, on one worker."""
    out = tmp_path / "reference"
    assert _sweep(tiny_sweep, out) == 0
    return out


def test_layout_and_contents(reference, tiny_sweep):
    manifest = json.loads((reference / "manifest.json").read_text())
    ledger = json.loads((reference / "ledger.json").read_text())
    assert manifest["kind"] == "sweep" and manifest["design"]["n_runs"] == 40
    assert manifest["seeds"]["root_entropy"] == 7
    assert manifest["code"]["source_hash"] and manifest["packages"]["mesa"].startswith("3.")
    assert manifest["config"]["spec"]["axes"]["structure.team_size"] == [4, 5]
    assert ledger == {**ledger, "n_runs": 40, "done": 40, "failed": 0, "complete": True}
    runs = pq.read_table(reference / "runs.parquet").to_pandas()
    assert list(runs["run_id"]) == list(range(40))
    assert {"structure.team_size", "incentives.weights.team", "seed", *metrics.KPIS} <= set(runs)
    assert set(metrics.payout_columns()) <= set(runs)
    assert set(metrics.stage_columns()) <= set(runs)
    assert (runs["end_to_end_wait_days"] >= 0).all()
    assert runs["structure.team_size"].dtype.kind == "i"
    points = pq.read_table(reference / "points.parquet").to_pandas()
    assert len(points) == 20 and (points["n"] == 2).all()
    first = runs[runs["point"] == 0]["throughput"]
    assert points.loc[0, "throughput_mean"] == pytest.approx(first.mean())
    assert not list(reference.rglob(f"*{store.TMP_MARK}*"))
    assert not (reference / "daily.parquet").exists()  # daily series only on request


def test_a_single_run_reproduces_its_row(reference, tiny_sweep):
    from simulation.batch.runner import run_record

    design = load_sweep(tiny_sweep)
    runs = pq.read_table(reference / "runs.parquet").to_pylist()
    row = runs[13]
    point = design.points[row["point"]]
    again = run_record(point.scenario, row["seed"])["values"]
    assert all(
        again[k] == row[k] or (again[k] != again[k] and row[k] != row[k]) for k in metrics.KPIS
    )


def test_existing_folder_needs_resume_and_resume_reuses(reference, tiny_sweep, capsys):
    before = _digest(reference / "runs.parquet")
    assert _sweep(tiny_sweep, reference) == 2
    err = capsys.readouterr().err
    assert "already holds the results of sweep 'tiny sweep' (complete)" in err
    assert "--resume" in err
    assert _sweep(tiny_sweep, reference, "--resume") == 0
    assert "This session ran 0 runs" in capsys.readouterr().out
    assert _digest(reference / "runs.parquet") == before


def test_resume_refused_when_the_sweep_changed(reference, tiny_sweep, capsys):
    tiny_sweep.write_text(tiny_sweep.read_text().replace("[4, 5]", "[4, 6]"))
    assert _sweep(tiny_sweep, reference, "--resume") == 2
    err = capsys.readouterr().err
    assert "changed: the sweep file or its base scenario" in err
    assert "spec.axes.structure.team_size: [4, 5] -> [4, 6]" in err


def test_resume_refused_when_the_base_scenario_changed(reference, tiny_sweep, capsys):
    base = tiny_sweep.parent / "tiny.yaml"
    base.write_text(base.read_text() + "market: {deal_value: 50000}\n")
    assert _sweep(tiny_sweep, reference, "--resume") == 2
    assert "base_scenario.market.deal_value: 40000.0 -> 50000.0" in capsys.readouterr().err


def test_resume_refused_when_options_or_code_changed(reference, tiny_sweep, capsys, monkeypatch):
    assert _sweep(tiny_sweep, reference, "--resume", "--reps", "3") == 2
    assert "spec.replications: 2 -> 3" in capsys.readouterr().err
    monkeypatch.setattr(store, "own_source", lambda: "0" * 16)  # the code loaded
    assert _sweep(tiny_sweep, reference, "--resume") == 2
    assert "the simulation code" in capsys.readouterr().err
    monkeypatch.undo()
    monkeypatch.setattr(store, "package_versions", lambda: {"numpy": "0.0", "mesa": "x"})
    assert _sweep(tiny_sweep, reference, "--resume") == 2
    err = capsys.readouterr().err
    assert "package numpy" in err and "package mesa" in err


def test_refuses_a_folder_that_is_not_a_results_folder(tiny_sweep, tmp_path, capsys):
    other = tmp_path / "notes"
    other.mkdir()
    (other / "todo.txt").write_text("keep me")
    assert _sweep(tiny_sweep, other) == 2
    assert "is not a results folder" in capsys.readouterr().err
    assert (other / "todo.txt").read_text() == "keep me"
    assert _sweep(tiny_sweep, tmp_path / "empty", "--resume") == 2
    assert "nothing to resume" in capsys.readouterr().err


def test_a_second_writer_is_locked_out(tiny_sweep, tmp_path):
    design = load_sweep(tiny_sweep)
    cols = metrics.result_columns()
    first = store.ResultsStore.open(tmp_path / "o", design, cols, DAILY_SERIES, resume=False)
    try:
        with pytest.raises(SweepError, match="another friction process is writing"):
            store.ResultsStore.open(tmp_path / "o", design, cols, DAILY_SERIES, resume=True)
    finally:
        first.close()


def test_failing_runs_are_isolated_recorded_and_rerun(
    tiny_sweep, reference, tmp_path, monkeypatch, capsys
):
    import simulation.batch.runner as runner

    real = runner.run_record
    design = load_sweep(tiny_sweep)
    bad_seed = design.seed_of(1)  # replication 1 of every point

    def flaky(scenario, seed, daily=False):
        if seed == bad_seed and scenario.structure.team_size == 5:
            raise RuntimeError("injected failure")
        return real(scenario, seed, daily)

    monkeypatch.setattr(runner, "run_record", flaky)
    out = tmp_path / "flaky"
    assert _sweep(tiny_sweep, out) == cli.EXIT_RUNS_FAILED
    text = capsys.readouterr().out
    assert "10 run(s) raised an error" in text
    failures = sorted((out / "failures").glob("run-*.txt"))
    assert len(failures) == 10
    assert "RuntimeError: injected failure" in failures[0].read_text()
    assert "seed" in failures[0].read_text()
    ledger = json.loads((out / "ledger.json").read_text())
    assert ledger["done"] == 30 and ledger["failed"] == 10 and not ledger["complete"]
    assert pq.read_table(out / "runs.parquet").num_rows == 30
    # once the cause is fixed, --resume runs only the failed runs and matches the reference
    monkeypatch.setattr(runner, "run_record", real)
    assert _sweep(tiny_sweep, out, "--resume") == 0
    assert "This session ran 10 runs" in capsys.readouterr().out
    assert not list((out / "failures").iterdir())
    assert _digest(out / "runs.parquet") == _digest(reference / "runs.parquet")


def test_one_two_workers_and_dask_give_identical_files(tiny_sweep, reference, tmp_path):
    pytest.importorskip("distributed")
    assert _sweep(tiny_sweep, tmp_path / "two", "--workers", "2") == 0
    assert (
        cli.main(
            [
                "sweep",
                str(tiny_sweep),
                "--out",
                str(tmp_path / "dask"),
                "--workers",
                "2",
                "--executor",
                "dask",
            ]
        )
        == 0
    )
    for name in ("runs.parquet", "points.parquet"):
        expected = _digest(reference / name)
        assert _digest(tmp_path / "two" / name) == expected
        assert _digest(tmp_path / "dask" / name) == expected


def test_dask_scheduler_address_unreachable(tiny_sweep, tmp_path, capsys):
    pytest.importorskip("distributed")
    code = cli.main(
        [
            "sweep",
            str(tiny_sweep),
            "--out",
            str(tmp_path / "o"),
            "--executor",
            "dask",
            "--address",
            "tcp://127.0.0.1:1",
        ]
    )
    assert code == 2
    assert "cannot reach a Dask scheduler at tcp://127.0.0.1:1" in capsys.readouterr().err


def test_daily_series_on_request(tiny_sweep, tmp_path):
    out = tmp_path / "daily"
    assert _sweep(tiny_sweep, out, "--daily") == 0
    daily = pq.read_table(out / "daily.parquet").to_pandas()
    assert len(daily) == 40 * 35  # 35 days (5 warm-up + 30 measured) per run
    assert list(daily.columns[:3]) == ["run_id", "point", "replication"]
    assert daily.groupby("run_id")["day"].apply(lambda d: list(d) == list(range(-5, 30))).all()


def test_chunks_do_not_depend_on_the_worker_count(tiny_sweep):
    design = load_sweep(tiny_sweep)
    tasks = list(execute.make_tasks(design, list(range(design.n_runs))))
    assert [i for t in tasks for i in t.run_ids] == list(range(40))
    assert all(set(t.scenarios) == set(t.points) for t in tasks)


# --- SIGKILL at several points, then --resume --------------------------------------------


def _start(sweep: Path, out: Path, workers: int) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "simulation",
            "sweep",
            str(sweep),
            "--out",
            str(out),
            "--workers",
            str(workers),
        ],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # its own process group: the kill takes the workers too
    )


def _parts(out: Path) -> int:
    folder = out / "parts"
    return len(list(folder.glob("runs-*.parquet"))) if folder.exists() else 0


@pytest.mark.parametrize(
    ("workers", "kill_after", "whole_group"),
    [(1, 0, True), (1, 3, True), (2, 15, True), (2, 10, False), (1, 39, True)],
)
def test_sigkill_then_resume_gives_the_uninterrupted_result(
    tiny_sweep, reference, tmp_path, workers, kill_after, whole_group
):
    """Kill the sweep (with its workers, or the coordinator alone) and resume at once."""
    out = tmp_path / "killed"
    proc = _start(tiny_sweep, out, workers)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        if (out / "manifest.json").exists() and _parts(out) >= kill_after:
            break
        time.sleep(0.005)
    finished = proc.poll() is not None
    if whole_group:
        os.killpg(proc.pid, signal.SIGKILL)
    else:
        os.kill(proc.pid, signal.SIGKILL)  # its workers exit on their own (test_attack_execute)
    proc.wait()
    assert finished or (out / "manifest.json").exists()
    saved = _parts(out)
    code = cli.main(["sweep", str(tiny_sweep), "--out", str(out), "--workers", "1", "--resume"])
    assert code == 0
    assert _digest(out / "runs.parquet") == _digest(reference / "runs.parquet")
    ledger = json.loads((out / "ledger.json").read_text())
    assert ledger["done"] == 40 and ledger["complete"]
    assert not list(out.rglob(f"*{store.TMP_MARK}*"))
    ids = [
        i
        for p in (out / "parts").glob("runs-*.parquet")
        for i in pq.read_table(p, columns=["run_id"]).column("run_id").to_pylist()
    ]
    assert sorted(ids) == list(range(40)), "a run was duplicated or lost"
    assert saved <= 40


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_ctrl_c_or_sigterm_stops_cleanly_and_resume_finishes(tiny_sweep, reference, tmp_path, sig):
    """Ctrl-C reaches the whole process group; SIGTERM the coordinator only. Either way the
    sweep says what it saved, exits 130 with no traceback, and --resume completes it."""
    out = tmp_path / "stopped"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "simulation",
            "sweep",
            str(tiny_sweep),
            "--out",
            str(out),
            "--workers",
            "2",
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None and _parts(out) < 5:
        time.sleep(0.005)
    if proc.poll() is None:
        if sig == signal.SIGINT:
            os.killpg(proc.pid, sig)
        else:
            os.kill(proc.pid, sig)
    _, err = proc.communicate(timeout=60)
    text = err.decode()
    assert "Traceback" not in text
    if proc.returncode == 130:
        assert "runs are saved in" in text and "--resume" in text
    else:  # the sweep finished before the signal arrived
        assert proc.returncode == 0
    assert _sweep(tiny_sweep, out, "--resume") == 0
    assert _digest(out / "runs.parquet") == _digest(reference / "runs.parquet")


def test_dask_workers_with_other_code_are_refused():
    class FakeClient:  # client.run(fn) returns {worker address: fn() on that worker}
        def run(self, fn):
            return {"tcp://10.0.0.7:4000": "0" * 16, "tcp://10.0.0.8:4000": fn()}

    with pytest.raises(SweepError, match=r"1 Dask worker\(s\) run different simulation code") as e:
        execute._check_worker_code(FakeClient())
    assert "tcp://10.0.0.7:4000" in str(e.value)

    class SameClient:
        def run(self, fn):
            return {"tcp://10.0.0.8:4000": fn()}

    execute._check_worker_code(SameClient())  # no error
