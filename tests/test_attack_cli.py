"""The command line under attack: results folders that cannot be written, memory running out, a
full disk while a report is written, a planted report record, a closed pipe, seeds out of range,
names that slug to nothing or are blank, a file given for a results folder."""

from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from conftest import TINY_BLENDED, TINY_SCENARIO
from sandbox import ROOT, run_limited

from simulation.batch.design import slug
from simulation.cli import main as cli
from simulation.scenario.loader import ScenarioError, load_scenario

MAX_ERROR = 2000  # characters


def one_line_error(args: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    """Run the CLI in-process; it must refuse with exit 2 and one ``error:`` line."""
    code = cli.main(args)
    err = capsys.readouterr().err
    assert "Traceback" not in err, err[-2000:]
    assert code == 2, err[-2000:]
    assert err.startswith("error: ") and err.count("\n") == 1, err
    assert len(err) < MAX_ERROR
    return err


@pytest.fixture
def scenarios(tmp_path: Path) -> tuple[Path, Path, Path]:
    """tiny.yaml, blended.yaml and a 2-run sweep of tiny, in ``tmp_path``."""
    paths = []
    for name, text in (
        ("tiny.yaml", TINY_SCENARIO),
        ("blended.yaml", TINY_BLENDED),
        (
            "sweep.yaml",
            "name: s\nbase: tiny.yaml\nreplications: 1\nseed: 7\n"
            "axes:\n  structure.team_size: [4, 5]\n",
        ),
    ):
        path = tmp_path / name
        path.write_text(textwrap.dedent(text), encoding="utf-8")
        paths.append(path)
    return paths[0], paths[1], paths[2]


def _command(kind: str, scenarios: tuple[Path, Path, Path]) -> list[str]:
    tiny, blended, sweep = scenarios
    return {
        "sweep": ["sweep", str(sweep), "--workers", "1"],
        "compare": ["compare", str(tiny), str(blended), "--reps", "1", "--workers", "1"],
        "diagnose": ["diagnose", str(tiny), "--reps", "1", "--workers", "1"],
    }[kind]


# ------------------------------------------------------------------------------------------
# 1. A results folder that cannot be written is the user's to fix
# ------------------------------------------------------------------------------------------


def _bad_out(case: str, tmp_path: Path) -> str:
    afile = tmp_path / "afile"
    afile.write_text("x")
    if case == "file":
        return str(afile)
    if case == "inside-file":
        return str(afile / "x")
    if case == "dev-null":
        return os.devnull
    if case == "too-long":
        return str(tmp_path / ("a" * 300))
    loop = tmp_path / "loop"
    loop.symlink_to(loop)
    return str(loop)


BAD_OUTS = ["file", "inside-file", "dev-null", "too-long", "symlink-loop"]


@pytest.mark.needs_model
@pytest.mark.parametrize("kind", ["sweep", "compare", "diagnose"])
@pytest.mark.parametrize("case", BAD_OUTS)
def test_unwritable_out_is_a_usage_error(kind, case, scenarios, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    out = _bad_out(case, tmp_path)
    err = one_line_error([*_command(kind, scenarios), "--out", out], capsys)
    assert err.startswith(f"error: --out: cannot write the results to {out}: "), err
    assert not (tmp_path / "results").exists()


@pytest.mark.needs_model
@pytest.mark.parametrize("kind", ["sweep", "compare", "diagnose"])
def test_read_only_out_is_a_usage_error(kind, scenarios, tmp_path, capsys, monkeypatch):
    """A read-only file system (EROFS), as the store would meet it opening the folder."""
    from simulation.batch.store import ResultsStore

    def read_only(*args: Any, **kwargs: Any) -> None:
        raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(tmp_path / "ro"))

    monkeypatch.setattr(ResultsStore, "open", read_only)
    out = str(tmp_path / "ro")
    err = one_line_error([*_command(kind, scenarios), "--out", out], capsys)
    assert err == (f"error: --out: cannot write the results to {out}: {os.strerror(errno.EROFS)}\n")


@pytest.mark.parametrize("kind", ["sweep", "compare", "diagnose", "report"])
def test_empty_out_is_refused(kind, scenarios, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    command = ["report", str(tmp_path)] if kind == "report" else _command(kind, scenarios)
    err = one_line_error([*command, "--out", ""], capsys)
    assert "--out: empty path" in err
    assert not (tmp_path / "results").exists()


# ------------------------------------------------------------------------------------------
# 2. Running out of memory
# ------------------------------------------------------------------------------------------


def test_memory_error_is_a_user_error_keeping_the_notes(capsys, monkeypatch, scenarios):
    import simulation.batch.runner

    def exhausted(*args: Any, **kwargs: Any) -> None:
        exc = MemoryError("Unable to allocate 2.61 GiB")
        exc.add_note("3 finished run(s) are saved in results/x")
        raise exc

    monkeypatch.setattr(simulation.batch.runner, "run_replications", exhausted)
    err = one_line_error(["run", str(scenarios[0]), "--reps", "1"], capsys)
    assert err.startswith("error: out of memory: Unable to allocate 2.61 GiB; ")
    assert "3 finished run(s) are saved in results/x" in err
    assert err.rstrip().endswith("lower the request or raise the memory available")


@pytest.mark.needs_model
def test_run_beyond_the_memory_limit_is_a_user_error(scenarios, tmp_path):
    """A run forced past the estimate (--max-memory 1000T) in a 1 GiB process."""
    sets = ["org.sales_reps=2000", "org.ops_staff=2000", "horizon_days=2500",
            "warmup_days=1000", "market.leads_per_rep_day=50"]  # fmt: skip
    args = ["-m", "simulation", "run", str(scenarios[0]), "--reps", "1", "--max-memory", "1000T"]
    outcome = run_limited([*args, *(x for s in sets for x in ("--set", s))], cwd=tmp_path,
                          memory=1 << 30, timeout=60)  # fmt: skip
    assert not outcome.timed_out
    assert "Traceback" not in outcome.stderr, outcome.stderr[-2000:]
    assert outcome.returncode == 2, outcome.stderr[-2000:]
    # a first line may announce the estimated time (over a minute); then one error line
    *_, last = outcome.stderr.rstrip("\n").split("\n")
    assert last.startswith("error: out of memory: "), outcome.stderr
    assert outcome.stderr.count("error") == 1


def test_default_max_memory_respects_the_address_space_limit(tmp_path):
    code = "from simulation.batch.estimate import default_max_memory; print(default_max_memory())"
    outcome = run_limited(["-c", code], cwd=tmp_path, memory=1 << 30)
    assert outcome.returncode == 0, outcome.stderr
    assert 0 < int(outcome.stdout) <= 0.75 * (1 << 30)


@pytest.mark.needs_model
def test_request_beyond_the_process_limit_is_refused_by_default(scenarios, tmp_path):
    """About 1.8 GB estimated: within 75% of most machines' RAM, beyond a 1 GiB process."""
    sets = ["org.sales_reps=1000", "org.ops_staff=1000", "horizon_days=500",
            "market.leads_per_rep_day=5"]  # fmt: skip
    args = ["-m", "simulation", "run", str(scenarios[0]), "--reps", "1"]
    outcome = run_limited([*args, *(x for s in sets for x in ("--set", s))], cwd=tmp_path,
                          memory=1 << 30, timeout=60)  # fmt: skip
    assert not outcome.timed_out
    assert outcome.returncode == 2, outcome.stderr[-2000:]
    assert outcome.stderr.startswith("error: --max-memory: "), outcome.stderr[-2000:]


# ------------------------------------------------------------------------------------------
# 3, 4, 9. Report: a full disk, a planted record, a file for a folder
# ------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A finished 2-plan comparison (1 replication)."""
    root = tmp_path_factory.mktemp("attack_cli")
    for name, text in (("tiny.yaml", TINY_SCENARIO), ("blended.yaml", TINY_BLENDED)):
        (root / name).write_text(textwrap.dedent(text), encoding="utf-8")
    args = [str(root / "tiny.yaml"), str(root / "blended.yaml"), "--out", str(root / "results")]
    code = cli.main(["compare", *args, "--reps", "1", "--seed", "5", "--workers", "1"])
    assert code == 0
    return root / "results"


def _snapshot(folder: Path) -> dict[str, bytes | None]:
    return {
        str(p.relative_to(folder)): (p.read_bytes() if p.is_file() else None)
        for p in folder.rglob("*")
    }


@pytest.mark.needs_model
def test_report_on_a_full_disk_leaves_the_folder_as_it_was(results, tmp_path, capsys,
                                                           monkeypatch):  # fmt: skip
    import simulation.batch.store
    import simulation.report.pack

    out = tmp_path / "pack"
    assert cli.main(["report", str(results), "--out", str(out), "--format", "html,svg"]) == 0
    (out / "notes.txt").write_text("the user's")
    before = _snapshot(out)
    real = simulation.batch.store.atomic_write
    calls = []

    def full_on_third(path: Path, *args: Any, **kwargs: Any) -> None:
        calls.append(path)
        if len(calls) == 3:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))
        real(path, *args, **kwargs)

    monkeypatch.setattr(simulation.batch.store, "atomic_write", full_on_third)
    monkeypatch.setattr(simulation.report.pack, "atomic_write", full_on_third)
    capsys.readouterr()
    code = cli.main(["report", str(results), "--out", str(out), "--format", "html,png,svg"])
    err = capsys.readouterr().err
    assert code == 2, err
    assert len(calls) >= 3
    assert _snapshot(out) == before


