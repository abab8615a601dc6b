"""Board charts: one theme, and pure functions from result tables to figures.

Every function takes plain tables (pandas DataFrames of the results folder, or the paired
differences of :func:`simulation.analysis.results.paired_differences`) and returns a
:class:`Chart`: the
figure plus a headline that states the finding, so a slide can use it as its title. Nothing here
reads or writes files except :func:`save_chart`.

The theme is made for a projector: 16:9 figures, large type, a colour-blind-safe palette
(Okabe-Ito) and the same colours for the same meaning everywhere: blue is better, vermillion is
worse, grey is no clear difference; plans keep their colour from chart to chart.
"""

from __future__ import annotations

import io
import logging
import math
import warnings
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matplotlib
import matplotlib.pyplot as plt  # rc_context only: figures never enter pyplot
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import PatchCollection
from matplotlib.figure import Figure
from matplotlib.patches import RegularPolygon

from simulation.analysis.diagnosis import effects_frame
from simulation.analysis.stats import row_interval
from simulation.analysis.words import (
    certainty,
    change_phrase,
    comparison_headline,
    currency,
    format_kpi_value,
    is_share,
    join_words,
    setting_phrase,
)
from simulation.batch.store import atomic_write
from simulation.common.formats import format_number, number_style
from simulation.common.text import LAYOUT, escape_controls
from simulation.model.metrics import KPI, KPIS, PAY_COMPONENTS

__all__ = [
    "BETTER",
    "FRONTIER_KPIS",
    "PALETTE",
    "UNCLEAR",
    "WORSE",
    "Chart",
    "MoneyFormatter",
    "axis_label",
    "change_phrase",
    "daily_productivity_loss",
    "difference_panels",
    "figure_bytes",
    "frontier",
    "join_words",
    "kpi_comparison",
    "literal",
    "money",
    "money_unit",
    "pareto_front",
    "pareto_sets",
    "payouts",
    "rollout_steps",
    "save_chart",
    "simplex_map",
    "theme",
    "time_series",
    "tornado",
    "value_stream",
    "worst_handoff",
    "wrap",
]

# Okabe & Ito (2008), "Color Universal Design": distinguishable with every common colour-vision
# deficiency, and in greyscale print by lightness.
OKABE_ITO = {
    "blue": "#0072B2",
    "orange": "#E69F00",
    "green": "#009E73",
    "vermillion": "#D55E00",
    "sky": "#56B4E9",
    "purple": "#CC79A7",
    "yellow": "#F0E442",
    "black": "#000000",
}
BETTER = OKABE_ITO["blue"]
WORSE = OKABE_ITO["vermillion"]
UNCLEAR = "#8C8C8C"
HIGHLIGHT = OKABE_ITO["orange"]
INK = "#222222"
#: Plan colours, in order: the reference plan is black so every other plan reads against it.
PALETTE = [
    INK,
    OKABE_ITO["blue"],
    OKABE_ITO["orange"],
    OKABE_ITO["green"],
    OKABE_ITO["purple"],
    OKABE_ITO["sky"],
    OKABE_ITO["vermillion"],
    OKABE_ITO["yellow"],
]
COMPONENT_COLOURS = {
    "individual": OKABE_ITO["vermillion"],
    "team": OKABE_ITO["blue"],
    "company": OKABE_ITO["green"],
    "silo_buster": OKABE_ITO["orange"],
}
SEQUENTIAL = "cividis"  # perceptually uniform and colour-blind safe; dark blue = better here

SLIDE = (13.33, 7.5)  # inches: a 16:9 slide, so a chart fills it without rescaling text
DPI = 150  # 2000 x 1125 pixels: sharp on a projector, small enough to embed
MAX_LABEL = 28  # characters of a plan name before it wraps
MANY_ROWS = 9  # plans in a difference chart beyond which their names take one smaller line
TITLE_WIDTH = 78  # characters of a headline per line at the title size on a 16:9 slide


@dataclass
class Chart:
    """A finished chart: file stem, the finding as a headline, what the reader sees, the figure."""

    key: str
    title: str
    figure: Figure
    caption: str = ""


@contextmanager
def theme() -> Iterator[None]:
    """The house style: white background, light grid, large type, no top/right spines."""
    rc = {
        "figure.figsize": SLIDE,
        "figure.dpi": 100,
        "savefig.dpi": DPI,
        "font.family": "DejaVu Sans",
        "font.size": 15,
        "axes.titlesize": 17,
        "axes.titleweight": "bold",
        "axes.titlelocation": "left",
        "axes.labelsize": 15,
        "axes.labelcolor": INK,
        "axes.edgecolor": "#999999",
        "axes.spines.top": False,
        "axes.spines.right": False,
        "xtick.labelsize": 13,
        "ytick.labelsize": 13,
        "xtick.color": INK,
        "ytick.color": INK,
        "legend.fontsize": 13,
        "legend.frameon": False,
        "figure.titlesize": 21,
        "figure.titleweight": "bold",
        "grid.color": "#E3E3E3",
        "grid.linewidth": 1.0,
        "lines.linewidth": 2.5,
        "svg.fonttype": "none",  # text stays text in SVG: searchable, editable in slides
    }
    with sns.axes_style("whitegrid"), plt.rc_context(rc):
        yield


def _subplots(
    *args: Any, figsize: tuple[float, float] = SLIDE, **kwargs: Any
) -> tuple[Figure, Any]:
    """A figure outside pyplot's registry: no GUI backend, nothing to close, no import-time
    backend switch (a notebook keeps its inline plots)."""
    fig = Figure(figsize=figsize)
    FigureCanvasAgg(fig)  # a renderer to measure text with (see _headline)
    return fig, fig.subplots(*args, **kwargs)


