"""Plain-text tables and number formatting for terminal output.

Shared by the ``friction`` commands (``simulation.cli``, ``simulation.diagnose``) so every table
the user sees formats numbers, intervals and missing values the same way.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Mapping, Sequence
from typing import Any

#: Width the tables are laid out for: readable in a 100-column terminal, stable when piped.
WIDTH = 100


#: Divisor, suffix and decimals used to print a group of numbers alike.
NumberStyle = tuple[float, str, int]

#: (from, divisor, suffix): thousands only from 10,000 on, where separators start to clutter.
_COMPACT = ((1e9, 1e9, "B"), (1e6, 1e6, "M"), (1e4, 1e3, "k"))


def number_style(*values: float | None, compact: bool = False) -> NumberStyle:
    """Precision that suits the largest magnitude among ``values``.

    KPI values range from shares (0.183) to revenue (12,400,000); a fixed number of decimals
    would either hide the shares or clutter the money. Numbers shown together (a mean and its
    interval) share one style so they line up and compare at a glance. ``compact`` writes large
    numbers as 41.4M or 16.2k, for side-by-side tables that must stay narrow.
    """
    top = max((abs(v) for v in values if v is not None and math.isfinite(v)), default=0.0)
    if compact:
        for threshold, divisor, suffix in _COMPACT:
            if top >= threshold:
                scaled = top / divisor
                return divisor, suffix, 0 if scaled >= 100 else 1 if scaled >= 10 else 2
    if top >= 1000:
        return 1.0, "", 0
    if top >= 100:
        return 1.0, "", 1
    if top >= 1:
        return 1.0, "", 2
    return 1.0, "", 3


def format_number(x: float | None, style: NumberStyle | None = None) -> str:
    """A number with thousands separators in ``style`` (default: its own); NaN reads ``n/a``."""
    if x is None or math.isnan(x):
        return "n/a"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    divisor, suffix, places = style or number_style(x)
    text = f"{x / divisor:,.{places}f}{suffix}"
    # A tiny negative value rounds to "-0.000", which reads like a real loss.
    return text.removeprefix("-") if text.strip("-0.,") in ("", suffix) else text


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


def format_duration(seconds: float) -> str:
    """``4.2 s``, ``42 s``, ``3.1 min``, ``30 min``, ``3.5 h``, ``2.1 days``: two figures or so,
    for an estimate and for time spent alike."""
    for limit, divisor, unit in ((90, 1, "s"), (90 * 60, 60, "min"), (48 * 3600, 3600, "h")):
        if seconds < limit:
            value = seconds / divisor
            return f"{value:.1f} {unit}" if value < 10 else f"{value:.0f} {unit}"
    return f"{seconds / 86400:,.1f} days"


def format_bytes(n: float, unit: bool = False) -> str:
    """``1.2 GB``, ``350 MB`` (powers of 1024, as ``--max-memory`` reads them); ``unit`` gives
    the one-letter suffix that option takes (``1.2 G``)."""
    for suffix, size in (("TB", 1 << 40), ("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10)):
        if n >= size:
            value = n / size
            text = f"{value:,.1f}" if value < 100 else f"{value:,.0f}"
            return f"{text} {suffix[0] if unit else suffix}"
    return f"{n:,.0f} B"


def as_float(value: Any) -> float:
    """A stored number as a float, ``None`` (a missing value) as NaN."""
    return math.nan if value is None else float(value)


def json_ready(value: Any) -> Any:
    """NaN and infinity become null: they are not JSON and break strict parsers such as jq."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: json_ready(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_ready(v) for v in value]
    return value


def format_value(value: Any) -> str:
    """A scenario value as a user would write it in YAML (``true``, ``null``, ``0.3``)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


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
