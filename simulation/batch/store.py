"""The results store: one folder per sweep or comparison, safe to kill at any moment.

Layout of ``results/<name>/``::

    manifest.json        what was run: config and its hash, design, seeds, code and package
                         versions, the files read (relative to the folder), written once,
                         before the first run
    parts/runs-A-B.parquet   finished runs A..B (one file per finished chunk of runs)
    parts/daily-A-B.parquet  their daily series, when recorded
    failures/run-N.txt   the traceback of a run that raised
    ledger.json          progress: runs done and failed, each part's checksum, the checksums of
                         the consolidated files once built, whether the sweep is complete
    runs.parquet         every finished run, one row each, sorted by run id (built at the end)
    daily.parquet        daily series, one row per run and day (built at the end, if recorded)
    points.parquet       per design point: mean and 95% interval of every KPI over replications

Durability. Every file is written to a temporary name next to it (``.<name>.tmp-<pid>``),
flushed to disk and renamed into place (``os.replace`` is atomic on POSIX), so a reader or a
resumed sweep sees either the whole file or none of it. A run counts as done only once the part
file holding its row is in place; the ledger is rebuilt from the part files on resume, so a kill
between the two loses nothing. Only friction's own leftover temporary files are removed.

Trust. Each part carries its run ids and a checksum of its content in its parquet metadata, and
the ledger records the checksum of every part and consolidated file. A resume or a reader checks
them, recomputes the manifest's config hash, checks the manifest against the runs it describes
(counting the design before building any of it, and building only the points it runs again)
and runs one or two recorded runs again from the manifest alone; anything that does not match
(a damaged or stray file, an edited manifest) is refused with a message naming it. A rerun
that matched is recorded in the ledger ("verified", keyed by the folder's content and this code
and platform), so the next reader of the same folder skips it.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import json
import os
import platform
import re
import subprocess
import sys
import time
from collections.abc import Iterable, Iterator, Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from simulation.batch.design import Design, SweepError, design_from_config, run_seed
from simulation.common.formats import json_ready
from simulation.scenario.config import get_dotted
from simulation.scenario.loader import canonical_hash

__all__ = [
    "FORMAT",
    "DiskFull",
    "ResultsStore",
    "ResumeRefused",
    "adopt_source",
    "atomic_write",
    "code_version",
    "open_finished",
    "package_versions",
    "source_hash",
    "write_json",
]

FORMAT = 2  # 2: parts and consolidated files carry checksums, sources are relative
MANIFEST, LEDGER = "manifest.json", "ledger.json"
RUNS, DAILY, POINTS = "runs.parquet", "daily.parquet", "points.parquet"
PARTS, FAILURES = "parts", "failures"
TMP_MARK = ".tmp-"
PART_RE = re.compile(r"^(runs|daily)-(\d+)-(\d+)\.parquet$")
FAILURE_RE = re.compile(r"^run-\d+\.txt$")
TMP_RE = re.compile(r"^\.(.+)\.tmp-\d+$")  # what _replacing names its temporary files
#: Files friction writes at the top of a results folder (their leftover temporary files go).
OWN_FILES = (MANIFEST, LEDGER, RUNS, DAILY, POINTS, "comparison.json", "diagnosis.json")
META_IDS, META_SUM = b"friction.run_ids", b"friction.sha256"
REL_TOL = 1e-9  # a run repeated from the manifest must match its stored values this closely
#: Packages whose version can change a run's numbers: a resume across a change is refused.
RESULT_PACKAGES = ("mesa", "numpy", "scipy")
REPORTED_PACKAGES = (*RESULT_PACKAGES, "pandas", "pyarrow", "pydantic", "networkx")
RUN_WINDOW = 20_000  # runs consolidated at a time (bounds memory at the end of a big sweep)
DAILY_WINDOW = 500  # runs of daily series consolidated at a time (~150k rows)
ROW_GROUP = 10_000
_LOCKED: set[str] = set()  # folders this process holds the lock of
#: How to resume, in library messages; the command line says "run the same command with --resume".
RESUME_IT = "resume it"
#: How a reader says to finish a folder, whichever way it is read.
FINISH_IT = (
    "finish it by resuming the compare or sweep that wrote it (--resume on the command line, "
    "resume=True from Python)"
)


class ResumeRefused(SweepError):
    """A results folder was started with other inputs (design, code, package versions)."""


class DiskFull(SweepError):
    """The disk filled up while writing; every finished run is saved (exit 2: free space)."""


# --------------------------------------------------------------------------------------------
# Files
# --------------------------------------------------------------------------------------------


@contextlib.contextmanager
def _replacing(path: Path) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; once written, flush it and rename it into place.

    On any error the temporary file is removed and ``path`` is left as it was.
    """
    tmp = path.with_name(f".{path.name}{TMP_MARK}{os.getpid()}")
    try:
        yield tmp
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
    _fsync_dir(path.parent)


def atomic_write(path: Path, data: bytes | None = None, table: pa.Table | None = None) -> None:
    """Write bytes or a parquet table to ``path`` via a temporary file, fsync and rename."""
    with _replacing(path) as tmp:
        if table is not None:
            pq.write_table(table, tmp, row_group_size=ROW_GROUP, compression="zstd")
        else:
            tmp.write_bytes(data or b"")


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_json(path: Path, value: Any) -> None:
    """Write ``value`` as indented JSON, NaN as null, atomically."""
    text = json.dumps(json_ready(value), indent=2, default=str, allow_nan=False) + "\n"
    atomic_write(path, text.encode("utf-8"))


def _ranges(ids: Iterable[int]) -> list[list[int]]:
    """``[0, 1, 2, 5]`` -> ``[[0, 2], [5, 5]]`` (a compact ledger)."""
    out: list[list[int]] = []
    for i in sorted(ids):
        if out and out[-1][1] == i - 1:
            out[-1][1] = i
        else:
            out.append([i, i])
    return out


def _expand(ranges: Iterable[Sequence[int]]) -> list[int]:
    """``[[0, 2], [5, 5]]`` -> ``[0, 1, 2, 5]``."""
    return [i for lo, hi in ranges for i in range(int(lo), int(hi) + 1)]