def figure_bytes(chart: Chart, fmt: str) -> bytes:
    """The chart as a file of format ``fmt`` ("png", "svg"), in memory."""
    buf = io.BytesIO()
    with theme():  # some settings (SVG text as text) apply when saving
        chart.figure.savefig(buf, format=fmt, dpi=DPI, facecolor="white")
    return buf.getvalue()


def save_chart(chart: Chart, folder: Path, formats: Sequence[str] = ("png", "svg")) -> list[Path]:
    """Write a chart as ``<folder>/<key>.<format>`` for each format; returns the paths."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for fmt in formats:
        path = folder / f"{chart.key}.{fmt}"
        atomic_write(path, figure_bytes(chart, fmt))
        paths.append(path)
    return paths


# --------------------------------------------------------------------------------------------
# Units
# --------------------------------------------------------------------------------------------


def scale(kpi: KPI) -> float:
    """Factor from stored to shown values: shares are shown in %."""
    return 100.0 if is_share(kpi) else 1.0


def axis_label(kpi: KPI, diff: bool = False) -> str:
    """The unit a chart axis shows, in words (never blank)."""
    if is_share(kpi):
        what = kpi.unit.removeprefix("share of ")
        return "percentage points" if diff else f"% of {what}"
    if kpi.unit.startswith("currency"):
        return f"{money_unit()} per year"
    if kpi.unit == "completeness 0-1":
        return "completeness (0 to 1)"
    return kpi.unit


def money_unit() -> str:
    """What money is counted in on an axis: the report's currency code ("USD")."""
    return currency() or "money"


def money(x: float) -> str:
    """An amount as the tables print it: compact (16.5k, 1.09M)."""
    return format_number(x, number_style(x, compact=True))


class MoneyFormatter(matplotlib.ticker.Formatter):
    """Currency ticks in one unit and precision chosen from the tick step, so neighbouring ticks
    never read alike ('1,060k  1,070k' rather than '1.1M  1.1M'; '0.5M  1.0M')."""

    style: tuple[float, str, int] = (1.0, "", 0)

    def format_ticks(self, values: Sequence[float]) -> list[str]:
        locs = np.sort(np.asarray(values, dtype=float))
        steps = np.diff(locs)
        steps = steps[steps > 0]
        step = float(steps.min()) if steps.size else (abs(float(locs[0])) if locs.size else 1.0)
        step = step or 1.0
        div, suffix = (1e6, "M") if step >= 1e5 else (1e3, "k") if step >= 1e3 else (1.0, "")
        # the fewest decimals that show every tick exactly (2,500 is 2.5k, never 2k)
        places = next((p for p in range(4) if np.allclose(np.round(locs / div, p), locs / div,
                                                           rtol=0, atol=1e-9)), 3)  # fmt: skip
        self.style = (div, suffix, places)
        return [self(v) for v in values]

    def __call__(self, x: float, pos: Any = None) -> str:
        div, suffix, places = self.style
        return "0" if x == 0 else f"{x / div:,.{places}f}{suffix}"


def _format_axis(ax: Any, kpi: KPI, axis: str = "x") -> None:
    if kpi.unit.startswith("currency"):
        getattr(ax, f"{axis}axis").set_major_formatter(MoneyFormatter())


def literal(text: str) -> str:
    """``text`` as matplotlib should draw it, verbatim: control characters written out (a plan
    name holding a bell, a terminal colour code or a right-to-left override shows what it
    holds, and stays valid in SVG) and every ``$`` escaped, so a name like ``$x$`` or
    ``$\\cmd$`` never turns into (or breaks) mathtext. Every user-supplied text a chart draws
    goes through here (or :func:`wrap`)."""
    return escape_controls(str(text), keep=LAYOUT).replace("$", r"\$")


def wrap(label: str, width: int = MAX_LABEL) -> str:
    """A label or headline wrapped at ``width`` characters, made :func:`literal` for drawing."""
    import textwrap

    label = escape_controls(str(label), keep=LAYOUT)
    return literal("\n".join(textwrap.wrap(label, width, break_long_words=False)) or label)


def _headline(fig: Figure, title: str) -> int:
    """Put the finding at the top of the figure, wrapped to fit its width; returns its lines.

    :data:`TITLE_WIDTH` characters fit ordinary text, but wide glyphs (capitals, symbols in a
    plan name) take more room, so the wrap narrows until the widest line fits."""
    renderer = fig.canvas.get_renderer()  # the one tight_layout measures with
    for width in range(TITLE_WIDTH, 20, -4):
        text = fig.suptitle(wrap(title, width), x=0.01, ha="left")
        if text.get_window_extent(renderer).x1 <= fig.bbox.x1:
            break
    return text.get_text().count("\n") + 1


def _direction(kpi: KPI) -> str:
    return "lower is better" if kpi.better == "lower" else "higher is better"


def _better_arrow(kpi: KPI) -> str:
    """Which way is better along a horizontal axis."""
    return "\u2190 better" if kpi.better == "lower" else "better \u2192"


def _verdict_colour(p_better: float) -> str:
    _, direction = certainty(p_better)
    return {"better": BETTER, "worse": WORSE}.get(direction, UNCLEAR)


def _grid(n: int) -> tuple[int, int]:
    cols = 4 if n > 6 else 3 if n > 4 else max(n, 1)
    return math.ceil(n / cols), cols


