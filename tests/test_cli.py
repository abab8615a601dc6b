"""The ``friction`` command line: exit codes, messages and output formats."""

from __future__ import annotations

import json
import math
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from simulation.batch.runner import replication_seeds
from simulation.cli import main as cli
from simulation.scenario.config import lever_keys

REPO = Path(__file__).resolve().parents[1]
SHORT = ["--set", "horizon_days=40", "--set", "warmup_days=10"]


def run_cli(capsys, *argv: str | Path) -> tuple[int, str, str]:
    code = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


# ------------------------------------------------------------------------------------------
# User errors: exit 2, "error: <one paragraph>", never a traceback
# ------------------------------------------------------------------------------------------

BAD_FILES = {
    "syntax": ("horizon_days: 40\norg: {sales_reps: 3\n", ["YAML syntax error", "line"]),
    "duplicate": ("warmup_days: 1\nwarmup_days: 2\n", ["duplicate key 'warmup_days'", "line 2"]),
    "not_mapping": ("- 1\n- 2\n", ["top level must be a mapping"]),
    "unknown_key": ("handover:\n  mvhh: true\n", ["handover.mvhh", "valid keys here", "mvh"]),
    "out_of_range": (
        "comms:\n  urgent_share: 1.5\n",
        ["comms.urgent_share", "less than or equal to 1"],
    ),
    "weights": ("incentives:\n  weights: {individual: 0.6, team: 0.6}\n", ["sum to 1", "= 1.2"]),
    "team_size": ("structure: {kind: tribe, team_size: 6}\n", ["team_size 6", "'tribe' (10-15)"]),
    "cycle": ("extends: cycle.yaml\n", ["extends cycle"]),
    "extends_missing": ("extends: missing_parent.yaml\n", ["missing_parent.yaml", "not found"]),
    "intervention": (
        "interventions:\n  - {day: 3, set: {handover.mvhh: true}}\n",
        ["interventions[0].set", "mvhh"],
    ),
}


@pytest.mark.parametrize("command", ["validate", "run"])
@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_bad_scenario_file_exits_2_with_message(capsys, write_yaml, command, case):
    text, fragments = BAD_FILES[case]
    path = write_yaml(f"{case}.yaml", text)
    code, out, err = run_cli(capsys, command, path)
    assert code == 2
    assert out == ""
    assert err.startswith("error: ") and err.count("\n") == 1, err
    assert "Traceback" not in err
    for fragment in fragments:
        assert fragment in err, f"{fragment!r} missing from: {err}"
    if case != "cycle":
        assert f"{case}.yaml" in err


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (["run", "{good}", "--set", "horizon_days"], ["expected dotted.key=value"]),
        (["validate", "{good}", "--set", "=3"], ["expected dotted.key=value"]),
        (["run", "{good}", "--set", "org.sales_rep=3"], ["org.sales_rep", "sales_reps"]),
        (["validate", "{good}", "--set", "structure.kind=matrix"], ["structure.kind", "override"]),
        (["run", "{good}", "--reps", "0"], ["--reps", "at least 1"]),
        (["run", "{good}", "--reps", "many"], ["--reps", "expected an integer"]),
        (["run", "{good}", "--seed", "-1"], ["--seed", "0 to 2^63 - 1"]),
        (["run", "{missing}"], ["not found", "missing.yaml"]),
        (["validate", "{missing}"], ["not found", "missing.yaml"]),
        (["simulate", "{good}"], ["invalid choice", "simulate"]),
        ([], ["no command given"]),
        (["levers", "--colour"], ["unrecognized arguments", "--colour"]),
    ],
)
def test_bad_command_line_exits_2(capsys, write_yaml, tmp_path, args, fragments):
    good = write_yaml("good.yaml", "horizon_days: 40\n")
    argv = [a.format(good=good, missing=tmp_path / "missing.yaml") for a in args]
    code, out, err = run_cli(capsys, *argv)
    assert code == 2 and out == ""
    assert err.startswith("error: ") and err.count("\n") == 1, err
    assert "Traceback" not in err
    for fragment in fragments:
        assert fragment in err, f"{fragment!r} missing from: {err}"


def test_subprocess_user_error_exit_code_and_no_traceback(write_yaml):
    bad = write_yaml("bad.yaml", "incentives:\n  weights: {individual: 0.5}\n")
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.run(
        [sys.executable, "-m", "simulation", "validate", str(bad)],
        capture_output=True,
        text=True,
        cwd=REPO,
        env=env,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert proc.stderr.startswith("error: ") and "sum to 1" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_internal_error_exits_1_with_traceback(capsys, write_yaml, monkeypatch):
    def broken(_s):
        raise RuntimeError("boom")

    monkeypatch.setattr(cli, "scenario_hash", broken)
    code, _, err = run_cli(capsys, "validate", write_yaml("ok.yaml", "{}\n"))
    assert code == 1
    assert "internal error: RuntimeError: boom" in err and "Traceback" in err


def test_keyboard_interrupt_exits_130(capsys, write_yaml, monkeypatch):
    def interrupted(_args):
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "load_scenario", lambda *a: interrupted(a))
    code, _, err = run_cli(capsys, "validate", write_yaml("ok.yaml", "{}\n"))
    assert code == 130 and "interrupted" in err


def test_help_exits_0(capsys):
    code, out, _ = run_cli(capsys, "--help")
    assert code == 0 and "validate" in out and "levers" in out and "Exit codes" in out


# ------------------------------------------------------------------------------------------
# validate
# ------------------------------------------------------------------------------------------


