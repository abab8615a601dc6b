"""Attacks on the results store: stray and damaged files, edited manifests, a full disk, and
re-running the same comparison. Nothing finished is lost and nothing wrong is reported."""

from __future__ import annotations

import errno
import hashlib
import json
import os
import shutil
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from conftest import TINY_BLENDED, TINY_SCENARIO
from hypothesis import given, settings
from hypothesis import strategies as st

from simulation.analysis.results import ResultsError, load_results
from simulation.batch import store
from simulation.cli import main as cli
from simulation.scenario.loader import canonical_hash

pytestmark = pytest.mark.needs_model


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _sweep(sweep: Path, out: Path, *extra: str) -> int:
    return cli.main(["sweep", str(sweep), "--out", str(out), "--workers", "1", *extra])


def _compare(pair: tuple[Path, Path], out: Path, *extra: str) -> int:
    argv = ["compare", *map(str, pair), "--reps", "3", "--seed", "5", "--workers", "1"]
    return cli.main([*argv, "--out", str(out), *extra])


@pytest.fixture
def reference(tiny_sweep: Path, tmp_path: Path) -> Path:
    """The tiny sweep (40 runs, one part per run) run once, uninterrupted."""
    out = tmp_path / "reference"
    assert _sweep(tiny_sweep, out) == 0
    return out