# --------------------------------------------------------------------------------------------
# Differences against a reference: dot plot (comparison) and tornado (diagnosis)
# --------------------------------------------------------------------------------------------


def difference_panels(
    diffs: pd.DataFrame,
    kpis: Sequence[str],
    order: Sequence[str],
    title: str,
    key: str,
    reference: str,
    bars: bool = False,
) -> Chart:
    """One panel per KPI: each plan's paired difference from the reference, with its 95% CI.

    ``diffs`` has one row per plan (``label``) and KPI (``kpi``) with ``diff, ci_low, ci_high,
    p_better``. Colour says how sure the change is for the better (blue) or worse (vermillion);
    grey is no clear difference (under 80% either way).
    """
    rows, cols = _grid(len(kpis))
    with theme():
        fig, axes = _subplots(rows, cols, squeeze=False, sharey=True)
        ypos = {label: i for i, label in enumerate(reversed(list(order)))}
        for ax, name in zip(axes.flat, kpis, strict=False):
            kpi = KPIS[name]
            k = scale(kpi)
            sub = diffs[diffs["kpi"] == name]
            for _, r in sub.iterrows():
                if r["label"] not in ypos:
                    continue
                y = ypos[r["label"]]
                c = _verdict_colour(r["p_better"])
                lo, hi = r["ci_low"] * k, r["ci_high"] * k
                if bars:
                    ax.barh(y, r["diff"] * k, color=c, height=0.6, alpha=0.9)
                    ax.plot([lo, hi], [y, y], color=INK, lw=1.6)
                else:
                    ax.plot([lo, hi], [y, y], color=c, lw=3.5, solid_capstyle="round")
                    ax.plot(r["diff"] * k, y, "o", color=c, ms=11, mec="white", mew=1.5)
            ax.axvline(0, color=INK, lw=1.2)
            ax.set_title(wrap(kpi.label, 24), fontsize=15)
            ax.set_xlabel(
                f"{wrap(axis_label(kpi, diff=True), 30)}\n{_better_arrow(kpi)}", fontsize=12
            )
            _format_axis(ax, kpi)
            ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(4))
            ax.grid(axis="y", visible=False)
            _symmetric(ax)
        for ax in axes.flat[len(kpis) :]:
            ax.set_visible(False)
        many = len(ypos) > MANY_ROWS  # a diagnosis of every part: one line a plan, smaller
        for ax in axes[:, 0]:
            ax.set_yticks(list(ypos.values()), [wrap(x, 40 if many else 22) for x in ypos],
                          fontsize=11 if many else None)  # fmt: skip
            ax.set_ylim(-0.6, len(ypos) - 0.4)
        _headline(fig, title)
        _legend_verdicts(fig)
        fig.tight_layout(rect=(0, 0.05, 1, 0.95))
    caption = (
        f"Change against {reference} on the same simulated customers (paired), with 95% "
        "intervals. Blue: better with at least 80% certainty; vermillion: worse; grey: no "
        "clear difference."
    )
    return Chart(key=key, title=title, figure=fig, caption=caption)


def _symmetric(ax: Any) -> None:
    """Keep zero in view with a little room on both sides, so 'no change' is always visible."""
    lo, hi = ax.get_xlim()
    span = max(hi - lo, 1e-9)
    ax.set_xlim(min(lo, -0.08 * span), max(hi, 0.08 * span))


def _legend_verdicts(fig: Figure) -> None:
    from matplotlib.lines import Line2D

    handles = [
        Line2D([], [], marker="o", ls="", color=c, ms=10, label=t)
        for c, t in ((BETTER, "better"), (WORSE, "worse"), (UNCLEAR, "no clear difference"))
    ]
    fig.legend(handles=handles, loc="lower center", ncol=3, bbox_to_anchor=(0.5, 0.0))


def kpi_comparison(
    diffs: pd.DataFrame, kpis: Sequence[str], reference: str, title: str | None = None
) -> Chart:
    """Plans against the reference plan, one panel per KPI (dots with 95% intervals)."""
    order = list(dict.fromkeys(diffs["label"]))
    title = title or comparison_headline(diffs, reference)
    return difference_panels(diffs, kpis, order, title, "kpi_comparison", reference)


def tornado(effects: pd.DataFrame, rank_kpi: str, title: str) -> Chart:
    """Each lever alone against the starting point, biggest effect on ``rank_kpi`` on top.

    ``effects`` has columns ``label, kpi, diff, ci_low, ci_high, p_better`` (one row per lever
    and KPI); panels show the ranking KPI and the mission's three KPIs.
    """
    kpi = KPIS[rank_kpi]
    sign = -1.0 if kpi.better == "lower" else 1.0
    ranked = effects[effects["kpi"] == rank_kpi].assign(gain=lambda t: sign * t["diff"])
    order = ranked.sort_values("gain", ascending=False)["label"].tolist()
    panels = list(dict.fromkeys([rank_kpi, "productivity_loss", "handover_churn", "throughput"]))
    return difference_panels(
        effects, panels, order, title, "tornado", "the starting point", bars=True
    )


def write_tornado(d: Mapping[str, Any], folder: Path) -> list[Path]:
    """Save the tornado chart of a diagnosis's ranking KPI in ``folder`` (PNG and SVG)."""
    roll = d.get("rollout")
    when = f", year after roll-out on day {roll['day']}" if roll else ""
    title = f"Each playbook lever alone against '{d['scenario']}'{when}"
    chart = tornado(effects_frame(d), d["rank_by"], title)
    return save_chart(chart, folder, formats=("png", "svg"))


