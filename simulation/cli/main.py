"""``friction``: validate scenarios, run and compare them, sweep levers, list the levers.

User errors (a bad scenario, a bad option) print ``error: <one paragraph>`` and exit 2; only a
bug in the program prints a traceback (exit 1). A strategist should never have to read a Python
traceback to find a typo in a YAML file.
"""

from __future__ import annotations

import argparse
import errno
import json
import math
import os
import signal
import sys
import textwrap
import traceback
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from simulation.batch.design import SweepAborted
from simulation.cli.tables import (
    WIDTH,
    as_float,
    format_bytes,
    format_duration,
    format_percent,
    format_summary,
    format_table,
    format_value,
    json_ready,
)
from simulation.scenario.config import Scenario, get_dotted, lever_keys, lever_table
from simulation.scenario.levers import (
    DEFAULT_LEVER_SET,
    DEFAULT_RANK,
    DEFAULT_ROLLOUT_DAY,
    LEVER_SETS,
)
from simulation.scenario.loader import ScenarioError, load_scenario, parse_set_option, scenario_hash

if TYPE_CHECKING:
    from simulation.model.metrics import KPI

PROG = "friction"

MISSION_COLUMNS = 2  # mission KPIs per diagnosis table, so a table fits the terminal width

EXIT_OK = 0
EXIT_INTERNAL = 1
EXIT_USAGE = 2
EXIT_RUNS_FAILED = 3
EXIT_INTERRUPTED = 130
EXIT_CLOSED_PIPE = 141  # 128 + SIGPIPE: what a shell reports for a reader that went away


class UsageError(Exception):
    """A mistake on the command line (exit 2), as opposed to a bug (exit 1)."""


