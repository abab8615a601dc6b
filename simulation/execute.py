"""Run a design's runs in chunks, on one core, a local process pool or a Dask cluster.

The coordinator (this process) hands out *chunks* of runs, keeps only a bounded number in
flight, and makes each finished chunk durable in the results store before asking for more, so
memory stays flat however many runs a sweep has and a kill loses at most the chunks in flight.

A run's numbers depend only on its scenario and seed, never on which worker ran it or when:
results are identical to the last bit with 1 worker, 2 workers or Dask.

Workers import the model once (the pool preloads it; a Dask worker keeps its imports) and
rebuild each chunk's scenarios from plain dicts, which pickle small and travel to any machine.
"""

from __future__ import annotations

import math
import multiprocessing
import os
import signal
import threading
import time
import traceback
import warnings
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any

from simulation.design import Design, SweepAborted, SweepError

if TYPE_CHECKING:
    from simulation.store import ResultsStore

__all__ = [
    "RunSummary",
    "SweepAborted",
    "Task",
    "chunk_size",
    "make_tasks",
    "run_design",
    "run_task",
]

MAX_CHUNK = 5  # runs per chunk: ~0.5 s of work at baseline size, small loss on a kill
EXECUTORS = ("local", "dask")

#: Called after each finished chunk with (runs done, runs to do this session).
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class Task:
    """A chunk of runs: ids, seeds and the scenario (as a dict) of each run's design point."""

    run_ids: tuple[int, ...]
    seeds: tuple[int, ...]
    points: tuple[int, ...]
    scenarios: dict[int, dict[str, Any]]
    daily: bool


@dataclass
class RunSummary:
    done: int
    failed: int
    n_runs: int
    ran: int  # runs executed in this session
    seconds: float
    workers: int
    executor: str
    reused: bool = False  # a finished comparison of the same inputs, read, not run again

    @property
    def rate(self) -> float:
        return self.ran / self.seconds if self.seconds > 0 else math.nan


def chunk_size(n_runs: int) -> int:
    """Runs per chunk: a function of the design only (never of the worker count)."""
    return max(1, min(MAX_CHUNK, math.ceil(n_runs / 64)))


def make_tasks(design: Design, run_ids: Sequence[int]) -> Iterator[Task]:
    """Chunks of the given runs, in order; each carries only the scenarios it needs."""
    size = chunk_size(design.n_runs)
    dumped: dict[int, dict[str, Any]] = {}
    for start in range(0, len(run_ids), size):
        ids = tuple(run_ids[start : start + size])
        points = tuple(design.point_of(i)[0] for i in ids)
        for p in points:
            if p not in dumped:
                if len(dumped) > 64:  # keep the coordinator's cache small for huge designs
                    dumped.clear()
                dumped[p] = design.points[p].scenario.model_dump(mode="json")
        yield Task(
            run_ids=ids,
            seeds=tuple(design.seed_of(i) for i in ids),
            points=points,
            scenarios={p: dumped[p] for p in set(points)},
            daily=design.daily,
        )


def run_task(task: Task) -> list[dict[str, Any]]:
    """Worker side: run every run of a chunk; a run that raises is returned with its traceback."""
    from simulation.config import Scenario
    from simulation.runner import run_record

    built: dict[int, Scenario] = {}
    out = []
    for run_id, seed, point in zip(task.run_ids, task.seeds, task.points, strict=True):
        try:
            if point not in built:
                built[point] = Scenario.model_validate(task.scenarios[point])
            rec = run_record(built[point], seed, daily=task.daily)
            out.append({"run_id": run_id, **rec, "error": None})
        except Exception:
            out.append(
                {"run_id": run_id, "values": None, "daily": None, "error": traceback.format_exc()}
            )
    return out


# --------------------------------------------------------------------------------------------
# Executors: each yields (task, results) as chunks finish, keeping at most `depth` in flight
# --------------------------------------------------------------------------------------------


def _serial(tasks: Iterator[Task]) -> Iterator[tuple[Task, list[dict[str, Any]]]]:
    for task in tasks:
        yield task, run_task(task)