@pytest.fixture(scope="module")
def scenarios(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("scenarios")
    for name, text in (("tiny.yaml", TINY_SCENARIO), ("blended.yaml", TINY_BLENDED)):
        (root / name).write_text(text.replace("\n    ", "\n").strip() + "\n")
    return root / "tiny.yaml", root / "blended.yaml"


@pytest.fixture(scope="module")
def compared(scenarios: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A finished compare folder (2 scenarios x 3 replications); copy it before changing it."""
    out = tmp_path_factory.mktemp("compared") / "cmp"
    assert _compare(scenarios, out) == 0
    return out


@pytest.fixture
def cmp_copy(compared: Path, tmp_path: Path) -> Path:
    out = tmp_path / "cmp"
    shutil.copytree(compared, out)
    return out


def _edit_manifest(folder: Path, edit) -> None:
    path = folder / "manifest.json"
    manifest = json.loads(path.read_text())
    edit(manifest)
    path.write_text(json.dumps(manifest, indent=2))


def _run_ids(path: Path) -> list[int]:
    return pq.read_table(path, columns=["run_id"]).column("run_id").to_pylist()


# --- 1. --resume removes only its own temporary files ----------------------------------------


def test_resume_keeps_a_users_files_that_look_temporary(reference, tiny_sweep):
    mine = [
        reference / "notes.tmp-draft.txt",
        reference / "parts" / "keep.tmp-1",
        reference / "analysis" / "plot.tmp-2.png",
        reference / ".manifest.json.tmp-12-backup",
    ]
    for path in mine:
        path.parent.mkdir(exist_ok=True)
        path.write_text("the user's own")
    own = [
        reference / ".ledger.json.tmp-4242",
        reference / "parts" / ".runs-0000001-0000001.parquet.tmp-7",
    ]
    for path in own:
        path.write_bytes(b"half written")
    assert _sweep(tiny_sweep, reference, "--resume") == 0
    assert all(p.read_text() == "the user's own" for p in mine)
    assert not any(p.exists() for p in own)


# --- 2. a missing daily part: its runs run again ---------------------------------------------


def test_a_missing_daily_part_is_run_again_not_dropped(tiny_sweep, tmp_path):
    out = tmp_path / "daily"
    assert _sweep(tiny_sweep, out, "--daily") == 0
    (out / "parts" / "daily-0000007-0000007.parquet").unlink()
    assert _sweep(tiny_sweep, out, "--daily", "--resume") == 0
    daily = pq.read_table(out / "daily.parquet", columns=["run_id"]).column("run_id").to_pylist()
    assert sorted(set(daily)) == _run_ids(out / "runs.parquet") == list(range(40))
    assert len(daily) == 40 * 35


# --- 3. a stray copy of a part ---------------------------------------------------------------


def test_a_stray_copy_of_a_part_is_refused_not_merged(reference, tiny_sweep, capsys):
    before = _digest(reference / "runs.parquet")
    parts = reference / "parts"
    shutil.copy(parts / "runs-0000003-0000003.parquet", parts / "runs-0000003-0000004.parquet")
    assert _sweep(tiny_sweep, reference, "--resume") == 2
    err = capsys.readouterr().err
    assert "runs-0000003-0000004.parquet" in err and "Traceback" not in err
    assert _digest(reference / "runs.parquet") == before
    assert len(_run_ids(reference / "runs.parquet")) == 40


def test_a_part_the_ledger_missed_is_accepted(reference, tiny_sweep):
    """Killed after a part landed but before the ledger said so: the part counts."""
    before = _digest(reference / "runs.parquet")
    ledger = json.loads((reference / "ledger.json").read_text())
    del ledger["parts"]["runs-0000039-0000039.parquet"]
    (reference / "ledger.json").write_text(json.dumps(ledger))
    assert _sweep(tiny_sweep, reference, "--resume") == 0
    assert _digest(reference / "runs.parquet") == before


# --- 4. an edited manifest is caught -----------------------------------------------------------


def _flip_seed(m):
    m["seeds"]["root_entropy"] += 1


def _flip_headcount(m):
    m["config"]["scenarios"][1]["org"]["sales_reps"] += 4


def _flip_headcount_and_rehash(m):
    _flip_headcount(m)
    m["config_hash"] = canonical_hash(m["config"])


def _flip_seed_everywhere(m):
    m["seeds"]["root_entropy"] += 1
    m["config"]["seed"] += 1
    m["config_hash"] = canonical_hash(m["config"])


def _flip_design_value(m):
    m["design"]["points"][0]["scenario"] = "blended"
    m["design"]["points"][1]["scenario"] = "tiny"


def _flip_replications(m):
    m["design"]["replications"] = 2


@pytest.mark.parametrize(
    "edit",
    [
        _flip_seed,
        _flip_headcount,
        _flip_headcount_and_rehash,
        _flip_seed_everywhere,
        _flip_design_value,
        _flip_replications,
    ],
)
def test_report_refuses_an_edited_manifest(cmp_copy, edit):
    _edit_manifest(cmp_copy, edit)
    with pytest.raises(ResultsError, match=r"manifest\.json"):
        load_results(cmp_copy)


def test_cli_report_and_resume_refuse_an_edited_manifest(cmp_copy, scenarios, tmp_path, capsys):
    _edit_manifest(cmp_copy, _flip_headcount_and_rehash)
    code = cli.main(["report", str(cmp_copy), "--out", str(tmp_path / "r"), "--format", "html"])
    err = capsys.readouterr().err
    assert code == 2 and "manifest.json" in err and "Traceback" not in err
    assert not (tmp_path / "r").exists()
    _edit_manifest(cmp_copy, _flip_seed)
    assert _compare(scenarios, cmp_copy, "--resume") == 2
    err = capsys.readouterr().err
    assert "manifest.json" in err and "Traceback" not in err


def test_an_unedited_folder_loads_after_a_move(cmp_copy, tmp_path):
    moved = tmp_path / "elsewhere" / "moved"
    shutil.move(cmp_copy, moved)
    assert load_results(moved).replications == 3


# --- 5. exit codes: damaged files, a full disk, a half-finished folder ------------------------


def test_resume_with_a_truncated_part_names_it(reference, tiny_sweep, capsys):
    part = reference / "parts" / "runs-0000005-0000005.parquet"
    part.write_bytes(part.read_bytes()[: part.stat().st_size // 2])
    assert _sweep(tiny_sweep, reference, "--resume") == 2
    err = capsys.readouterr().err
    assert "runs-0000005-0000005.parquet" in err and "Traceback" not in err


@pytest.mark.parametrize("text", ["{not json", "[]", '{"kind": "sweep"}'])
def test_resume_with_an_unreadable_manifest(reference, tiny_sweep, capsys, text):
    (reference / "manifest.json").write_text(text)
    assert _sweep(tiny_sweep, reference, "--resume") == 2
    err = capsys.readouterr().err
    assert "manifest.json" in err and "Traceback" not in err


def _disk_full_on(monkeypatch, match, after: int = 0) -> None:
    """Make the store's writes of files whose name contains ``match`` fail with ENOSPC."""
    real = store.atomic_write
    calls = {"n": 0}

    def write(path, *args, **kwargs):
        if match in path.name:
            calls["n"] += 1
            if calls["n"] > after:
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))
        return real(path, *args, **kwargs)

    monkeypatch.setattr(store, "atomic_write", write)


