"""Sweep runner benchmarks, each measured in one process so the ratios are robust to load.

1. Parallel efficiency: the same sweep of baseline-size runs on 1 worker (in process) and on 2
   workers (process pool), start-up and writing included; target >= 1.8x on 2 cores. The two
   results folders are checked to be byte-identical.
2. Memory: peak Python memory of the coordinator (tracemalloc) for a sweep of N and of 4N runs
   of a tiny scenario; flat means a ratio near 1.
3. ``--simplex``: the bundled bonus simplex (286 mixes x 10 replications) on all cores, with
   where the time goes (model, storing results, the rest).

    python benchmarks/bench_sweep.py [--simplex] [--json]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Any

from simulation.batch.design import load_sweep
from simulation.batch.execute import default_workers, run_design
from simulation.batch.store import ResultsStore
from simulation.model import metrics
from simulation.model.model import DAILY_SERIES

ROOT = Path(__file__).resolve().parents[1]
COLUMNS = metrics.result_columns()

EFFICIENCY_SWEEP = """\
name: efficiency
base: {base}
replications: 4
seed: 1
axes:
  incentives.weights: {{simplex: 0.25}}
"""

MEMORY_SWEEP = """\
name: memory
base: tiny.yaml
replications: {reps}
seed: 1
axes:
  incentives.weights: {{simplex: 0.25}}
"""

TINY = """\
name: tiny
horizon_days: 20
warmup_days: 0
org: {sales_reps: 4, ops_staff: 3}
structure: {team_size: 4}
"""


def _run(sweep: Path, out: Path, workers: int) -> tuple[float, Any, ResultsStore]:
    design = load_sweep(sweep)
    store = ResultsStore.open(out, design, COLUMNS, DAILY_SERIES, resume=False)
    start = time.perf_counter()
    summary = run_design(design, store, workers=workers)
    seconds = time.perf_counter() - start
    store.close()
    return seconds, summary, store


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def efficiency(tmp: Path) -> dict[str, Any]:
    sweep = tmp / "efficiency.yaml"
    sweep.write_text(EFFICIENCY_SWEEP.format(base=ROOT / "scenarios" / "baseline.yaml"))
    one, summary, _ = _run(sweep, tmp / "one", 1)
    two, _, _ = _run(sweep, tmp / "two", 2)
    identical = _digest(tmp / "one" / "runs.parquet") == _digest(tmp / "two" / "runs.parquet")
    return {
        "runs": summary.n_runs,
        "seconds_1_worker": round(one, 2),
        "seconds_2_workers": round(two, 2),
        "speedup": round(one / two, 2),
        "target": 1.8,
        "identical_results": identical,
    }


def memory(tmp: Path) -> dict[str, Any]:
    (tmp / "tiny.yaml").write_text(TINY)
    peaks = {}
    for reps in (6, 24):
        sweep = tmp / f"memory{reps}.yaml"
        sweep.write_text(MEMORY_SWEEP.format(reps=reps))
        tracemalloc.start()
        _, summary, _ = _run(sweep, tmp / f"mem{reps}", 2)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        peaks[summary.n_runs] = peak
    (small, p_small), (large, p_large) = sorted(peaks.items())
    return {
        "runs": [small, large],
        "peak_mib": [round(p_small / 2**20, 2), round(p_large / 2**20, 2)],
        "ratio": round(p_large / p_small, 2),
    }


def simplex(tmp: Path) -> dict[str, Any]:
    """The bundled sweep, with time spent storing results measured inside the same run."""
    timings = {"record": 0.0, "finalize": 0.0}
    record, finalize = ResultsStore.record, ResultsStore.finalize

    def timed_record(self: ResultsStore, *a: Any, **k: Any) -> None:
        t = time.perf_counter()
        record(self, *a, **k)
        timings["record"] += time.perf_counter() - t

    def timed_finalize(self: ResultsStore) -> None:
        t = time.perf_counter()
        finalize(self)
        timings["finalize"] += time.perf_counter() - t

    ResultsStore.record, ResultsStore.finalize = timed_record, timed_finalize  # type: ignore[method-assign]
    try:
        workers = default_workers()
        seconds, summary, _ = _run(
            ROOT / "scenarios" / "sweeps" / "bonus_simplex.yaml", tmp / "simplex", workers
        )
    finally:
        ResultsStore.record, ResultsStore.finalize = record, finalize  # type: ignore[method-assign]
    # the model's own time: a sample of the same runs, serially, in this process
    design = load_sweep(ROOT / "scenarios" / "sweeps" / "bonus_simplex.yaml")
    from simulation.batch.runner import run_record

    sample = list(range(0, design.n_runs, design.n_runs // 20))[:20]
    t = time.perf_counter()
    for run_id in sample:
        point, _ = design.point_of(run_id)
        run_record(design.points[point].scenario, design.seed_of(run_id))
    per_run = (time.perf_counter() - t) / len(sample)
    model_wall = per_run * summary.n_runs / workers
    return {
        "runs": summary.n_runs,
        "workers": workers,
        "seconds": round(seconds, 1),
        "target_seconds": 300,
        "runs_per_second": round(summary.n_runs / seconds, 2),
        "model_seconds_per_run": round(per_run, 4),
        "model_share_of_wall": round(model_wall / seconds, 3),
        "store_record_seconds": round(timings["record"], 2),
        "store_finalize_seconds": round(timings["finalize"], 2),
        "failed": summary.failed,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--simplex", action="store_true", help="time the bundled bonus simplex")
    parser.add_argument("--json", action="store_true", help="print JSON only")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        if args.simplex:
            result = {"simplex": simplex(tmp)}
        else:
            result = {"efficiency": efficiency(tmp), "memory": memory(tmp)}
    if args.json:
        print(json.dumps(result, indent=2))
        return
    if "efficiency" in result:
        e = result["efficiency"]
        print(
            f"parallel efficiency: {e['runs']} baseline runs, 1 worker {e['seconds_1_worker']} s, "
            f"2 workers {e['seconds_2_workers']} s: {e['speedup']}x (target >= {e['target']}x); "
            f"identical results: {e['identical_results']}"
        )
        m = result["memory"]
        print(
            f"coordinator peak memory: {m['runs'][0]} runs {m['peak_mib'][0]} MiB, {m['runs'][1]} "
            f"runs {m['peak_mib'][1]} MiB: ratio {m['ratio']} (flat = about 1)"
        )
    if "simplex" in result:
        s = result["simplex"]
        print(
            f"bonus simplex: {s['runs']} runs on {s['workers']} workers in {s['seconds']} s "
            f"(target < {s['target_seconds']} s), {s['runs_per_second']} runs/s; model "
            f"{s['model_seconds_per_run'] * 1000:.0f} ms per run = {s['model_share_of_wall']:.0%} "
            f"of wall time; storing results {s['store_record_seconds']} s + final files "
            f"{s['store_finalize_seconds']} s"
        )


if __name__ == "__main__":
    main()