def _preload() -> None:
    """Worker start-up: import the model once; leave Ctrl-C and SIGTERM to the coordinator.

    Ctrl-C reaches every process of the terminal's group; the coordinator stops handing out
    work and waits for the chunks in flight, so a worker must not die mid-chunk on it.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    import simulation.model  # noqa: F401


def start_method() -> str:
    """``fork`` where it is safe, else ``forkserver``.

    Forking copies this process with the model already imported, so workers start in
    milliseconds instead of re-importing numpy, scipy and Mesa (about a second on this machine,
    which costs 2-worker efficiency on short sweeps). It is unsafe when another Python thread
    may hold a lock the child inherits; then the fork server is used, preloaded with the model,
    so workers still import it once. Native helper threads (OpenBLAS, Arrow) register fork
    handlers and are not Python locks, so they do not count.
    """
    if "fork" in multiprocessing.get_all_start_methods() and threading.active_count() == 1:
        return "fork"
    return "forkserver"


def _pool(tasks: Iterator[Task], workers: int) -> Iterator[tuple[Task, list[dict[str, Any]]]]:
    ctx = multiprocessing.get_context(start_method())
    if ctx.get_start_method() == "forkserver":
        ctx.set_forkserver_preload(["simulation.model"])
    with ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=_preload) as pool:
        with warnings.catch_warnings():
            # Python warns on fork whenever the OS reports more than one thread, which numpy's
            # OpenBLAS and Arrow always start; see start_method for why that is safe here.
            warnings.filterwarnings(
                "ignore", "This process .* is multi-threaded", DeprecationWarning
            )
            pool.submit(_preload).result()  # starts every worker now, inside this filter
        inflight: dict[Future[list[dict[str, Any]]], Task] = {}
        try:
            submit = partial(pool.submit, run_task)
            yield from _bounded(tasks, 2 * workers, submit, _first_finished, inflight)
        finally:
            for fut in inflight:
                fut.cancel()


def _bounded(
    tasks: Iterator[Task],
    depth: int,
    submit: Callable[[Task], Any],
    next_finished: Callable[[dict[Any, Task]], Any],
    inflight: dict[Any, Task],
) -> Iterator[tuple[Task, list[dict[str, Any]]]]:
    """Keep up to ``depth`` tasks in flight; yield each as it finishes and top up the queue.

    ``submit`` turns a task into a future; ``next_finished`` waits for one future of
    ``inflight`` to finish and returns it (concurrent.futures and Dask futures differ there).
    """
    exhausted = False
    while True:
        while not exhausted and len(inflight) < depth:
            task = next(tasks, None)
            if task is None:
                exhausted = True
                break
            inflight[submit(task)] = task
        if not inflight:
            return
        fut = next_finished(inflight)
        task = inflight.pop(fut)
        yield task, fut.result()


def _first_finished(inflight: dict[Future[Any], Task]) -> Future[Any]:
    done, _ = wait(list(inflight), return_when=FIRST_COMPLETED)
    return min(done, key=lambda f: inflight[f].run_ids[0])


def _check_worker_code(client: Any) -> None:
    """Refuse Dask workers whose simulation code differs from ours: their runs would not match."""
    from simulation.store import source_hash

    ours = source_hash()
    theirs = client.run(source_hash)
    wrong = sorted(w for w, h in theirs.items() if h != ours)
    if wrong:
        raise SweepError(
            f"--address: {len(wrong)} Dask worker(s) run different simulation code (source "
            f"{theirs[wrong[0]]}, here {ours}), e.g. {wrong[0]}; install this commit on every "
            "worker (pip install -e . from the same checkout) and restart them"
        )


def _dask(
    tasks: Iterator[Task], workers: int, address: str | None
) -> Iterator[tuple[Task, list[dict[str, Any]]]]:
    try:
        from distributed import Client, LocalCluster, as_completed
    except ImportError:
        raise SweepError(
            "--executor dask: Dask is not installed; install it with "
            "pip install 'org-friction[distributed]' (or use --executor local)"
        ) from None
    cluster = None
    try:
        if address:
            try:
                client = Client(address, timeout="10s")
            except OSError as exc:
                raise SweepError(
                    f"--address: cannot reach a Dask scheduler at {address} ({exc}); check the "
                    "address and that the scheduler is running"
                ) from None
        else:
            cluster = LocalCluster(
                n_workers=workers,
                threads_per_worker=1,
                processes=True,
                host="127.0.0.1",
                dashboard_address=None,
            )
            client = Client(cluster)
        with client:
            _check_worker_code(client)
            depth = 2 * max(1, len(client.scheduler_info().get("workers", {})) or workers)
            queue = as_completed()

            def submit(task: Task) -> Any:
                fut = client.submit(run_task, task, pure=False)
                queue.add(fut)
                return fut

            yield from _bounded(tasks, depth, submit, lambda _: next(queue), {})
    finally:
        if cluster is not None:
            cluster.close()


# --------------------------------------------------------------------------------------------
# The loop
# --------------------------------------------------------------------------------------------


def run_design(
    design: Design,
    store: ResultsStore,
    workers: int = 1,
    executor: str = "local",
    address: str | None = None,
    progress: Progress | None = None,
) -> RunSummary:
    """Run every pending run of ``design`` into ``store`` and finalise the store.

    Interrupting (Ctrl-C, SIGTERM) leaves every finished chunk saved; ``--resume`` continues.

    Raises:
        SweepAborted: a worker process died; finished runs are saved.
    """
    if executor not in EXECUTORS:
        raise SweepError(f"--executor: expected one of {', '.join(EXECUTORS)}, got '{executor}'")
    todo = store.pending()
    tasks = make_tasks(design, todo)
    if executor == "dask":
        stream = _dask(tasks, workers, address)
    elif workers <= 1 or len(todo) <= chunk_size(design.n_runs):
        stream = _serial(tasks)
    else:
        stream = _pool(tasks, workers)
    start = last = time.perf_counter()
    ran = 0
    try:
        for task, results in stream:
            now = time.perf_counter()
            store.record(results, elapsed=now - last)
            last = now
            ran += len(task.run_ids)
            if progress is not None:
                progress(ran, len(todo))
    except BrokenProcessPool:
        raise SweepAborted(
            f"a worker process died (out of memory, or killed); {len(store.done)} of "
            f"{design.n_runs} runs are saved in {store.root}; run again with --resume"
        ) from None
    finally:
        stream.close()
    store.finalize()
    return RunSummary(
        done=len(store.done),
        failed=len(store.failed),
        n_runs=design.n_runs,
        ran=ran,
        seconds=time.perf_counter() - start,
        workers=workers,
        executor=executor,
    )


def default_workers() -> int:
    """The cores this process may use (the default number of workers)."""
    return len(os.sched_getaffinity(0))