@pytest.mark.parametrize(("match", "after"), [("runs-", 6), ("ledger", 4), ("daily-", 2)])
def test_disk_full_keeps_the_finished_runs(reference, tiny_sweep, tmp_path, monkeypatch, capsys,
                                           match, after):  # fmt: skip
    out = tmp_path / "full"
    _disk_full_on(monkeypatch, match, after)
    extra = ["--daily"] if match == "daily-" else []
    assert _sweep(tiny_sweep, out, *extra) == 2
    err = capsys.readouterr().err
    assert "disk full" in err and "--resume" in err and "Traceback" not in err
    saved = len(list((out / "parts").glob("runs-*.parquet")))
    assert saved >= min(after, 2)
    monkeypatch.undo()
    assert _sweep(tiny_sweep, out, *extra, "--resume") == 0
    if match != "daily-":
        assert _digest(out / "runs.parquet") == _digest(reference / "runs.parquet")


def test_disk_full_on_the_manifest_leaves_a_folder_a_rerun_accepts(
    reference, tiny_sweep, tmp_path, monkeypatch, capsys
):
    out = tmp_path / "full"
    _disk_full_on(monkeypatch, "manifest")
    assert _sweep(tiny_sweep, out) == 2
    err = capsys.readouterr().err
    assert "disk full" in err and "Traceback" not in err
    monkeypatch.undo()
    assert _sweep(tiny_sweep, out) == 0
    assert _digest(out / "runs.parquet") == _digest(reference / "runs.parquet")


@pytest.mark.parametrize("name", ["runs.parquet", "points.parquet"])
def test_report_on_a_half_finished_folder_points_at_resume(cmp_copy, tmp_path, capsys, name):
    (cmp_copy / name).unlink()
    code = cli.main(["report", str(cmp_copy), "--out", str(tmp_path / "r"), "--format", "html"])
    err = capsys.readouterr().err
    assert code == 2 and "--resume" in err and "Traceback" not in err


def test_report_on_a_folder_whose_resume_did_not_finish(tiny_sweep, tmp_path, monkeypatch, capsys):
    """A resume that ran runs but was stopped before it rebuilt runs.parquet: the old
    runs.parquet is stale, so the folder is not reported until --resume finishes it."""
    import simulation.batch.runner as runner

    real = runner.run_record
    from simulation.batch.design import load_sweep

    bad_seed = load_sweep(tiny_sweep).seed_of(1)

    def flaky(scenario, seed, daily=False):
        if seed == bad_seed and scenario.structure.team_size == 5:
            raise RuntimeError("injected failure")
        return real(scenario, seed, daily)

    out = tmp_path / "flaky"
    monkeypatch.setattr(runner, "run_record", flaky)
    assert _sweep(tiny_sweep, out) == cli.EXIT_RUNS_FAILED
    monkeypatch.setattr(runner, "run_record", real)

    def stop(self):
        raise KeyboardInterrupt

    monkeypatch.setattr(store.ResultsStore, "finalize", stop)
    assert _sweep(tiny_sweep, out, "--resume") == cli.EXIT_INTERRUPTED
    monkeypatch.undo()
    capsys.readouterr()
    code = cli.main(["report", str(out), "--out", str(tmp_path / "r"), "--format", "html"])
    err = capsys.readouterr().err
    assert code == 2 and "--resume" in err and "Traceback" not in err


