"""Run experiments from Python: the same comparisons, sweeps and diagnoses as the CLI.

Notebooks and scripts use these; ``friction compare``, ``sweep`` and ``diagnose`` call them
too, so a folder written here is the same, to the byte, as one the CLI writes. Every function
writes a results folder (see :mod:`simulation.batch.store`) and returns what it ran::

    from simulation.experiments import compare
    result = compare(["scenarios/baseline.yaml", "scenarios/blended_40_30_20_10.yaml"], reps=10)
    result["verdicts"]["blended_40_30_20_10"]     # plain-language lines, one per KPI
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from simulation.analysis.diagnosis import check_rank_by, finish_diagnosis, plan_diagnosis
from simulation.analysis.results import (
    RESULTS,
    Results,
    finish_comparison,
    load_results,
    results_folder,
    save_comparison,
)
from simulation.batch.design import Design, compare_design, load_sweep
from simulation.batch.execute import RunSummary, run_design
from simulation.batch.store import ResultsStore
from simulation.model.metrics import result_columns
from simulation.model.model import DAILY_SERIES
from simulation.scenario.config import Scenario
from simulation.scenario.levers import DEFAULT_LEVER_SET, DEFAULT_RANK, DEFAULT_ROLLOUT_DAY
from simulation.scenario.loader import load_scenario

__all__ = [
    "RESULTS",
    "RunInterrupted",
    "compare",
    "compare_folder",
    "diagnose",
    "execute",
    "finish_comparison",
    "plan_compare",
    "save_comparison",
    "sweep",
    "sweep_folder",
]


def execute(
    design: Design,
    out: str | Path,
    workers: int = 1,
    resume: bool = False,
    executor: str = "local",
    address: str | None = None,
    progress: Callable[[int, int], None] | None = None,
    command: Sequence[str] = (),
    resume_hint: str = "call it again with resume=True",
) -> RunSummary:
    """Run every pending run of ``design`` into the results folder ``out`` and finalise it.

    Args:
        resume: finish (or reuse) the runs already in ``out``; without it an existing folder
            is refused, so a result is never overwritten by accident, unless it is a finished
            comparison of the same inputs (then it is reused: ``RunSummary.reused``).
        command: the command line recorded in the manifest (empty for calls from Python).
        resume_hint: how to resume, in messages (the command line names its flag instead).
    """
    store = ResultsStore.open(Path(out), design, result_columns(), DAILY_SERIES,
                              resume=resume, command=command, resume_hint=resume_hint)  # fmt: skip
    try:
        if store.reused:
            n = design.n_runs
            return RunSummary(n, 0, n, ran=0, seconds=0.0, workers=workers, executor=executor,
                              reused=True)  # fmt: skip
        if progress is not None:
            progress(0, len(store.pending()))
        return run_design(
            design, store, workers=workers, executor=executor, address=address, progress=progress
        )
    except KeyboardInterrupt:
        raise RunInterrupted(len(store.done), design.n_runs, Path(out)) from None
    finally:
        store.close()


class RunInterrupted(KeyboardInterrupt):
    """Ctrl-C or SIGTERM stopped a run; the finished runs are saved and ``resume`` continues."""

    def __init__(self, saved: int, total: int, out: Path) -> None:
        super().__init__(f"{saved} of {total} runs are saved in {out}")
        self.saved, self.total, self.out = saved, total, out


def compare(
    scenarios: Sequence[str | Path | Scenario],
    reps: int = 10,
    seed: int = 1,
    out: str | Path | None = None,
    workers: int = 1,
    resume: bool = False,
    overrides: dict[str, Any] | None = None,
    labels: Sequence[str] | None = None,
) -> dict[str, Any]:
    """Run scenarios on common random numbers and compare each with the first.

    Args:
        scenarios: scenario files or :class:`Scenario` objects; the first is the baseline.
        out: results folder (default ``results/compare-<names>``).
        overrides: dotted lever changes applied to every scenario.
        labels: names for the scenarios (default: each scenario's ``name``).
        resume: finish or reuse the results already in ``out``, or start them if there are
            none (the CLI's ``--resume`` refuses an empty folder; here re-running is the point).
            Finished results of the same inputs are reused even without it.

    Raises:
        simulation.batch.store.ResumeRefused: ``out`` holds results of other inputs (scenarios,
            code or package versions); choose another folder or delete it.

    Returns:
        The comparison (``friction compare --json``): summaries, paired differences, verdicts,
        per-run values, the seed and the results folder. Also saved as ``comparison.json``.
    """
    design = plan_compare(scenarios, reps, seed, overrides, labels)
    folder = compare_folder(out, design)
    summary = execute(design, folder, workers=workers, resume=resume and _started(folder))
    if summary.failed:
        raise RuntimeError(
            f"{summary.failed} run(s) failed; tracebacks are in {folder / 'failures'}"
        )
    return finish_comparison(folder)


def plan_compare(
    scenarios: Sequence[str | Path | Scenario],
    reps: int = 10,
    seed: int = 1,
    overrides: Mapping[str, Any] | None = None,
    labels: Sequence[str] | None = None,
) -> Design:
    """The design of a comparison: every scenario loaded (with ``overrides``) on the same seeds;
    scenario files are recorded as the design's sources."""
    loaded = [load_scenario(s, overrides) for s in scenarios]
    sources = {
        f"scenario{i}": str(s) for i, s in enumerate(scenarios) if not isinstance(s, Scenario)
    }
    return compare_design(loaded, reps, seed, labels=list(labels) if labels else None,
                          sources=sources)  # fmt: skip


def compare_folder(out: str | Path | None, design: Design) -> Path:
    """Where a comparison goes: ``out``, or ``results/compare-<names>``."""
    return results_folder(out, f"compare-{design.name}", 80)


def sweep_folder(out: str | Path | None, design: Design) -> Path:
    """Where a sweep goes: ``out``, or ``results/<sweep name>``."""
    return results_folder(out, design.name)


def sweep(
    path: str | Path,
    reps: int | None = None,
    seed: int | None = None,
    daily: bool | None = None,
    out: str | Path | None = None,
    workers: int = 1,
    resume: bool = False,
) -> Results:
    """Run a sweep file (options given here override the file's) and open its results.

    ``resume`` finishes or reuses the results in ``out``, or starts them if there are none.
    """
    design = load_sweep(Path(path), replications=reps, seed=seed, daily=daily)
    folder = sweep_folder(out, design)
    execute(design, folder, workers=workers, resume=resume and _started(folder))
    return load_results(folder)


def diagnose(
    scenario: str | Path | Scenario,
    reps: int = 10,
    seed: int = 1,
    out: str | Path | None = None,
    workers: int = 1,
    resume: bool = False,
    rank_by: str = DEFAULT_RANK,
    progress: Callable[[int, int], None] | None = None,
    command: Sequence[str] = (),
    overrides: Mapping[str, Any] | None = None,
    rollout_day: int = DEFAULT_ROLLOUT_DAY,
    levers: str = DEFAULT_LEVER_SET,
) -> dict[str, Any]:
    """Roll each playbook lever (or part of one) out alone on ``scenario`` on common random
    numbers and rank them.

    Args:
        out: results folder (default ``results/diagnose-<scenario name>``); an existing one is
            refused unless ``resume``.
        rank_by: the KPI that picks the favoured lever (default the cost of friction).
        overrides: dotted lever changes applied to the starting scenario first.
        rollout_day: the measured day each lever is rolled out on (default 21, after one pay
            period); every run is this many days longer than the scenario's horizon, so a full
            horizon follows the roll-out.
        levers: ``all`` (default: the six playbook levers and the parts of those that bundle
            several changes), ``bundles`` (the six as the playbook packages them) or ``parts``.

    Returns:
        The diagnosis: scenario, replications, seed, results folder, levers tested and already
        in place, notes, per-KPI rankings over the year after roll-out with 95% intervals, the
        same over the whole run (``whole_run``), the favoured lever, its comparison with the
        runner-up, wins out of replications, trade-offs and the verdict. Also saved as
        ``<out>/diagnosis.json``.

    Raises:
        ScenarioError: a bad scenario, ``rank_by`` or results folder (a user error).
        RuntimeError: some runs failed (their tracebacks are in ``<out>/failures``).
    """
    check_rank_by(rank_by)
    plan = plan_diagnosis(scenario, reps, seed, out, overrides, rollout_day, levers)
    summary = execute(
        plan.design, plan.out, workers=workers, resume=resume, progress=progress, command=command
    )
    if summary.failed:
        raise RuntimeError(
            f"{summary.failed} run(s) failed; tracebacks are in {plan.out / 'failures'}"
        )
    return finish_diagnosis(plan, rank_by)


def _started(folder: Path) -> bool:
    """Whether ``folder`` already holds results (``resume=True`` then finishes or reuses them;
    otherwise it starts them, so a notebook can be run again and again)."""
    return (folder / "manifest.json").is_file()