class Checksum:
    """sha256 of a table's content (column names, types and values), however it is chunked,
    so a file can be checked window by window against the checksum of the table written."""

    def __init__(self) -> None:
        self._columns: dict[str, Any] = {}

    def update(self, table: pa.Table) -> Checksum:
        for name, column in zip(table.column_names, table.columns, strict=True):
            digest = self._columns.get(name)
            if digest is None:
                digest = self._columns[name] = hashlib.sha256(f"{name}:{column.type}".encode())
            for chunk in column.chunks:
                values = chunk.to_numpy(zero_copy_only=False)
                if values.dtype.kind in "biuf":
                    digest.update(np.ascontiguousarray(values).tobytes())
                else:
                    for v in values.tolist():
                        digest.update(json.dumps(v).encode() + b"\n")
        return self

    def hexdigest(self) -> str:
        total = hashlib.sha256()
        for digest in self._columns.values():
            total.update(digest.digest())
        return total.hexdigest()


def checksum(table: pa.Table) -> str:
    return Checksum().update(table).hexdigest()


def read_checked(path: Path, expected: str | None = None) -> pa.Table:
    """Read a parquet file and check its content against its own recorded checksum and
    ``expected`` (the ledger's).

    Raises:
        SweepError: the file is unreadable (truncated, damaged) or its content changed.
    """
    try:
        table = pq.read_table(path, use_threads=False)
    except (pa.ArrowException, OSError) as exc:
        raise SweepError(
            f"{path}: cannot be read ({exc}): the file is truncated or damaged"
        ) from None
    own = (table.schema.metadata or {}).get(META_SUM)
    actual = checksum(table)
    if own is not None and own.decode() != actual:
        raise SweepError(f"{path}: its content does not match the checksum friction wrote in it")
    if expected is not None and expected != actual:
        raise SweepError(
            f"{path}: its content does not match the checksum the ledger recorded for it (it "
            "was replaced or changed after friction wrote it)"
        )
    return table


@contextlib.contextmanager
def disk_full_is_a_user_error(what: str) -> Iterator[None]:
    """Turn a full disk (or quota) while writing into :class:`DiskFull`, saying ``what`` to do."""
    try:
        yield
    except OSError as exc:
        if exc.errno not in (errno.ENOSPC, errno.EDQUOT):
            raise
        where = exc.filename or "a results file"
        raise DiskFull(f"disk full: could not write {where}; {what}") from None


# --------------------------------------------------------------------------------------------
# Versions
# --------------------------------------------------------------------------------------------


_SOURCE: list[str] = []  # this process's source hash, once known


def own_source() -> str:
    """The source hash of the code this process loaded, computed once (it reads every file)."""
    if not _SOURCE:
        _SOURCE.append(source_hash())
    return _SOURCE[0]


def adopt_source(source: str) -> None:
    """Take the coordinator's source hash as this worker's (a fork-server worker starts fresh
    and would otherwise hash files that may have been edited since the coordinator loaded them)."""
    _SOURCE[:] = [source]


