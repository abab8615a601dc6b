"""Run a design's runs in chunks, on one core, a local process pool or a Dask cluster.

The coordinator (this process) hands out *chunks* of runs, keeps only a bounded number in
flight, and makes each finished chunk durable in the results store before asking for more, so
memory stays flat however many runs a sweep has and a kill loses at most the chunks in flight.

A run's numbers depend only on its scenario and seed, never on which worker ran it or when:
results are identical to the last bit with 1 worker, 2 workers or Dask.

Workers import the model once (the pool preloads it; a Dask worker keeps its imports) and
rebuild each chunk's scenarios from plain dicts, which pickle small and travel to any machine.
Each chunk also carries the coordinator's source hash, and a worker running other code (a Dask
worker that joined late, say) refuses it. Pool workers exit when the coordinator dies.
"""

from __future__ import annotations

import ctypes
import logging
import math
import multiprocessing
import os
import signal
import socket
import sys
import threading
import time
import traceback
import warnings
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, CancelledError, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any

from simulation.batch.design import Design, SweepAborted, SweepError

if TYPE_CHECKING:
    from simulation.batch.store import ResultsStore

__all__ = [
    "RunSummary",
    "SweepAborted",
    "Task",
    "WorkerCodeMismatch",
    "check_address",
    "chunk_size",
    "default_workers",
    "make_tasks",
    "own_source",
    "run_design",
    "run_task",
]

MAX_CHUNK = 5  # runs per chunk: ~0.5 s of work at baseline size, small loss on a kill
SCENARIO_CACHE = 64  # design points whose scenario dicts the coordinator keeps between chunks
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
    source: str  # the coordinator's simulation source hash: a worker with other code refuses


class WorkerCodeMismatch(RuntimeError):
    """A worker refused a chunk: its simulation code differs from the coordinator's, so its
    numbers would not be the ones the results folder's manifest promises."""

    def __init__(self, worker: str, expected: str, actual: str) -> None:
        super().__init__(worker, expected, actual)  # all three, so it pickles back from a worker
        self.worker, self.expected, self.actual = worker, expected, actual

    def __str__(self) -> str:
        return (
            f"worker {self.worker} runs simulation source {self.actual}, the coordinator "
            f"{self.expected}"
        )


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


def make_tasks(design: Design, run_ids: Sequence[int], source: str | None = None) -> Iterator[Task]:
    """Chunks of the given runs, in order; each carries only the scenarios it needs.

    Args:
        source: the simulation source hash the runs must be computed with (default: this
            process's); a worker whose code differs refuses the chunk.
    """
    source = source or own_source()
    size = chunk_size(design.n_runs)
    dumped: dict[int, dict[str, Any]] = {}
    for start in range(0, len(run_ids), size):
        ids = tuple(run_ids[start : start + size])
        points = tuple(design.point_of(i)[0] for i in ids)
        # Bounded for huge designs, and emptied only between chunks so that a chunk whose
        # points straddle the limit still finds every one of them.
        if len(dumped) >= SCENARIO_CACHE:
            dumped.clear()
        for p in points:
            if p not in dumped:
                dumped[p] = design.points[p].scenario.model_dump(mode="json")
        yield Task(
            run_ids=ids,
            seeds=tuple(design.seed_of(i) for i in ids),
            points=points,
            scenarios={p: dumped[p] for p in set(points)},
            daily=design.daily,
            source=source,
        )


def own_source() -> str:
    """This process's simulation source hash, computed once (see :func:`store.own_source`).

    The coordinator computes it before its pool starts; forked workers inherit the value and
    fork-server workers are given it (see :func:`_preload`), so a worker checks chunks against
    the code it was started with rather than re-reading files that may have been edited since.
    """
    from simulation.batch.store import own_source as loaded

    return loaded()


def _worker_name() -> str:
    """The Dask worker's address, or this machine and process for a local worker."""
    try:
        from distributed import get_worker

        return get_worker().address
    except (ImportError, ValueError):  # ValueError: not inside a Dask worker
        return f"{socket.gethostname()} (pid {os.getpid()})"