# --------------------------------------------------------------------------------------------
# Daily series
# --------------------------------------------------------------------------------------------

#: Daily series a board reads, with their label, unit, scale and whether to smooth them.
SERIES = {
    "productivity_loss_today": ("Productivity loss", "% of paid hours", 100.0),
    "handover_backlog": ("Handover backlog", "deals waiting for ops", 1.0),
    "activated_today": ("Customers activated", "per day (10-day average)", 1.0),
    "churned_today": ("Customers lost at handover", "per day (10-day average)", 1.0),
}
SMOOTH_DAYS = 10


def daily_productivity_loss(daily: pd.DataFrame) -> pd.Series:
    """Each day's productivity loss as the KPI counts it: friction plus slack, as a share of
    paid hours (a folder written before slack counted holds friction alone)."""
    slack = daily.get("slack_share_today", 0.0)
    return daily["loss_share_today"] + slack


def time_series(
    daily: pd.DataFrame,
    labels: dict[int, str],
    rollouts: dict[int, list[tuple[int, str]]],
    title: str,
) -> Chart:
    """Daily KPIs per plan over the measured year: mean over replications with a 95% band,
    a 10-day rolling mean, and a dashed line at every roll-out day.

    ``daily`` holds the stored daily series (``point, replication, day, <series>``); days
    before 0 are the warm-up and are not shown.
    """
    data = daily[(daily["day"] >= 0) & daily["point"].isin(list(labels))]
    data = data.assign(productivity_loss_today=daily_productivity_loss(data))
    colours = {p: PALETTE[i % len(PALETTE)] for i, p in enumerate(labels)}
    with theme():
        fig, axes = _subplots(2, 2, sharex=True)
        handles = []  # one line per plan, taken here: a legend skips labels starting with "_"
        for ax, (col, (name, unit, k)) in zip(axes.flat, SERIES.items(), strict=True):
            for p in labels:
                sub = (
                    data[data["point"] == p].pivot(index="day", columns="replication", values=col)
                    * k
                )
                sub = sub.rolling(SMOOTH_DAYS, min_periods=1).mean()
                mean, half = row_interval(sub)
                if half is not None:
                    ax.fill_between(
                        sub.index, mean - half, mean + half, color=colours[p], alpha=0.18, lw=0
                    )
                (line,) = ax.plot(sub.index, mean, color=colours[p], lw=2.2)
                if ax is axes[0, 0]:
                    handles.append(line)
            ax.set_title(name, fontsize=15)
            ax.set_ylabel(unit, fontsize=12)
            ax.set_ylim(bottom=0)
        _rollout_lines(axes, rollouts, colours)
        for ax in axes[1]:
            ax.set_xlabel("working day of the measured year")
        names = list(labels.values())
        ncol = max(min(len(names), 4), 1)
        fig.legend(
            handles,
            [wrap(n, 30) for n in names],
            loc="lower center",
            ncol=ncol,
            bbox_to_anchor=(0.5, 0.0),
        )
        _headline(fig, title)
        legend_rows = math.ceil(len(names) / ncol) if names else 0
        fig.tight_layout(rect=(0, 0.02 + 0.045 * legend_rows, 1, 0.95))
    steps = rollout_steps(rollouts)
    caption = (
        f"Mean of the replications with a 95% band, {SMOOTH_DAYS}-day rolling average; the "
        "warm-up before day 0 is not shown."
        + (" Dashed lines mark roll-out steps: " + "; ".join(steps) + "." if steps else "")
    )
    return Chart(key="time_series", title=title, figure=fig, caption=caption)


def _rollout_lines(axes: Any, rollouts: dict[int, list[tuple[int, str]]], colours: dict) -> None:
    """Dashed lines at roll-out days, numbered once per day at the top of the upper panels."""
    days = sorted({d for steps in rollouts.values() for d, _ in steps})
    for p, steps in rollouts.items():
        for day in sorted({d for d, _ in steps}):
            for ax in axes.flat:
                ax.axvline(day, color=colours[p], ls="--", lw=1.3, alpha=0.8, zorder=1)
    for ax in axes[0]:
        for i, day in enumerate(days, start=1):
            ax.annotate(
                str(i),
                (day, 0.97),
                xycoords=("data", "axes fraction"),
                ha="center",
                va="top",
                fontsize=11,
                fontweight="bold",
                color=INK,
                bbox={"boxstyle": "circle,pad=0.2", "fc": "white", "ec": "#999999"},
            )


def rollout_steps(rollouts: dict[int, list[tuple[int, str]]]) -> list[str]:
    """The numbered roll-out steps of :func:`time_series`: 'day 20: channel SLAs + ...'."""
    by_day: dict[int, list[str]] = {}
    for steps in rollouts.values():
        for day, text in steps:
            by_day.setdefault(day, [])
            if text not in by_day[day]:
                by_day[day].append(text)
    return [f"({i}) day {d}: {' and '.join(by_day[d])}" for i, d in enumerate(sorted(by_day), 1)]


# --------------------------------------------------------------------------------------------
# Bonus-mix maps over the weight simplex
# --------------------------------------------------------------------------------------------

SQRT3 = math.sqrt(3.0)


def _ternary_xy(ind: np.ndarray, team: np.ndarray, comp: np.ndarray) -> tuple[np.ndarray, ...]:
    """Individual at bottom left, team at bottom right, company at the top."""
    total = ind + team + comp
    t, c = team / total, comp / total
    return t + c / 2.0, c * SQRT3 / 2.0


