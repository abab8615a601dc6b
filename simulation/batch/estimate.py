"""How many runs a request makes, and about how much memory and time they need.

The one cost model of friction: ``run``, ``compare``, ``sweep`` and ``diagnose`` describe their
request (:class:`Request`), :func:`estimate` prices it, and the command line refuses a request
beyond ``--max-runs`` or ``--max-memory`` before any work starts, or says what it will take
when that is more than a minute. A sweep is priced from its file (points counted, nothing
built), so a design too big to hold in memory is refused before it is built.

Cost of one run. Its people (``sales_reps + ops_staff``) are stepped every simulated day
(``warmup_days + horizon_days``); its deals are every lead of the run, drawn as rows of the
deal book at the start (``leads_per_rep_day x sales_reps x days`` expected), so memory grows
with the deals and time with people x days and the deals::

    seconds = RUN_SECONDS + SECONDS_PER_DAY*days + SECONDS_PER_PERSON_DAY*people*days
              + SECONDS_PER_DEAL*deals
    bytes   = RUN_BYTES + BYTES_PER_PERSON*people + BYTES_PER_DAY*days + BYTES_PER_DEAL*deals

Cost of a request of ``runs`` runs over ``points`` design points::

    friction run:  peak = RUN_PROCESS_BYTES + bytes(largest run) + runs*BYTES_PER_REPLICATION
                   time = runs * seconds(typical run)
    designs:       peak = DESIGN_PROCESS_BYTES + points*BYTES_PER_POINT
                          + runs*BYTES_PER_DESIGN_RUN + min(runs, RUN_WINDOW)*BYTES_PER_WINDOW_RUN
                          + (with daily series) their last window
                          + workers * (WORKER_BYTES + bytes(largest run))
                   time = POOL_START_SECONDS + runs * seconds(typical run)
                          / (workers * PARALLEL_EFFICIENCY)

One worker runs in the coordinator itself (no pool: no ``WORKER_BYTES``); Dask workers are
fresh interpreters (``DESIGN_PROCESS_BYTES`` each); a remote Dask cluster's memory is its own.
The typical run is the mean over the design points, the largest the largest of each size lever
(a conservative bound for memory). The model is within a factor of two of measured peaks
(``tests/test_estimate.py``); it is a guard against orders of magnitude, not a stopwatch.
"""

from __future__ import annotations

import math
import os
import re
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from simulation.common.formats import format_bytes, format_duration

if TYPE_CHECKING:
    from simulation.batch.design import SweepSpec
    from simulation.scenario.config import Scenario

__all__ = [
    "Estimate",
    "Request",
    "RunSize",
    "default_max_memory",
    "estimate",
    "maxrss_bytes",
    "parse_bytes",
    "refusal",
    "sweep_sizes",
    "total_memory",
]

