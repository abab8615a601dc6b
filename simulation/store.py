"""The results store: one folder per sweep or comparison, safe to kill at any moment.

Layout of ``results/<name>/``::

    manifest.json        what was run: config and its hash, design, seeds, code and package
                         versions (written once, before the first run)
    parts/runs-A-B.parquet   finished runs A..B (one file per finished chunk of runs)
    parts/daily-A-B.parquet  their daily series, when recorded
    failures/run-N.txt   the traceback of a run that raised
    ledger.json          progress: runs done, runs failed, whether the sweep is complete
    runs.parquet         every finished run, one row each, sorted by run id (built at the end)
    daily.parquet        daily series, one row per run and day (built at the end, if recorded)
    points.parquet       per design point: mean and 95% interval of every KPI over replications

Durability. Every file is written to a temporary name in the same folder, flushed to disk and
renamed into place (``os.replace`` is atomic on POSIX), so a reader or a resumed sweep sees
either the whole file or none of it. A run counts as done only once the part file holding its
row is in place; the ledger is a convenience rebuilt from the part files on resume, so a kill
between the two loses nothing. Leftover temporary files are removed when the folder is opened.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import platform
import re
import subprocess
import time
from collections.abc import Iterable, Iterator, Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from simulation.config import get_dotted
from simulation.design import Design, SweepError
from simulation.tables import json_ready

__all__ = [
    "FORMAT",
    "ResultsStore",
    "ResumeRefused",
    "atomic_write",
    "code_version",
    "package_versions",
    "source_hash",
    "write_json",
]

FORMAT = 1
MANIFEST, LEDGER = "manifest.json", "ledger.json"
RUNS, DAILY, POINTS = "runs.parquet", "daily.parquet", "points.parquet"
PARTS, FAILURES = "parts", "failures"
TMP_MARK = ".tmp-"
PART_RE = re.compile(r"^(runs|daily)-(\d+)-(\d+)\.parquet$")
#: Packages whose version can change a run's numbers: a resume across a change is refused.
RESULT_PACKAGES = ("mesa", "numpy", "scipy")
REPORTED_PACKAGES = (*RESULT_PACKAGES, "pandas", "pyarrow", "pydantic", "networkx")
RUN_WINDOW = 20_000  # runs consolidated at a time (bounds memory at the end of a big sweep)
DAILY_WINDOW = 500  # runs of daily series consolidated at a time (~150k rows)
ROW_GROUP = 10_000
_LOCKED: set[str] = set()  # folders this process holds the lock of


class ResumeRefused(SweepError):
    """A results folder was started with other inputs (design, code, package versions)."""


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


# --------------------------------------------------------------------------------------------
# Versions
# --------------------------------------------------------------------------------------------


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
    """Package version, the source hash, and the git commit when there is one."""
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
    return {"version": version, "source_hash": source_hash(), "git_commit": commit}


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
# The store
# --------------------------------------------------------------------------------------------


class ResultsStore:
    """A results folder for one design; see the module docstring for the layout."""

    def __init__(self, root: Path, design: Design, value_columns: Sequence[str],
                 series: Sequence[str]) -> None:  # fmt: skip
        self.root = root
        self.design = design
        self.value_columns = list(value_columns)
        self.series = list(series)
        self.schema = runs_schema(design, value_columns)
        self.daily_schema = daily_schema(series)
        self.done: set[int] = set()
        self.failed: dict[int, str] = {}
        self.elapsed = 0.0
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
    ) -> ResultsStore:
        """Create the folder for a new design, or reopen it to resume the same design.

        Raises:
            SweepError: the folder holds other results (or the same ones, without ``resume``),
                the design changed since they were written, or another process is writing.
        """
        store = cls(root, design, value_columns, series)
        manifest_path = root / MANIFEST
        if manifest_path.exists():
            store._lock()
            old = json.loads(manifest_path.read_text(encoding="utf-8"))
            if not resume:
                store._unlock()
                ledger = store._read_ledger()
                state = (
                    "complete"
                    if ledger.get("complete")
                    else f"{ledger.get('done', 0)} of {old['design']['n_runs']} runs done"
                )
                raise SweepError(
                    f"--out: {root} already holds the results of {old['kind']} "
                    f"'{old['name']}' ({state}); add --resume to finish or reuse them, "
                    "choose another folder with --out, or delete this one"
                )
            store._check_same(old)
            store._recover()
            return store
        if resume:
            raise SweepError(
                f"--resume: there is nothing to resume in {root} (no {MANIFEST}); "
                "run without --resume to start"
            )
        if root.exists() and any(root.iterdir()):
            raise SweepError(
                f"--out: {root} exists and is not a results folder (no {MANIFEST}); choose an "
                "empty or new folder"
            )
        (root / PARTS).mkdir(parents=True, exist_ok=True)
        (root / FAILURES).mkdir(exist_ok=True)
        store._lock()
        write_json(manifest_path, store._manifest(command))
        store._write_ledger(complete=False)
        return store

    def _manifest(self, command: Sequence[str]) -> dict[str, Any]:
        d = self.design
        return {
            "format": FORMAT,
            "kind": d.kind,
            "name": d.name,
            "created_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "command": list(command),
            "config_hash": d.config_hash,
            "config": d.config,
            "sources": d.sources,
            "code": code_version(),
            "packages": package_versions(),
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
                "points": [{c: axis_value(d, p.index, c) for c in d.columns} for p in d.points],
            },
            "outputs": {"values": self.value_columns, "daily_series": self.series},
        }

    def _check_same(self, old: dict[str, Any]) -> None:
        """Refuse to resume when anything that defines the runs has changed, naming it."""
        changes = []
        if old.get("format") != FORMAT:
            changes.append(f"the results format ({old.get('format')} -> {FORMAT})")
        if old["config_hash"] != self.design.config_hash:
            diffs = _diff(old["config"], self.design.config)
            shown = "; ".join(diffs[:5]) + (
                f"; and {len(diffs) - 5} more" if len(diffs) > 5 else ""
            )
            what = (
                "the sweep file or its base scenario" if old["kind"] == "sweep" else "the scenarios"
            )
            changes.append(f"{what} ({shown})")
        now_source = source_hash()
        if old["code"]["source_hash"] != now_source:
            changes.append(
                f"the simulation code (version {old['code']['version']} source "
                f"{old['code']['source_hash']} -> source {now_source})"
            )
        now = package_versions()
        for name in RESULT_PACKAGES:
            if old["packages"].get(name) != now.get(name):
                changes.append(f"package {name} ({old['packages'].get(name)} -> {now.get(name)})")
        if changes:
            self._unlock()
            raise ResumeRefused(
                f"--resume: {self.root} was started with different inputs, so its runs would "
                f"not match new ones; changed: {', and '.join(changes)}. Restore them, or start "
                "afresh with another --out folder"
            )

    def _lock(self) -> None:
        """Hold an exclusive lock on the folder while writing.

        A POSIX record lock (``lockf``) belongs to this process only: worker processes forked
        from it do not inherit it, so a coordinator killed with SIGKILL frees the folder at once
        even if a worker outlives it. Record locks do not exclude the same process, so folders
        locked here are also remembered in ``_LOCKED``.
        """
        self.root.mkdir(parents=True, exist_ok=True)
        key = str(self.root.resolve())
        busy = SweepError(
            f"--out: another friction process is writing to {self.root}; wait for it to "
            "finish or stop it first"
        )
        if key in _LOCKED:  # checked before opening: closing any descriptor of the lock file
            raise busy  # would drop this process's record lock
        fh = open(self.root / ".lock", "a+")  # noqa: SIM115 - held until close()
        try:
            fcntl.lockf(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            fh.close()
            raise busy from None
        _LOCKED.add(key)
        self._lock_fh = fh
        self._lock_key = key

    def _unlock(self) -> None:
        if self._lock_fh is not None:
            self._lock_fh.close()
            _LOCKED.discard(self._lock_key)
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
        """Rebuild the state from what is durably on disk; drop half-written files."""
        for path in self.root.rglob(f"*{TMP_MARK}*"):
            path.unlink()
        self.done = set()
        for _, _, path in self._parts("runs"):
            ids = (
                pq.read_table(path, columns=["run_id"], use_threads=False)
                .column("run_id")
                .to_pylist()
            )
            self.done.update(ids)
        # a daily part whose runs part never landed is an orphan: its runs will run again
        for lo, hi, path in self._parts("daily"):
            if not (self.root / PARTS / f"runs-{lo:07d}-{hi:07d}.parquet").exists():
                path.unlink()
        self.failed = {}
        for path in sorted((self.root / FAILURES).glob("run-*.txt")):
            run_id = int(path.stem.split("-")[1])
            if run_id not in self.done:
                self.failed[run_id] = path.name
        ledger = self._read_ledger()
        self.elapsed = float(ledger.get("elapsed_s", 0.0))
        self._write_ledger(complete=False)

    def _read_ledger(self) -> dict[str, Any]:
        path = self.root / LEDGER
        return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}

    def _write_ledger(self, complete: bool) -> None:
        ledger = {
            "n_runs": self.design.n_runs,
            "done": len(self.done),
            "failed": len(self.failed),
            "complete": complete,
            "elapsed_s": round(self.elapsed, 3),
            "done_ranges": _ranges(self.done),
            "failures": {str(k): f"{FAILURES}/{v}" for k, v in sorted(self.failed.items())},
        }
        write_json(self.root / LEDGER, ledger)

    def pending(self) -> list[int]:
        """Run ids not yet done (failed runs are tried again), in order."""
        return [i for i in range(self.design.n_runs) if i not in self.done]

    # --- writing -------------------------------------------------------------------------

    def record(self, results: Sequence[dict[str, Any]], elapsed: float) -> None:
        """Make a finished chunk durable: its rows, its daily series, its failures, the ledger.

        ``results`` items: ``{"run_id", "values" | None, "daily" | None, "error" | None}``.
        """
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
                atomic_write(
                    self.root / PARTS / f"daily-{lo:07d}-{hi:07d}.parquet",
                    table=pa.concat_tables(daily_tables),
                )
            table = pa.Table.from_pylist(rows, schema=self.schema)
            atomic_write(self.root / PARTS / f"runs-{lo:07d}-{hi:07d}.parquet", table=table)
            self.done.update(ok_ids)
            for run_id in ok_ids:
                if self.failed.pop(run_id, None) is not None:
                    with contextlib.suppress(FileNotFoundError):
                        (self.root / FAILURES / f"run-{run_id:07d}.txt").unlink()
        self.elapsed += elapsed
        self._write_ledger(complete=False)

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
        """Build runs.parquet, daily.parquet and points.parquet from the parts, in run order."""
        self._consolidate("runs", RUNS, self.schema, RUN_WINDOW)
        if self.design.daily:
            self._consolidate("daily", DAILY, self.daily_schema, DAILY_WINDOW)
        self._write_points()
        self._write_ledger(complete=not self.failed and len(self.done) == self.design.n_runs)

    def _consolidate(self, kind: str, name: str, schema: pa.Schema, window: int) -> None:
        """Merge part files in windows of run ids, so memory stays bounded for any sweep size."""
        parts = self._parts(kind)
        with (
            _replacing(self.root / name) as tmp,
            pq.ParquetWriter(tmp, schema, compression="zstd") as writer,
        ):
            for table in _windows(parts, self.design.n_runs, window):
                writer.write_table(table, row_group_size=ROW_GROUP)

    def _write_points(self) -> None:
        """Per design point: n, then mean / ci_low / ci_high of every value column."""
        import numpy as np

        from simulation.analysis import summarise
        from simulation.runner import value_bounds

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
        atomic_write(self.root / POINTS, table=pa.Table.from_pylist(rows, schema=pa.schema(fields)))


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


def _short(value: Any) -> str:
    text = json.dumps(value, default=str)
    return text if len(text) <= 60 else text[:57] + "..."
