"""``friction``: validate scenarios, run replications, list the levers.

User errors (a bad scenario, a bad option) print ``error: <one paragraph>`` and exit 2; only a
bug in the program prints a traceback (exit 1). A strategist should never have to read a Python
traceback to find a typo in a YAML file.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import textwrap
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn

from simulation.config import Scenario, get_dotted, lever_keys, lever_table
from simulation.loader import ScenarioError, load_scenario, parse_set_option, scenario_hash
from simulation.tables import WIDTH, format_summary, format_table, format_value

PROG = "friction"

EXIT_OK = 0
EXIT_INTERNAL = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


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


def _overrides(options: Sequence[str] | None) -> dict[str, Any]:
    """``--set`` options in order; a key given twice keeps its last value."""
    return dict(parse_set_option(o) for o in options or ())


def _load(args: argparse.Namespace) -> Scenario:
    return load_scenario(Path(args.scenario), _overrides(args.set))


def _add_scenario_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("scenario", help="scenario YAML file")
    p.add_argument(
        "--set",
        action="append",
        metavar="KEY=VALUE",
        help="override a lever, e.g. --set incentives.weights.team=0.3 (repeatable; the value "
        "is read as YAML: true, 0.3, chat_first)",
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
    from simulation.metrics import KPIS

    return KPIS


def kpi_label(name: str, kpis: dict[str, Any]) -> tuple[str, str]:
    """Label and unit of a KPI; a KPI the registry does not know is shown by its name."""
    kpi = kpis.get(name)
    return (kpi.label, kpi.unit) if kpi is not None else (name, "")


def render_run(result: dict[str, Any], source: str, digest: str) -> str:
    """Human-readable KPI and value-stream tables of a ``run_replications`` result."""
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


def _json_ready(value: Any) -> Any:
    """NaN and infinity become null: they are not JSON and break strict parsers such as jq."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _json_ready(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_ready(v) for v in value]
    return value


def dump_json(value: Any) -> str:
    return json.dumps(_json_ready(value), indent=2, sort_keys=False, allow_nan=False)


def cmd_run(args: argparse.Namespace) -> int:
    """Run replications and print the KPI summary (table or JSON)."""
    from simulation.runner import run_replications

    s = _load(args)
    result = run_replications(s, args.reps, args.seed, progress=_progress_printer())
    if args.json:
        print(dump_json(result))
    else:
        print(render_run(result, args.scenario, scenario_hash(s)))
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


def build_parser() -> ArgumentParser:
    parser = ArgumentParser(
        prog=PROG,
        description="Agent-based simulation of Sales/Operations friction: test bonus plans, "
        "team structures and handover rules before rolling them out.",
        epilog="Exit codes: 0 success, 1 internal error, 2 invalid input, 130 interrupted.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("validate", help="check a scenario file without running it")
    _add_scenario_args(p)
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser("run", help="run replications and summarise the KPIs")
    _add_scenario_args(p)
    p.add_argument("--reps", type=int_at_least(1), default=10, help="replications (default 10)")
    p.add_argument("--seed", type=int_at_least(0), default=1, help="root random seed (default 1)")
    p.add_argument("--json", action="store_true", help="print machine-readable JSON")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("levers", help="list every lever with default, range, unit and meaning")
    p.add_argument("--json", action="store_true", help="print machine-readable JSON")
    p.set_defaults(func=cmd_levers)
    return parser


def guarded(body: Callable[[], int]) -> int:
    """Run a command body and turn every outcome into an exit code.

    Shared by ``friction`` and ``python -m simulation.demo`` so both report errors alike.
    """
    try:
        code = body()
        sys.stdout.flush()
        return code
    except (ScenarioError, UsageError) as exc:
        message = " ".join(str(exc).split())
        print(f"error: {message}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # The reader (e.g. `| head`) went away: stop quietly, and keep Python from complaining
        # again when it flushes stdout at exit.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_INTERNAL
    except SystemExit as exc:  # --help and --version exit through argparse
        return EXIT_OK if exc.code is None else int(exc.code)
    except Exception as exc:
        print(
            f"internal error: {type(exc).__name__}: {exc}\n"
            "This is a bug in org-friction, not in your input; please report it with the "
            "traceback below.",
            file=sys.stderr,
        )
        traceback.print_exc(file=sys.stderr)
        return EXIT_INTERNAL


def main(argv: Sequence[str] | None = None) -> int:
    """Console entry point; returns the exit code."""

    def body() -> int:
        parser = build_parser()
        args = parser.parse_args(argv)
        if args.command is None:
            raise UsageError(
                f"no command given; choose one of validate, run, levers "
                f"(run '{PROG} --help' for usage)"
            )
        return args.func(args)

    return guarded(body)


if __name__ == "__main__":
    sys.exit(main())