# Coefficients measured with `python benchmarks/bench_cost.py` on 2026-12-02 on the development
# machine: Linux x86_64, 2 cores (shared with other jobs, so times are on the slow side),
# 23 GB RAM, Python 3.12. Each figure comes from fresh interpreters (see the script).
RUN_SECONDS = 0.0  # fixed cost of one run (fitted at 0: set-up is in the per-day term)
SECONDS_PER_DAY = 3.35e-4  # per simulated day, whatever the size (the daily schedule)
SECONDS_PER_PERSON_DAY = 9.8e-9  # per person per day (vectorised hours, plans, messages)
SECONDS_PER_DEAL = 5.7e-6  # per lead (selling, handover, onboarding, churn of each deal)
RUN_BYTES = 0.0  # model memory of a run beyond the deals, people and days (fitted at 0)
BYTES_PER_PERSON = 8.0e3  # agents and the per-person arrays
BYTES_PER_DAY = 6.7e3  # the DataCollector's daily rows
BYTES_PER_DEAL = 664.0  # the deal book's columns, the draws that fill it, daily work on it
RUN_PROCESS_BYTES = 193e6  # peak of `friction run` of a tiny scenario (interpreter, imports)
DESIGN_PROCESS_BYTES = 219e6  # peak of `friction sweep` of a tiny sweep (adds pyarrow, pandas)
BYTES_PER_REPLICATION = 3.9e3  # `friction run` keeps every replication's KPIs
#: Per run of a results window (store.RUN_WINDOW runs): part files read back and merged.
BYTES_PER_WINDOW_RUN = 16.6e3
BYTES_PER_POINT = 16.2e3  # one design point: its validated Scenario and its values
WORKER_BYTES = 8.7e6  # private memory of a forked pool worker (shared pages not counted)
#: Per run for the whole sweep (not measured: too small to see below a million runs): its id
#: in the done set and the pending list (~100 B), and its value columns read back, twice
#: (table, then arrays), to summarise the design points.
BYTES_PER_DESIGN_RUN = 100 + 2 * 8 * 46
POOL_START_SECONDS = 1.0  # starting the worker processes
PARALLEL_EFFICIENCY = 0.9  # 2 workers run ~1.8x as fast as one (benchmarks/bench_sweep.py)
#: Daily series are consolidated at the end of a sweep in windows of runs: per run and day, the
#: series plus run id, point and replication as 8-byte values, held twice (read, then sorted).
DAILY_COPIES = 2

MINUTE = 60.0  # requests longer than this print their estimate
MEMORY_SHARE = 0.75  # default --max-memory: this share of the machine's RAM

#: The levers that set a run's size (and so its cost).
SIZE_KEYS = (
    "org.sales_reps",
    "org.ops_staff",
    "warmup_days",
    "horizon_days",
    "market.leads_per_rep_day",
)


@dataclass(frozen=True)
class RunSize:
    """What one run's cost depends on: its people, simulated days and deals."""

    people: float
    days: float
    deals: float

    @classmethod
    def of(cls, s: Scenario) -> RunSize:
        return cls.from_levers(_size_levers(s))

    @classmethod
    def from_levers(cls, v: dict[str, float]) -> RunSize:
        days = v["warmup_days"] + v["horizon_days"]
        return cls(
            people=v["org.sales_reps"] + v["org.ops_staff"],
            days=days,
            deals=v["market.leads_per_rep_day"] * v["org.sales_reps"] * days,
        )

    @property
    def seconds(self) -> float:
        return (
            RUN_SECONDS
            + SECONDS_PER_DAY * self.days
            + SECONDS_PER_PERSON_DAY * self.people * self.days
            + SECONDS_PER_DEAL * self.deals
        )

    @property
    def bytes(self) -> float:
        return (
            RUN_BYTES
            + BYTES_PER_PERSON * self.people
            + BYTES_PER_DAY * self.days
            + BYTES_PER_DEAL * self.deals
        )


@dataclass(frozen=True)
class Request:
    """What a command is asked to do, before it does any of it.

    Attributes:
        runs: model runs in all.
        typical: the mean run (prices the time).
        largest: the biggest run (prices the memory).
        workers: worker processes (1: runs in the coordinator).
        points: design points held in memory (1 for ``friction run``).
        design: a results folder is written (compare, sweep, diagnose); False for
            ``friction run``, which keeps every replication's KPIs in memory.
        daily: daily series are recorded and consolidated at the end.
        executor: ``local`` (forked pool), ``dask`` (a local cluster of fresh interpreters)
            or ``remote`` (a Dask cluster elsewhere: its memory is not counted here).
    """

    runs: int
    typical: RunSize
    largest: RunSize
    workers: int = 1
    points: int = 1
    design: bool = True
    daily: bool = False
    executor: Literal["local", "dask", "remote"] = "local"