def simplex_map(
    points: pd.DataFrame,
    kpi_name: str,
    weight_cols: Sequence[str],
    marks: dict[str, tuple[float, float, float, float]],
    title: str,
    facet: str | None = None,
    max_slices: int = 3,
) -> Chart:
    """Heatmap of a KPI over bonus mixes: one triangle per silo-buster share (individual, team
    and company at the corners), one hexagon per design point, a shared colour scale where dark
    blue is better. ``marks`` names mixes to point out, e.g. ``{"today": (1, 0, 0, 0)}``.

    ``points`` has the weight columns, ``<kpi>_mean`` and optionally a ``facet`` column (another
    axis of the sweep): one row of triangles per facet value (at most two). The lowest
    ``max_slices`` silo-buster shares are drawn, so the triangles stay large enough to read.
    """
    kpi = KPIS[kpi_name]
    k = scale(kpi)
    silo_c = weight_cols[3]
    col = f"{kpi_name}_mean"
    data = points.dropna(subset=[col]).copy()
    data["_silo"] = data[silo_c].round(6)
    # a 100% silo-buster mix is a single point, not a triangle: it appears on the frontier
    slices = [x for x in sorted(data["_silo"].unique()) if x < 1 - 1e-9][:max_slices]
    facets = [None] if facet is None else list(dict.fromkeys(data[facet]))[:2]
    shown = data[data["_silo"].isin(slices) & (data[facet].isin(facets) if facet else True)]
    cmap = matplotlib.colormaps[SEQUENTIAL if kpi.better == "lower" else f"{SEQUENTIAL}_r"]
    norm = matplotlib.colors.Normalize(data[col].min() * k, data[col].max() * k)
    step = _lattice_step(data[list(weight_cols)].to_numpy())
    with theme():
        fig, axes = _subplots(len(facets), len(slices), squeeze=False)
        lines = _headline(fig, title)
        top = 0.9 - 0.06 * lines - (0.03 if facet else 0.0)
        fig.subplots_adjust(left=0.02, right=0.84, top=top, bottom=0.02, wspace=0.08, hspace=0.25)
        for r, fv in enumerate(facets):
            for c, s in enumerate(slices):
                ax = axes[r, c]
                sub = shown[(shown["_silo"] == s) & ((shown[facet] == fv) if facet else True)]
                _triangle(ax, sub, weight_cols, col, k, cmap, norm, step / (1 - s))
                _mark_mixes(ax, sub, weight_cols, col, marks, s, kpi)
                ax.set_title(literal(_slice_title(s, facet, fv)), fontsize=15, loc="center")
        _simplex_colourbar(fig, kpi, norm, cmap)
    hidden = sorted(set(data["_silo"]) - set(slices))
    key = f"simplex_{kpi_name}" + (f"_{_slug(facet)}" if facet else "")
    return Chart(key=key, title=title, figure=fig, caption=_simplex_caption(marks, slices, hidden))


def _mark_mixes(
    ax: Any,
    sub: pd.DataFrame,
    weight_cols: Sequence[str],
    col: str,
    marks: dict[str, tuple[float, float, float, float]],
    silo: float,
    kpi: KPI,
) -> None:
    """A star on each marked mix in this triangle, labelled with its name and KPI value."""
    for name, mix in marks.items():
        if abs(mix[3] - silo) > 1e-6:
            continue
        x, y = _ternary_xy(*(np.array([m]) for m in mix[:3]))
        ax.plot(x, y, marker="*", ms=26, color=HIGHLIGHT, mec=INK, mew=1.3, zorder=5)
        hit = _mix_rows(sub, weight_cols, mix)
        text = (
            name
            if hit.empty
            else (f"{name}\n" + format_kpi_value(kpi, float(hit[col].iloc[0]), unit=is_share(kpi)))
        )
        ax.annotate(
            literal(text),
            (x[0], y[0]),
            xytext=(14, 10),
            textcoords="offset points",
            fontsize=12,
            fontweight="bold",
            color=INK,
            zorder=6,
            bbox={"fc": "white", "ec": "#999999", "alpha": 0.9, "pad": 2},
        )


def _slice_title(silo: float, facet: str | None, facet_value: Any) -> str:
    head = f"silo-buster {silo * 100:.0f}%"
    if facet:
        head += f", {setting_phrase(facet, facet_value)}"
    return head


def _simplex_colourbar(fig: Figure, kpi: KPI, norm: Any, cmap: Any) -> None:
    """The shared colour scale at the right, dark = better."""
    cax = fig.add_axes((0.88, 0.12, 0.018, 0.6))
    bar = fig.colorbar(matplotlib.cm.ScalarMappable(norm=norm, cmap=cmap), cax=cax)
    bar.set_label(f"{axis_label(kpi)}\n(dark = better)", fontsize=13)
    bar.ax.set_title(wrap(kpi.label, 14), fontsize=13, loc="left", pad=12)
    if kpi.unit.startswith("currency"):
        bar.formatter = MoneyFormatter()
        bar.update_ticks()


def _simplex_caption(
    marks: dict[str, tuple[float, float, float, float]], slices: list[float], hidden: list[float]
) -> str:
    return (
        "Each hexagon is one bonus mix (mean over replications). Corners are 100% individual, "
        "team or company pay; each triangle holds a fixed silo-buster share. Stars mark "
        + ", ".join(marks)
        + "."
        + (
            f" Mixes with silo-buster above {slices[-1] * 100:.0f}% are not drawn (they are in "
            "the frontier chart)."
            if hidden
            else ""
        )
    )


