"""Time one replication of scenarios/baseline.yaml against a bare plain-Mesa loop.

Both are timed in the same process, median of ``--repeats`` (at least 11) runs, so the ratio is
robust to the machine's speed. The bare loop has the same number of agents and days: two agent
types whose ``step`` updates one attribute, activated daily with ``shuffle_do`` - the least any
Mesa model of this organisation would do.

    python benchmarks/bench_model.py [--repeats 11] [--json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import mesa

from simulation.model.model import FrictionModel
from simulation.scenario.loader import load_scenario

ROOT = Path(__file__).resolve().parents[1]


class _Worker(mesa.Agent):
    def __init__(self, model: mesa.Model) -> None:
        super().__init__(model)
        self.hours = 0.0

    def step(self) -> None:
        self.hours += 8.0


class _Rep(_Worker):
    pass


class _Ops(_Worker):
    pass


class BareModel(mesa.Model):
    """Plain Mesa: agents of two types stepped in random order every day, nothing else."""

    def __init__(self, reps: int, ops: int, rng: int = 0) -> None:
        super().__init__(rng=rng)
        _Rep.create_agents(self, reps)
        _Ops.create_agents(self, ops)

    def step(self) -> None:
        self.agents_by_type[_Rep].shuffle_do("step")
        self.agents_by_type[_Ops].shuffle_do("step")


def _median_seconds(fn, repeats: int) -> float:
    fn()  # warm caches and imports
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main(argv: list[str] | None = None) -> dict[str, float]:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=11)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    repeats = max(11, args.repeats)
    scenario = load_scenario(ROOT / "scenarios" / "baseline.yaml")
    days = scenario.warmup_days + scenario.horizon_days
    reps, ops = scenario.org.sales_reps, scenario.org.ops_staff
    seeds = iter(range(10**6))

    model_s = _median_seconds(lambda: FrictionModel(scenario, rng=next(seeds)).run(), repeats)
    bare_s = _median_seconds(lambda: BareModel(reps, ops, rng=next(seeds)).run_for(days), repeats)
    out = {
        "agents": reps + ops,
        "days": days,
        "repeats": repeats,
        "baseline_run_ms": model_s * 1e3,
        "bare_mesa_loop_ms": bare_s * 1e3,
        "ratio": model_s / bare_s,
        "target_run_ms": 100.0,
        "target_ratio": 3.0,
    }
    if args.json:
        print(json.dumps(out, indent=2))
    else:
        print(f"baseline.yaml, {reps + ops} agents x {days} days, median of {repeats}")
        print(f"  full model run : {out['baseline_run_ms']:7.1f} ms   (target <= 100 ms)")
        print(f"  bare Mesa loop : {out['bare_mesa_loop_ms']:7.1f} ms")
        print(f"  ratio          : {out['ratio']:7.2f} x   (target <= 3 x)")
    return out


if __name__ == "__main__":
    main()