@dataclass(frozen=True)
class Estimate:
    runs: int
    workers: int
    peak_bytes: float
    seconds: float
    run_seconds: float  # the typical run
    run_bytes: float  # the largest run

    def describe(self) -> str:
        """``about 1,000 runs, ~1.2 GB peak, ~3 min on 2 workers``."""
        workers = f"{self.workers} worker{'s' if self.workers != 1 else ''}"
        return (
            f"about {self.runs:,} run{'s' if self.runs != 1 else ''}, "
            f"~{format_bytes(self.peak_bytes)} peak, ~{format_duration(self.seconds)} on {workers}"
        )


def estimate(request: Request) -> Estimate:
    """Price a request with the cost model of this module's docstring."""
    r = request
    run_bytes, run_seconds = r.largest.bytes, r.typical.seconds
    if not r.design:
        peak = RUN_PROCESS_BYTES + run_bytes + r.runs * BYTES_PER_REPLICATION
        return Estimate(r.runs, 1, peak, r.runs * run_seconds, run_seconds, run_bytes)
    from simulation.batch.execute import chunk_size
    from simulation.batch.store import RUN_WINDOW

    peak = (
        DESIGN_PROCESS_BYTES
        + r.points * BYTES_PER_POINT
        + r.runs * BYTES_PER_DESIGN_RUN
        + min(r.runs, RUN_WINDOW) * BYTES_PER_WINDOW_RUN
    )
    if r.daily:
        from simulation.batch.store import DAILY_WINDOW
        from simulation.model.model import DAILY_SERIES

        per_day = DAILY_COPIES * 8 * (len(DAILY_SERIES) + 3)
        peak += min(r.runs, DAILY_WINDOW) * r.largest.days * per_day
    pooled = r.executor != "local" or (r.workers > 1 and r.runs > chunk_size(r.runs))
    if not pooled:  # the coordinator runs them one by one
        return Estimate(r.runs, 1, peak + run_bytes, r.runs * run_seconds, run_seconds, run_bytes)
    if r.executor == "local":
        peak += r.workers * (WORKER_BYTES + run_bytes)
    elif r.executor == "dask":
        peak += r.workers * (DESIGN_PROCESS_BYTES + run_bytes)
    busy = min(r.workers, r.runs)
    seconds = POOL_START_SECONDS + r.runs * run_seconds / (busy * PARALLEL_EFFICIENCY)
    return Estimate(r.runs, r.workers, peak, seconds, run_seconds, run_bytes)


def refusal(est: Estimate, max_runs: int, max_memory: int) -> str | None:
    """The one-line reason to refuse ``est`` under the limits, or None if it fits."""
    if est.runs > max_runs:
        return (
            f"--max-runs: {est.describe()}: more than the limit of {max_runs:,} runs; run fewer "
            f"(--reps, a coarser grid) or raise the limit with --max-runs {est.runs}"
        )
    if est.peak_bytes > max_memory:
        need = format_bytes(est.peak_bytes * 1.25, unit=True).replace(" ", "")
        return (
            f"--max-memory: {est.describe()}: more than the limit of {format_bytes(max_memory)}; "
            f"make the request smaller (fewer people, days, leads, design points or workers) or "
            f"raise the limit, e.g. --max-memory {need}"
        )
    return None


# --------------------------------------------------------------------------------------------
# Sizes of scenarios and sweeps
# --------------------------------------------------------------------------------------------


def _size_levers(s: Scenario) -> dict[str, float]:
    from simulation.scenario.config import get_dotted

    levers = {k: float(get_dotted(s, k)) for k in SIZE_KEYS}
    # a roll-out may raise the lead rate mid-run; price the run at its highest
    rates = [iv.set["market.leads_per_rep_day"] for iv in s.interventions
             if "market.leads_per_rep_day" in iv.set]  # fmt: skip
    levers["market.leads_per_rep_day"] = max([levers["market.leads_per_rep_day"], *rates])
    return levers


def scenario_sizes(scenarios: Sequence[Scenario]) -> tuple[RunSize, RunSize]:
    """The typical (mean) and largest run of some scenarios."""
    sizes = [RunSize.of(s) for s in scenarios]
    return _mean_and_max(sizes)