def test_validate_ok_shows_name_hash_and_changed_levers(capsys, write_yaml):
    path = write_yaml(
        "plan.yaml",
        """
        handover: {mvh: true}
        incentives:
          weights: {individual: 0.4, team: 0.3, company: 0.2, silo_buster: 0.1}
        interventions:
          - {day: 30, label: roll-out, set: {comms.strategy: channel_sla}}
        """,
    )
    code, out, err = run_cli(capsys, "validate", path)
    assert code == 0 and err == ""
    assert re.match(rf"OK: plan \({re.escape(str(path))}\) hash [0-9a-f]{{16}}\n", out)
    assert re.search(r"handover\.mvh\s+false -> true", out)
    assert re.search(r"incentives\.weights\.team\s+0 -> 0.3", out)
    assert "1 intervention(s)" in out
    assert "day 30 (roll-out): comms.strategy=channel_sla" in out
    assert "horizon_days" not in out  # unchanged levers are not listed


def test_validate_defaults_and_set(capsys, write_yaml):
    path = write_yaml("plain.yaml", "{}\n")
    code, out, _ = run_cli(capsys, "validate", path)
    assert code == 0 and "all levers at their defaults" in out
    code, out, _ = run_cli(
        capsys, "validate", path, "--set", "comms.strategy=channel_sla", "--set", "info.eli5=true"
    )
    assert code == 0
    assert "comms.strategy" in out and "channel_sla" in out and "info.eli5" in out


def test_python_dash_m_entry_point(write_yaml):
    path = write_yaml("ok.yaml", "{}\n")
    proc = subprocess.run(
        [sys.executable, "-m", "simulation", "validate", str(path)],
        capture_output=True,
        text=True,
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("OK: ok")


# ------------------------------------------------------------------------------------------
# levers
# ------------------------------------------------------------------------------------------


def test_levers_table_lists_every_key_within_100_columns(capsys):
    code, out, _ = run_cli(capsys, "levers")
    assert code == 0
    listed = {line.split()[0] for line in out.splitlines() if line and not line[0].isspace()}
    assert set(lever_keys()) <= listed
    too_wide = [line for line in out.splitlines() if len(line) > 100]
    assert not too_wide, too_wide[:3]


def test_levers_json_matches_schema(capsys):
    code, out, _ = run_cli(capsys, "levers", "--json")
    assert code == 0
    rows = json.loads(out)
    assert [r["key"] for r in rows] == lever_keys()
    assert {"key", "type", "default", "range", "unit", "meaning"} <= set(rows[0])


# ------------------------------------------------------------------------------------------
# run, with a stand-in model (plumbing) and with the real model
# ------------------------------------------------------------------------------------------


def test_run_json_shape_and_determinism_fake_model(capsys, write_yaml, fake_kpis):
    path = write_yaml("s.yaml", "name: shape\n")
    code, out, err = run_cli(capsys, "run", path, "--reps", "3", "--seed", "7", "--json")
    assert code == 0 and err == ""
    again = run_cli(capsys, "run", path, "--reps", "3", "--seed", "7", "--json")[1]
    assert out == again
    result = json.loads(out)
    assert list(result) == ["scenario", "seed", "reps", "kpis", "stages", "runs"]
    assert (result["scenario"], result["seed"], result["reps"]) == ("shape", 7, 3)
    assert set(result["kpis"]) == set(fake_kpis)
    assert [r["seed"] for r in result["runs"]] == replication_seeds(7, 3)
    for summary in [*result["kpis"].values(), *result["stages"]["handover"].values()]:
        assert list(summary) == ["mean", "ci_low", "ci_high"]


def test_run_table_fake_model(capsys, write_yaml, fake_kpis):
    path = write_yaml("s.yaml", "{}\n")
    code, out, _ = run_cli(capsys, "run", path, "--reps", "4")
    assert code == 0
    for kpi in fake_kpis.values():
        assert kpi.label in out and kpi.unit in out
    assert "95% interval" in out and "%C&A" in out and "handover" in out
    assert "4 replication(s), seed 1" in out


def test_json_writes_nan_as_null():
    assert json.loads(cli.dump_json({"a": math.nan, "b": [math.inf, 1.5]})) == {
        "a": None,
        "b": [None, 1.5],
    }


@pytest.mark.needs_model
def test_run_json_is_byte_identical_for_same_seed(capsys, write_yaml):
    from simulation.model.metrics import KPIS

    path = write_yaml("short.yaml", "name: short\n")
    argv = ["run", path, "--reps", "2", "--seed", "3", "--json", *SHORT]
    code, first, err = run_cli(capsys, *argv)
    assert code == 0, err
    second = run_cli(capsys, *argv)[1]
    assert first == second, "same seed must give byte-identical output"
    result = json.loads(first)
    assert result["reps"] == 2 and len(result["runs"]) == 2
    assert set(result["kpis"]) <= set(KPIS)
    assert {"productivity_loss", "handover_churn", "throughput"} <= set(result["kpis"])
    assert [r["seed"] for r in result["runs"]] == replication_seeds(3, 2)
    for stage in result["stages"].values():
        assert {"process_days", "wait_days", "pct_complete_accurate"} <= set(stage)


@pytest.mark.needs_model
def test_run_table_real_model(capsys, write_yaml):
    from simulation.model.metrics import KPIS

    path = write_yaml("short.yaml", "{}\n")
    code, out, err = run_cli(capsys, "run", path, "--reps", "2", *SHORT)
    assert code == 0, err
    for name in ("productivity_loss", "handover_churn", "throughput"):
        assert KPIS[name].label in out
