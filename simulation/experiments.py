"""Run experiments from Python: the same comparisons and sweeps as the CLI, as functions.

Notebooks and scripts use these; ``friction compare`` and ``friction sweep`` call them too, so a
folder written here is the same, to the byte, as one the CLI writes. Every function writes a
results folder (see :mod:`simulation.store`) and returns what it ran::

    from simulation.experiments import compare
    result = compare(["scenarios/baseline.yaml", "scenarios/blended_40_30_20_10.yaml"], reps=10)
    result["verdicts"]["blended_40_30_20_10"]     # plain-language lines, one per KPI
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from simulation.config import Scenario
from simulation.design import Design, compare_design, load_sweep, slug
from simulation.loader import load_scenario
from simulation.results import Results, comparison, load_results

if TYPE_CHECKING:
    from simulation.execute import RunSummary

__all__ = [
    "RESULTS",
    "RunInterrupted",
    "compare",
    "execute",
    "finish_comparison",
    "save_comparison",
    "sweep",
]

RESULTS = Path("results")  # default parent of results folders


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
    from simulation import metrics
    from simulation.execute import RunSummary, run_design
    from simulation.model import DAILY_SERIES
    from simulation.store import ResultsStore

    store = ResultsStore.open(Path(out), design, metrics.result_columns(), DAILY_SERIES,
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
        simulation.store.ResumeRefused: ``out`` holds results of other inputs (scenarios,
            code or package versions); choose another folder or delete it.

    Returns:
        The comparison (``friction compare --json``): summaries, paired differences, verdicts,
        per-run values, the seed and the results folder. Also saved as ``comparison.json``.
    """
    loaded = [load_scenario(s, overrides) for s in scenarios]
    sources = {
        f"scenario{i}": str(s) for i, s in enumerate(scenarios) if not isinstance(s, Scenario)
    }
    design = compare_design(loaded, reps, seed, labels=list(labels) if labels else None,
                            sources=sources)  # fmt: skip
    folder = Path(out) if out else RESULTS / slug(f"compare-{design.name}", 80)
    summary = execute(design, folder, workers=workers, resume=resume and _started(folder))
    if summary.failed:
        raise RuntimeError(
            f"{summary.failed} run(s) failed; tracebacks are in {folder / 'failures'}"
        )
    return finish_comparison(folder)


def finish_comparison(folder: Path) -> dict[str, Any]:
    """Compute a finished compare folder's paired comparison and save ``comparison.json``."""
    return save_comparison(load_results(folder))


def save_comparison(results: Results) -> dict[str, Any]:
    """The paired comparison of an open compare folder, saved as its ``comparison.json``."""
    from simulation.store import write_json

    result = comparison(results)
    write_json(results.path / "comparison.json", result)
    return result


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
    folder = Path(out) if out else RESULTS / slug(design.name)
    execute(design, folder, workers=workers, resume=resume and _started(folder))
    return load_results(folder)


def _started(folder: Path) -> bool:
    """Whether ``folder`` already holds results (``resume=True`` then finishes or reuses them;
    otherwise it starts them, so a notebook can be run again and again)."""
    return (folder / "manifest.json").is_file()
