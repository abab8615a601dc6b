"""The sweep executor under stress: designs larger than the coordinator's scenario cache, a
crash mid-sweep, Dask workers running other code, a lost scheduler, a malformed scheduler
address, a killed coordinator, and a platform without ``os.sched_getaffinity``."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from simulation.batch import execute, store
from simulation.batch.design import Design, Point, load_sweep
from simulation.cli import main as cli
from simulation.scenario.config import Scenario

pytestmark = pytest.mark.needs_model
ROOT = Path(__file__).resolve().parents[1]


def _sweep(sweep: Path, out: Path, *extra: str) -> int:
    return cli.main(["sweep", str(sweep), "--out", str(out), "--workers", "1", *extra])


def _ledger(out: Path) -> dict:
    return json.loads((out / "ledger.json").read_text())


# --- 1. designs of more than 64 points (the coordinator's scenario cache) ---------------------

_BASE = Scenario()
_POINTS = [
    Point(i, {"name": f"p{i}"}, _BASE.model_copy(update={"name": f"p{i}"})) for i in range(300)
]


def _design(n_points: int, reps: int) -> Design:
    return Design(name="many", kind="sweep", points=_POINTS[:n_points], replications=reps, seed=1,
                  columns=["name"], config={})  # fmt: skip


@settings(max_examples=40, deadline=None)
@given(
    n_points=st.integers(1, 300),
    reps=st.integers(1, 6),
    keep=st.lists(st.booleans(), min_size=1, max_size=64),
)
@example(n_points=150, reps=1, keep=[True])  # 3 runs per chunk: points 63, 64, 65 in one
@example(n_points=70, reps=3, keep=[True])  # the 210-run sweep of the report
@example(n_points=128, reps=1, keep=[True])  # behaviour_uncertainty.yaml --reps 1
def test_every_chunk_carries_the_scenario_of_each_of_its_points(n_points, reps, keep):
    """Whatever the size, replications and pending runs (a resume skips some), each chunk
    carries exactly its points' scenarios, and every pending run is in exactly one chunk."""
    design = _design(n_points, reps)
    todo = [i for i in range(design.n_runs) if keep[i % len(keep)]]
    tasks = list(execute.make_tasks(design, todo))
    assert [i for t in tasks for i in t.run_ids] == todo
    for t in tasks:
        assert set(t.scenarios) == set(t.points)
        assert all(t.scenarios[p]["name"] == f"p{p}" for p in t.points)
        assert t.points == tuple(i // reps for i in t.run_ids)


SMALL = """\
    name: small
    horizon_days: 20
    warmup_days: 2
    org: {sales_reps: 4, ops_staff: 2}
    structure: {team_size: 4}
"""


def test_a_sweep_of_150_points_runs_to_the_end(write_yaml, tmp_path):
    """150 design points x 1 replication: 3 runs (3 points) per chunk, the cache refilled twice."""
    write_yaml("tiny.yaml", SMALL)
    values = [40_000 + 100 * i for i in range(150)]
    sweep = write_yaml(
        "many.yaml",
        f"name: many\nbase: tiny.yaml\nreplications: 1\nseed: 3\n"
        f"axes:\n  market.deal_value: {values}\n",
    )
    assert execute.chunk_size(150) == 3
    out = tmp_path / "out"
    assert _sweep(sweep, out) == 0
    assert _ledger(out) == {**_ledger(out), "done": 150, "failed": 0, "complete": True}


def test_a_crash_mid_sweep_says_what_is_saved_and_resume_finishes(
    tiny_sweep, tmp_path, capsys, monkeypatch
):
    """An unexpected error (a bug) after some chunks: exit 1 with the traceback, and the message
    says how many runs are saved and that --resume continues."""
    real = execute.run_task
    calls = {"n": 0}

    def crash_on_third(task):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyError(64)
        return real(task)

    monkeypatch.setattr(execute, "run_task", crash_on_third)
    out = tmp_path / "crashed"
    assert _sweep(tiny_sweep, out) == 1
    err = capsys.readouterr().err
    assert "internal error: KeyError: 64" in err and "Traceback" in err
    saved = f"2 of 40 runs are saved in {out}; run the same command with --resume"
    assert saved in err.replace("\n", " ")
    monkeypatch.undo()
    assert _sweep(tiny_sweep, out, "--resume") == 0
    assert _ledger(out)["done"] == 40


# --- 2. every chunk checks the code of the worker that runs it ---------------------------------


def test_run_task_refuses_a_chunk_meant_for_other_code(tiny_sweep):
    design = load_sweep(tiny_sweep)
    ours = store.source_hash()
    ok = next(execute.make_tasks(design, [3], source=ours))
    assert [r["run_id"] for r in execute.run_task(ok)] == [3]
    wrong = next(execute.make_tasks(design, [3], source="0" * 16))
    with pytest.raises(execute.WorkerCodeMismatch) as e:
        execute.run_task(wrong)
    assert e.value.expected == "0" * 16 and e.value.actual == ours
    assert "0" * 16 in str(e.value) and ours in str(e.value)


def test_dask_worker_joining_with_other_code_is_refused(tiny_sweep, tmp_path, capsys, monkeypatch):
    """A worker that joins after the start-up check (simulated by skipping that check) and runs
    other code refuses every chunk: exit 2 naming the worker and both hashes, nothing recorded."""
    pytest.importorskip("distributed")
    monkeypatch.setattr(execute, "_check_worker_code", lambda client: None)
    monkeypatch.setattr(execute, "own_source", lambda: "0" * 16)  # the coordinator's code
    out = tmp_path / "o"
    code = cli.main(["sweep", str(tiny_sweep), "--out", str(out), "--workers", "1",
                     "--executor", "dask"])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2, err
    assert "Traceback" not in err
    assert "Dask worker tcp://127.0.0.1:" in err
    assert "0" * 16 in err and store.source_hash() in err
    assert _ledger(out)["done"] == 0


# --- 3. pool workers die with their coordinator ------------------------------------------------


def _children(pid: int) -> set[int]:
    kids: set[int] = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        kids |= {int(k) for k in (task / "children").read_text().split()}
    return kids


def _alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie waiting for its parent to reap it does not)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def _wait_gone(pids: set[int], seconds: float) -> set[int]:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and any(_alive(p) for p in pids):
        time.sleep(0.05)
    return {p for p in pids if _alive(p)}


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="needs Linux /proc")
def test_pool_workers_exit_when_the_coordinator_is_killed(write_yaml, tmp_path):
    write_yaml("tiny.yaml", SMALL)
    sweep = write_yaml(
        "long.yaml",
        "name: long\nbase: tiny.yaml\nreplications: 2000\nseed: 1\n"
        "axes:\n  structure.team_size: [3, 4]\n",
    )
    out = tmp_path / "out"
    proc = subprocess.Popen(
        [sys.executable, "-m", "simulation", "sweep", str(sweep), "--out", str(out),
         "--workers", "2"],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    workers: set[int] = set()
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and proc.poll() is None:
            workers = _children(proc.pid)
            if len(workers) >= 2 and list((out / "parts").glob("runs-*.parquet")):
                break
            time.sleep(0.02)
        assert proc.poll() is None and len(workers) >= 2, "the sweep ended before the kill"
        os.kill(proc.pid, signal.SIGKILL)  # the coordinator alone, not its process group
        proc.wait()
        left = _wait_gone(workers, 10)
        assert not left, f"worker(s) {sorted(left)} outlived their coordinator"
    finally:
        for pid in workers:
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def test_a_worker_exits_when_a_coordinator_that_is_not_its_parent_dies():
    """Under the fork server a worker's parent is the server, not the coordinator: the worker
    watches the coordinator's pid itself (also the only guard where prctl does not exist)."""
    coordinator = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    worker = subprocess.Popen(
        [sys.executable, "-c",
         f"from simulation.batch import execute; execute._preload({coordinator.pid}); "
         "print('ready', flush=True); import time; time.sleep(120)"],
        cwd=ROOT, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert worker.stdout.readline().strip() == "ready"
        coordinator.kill()
        coordinator.wait()
        worker.wait(timeout=15)  # raises TimeoutExpired if the worker outlives it
    finally:
        for p in (coordinator, worker):
            if p.poll() is None:
                p.kill()
                p.wait()


# --- 4. Dask: malformed address, lost scheduler -------------------------------------------------


@pytest.mark.parametrize(
    "address", ["notanaddress", "tcp://host:notaport", "tcp://10.0.0.5:99999", "foo://h:1"]
)
def test_a_malformed_dask_address_is_one_line_and_writes_nothing(
    tiny_sweep, tmp_path, capsys, address
):
    pytest.importorskip("distributed")
    out = tmp_path / "o"
    code = cli.main(["sweep", str(tiny_sweep), "--out", str(out), "--executor", "dask",
                     "--address", address])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2, err
    assert err.startswith("error: argument --address:") and err.count("\n") == 1
    assert address in err and "tcp://HOST:PORT" in err
    assert not out.exists()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_lost_dask_scheduler_stops_the_sweep_with_its_runs_saved(
    tiny_sweep, tmp_path, capsys, monkeypatch
):
    """The scheduler dies after two chunks are saved: exit 2, one line saying the scheduler was
    lost, what is saved and that --resume continues; --resume then finishes the sweep."""
    pytest.importorskip("distributed")
    address = f"tcp://127.0.0.1:{_free_port()}"
    scheduler = subprocess.Popen(
        [sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1", "--port",
         address.rsplit(":", 1)[1], "--no-dashboard"],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    worker = subprocess.Popen(
        [sys.executable, "-m", "distributed.cli.dask_worker", address, "--nthreads", "1",
         "--no-dashboard"],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    real_record = store.ResultsStore.record

    def record_then_kill(self, results, elapsed):
        real_record(self, results, elapsed)
        if len(self.done) >= 2:  # two chunks of one run each are saved
            scheduler.kill()
            scheduler.wait()

    monkeypatch.setattr(store.ResultsStore, "record", record_then_kill)
    monkeypatch.setattr(execute, "chunk_size", lambda n_runs: 1)
    out = tmp_path / "o"
    try:
        code = cli.main(["sweep", str(tiny_sweep), "--out", str(out), "--executor", "dask",
                         "--address", address])  # fmt: skip
    finally:
        for p in (worker, scheduler):
            p.kill()
            p.wait()
    err = capsys.readouterr().err
    assert code == 2, err
    assert "Traceback" not in err
    line = next(x for x in err.splitlines() if x.startswith("error:"))
    assert f"the Dask scheduler at {address} was lost" in line
    saved = _ledger(out)["done"]
    assert saved >= 2 and f"{saved} of 40 runs are saved in {out}" in line and "--resume" in line
    monkeypatch.undo()
    assert _sweep(tiny_sweep, out, "--resume") == 0
    assert _ledger(out)["done"] == 40


# --- 5. no os.sched_getaffinity (macOS) -------------------------------------------------------


def test_commands_work_without_sched_getaffinity(monkeypatch, tiny_sweep, capsys):
    monkeypatch.delattr(os, "sched_getaffinity")
    assert execute.default_workers() == (os.cpu_count() or 1)
    cli.build_parser()
    assert cli.main(["validate", str(tiny_sweep.parent / "tiny.yaml")]) == 0
    assert "OK: tiny" in capsys.readouterr().out


# --- 7. forkserver workers check against the coordinator's code, not the files on disk ---------


def test_forkserver_workers_take_the_coordinators_source_hash(tiny_sweep, tmp_path, monkeypatch):
    """A fork-server worker starts from a fresh interpreter: it must take the coordinator's
    source hash (of the code loaded at the start), not hash the files on disk at its first
    chunk (files may be edited during a long sweep)."""
    from simulation.experiments import execute as run

    monkeypatch.setattr(execute, "start_method", lambda: "forkserver")
    monkeypatch.setattr(execute, "own_source", lambda: "0" * 16)  # the code loaded at start
    design = load_sweep(tiny_sweep)
    summary = run(design, tmp_path / "o", workers=2)
    assert summary.done == 40


# --- 8. a remote Dask cluster is not limited to this machine's cores ---------------------------


def test_more_workers_than_local_cores_are_accepted_for_a_remote_cluster():
    import argparse

    many = execute.default_workers() + 8
    local = argparse.Namespace(workers=many, force_workers=False, address=None)
    with pytest.raises(cli.UsageError, match="--workers"):
        cli.check_workers(local)
    remote = argparse.Namespace(workers=many, force_workers=False, address="tcp://10.0.0.5:8786")
    cli.check_workers(remote)
