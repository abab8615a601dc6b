"""Size guards: every request is priced before it starts, and refused beyond the limits.

Attack inputs (a billion replications, a million-point design, the largest firm for the
longest horizon, 40 workers) run in a child process under a memory cap and a timeout, so a
regression fails a test instead of exhausting the machine. The memory model is checked against
the measured peak of real runs at two sizes.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).parent))
from sandbox import ROOT, run_limited

BASELINE = ROOT / "scenarios" / "baseline.yaml"
FRICTION = ["-m", "simulation"]

_PEAK = """
import resource, sys
from simulation.cli.main import main
code = main(sys.argv[1:])
print(f"maxrss {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}", file=sys.stderr)
sys.exit(code)
"""


def _maxrss_bytes(stderr: str) -> int:
    """The peak the child printed (see ``_PEAK``), in bytes."""
    from simulation.batch.estimate import maxrss_bytes

    return maxrss_bytes(int(stderr.rsplit("maxrss ", 1)[1].split()[0]))


def _one_error_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    assert lines[0].startswith("error: "), stderr
    assert "Traceback" not in stderr
    return lines[0]


# --------------------------------------------------------------------------------------------
# The memory model against measured peaks
# --------------------------------------------------------------------------------------------


def _sets(reps: int, ops: int, leads: float) -> list[str]:
    return ["--set", f"org.sales_reps={reps}", "--set", f"org.ops_staff={ops}",
            "--set", f"market.leads_per_rep_day={leads}"]  # fmt: skip


@pytest.mark.needs_model
def test_memory_estimate_is_within_2x_of_the_measured_peak_at_two_sizes(tmp_path: Path) -> None:
    """``friction run`` of a few hundred staff: ~50k deals (the interpreter dominates), then
    ~370k (the run's own ~250 MB dominate), so the per-deal term is checked, not just the base."""
    from simulation.batch.estimate import Request, RunSize, estimate
    from simulation.scenario.loader import load_scenario, parse_set_option

    for size in ((150, 150, 1.0), (300, 100, 4.0)):
        args = ["run", str(BASELINE), "--reps", "1", *_sets(*size)]
        out = run_limited(["-c", _PEAK, *args], cwd=tmp_path, memory=4 << 30, timeout=120)
        assert out.returncode == 0, out.stderr
        overrides = dict(parse_set_option(a) for a in args[5::2])
        run = RunSize.of(load_scenario(BASELINE, overrides))
        est = estimate(Request(runs=1, typical=run, largest=run, design=False))
        measured = _maxrss_bytes(out.stderr)
        assert 0.5 <= est.peak_bytes / measured <= 2.0, (size, est, measured)


@pytest.mark.needs_model
def test_memory_estimate_of_a_small_sweep_is_within_2x(tmp_path: Path, write_yaml) -> None:
    from simulation.batch.design import count_points, load_sweep
    from simulation.batch.estimate import Request, estimate, sweep_sizes

    write_yaml("base.yaml", "name: big\norg: {sales_reps: 200, ops_staff: 100}\n"
               "market: {leads_per_rep_day: 2.0}\n")  # fmt: skip
    sweep = write_yaml("s.yaml", "name: s\nbase: base.yaml\nreplications: 1\nseed: 1\n"
                       "axes:\n  structure.team_size: [6, 10]\n")  # fmt: skip
    args = ["sweep", str(sweep), "--workers", "1", "--out", str(tmp_path / "out")]
    out = run_limited(["-c", _PEAK, *args], cwd=tmp_path, memory=4 << 30, timeout=120)
    assert out.returncode == 0, out.stderr
    seen = {}
    load_sweep(sweep, check=lambda spec, base: seen.update(spec=spec, base=base))
    typical, largest = sweep_sizes(seen["spec"], seen["base"])
    points = count_points(seen["spec"])
    est = estimate(Request(runs=2, typical=typical, largest=largest, points=points))
    assert 0.5 <= est.peak_bytes / _maxrss_bytes(out.stderr) <= 2.0, est


# --------------------------------------------------------------------------------------------
# Attacks, each refused before any work starts
# --------------------------------------------------------------------------------------------


def test_a_billion_replications_is_refused_at_once(tmp_path: Path) -> None:
    out = run_limited([*FRICTION, "run", str(BASELINE), "--reps", "1000000000"],
                      cwd=tmp_path, timeout=60)  # fmt: skip
    assert out.returncode == 2, out
    line = _one_error_line(out.stderr)
    assert "--max-runs" in line and "1,000,000,000 runs" in line and "1,000,000" in line


def test_a_million_point_list_sweep_is_refused_before_it_is_built(tmp_path: Path) -> None:
    """Two list axes of 1,000 values: 10^6 points x 1 replication passes --max-runs, but its
    Scenario objects alone would need ~16 GB."""
    values = ", ".join(str(1000 + i) for i in range(1000))
    hours = ", ".join(str(0.5 * (i + 1)) for i in range(1000))
    sweep = tmp_path / "million.yaml"
    sweep.write_text(
        f"name: million\nbase: {BASELINE}\nreplications: 1\nseed: 1\naxes:\n"
        f"  market.deal_value: [{values}]\n  market.selling_hours: [{hours}]\n"
    )
    out = run_limited([*FRICTION, "sweep", str(sweep), "--max-memory", "8G", "--workers", "1"],
                      cwd=tmp_path, timeout=60)  # fmt: skip
    assert out.returncode == 2, out
    line = _one_error_line(out.stderr)
    assert "--max-memory" in line and "1,000,000 runs" in line and "8.0 GB" in line
    assert not (tmp_path / "results").exists()


def test_the_largest_firm_for_the_longest_horizon_is_refused_on_memory(tmp_path: Path) -> None:
    """2,000 + 2,000 staff, 50 leads per rep a day, 3,500 days: 350 million deals (~150 GB),
    more than three quarters of any machine this runs on."""
    args = ["run", str(BASELINE), "--reps", "1", *_sets(2000, 2000, 50),
            "--set", "horizon_days=2500", "--set", "warmup_days=1000"]  # fmt: skip
    out = run_limited([*FRICTION, *args], cwd=tmp_path, timeout=60)
    assert out.returncode == 2, out
    line = _one_error_line(out.stderr)
    assert "--max-memory" in line and "GB peak" in line and "75%" not in line


def test_more_workers_than_cores_is_refused_unless_forced(tmp_path: Path) -> None:
    from simulation.batch.execute import default_workers

    many = str(max(40, default_workers() + 1))
    base = [*FRICTION, "compare", str(BASELINE), str(ROOT / "scenarios" / "mvh.yaml"),
            "--reps", "2", "--workers", many, "--out", str(tmp_path / "out")]  # fmt: skip
    out = run_limited(base, cwd=tmp_path, timeout=60)
    assert out.returncode == 2, out
    line = _one_error_line(out.stderr)
    assert "--workers" in line and f"{default_workers()} usable core" in line
    assert "--force-workers" in line
    # forced, the workers pass; --max-runs 1 then stops it before any process starts
    forced = run_limited([*base, "--force-workers", "--max-runs", "1"], cwd=tmp_path, timeout=60)
    assert forced.returncode == 2, forced
    assert _one_error_line(forced.stderr).startswith("error: --max-runs: about 4 runs")
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("command", ["run", "compare", "sweep", "diagnose"])
def test_every_running_command_honours_max_runs(command: str, tmp_path: Path) -> None:
    target = {"sweep": str(ROOT / "scenarios" / "sweeps" / "team_size.yaml")}.get(
        command, str(BASELINE)
    )
    extra = ["--workers", "1"] if command != "run" else []
    out = run_limited([*FRICTION, command, target, "--max-runs", "3", *extra,
                       "--out" if extra else "--json", *([str(tmp_path / "o")] if extra else [])],
                      cwd=tmp_path, timeout=60)  # fmt: skip
    assert out.returncode == 2, out
    line = _one_error_line(out.stderr)
    assert line.startswith("error: --max-runs: about ") and "the limit of 3 runs" in line
    assert not (tmp_path / "o").exists()


# --------------------------------------------------------------------------------------------
# The pieces
# --------------------------------------------------------------------------------------------


def test_a_request_longer_than_a_minute_prints_its_estimate(capsys) -> None:
    from simulation.batch.estimate import Request, RunSize, estimate
    from simulation.cli.main import check_request

    run = RunSize(people=70, days=310, deals=3100)
    request = Request(runs=5000, typical=run, largest=run, workers=2, points=500, daily=True)
    est = estimate(request)
    assert est.seconds > 60
    args = type("Args", (), {"max_runs": 10**6, "max_memory": 1 << 40})()
    check_request(args, request)
    err = capsys.readouterr().err.strip()
    assert err == est.describe()
    assert err.startswith("about 5,000 runs, ~") and "peak, ~" in err and "on 2 workers" in err


def test_a_short_request_prints_nothing(capsys) -> None:
    from simulation.batch.estimate import Request, RunSize
    from simulation.cli.main import check_request

    run = RunSize(people=70, days=310, deals=3100)
    args = type("Args", (), {"max_runs": 10**6, "max_memory": 1 << 40})()
    check_request(args, Request(runs=2, typical=run, largest=run, design=False))
    assert capsys.readouterr().err == ""


def test_memory_grows_with_people_days_deals_and_workers() -> None:
    from simulation.batch.estimate import Request, RunSize, estimate

    small = RunSize(people=70, days=310, deals=3100)
    one = estimate(Request(runs=100, typical=small, largest=small, workers=2)).peak_bytes
    for bigger in (RunSize(700, 310, 3100), RunSize(70, 3100, 3100), RunSize(70, 310, 10**6)):
        assert (
            estimate(Request(runs=100, typical=small, largest=bigger, workers=2)).peak_bytes > one
        )
    many = RunSize(70, 310, 10**6)
    two = estimate(Request(runs=100, typical=many, largest=many, workers=2)).peak_bytes
    one_worker = estimate(Request(runs=100, typical=many, largest=many, workers=1)).peak_bytes
    assert two > one_worker


@pytest.mark.parametrize(
    ("text", "value"),
    [("8G", 8 << 30), ("500M", 500 << 20), ("1.5GB", 3 << 29), ("2GiB", 2 << 30),
     ("123456", 123456), ("64k", 64 << 10)],
)  # fmt: skip
def test_memory_sizes_parse(text: str, value: int) -> None:
    from simulation.batch.estimate import parse_bytes

    assert parse_bytes(text) == value


@pytest.mark.parametrize("text", ["", "lots", "-1G", "0", "8X", "1e9"])
def test_a_bad_max_memory_is_one_line_exit_2(text: str, capsys) -> None:
    from simulation.cli.main import main

    assert main(["run", str(BASELINE), f"--max-memory={text}"]) == 2
    line = _one_error_line(capsys.readouterr().err)
    assert "--max-memory" in line and ("expected a size" in line or "more than 0" in line)


def test_default_max_memory_is_three_quarters_of_ram() -> None:
    from simulation.batch.estimate import default_max_memory, total_memory

    assert default_max_memory() == int(0.75 * total_memory())
    assert total_memory() > 1 << 28


@settings(max_examples=60, deadline=None)
@given(
    n=st.sampled_from([2, 3, 4, 5, 8, 10, 20]),
    keep=st.sampled_from(["all", "faces", "interior"]),
    fix=st.dictionaries(
        st.sampled_from(["individual", "team", "company", "silo_buster"]),
        st.sampled_from([0.0, 0.1, 0.2, 0.25, 0.5, 1.0, 0.33]),
        max_size=4,
    ),
)
def test_simplex_points_are_counted_without_building_them(n: int, keep: str, fix: dict) -> None:
    from simulation.batch.design import SimplexAxis, _simplex_count, simplex_mixes

    axis = SimplexAxis(simplex=1 / n, keep=keep, fix=fix)
    assert _simplex_count(axis) == len(simplex_mixes(axis.simplex, keep, fix))


def test_count_points_matches_the_built_design() -> None:
    from simulation.batch.design import SweepSpec, build_design, count_points
    from simulation.scenario.loader import load_scenario

    spec = SweepSpec(
        name="x", base="b", replications=1, seed=1,
        axes={
            "incentives.weights": {"simplex": 0.25, "keep": "faces"},
            "structure.team_size": [6, 8, 10],
            "u": {"sample": "lhs", "n": 4, "ranges": {"behaviour.norm_sd": [0.05, 0.2]}},
            "h": {"points": [{"handover.mvh": True}, {"handover.mvh": False}]},
        },
    )  # fmt: skip
    design = build_design(spec, load_scenario(BASELINE))
    assert count_points(spec) == len(design.points) == 34 * 3 * 4 * 2


def test_sweep_sizes_read_from_the_file_match_the_built_design() -> None:
    """The size levers' mean and max from the axes give the same typical and largest run as
    the scenarios of the built design (size levers on separate axes, fully crossed)."""
    from simulation.batch.design import SweepSpec, build_design
    from simulation.batch.estimate import scenario_sizes, sweep_sizes
    from simulation.scenario.loader import load_scenario

    base = load_scenario(BASELINE)
    spec = SweepSpec(
        name="x", base="b", replications=1, seed=1,
        axes={"org.sales_reps": [20, 40, 90], "horizon_days": [100, 400],
              "leads": {"points": [{"market.leads_per_rep_day": 0.5}]}},
    )  # fmt: skip
    design = build_design(spec, base)
    typical, largest = sweep_sizes(spec, base)
    built_typical, built_largest = scenario_sizes([p.scenario for p in design.points])
    assert largest == built_largest
    assert typical.people == pytest.approx(built_typical.people)
    assert typical.days == pytest.approx(built_typical.days)
    assert typical.deals == pytest.approx(built_typical.deals)


def test_a_raised_max_runs_reaches_the_design(tmp_path: Path, write_yaml) -> None:
    """build_design's own refusal follows the limit given instead of a fixed million."""
    from simulation.batch.design import SweepError, load_sweep

    sweep = write_yaml("s.yaml", f"name: s\nbase: {BASELINE}\nreplications: 3\nseed: 1\n"
                       "axes:\n  structure.team_size: [6, 8]\n")  # fmt: skip
    with pytest.raises(SweepError, match="limit of 5 runs"):
        load_sweep(sweep, max_runs=5)
    assert load_sweep(sweep, max_runs=6).n_runs == 6
