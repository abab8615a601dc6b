"""Numbers and values as people read them: shared by every layer that shows a number.

``number_style`` and ``format_number`` print a group of numbers alike (terminal tables, charts,
verdicts); ``format_value`` writes a scenario value as YAML would; ``json_ready`` and
``as_float`` move values in and out of JSON. Terminal tables are in :mod:`simulation.cli.tables`.
"""

from __future__ import annotations

import math
from typing import Any

__all__ = [
    "NumberStyle",
    "as_float",
    "format_bytes",
    "format_duration",
    "format_number",
    "format_value",
    "json_ready",
    "number_style",
]

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
