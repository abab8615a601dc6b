"""Measure the per-run cost coefficients of ``simulation.batch.estimate`` on this machine.

Every figure is measured in a fresh interpreter, so one measurement cannot inflate the next:

1. Run cost: one model run at each of a dozen sizes (people, days, leads per rep a day), after
   a tiny warm-up run. Time is the best of ``--repeats``; memory is the growth of the process's
   peak resident set (``ru_maxrss``) over the run. Least squares fit, each row weighted by
   1 / measured value so small and huge runs count alike:
   ``seconds = a + b*days + c*people*days + d*deals`` and
   ``bytes = m0 + m1*people + m2*days + m3*deals``.
2. Process base: the peak resident set of ``friction run`` (one tiny replication) and of
   ``friction sweep`` (two tiny runs, one worker): imports, scenario, writing results.
3. Per replication / per run of a results window: the slope of that peak from 300 to 3,000 tiny runs
   (``friction run --reps`` keeps every replication's KPIs; a sweep keeps run ids, and reads
   the runs table back to summarise the design points).
4. Per design point: the slope of the peak between building 1,000 and 20,000 design points.
5. Per worker (Linux only): private memory of a forked pool worker after a tiny run.

    python benchmarks/bench_cost.py [--repeats 3] [--json]

Copy the printed constants into ``simulation/batch/estimate.py`` with the date and the machine.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path
from typing import Any

import numpy as np

from simulation.batch.estimate import maxrss_bytes

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "scenarios" / "baseline.yaml"

#: (sales reps, ops staff, warm-up days, horizon days, leads per rep a day)
SIZES = [
    (2, 2, 0, 20, 0.25),
    (40, 30, 60, 250, 0.25),
    (40, 30, 0, 20, 0.25),
    (40, 30, 500, 2000, 0.25),
    (40, 30, 60, 250, 10.0),
    (500, 500, 60, 250, 0.25),
    (2000, 2000, 0, 100, 0.25),
    (200, 200, 60, 250, 4.0),
    (1000, 1000, 60, 500, 0.5),
    (100, 300, 200, 800, 2.0),
    (20, 20, 60, 250, 40.0),
    (300, 100, 60, 250, 5.0),
]

_RUN_ONE = """
import json, resource, sys, time
from simulation.scenario.loader import load_scenario
from simulation.model.model import FrictionModel

def scenario(r, o, w, h, lead):
    return load_scenario(sys.argv[1], {"org.sales_reps": r, "org.ops_staff": o,
        "warmup_days": w, "horizon_days": h, "market.leads_per_rep_day": lead})

FrictionModel(scenario(2, 2, 0, 20, 0.25), rng=0).run()  # warm-up: lazy imports, caches
size = json.loads(sys.argv[2])
s = scenario(*size)
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
times = []
for i in range(int(sys.argv[3])):
    t = time.perf_counter()
    m = FrictionModel(s, rng=i + 1).run()
    times.append(time.perf_counter() - t)
    deals = m.deals.scheduled
    del m
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"seconds": min(times), "rss_growth": after - before, "deals": deals}))
"""

_CLI_PEAK = """
import json, resource, sys
from simulation.cli.main import main
code = main(sys.argv[2:])
print(json.dumps({"code": code, "maxrss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}),
      file=open(sys.argv[1], "w"))
"""

_POINTS_PEAK = """
import json, resource, sys
from simulation.batch.design import SweepSpec, build_design
from simulation.scenario.loader import load_scenario
base = load_scenario(sys.argv[1])
n = int(sys.argv[2])
spec = SweepSpec(name="points", base="x", replications=1, seed=1,
                 axes={"market.deal_value": [1000.0 + i for i in range(n)]})
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
design = build_design(spec, base, max_runs=10**9)
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"rss_growth": after - before}))
"""

_WORKER_PRIVATE = """
import json, multiprocessing, sys
from simulation.scenario.loader import load_scenario
from simulation.batch.runner import run_record

def private(_):
    s = load_scenario(sys.argv[1], {"org.sales_reps": 2, "org.ops_staff": 2,
                                    "warmup_days": 0, "horizon_days": 20})
    run_record(s, 1)
    kb = 0
    for line in open("/proc/self/smaps_rollup"):
        if line.startswith(("Private_Clean", "Private_Dirty")):
            kb += int(line.split()[1])
    return kb * 1024

if __name__ == "__main__":
    import simulation.model.model  # the coordinator has the model loaded when it forks
    with multiprocessing.get_context("fork").Pool(1) as pool:
        print(json.dumps({"private": pool.map(private, [0])[0]}))
"""

TINY_SWEEP = """\
name: tiny
base: {base}
replications: {reps}
seed: 1
axes:
  structure.team_size: [4, 5]
"""


def _python(code: str, *args: str) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, "-c", code, *args],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def _cli_peak(args: list[str], tmp: Path) -> int:
    report = tmp / "peak.json"
    subprocess.run(
        [sys.executable, "-c", _CLI_PEAK, str(report), *args],
        cwd=tmp,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        check=True,
    )
    return maxrss_bytes(json.loads(report.read_text())["maxrss"])


def _fit(rows: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Least squares with relative weights; negative coefficients (noise) are set to 0."""
    w = 1.0 / np.maximum(y, 1e-12)
    coef, *_ = np.linalg.lstsq(rows * w[:, None], y * w, rcond=None)
    return np.maximum(coef, 0.0)