# --- 6. the same comparison again reuses its results -------------------------------------------


def test_the_same_compare_again_reuses_its_results(cmp_copy, scenarios, capsys):
    before = {n: _digest(cmp_copy / n) for n in ("runs.parquet", "points.parquet")}
    assert _compare(scenarios, cmp_copy, "--json") == 0
    out, err = capsys.readouterr()
    assert f"reusing the results in {cmp_copy}: same inputs" in err
    assert json.loads(out)["replications"] == 3
    assert {n: _digest(cmp_copy / n) for n in before} == before
    # other inputs are still refused
    assert _compare(scenarios, cmp_copy, "--set", "market.deal_value=50000") == 2
    assert "already holds" in capsys.readouterr().err


def test_python_compare_reuses_the_same_results(cmp_copy, scenarios):
    from simulation.experiments import compare

    before = _digest(cmp_copy / "runs.parquet")
    result = compare(list(scenarios), reps=3, seed=5, out=cmp_copy)
    assert result["replications"] == 3
    assert _digest(cmp_copy / "runs.parquet") == before


def test_a_folder_of_an_older_version_is_not_reused(cmp_copy, scenarios, capsys):
    _edit_manifest(cmp_copy, lambda m: m["outputs"]["values"].remove("throughput"))
    assert _compare(scenarios, cmp_copy) == 2
    assert "Traceback" not in capsys.readouterr().err
    _edit_manifest(cmp_copy, lambda m: m.update(format=1))
    assert _compare(scenarios, cmp_copy) == 2


# --- 7. the manifest holds no absolute paths of this machine ----------------------------------


def test_manifest_sources_are_relative_to_the_folder(compared, scenarios, reference, tiny_sweep):
    for folder, expected in (
        (compared, {"scenario0": scenarios[0], "scenario1": scenarios[1]}),
        (reference, {"sweep": tiny_sweep, "base": tiny_sweep.parent / "tiny.yaml"}),
    ):
        sources = json.loads((folder / "manifest.json").read_text())["sources"]
        assert set(sources) == set(expected)
        for key, path in expected.items():
            assert not Path(sources[key]).is_absolute()
            assert (folder / sources[key]).resolve() == path.resolve()


def test_disk_full_on_the_comparison_is_a_user_error(scenarios, tmp_path, monkeypatch, capsys):
    """Every run is saved before comparison.json is written: a full disk there is exit 2 and
    the same command, run again once there is space, reuses the runs and writes it."""
    out = tmp_path / "cmp"
    _disk_full_on(monkeypatch, "comparison")
    assert _compare(scenarios, out) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: disk full") and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1
    assert (out / "runs.parquet").is_file()
    monkeypatch.undo()
    assert _compare(scenarios, out) == 0
    assert "reusing" in capsys.readouterr().err
    assert (out / "comparison.json").is_file()


# --- 8. opening a folder costs two scenarios and two runs, once per folder state ----------------


def _count_scenarios(monkeypatch) -> dict[str, int]:
    """Count the scenarios the design module validates (one per design point built)."""
    from simulation.batch import design

    real, calls = design.Scenario, {"n": 0}

    class Counting:
        @staticmethod
        def model_validate(data):
            calls["n"] += 1
            return real.model_validate(data)

    monkeypatch.setattr(design, "Scenario", Counting)
    return calls


def _count_runs(monkeypatch) -> dict[str, int]:
    import simulation.batch.runner as runner

    real, calls = runner.run_record, {"n": 0}

    def counting(*args, **kwargs):
        calls["n"] += 1
        return real(*args, **kwargs)

    monkeypatch.setattr(runner, "run_record", counting)
    return calls


def test_loading_a_sweep_builds_only_the_points_it_runs_again(reference, monkeypatch):
    """The tiny sweep has 20 design points: a load checks the manifest's points against the
    sweep's axes without building them, and builds the base and the two it runs again."""
    built = _count_scenarios(monkeypatch)
    assert load_results(reference).n_points == 20
    assert built["n"] <= 3