def _mix_rows(rows: pd.DataFrame, cols: Sequence[str], mix: Sequence[float]) -> pd.DataFrame:
    hit = np.ones(len(rows), dtype=bool)
    for c, m in zip(cols, mix, strict=True):
        hit &= np.isclose(rows[c].to_numpy(float), m, atol=1e-6)
    return rows[hit]


def _slug(text: str) -> str:
    return "".join(ch if ch.isalnum() else "_" for ch in text).strip("_")


def _lattice_step(weights: np.ndarray) -> float:
    """The simplex grid step (smallest non-zero difference between weights)."""
    diffs = np.diff(np.unique(np.round(weights.ravel(), 6)))
    diffs = diffs[diffs > 1e-6]
    return float(diffs.min()) if diffs.size else 0.1


def _triangle(
    ax: Any,
    sub: pd.DataFrame,
    cols: Sequence[str],
    value: str,
    k: float,
    cmap: Any,
    norm: Any,
    spacing: float,
) -> None:
    ax.set_aspect("equal")
    ax.axis("off")
    corners = np.array([[0, 0], [1, 0], [0.5, SQRT3 / 2], [0, 0]])
    ax.plot(corners[:, 0], corners[:, 1], color="#999999", lw=1.0, zorder=0)
    x, y = _ternary_xy(*(sub[c].to_numpy(float) for c in cols[:3]))
    radius = spacing / SQRT3 * 0.98
    hexes = [
        RegularPolygon((a, b), numVertices=6, radius=radius) for a, b in zip(x, y, strict=True)
    ]
    coll = PatchCollection(hexes, cmap=cmap, norm=norm, edgecolor="white", linewidth=0.6)
    coll.set_array(sub[value].to_numpy(float) * k)
    ax.add_collection(coll)
    pad = radius * 1.2
    ax.set_xlim(-pad - 0.02, 1 + pad + 0.02)
    ax.set_ylim(-pad - 0.12, SQRT3 / 2 + pad + 0.1)
    for (cx, cy), text, ha in (
        ((-pad, 0), "individual", "left"),
        ((1 + pad, 0), "team", "right"),
        ((0.5, SQRT3 / 2), "company", "center"),
    ):
        dy = pad + 0.07 if cy > 0 else -pad - 0.09
        ax.text(cx, cy + dy, text, ha=ha, va="center", fontsize=13, color=INK)


# --------------------------------------------------------------------------------------------
# Trade-off frontier
# --------------------------------------------------------------------------------------------


def pareto_front(cost: np.ndarray, value: np.ndarray, higher_better: bool) -> np.ndarray:
    """Indices of the designs no other design beats on both bonus cost (lower) and the KPI."""
    v = value if higher_better else -value
    order = np.lexsort((-v, cost))  # cheapest first; among equal cost, best value first
    front, best = [], -np.inf
    for i in order:
        if np.isnan(cost[i]) or np.isnan(v[i]):
            continue
        if v[i] > best:
            front.append(i)
            best = v[i]
    return np.array(front, dtype=int)


FRONTIER_KPIS = ("handover_churn", "throughput", "productivity_loss")


def pareto_sets(points: pd.DataFrame) -> dict[str, list[int]]:
    """Row positions of the Pareto-best designs on bonus cost against each frontier KPI."""
    cost = points["bonus_cost_mean"].to_numpy(float)
    return {
        name: pareto_front(
            cost, points[f"{name}_mean"].to_numpy(float), KPIS[name].better == "higher"
        ).tolist()
        for name in FRONTIER_KPIS
    }


def frontier(
    points: pd.DataFrame,
    labels: Sequence[str],
    references: dict[int, str],
    title: str,
    max_labels: int = 6,
) -> Chart:
    """Bonus cost against churn at handover, throughput and productivity loss, one panel each.

    Every design is a grey dot; the Pareto-best (no other design has lower bonus cost *and* a
    better KPI) are joined in blue and labelled; ``references`` marks named designs (today's plan).
    """
    cost = points["bonus_cost_mean"].to_numpy(float)
    sets = pareto_sets(points)
    with theme():
        fig, axes = _subplots(1, 3)
        for ax, name in zip(axes, FRONTIER_KPIS, strict=True):
            front = np.array(sets[name], dtype=int)
            val = _draw_front(ax, points, name, cost, front)
            texts = _mark_references(ax, references, cost, val)
            texts += _label_front(ax, front, references, labels, cost, val, max_labels)
            _place_labels(ax, texts, cost, val)
            _frontier_axes(ax, KPIS[name])
        _headline(fig, title)
        fig.tight_layout(rect=(0, 0, 1, 0.94))
    caption = (
        "Each dot is a plan (mean over replications). Blue: the trade-off frontier, plans no "
        "other plan beats on both bonus cost and the panel's measure, with 95% intervals; stars "
        "mark " + (", ".join(references.values()) or "no reference design") + "."
    )
    return Chart(key="frontier", title=title, figure=fig, caption=caption)