def measure(repeats: int) -> dict[str, Any]:
    runs = []
    for r, o, w, h, lead in SIZES:
        big = r * (w + h) * lead > 300_000
        m = _python(_RUN_ONE, str(BASELINE), json.dumps([r, o, w, h, lead]),
                    str(1 if big else repeats))  # fmt: skip
        runs.append({"people": r + o, "days": w + h, **m,
                     "bytes": maxrss_bytes(m["rss_growth"])})  # fmt: skip
    people = np.array([x["people"] for x in runs], dtype=float)
    days = np.array([x["days"] for x in runs], dtype=float)
    deals = np.array([x["deals"] for x in runs], dtype=float)
    one = np.ones_like(days)
    t = _fit(np.c_[one, days, people * days, deals], np.array([x["seconds"] for x in runs]))
    # memory: only runs big enough to move the peak resident set say something
    usable = np.array([x["bytes"] for x in runs], dtype=float) > 4 << 20
    mem = _fit(
        np.c_[one, people, days, deals][usable],
        np.array([x["bytes"] for x in runs], dtype=float)[usable],
    )
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        tiny = ["--set", "org.sales_reps=2", "--set", "org.ops_staff=2",
                "--set", "warmup_days=0", "--set", "horizon_days=20"]  # fmt: skip
        run_base = _cli_peak(["run", str(BASELINE), "--reps", "1", *tiny], tmp)
        run_peaks = {n: _cli_peak(["run", str(BASELINE), "--reps", str(n), *tiny], tmp)
                     for n in (300, 3000)}  # fmt: skip
        tiny_base = tmp / "tiny.yaml"
        tiny_base.write_text(
            "name: tiny\norg: {sales_reps: 2, ops_staff: 2}\nwarmup_days: 0\nhorizon_days: 20\n"
        )
        sweep_peaks = {}
        for n in (1, 150, 1500):  # two points x n replications
            sweep = tmp / f"sweep{n}.yaml"
            sweep.write_text(TINY_SWEEP.format(base=tiny_base, reps=n))
            sweep_peaks[2 * n] = _cli_peak(
                ["sweep", str(sweep), "--workers", "1", "--out", str(tmp / f"out{n}")], tmp
            )
    points = {n: maxrss_bytes(_python(_POINTS_PEAK, str(BASELINE), str(n))["rss_growth"])
              for n in (1000, 20000)}  # fmt: skip
    worker = None
    if Path("/proc/self/smaps_rollup").exists():
        worker = _python(_WORKER_PRIVATE, str(BASELINE))["private"]
    return {
        "machine": f"{platform.system()} {platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}",
        "runs": runs,
        "seconds": {"a": t[0], "per_day": t[1], "per_person_day": t[2], "per_deal": t[3]},
        "bytes": {"m0": mem[0], "per_person": mem[1], "per_day": mem[2], "per_deal": mem[3]},
        "run_process_base": run_base,
        "design_process_base": sweep_peaks[2],
        "per_replication": (run_peaks[3000] - run_peaks[300]) / 2700,
        "per_design_run": (sweep_peaks[3000] - sweep_peaks[300]) / 2700,
        "per_design_point": (points[20000] - points[1000]) / 19000,
        "worker_private": worker,
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3, help="timed runs per small size (best of)")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    out = measure(max(1, args.repeats))
    if args.json:
        print(json.dumps(out, indent=2))
        return out
    print(f"Per-run cost on {out['machine']}")
    print(f"{'people':>7} {'days':>5} {'deals':>9} {'seconds':>8} {'MB':>8}")
    for r in out["runs"]:
        print(f"{r['people']:7d} {r['days']:5d} {r['deals']:9d} {r['seconds']:8.3f} "
              f"{r['bytes'] / 2**20:8.1f}")  # fmt: skip
    s, b = out["seconds"], out["bytes"]
    print(
        textwrap.dedent(f"""
        RUN_SECONDS = {s["a"]:.3g}
        SECONDS_PER_DAY = {s["per_day"]:.3g}
        SECONDS_PER_PERSON_DAY = {s["per_person_day"]:.3g}
        SECONDS_PER_DEAL = {s["per_deal"]:.3g}
        RUN_BYTES = {b["m0"]:.3g}
        BYTES_PER_PERSON = {b["per_person"]:.3g}
        BYTES_PER_DAY = {b["per_day"]:.3g}
        BYTES_PER_DEAL = {b["per_deal"]:.3g}
        RUN_PROCESS_BYTES = {out["run_process_base"]:.3g}
        DESIGN_PROCESS_BYTES = {out["design_process_base"]:.3g}
        BYTES_PER_REPLICATION = {out["per_replication"]:.3g}
        BYTES_PER_WINDOW_RUN = {out["per_design_run"]:.3g}
        BYTES_PER_POINT = {out["per_design_point"]:.3g}
        WORKER_BYTES = {out["worker_private"] or float("nan"):.3g}""")
    )
    return out


if __name__ == "__main__":
    main()