@pytest.mark.needs_model
def test_report_on_a_full_disk_makes_no_folder(results, tmp_path, capsys, monkeypatch):
    import simulation.batch.store
    import simulation.report.pack

    def full(path: Path, *args: Any, **kwargs: Any) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))

    monkeypatch.setattr(simulation.batch.store, "atomic_write", full)
    monkeypatch.setattr(simulation.report.pack, "atomic_write", full)
    out = tmp_path / "new" / "pack"
    assert cli.main(["report", str(results), "--out", str(out), "--format", "svg"]) == 2
    assert list(tmp_path.iterdir()) == []


@pytest.mark.needs_model
def test_planted_record_does_not_make_report_delete_other_files(results, tmp_path):
    import hashlib

    out = tmp_path / "pack"
    (out / "charts").mkdir(parents=True)
    planted = {"notmine.txt": b"keep me", "charts/evil.png": b"\x89PNG not a chart"}
    for name, data in planted.items():
        (out / name).write_bytes(data)
    record = {
        "written_by": "friction report",
        "files": {n: hashlib.sha256(d).hexdigest() for n, d in planted.items()},
    }
    (out / ".friction-report.json").write_text(json.dumps(record))
    assert cli.main(["report", str(results), "--out", str(out), "--format", "html"]) == 0
    for name, data in planted.items():
        assert (out / name).read_bytes() == data, name