def _mean_and_max(sizes: Sequence[RunSize]) -> tuple[RunSize, RunSize]:
    n = len(sizes)
    mean = RunSize(*(sum(getattr(x, f) for x in sizes) / n for f in ("people", "days", "deals")))
    top = RunSize(*(max(getattr(x, f) for x in sizes) for f in ("people", "days", "deals")))
    return mean, top


def sweep_sizes(spec: SweepSpec, base: Scenario) -> tuple[RunSize, RunSize]:
    """The typical and largest run of a sweep, read from its axes without building it.

    Each size lever takes its mean over the values its axis gives it (the midpoint of a sampled
    range) for the typical run, and its largest value for the largest run; a lever on no axis
    keeps the base scenario's value. Values that are not numbers are left to the design's own
    validation.
    """
    from simulation.batch.design import PointsAxis, SampleAxis, parse_axis

    base_levers = _size_levers(base)
    mean, top = dict(base_levers), dict(base_levers)
    for label, raw in spec.axes.items():
        axis = parse_axis(label, raw)
        found: dict[str, list[float]] = {}
        if isinstance(axis, list) and label in SIZE_KEYS:
            found[label] = _numbers(axis)
        elif isinstance(axis, PointsAxis):
            for key in SIZE_KEYS:
                found[key] = _numbers(p[key] for p in axis.points if key in p)
        elif isinstance(axis, SampleAxis):
            for key, (lo, hi) in axis.ranges.items():
                if key in SIZE_KEYS:
                    mean[key], top[key] = (lo + hi) / 2, hi
        for key, values in found.items():
            if values:
                mean[key], top[key] = sum(values) / len(values), max(values)
    return RunSize.from_levers(mean), RunSize.from_levers(top)


def _numbers(values: Iterable[Any]) -> list[float]:
    out = []
    for v in values:
        if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v):
            out.append(float(v))
    return out


# --------------------------------------------------------------------------------------------
# Memory sizes and durations
# --------------------------------------------------------------------------------------------

_UNITS = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}


def parse_bytes(text: str) -> int:
    """``8G``, ``500M``, ``1.5GB``, ``2GiB`` or a number of bytes; units are powers of 1024.

    Raises:
        ValueError: not a size, or not positive.
    """
    m = re.fullmatch(r"\s*(\d+(?:\.\d*)?|\.\d+)\s*([KMGT]?)(?:I?B)?\s*", text.upper())
    if not m:
        raise ValueError(f"expected a size such as 8G, 500M or a number of bytes, got '{text}'")
    value = int(float(m.group(1)) * _UNITS[m.group(2)])
    if value <= 0:
        raise ValueError(f"must be more than 0 bytes, got '{text}'")
    return value


def maxrss_bytes(value: int) -> int:
    """A peak resident set from ``resource.getrusage`` in bytes: ``ru_maxrss`` is in kilobytes
    on Linux and in bytes on macOS (the benchmarks and tests that check this model use it)."""
    return value if sys.platform == "darwin" else value * 1024


def total_memory() -> int:
    """The machine's physical memory in bytes (Linux and macOS)."""
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def default_max_memory() -> int:
    """The default ``--max-memory``: three quarters of the memory this process may use.

    That is the machine's RAM, or less when the process is limited: its address-space limit
    (``ulimit -v``) or its container's memory limit (cgroup v2 ``memory.max``). A request
    beyond a limit would otherwise start, and fail or be killed partway.
    """
    import resource

    limits = [total_memory()]
    soft, _ = resource.getrlimit(resource.RLIMIT_AS)
    if soft != resource.RLIM_INFINITY:
        limits.append(soft)
    try:
        with open("/sys/fs/cgroup/memory.max", encoding="ascii") as fh:
            text = fh.read().strip()
        if text.isdigit():  # "max" when there is no limit
            limits.append(int(text))
    except (OSError, ValueError):  # no cgroup v2 (macOS, older Linux): RAM and rlimit only
        pass
    return int(min(limits) * MEMORY_SHARE)