def test_a_count_that_differs_is_refused_before_anything_is_built(reference, monkeypatch):
    def grow(m):
        m["config"]["spec"]["axes"]["structure.team_size"] = [4, 5, 6]
        m["config_hash"] = canonical_hash(m["config"])

    _edit_manifest(reference, grow)
    built = _count_scenarios(monkeypatch)
    with pytest.raises(ResultsError, match=r"manifest\.json.*30 design points.*40 runs"):
        load_results(reference)
    assert built["n"] == 0


def test_a_second_load_of_the_same_folder_runs_nothing_again(reference, monkeypatch):
    runs = _count_runs(monkeypatch)
    load_results(reference)
    assert runs["n"] == 2
    load_results(reference)
    assert runs["n"] == 2  # verified: the ledger holds the stamp of this folder state
    _edit_manifest(reference, lambda m: m.update(created_utc="2000-01-01T00:00:00Z"))
    load_results(reference)
    assert runs["n"] == 4  # another manifest: checked again


def test_a_reused_compare_runs_again_at_most_once(cmp_copy, scenarios, monkeypatch, capsys):
    runs = _count_runs(monkeypatch)
    assert _compare(scenarios, cmp_copy) == 0
    assert _compare(scenarios, cmp_copy) == 0
    assert "reusing" in capsys.readouterr().err
    assert runs["n"] <= 2


def test_a_manifest_claiming_a_huge_design_exits_2_quickly(reference, tmp_path):
    """simplex: 0.002 gives 21 million mixes: the count is checked against the manifest's
    before any mix is built (it used to hang, then run out of memory)."""
    from sandbox import run_limited

    def huge(m):
        m["config"]["spec"]["axes"]["incentives.weights"] = {"simplex": 0.002}
        m["config_hash"] = canonical_hash(m["config"])

    _edit_manifest(reference, huge)
    args = ["-m", "simulation", "report", str(reference), "--out", str(tmp_path / "r")]
    outcome = run_limited(args, cwd=tmp_path, memory=1 << 30, timeout=30)
    assert outcome.returncode == 2, outcome.stderr[-2000:]
    assert "manifest.json" in outcome.stderr and "Traceback" not in outcome.stderr


def test_resume_builds_the_design_once(reference, tiny_sweep, monkeypatch):
    built = _count_scenarios(monkeypatch)
    assert _sweep(tiny_sweep, reference, "--resume") == 0
    assert built["n"] <= 20 + 3  # the sweep's 20 points, not a second design from the manifest


# --- 9. a folder moved to another platform is not accused of being edited ----------------------


def test_the_manifest_records_the_platform(reference):
    import platform
    import sys

    code = json.loads((reference / "manifest.json").read_text())["code"]
    assert code["machine"] == platform.machine() and code["platform"] == sys.platform


def test_a_folder_from_another_platform_is_not_run_again(reference, monkeypatch):
    """Floating point can differ at the last bit between platforms: the runs are not rerun
    there (the other checks still apply)."""
    _edit_manifest(reference, lambda m: m["code"].update(machine="other-cpu"))
    runs = _count_runs(monkeypatch)
    assert load_results(reference).n_points == 20
    assert runs["n"] == 0


def test_a_rerun_that_differs_says_it_does_not_reproduce(cmp_copy):
    _edit_manifest(cmp_copy, _flip_headcount_and_rehash)
    with pytest.raises(ResultsError, match="does not reproduce here from its manifest"):
        load_results(cmp_copy)


# --- 10. library messages do not name command-line flags ---------------------------------------


def test_python_disk_full_keeps_its_type_says_it_once_and_names_no_flag(
    tiny_sweep, tmp_path, monkeypatch
):
    from simulation.experiments import sweep

    _disk_full_on(monkeypatch, "runs-", 6)
    with pytest.raises(store.DiskFull) as e:
        sweep(tiny_sweep, out=tmp_path / "full")
    text = str(e.value)
    assert text.count("saved in") == 1 and "resume=True" in text and "--resume" not in text