def _draw_front(
    ax: Any, points: pd.DataFrame, name: str, cost: np.ndarray, front: np.ndarray
) -> np.ndarray:
    """Every design as a grey dot and the frontier as a blue line with 95% intervals.

    Returns:
        The KPI's mean per design, in display units.
    """
    k = scale(KPIS[name])
    val = points[f"{name}_mean"].to_numpy(float) * k
    lo = points[f"{name}_ci_low"].to_numpy(float) * k
    hi = points[f"{name}_ci_high"].to_numpy(float) * k
    ax.scatter(cost, val, s=30, color=UNCLEAR, alpha=0.5, lw=0, zorder=2)
    ax.plot(cost[front], val[front], color=BETTER, lw=2, zorder=3)
    ax.errorbar(
        cost[front],
        val[front],
        yerr=[val[front] - lo[front], hi[front] - val[front]],
        fmt="none",
        ecolor=BETTER,
        alpha=0.45,
        lw=1.3,
        zorder=3,
    )
    ax.plot(cost[front], val[front], "o", color=BETTER, ms=8, mec="white", zorder=4)
    return val


def _mark_references(
    ax: Any, references: dict[int, str], cost: np.ndarray, val: np.ndarray
) -> list[Any]:
    """A star on each named design; returns their labels for _place_labels to move."""
    texts = []
    for i, name_ref in references.items():
        ax.plot(
            cost[i], val[i], marker="*", ms=22, color=HIGHLIGHT, mec=INK, mew=1.2, zorder=5, ls=""
        )
        texts.append(
            ax.text(
                cost[i],
                val[i],
                literal(name_ref),
                fontsize=12,
                fontweight="bold",
                color=INK,
                zorder=6,
            )
        )
    return texts


def _label_front(
    ax: Any,
    front: np.ndarray,
    references: dict[int, str],
    labels: Sequence[str],
    cost: np.ndarray,
    val: np.ndarray,
    max_labels: int,
) -> list[Any]:
    """Labels on at most ``max_labels`` frontier designs other than the references, spread
    evenly along the frontier; returns them for _place_labels to move."""
    candidates = [i for i in front if i not in references]
    if len(candidates) > max_labels:
        picks = np.linspace(0, len(candidates) - 1, max_labels).round().astype(int)
        candidates = [candidates[j] for j in np.unique(picks)]
    return [
        ax.text(
            cost[i],
            val[i],
            wrap(labels[i], 18),
            fontsize=11,
            color=BETTER,
            fontweight="bold",
            zorder=6,
        )
        for i in candidates
    ]


def _frontier_axes(ax: Any, kpi: KPI) -> None:
    """Panel title and axis labels: bonus cost across, the KPI (and which way is better) up."""
    cost_kpi = KPIS["bonus_cost"]
    ax.set_title(wrap(kpi.label, 24), fontsize=15)
    ax.set_ylabel(f"{axis_label(kpi)} ({_direction(kpi)})", fontsize=12)
    ax.set_xlabel(f"Bonus cost, {axis_label(cost_kpi)}", fontsize=12)
    _format_axis(ax, cost_kpi)
    ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(4))


def _place_labels(ax: Any, texts: list[Any], x: np.ndarray, y: np.ndarray) -> None:
    """Move labels off each other and off the dots, with a thin leader line when moved."""
    if not texts:
        return
    from adjustText import adjust_text

    keep = np.isfinite(x) & np.isfinite(y)
    # adjustText logs (through a deprecated call) on every iteration when a label is wider
    # than the panel; the label is still placed as well as it can be, so keep the log quiet.
    log = logging.getLogger("adjustText")
    level = log.level
    log.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            adjust_text(
                texts,
                x=x[keep],
                y=y[keep],
                ax=ax,
                expand=(1.3, 1.6),
                arrowprops={"arrowstyle": "-", "color": "#777777", "lw": 0.8},
            )
    finally:
        log.setLevel(level)


# --------------------------------------------------------------------------------------------
# Value-stream map
# --------------------------------------------------------------------------------------------

STAGE_LABELS = {
    "qualification": "Qualification\n(sales)",
    "handover": "Handover",
    "onboarding": "Onboarding\n(ops)",
}


def worst_handoff(row: pd.Series) -> str:
    """The stage whose output is least often complete and accurate."""
    return min(STAGE_LABELS, key=lambda s: row[f"{s}_pct_complete_accurate_mean"])