def test_report_of_a_file_says_it_is_a_file(tmp_path, capsys):
    path = tmp_path / "tiny.yaml"
    path.write_text(textwrap.dedent(TINY_SCENARIO))
    err = one_line_error(["report", str(path)], capsys)
    assert f"{path} is a file, not a results folder" in err


# ------------------------------------------------------------------------------------------
# 5. A closed pipe
# ------------------------------------------------------------------------------------------


def test_closed_stdout_exits_141_quietly(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", "simulation", "levers"], cwd=tmp_path,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)  # fmt: skip
    proc.stdout.close()  # before the first line: the reader is gone when friction writes
    err = proc.stderr.read()
    assert proc.wait(timeout=60) == 141
    assert err == b""


# ------------------------------------------------------------------------------------------
# 6. One rule for --seed
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["run", "sweep", "compare", "diagnose"])
@pytest.mark.parametrize("seed", [str(2**63), "9" * 23, "9" * 4000, "-1"])
def test_seed_out_of_range_is_refused_by_every_command(kind, seed, scenarios, tmp_path, capsys,
                                                       monkeypatch):  # fmt: skip
    monkeypatch.chdir(tmp_path)
    command = ["run", str(scenarios[0])] if kind == "run" else _command(kind, scenarios)
    err = one_line_error([*command, "--seed", seed], capsys)
    assert "--seed" in err and "2^63" in err, err


@pytest.mark.needs_model
def test_largest_seed_is_accepted(scenarios, capsys):
    assert cli.main(["run", str(scenarios[0]), "--reps", "1", "--seed", str(2**63 - 1)]) == 0


# ------------------------------------------------------------------------------------------
# 7, 8. Names
# ------------------------------------------------------------------------------------------


def test_names_without_letters_get_distinct_folders():
    names = ["🚀🔥", "---", "..", ".", "🚀", ""]
    slugs = [slug(n) for n in names]
    assert len(set(slugs)) == len(names), slugs
    for s in slugs:
        assert s.startswith("unnamed-") and len(s) == len("unnamed-") + 8
    assert slug("🚀🔥") == slug("🚀🔥")  # the same name, the same folder
    assert slug("Évaluation équipe") == "évaluation-équipe"


@pytest.mark.parametrize("name", ["", "   ", "\u3000"])
def test_blank_scenario_name_is_refused(name):
    with pytest.raises(ScenarioError, match=r"name") as info:
        load_scenario({"name": name})
    assert "blank" in str(info.value) or "empty" in str(info.value)


@pytest.mark.parametrize("other", ["ti ny ", " ti ny", "ti  ny", "ti\u00a0ny"])
def test_compare_refuses_names_that_differ_only_in_spaces(other):
    from simulation.batch.design import SweepError, compare_design

    tiny = load_scenario({"name": "ti ny"})
    with pytest.raises(SweepError, match="names must differ"):
        compare_design([tiny, load_scenario({"name": other})], 1, 1)