def test_a_notebook_opening_an_unfinished_folder_is_told_how_from_python(cmp_copy):
    (cmp_copy / "points.parquet").unlink()
    with pytest.raises(ResultsError, match=r"resume=True"):
        load_results(cmp_copy)


# --- 11. the command line: report messages, reuse without an estimate ----------------------------


def test_disk_full_while_reporting_says_the_report_was_not_written(
    cmp_copy, tmp_path, monkeypatch, capsys
):
    from simulation.report import pack as report

    def full(path):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(tmp_path / "chart.png"))

    monkeypatch.setattr(report, "build", full)
    assert cli.main(["report", str(cmp_copy), "--out", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err
    assert "disk full" in err and "the report was not written" in err
    assert "finished run" not in err


def test_a_reused_compare_prints_no_estimate(cmp_copy, scenarios, monkeypatch, capsys):
    from simulation.batch import estimate

    class Long:
        seconds = 3600.0

        def describe(self):
            return "ESTIMATE: about an hour"

    monkeypatch.setattr(estimate, "estimate", lambda request: Long())
    monkeypatch.setattr(estimate, "refusal", lambda *args: None)
    assert _compare(scenarios, cmp_copy) == 0
    err = capsys.readouterr().err
    assert "reusing" in err and "ESTIMATE" not in err


def test_the_board_pack_shows_only_file_names_of_the_command():
    from simulation.report.pack import _portable

    command = ["friction", "compare", "/home/alice/work/a.yaml", "../../bob/b.yaml",
               "--out=/home/alice/results/x", "--reps", "3",
               "--address", "tcp://10.0.0.5:8786"]  # fmt: skip
    shown = _portable(command)
    assert shown == (
        "friction compare a.yaml b.yaml --out=x --reps 3 --address tcp://10.0.0.5:8786"
    )
    assert "alice" not in shown and "bob" not in shown and ".." not in shown


def test_a_resume_finishing_while_a_reader_opens_the_folder_is_read_again(reference, monkeypatch):
    """Readers take no lock: a resume that rewrote runs.parquet and the ledger between the
    reader's reading of the two is not taken for a changed file; the new state is read."""
    real = store.read_ledger
    stale = {**real(reference)}
    stale["files"] = {**stale["files"], "runs.parquet": "0" * 64}  # the ledger before it
    calls = {"n": 0}

    def racing(root):
        calls["n"] += 1
        return stale if calls["n"] == 1 else real(root)

    monkeypatch.setattr(store, "read_ledger", racing)
    assert load_results(reference).n_points == 20


def test_resuming_a_finished_sweep_keeps_its_files_and_rebuilds_a_damaged_one(
    reference, tiny_sweep
):
    """Nothing to run: the consolidated files already hold every run, so a resume checks them
    instead of merging every part again (a big sweep's parts take minutes); a damaged one is
    still rebuilt from the parts."""
    inode = {n: (reference / n).stat().st_ino for n in ("runs.parquet", "points.parquet")}
    assert _sweep(tiny_sweep, reference, "--resume") == 0
    assert {n: (reference / n).stat().st_ino for n in inode} == inode
    good = _digest(reference / "points.parquet")
    path = reference / "points.parquet"
    path.write_bytes(path.read_bytes()[:100])
    assert _sweep(tiny_sweep, reference, "--resume") == 0
    assert _digest(path) == good
    assert load_results(reference).n_points == 20


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(min_value=1, max_value=5), min_size=1, max_size=4))
def test_a_point_found_by_index_is_the_one_the_crossed_axes_give(sizes):
    """A folder's check finds each design point's settings by index arithmetic: it must be the
    point build_design gives at that index (the axes crossed, the last varying fastest)."""
    import itertools

    from simulation.batch.design import point_values

    per_axis = [[{f"a{k}": i} for i in range(n)] for k, n in enumerate(sizes)]
    for index, combo in enumerate(itertools.product(*per_axis)):
        expected = {k: v for setting in combo for k, v in setting.items()}
        assert point_values(per_axis, index) == expected