def value_stream(points: pd.DataFrame, labels: Sequence[str], title: str) -> Chart:
    """Process and wait days per stage for each plan, with %C&A; the worst handoff is framed.

    ``points`` has one row per plan with the stored value-stream columns
    (``<stage>_process_days_mean``, ``_wait_days_mean``, ``_pct_complete_accurate_mean``).
    """
    stages = list(STAGE_LABELS)
    n = len(labels)
    worst = [worst_handoff(points.iloc[i]) for i in range(n)]
    with theme():
        fig, axes = _subplots(1, 4, sharey=True, gridspec_kw={"width_ratios": [1, 1, 1, 1.25]})
        y = np.arange(n)[::-1]
        for ax, stage in zip(axes, [*stages, "end_to_end"], strict=True):
            proc = points[f"{stage}_process_days_mean"].to_numpy(float)
            wait = points[f"{stage}_wait_days_mean"].to_numpy(float)
            ca = points[f"{stage}_pct_complete_accurate_mean"].to_numpy(float)
            ax.barh(y, proc, color=BETTER, height=0.55)
            ax.barh(
                y,
                wait,
                left=proc,
                color=OKABE_ITO["sky"],
                alpha=0.45,
                height=0.55,
                hatch="//",
                edgecolor=OKABE_ITO["sky"],
            )
            top = np.nanmax(proc + wait) if np.isfinite(proc + wait).any() else 1.0
            for i, (yi, p, w, c) in enumerate(zip(y, proc, wait, ca, strict=True)):
                is_worst = stage == worst[i]
                text = f"{p + w:.1f} d\nC&A {c:.0f}%"
                if stage == "end_to_end" and p + w > 0:
                    text = f"{p + w:.1f} d, {p / (p + w):.0%} work\nC&A {c:.0f}%"
                ax.text(
                    p + w + top * 0.04,
                    yi,
                    text,
                    va="center",
                    fontsize=12,
                    color=WORSE if is_worst else INK,
                    fontweight="bold" if is_worst else "normal",
                )
                if is_worst:
                    ax.barh(yi, p + w, height=0.55, fill=False, ec=WORSE, lw=3.5, zorder=4)
            ax.set_xlim(0, top * (1.9 if stage == "end_to_end" else 1.6))
            ax.set_xlabel("working days per lead", fontsize=12)
            ax.grid(axis="y", visible=False)
            if stage == "end_to_end":
                ax.set_title("Whole stream\n(rolled C&A)", fontsize=15)
            else:
                ax.set_title(STAGE_LABELS[stage], fontsize=15)
        axes[0].set_yticks(y, [wrap(x, 20) for x in labels])
        handles = [
            matplotlib.patches.Patch(color=BETTER, label="process time (work)"),
            matplotlib.patches.Patch(
                fc=OKABE_ITO["sky"], alpha=0.45, hatch="//", ec=OKABE_ITO["sky"], label="wait time"
            ),
            matplotlib.patches.Patch(
                fill=False, ec=WORSE, lw=3, label="worst handoff (lowest C&A)"
            ),
        ]
        fig.legend(handles=handles, loc="lower center", ncol=3, bbox_to_anchor=(0.5, 0.0))
        _headline(fig, title)
        fig.tight_layout(rect=(0, 0.07, 1, 0.94))
    caption = (
        "Working days per customer from first contact to activation, stage by stage, as process "
        "time (hands-on work) and wait time; complete and accurate (C&A) is the share of work "
        "that leaves a stage with nothing missing or wrong (rolled C&A multiplies the stages). "
        "The whole stream starts at first contact; lead time, in the summary and the "
        "comparison, counts from close to activation, so a plan that slows selling but speeds "
        "delivery lengthens the stream while it shortens lead time."
    )
    return Chart(key="value_stream", title=title, figure=fig, caption=caption)


# --------------------------------------------------------------------------------------------
# Who gains and who loses
# --------------------------------------------------------------------------------------------


def payouts(points: pd.DataFrame, labels: Sequence[str], title: str) -> Chart:
    """Annual bonus per person by role under each plan: the 10th-90th percentile range with the
    median (top), and the mean split by bonus component (bottom). Neutral colours: a payout is
    neither good nor bad, it is who gains and who loses."""
    n = len(labels)
    y = np.arange(n)[::-1]
    with theme():
        fig, axes = _subplots(2, 2, sharey=True, sharex="col")
        for col, (role, name) in enumerate((("rep", "Sales reps"), ("ops", "Operations"))):
            ax = axes[0, col]
            p10 = points[f"pay_{role}_p10_mean"].to_numpy(float)
            p50 = points[f"pay_{role}_p50_mean"].to_numpy(float)
            p90 = points[f"pay_{role}_p90_mean"].to_numpy(float)
            ax.hlines(
                y, p10, p90, color="#777777", lw=7, alpha=0.6, label="10th to 90th percentile"
            )
            ax.plot(p50, y, "o", color=INK, ms=11, label="median person")
            for yi, m in zip(y, p50, strict=True):
                ax.annotate(
                    money(m),
                    (m, yi),
                    xytext=(0, 10),
                    textcoords="offset points",
                    ha="center",
                    fontsize=11,
                )
            ax.set_title(f"{name}: bonus per person", fontsize=15)
            ax = axes[1, col]
            left = np.zeros(n)
            for comp in PAY_COMPONENTS:
                v = points[f"pay_{role}_{comp}_mean"].to_numpy(float)
                ax.barh(
                    y,
                    v,
                    left=left,
                    color=COMPONENT_COLOURS[comp],
                    height=0.6,
                    label=comp.replace("_", "-"),
                )
                left += v
            ax.set_title(f"{name}: mean bonus by component", fontsize=15)
            ax.set_xlabel(f"{money_unit()} per person per year", fontsize=12)
            for a in axes[:, col]:
                a.xaxis.set_major_formatter(MoneyFormatter())
                a.grid(axis="y", visible=False)
                a.set_xlim(left=0)
        axes[0, 0].set_yticks(y, [wrap(x, 20) for x in labels])
        axes[1, 0].set_yticks(y, [wrap(x, 20) for x in labels])
        h0, l0 = axes[0, 0].get_legend_handles_labels()
        h1, l1 = axes[1, 0].get_legend_handles_labels()
        fig.legend(
            h0 + h1,
            l0 + l1,
            loc="lower center",
            ncol=6,
            bbox_to_anchor=(0.5, 0.0),
            fontsize=12,
            handlelength=1.5,
            columnspacing=1.2,
        )
        _headline(fig, title)
        fig.tight_layout(rect=(0, 0.05, 1, 0.94))
    caption = (
        "The headline and the lower panels give the mean annual bonus per person, the bonus "
        "per rep and per ops person of the summary, split by component; the upper panels show "
        "the spread, from the 10th to the 90th percentile of people, with the median person "
        "(means over replications)."
    )
    return Chart(key="payouts", title=title, figure=fig, caption=caption)