class ArgumentParser(argparse.ArgumentParser):
    """argparse that raises instead of exiting, so every user error is reported one way."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message}; run '{self.prog} --help' for usage")


# --------------------------------------------------------------------------------------------
# Argument types
# --------------------------------------------------------------------------------------------


def int_at_least(minimum: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer, got '{text}'") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}, got {value}")
        return value

    return parse


#: Seeds are 63-bit: what every command, the sweep file and the results manifest accept.
SEED_LIMIT = 2**63


def seed_value(text: str) -> int:
    """``--seed``: one rule for every command, checked before anything is built."""
    try:
        value = int(text)
    except ValueError:
        value = None
    if value is None or not 0 <= value < SEED_LIMIT:
        shown = text if len(text) <= 30 else f"{text[:20]}... ({len(text)} characters)"
        raise argparse.ArgumentTypeError(
            f"must be an integer from 0 to 2^63 - 1 ({SEED_LIMIT - 1}), got {shown}"
        )
    return value


def dask_address(text: str) -> str:
    """``--address``: checked for form at once, before a results folder is made."""
    from simulation.batch.execute import check_address

    try:
        return check_address(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _overrides(options: Sequence[str] | None) -> dict[str, Any]:
    """``--set`` options in order; a key given twice keeps its last value."""
    return dict(parse_set_option(o) for o in options or ())


def _load(args: argparse.Namespace) -> Scenario:
    return load_scenario(Path(args.scenario), _overrides(args.set))


def _add_scenario_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("scenario", help="scenario YAML file")
    add_set_arg(p, "a lever, e.g. --set incentives.weights.team=0.3")


def add_set_arg(p: argparse.ArgumentParser, what: str) -> None:
    """``--set KEY=VALUE`` (repeatable): lever overrides, read as YAML."""
    p.add_argument("--set", action="append", metavar="KEY=VALUE",
                   help=f"override {what} (repeatable; the value is read as YAML: true, 0.3, "
                   "chat_first)")  # fmt: skip


def add_replication_args(p: argparse.ArgumentParser) -> None:
    """``--reps`` and ``--seed``, alike for every command that runs replications."""
    p.add_argument("--reps", type=int_at_least(1), default=10, help="replications (default 10)")
    p.add_argument("--seed", type=seed_value, default=1, help="root random seed (default 1)")
    add_limit_args(p)


def memory_size(text: str) -> int:
    from simulation.batch.estimate import parse_bytes

    try:
        return parse_bytes(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def add_limit_args(p: argparse.ArgumentParser) -> None:
    """``--max-runs`` and ``--max-memory``: a request beyond them is refused before it starts."""
    from simulation.batch.design import MAX_RUNS
    from simulation.batch.estimate import default_max_memory

    p.add_argument("--max-runs", type=int_at_least(1), default=MAX_RUNS, metavar="N",
                   help=f"refuse a request of more runs (default {MAX_RUNS:,})")  # fmt: skip
    limit = format_bytes(default_max_memory())
    p.add_argument("--max-memory", type=memory_size, default=default_max_memory(),
                   metavar="SIZE", help="refuse a request estimated to need more memory, e.g. "
                   f"8G or 500M (default 75%% of the memory it may use: {limit})")  # fmt: skip


def check_workers(args: argparse.Namespace) -> None:
    """More workers than usable cores only adds processes and memory: refuse unless forced.

    Not for a remote Dask cluster (``--address``): its workers run on other machines.
    """
    from simulation.batch.execute import default_workers

    if getattr(args, "address", None):
        return
    cores = default_workers()
    if args.workers > cores and not args.force_workers:
        raise UsageError(
            f"--workers: {args.workers} is more than the {cores} usable core(s) of this "
            f"machine; each worker is a process with its own memory and more than {cores} "
            f"do not run faster; use --workers {cores} or fewer, or add --force-workers"
        )


def check_request(args: argparse.Namespace, request: Any, later: bool = False) -> None:
    """Refuse a request beyond --max-runs or --max-memory; announce one longer than a minute.

    Called before any work starts (for a sweep, before its design points are built).

    Args:
        later: announce it only once there are runs to do (:func:`_execute`): a finished
            comparison of the same inputs is reused, not run.
    """
    from simulation.batch.estimate import MINUTE, estimate, refusal

    est = estimate(request)
    reason = refusal(est, args.max_runs, args.max_memory)
    if reason:
        raise UsageError(reason)
    if est.seconds > MINUTE:
        if later:
            args.announce = est.describe()
        else:
            print(est.describe(), file=sys.stderr, flush=True)


def design_request(args: argparse.Namespace, design: Any) -> Any:
    """The request of a built (small) design: compare and diagnose."""
    from simulation.batch.estimate import Request, scenario_sizes

    typical, largest = scenario_sizes([p.scenario for p in design.points])
    return Request(
        runs=design.n_runs,
        typical=typical,
        largest=largest,
        workers=args.workers,
        points=len(design.points),
        daily=design.daily,
    )


# --------------------------------------------------------------------------------------------
# Commands
# --------------------------------------------------------------------------------------------


def changed_levers(s: Scenario) -> list[tuple[str, Any, Any]]:
    """``(key, default, value)`` for every lever that differs from the schema default."""
    default = Scenario()
    return [
        (key, get_dotted(default, key), get_dotted(s, key))
        for key in lever_keys()
        if get_dotted(s, key) != get_dotted(default, key)
    ]


def cmd_validate(args: argparse.Namespace) -> int:
    """Check a scenario and show what it changes, without running the model."""
    s = _load(args)
    print(f"OK: {s.name} ({args.scenario}) hash {scenario_hash(s)}")
    changes = changed_levers(s)
    if changes:
        print(f"{len(changes)} lever(s) differ from the defaults:")
        width = max(len(k) for k, _, _ in changes)
        for key, default, value in changes:
            print(f"  {key.ljust(width)}  {format_value(default)} -> {format_value(value)}")
    else:
        print("all levers at their defaults")
    if s.interventions:
        print(f"{len(s.interventions)} intervention(s), by measured day:")
    for iv in sorted(s.interventions, key=lambda iv: iv.day):
        label = f" ({iv.label})" if iv.label else ""
        sets = ", ".join(f"{k}={format_value(v)}" for k, v in iv.set.items())
        text = f"day {iv.day}{label}: {sets}"
        print(textwrap.fill(text, WIDTH, initial_indent="  ", subsequent_indent="      "))
    return EXIT_OK


def _progress_printer() -> Callable[[int, int], None] | None:
    """Progress on stderr for people watching a terminal; nothing in pipes, logs or tests."""
    if not sys.stderr.isatty():
        return None

    def show(done: int, total: int) -> None:
        end = "\n" if done == total else ""
        print(f"\rreplication {done}/{total}", end=end, file=sys.stderr, flush=True)

    return show


def kpi_registry() -> dict[str, Any]:
    """Label, unit and direction of every KPI, loaded only when there are results to show."""
    from simulation.model.metrics import KPIS

    return KPIS


def kpi_label(name: str, kpis: dict[str, Any]) -> tuple[str, str]:
    """Label and unit of a KPI; a KPI the registry does not know is shown by its name."""
    kpi = kpis.get(name)
    return (kpi.label, kpi.unit) if kpi is not None else (name, "")


def render_run(
    result: dict[str, Any], source: str, digest: str, currency: str | None = None
) -> str:
    """Human-readable KPI and value-stream tables of a ``run_replications`` result (money in
    ``currency``, the scenario's ``report.currency``)."""
    kpis = kpi_registry()
    reps = result["reps"]
    lines = [
        f"Scenario {result['scenario']} ({source}), hash {digest}: {reps} replication(s), "
        f"seed {result['seed']}",
        "",
    ]
    rows = []
    for name, summ in result["kpis"].items():
        label, unit = kpi_label(name, kpis)
        unit = unit.replace("currency", currency) if currency else unit
        rows.append([label, unit, *format_summary(summ)])
    lines.append(format_table(["KPI", "unit", "mean", "95% interval"], rows, right=(2, 3)))
    if result["stages"]:
        stage_rows = []
        for stage, metrics in result["stages"].items():
            row = [stage]
            for metric in ("process_days", "wait_days", "pct_complete_accurate"):
                summ = metrics.get(metric)
                row.append(" ".join(format_summary(summ)) if summ else "n/a")
            stage_rows.append(row)
        lines += [
            "",
            format_table(
                ["stage", "process days", "wait days", "%C&A"], stage_rows, right=(1, 2, 3)
            ),
        ]
    lines += ["", f"Means over {reps} replications; intervals are Student-t 95% of the mean."]
    return "\n".join(lines)


def dump_json(value: Any) -> str:
    return json.dumps(json_ready(value), indent=2, sort_keys=False, allow_nan=False)


def cmd_run(args: argparse.Namespace) -> int:
    """Run replications and print the KPI summary (table or JSON)."""
    from simulation.batch.estimate import Request, RunSize
    from simulation.batch.runner import run_replications

    s = _load(args)
    size = RunSize.of(s)
    check_request(args, Request(runs=args.reps, typical=size, largest=size, design=False))
    result = run_replications(s, args.reps, args.seed, progress=_progress_printer())
    if args.json:
        print(dump_json(result))
    else:
        print(render_run(result, args.scenario, scenario_hash(s), s.report.currency))
    return EXIT_OK


# --------------------------------------------------------------------------------------------
# Sweeps and comparisons (both write a results folder)
# --------------------------------------------------------------------------------------------


@contextmanager
def _progress_bar(total: int, desc: str) -> Iterator[Callable[[int, int], None]]:
    """A progress bar on stderr (runs done, rate, time left); silent when not a terminal."""
    from tqdm import tqdm

    tqdm.monitor_interval = 0  # no monitor thread, so worker processes can be forked safely
    bar = tqdm(total=total, desc=desc, unit="run", disable=None, file=sys.stderr, smoothing=0.05,
               dynamic_ncols=True)  # fmt: skip
    state = {"shown": 0}

    def update(done: int, total: int) -> None:
        if bar.total != total:  # the runs to do this session (fewer on --resume)
            bar.reset(total=total)
        bar.update(done - state["shown"])
        state["shown"] = done

    try:
        yield update
    finally:
        bar.close()


@contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """SIGTERM (a scheduler's stop, ``kill``) stops a sweep like Ctrl-C: saved runs stay saved."""

    def handler(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _execute(args: argparse.Namespace, design: Any, out: Path, argv: Sequence[str]) -> Any:
    """Run what is pending with a progress bar, and report an interruption."""
    from simulation.experiments import RunInterrupted, execute

    opened = False  # the results folder is open once progress is first reported
    announce = getattr(args, "announce", None)  # the time estimate, if long (check_request)

    try:
        with _sigterm_as_interrupt(), _progress_bar(design.n_runs, design.name) as bar:

            def progress(done: int, total: int) -> None:
                nonlocal opened, announce
                opened = True
                if announce and total:  # runs to do: not a reused comparison
                    print(announce, file=sys.stderr, flush=True)
                announce = None
                bar(done, total)

            return execute(
                design,
                out,
                workers=args.workers,
                resume=args.resume,
                executor=getattr(args, "executor", "local"),
                address=getattr(args, "address", None),
                progress=progress,
                command=argv,
                resume_hint="run the same command with --resume",
            )
    except RunInterrupted as exc:
        print(
            f"\ninterrupted: {exc}; run the same command with --resume to finish",
            file=sys.stderr,
        )
        raise _Interrupted from None
    except OSError as exc:
        # Before any run, a folder that cannot be made or written (a file, a read-only file
        # system, a name too long) is the user's to fix; a full disk keeps its own message.
        if opened or exc.errno in (errno.ENOSPC, errno.EDQUOT):
            raise
        raise UsageError(
            f"--out: cannot write the results to {out}: {exc.strerror or exc}"
        ) from None


class _Interrupted(Exception):
    """A sweep stopped by the user after its message was printed (exit 130)."""


def _failures_note(summary: Any, out: Path) -> str:
    return (
        f"{summary.failed} run(s) raised an error and are not in the results; their tracebacks "
        f"are in {out / 'failures'}. Fix the cause, then rerun with --resume to run only those."
    )


def render_lead(bottom_line: str | None, guardrails: Sequence[Mapping[str, Any]]) -> list[str]:
    """What a board member reads first: the bottom line, then what to read with care."""
    from simulation.analysis.words import READ_WITH_CARE, guardrail_lines

    lines = [textwrap.fill(bottom_line, WIDTH)] if bottom_line else []
    cautions = guardrail_lines(guardrails)
    if cautions:
        lines += ["", f"{READ_WITH_CARE}:"]
        lines += [
            textwrap.fill(c, WIDTH, initial_indent="- ", subsequent_indent="  ") for c in cautions
        ]
    return lines


def render_sweep(
    design: Any, summary: Any, out: Path, choice: Mapping[str, Any] | None = None
) -> str:
    """What a sweep produced: size, time, where, and the best and worst design point per KPI."""
    import pyarrow.parquet as pq

    from simulation.analysis.words import format_kpi_value, money_in, point_label
    from simulation.model.metrics import HEADLINE

    kpis = kpi_registry()
    lines = []
    if choice is not None:
        lines += [*render_lead(choice["bottom_line"], choice["guardrails"]), ""]
    lines += [
        f"Sweep {design.name}: {summary.done} of {summary.n_runs} runs ({len(design.points)} "
        f"design points x {design.replications} replications), seed {design.seed}.",
        f"This session ran {summary.ran} runs in {format_duration(summary.seconds)}"
        + (
            f" ({summary.rate:.1f} runs/s, {summary.workers} worker(s), {summary.executor})."
            if summary.ran
            else "."
        ),
        f"Results: {out}/ (runs.parquet, points.parquet, manifest.json"
        + (", daily.parquet)" if design.daily else ")"),
    ]
    points_path = out / "points.parquet"
    if points_path.exists() and len(design.points) > 1:
        table = pq.read_table(points_path).to_pylist()
        rows = []
        for name in HEADLINE:
            kpi = kpis[name]
            usable = [r for r in table if r[f"{name}_mean"] is not None
                      and not math.isnan(r[f"{name}_mean"])]  # fmt: skip
            if not usable:
                continue
            sign = -1 if kpi.better == "higher" else 1
            ranked = sorted(usable, key=lambda r: sign * r[f"{name}_mean"])
            row = [kpi.label]
            base = design.config.get("base_scenario")
            with money_in(design.points[0].scenario.report.currency):
                for r in (ranked[0], ranked[-1]):
                    row.append(format_kpi_value(kpi, r[f"{name}_mean"]))
                    row.append(point_label({c: r[c] for c in design.columns}, base))
            rows.append(row)
        lines += [
            "",
            "Best and worst design points (means over replications; intervals in points.parquet):",
            format_table(
                ["KPI", "best", "at", "worst", "at"], rows, right=(1, 3), wrap={2: 26, 4: 26}
            ),
        ]
    if summary.failed:
        lines += ["", _failures_note(summary, out)]
    return "\n".join(lines)


def cmd_sweep(args: argparse.Namespace) -> int:
    """Run a sweep file into a results folder (resumable)."""
    from simulation.batch.design import count_points, load_sweep
    from simulation.batch.estimate import Request, sweep_sizes
    from simulation.experiments import sweep_folder

    check_workers(args)

    def check(spec: Any, base: Scenario) -> None:
        typical, largest = sweep_sizes(spec, base)
        points = count_points(spec)
        executor = "remote" if args.address else args.executor
        check_request(args, Request(runs=points * spec.replications, typical=typical,
                                    largest=largest, workers=args.workers, points=points,
                                    daily=spec.daily, executor=executor))  # fmt: skip

    design = load_sweep(Path(args.sweep), replications=args.reps, seed=args.seed,
                        daily=True if args.daily else None, max_runs=args.max_runs,
                        check=check)  # fmt: skip
    out = sweep_folder(args.out, design)
    summary = _execute(args, design, out, [PROG, "sweep", *args.argv])
    print(render_sweep(design, summary, out, None if summary.failed else _sweep_choice(out)))
    return EXIT_RUNS_FAILED if summary.failed else EXIT_OK


def _sweep_choice(out: Path) -> dict[str, Any] | None:
    """The design a finished sweep names first, its bottom line and guardrails."""
    from simulation.analysis.results import sweep_choice, today_point, written_results

    results = written_results(out)  # just written here: no run is run again to check it
    return sweep_choice(results, today_point(results))


def render_compare(result: dict[str, Any]) -> str:
    """Tables of paired differences against the first scenario, then the verdict lines."""
    from simulation.analysis.words import money_in

    with money_in(result.get("currency")):
        return _render_compare(result)


def _render_compare(result: dict[str, Any]) -> str:
    from simulation.analysis.words import format_kpi_value, table_unit
    from simulation.model.metrics import HEADLINE

    worded = (*HEADLINE, "cost_of_friction")  # spelled out; the rest are in table and JSON

    kpis = kpi_registry()
    shown = {x: result.get("labels", {}).get(x, x) for x in result["scenarios"]}
    base = shown[result["baseline"]]
    guardrails = result.get("guardrails", [])
    firms_differ = any(g["kind"] == "different_firms" for g in guardrails)
    customers = (
        "the scenarios differ in firm or market, so they do not face the same customers"
        if firms_differ
        else "every scenario faces the same customers"
    )
    lines = render_lead(result.get("bottom_line"), guardrails)
    lines += [
        *([""] if lines else []),
        textwrap.fill(
            f"Comparison on common random numbers: {result['replications']} replications of "
            f"each scenario, root seed {result['seed']}; {customers}.",
            WIDTH,
        ),
        f"Results: {result['results']}/",
    ]
    for name in result["scenarios"][1:]:
        label = shown[name]
        rows = []
        for kpi_name, d in result["differences"][name].items():
            kpi = kpis.get(kpi_name)
            lo = format_kpi_value(kpi, d["ci_low"], diff=True, unit=False)
            hi = format_kpi_value(kpi, d["ci_high"], diff=True, unit=False)
            rows.append(
                [
                    kpi.label if kpi else kpi_name,
                    table_unit(kpi),
                    format_kpi_value(kpi, d["base_mean"], unit=False),
                    format_kpi_value(kpi, d["mean"], unit=False),
                    format_kpi_value(kpi, d["diff"], diff=True, unit=False),
                    f"[{lo}, {hi}]",
                    format_percent(d["p_better"]),
                ]
            )
        lines += [
            "",
            f"{label} against {base}",
            format_table(
                ["KPI", "unit", base, label, "difference", "95% interval", "P(better)"],
                rows,
                right=(2, 3, 4, 5, 6),
                wrap={0: 22, 1: 20, 2: 20, 3: 20},
            ),
            "",
            "In plain words:",
        ]
        verdicts = zip(result["differences"][name], result["verdicts"][name], strict=True)
        said = [text for kpi_name, text in verdicts if kpi_name in worded]
        for text in said:
            lines.append(textwrap.fill(text, WIDTH, initial_indent="- ", subsequent_indent="  "))
        if len(said) < len(result["verdicts"][name]):
            lines.append(
                f"  (the other {len(result['verdicts'][name]) - len(said)} KPIs are in the table; "
                "--json or comparison.json has a verdict for each)"
            )
    lines += [
        "",
        "Differences are paired (same seeds); differences of % are in percentage points; "
        "intervals are\nStudent-t 95%; P(better) is the chance the true difference is in the "
        "KPI's good direction.",
    ]
    return "\n".join(lines)


def cmd_compare(args: argparse.Namespace) -> int:
    """Run scenarios on common random numbers and report paired differences against the first."""
    from simulation.experiments import compare_folder, finish_comparison, plan_compare

    check_workers(args)
    design = plan_compare(args.scenarios, args.reps, args.seed, _overrides(args.set))
    check_request(args, design_request(args, design), later=True)
    out = compare_folder(args.out, design)
    summary = _execute(args, design, out, [PROG, "compare", *args.argv])
    if summary.reused:
        print(f"reusing the results in {out}: same inputs (scenarios, replications, seed, code "
              "and package versions)", file=sys.stderr)  # fmt: skip
    if summary.failed:
        print(_failures_note(summary, out), file=sys.stderr)
        return EXIT_RUNS_FAILED
    result = finish_comparison(out)
    print(dump_json(result) if args.json else render_compare(result))
    return EXIT_OK


def _starting_name(d: Mapping[str, Any]) -> str:
    """The starting scenario by its label, with its name when they differ: 'Today tiny
    (today_tiny)'."""
    name, label = str(d["scenario"]), d.get("scenario_label")
    return f"{label} ({name})" if label and label != name else f"'{name}'"


def _diagnosis_intro(d: Mapping[str, Any]) -> list[str]:
    """What was run (levers, roll-out day, replications, seed) and where the results are."""
    roll = d.get("rollout")
    if roll:
        window = roll["after_rollout"]
        when = (
            f"each rolled out alone on day {roll['day']} of a {roll['horizon_days']}-day run "
            f"(changes ranked over the year after roll-out, days {window['from_day']} to "
            f"{window['to_day'] - 1}, and shown over the whole run beside them)"
        )
    else:  # a diagnosis saved before roll-out days
        when = "each applied alone from day 0"
    kinds = [lv.get("kind", "single") for lv in d["levers"]]
    what = f"{len(d['levers'])} lever(s) of the playbook"
    if "part" in kinds:
        what += f" ({kinds.count('bundle')} bundle(s) and their parts)"
    return [
        textwrap.fill(
            f"Diagnosis of {_starting_name(d)}: {what}, {when}, {d['replications']} "
            "replication(s) "
            f"on the same seeds (root seed {d['seed']}); every variant faces the same customers.",
            WIDTH,
        ),
        f"Results: {d['results']}/ (diagnosis.json, comparison.json, runs.parquet)",
    ]


def _change_cells(kpi: KPI, r: Mapping[str, Any]) -> list[str]:
    """A change against current and its 95% interval, as table cells."""
    from simulation.analysis.words import format_kpi_value

    diff, lo, hi = as_float(r["diff"]), as_float(r["ci_low"]), as_float(r["ci_high"])
    return [
        format_kpi_value(kpi, diff, diff=True, unit=False),
        f"[{format_kpi_value(kpi, lo, diff=True, unit=False)}, "
        f"{format_kpi_value(kpi, hi, diff=True, unit=False)}]",
    ]


def _diagnosis_ranking(d: Mapping[str, Any]) -> list[str]:
    """The levers ranked on the ranking KPI: change, interval, P(better), replications won and,
    when measured, the change over the whole run."""
    from simulation.analysis.words import format_kpi_value, table_unit
    from simulation.model.metrics import KPIS

    rank_by = d["rank_by"]
    kpi = KPIS[rank_by]
    base = as_float(d["current"].get(rank_by))
    wins = d["wins"]
    whole = {r["lever"]: r for r in d.get("whole_run", {}).get("rankings", {}).get(rank_by, [])}
    if d.get("rollout", {}).get("ranked_on") != "after_rollout":
        whole = {}  # the ranking is over the whole run already
    kinds = {lv["lever"]: lv.get("kind", "single") for lv in d["levers"]}
    rows = []
    for r in d["rankings"][rank_by]:
        k = wins["by_lever"].get(r["lever"], 0)
        row = [str(r["rank"]), r["label"], kinds.get(r["lever"], "single")]
        row += [
            *_change_cells(kpi, r),
            format_percent(as_float(r["p_better"])),
            f"{k}/{wins['replications']}",
        ]
        if whole:
            row.append(_change_cells(kpi, whole[r["lever"]])[0])
        rows.append(row)
    headers = ["rank", "lever", "kind", "change", "95% interval", "P(better)", "best in"]
    window = ""
    if whole:
        headers.append("whole run")
        window = " in the year after roll-out"
    return [
        "",
        textwrap.fill(
            f"Ranked by {kpi.label.lower()}{window} ({table_unit(kpi, True)}; {kpi.better} is "
            f"better; current: {format_kpi_value(kpi, base)}), change against current:",
            WIDTH,
        ),
        format_table(headers, rows, right=(0, 3, 4, 5, 6, 7), wrap={1: 30}),
        *_bundle_lines(d),
        *_beaten_note(d),
    ]


def _bundle_lines(d: Mapping[str, Any]) -> list[str]:
    """Which parts make up each bundle tested, when parts were tested."""
    labels = {lv["lever"]: lv["label"] for lv in d["levers"]}
    lines = []
    for bundle, parts in d.get("bundles", {}).items():
        if parts:
            names = "; ".join(labels[p] for p in parts)
            lines.append(textwrap.fill(f"{labels[bundle]} = {names}", WIDTH,
                                       initial_indent="  ", subsequent_indent="    "))  # fmt: skip
    return ["Bundles and the parts tested alone:", *lines] if lines else []


def _beaten_note(d: Mapping[str, Any]) -> list[str]:
    """Which levers another beats on every mission KPI (none of them is named first)."""
    names = {lv["lever"]: lv["label"] for lv in d["levers"]}
    beaten = [
        f"{r['label']} (by {', '.join(names.get(b, b) for b in r['beaten_by'])})"
        for r in d["rankings"][d["rank_by"]]
        if r.get("beaten_by")
    ]
    if not beaten:
        return []
    text = (
        "Beaten on every mission KPI by another lever, so never named before it: "
        f"{'; '.join(beaten)}."
    )
    return [textwrap.fill(text, WIDTH)]


def _mission_cell(kpi: KPI, x: Mapping[str, Any]) -> tuple[str, bool]:
    """A lever's change on one mission KPI with its interval, and whether it is clearly worse."""
    from simulation.analysis.diagnosis import TRADE_OFF
    from simulation.analysis.words import format_kpi_value

    cell = (
        f"{format_kpi_value(kpi, as_float(x['diff']), diff=True, unit=False)} "
        f"[{format_kpi_value(kpi, as_float(x['ci_low']), diff=True, unit=False)}, "
        f"{format_kpi_value(kpi, as_float(x['ci_high']), diff=True, unit=False)}]"
    )
    p = as_float(x["p_better"])
    worse = not math.isnan(p) and p < TRADE_OFF
    return cell + (" *" if worse else "  "), worse


def _diagnosis_mission(d: Mapping[str, Any]) -> list[str]:
    """Each lever's change on the mission KPIs, in ranking order, starring the clearly worse."""
    from simulation.analysis.words import format_kpi_value, table_unit
    from simulation.model.metrics import KPIS, MISSION

    mission = [m for m in MISSION if m in d["rankings"]]
    by_lever = {m: {r["lever"]: r for r in d["rankings"][m]} for m in mission}
    now = ", ".join(
        f"{KPIS[m].label.lower()} {format_kpi_value(KPIS[m], as_float(d['current'].get(m)))}"
        for m in mission
    )
    units = ", ".join(f"{KPIS[m].label.lower()} in {table_unit(KPIS[m], True)}" for m in mission)
    lines = [
        "",
        textwrap.fill(f"Mission KPIs, change against current ({units}; current: {now}):", WIDTH),
    ]
    flagged = False
    for part in (mission[i : i + MISSION_COLUMNS] for i in range(0, len(mission), MISSION_COLUMNS)):
        m_rows = []
        for r in d["rankings"][d["rank_by"]]:
            row = [r["label"]]
            for m in part:
                cell, worse = _mission_cell(KPIS[m], by_lever[m][r["lever"]])
                flagged = flagged or worse
                row.append(cell)
            m_rows.append(row)
        headers = ["lever"] + [KPIS[m].label.lower() for m in part]
        table = format_table(headers, m_rows, right=tuple(range(1, len(headers))), wrap={0: 28})
        lines += ["", table] if len(lines) > 2 else [table]
    if flagged:
        lines.append("* clearly worse than current (under 20% chance it is better)")
    return lines


def _diagnosis_notes(d: Mapping[str, Any]) -> list[str]:
    """The diagnosis's notes as a bulleted list, or nothing when there are none."""
    notes = list(d.get("notes", []))
    if not notes:
        return []
    return ["", "Notes:"] + [
        textwrap.fill(n, WIDTH, initial_indent="- ", subsequent_indent="  ") for n in notes
    ]


def render_diagnosis(d: Mapping[str, Any]) -> str:
    """Terminal text: ranking table, mission KPIs per lever, notes and the verdict."""
    from simulation.analysis.words import diagnosis_bottom_line, verdict_options
    from simulation.model.metrics import KPIS

    bottom = d.get("bottom_line") or diagnosis_bottom_line(d)
    lines = [*render_lead(bottom, d.get("guardrails", [])), ""]
    lines += _diagnosis_intro(d)
    lines += _diagnosis_ranking(d)
    lines += _diagnosis_mission(d)
    lines += _diagnosis_notes(d)
    lines += ["", "In plain words:", textwrap.fill(d["verdict"], WIDTH)]
    options = verdict_options(d)  # the advice in plain words, as the options that follow it
    if options:
        lines += ["", *(f"To follow the advice: {o}" for o in options)]
    lines += [
        "",
        "Differences are paired (same seeds); differences of % are in percentage points; "
        "intervals are\nStudent-t 95%; P(better) is the chance the true difference is in the "
        "KPI's good direction;\n'best in' counts the replications where the lever gave the best "
        f"{KPIS[d['rank_by']].label.lower()} of all levers.",
    ]
    return "\n".join(lines)


def cmd_diagnose(args: argparse.Namespace) -> int:
    """Run the diagnosis into a results folder and print the ranking and the verdict."""
    from simulation.analysis.diagnosis import (
        check_rank_by,
        check_rollout_day,
        finish_diagnosis,
        plan_diagnosis,
    )
    from simulation.analysis.words import money_in
    from simulation.report.charts import write_tornado

    rank_by = check_rank_by(args.rank_by, "--rank-by")  # a DiagnoseError is a user error
    check_workers(args)
    check_rollout_day(args.rollout_day, _load(args).horizon_days, "--rollout-day")
    plan = plan_diagnosis(Path(args.scenario), args.reps, args.seed, args.out,
                          _overrides(args.set), args.rollout_day, args.levers)  # fmt: skip
    check_request(args, design_request(args, plan.design), later=True)
    argv = [PROG, "diagnose", *getattr(args, "argv", [])]
    summary = _execute(args, plan.design, plan.out, argv)
    if summary.failed:
        print(_failures_note(summary, plan.out), file=sys.stderr)
        return EXIT_RUNS_FAILED
    with money_in(plan.design.points[0].scenario.report.currency):
        d = finish_diagnosis(plan, rank_by)
        charts = write_tornado(d, plan.out)
        text = dump_json(d) if args.json else render_diagnosis(d)
    if args.json:
        print(text)
    else:
        tornado = ", ".join(str(c) for c in charts)
        print(text + f"\nTornado chart: {tornado}")
    return EXIT_OK


def cmd_report(args: argparse.Namespace) -> int:
    """Board pack of a results folder: charts, HTML report and PowerPoint deck."""
    from simulation.analysis.results import ResultsError
    from simulation.report.pack import build, parse_formats, write

    formats = parse_formats(args.format)
    if Path(args.results).is_file():  # e.g. the scenario file instead of its results
        raise UsageError(
            f"{args.results} is a file, not a results folder (give the folder a compare, sweep "
            "or diagnose wrote, e.g. results/demo)"
        )
    try:
        report = build(Path(args.results))
    except OSError as exc:
        if exc.errno not in (errno.ENOSPC, errno.EDQUOT):
            raise
        raise UsageError(
            f"disk full: could not write {exc.filename or 'a file'}; the report was not "
            "written: free some space, then run the same command again"
        ) from None
    out = Path(args.out) if args.out else Path(args.results) / "report"
    try:
        files = write(report, out, formats)
    except ResultsError as exc:  # a file in the way: name the option that chose the folder
        raise ResultsError(f"--out: {exc}") from None
    except OSError as exc:  # a folder that cannot be written: the user's to fix
        raise UsageError(
            f"--out: cannot write the report to {out}: {exc.strerror or exc}"
        ) from None
    from simulation.analysis.words import money_in

    with money_in(report.results.currency):
        lead = render_lead(report.bottom_line, report.guardrails)
    if lead:
        print("\n".join([*lead, ""]))
    print(f"Report of {args.results}: {len(report.charts)} chart(s) in {out}/")
    for f in files:
        print(f"  {f}")
    if report.omitted:
        print("Left out:")
        for what, why in report.omitted:
            print(textwrap.fill(f"{what}: {why}.", WIDTH, initial_indent="  - ",
                                subsequent_indent="    "))  # fmt: skip
    return EXIT_OK


def cmd_levers(args: argparse.Namespace) -> int:
    """Every lever a scenario can set, with default, range, unit and meaning."""
    table = lever_table()
    if args.json:
        print(dump_json(table))
        return EXIT_OK
    rows, notes = [], []
    for r in table:
        # For a choice the type would only repeat the range.
        kind = "choice" if r["type"] == r["range"] else r["type"].replace(" | None", "|null")
        rows.append([r["key"], kind, format_value(r["default"]), r["range"], r["unit"]])
        notes.append(f"{r['meaning']} [source: {r['source']}]" if r["source"] else r["meaning"])
    print(
        format_table(
            ["key", "type", "default", "range", "unit"], rows, wrap={3: 13, 4: 20}, notes=notes
        )
    )
    print(f"\n{len(rows)} levers. Set them in a scenario file or with --set key=value.")
    return EXIT_OK


# --------------------------------------------------------------------------------------------
# Entry point
# --------------------------------------------------------------------------------------------


def out_folder(text: str) -> str:
    """``--out``: an empty path would silently mean the default folder, so it is refused."""
    if not text:
        raise argparse.ArgumentTypeError("empty path; give a folder, or leave --out out for "
                                         "the default")  # fmt: skip
    return text


def add_results_args(p: argparse.ArgumentParser, default_out: str) -> None:
    from simulation.batch.execute import default_workers

    p.add_argument("--workers", type=int_at_least(1), default=default_workers(),
                   help=f"worker processes, at most the usable cores (default: all "
                   f"{default_workers()})")  # fmt: skip
    p.add_argument("--force-workers", action="store_true",
                   help="allow more --workers than usable cores")  # fmt: skip
    p.add_argument("--out", metavar="DIR", type=out_folder,
                   help=f"results folder (default {default_out})")  # fmt: skip
    p.add_argument("--resume", action="store_true",
                   help="finish (or reuse) the results already in the folder")  # fmt: skip


def add_diagnose_parser(sub: Any) -> argparse.ArgumentParser:
    """Register ``friction diagnose`` on the CLI's subparsers."""
    p = sub.add_parser(
        "diagnose",
        help="roll each lever of the playbook out alone and say which single change to make first",
        description="Start from SCENARIO, roll each of the six playbook levers (and the parts "
        "of those that bundle several changes) out alone on the same seeds, rank them by their "
        "effect on every KPI over the year after roll-out with 95% intervals, and say in plain "
        "words which single change the model favours and how sure it is.",
    )
    p.add_argument("scenario", help="scenario YAML file to start from (the current set-up)")
    add_set_arg(p, "a lever in the starting scenario")
    add_replication_args(p)
    p.add_argument(
        "--rank-by",
        default=DEFAULT_RANK,
        metavar="KPI",
        help=f"KPI that picks the favoured lever (default {DEFAULT_RANK}: gross margin on the "
        "customers activated, less bonus and payroll, per year); no lever is named first when "
        "another beats it on every mission KPI",
    )
    p.add_argument(
        "--levers",
        choices=tuple(LEVER_SETS),
        default=DEFAULT_LEVER_SET,
        help=f"what to test: the six playbook levers as packaged (bundles), every single "
        f"change alone (parts), or both (all; default {DEFAULT_LEVER_SET})",
    )
    p.add_argument(
        "--rollout-day",
        type=int_at_least(0),
        default=DEFAULT_ROLLOUT_DAY,
        metavar="DAY",
        help=f"measured day each lever is rolled out on (default {DEFAULT_ROLLOUT_DAY}: after "
        "one monthly pay period, so transition costs such as the reorganisation dip count); "
        "runs last this many days more than the scenario's horizon",
    )
    add_results_args(p, "results/diagnose-<scenario name>")
    p.add_argument("--json", action="store_true", help="print machine-readable JSON")
    p.set_defaults(func=cmd_diagnose)
    return p


def build_parser() -> ArgumentParser:
    parser = ArgumentParser(
        prog=PROG,
        description="Agent-based simulation of Sales/Operations friction: test bonus plans, "
        "team structures and handover rules before rolling them out.",
        epilog="Exit codes: 0 success, 1 internal error, 2 invalid input, 3 some runs failed "
        "(the rest are saved), 130 interrupted, 141 output pipe closed (e.g. by head).",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("validate", help="check a scenario file without running it")
    _add_scenario_args(p)
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser("run", help="run replications and summarise the KPIs")
    _add_scenario_args(p)
    add_replication_args(p)
    p.add_argument("--json", action="store_true", help="print machine-readable JSON")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser(
        "compare",
        help="run scenarios on the same seeds and report paired differences against the first",
    )
    p.add_argument("scenarios", nargs="+", metavar="SCENARIO",
                   help="scenario YAML files; the first is the baseline")  # fmt: skip
    add_set_arg(p, "a lever in every scenario")
    add_replication_args(p)
    add_results_args(p, "results/compare-<names>")
    p.add_argument("--json", action="store_true", help="print machine-readable JSON")
    p.set_defaults(func=cmd_compare)

    p = sub.add_parser("sweep", help="run a sweep file (grids, bonus simplex, sampled designs)")
    p.add_argument("sweep", help="sweep YAML file")
    p.add_argument("--reps", type=int_at_least(1), help="replications (default: the file's)")
    p.add_argument("--seed", type=seed_value, help="root random seed (default: the file's)")
    p.add_argument("--daily", action="store_true", help="also record daily series of every run")
    p.add_argument("--executor", choices=("local", "dask"), default="local",
                   help="local process pool (default) or Dask distributed")  # fmt: skip
    p.add_argument("--address", metavar="tcp://HOST:PORT", type=dask_address,
                   help="Dask scheduler to use (default: start a local cluster)")  # fmt: skip
    add_limit_args(p)
    add_results_args(p, "results/<sweep name>")
    p.set_defaults(func=cmd_sweep)

    p = sub.add_parser("report", help="board pack of a results folder: charts, HTML and deck")
    p.add_argument("results", metavar="RESULTS_DIR", help="folder written by compare or sweep")
    p.add_argument("--out", metavar="DIR", type=out_folder,
                   help="where to write (default RESULTS_DIR/report)")  # fmt: skip
    p.add_argument("--format", metavar="LIST",
                   help="comma-separated: html,pptx,png,svg (default: all)")  # fmt: skip
    p.set_defaults(func=cmd_report)

    p = sub.add_parser("levers", help="list every lever with default, range, unit and meaning")
    p.add_argument("--json", action="store_true", help="print machine-readable JSON")
    p.set_defaults(func=cmd_levers)

    add_diagnose_parser(sub)
    return parser


def guarded(body: Callable[[], int]) -> int:
    """Run a command body and turn every outcome into an exit code.

    User errors (bad input: exit 2) are one paragraph without a traceback; anything else is a
    bug and keeps its traceback.
    """
    try:
        code = body()
        sys.stdout.flush()
        return code
    except _Interrupted:
        return EXIT_INTERRUPTED
    except SweepAborted as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_INTERNAL
    except (ScenarioError, UsageError) as exc:
        return _user_error(exc)
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # The reader (e.g. `| head`) went away: stop quietly with the shell's code for a closed
        # pipe, and keep Python from complaining again when it flushes stdout at exit.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_CLOSED_PIPE
    except MemoryError as exc:
        # Not a bug: the request needs more memory than this process may have. Notes say what
        # is saved (the runs a sweep finished before).
        notes = "".join(f"{note.rstrip('.')}; " for note in getattr(exc, "__notes__", ()))
        print(
            " ".join(
                f"error: out of memory: {exc or 'an allocation failed'}; {notes}lower the "
                "request or raise the memory available".split()
            ),
            file=sys.stderr,
        )
        return EXIT_USAGE
    except SystemExit as exc:  # --help and --version exit through argparse
        return EXIT_OK if exc.code is None else int(exc.code)
    except OSError as exc:
        if exc.errno not in (errno.ENOSPC, errno.EDQUOT):
            return _internal_error(exc)
        # Outside the results store (which says what it saved): a summary or report file.
        # Runs are saved before either is written, so the same command reuses them.
        print(
            f"error: disk full: could not write {exc.filename or 'a file'}; every finished run "
            "is saved: free some space, then run the same command again",
            file=sys.stderr,
        )
        return EXIT_USAGE
    except Exception as exc:
        # Imported here: loading the KPI registry would slow every command's start-up.
        from simulation.analysis.results import ResultsError

        if isinstance(exc, ResultsError):
            return _user_error(exc)
        return _internal_error(exc)


def _user_error(exc: Exception) -> int:
    """Bad input: one paragraph, no traceback (exit 2)."""
    message = " ".join(str(exc).split())
    print(f"error: {message}", file=sys.stderr)
    return EXIT_USAGE


def _internal_error(exc: BaseException) -> int:
    """A bug: say so, with what is safe (the exception's notes) and the traceback."""
    # Notes say what is safe, e.g. the runs a crashed sweep saved and how to continue.
    notes = "".join(f"{note}\n" for note in getattr(exc, "__notes__", ()))
    print(
        f"internal error: {type(exc).__name__}: {exc}\n{notes}"
        "This is a bug in org-friction, not in your input; please report it with the "
        "traceback below.",
        file=sys.stderr,
    )
    traceback.print_exception(exc, file=sys.stderr)
    return EXIT_INTERNAL


def main(argv: Sequence[str] | None = None) -> int:
    """Console entry point; returns the exit code."""

    def body() -> int:
        parser = build_parser()
        args = parser.parse_args(argv)
        if args.command is None:
            raise UsageError(
                "no command given; choose one of validate, run, compare, sweep, diagnose, "
                f"report, levers (run '{PROG} --help' for usage)"
            )
        args.argv = list(argv if argv is not None else sys.argv[1:])[1:]
        return args.func(args)

    return guarded(body)


if __name__ == "__main__":
    sys.exit(main())