def source_hash() -> str:
    """Hash of every ``.py`` file of the simulation package (catches any code change, even
    without git: an installed copy, a tarball, a Dask worker)."""
    import simulation

    pkg = Path(simulation.__file__).parent
    digest = hashlib.sha256()
    for path in sorted(pkg.rglob("*.py")):
        digest.update(path.relative_to(pkg).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def code_version() -> dict[str, Any]:
    """Package version, the source hash, the git commit when there is one, and the platform
    (floating point may differ in its last bits on another one)."""
    import simulation

    try:
        version = metadata.version("org-friction")
    except metadata.PackageNotFoundError:
        version = "unknown"
    commit = None
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        out = subprocess.run(
            ["git", "-C", str(Path(simulation.__file__).parent), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=5,
        )
        if out.returncode == 0:
            commit = out.stdout.strip()
    return {"version": version, "source_hash": own_source(), "git_commit": commit,
            **this_platform()}  # fmt: skip


def this_platform() -> dict[str, str]:
    return {"machine": platform.machine(), "platform": sys.platform}


def package_versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for name in REPORTED_PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


# --------------------------------------------------------------------------------------------
# Schema
# --------------------------------------------------------------------------------------------


def _arrow_type(value: Any) -> pa.DataType:
    if isinstance(value, bool):
        return pa.bool_()
    if isinstance(value, int):
        return pa.int64()
    if isinstance(value, float):
        return pa.float64()
    return pa.string()


def axis_value(design: Design, point: int, column: str) -> Any:
    """The value a design point gives an axis column, as the scenario holds it (typed)."""
    p = design.points[point]
    if design.kind == "compare":
        return p.values[column]
    return get_dotted(p.scenario, column)


def runs_schema(design: Design, value_columns: Sequence[str]) -> pa.Schema:
    fields = [
        pa.field("run_id", pa.int64()),
        pa.field("point", pa.int64()),
        pa.field("replication", pa.int64()),
        pa.field("seed", pa.int64()),
    ]
    fields += [pa.field(c, _arrow_type(axis_value(design, 0, c))) for c in design.columns]
    fields += [pa.field(c, pa.float64()) for c in value_columns]
    return pa.schema(fields)


def daily_schema(series: Sequence[str]) -> pa.Schema:
    fields = [pa.field("run_id", pa.int64()), pa.field("point", pa.int64())]
    fields += [pa.field("replication", pa.int64())]
    fields += [pa.field(s, pa.int64() if s == "day" else pa.float64()) for s in series]
    return pa.schema(fields)


# --------------------------------------------------------------------------------------------
# The lock
# --------------------------------------------------------------------------------------------


def _take_lock(root: Path) -> tuple[Any, str]:
    """Take the exclusive lock of a results folder; returns its file and key to release it.

    A POSIX record lock (``lockf``) belongs to this process only: worker processes forked
    from it do not inherit it, so a coordinator killed with SIGKILL frees the folder at once
    even if a worker outlives it. Record locks do not exclude the same process, so folders
    locked here are also remembered in ``_LOCKED``.

    Raises:
        SweepError: another process (or this one) holds it.
    """
    root.mkdir(parents=True, exist_ok=True)
    key = str(root.resolve())
    busy = SweepError(
        f"--out: another friction process is writing to {root}; wait for it to finish or stop "
        "it first"
    )
    if key in _LOCKED:  # checked before opening: closing any descriptor of the lock file
        raise busy  # would drop this process's record lock
    fh = open(root / ".lock", "a+")  # noqa: SIM115 - held until _release_lock
    try:
        fcntl.lockf(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        fh.close()
        raise busy from None
    _LOCKED.add(key)
    return fh, key


def _release_lock(fh: Any, key: str) -> None:
    fh.close()
    _LOCKED.discard(key)


# --------------------------------------------------------------------------------------------
# The store
# --------------------------------------------------------------------------------------------


class ResultsStore:
    """A results folder for one design; see the module docstring for the layout."""

    def __init__(self, root: Path, design: Design, value_columns: Sequence[str],
                 series: Sequence[str], resume_hint: str = RESUME_IT) -> None:  # fmt: skip
        self.root = root
        self.resume_hint = resume_hint  # how the caller resumes (a command line, a function)
        self.design = design
        self.value_columns = list(value_columns)
        self.series = list(series)
        self.schema = runs_schema(design, value_columns)
        self.daily_schema = daily_schema(series)
        self.done: set[int] = set()
        self.failed: dict[int, str] = {}
        self.parts: dict[str, str] = {}  # part file name -> checksum of its content
        self.files: dict[str, str] = {}  # consolidated file name -> checksum, once built
        self.elapsed = 0.0
        self.reused = False  # a finished comparison of the same inputs, opened to be read
        self._lock_fh: Any = None
        self._lock_key = ""

    # --- opening -------------------------------------------------------------------------

    @classmethod
    def open(
        cls,
        root: Path,
        design: Design,
        value_columns: Sequence[str],
        series: Sequence[str],
        resume: bool,
        command: Sequence[str] = (),
        resume_hint: str = RESUME_IT,
    ) -> ResultsStore:
        """Create the folder for a new design, or reopen it to resume the same design.

        A finished comparison of the same inputs (scenarios, replications, seed, code and
        package versions) is reused even without ``resume``: its results are what a rerun
        would give (``reused`` is then true and nothing is to run).

        Args:
            resume_hint: how the caller resumes, for messages ("run the same command with
                --resume" on the command line).

        Raises:
            SweepError: the folder holds other results (or the same unfinished ones, without
                ``resume``), the design changed since they were written, a file of the folder
                is damaged or edited, or another process is writing.
        """
        store = cls(root, design, value_columns, series, resume_hint)
        if (root / MANIFEST).exists():
            store._lock()
            try:
                store._reopen(resume)
            except BaseException:
                store._unlock()
                raise
            return store
        if resume:
            raise SweepError(
                f"--resume: there is nothing to resume in {root} (no {MANIFEST}); "
                "run without --resume to start"
            )
        if root.exists() and not _only_start_files(root):
            raise SweepError(
                f"--out: {root} exists and is not a results folder (no {MANIFEST}); choose an "
                "empty or new folder"
            )
        again = "free some space, then run the same command again"
        with disk_full_is_a_user_error(again):
            store._lock()
        try:
            with disk_full_is_a_user_error(again):
                (root / PARTS).mkdir(exist_ok=True)
                (root / FAILURES).mkdir(exist_ok=True)
                write_json(root / MANIFEST, store._manifest(command))
            with store._disk_full_note():
                store._write_ledger(complete=False)
        except BaseException:
            store._unlock()
            raise
        return store

    def _reopen(self, resume: bool) -> None:
        old = read_manifest(self.root)
        if not resume:
            ledger = read_ledger(self.root)
            if old["kind"] == "compare" and not self._changes(old) and ledger.get("complete"):
                open_finished(self.root, holding_lock=True)  # the same inputs: reuse, once checked
                self.reused = True
                return
            state = (
                "complete"
                if ledger.get("complete")
                else f"{ledger.get('done', 0)} of {old['design']['n_runs']} runs done"
            )
            raise SweepError(
                f"--out: {self.root} already holds the results of {old['kind']} "
                f"'{old['name']}' ({state}); add --resume to finish or reuse them, "
                "choose another folder with --out, or delete this one"
            )
        self._check_same(old)
        self._recover()

    def _manifest(self, command: Sequence[str]) -> dict[str, Any]:
        d = self.design
        here = self.root.resolve()
        record = design_record(d)
        return {
            "format": FORMAT,
            "kind": record["kind"],
            "name": record["name"],
            "created_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "command": list(command),
            "config_hash": record["config_hash"],
            "config": record["config"],
            "sources": {k: os.path.relpath(Path(v).resolve(), here) for k, v in d.sources.items()},
            "code": code_version(),
            "packages": package_versions(),
            "seeds": record["seeds"],
            "design": record["design"],
            "outputs": self._outputs(),
        }

    def _outputs(self) -> dict[str, list[str]]:
        return {"values": self.value_columns, "daily_series": self.series}

    def _changes(self, old: dict[str, Any]) -> list[str]:
        """What differs between the folder's inputs and this design's, in readable words."""
        changes = []
        if old["format"] != FORMAT:
            changes.append(f"the results format ({old['format']} -> {FORMAT})")
        if old["config_hash"] != self.design.config_hash:
            diffs = _diff(old["config"], self.design.config)
            what = (
                "the sweep file or its base scenario" if old["kind"] == "sweep" else "the scenarios"
            )
            changes.append(f"{what} ({_shown(diffs)})")
        now_source = own_source()
        if old["code"]["source_hash"] != now_source:
            changes.append(
                f"the simulation code (version {old['code'].get('version')} source "
                f"{old['code']['source_hash']} -> source {now_source})"
            )
        now = package_versions()
        for name in RESULT_PACKAGES:
            if old["packages"].get(name) != now.get(name):
                changes.append(f"package {name} ({old['packages'].get(name)} -> {now.get(name)})")
        if old["outputs"] != self._outputs():
            changes.append("the recorded outputs (a version of friction with other KPI columns)")
        return changes

    def _check_same(self, old: dict[str, Any]) -> None:
        """Refuse to resume when anything that defines the runs has changed, naming it.

        The manifest is checked for edits by hand: when its config is this design's (same
        hash), against this design, already built, rather than a second one rebuilt from it.
        """
        where = self.root / MANIFEST
        if old["format"] == FORMAT:
            if canonical_hash(old["config"]) == old["config_hash"] == self.design.config_hash:
                record = design_record(self.design)
                _refuse_edits(where, _diff(_plain(record), _plain({k: old.get(k) for k in record})))
            else:
                manifest_design(old, where)
        changes = self._changes(old)
        if changes:
            raise ResumeRefused(
                f"--resume: {self.root} was started with different inputs, so its runs would "
                f"not match new ones; changed: {', and '.join(changes)}. Restore them, or start "
                "afresh with another --out folder"
            )

    def _lock(self) -> None:
        """Hold an exclusive lock on the folder while writing (see :func:`_take_lock`)."""
        self._lock_fh, self._lock_key = _take_lock(self.root)

    def _unlock(self) -> None:
        if self._lock_fh is not None:
            _release_lock(self._lock_fh, self._lock_key)
            self._lock_fh = None

    def close(self) -> None:
        self._unlock()

    # --- state ---------------------------------------------------------------------------

    def _parts(self, kind: str) -> list[tuple[int, int, Path]]:
        out = []
        folder = self.root / PARTS
        for path in folder.iterdir() if folder.exists() else ():
            m = PART_RE.match(path.name)
            if m and m.group(1) == kind:
                out.append((int(m.group(2)), int(m.group(3)), path))
        return sorted(out)

    def _recover(self) -> None:
        """Rebuild the state from the verified part files; drop friction's half-written files.

        A part the ledger does not list (written just before a kill) counts when its checksum
        holds and its runs are in no other part. With daily series on, runs whose daily part
        is missing are not done: their runs part goes (its checksum proves friction wrote it)
        and they run again, so daily.parquet always covers exactly the runs of runs.parquet.

        Raises:
            SweepError: a part is unreadable, changed since it was written, or a stray copy.
        """
        for path in own_temp_files(self.root):
            path.unlink()
        ledger = read_ledger(self.root)
        known = ledger.get("parts") or {}
        runs = self._verified_parts("runs", known)
        daily = self._verified_parts("daily", known)
        for name, (ids, _) in list(daily.items()):
            partner = runs.get(name.replace("daily-", "runs-", 1))
            if partner is None or partner[0] != ids:  # an orphan: its runs will run again
                (self.root / PARTS / name).unlink()
                del daily[name]
        if self.design.daily:
            for name in list(runs):
                if name.replace("runs-", "daily-", 1) not in daily:
                    (self.root / PARTS / name).unlink()
                    del runs[name]
        self.done = {i for ids, _ in runs.values() for i in ids}
        self.parts = {name: c for found in (runs, daily) for name, (_, c) in found.items()}
        self.failed = {}
        for path in sorted((self.root / FAILURES).glob("run-*.txt")):
            run_id = int(path.stem.split("-")[1])
            if run_id not in self.done:
                self.failed[run_id] = path.name
        self.elapsed = float(ledger.get("elapsed_s", 0.0))
        files = ledger.get("files") or {}
        self.files = files if set(self.parts) == set(known) else {}
        if runs:
            first, last = min(runs), max(runs)
            rows = read_checked(self.root / PARTS / first).slice(0, 1).to_pylist()
            rows += read_checked(self.root / PARTS / last).to_pylist()[-1:]
            check_rerun(self.design, rows, self.value_columns, self.root / MANIFEST)
        with self._disk_full_note():
            self._write_ledger(complete=False)

    def _verified_parts(self, kind: str, known: dict[str, str]) -> dict[str, tuple[list[int], str]]:
        """``{name: (run ids, checksum)}`` of the parts of one kind, each checked; parts the
        ledger lists first, so a stray copy (not listed, overlapping) is the one named."""
        schema = self.schema if kind == "runs" else self.daily_schema
        found: dict[str, tuple[list[int], str]] = {}
        owner: dict[int, str] = {}
        parts = sorted(self._parts(kind), key=lambda p: (p[2].name not in known, p[0], p[1]))
        for lo, hi, path in parts:
            again = f"move it out of {self.root / PARTS}, then {self.resume_hint}"
            try:
                table = read_checked(path, known.get(path.name))
            except SweepError as exc:
                raise SweepError(f"{exc}; {again} (its runs then run again)") from None
            ids = _part_ids(table, schema, kind == "runs")
            if ids is None or ids[0] < lo or ids[-1] > hi or hi >= self.design.n_runs:
                raise SweepError(f"{path}: not a part friction wrote for this design; {again}")
            clash = sorted({owner[i] for i in ids if i in owner})
            if clash:
                raise SweepError(
                    f"{path}: holds runs that {self.root / PARTS / clash[0]} also holds, so "
                    f"it is a stray copy; {again}"
                )
            owner.update(dict.fromkeys(ids, path.name))
            found[path.name] = (ids, table.schema.metadata[META_SUM].decode())
        return found

    def _write_ledger(self, complete: bool) -> None:
        ledger = {
            "n_runs": self.design.n_runs,
            "done": len(self.done),
            "failed": len(self.failed),
            "complete": complete,
            "elapsed_s": round(self.elapsed, 3),
            "done_ranges": _ranges(self.done),
            "failures": {str(k): f"{FAILURES}/{v}" for k, v in sorted(self.failed.items())},
            "parts": dict(sorted(self.parts.items())),
            "files": dict(self.files),
        }
        write_json(self.root / LEDGER, ledger)

    def pending(self) -> list[int]:
        """Run ids not yet done (failed runs are tried again), in order."""
        return [i for i in range(self.design.n_runs) if i not in self.done]

    def _disk_full_note(self) -> contextlib.AbstractContextManager[None]:
        return disk_full_is_a_user_error(
            f"the {len(self.done)} finished run(s) are saved in {self.root}; free some space, "
            f"then {self.resume_hint}"
        )

    # --- writing -------------------------------------------------------------------------

    def record(self, results: Sequence[dict[str, Any]], elapsed: float) -> None:
        """Make a finished chunk durable: its rows, its daily series, its failures, the ledger.

        ``results`` items: ``{"run_id", "values" | None, "daily" | None, "error" | None}``.

        Raises:
            DiskFull: the disk is full; the runs recorded before stay saved.
        """
        with self._disk_full_note():
            self._record(results, elapsed)

    def _record(self, results: Sequence[dict[str, Any]], elapsed: float) -> None:
        d = self.design
        rows, daily_tables, ok_ids = [], [], []
        for r in results:
            run_id = r["run_id"]
            point, rep = d.point_of(run_id)
            if r.get("error") is not None:
                self._record_failure(run_id, point, rep, r["error"])
                continue
            row = {"run_id": run_id, "point": point, "replication": rep, "seed": d.seed_of(run_id)}
            row.update({c: axis_value(d, point, c) for c in d.columns})
            row.update({c: r["values"][c] for c in self.value_columns})
            rows.append(row)
            ok_ids.append(run_id)
            if r.get("daily") is not None:
                n = len(r["daily"][self.series[0]])
                cols: dict[str, Any] = {
                    "run_id": [run_id] * n,
                    "point": [point] * n,
                    "replication": [rep] * n,
                }
                cols.update({s: r["daily"][s] for s in self.series})
                daily_tables.append(pa.table(cols, schema=self.daily_schema))
        if rows:
            lo, hi = min(ok_ids), max(ok_ids)
            if daily_tables:
                self._write_part(
                    f"daily-{lo:07d}-{hi:07d}.parquet", pa.concat_tables(daily_tables), ok_ids
                )
            table = pa.Table.from_pylist(rows, schema=self.schema)
            self._write_part(f"runs-{lo:07d}-{hi:07d}.parquet", table, ok_ids)
            self.done.update(ok_ids)
            self.files = {}  # the consolidated files no longer hold every run
            for run_id in ok_ids:
                if self.failed.pop(run_id, None) is not None:
                    with contextlib.suppress(FileNotFoundError):
                        (self.root / FAILURES / f"run-{run_id:07d}.txt").unlink()
        self.elapsed += elapsed
        self._write_ledger(complete=False)

    def _write_part(self, name: str, table: pa.Table, ids: Sequence[int]) -> None:
        """Write a part with its run ids and content checksum in its own metadata."""
        digest = checksum(table)
        meta = {META_IDS: json.dumps(_ranges(ids)).encode(), META_SUM: digest.encode()}
        atomic_write(self.root / PARTS / name, table=table.replace_schema_metadata(meta))
        self.parts[name] = digest

    def _record_failure(self, run_id: int, point: int, rep: int, error: str) -> None:
        d = self.design
        values = {c: axis_value(d, point, c) for c in d.columns}
        text = (
            f"run {run_id}: design point {point} {values}, replication {rep}, seed "
            f"{d.seed_of(run_id)}\n\n{error}"
        )
        name = f"run-{run_id:07d}.txt"
        atomic_write(self.root / FAILURES / name, text.encode("utf-8"))
        self.failed[run_id] = name

    # --- finishing -----------------------------------------------------------------------

    def finalize(self) -> None:
        """Build runs.parquet, daily.parquet and points.parquet from the parts, in run order,
        and record their checksums in the ledger (a reader trusts only recorded files).

        Raises:
            DiskFull: the disk is full; every finished run stays saved in its part.
            SweepError: the daily series do not cover exactly the runs (a part went missing).
        """
        with self._disk_full_note():
            if self._files_hold_every_run():
                self._write_ledger(
                    complete=not self.failed and len(self.done) == self.design.n_runs
                )
                return
            files = {}
            files[RUNS], run_ids = self._consolidate("runs", RUNS, self.schema, RUN_WINDOW)
            if self.design.daily:
                files[DAILY], daily_ids = self._consolidate(
                    "daily", DAILY, self.daily_schema, DAILY_WINDOW
                )
                if daily_ids != run_ids:
                    missing = sorted(run_ids ^ daily_ids)
                    raise SweepError(
                        f"{self.root}: the daily series of run(s) {_shown(missing)} are "
                        f"missing; {self.resume_hint} to run them again"
                    )
            files[POINTS] = self._write_points()
            self.files = files
            self._write_ledger(complete=not self.failed and len(self.done) == self.design.n_runs)

    def _files_hold_every_run(self) -> bool:
        """Whether the consolidated files the ledger recorded still hold exactly the saved runs
        (a resume of a finished folder, nothing run since) and are intact: then there is
        nothing to merge again."""
        needed = {RUNS, POINTS, *([DAILY] if self.design.daily else [])}
        if set(self.files) != needed:
            return False
        try:
            for name in sorted(needed):
                read_checked(self.root / name, self.files[name])
        except SweepError:
            return False
        return True

    def _consolidate(
        self, kind: str, name: str, schema: pa.Schema, window: int
    ) -> tuple[str, set[int]]:
        """Merge part files in windows of run ids, so memory stays bounded for any sweep size.

        Returns the checksum of the merged content and its run ids.
        """
        parts = [p for p in self._parts(kind) if p[2].name in self.parts]
        digest, ids = Checksum(), set()
        with (
            _replacing(self.root / name) as tmp,
            pq.ParquetWriter(tmp, schema, compression="zstd") as writer,
        ):
            for table in _windows(parts, self.design.n_runs, window):
                table = table.replace_schema_metadata(None)
                writer.write_table(table, row_group_size=ROW_GROUP)
                digest.update(table)
                ids.update(table.column("run_id").to_pylist())
        return digest.hexdigest(), ids

    def _write_points(self) -> str:
        """Per design point: n, then mean / ci_low / ci_high of every value column."""
        from simulation.batch.runner import summarise, value_bounds

        d = self.design
        table = pq.read_table(
            self.root / RUNS, columns=["point", *self.value_columns], use_threads=False
        )
        points = table.column("point").to_numpy()
        cols = {c: table.column(c).to_numpy(zero_copy_only=False) for c in self.value_columns}
        rows = []
        for p in d.points:
            sel = points == p.index
            row: dict[str, Any] = {"point": p.index, "n": int(sel.sum())}
            row.update({c: axis_value(d, p.index, c) for c in d.columns})
            for c in self.value_columns:
                summ = summarise(np.asarray(cols[c][sel], dtype=float), bounds=value_bounds(c))
                row[f"{c}_mean"] = summ["mean"]
                row[f"{c}_ci_low"] = summ["ci_low"]
                row[f"{c}_ci_high"] = summ["ci_high"]
            rows.append(row)
        fields = [pa.field("point", pa.int64()), pa.field("n", pa.int64())]
        fields += [self.schema.field(c) for c in d.columns]
        fields += [
            pa.field(f"{c}_{s}", pa.float64())
            for c in self.value_columns
            for s in ("mean", "ci_low", "ci_high")
        ]
        result = pa.Table.from_pylist(rows, schema=pa.schema(fields))
        atomic_write(self.root / POINTS, table=result)
        return checksum(result)


# --------------------------------------------------------------------------------------------
# Reading and checking a folder (a resume, a reuse, a report)
# --------------------------------------------------------------------------------------------


def own_temp_files(root: Path) -> list[Path]:
    """Leftover temporary files friction itself wrote (``.<name>.tmp-<pid>`` next to one of its
    files); a user's file that merely looks temporary is never among them."""
    found = []
    for folder, is_own in (
        (root, lambda name: name in OWN_FILES),
        (root / PARTS, PART_RE.match),
        (root / FAILURES, FAILURE_RE.match),
    ):
        for path in folder.iterdir() if folder.is_dir() else ():
            m = TMP_RE.match(path.name)
            if m and is_own(m.group(1)) and path.is_file():
                found.append(path)
    return found


def _only_start_files(root: Path) -> bool:
    """True for a folder holding only what friction creates before its manifest (the lock,
    empty parts/ and failures/, its temporary files): a start that failed, to begin again."""
    own = set(own_temp_files(root))
    for entry in root.iterdir():
        if (entry.name == ".lock" and entry.is_file()) or entry in own:
            continue
        if entry.name in (PARTS, FAILURES) and entry.is_dir() and not any(entry.iterdir()):
            continue
        return False
    return True


#: Manifest entries a reader needs.
_REQUIRED = ("format", "kind", "name", "config_hash", "config", "code", "packages", "seeds",
             "design", "outputs")  # fmt: skip


def _read_json(path: Path, hint: str) -> Any:
    """A JSON file of a results folder.

    Raises:
        SweepError: it cannot be read or is not JSON; the message ends with ``hint``.
    """
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:  # JSONDecodeError is a ValueError
        detail = exc.strerror if isinstance(exc, OSError) else exc
        raise SweepError(f"{path}: not readable ({detail}); {hint}") from None


_RESTORE = "restore it from a copy of the folder, or run again into another folder"


def read_manifest(root: Path) -> dict[str, Any]:
    """The manifest of a results folder, with every entry a reader needs.

    Raises:
        SweepError: it is missing, not JSON, or lacks entries.
    """
    path = root / MANIFEST
    manifest = _read_json(path, _RESTORE)
    try:
        missing = [k for k in _REQUIRED if k not in manifest]
        if missing:
            raise ValueError(f"missing {', '.join(missing)}")
        manifest["code"]["source_hash"], manifest["design"]["n_runs"]
        manifest["seeds"]["root_entropy"], manifest["outputs"]["values"]
    except (ValueError, KeyError, TypeError) as exc:
        raise SweepError(f"{path}: not a readable results manifest ({exc}); {_RESTORE}") from None
    return manifest


def read_ledger(root: Path) -> dict[str, Any]:
    """The ledger of a results folder (empty when there is none yet).

    Raises:
        SweepError: it is not readable.
    """
    path = root / LEDGER
    if not path.exists():
        return {}
    hint = "delete it, then resume the sweep or comparison to rebuild it from the part files"
    ledger = _read_json(path, hint)
    if not isinstance(ledger, dict):
        raise SweepError(f"{path}: not readable (not a mapping); {hint}")
    return ledger


def design_record(d: Design, points: bool = True) -> dict[str, Any]:
    """What a manifest records of a design: the entries a reader can check against it
    (``points``: with the axis values of every design point, which builds them all)."""
    record = {
        "kind": d.kind,
        "name": d.name,
        "config_hash": d.config_hash,
        "config": d.config,
        "seeds": {
            "root_entropy": d.seed,
            "common_random_numbers": d.common_random_numbers,
            "rule": "seed = SeedSequence(entropy=root_entropy, spawn_key=(k,))"
            ".generate_state(1, uint64)[0] >> 1, k = replication"
            + ("" if d.common_random_numbers else " (run id: common numbers off)"),
        },
        "design": {
            "n_points": len(d.points),
            "replications": d.replications,
            "n_runs": d.n_runs,
            "columns": d.columns,
            "daily": d.daily,
        },
    }
    if points:
        record["design"]["points"] = [
            {c: axis_value(d, i, c) for c in d.columns} for i in range(len(d.points))
        ]
    return record


def _plain(value: Any) -> Any:
    return json.loads(json.dumps(json_ready(value), default=str))


def _refuse_edits(where: Path, diffs: Sequence[str]) -> None:
    if diffs:
        raise SweepError(
            f"{where}: does not match the design its config describes ({_shown(diffs)}); it "
            f"was edited since friction wrote it; {_RESTORE}"
        )


def manifest_design(manifest: dict[str, Any], where: Path) -> Design:
    """The design a manifest describes, rebuilt from its config alone, once the manifest is
    checked against it: the config hash recomputed, the size counted (before anything is
    built), then seeds, sizes and every design point's settings. The points' scenarios are
    built only when asked for (:class:`simulation.batch.design.LazyPoints`).

    Raises:
        SweepError: the manifest was edited since it was written (naming what differs).
    """
    edited = f"it was edited since friction wrote it; {_RESTORE}"
    config = manifest["config"]
    if canonical_hash(config) != manifest["config_hash"]:
        raise SweepError(
            f"{where}: its config no longer gives its config_hash {manifest['config_hash']}; "
            f"{edited}"
        )
    try:
        design = design_from_config(config, n_runs=int(manifest["design"]["n_runs"]))
    except (SweepError, TypeError, ValueError) as exc:
        raise SweepError(f"{where}: {exc}; {edited}") from None
    if design.kind == "compare":  # a diagnosis names itself and notes its levers in the config
        design.name = str(manifest["name"])
    diffs = _diff(_plain(design.config), _plain({k: config.get(k) for k in design.config}))
    design.config = config
    record = design_record(design, points=False)
    recorded = {k: manifest.get(k) for k in record}
    recorded["design"] = {k: v for k, v in manifest["design"].items() if k != "points"}
    diffs += _diff(_plain(record), _plain(recorded))
    _refuse_edits(where, diffs or _point_diffs(design, manifest["design"].get("points")))
    return design


def _point_diffs(design: Design, recorded: Any) -> list[str]:
    """How the manifest's design points differ from the settings the config gives, without
    building the points: a point is built only when its settings differ, to compare them as
    its scenario holds them (4.0 for a 4 set on a decimal lever)."""
    n = len(design.points)
    if not isinstance(recorded, list) or len(recorded) != n:
        shown = len(recorded) if isinstance(recorded, list) else "no list of"
        return [f"design.points: {n} points -> {shown} points"]
    diffs = []
    for i, values in enumerate(recorded):
        expected = design.values_of(i)
        if values != expected and values != _plain(
            {c: axis_value(design, i, c) for c in design.columns}
        ):
            diffs.append(f"design.points[{i}]: {_short(expected)} -> {_short(values)}")
            if len(diffs) > 5:
                break
    return diffs


def check_runs(
    design: Design,
    table: pa.Table,
    value_columns: Sequence[str],
    where: Path,
    points: Sequence[dict[str, Any]],
) -> None:
    """Check the rows of runs.parquet against the design: ids, points, seeds, and the axis
    values of ``points`` (the manifest's, checked against the design)."""
    problems = []
    if not table.schema.remove_metadata().equals(runs_schema(design, value_columns)):
        problems.append("other columns")
    else:
        ids = table.column("run_id").to_numpy()
        point, rep = np.divmod(ids, design.replications)
        if len(np.unique(ids)) != len(ids) or (
            len(ids) and (ids.min() < 0 or ids.max() >= design.n_runs)
        ):
            problems.append("duplicate or unknown run ids")
        elif not (np.array_equal(point, table.column("point").to_numpy())
                  and np.array_equal(rep, table.column("replication").to_numpy())):  # fmt: skip
            problems.append("other design points or replications")
        else:
            if design.common_random_numbers:
                by_rep = np.array([run_seed(design.seed, 0, r) for r in range(design.replications)])
                seeds = by_rep[rep] if len(ids) else by_rep[:0]
            else:
                seeds = np.array([design.seed_of(int(i)) for i in ids], dtype=np.int64)
            if not np.array_equal(seeds, table.column("seed").to_numpy()):
                problems.append("other seeds")
            for c in design.columns:
                expected = [p[c] for p in points]
                if [expected[p] for p in point] != table.column(c).to_pylist():
                    problems.append(f"other values of {c}")
    if problems:
        raise SweepError(
            f"{where}: does not match {RUNS} ({'; '.join(problems)}): it was edited since "
            f"friction wrote it, or belongs to another folder; {_RESTORE}"
        )


def _same_number(a: Any, b: Any) -> bool:
    a, b = float("nan") if a is None else float(a), float("nan") if b is None else float(b)
    if a != a or b != b:
        return a != a and b != b
    return a == b or abs(a - b) <= REL_TOL * max(abs(a), abs(b))


def check_rerun(
    design: Design, rows: Sequence[dict[str, Any]], value_columns: Sequence[str], where: Path
) -> None:
    """Run stored runs again from the design alone and compare them with their stored rows:
    proof that the folder is reproducible from its manifest (and that it was not edited)."""
    from simulation.batch.runner import run_record

    for row in rows:
        run_id = int(row["run_id"])
        point, _ = design.point_of(run_id)
        again = run_record(design.points[point].scenario, design.seed_of(run_id))["values"]
        off = [c for c in value_columns if not _same_number(again.get(c), row[c])]
        if off:
            c = off[0]
            raise SweepError(
                f"{where}: does not reproduce here from its manifest: run {run_id} run again "
                f"gives {c} = {again.get(c)!r}, not the stored {row[c]!r} ({len(off)} value(s) "
                "differ); the manifest was edited, or belongs to another folder; "
                f"{_RESTORE}"
            )


def _reproducible_here(manifest: dict[str, Any]) -> bool:
    """Whether this process would compute the folder's runs to the last bit: the same code,
    the same versions of the packages that change numbers, the same kind of machine (a
    manifest that does not name its platform is taken to be from this one)."""
    code = manifest["code"]
    packages = package_versions()
    return (
        code["source_hash"] == own_source()
        and all(manifest["packages"].get(p) == packages[p] for p in RESULT_PACKAGES)
        and all(code.get(k, v) == v for k, v in this_platform().items())
    )


def _verified_stamp(manifest: dict[str, Any], files: dict[str, str]) -> str:
    """What a rerun that matched proves: this manifest and these files, with this code,
    these packages and this platform."""
    packages = package_versions()
    return canonical_hash({
        "manifest": canonical_hash(manifest),
        "files": files,
        "source": own_source(),
        "packages": {p: packages[p] for p in RESULT_PACKAGES},
        **this_platform(),
    })  # fmt: skip


def _record_verified(root: Path, ledger: dict[str, Any], stamp: str, holding_lock: bool) -> None:
    """Record the stamp in the ledger, so the next reader of this folder state skips the rerun.

    Best effort: skipped when another process is writing the folder, it changed meanwhile, or
    it cannot be written (read-only, full disk).
    """
    with contextlib.suppress(SweepError, OSError):
        lock = None if holding_lock else _take_lock(root)
        try:
            if read_ledger(root) == ledger:
                write_json(root / LEDGER, {**ledger, "verified": stamp})
        finally:
            if lock is not None:
                _release_lock(*lock)


def open_finished(
    root: Path, holding_lock: bool = False
) -> tuple[dict[str, Any], pa.Table, pa.Table, dict[str, str]]:
    """Check a finished results folder and read it: its manifest, runs, points and the
    ledger's checksums of its consolidated files.

    Checks: the consolidated files are the ones the ledger recorded (so not stale or changed),
    the manifest matches its config hash, its design and the runs, and, when this is the code,
    package versions and platform that wrote the folder, one or two runs run again match their
    rows (once per state of the folder: the ledger records that they did).

    Args:
        holding_lock: the caller holds the folder's lock (a store reopening it).

    Raises:
        SweepError: the folder is not finished, was written by another version, or a file in
            it was changed.
    """
    ledger = read_ledger(root)
    try:
        return _open_finished(root, ledger, holding_lock)
    except SweepError:
        # Read without the lock: a resume that finished meanwhile rewrote the files and the
        # ledger (so a checksum seemed off). Read the new state once.
        again = read_ledger(root)
        if again == ledger:
            raise
        return _open_finished(root, again, holding_lock)


def _open_finished(
    root: Path, ledger: dict[str, Any], holding_lock: bool
) -> tuple[dict[str, Any], pa.Table, pa.Table, dict[str, str]]:
    files = ledger.get("files") or {}
    unfinished = (
        f"'{root}' is not finished: {{}} (the sweep was stopped, is still running, or a resume "
        f"did not finish); {FINISH_IT}"
    )
    if not (root / RUNS).is_file():
        raise SweepError(unfinished.format(f"{RUNS} is missing"))
    manifest = read_manifest(root)
    if manifest["format"] != FORMAT:
        raise SweepError(
            f"'{root}' was written by another version of friction (results format "
            f"{manifest['format']}, this version reads {FORMAT}); run the compare or sweep "
            "again into a new folder"
        )
    design = manifest_design(manifest, root / MANIFEST)
    needed = [RUNS, POINTS, *([DAILY] if design.daily else [])]
    for name in needed:
        if not (root / name).is_file():
            raise SweepError(unfinished.format(f"{name} is missing"))
        if name not in files:
            raise SweepError(unfinished.format(f"{name} is out of date"))
    runs = read_checked(root / RUNS, files[RUNS])
    points = read_checked(root / POINTS, files[POINTS])
    values = manifest["outputs"]["values"]
    check_runs(design, runs, values, root / MANIFEST, manifest["design"]["points"])
    if runs.num_rows and _reproducible_here(manifest):
        stamp = _verified_stamp(manifest, files)
        if ledger.get("verified") != stamp:
            rows = runs.slice(0, 1).to_pylist() + runs.slice(runs.num_rows - 1).to_pylist()
            check_rerun(design, rows[: 1 if runs.num_rows == 1 else 2], values, root / MANIFEST)
            _record_verified(root, ledger, stamp, holding_lock)
    return manifest, runs, points, files


def _part_ids(table: pa.Table, schema: pa.Schema, one_row_per_run: bool) -> list[int] | None:
    """The sorted run ids of a part, or ``None`` when it is not a part friction wrote for
    ``schema`` (other columns, no checksum, run ids that differ from the recorded ones)."""
    meta = table.schema.metadata or {}
    if META_SUM not in meta or META_IDS not in meta:
        return None
    if not table.schema.remove_metadata().equals(schema):
        return None
    column = table.column("run_id").to_pylist()
    ids = sorted(set(column))
    try:
        recorded = _expand(json.loads(meta[META_IDS]))
    except (ValueError, TypeError):
        return None
    if not ids or recorded != ids or (one_row_per_run and len(column) != len(ids)):
        return None
    return ids


def _windows(parts: list[tuple[int, int, Path]], n_runs: int, window: int) -> Iterator[pa.Table]:
    """Tables of rows with run ids in consecutive windows, each sorted by run id."""
    for start in range(0, max(n_runs, 1), window):
        stop = start + window
        pieces = []
        for lo, hi, path in parts:
            if hi < start or lo >= stop:
                continue
            t = pq.read_table(path, use_threads=False)
            if lo < start or hi >= stop:
                ids = t.column("run_id").to_numpy()
                t = t.filter(pa.array((ids >= start) & (ids < stop)))
            pieces.append(t)
        if pieces:
            table = pa.concat_tables(pieces)
            sort_keys = [("run_id", "ascending")]
            if "day" in table.column_names:
                sort_keys.append(("day", "ascending"))
            yield table.sort_by(sort_keys)


def _diff(old: Any, new: Any, path: str = "") -> list[str]:
    """Readable differences between two JSON values: ``path: old -> new``."""
    if isinstance(old, dict) and isinstance(new, dict):
        out = []
        for key in sorted(set(old) | set(new), key=str):
            sub = f"{path}.{key}" if path else str(key)
            if key not in old:
                out.append(f"{sub} added")
            elif key not in new:
                out.append(f"{sub} removed")
            else:
                out += _diff(old[key], new[key], sub)
        return out
    if old != new:
        return [f"{path}: {_short(old)} -> {_short(new)}"]
    return []


def _shown(items: Sequence[Any], n: int = 5) -> str:
    """The first ``n`` items, and how many more."""
    shown = "; ".join(map(str, items[:n]))
    return shown + (f"; and {len(items) - n} more" if len(items) > n else "")


def _short(value: Any) -> str:
    text = json.dumps(value, default=str)
    return text if len(text) <= 60 else text[:57] + "..."