def run_task(task: Task) -> list[dict[str, Any]]:
    """Worker side: run every run of a chunk; a run that raises is returned with its traceback.

    Raises:
        WorkerCodeMismatch: this worker's simulation code is not the coordinator's (a Dask
            worker that joined after the start-up check, say); none of the chunk is run.
    """
    from simulation.batch.runner import run_record
    from simulation.scenario.config import Scenario

    if task.source != own_source():
        raise WorkerCodeMismatch(_worker_name(), task.source, own_source())
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


def _preload(coordinator: int | None = None, source: str | None = None) -> None:
    """Worker start-up: import the model once; leave Ctrl-C and SIGTERM to the coordinator,
    exit when the coordinator (process id ``coordinator``) dies, and take its ``source`` hash
    as this worker's (a fork-server worker did not inherit it).

    Ctrl-C reaches every process of the terminal's group; the coordinator stops handing out
    work and waits for the chunks in flight, so a worker must not die mid-chunk on it.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    if coordinator is not None:
        _exit_with(coordinator)
    if source is not None:
        from simulation.batch.store import adopt_source

        adopt_source(source)
    import simulation.model.model  # noqa: F401


PR_SET_PDEATHSIG = 1  # from <sys/prctl.h>


def _exit_with(coordinator: int) -> None:
    """End this worker when the coordinator dies: an orphaned worker would wait for work forever.

    On Linux the kernel kills the worker when its parent dies (``PR_SET_PDEATHSIG``; the pool
    starts its workers from the coordinator's main thread, which lives as long as it does).
    Under the fork server the parent is the server, which exits when the coordinator does. A
    daemon thread also checks every second that the parent is unchanged and the coordinator
    alive, the only guard where ``prctl`` does not exist (macOS).
    """
    if sys.platform == "linux":
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    parent = os.getppid()
    watcher = threading.Thread(
        target=_watch, args=(coordinator, parent), name="watch-coordinator", daemon=True
    )
    watcher.start()


def _watch(coordinator: int, parent: int) -> None:
    while os.getppid() == parent and _running(coordinator):
        time.sleep(1.0)
    os._exit(1)


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, under another user
        return True
    return True


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
        ctx.set_forkserver_preload(["simulation.model.model"])
    with ProcessPoolExecutor(
        max_workers=workers,
        mp_context=ctx,
        initializer=_preload,
        initargs=(os.getpid(), own_source()),
    ) as pool:
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
    from simulation.batch.store import source_hash

    ours = own_source()
    theirs = client.run(source_hash)
    wrong = sorted(w for w, h in theirs.items() if h != ours)
    if wrong:
        raise SweepError(
            f"{len(wrong)} Dask worker(s) run different simulation code (source "
            f"{theirs[wrong[0]]}, here {ours}), e.g. {wrong[0]}; install this commit on every "
            "worker (pip install -e . from the same checkout) and restart them"
        )


def check_address(address: str) -> str:
    """``address`` if it has the form of a Dask scheduler address (``tcp://HOST:PORT``).

    Checked before anything is written or connected to, so a typo is one clear line.

    Raises:
        ValueError: the address is malformed; the message names it and the expected form.
    """
    try:
        from distributed.comm.addressing import parse_address, parse_host_port
        from distributed.comm.registry import get_backend
    except ImportError:
        return address  # the executor reports that Dask is missing
    try:
        scheme, location = parse_address(address)
        get_backend(scheme)  # an unknown scheme raises ValueError
        if scheme in ("tcp", "tls", "ws", "wss"):
            _, port = parse_host_port(location)
            if not 0 < port < 65536:
                raise ValueError(f"port {port} is outside 1-65535")
    except ValueError as exc:
        raise ValueError(
            f"'{address}' is not a Dask scheduler address ({exc}); expected tcp://HOST:PORT, "
            "e.g. tcp://10.0.0.5:8786"
        ) from None
    return address


@contextmanager
def _quiet(logger: str) -> Iterator[None]:
    """Silence a logger for a moment (Dask logs a lost scheduler as a traceback on close)."""
    log = logging.getLogger(logger)
    level = log.level
    log.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        log.setLevel(level)


def _dask(
    tasks: Iterator[Task], workers: int, address: str | None
) -> Iterator[tuple[Task, list[dict[str, Any]]]]:
    try:
        from distributed import Client, LocalCluster, as_completed
    except ImportError:
        raise SweepError(
            "the Dask executor: Dask is not installed; install it with "
            "pip install 'org-friction[distributed]' (or use the local executor)"
        ) from None
    cluster = None
    try:
        if address:
            try:
                check_address(address)
            except ValueError as exc:
                raise SweepError(f"the Dask scheduler address: {exc}") from None
            try:
                client = Client(address, timeout="10s")
            except OSError as exc:
                raise SweepError(
                    f"cannot reach a Dask scheduler at {address} ({exc}); check the address "
                    "and that the scheduler is running"
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

            try:
                yield from _bounded(tasks, depth, submit, lambda _: next(queue), {})
            except (CancelledError, OSError) as exc:
                # Dask cancels every future when the client loses its scheduler.
                where = address or client.scheduler.address
                with _quiet("distributed.client"):
                    client.close()
                reason = getattr(exc, "reason", None) or type(exc).__name__
                raise SweepError(
                    f"the Dask scheduler at {where} was lost ({reason}); check that it runs "
                    "and is reachable"
                ) from None
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

    Interrupting (Ctrl-C, SIGTERM) leaves every finished chunk saved; a resume continues.
    Whatever stops a sweep, its message says how many runs are saved and how to resume
    (``store.resume_hint``; for an unexpected error, as a note on the exception).

    Raises:
        SweepAborted: a worker process died; finished runs are saved.
        DiskFull: the disk filled up; finished runs are saved.
        SweepError: bad Dask settings, a lost Dask scheduler, or a worker running other
            simulation code (its chunk is not recorded); finished runs are saved.
    """
    from simulation.batch.store import DiskFull

    if executor not in EXECUTORS:
        raise SweepError(f"executor: expected one of {', '.join(EXECUTORS)}, got '{executor}'")
    todo = store.pending()
    # Computed here, before a pool forks its workers, which then inherit it (see own_source).
    tasks = make_tasks(design, todo, own_source())
    if executor == "dask":
        stream = _dask(tasks, workers, address)
    elif workers <= 1 or len(todo) <= chunk_size(design.n_runs):
        stream = _serial(tasks)
    else:
        stream = _pool(tasks, workers)
    start = last = time.perf_counter()
    ran = 0

    def saved() -> str:
        done = f"{len(store.done)} of {design.n_runs} runs are saved in {store.root}"
        return f"{done}; {store.resume_hint}"

    try:
        for task, results in stream:
            now = time.perf_counter()
            store.record(results, elapsed=now - last)
            last = now
            ran += len(task.run_ids)
            if progress is not None:
                progress(ran, len(todo))
    except BrokenProcessPool:
        raise SweepAborted(f"a worker process died (out of memory, or killed); {saved()}") from None
    except WorkerCodeMismatch as exc:
        who = "Dask worker" if executor == "dask" else "worker"
        raise SweepError(
            f"{who} {exc.worker} runs different simulation code (source {exc.actual}, here "
            f"{exc.expected}), so its chunk was not recorded; install this commit on every "
            f"worker (pip install -e . from the same checkout) and restart them; {saved()}"
        ) from None
    except DiskFull:
        raise  # its message already says what is saved
    except SweepError as exc:
        raise type(exc)(f"{exc}; {saved()}") from None
    except Exception as exc:  # a bug: keep its traceback, and say what is safe
        exc.add_note(saved())
        raise
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
    """The cores this process may use (the default number of workers).

    Linux reports the cores this process is allowed on; elsewhere (macOS) every core counts.
    """
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1
