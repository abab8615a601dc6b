"""Plain-text tables for terminal output.

Used by the ``friction`` commands (:mod:`simulation.cli.main`) so every table the user sees formats
numbers, intervals and missing values the same way. The number and value formats they share
with the charts and the report are in :mod:`simulation.common.formats` (re-exported here).
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Mapping, Sequence

from simulation.common.formats import (
    NumberStyle,
    as_float,
    format_bytes,
    format_duration,
    format_number,
    format_value,
    json_ready,
    number_style,
)

__all__ = [
    "WIDTH",
    "NumberStyle",
    "as_float",
    "format_bytes",
    "format_duration",
    "format_number",
    "format_percent",
    "format_summary",
    "format_table",
    "format_value",
    "json_ready",
    "number_style",
]

#: Width the tables are laid out for: readable in a 100-column terminal, stable when piped.
WIDTH = 100


def format_summary(summary: Mapping[str, float], compact: bool = False) -> tuple[str, str]:
    """``(mean, "[low, high]")`` of a ``summarise`` result, in one shared style."""
    style = number_style(*(summary[k] for k in ("mean", "ci_low", "ci_high")), compact=compact)
    low, high = (format_number(summary[k], style) for k in ("ci_low", "ci_high"))
    return format_number(summary["mean"], style), f"[{low}, {high}]"


def format_percent(p: float | None) -> str:
    """A probability in a table: '>99%', '<1%', '87%', or 'n/a'."""
    if p is None or math.isnan(p):
        return "n/a"
    return ">99%" if p > 0.99 else "<1%" if p < 0.01 else f"{p:.0%}"


def format_table(
    headers: Sequence[str],
    rows: Sequence[Sequence[str]],
    *,
    right: Sequence[int] = (),
    wrap: Mapping[int, int] | None = None,
    notes: Sequence[str] | None = None,
    width: int = WIDTH,
) -> str:
    """Align ``rows`` under ``headers``.

    Args:
        headers: column titles.
        rows: cells, already formatted as strings.
        right: indexes of right-aligned (numeric) columns.
        wrap: column index -> maximum width; longer cells wrap onto extra lines.
        notes: optional text per row, printed under it, indented and wrapped to ``width``
            (for long descriptions that would make every column unreadable).
        width: total width used to wrap the notes.
    """
    wrap = dict(wrap or {})
    cells: list[list[list[str]]] = []
    for row in [list(headers), *map(list, rows)]:
        cells.append(
            [
                textwrap.wrap(cell, wrap[i], break_on_hyphens=False) or [""]
                if i in wrap
                else [cell]
                for i, cell in enumerate(row)
            ]
        )
    widths = [max(len(line) for row in cells for line in row[i]) for i in range(len(headers))]

    def render(row: list[list[str]]) -> list[str]:
        height = max(len(c) for c in row)
        out = []
        for k in range(height):
            parts = []
            for i, c in enumerate(row):
                text = c[k] if k < len(c) else ""
                parts.append(text.rjust(widths[i]) if i in right else text.ljust(widths[i]))
            out.append("  ".join(parts).rstrip())
        return out

    lines = render(cells[0])
    lines.append("  ".join("-" * w for w in widths))
    for n, row in enumerate(cells[1:]):
        lines.extend(render(row))
        if notes and notes[n]:
            lines.extend(
                textwrap.wrap(notes[n], width, initial_indent="    ", subsequent_indent="    ")
            )
    return "\n".join(lines)
