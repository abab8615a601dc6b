"""Side-by-side comparison of two scenarios: ``python -m simulation.demo`` (used by ``make demo``).

Both scenarios run on the same replication seeds (common random numbers), so the change column
reflects the levers, not a different draw of the same randomness.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from simulation.cli import ArgumentParser, guarded, int_at_least, kpi_label, kpi_registry
from simulation.loader import load_scenario
from simulation.runner import run_replications
from simulation.tables import format_number, format_summary, format_table, number_style

DEFAULT_BASE = Path("scenarios/baseline.yaml")
DEFAULT_ALTERNATIVE = Path("scenarios/playbook.yaml")


def format_change(base: float, alt: float) -> str:
    """Difference of means, with the relative change when the base is not zero."""
    diff = alt - base
    if math.isnan(diff):
        return "n/a"
    text = ("+" if diff > 0 else "") + format_number(diff, number_style(base, alt, compact=True))
    if base != 0 and math.isfinite(base):
        text += f" ({diff / abs(base):+.0%})"
    return text


def verdict(base: float, alt: float, better: str) -> str:
    """Whether the point estimate moved in the KPI's good direction (no significance test)."""
    if math.isnan(base) or math.isnan(alt) or alt == base:
        return ""
    return "better" if (alt > base) == (better == "higher") else "worse"


def comparison_table(base: dict[str, Any], alt: dict[str, Any]) -> str:
    """Table of KPI means and intervals of two ``run_replications`` results."""
    kpis = kpi_registry()
    rows = []
    for name, b in base["kpis"].items():
        a = alt["kpis"].get(name)
        if a is None:
            continue
        label, unit = kpi_label(name, kpis)
        kpi = kpis.get(name)
        rows.append(
            [
                f"{label} ({unit})" if unit else label,
                " ".join(format_summary(b, compact=True)),
                " ".join(format_summary(a, compact=True)),
                format_change(b["mean"], a["mean"]),
                verdict(b["mean"], a["mean"], kpi.better) if kpi is not None else "",
            ]
        )
    return format_table(
        ["KPI", base["scenario"], alt["scenario"], "change", ""],
        rows,
        right=(1, 2, 3),
        wrap={0: 28},
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run both scenarios on the same seeds and print the comparison; returns the exit code."""

    def body() -> int:
        parser = ArgumentParser(
            prog="python -m simulation.demo",
            description="Compare two scenarios side by side on common random numbers.",
        )
        parser.add_argument(
            "base", nargs="?", default=str(DEFAULT_BASE), help=f"default {DEFAULT_BASE}"
        )
        parser.add_argument(
            "alternative",
            nargs="?",
            default=str(DEFAULT_ALTERNATIVE),
            help=f"default {DEFAULT_ALTERNATIVE}",
        )
        parser.add_argument(
            "--reps", type=int_at_least(1), default=10, help="replications (default 10)"
        )
        parser.add_argument(
            "--seed", type=int_at_least(0), default=1, help="root random seed (default 1)"
        )
        args: argparse.Namespace = parser.parse_args(argv)
        scenarios = [load_scenario(Path(p)) for p in (args.base, args.alternative)]
        base, alt = (run_replications(s, args.reps, args.seed) for s in scenarios)
        print(
            f"{alt['scenario']} vs {base['scenario']}: {args.reps} replications each, "
            f"seed {args.seed}, same seeds for both\n"
        )
        print(comparison_table(base, alt))
        print(
            "\nMean [95% Student-t interval]. 'better'/'worse' compares the means in the KPI's "
            "good direction;\nit is not a significance test: look at the intervals."
        )
        return 0

    return guarded(body)


if __name__ == "__main__":
    raise SystemExit(main())
