"""Board pack from a results folder: charts, a plain-language summary, an HTML report and a deck.

:func:`build` reads a results folder (a ``compare``, ``sweep`` or ``diagnose``) and decides
which charts its data supports; :func:`write` saves the pack in the asked formats. The numbers
in the executive summary are those of :func:`simulation.analysis.results.comparison` (a comparison)
or of
``points.parquet`` and paired differences from ``runs.parquet`` (a sweep): nothing is retyped.

Every chart the data cannot support is listed, with the reason, under "Not in this report".
"""

from __future__ import annotations

import base64
import contextlib
import errno
import hashlib
import html
import io
import json
import math
import os
import re
import shlex
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import matplotlib.text
import pandas as pd

from simulation.analysis.compare import relabel
from simulation.analysis.diagnosis import effects_frame
from simulation.analysis.results import (
    Results,
    ResultsError,
    comparison,
    load_results,
    mix_label,
    paired_differences,
    sweep_choice,
    today_point,
)
from simulation.analysis.words import (
    READ_WITH_CARE,
    certainty,
    change_phrase,
    comparison_headline,
    comparison_headline_of,
    diagnosis_bottom_line,
    format_kpi_value,
    glossary,
    guardrail_flag,
    guardrail_lines,
    headline_text,
    join_words,
    money_in,
    net_value_meaning,
    size,
    verdict,
)
from simulation.batch.design import WEIGHT_KEYS
from simulation.batch.store import atomic_write, write_json
from simulation.common.formats import format_value, json_ready
from simulation.common.text import LAYOUT, escape_controls
from simulation.model.metrics import (
    AFTER_ROLLOUT,
    HEADLINE,
    KPIS,
    payout_columns,
    stage_columns,
)
from simulation.report import charts
from simulation.scenario.config import (
    Scenario,
    get_dotted,
    human_name,
    lever_table,
    same_value,
)
from simulation.scenario.levers import CURRENT, DEFAULT_RANK

__all__ = [
    "FORMATS",
    "MARKER",
    "Report",
    "build",
    "build_report",
    "parse_formats",
    "render",
    "write",
]

FORMATS = ("html", "pptx", "png", "svg")
#: KPIs of the comparison chart and the executive summary, most important first.
COMPARISON_KPIS = (*HEADLINE, "cost_of_friction")
#: Revenue is here because cost of friction leaves out sales a plan loses; the ranking KPI
#: (net value) leads.
SUMMARY_KPIS = tuple(
    k
    for k in dict.fromkeys(
        (
            DEFAULT_RANK,
            "handover_churn",
            "productivity_loss",
            "throughput",
            "revenue",
            "bonus_cost",
            "cost_of_friction",
        )
    )
    if k in KPIS
)
PAIRED_KEYS = ("n", "base_mean", "mean", "diff", "ci_low", "ci_high", "relative", "p_better")
MAP_KPIS = ("handover_churn", "productivity_loss", "throughput", "bonus_cost")
#: Mixes every bonus map marks: today's plan in the brief and the blended plan it proposes.
MARKS = {"100/0/0/0": (1.0, 0.0, 0.0, 0.0), "40/30/20/10": (0.4, 0.3, 0.2, 0.1)}
STAGE_NEEDS = stage_columns()
PAY_NEEDS = payout_columns()
MAX_PLANS = 7  # plans in per-plan charts: today plus the six playbook levers; more would not read
#: The assumptions a board should see first (all are in docs/ASSUMPTIONS.md).
KEY_ASSUMPTIONS = (
    "horizon_days",
    "org.sales_reps",
    "org.ops_staff",
    "org.rep_salary",
    "org.ops_salary",
    "org.loaded_cost_factor",
    "incentives.bonus_pool",
    "market.leads_per_rep_day",
    "market.deal_value",
    "market.churn_base_hazard",
    "market.churn_wait_hazard",
    "info.asymmetry",
    "comms.chatter_per_day",
    "comms.resumption_minutes",
    "behaviour.logit_beta",
    "behaviour.bonus_salience",
    "behaviour.overpromise_max",
)


@dataclass
class Report:
    """Everything a board pack holds, before it is written in any format."""

    results: Results
    title: str
    subtitle: str
    summary: list[dict[str, Any]]  # {"text", "points": [..], "numbers": [..]} per plan/finding
    charts: list[charts.Chart]
    omitted: list[tuple[str, str]]  # (what, why)
    plans: list[dict[str, Any]]  # what each plan changes, with sources
    assumptions: list[dict[str, Any]]
    provenance: dict[str, Any]
    bottom_line: str = ""  # the decision in one sentence with its interval (first in the summary)
    guardrails: list[dict[str, Any]] = field(default_factory=list)  # facts; words.guardrail_text
    #: The plans in plain words, reference first: {"label", "description"} (may be blank).
    lineup: list[dict[str, str]] = field(default_factory=list)


# --------------------------------------------------------------------------------------------
# Which plans a chart shows, and against what
# --------------------------------------------------------------------------------------------


def reference_point(results: Results) -> int | None:
    """The design point that is today's set-up (see
    :func:`simulation.analysis.results.today_point`)."""
    return today_point(results)


def featured_points(results: Results, reference: int | None, limit: int = MAX_PLANS) -> list[int]:
    """Plans to show one row each: all of a small design; else the reference, the marked mixes
    and the best point on each summary KPI."""
    if results.n_points <= limit:
        return list(range(results.n_points))
    chosen: list[int] = [] if reference is None else [reference]
    if results.has_simplex:
        for mix in MARKS.values():
            for p in range(results.n_points):
                values = results.point_values(p)
                if all(same_value(values[k], m) for k, m in zip(WEIGHT_KEYS, mix, strict=True)):
                    chosen.append(p)
                    break
    pts = results.points
    for name in ("cost_of_friction", *SUMMARY_KPIS):
        col = pts[f"{name}_mean"]
        if col.notna().any():
            best = col.idxmin() if KPIS[name].better == "lower" else col.idxmax()
            chosen.append(int(pts.loc[best, "point"]))
    return list(dict.fromkeys(chosen))[:limit]


def plan_label(results: Results, point: int, reference: int | None) -> str:
    """A plan as people read it: a scenario's label, a sweep point's settings in words (today's
    set-up under its own label)."""
    label = results.plan_labels[point]
    if results.kind == "sweep" and point == reference:
        base = Scenario.model_validate(results.manifest["config"]["base_scenario"])
        return f"{base.label} ({label})"
    return label


# --------------------------------------------------------------------------------------------
# Building the report
# --------------------------------------------------------------------------------------------


def build(path: str | Path) -> Report:
    """Read a results folder and build every chart and summary its data supports; money is
    shown in the results' currency."""
    results = load_results(path)
    if results.runs.empty:
        raise ResultsError(f"{results.path}: the folder holds no finished runs")
    with money_in(results.currency):
        return _build(results)


def _build(results: Results) -> Report:
    ref = reference_point(results)
    featured = featured_points(results, ref)
    diagnosis = _diagnosis(results)
    labels = _plan_labels(results, ref, _display_names(diagnosis))
    cmp_ref = ref if ref is not None else featured[0]
    out: list[charts.Chart] = []
    omitted: list[tuple[str, str]] = []
    window = _deciding_window(diagnosis)
    diffs = _differences(results, cmp_ref, featured, labels, omitted, window)
    decision = _decision(results, diagnosis, ref, labels)

    if diagnosis is not None:
        out.append(_tornado(diagnosis))
    if diffs is not None:
        title = _comparison_title(diffs, labels[cmp_ref], decision)
        out.append(charts.kpi_comparison(diffs, COMPARISON_KPIS, labels[cmp_ref], title))
    out += _select_time_series(results, featured, labels, cmp_ref, omitted)
    out += _select_maps(results, labels, omitted)
    out += _select_frontier(results, labels, ref, omitted)
    out += _select_stage_charts(results, featured, labels, cmp_ref, omitted)
    omitted += _unfeatured(results, featured)
    share = float(
        results.scenario_config(cmp_ref).get("economics", {}).get("redeployable_share", 0)
    )
    summary = _lead(decision, share) + _summary(results, diffs, diagnosis, cmp_ref, ref, labels,
                                         decision.get("comparison"))  # fmt: skip
    return Report(
        results=results,
        title=_title(results, diagnosis, labels),
        subtitle=_subtitle(results, decision["guardrails"]),
        summary=summary,
        charts=out,
        omitted=omitted,
        plans=_plan_changes(results, cmp_ref, featured, labels),
        assumptions=_assumptions(results, cmp_ref),
        provenance=_provenance(results, labels),
        bottom_line=decision["bottom_line"],
        guardrails=decision["guardrails"],
        lineup=_lineup(results, cmp_ref, featured, labels),
    )


def _decision(
    results: Results,
    diagnosis: dict[str, Any] | None,
    reference: int | None,
    labels: dict[int, str],
) -> dict[str, Any]:
    """The bottom line and guardrails of the folder, with the ranking behind them (plan names
    as the pack shows them) and, for a comparison, the comparison itself."""
    if diagnosis is not None:
        return {
            "bottom_line": diagnosis.get("bottom_line") or diagnosis_bottom_line(diagnosis),
            "guardrails": list(diagnosis.get("guardrails", [])),
            "ranking": None,
            "comparison": comparison(results) if results.replications >= 2 else None,
        }
    if results.kind == "compare":
        cmp = comparison(results)
        names = dict(zip(cmp["scenarios"], labels.values(), strict=True))
        ranking = cmp.get("ranking")
        return {
            "bottom_line": cmp.get("bottom_line", ""),
            "guardrails": cmp["guardrails"],
            "ranking": None if ranking is None else relabel(ranking, names),
            "comparison": cmp,
            "numbers": _bottom_numbers(cmp, names),
        }
    choice = sweep_choice(results, reference, labels)
    if choice is None:
        return {"bottom_line": "", "guardrails": [], "ranking": None, "comparison": None}
    numbers = [
        {"plan": plan, "reference": choice["reference"], "kpi": choice["rank_by"], **rows[k]}
        for plan, rows in choice["differences"].items()
        for k in (choice["rank_by"],)
    ]
    return {**choice, "comparison": None, "numbers": numbers}


def _bottom_numbers(cmp: dict[str, Any], names: dict[str, str]) -> list[dict[str, Any]]:
    """The paired difference the comparison's bottom line states."""
    ranking = cmp.get("ranking")
    if not ranking or ranking["first"] is None or ranking["runner_up"] is None:
        return []
    shown = ranking["first"] if ranking["first"] != cmp["baseline"] else ranking["runner_up"]
    d = cmp["differences"][shown][ranking["rank_by"]]
    return [{"plan": names[shown], "reference": names[cmp["baseline"]], "scenario": shown,
             "reference_scenario": cmp["baseline"], "kpi": ranking["rank_by"], **d}]  # fmt: skip


def _lead(decision: dict[str, Any], share: float = 0.0) -> list[dict[str, Any]]:
    """The summary's first items: the bottom line (with what net value means, when it speaks
    of it; ``share``: the redeployable share of lost hours), then what to read with care."""
    items = []
    if decision["bottom_line"]:
        numbers = decision.get("numbers", [])
        meaning = [net_value_meaning(share)] if "net value" in decision["bottom_line"] else []
        items.append({"text": decision["bottom_line"], "points": meaning, "numbers": numbers})
    cautions = guardrail_lines(decision["guardrails"])
    if cautions:
        items.append({"text": READ_WITH_CARE, "points": cautions, "numbers": []})
    return items


def _comparison_title(diffs: pd.DataFrame, reference: str, decision: dict[str, Any]) -> str:
    """The comparison chart's headline: the plan named first, when the chart shows it; for a
    sweep, the design named first with its changes widened for picking it from all of them."""
    ranking = decision.get("ranking")
    picked = decision.get("picked_of")
    if picked:
        if ranking is None or not decision.get("differences"):
            return f"Each design against {reference}"  # nothing stated without today's plan
        text = comparison_headline_of(ranking, decision["differences"], reference)
        return f"Of {picked} designs, allowing for the pick: {text}"
    shown = set(diffs["label"]) | {reference}
    if ranking is not None and {ranking["first"], ranking["runner_up"]} <= shown:
        return comparison_headline(diffs, reference, ranking)
    return comparison_headline(diffs, reference)


# Each _select_* function returns the charts the results support and appends to ``omitted``
# what it cannot draw and why.


def _plan_labels(results: Results, reference: int | None, names: dict[str, str]) -> dict[int, str]:
    """Every design point's label, with a diagnosis's plain names in place of lever keys."""
    return {
        p: names.get(x, x)
        for p, x in ((p, plan_label(results, p, reference)) for p in range(results.n_points))
    }


def _select_time_series(
    results: Results,
    featured: list[int],
    labels: dict[int, str],
    reference: int,
    omitted: list[tuple[str, str]],
) -> list[charts.Chart]:
    if results.daily is None:
        omitted.append(
            (
                "KPI time series",
                "the sweep did not record daily series; run it with --daily to get them",
            )
        )
        return []
    return [_time_series(results, featured, labels, reference)]


def _select_maps(
    results: Results, labels: dict[int, str], omitted: list[tuple[str, str]]
) -> list[charts.Chart]:
    if not results.has_simplex:
        omitted.append(
            (
                "Bonus-mix maps",
                "the results do not vary the bonus mix over the "
                "weight simplex (a comparison never does); run a sweep with a simplex "
                "axis, e.g. scenarios/sweeps/bonus_simplex.yaml",
            )
        )
        return []
    maps = _simplex_maps(results, labels, omitted)
    omitted.append(
        (
            f"Bonus-mix maps of the other {len(KPIS) - len(MAP_KPIS)} KPIs",
            "the pack maps the four a board weighs (churn, productivity loss, throughput, "
            "bonus cost); charts.simplex_map draws any other from points.parquet",
        )
    )
    return maps


def _select_frontier(
    results: Results,
    labels: dict[int, str],
    reference: int | None,
    omitted: list[tuple[str, str]],
) -> list[charts.Chart]:
    if results.n_points < 3:
        omitted.append(
            (
                "Trade-off frontier",
                f"only {results.n_points} plan(s); a frontier needs at least three",
            )
        )
        return []
    return [_frontier(results, labels, reference)]


def _select_stage_charts(
    results: Results,
    featured: list[int],
    labels: dict[int, str],
    reference: int,
    omitted: list[tuple[str, str]],
) -> list[charts.Chart]:
    """The value-stream map and the payouts chart, each if the folder has its columns."""
    out = []
    for what, needs, make in (
        ("Value-stream map", STAGE_NEEDS, _value_stream),
        ("Who gains and who loses (payouts)", PAY_NEEDS, _payouts),
    ):
        missing = [c for c in needs if f"{c}_mean" not in results.points.columns]
        if missing:
            omitted.append(
                (
                    what,
                    f"the results folder has no {missing[0]} column (it was "
                    "written by an older version of org-friction); rerun the sweep to "
                    "get it",
                )
            )
        else:
            out.append(make(results, featured, labels, reference))
    return out


def _unfeatured(results: Results, featured: list[int]) -> list[tuple[str, str]]:
    """Why the per-plan charts leave design points out, if they do."""
    if len(featured) == results.n_points:
        return []
    return [
        (
            f"{results.n_points - len(featured)} of {results.n_points} design points "
            "in the per-plan charts",
            f"a chart shows at most {MAX_PLANS} plans; "
            "shown are today's plan, the marked mixes and the best design on each "
            "headline KPI (every point is in the maps, the frontier and "
            "points.parquet)",
        )
    ]


def _title(results: Results, diagnosis: dict[str, Any] | None, labels: dict[int, str]) -> str:
    if diagnosis is not None:
        return "Which single change to make first"
    if results.kind == "compare":
        names = [labels[p] for p in range(results.n_points)]
        return f"{join_words(names[1:])} against {names[0]}"
    base = Scenario.model_validate(results.manifest["config"]["base_scenario"])
    varied = _axis_names(results)
    return f"{results.n_points} designs around {base.label}, varying {join_words(varied)}"


def _axis_names(results: Results) -> list[str]:
    """What a sweep varies, in words: 'the bonus mix', 'team size'."""
    names = ["the bonus mix"] if results.has_simplex else []
    names += [human_name(a).lower() for a in results.axes if a not in WEIGHT_KEYS]
    return list(dict.fromkeys(names)) or ["its settings"]


def _subtitle(results: Results, guardrails: Sequence[dict[str, Any]] = ()) -> str:
    day = str(results.manifest.get("created_utc", ""))[:10]
    same = not any(g["kind"] == "different_firms" for g in guardrails)
    customers = "over the same simulated customers" if same else "on the same random draws"
    return (
        f"Simulated with org-friction{f' on {day}' if day else ''}: {results.n_points} plans, "
        f"each simulated {results.replications} times {customers}, so the differences come "
        f"from the plans, not from chance. Money is in {results.currency}."
    )


def _differences(
    results: Results,
    reference: int,
    featured: list[int],
    labels: dict[int, str],
    omitted: list[tuple[str, str]],
    window: str = "",
) -> pd.DataFrame | None:
    """Paired differences of the featured plans, over the window the decision is made on."""
    others = [p for p in featured if p != reference]
    if not others:
        omitted.append(("KPI comparison", "there is only one plan"))
        return None
    if results.replications < 2:
        omitted.append(
            ("KPI comparison", "one replication gives no interval; rerun with --reps 10 or more")
        )
        return None
    try:
        diffs = paired_differences(results, reference, others, list(KPIS), prefix=window)
    except ResultsError as exc:  # said without the folder's path: the pack leaves this machine
        omitted.append(("KPI comparison", str(exc).removeprefix(f"{results.path}: ")))
        return None
    diffs["label"] = diffs["point"].map(labels)
    return diffs


def _deciding_window(diagnosis: dict[str, Any] | None) -> str:
    """The column prefix of the window a diagnosis decided on (the year after roll-out), so
    every figure of its pack is over the same days; "" for the whole run."""
    if diagnosis is None:
        return ""
    ranked_on = (diagnosis.get("rollout") or {}).get("ranked_on")
    return AFTER_ROLLOUT if ranked_on == "after_rollout" else ""


#: What the pack reads of a diagnosis.
DIAGNOSIS_KEYS = ("levers", "rankings", "rank_by", "verdict")


def _diagnosis(results: Results) -> dict[str, Any] | None:
    """The folder's ``diagnosis.json``, if it has one.

    Raises:
        ResultsError: the file is not a diagnosis friction can read (cut short or edited).
    """
    path = results.path / "diagnosis.json"
    if not path.is_file():
        return None
    try:
        diagnosis = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        diagnosis = None
    if not isinstance(diagnosis, dict) or any(k not in diagnosis for k in DIAGNOSIS_KEYS):
        raise ResultsError(
            f"{path}: not a readable diagnosis; rerun the diagnose command with --resume to "
            "write it again, or move the file away to report the folder as a comparison"
        )
    return diagnosis


def _display_names(diagnosis: dict[str, Any] | None) -> dict[str, str]:
    """Plain names of a diagnosis's plans (its results folder labels them by key)."""
    if diagnosis is None:
        return {}
    names = {lv["lever"]: lv["label"] for lv in diagnosis["levers"]}
    names[CURRENT] = "the current set-up"
    return names


def _tornado(diagnosis: dict[str, Any]) -> charts.Chart:
    effects = effects_frame(diagnosis)
    rank = diagnosis["rank_by"]
    return charts.tornado(effects, rank, diagnosis.get("headline") or headline_text(diagnosis))


def _time_series(
    results: Results, featured: list[int], labels: dict[int, str], reference: int
) -> charts.Chart:
    daily = results.daily
    assert daily is not None
    shown = {p: labels[p] for p in featured}
    rollouts = {p: results.rollouts(p) for p in featured}
    title = _series_headline(results, daily, featured, labels, reference)
    return charts.time_series(daily, shown, rollouts, title)


#: The last working days of the measured year the time-series headline calls its end.
END_DAYS = 20


def _series_headline(results: Results, daily: pd.DataFrame, featured: list[int],
                     labels: dict[int, str], reference: int) -> str:  # fmt: skip
    """Productivity loss over the year (the KPI the summary states) for the plan with the
    lowest and for the reference, and where the chart's daily series ends the year."""
    kpi = KPIS["productivity_loss"]
    year = results.by_point["productivity_loss_mean"]
    year = year[year.index.isin(featured)].dropna()
    end = daily[daily["day"] >= daily["day"].max() - (END_DAYS - 1)]
    level = charts.daily_productivity_loss(end).groupby(end["point"]).mean()
    if year.empty:
        return "Productivity loss by day over the measured year"
    best = int(year.idxmin())
    said = f"{format_kpi_value(kpi, float(year[best]))} under {labels[best]}"
    ends = f"{level.get(best, math.nan):.0%}"
    if best != reference and reference in year.index:
        said += f", against {format_kpi_value(kpi, float(year[reference]))} under "
        said += labels[reference]
        ends += f" against {level.get(reference, math.nan):.0%}"
    return (
        f"Productivity loss over the year: {said}; in the last {END_DAYS} working days it "
        f"is {ends} of paid hours"
    )


def _simplex_maps(
    results: Results, labels: dict[int, str], omitted: list[tuple[str, str]]
) -> list[charts.Chart]:
    pts = results.points.copy()
    others = [a for a in results.axes if a not in WEIGHT_KEYS]
    facet = others[0] if others else None
    if facet is not None:
        for extra in others[1:]:
            first = pts[extra].iloc[0]
            pts = pts[pts[extra] == first]
            omitted.append(
                (
                    f"Bonus-mix maps for other values of {extra}",
                    f"the maps show {extra} = {format_value(first)} only",
                )
            )
        shown = list(dict.fromkeys(pts[facet]))
        if len(shown) > 2:
            omitted.append(
                (
                    f"Bonus-mix maps for {facet} beyond {shown[:2]}",
                    "a slide holds two rows of triangles",
                )
            )

    def at(p: int) -> str:  # the mix alone, or with the other axes' values
        return labels[p] if facet else mix_label(results.point_values(p))

    out = []
    for name in MAP_KPIS:
        kpi = KPIS[name]
        col = pts[f"{name}_mean"]
        if col.notna().sum() == 0:
            continue
        lo, hi = int(pts.loc[col.idxmin(), "point"]), int(pts.loc[col.idxmax(), "point"])
        title = (
            f"{kpi.label} is lowest at {at(lo)} ({format_kpi_value(kpi, float(col.min()))}) "
            f"and highest at {at(hi)} ({format_kpi_value(kpi, float(col.max()))})"
        )
        out.append(charts.simplex_map(pts, name, WEIGHT_KEYS, MARKS, title, facet=facet))
    return out


def _frontier(results: Results, labels: dict[int, str], reference: int | None) -> charts.Chart:
    pts = results.points.sort_values("point").reset_index(drop=True)
    only_mix = results.has_simplex and len(results.axes) == len(WEIGHT_KEYS)
    short = [
        mix_label(results.point_values(p)) if only_mix else labels[p]
        for p in range(results.n_points)
    ]
    refs = {}
    if reference is not None:
        refs[reference] = (
            f"today {short[reference]}" if results.kind == "sweep" else short[reference]
        )
    fronts = charts.pareto_sets(pts)
    if reference is not None:
        on = [KPIS[k].label.lower() for k in charts.FRONTIER_KPIS if reference in fronts[k]]
        off = [KPIS[k].label.lower() for k in charts.FRONTIER_KPIS if reference not in fronts[k]]
        name = labels[reference]
        if not off:
            title = f"No plan beats {name} on both bonus cost and any of the three KPIs"
        elif not on:
            title = (
                f"On churn, throughput and productivity loss alike, other plans cost less in "
                f"bonus than {name} and do better"
            )
        else:
            title = (
                f"{name[:1].upper() + name[1:]} is unbeaten for its bonus cost only on "
                f"{join_words(on)}; on "
                f"{join_words(off)} other plans cost less in bonus and do better"
            )
    else:
        title = "The plans no other plan beats on both bonus cost and the KPI"
    return charts.frontier(pts, short, refs, title)


def _value_stream(
    results: Results, featured: list[int], labels: dict[int, str], reference: int
) -> charts.Chart:
    pts = results.by_point.loc[featured].reset_index()
    ref_row = results.by_point.loc[reference]
    worst = charts.worst_handoff(ref_row)
    ca = ref_row[f"{worst}_pct_complete_accurate_mean"]
    proc = ref_row["end_to_end_process_days_mean"]
    wait = ref_row["end_to_end_wait_days_mean"]
    lead = format_kpi_value(KPIS["lead_time_days"], float(ref_row["lead_time_days_mean"]))
    title = (
        f"Under {labels[reference]} a customer takes {proc + wait:.0f} working days from first "
        f"contact to activation, {lead} from close (the lead time); {worst} is the worst "
        f"handoff, {ca:.0f}% complete and accurate"
    )
    return charts.value_stream(pts, [labels[p] for p in featured], title)


#: The KPIs of the payouts chart's headline: the mean bonus per person of each role.
PAY_KPIS = {"rep": "payout_rep_mean", "ops": "payout_ops_mean"}


def _payouts(
    results: Results, featured: list[int], labels: dict[int, str], reference: int
) -> charts.Chart:
    """Who gains and who loses, headlined with the mean bonus per person: the statistic of the
    bonus-per-rep and bonus-per-ops KPIs and of the chart's lower panels."""
    pts = results.by_point
    shown = pts.loc[featured].reset_index()
    ref = pts.loc[reference]
    cols = [f"{k}_mean" for k in PAY_KPIS.values()]
    moves = ((pts.loc[featured, cols] - ref[cols]).abs() / ref[cols].abs().clip(lower=1)).max(
        axis=1
    )
    other = int(moves.idxmax())
    rep, ops = (KPIS[k] for k in PAY_KPIS.values())
    if other == reference:
        title = (
            f"Mean annual bonus under {labels[reference]}: "
            f"{format_kpi_value(rep, ref[cols[0]])} per rep, "
            f"{format_kpi_value(ops, ref[cols[1]])} per ops person"
        )
    else:
        o = pts.loc[other]
        moved = _pay_moves(results, reference, other)
        title = (
            f"Mean bonus under {labels[other]} against {labels[reference]}: "
            f"{format_kpi_value(rep, o[cols[0]])} per rep ({moved['rep']}), "
            f"{format_kpi_value(ops, o[cols[1]])} per ops person ({moved['ops']})"
        )
    return charts.payouts(shown, [labels[p] for p in featured], title)


def _pay_moves(results: Results, reference: int, other: int) -> dict[str, str]:
    """Each role's change in mean bonus as the comparison judges it: the paired difference, or
    'no clear change' when it is under 80% sure either way."""
    try:
        diffs = paired_differences(results, reference, [other], list(PAY_KPIS.values()))
    except ResultsError:
        diffs = None
    out = {}
    for role, name in PAY_KPIS.items():
        kpi = KPIS[name]
        row = None if diffs is None else diffs[diffs["kpi"] == name].iloc[0]
        if row is None or math.isnan(row["p_better"]):
            d = results.by_point.loc[other, f"{name}_mean"]
            d -= results.by_point.loc[reference, f"{name}_mean"]
            out[role] = format_kpi_value(kpi, float(d), diff=True, unit=False)
        elif certainty(row["p_better"])[1] in ("better", "worse"):
            more = "more" if row["diff"] > 0 else "less"
            out[role] = f"{results.currency} {size(kpi, row['diff'], unit=False)} {more}"
        else:
            out[role] = "no clear change"
    return out


# --------------------------------------------------------------------------------------------
# Executive summary
# --------------------------------------------------------------------------------------------


def _summary(results: Results, diffs: pd.DataFrame | None, diagnosis: dict[str, Any] | None,
             reference: int, today: int | None, labels: dict[int, str],
             cmp: dict[str, Any] | None = None) -> list[dict[str, Any]]:  # fmt: skip
    """Plain-language findings, each with the exact numbers it states."""
    items: list[dict[str, Any]] = []
    if diagnosis is not None:
        items.append({"text": diagnosis["verdict"], "points": [], "numbers": []})
    if results.kind == "compare" and results.replications >= 2:
        cmp = cmp or comparison(results)
        names = dict(zip(cmp["scenarios"], labels.values(), strict=True))
        base = names[cmp["baseline"]]
        decided = _diagnosis_differences(diagnosis)
        for raw in cmp["scenarios"][1:]:
            d = decided.get(raw) or cmp["differences"][raw]
            rows = pd.DataFrame([{"kpi": k, **d[k]} for k in SUMMARY_KPIS])
            lines = [verdict(k, d[k], base, names[raw], d) for k in SUMMARY_KPIS]
            items.append({
                "text": f"{names[raw]} against {base}: {change_phrase(rows)}.",
                # a diagnosis's verdict leads; one line per lever keeps the summary short
                "points": [] if diagnosis is not None else lines,
                "numbers": [{"plan": names[raw], "reference": base, "scenario": raw,
                             "reference_scenario": cmp["baseline"], "kpi": k, **d[k]}
                            for k in SUMMARY_KPIS],
            })  # fmt: skip
    elif results.kind == "sweep":
        items += _sweep_summary(results, diffs, reference, today, labels)
    if not items:
        items.append({"text": "One replication per plan: the results carry no intervals, so "
                      "this report states no findings; run 10 or more replications.",
                      "points": [], "numbers": []})  # fmt: skip
    return items


def _diagnosis_differences(
    diagnosis: dict[str, Any] | None,
) -> dict[str, dict[str, dict[str, Any]]]:
    """Each lever's paired differences as the diagnosis decided on them (the year after
    roll-out where measured), by lever and KPI; empty without a diagnosis."""
    if diagnosis is None:
        return {}
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for kpi, rows in diagnosis["rankings"].items():
        for r in rows:
            out.setdefault(r["lever"], {})[kpi] = r
    return out


def _sweep_summary(
    results: Results,
    diffs: pd.DataFrame | None,
    reference: int,
    today: int | None,
    labels: dict[int, str],
) -> list[dict[str, Any]]:
    """Best and worst design per headline KPI with intervals, the best one's paired change from
    the reference point, and a lead on where today's plan (if the sweep ran it) stands."""
    ref_label = labels[reference]
    pts = results.by_point
    items = []
    best_at: dict[int, list[str]] = {}
    worst_at: dict[int, list[str]] = {}
    for name in SUMMARY_KPIS:
        kpi = KPIS[name]
        col = pts[f"{name}_mean"].dropna()
        if col.empty:
            continue
        best = int(col.idxmin() if kpi.better == "lower" else col.idxmax())
        worst = int(col.idxmax() if kpi.better == "lower" else col.idxmin())
        best_at.setdefault(best, []).append(kpi.label.lower())
        worst_at.setdefault(worst, []).append(kpi.label.lower())
        numbers = [_level(results, p, name, labels) for p in (best, worst)]
        b, w = numbers
        text = (
            f"{kpi.label}: best at {b['plan']}, {b['shown']} (95% interval {b['shown_low']} to "
            f"{b['shown_high']}); worst at {w['plan']}, {w['shown']} ({w['shown_low']} to "
            f"{w['shown_high']})."
        )
        if diffs is not None and best != reference:
            # picked as the best of every design: its interval is widened for the pick
            row = paired_differences(results, reference, [best], list(KPIS),
                                     picked_of=results.n_points)  # fmt: skip
            own = {r["kpi"]: r for r in row.to_dict(orient="records")}
            if name in own:
                r = own[name]
                said = verdict(name, r, ref_label, labels[best], own).split(": ", 1)[1]
                text += f" On the same random draws it is {said}"
                numbers.append({"plan": labels[best], "reference": ref_label, "kpi": name,
                                **{k: r[k] for k in PAIRED_KEYS}})  # fmt: skip
        items.append({"text": text, "points": [], "numbers": numbers})
    lead = f"{results.n_points} designs x {results.replications} replications."
    if today is not None:
        good, bad = best_at.get(today, []), worst_at.get(today, [])
        lead += f" The starting set-up, {labels[today]}, is "
        lead += " and ".join(
            x
            for x in (
                f"the best design for {join_words(good)}" if good else "",
                f"the worst for {join_words(bad)}" if bad else "",
            )
            if x
        ) or ("neither the best nor the worst design on any headline KPI")
        lead += "."
    if len({p for p in best_at}) > 1:
        lead += " No single design is best on every KPI: the choice is a trade-off."
    return [{"text": lead, "points": [], "numbers": []}, *items]


def _level(results: Results, point: int, name: str, labels: dict[int, str]) -> dict[str, Any]:
    row = results.by_point.loc[point]
    kpi = KPIS[name]
    mean, lo, hi = (float(row[f"{name}_{s}"]) for s in ("mean", "ci_low", "ci_high"))
    return {
        "plan": labels[point],
        "kpi": name,
        "mean": mean,
        "ci_low": lo,
        "ci_high": hi,
        "shown": format_kpi_value(kpi, mean),
        "shown_low": format_kpi_value(kpi, lo, unit=False),
        "shown_high": format_kpi_value(kpi, hi, unit=False),
    }


# --------------------------------------------------------------------------------------------
# Assumptions, plan changes and provenance
# --------------------------------------------------------------------------------------------


def _plan_changes(
    results: Results, reference: int, featured: list[int], labels: dict[int, str]
) -> list[dict[str, Any]]:
    """What each shown plan sets differently from the reference plan, with the source."""
    meta = {r["key"]: r for r in lever_table()}
    base = Scenario.model_validate(results.scenario_config(reference))
    out = []
    for p in featured:
        if p == reference:
            continue
        s = Scenario.model_validate(results.scenario_config(p))
        changes = [
            {
                "key": k,
                "name": meta[k]["name"],
                "from": format_value(get_dotted(base, k)),
                "to": format_value(get_dotted(s, k)),
                "unit": _unit(meta[k]["unit"], results.currency),
                "source": meta[k]["source"],
            }
            for k in meta
            if get_dotted(s, k) != get_dotted(base, k)
        ]
        steps = [f"day {d}: {t}" for d, t in results.rollouts(p)]
        out.append({"plan": labels[p], "changes": changes, "rollout": steps})
    return out


def _assumptions(results: Results, reference: int) -> list[dict[str, Any]]:
    """Every lever's value in the reference plan, with unit, meaning and source; key ones first."""
    s = Scenario.model_validate(results.scenario_config(reference))
    rows = []
    for r in lever_table():
        rows.append(
            {
                "key": r["key"],
                "name": r["name"],
                "value": format_value(get_dotted(s, r["key"])),
                "unit": _unit(r["unit"], results.currency),
                "meaning": r["meaning"],
                "source": r["source"],
                "key_assumption": r["key"] in KEY_ASSUMPTIONS,
            }
        )
    rows.sort(
        key=lambda r: (
            not r["key_assumption"],
            KEY_ASSUMPTIONS.index(r["key"]) if r["key_assumption"] else 0,
        )
    )
    return rows


def _unit(unit: str, code: str) -> str:
    """A unit as a table shows it: money in the results' currency ("EUR/year")."""
    return unit.replace("currency", code)


def _lineup(results: Results, reference: int, featured: list[int],
            labels: dict[int, str]) -> list[dict[str, str]]:  # fmt: skip
    """The plans a board reads about, reference first, each with its scenario's description
    (left blank when it only repeats the reference's, as a file that extends another does)."""
    ref_text = str(results.scenario_config(reference).get("description", "")).strip()
    out = []
    shown = [reference] if results.kind == "sweep" else featured
    for p in [reference, *(p for p in shown if p != reference)]:
        text = str(results.scenario_config(p).get("description", "")).strip()
        if results.kind == "sweep" or (p != reference and text == ref_text):
            text = ""
        out.append({"label": labels[p], "description": text})
    return out


def _provenance(results: Results, labels: dict[int, str]) -> dict[str, Any]:
    m = results.manifest
    code = m.get("code", {})
    plans = "; ".join(
        f"{labels[p]}: {results.labels[p]}" for p in range(min(results.n_points, MAX_PLANS))
    )
    return {
        "results folder": results.path.name,
        "kind": results.kind,
        "plans (label: name)": plans
        + (f"; ... {results.n_points} in all" if results.n_points > MAX_PLANS else ""),
        "created (UTC)": m.get("created_utc", ""),
        "command": _portable(m.get("command") or []) or "(from Python)",
        "design points": results.n_points,
        "replications per point": results.replications,
        "runs": len(results.runs),
        "root seed": results.seed,
        "common random numbers": m["seeds"].get("common_random_numbers", True),
        "seed rule": m["seeds"].get("rule", ""),
        "config hash": m.get("config_hash", ""),
        "code version": code.get("version", ""),
        "git commit": code.get("git_commit") or "(not a git checkout)",
        "simulation source hash": code.get("source_hash", ""),
        "packages": ", ".join(f"{k} {v}" for k, v in m.get("packages", {}).items()),
    }


def _portable(command: Sequence[str]) -> str:
    """The recorded command with each path in it cut to its file name: a pack leaves this
    machine, and its folder names should not (a URL such as a scheduler address stays)."""
    args = []
    for arg in command:
        prefix = arg[: arg.index("=") + 1] if arg.startswith("-") and "=" in arg else ""
        value = arg[len(prefix) :]
        if "/" in value and "://" not in value:
            value = Path(value).name or value
        args.append(prefix + value)
    return shlex.join(args)


METHOD = [
    "Each plan was simulated for a working year after a warm-up, many times over "
    "(replications). Replication r of every plan meets the same customers, deal sizes and "
    "message traffic (common random numbers), so differences come from the plan, not from luck.",
    "A difference is the average of the per-replication differences; its 95% interval is the "
    "range that contains the true difference with 95% confidence (Student-t).",
    "'Almost certainly', 'very likely' and 'probably' mean at least 99%, 95% and 80% chance that "
    "the change is in the stated direction; below 80% either way the report says 'no clear "
    "difference'.",
    "Net value is the gross margin on one year of the customers activated, less bonuses and the "
    "payroll of the people modelled, per year; a customer lost at handover counts once, through "
    "the margin they never bring. Productivity loss is the share of paid hours lost to "
    "interruptions, searching, rework and coordination, or not worked while work was there "
    "(slack). Churn at handover is the share of won customers lost before activation. "
    "Throughput is customers activated per month. Cost of friction prices the hours lost to "
    "friction and the customers lost at handover, per year, but not the sales a plan does not "
    "make.",
    "The model is a simplification: most behavioural parameters are assumptions (see the "
    "assumptions page), so read the direction and rough size of effects, not the decimals.",
]


# --------------------------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------------------------


def parse_formats(text: str | Sequence[str] | None) -> list[str]:
    """``"html,pptx"`` -> ``["html", "pptx"]``; ``None`` means every format.

    Raises:
        ResultsError: an unknown format (named, with the valid ones).
    """
    if text is None:
        return list(FORMATS)
    items = text.split(",") if isinstance(text, str) else list(text)
    items = [x.strip().lower() for x in items if x.strip()]
    bad = [x for x in items if x not in FORMATS]
    if bad or not items:
        raise ResultsError(
            f"--format: unknown format(s) {', '.join(bad) or '(none given)'}; choose from "
            f"{', '.join(FORMATS)} (comma-separated)"
        )
    return list(dict.fromkeys(items))


#: friction's own record of the pack it wrote in a folder: each file with its SHA-256.
MARKER = ".friction-report.json"
#: Every chart a pack can hold, by key; a bonus-mix map may add a facet.
CHART_KEYS = "kpi_comparison|time_series|frontier|value_stream|payouts|tornado"
MAP_KEYS = rf"simplex_(?:{'|'.join(MAP_KPIS)})(?:_\w+)?"  # e.g. simplex_throughput_silo
#: The only names a pack has: a record naming anything else is not friction's to delete.
PACK_FILE = re.compile(
    rf"report\.(?:html|pptx|json)|charts/(?:{CHART_KEYS}|{MAP_KEYS})\.(?:png|svg)"
)
#: Where a pack is written before it is moved into place (``<prefix><random>``, inside ``out``).
STAGING_PREFIX = ".friction-report.tmp-"
#: The record that counts while files are being moved into place: old and new versions.
SWAP_MARKER = ".friction-report.swap.json"


def write(report: Report, out: Path, formats: Sequence[str] = FORMATS) -> list[Path]:
    """Write the pack into ``out``; returns every file written (``report.json`` lists them).

    The whole pack is rendered in memory first, so a build that fails writes nothing. Then
    every file is written into a fresh folder inside ``out`` and moved into place only once
    all are written (a rename needs no space), so a full disk leaves ``out`` as it was.
    friction overwrites or deletes only files it can prove it wrote: :data:`MARKER` lists each
    with its SHA-256, a listed file whose content changed since is the user's, and only the
    names a pack has count. A rebuild deletes the files of the previous pack it no longer
    writes (stale charts), nothing else.

    Raises:
        ResultsError: a file of the pack is in ``out`` and friction did not write it, or it
            was changed since (nothing is written then).
    """
    files = render(report, out, formats)
    owned = _owned(out)
    for name in files:
        path = out / name
        if (path.exists() or path.is_symlink()) and name not in owned:
            raise ResultsError(
                f"{path} is not a file friction report wrote (or it was changed since) "
                "and friction overwrites only its own files; choose another output folder, or "
                "move that file away"
            )
    new = {name: _sha256(data) for name, data in files.items()}
    stale = [name for name in owned if name not in files]
    made = _missing_folders(out, files)
    staging = None
    try:
        for folder in made:
            folder.mkdir()
        staging = Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=out))
        _stage(staging, files, new, owned, stale)
        # while files are replaced, either version of each counts as friction's (a crash
        # between two renames leaves a folder the next build can still clean up)
        os.replace(staging / SWAP_MARKER, out / MARKER)
    except BaseException:
        if staging is not None:
            shutil.rmtree(staging, ignore_errors=True)
        _remove_folders(made)
        raise
    try:
        for name in files:
            os.replace(staging / name, out / name)
        for name in stale:
            (out / name).unlink(missing_ok=True)
        os.replace(staging / MARKER, out / MARKER)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return [out / name for name in files]


def _stage(staging: Path, files: dict[str, bytes], new: dict[str, str],
           owned: dict[str, str], stale: list[str]) -> None:  # fmt: skip
    """Write the pack and both records (during and after the swap) into ``staging``."""
    for name, data in files.items():
        _write_atomic(staging / name, data)
    during = {**{n: owned[n] for n in stale}, **new}
    write_json(staging / SWAP_MARKER, _marker(during, {n: owned[n] for n in owned if n in files}))
    write_json(staging / MARKER, _marker(new))


def _missing_folders(out: Path, files: dict[str, bytes]) -> list[Path]:
    """Folders the pack needs that do not exist yet (``out``, ``out/charts``), outermost first."""
    needed = {out, *((out / name).parent for name in files)}
    missing = set()
    for folder in needed:
        if folder.exists() and not folder.is_dir():
            raise NotADirectoryError(errno.ENOTDIR, os.strerror(errno.ENOTDIR), str(folder))
        missing.update(p for p in (folder, *folder.parents) if not p.exists())
    return sorted(missing, key=lambda p: len(p.parts))


def _remove_folders(made: list[Path]) -> None:
    """Remove the folders this build made (innermost first), if nothing else is in them."""
    for folder in reversed(made):
        with contextlib.suppress(OSError):
            folder.rmdir()


def render(report: Report, out: Path, formats: Sequence[str] = FORMATS) -> dict[str, bytes]:
    """Every file of the pack, by its path inside ``out``, with ``report.json`` last."""
    files: dict[str, bytes] = {}
    # each chart is rasterised once, for its PNG file and the HTML page alike
    pngs = {c.key: _png(c) for c in report.charts} if {"png", "html"} & set(formats) else {}
    if "png" in formats:
        files.update({f"charts/{key}.png": data for key, data in pngs.items()})
    if "svg" in formats:
        files.update({f"charts/{c.key}.svg": charts.figure_bytes(c, "svg") for c in report.charts})
    if "html" in formats:
        files["report.html"] = render_html(report, pngs).encode("utf-8")
    if "pptx" in formats:
        files["report.pptx"] = render_pptx(report)
    index = {
        "title": report.title,
        # where the results are from the report: the pack names no folder of this machine
        "results": os.path.relpath(report.results.path.resolve(), out.resolve()),
        "created_utc": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "formats": list(formats),
        "charts": [{"key": c.key, "title": c.title, "caption": c.caption} for c in report.charts],
        "omitted": [{"what": w, "why": y} for w, y in report.omitted],
        "bottom_line": report.bottom_line,
        "guardrails": report.guardrails,
        "summary": report.summary,
        "provenance": report.provenance,
        "files": list(files),
    }
    files["report.json"] = json.dumps(json_ready(index), indent=2).encode("utf-8")
    return files


def _marker(files: dict[str, str], previous: dict[str, str] | None = None) -> dict[str, Any]:
    marker: dict[str, Any] = {"written_by": "friction report", "files": files}
    if previous:
        marker["previous"] = previous
    return marker


def _owned(out: Path) -> dict[str, str]:
    """The files in ``out`` friction can prove it wrote, with their SHA-256: listed in
    :data:`MARKER` (never ``report.json``, which any tool may write) with the content they still
    have, named as a pack's files are (:data:`PACK_FILE`), regular files inside ``out``."""
    try:
        marker = json.loads((out / MARKER).read_text(encoding="utf-8"))
        listed = [marker.get("files", {}), marker.get("previous", {})]
        accepted = {(str(n), str(h)) for entries in listed for n, h in entries.items()}
    except (OSError, ValueError, AttributeError):  # none, unreadable or not friction's shape
        return {}
    root = out.resolve()
    owned = {}
    for name, digest in accepted:
        path = out / name
        if (
            not PACK_FILE.fullmatch(name)
            or Path(name).is_absolute()
            or ".." in Path(name).parts
            or path.is_symlink()
            or not path.is_file()
            or not path.resolve().is_relative_to(root)
        ):
            continue
        current = _sha256(path.read_bytes())
        if current == digest:
            owned[name] = current
    return owned


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _write_atomic(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, data)
    return path


def _png(chart: charts.Chart, headline: bool = True) -> bytes:
    """The chart as PNG bytes; without its headline for a slide (the slide title says it)."""
    buf = io.BytesIO()
    sup = chart.figure._suptitle
    if sup is not None and not headline:
        sup.set_visible(False)
    try:
        chart.figure.savefig(
            buf,
            format="png",
            dpi=charts.DPI,
            facecolor="white",
            bbox_inches=None if headline else "tight",
            pad_inches=0.15,
        )
    finally:
        if sup is not None:
            sup.set_visible(True)
    return buf.getvalue()


# ---- HTML -------------------------------------------------------------------------------------

CSS = """
body{font-family:'DejaVu Sans',Segoe UI,Helvetica,Arial,sans-serif;color:#222;max-width:1100px;
margin:2em auto;padding:0 1.2em;line-height:1.5}
h1{font-size:2em;margin-bottom:.2em}h2{margin-top:2em;border-bottom:2px solid #0072B2;
padding-bottom:.2em}.sub{color:#555}figure{margin:1.5em 0}figure img{width:100%;
border:1px solid #ddd}figcaption{color:#555;font-size:.95em}table{border-collapse:collapse;
width:100%;font-size:.92em}th,td{border-bottom:1px solid #ddd;padding:.35em .5em;
text-align:left;vertical-align:top}th{background:#f3f6f9}li{margin:.3em 0}
.finding{font-weight:bold}code{background:#f3f3f3;padding:0 .2em}details{margin:1em 0}
"""


def render_html(report: Report, pngs: dict[str, bytes] | None = None) -> str:
    """A single self-contained HTML file: styles inline, charts embedded as PNG data
    (``pngs`` by chart key, when already rendered)."""
    pngs = pngs or {}
    e = _escape
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{e(report.title)}</title><style>{CSS}</style></head><body>",
        f"<h1>{e(report.title)}</h1>",
        f'<p class="sub">{e(report.subtitle)}</p>',
        *_html_lineup(report),
        f'<p class="sub">{e(board_glossary(report))}</p>',
        "<h2>Executive summary</h2><ul>",
    ]
    for item in report.summary:
        parts.append(f'<li><span class="finding">{e(item["text"])}</span>')
        if item["points"]:
            parts.append("<ul>" + "".join(f"<li>{e(p)}</li>" for p in item["points"]) + "</ul>")
        parts.append("</li>")
    parts.append("</ul>")
    for chart in report.charts:
        png = pngs[chart.key] if chart.key in pngs else _png(chart)
        data = base64.b64encode(png).decode("ascii")
        parts += [
            f"<h2>{e(chart.title)}</h2>",
            f'<figure><img alt="{e(chart.title)}" src="data:image/png;base64,{data}">',
            f"<figcaption>{e(chart.caption)}</figcaption></figure>",
        ]
    parts += [f'<h2 id="appendix">{e(APPENDIX)}</h2>', f"<p>{e(APPENDIX_NOTE)}</p>",
              "<h2>Not in this report</h2>"]  # fmt: skip
    if report.omitted:
        parts.append(
            "<ul>"
            + "".join(f"<li><b>{e(w)}</b>: {e(y)}.</li>" for w, y in report.omitted)
            + "</ul>"
        )
    else:
        parts.append("<p>Nothing: the results hold what every chart needs.</p>")
    parts.append("<h2>What each plan changes</h2>")
    for plan in report.plans:
        parts.append(f"<h3>{e(plan['plan'])}</h3>")
        if plan["changes"]:
            parts.append(
                _html_table(
                    ["setting", "key", "from", "to", "unit", "source"],
                    [
                        [c["name"], c["key"], c["from"], c["to"], c["unit"], c["source"]]
                        for c in plan["changes"]
                    ],
                )
            )
        if plan["rollout"]:
            parts.append("<p>Roll-out: " + e("; ".join(plan["rollout"])) + ".</p>")
    key = [a for a in report.assumptions if a["key_assumption"]]
    rest = [a for a in report.assumptions if not a["key_assumption"]]
    parts += [
        "<h2>Assumptions</h2>",
        f"<p>Key assumptions of the reference plan. {_assumption_note(report)}</p>",
        _html_table(
            ["assumption", "value", "unit", "meaning", "source"],
            [[a["name"], a["value"], a["unit"], a["meaning"], a["source"]] for a in key],
        ),
        f"<details><summary>All {len(report.assumptions)} parameters</summary>",
        _html_table(
            ["parameter", "key", "value", "unit", "meaning", "source"],
            [[a["name"], a["key"], a["value"], a["unit"], a["meaning"], a["source"]] for a in rest],
        ),
        "</details>",
        "<h2>Method and provenance</h2><ul>",
        *[f"<li>{e(m)}</li>" for m in METHOD],
        "</ul>",
        _html_table(["", ""], [[k, str(v)] for k, v in report.provenance.items()]),
        "</body></html>",
    ]
    return "\n".join(parts)


#: Where the board-facing part of a pack ends: the HTML heading and the deck's divider slide.
APPENDIX = "Appendix"
APPENDIX_NOTE = (
    "For the analyst: what the report leaves out and why, what each plan changes setting by "
    "setting, every assumption with its source, the method, and how to reproduce the numbers."
)


def _html_lineup(report: Report) -> list[str]:
    e = _escape
    if not any(x["description"] for x in report.lineup):
        return []
    items = "".join(
        f"<li><b>{e(x['label'])}</b>{': ' + e(x['description']) if x['description'] else ''}</li>"
        for x in report.lineup
    )
    return [f"<p>The plans, the first one the reference:</p><ul>{items}</ul>"]


def board_texts(report: Report) -> list[str]:
    """Every text of the board-facing part of a pack: title, subtitle, the plans, the summary
    and each chart's headline, caption and drawn text."""
    texts = [report.title, report.subtitle, report.bottom_line]
    texts += [f"{x['label']} {x['description']}" for x in report.lineup]
    for item in report.summary:
        texts += [item["text"], *item["points"]]
    for chart in report.charts:
        texts += [chart.title, chart.caption]
        texts += [t.get_text() for t in chart.figure.findobj(matplotlib.text.Text)]
    return texts


def board_glossary(report: Report) -> str:
    """The abbreviations the board-facing part uses, spelled out, with the currency."""
    return glossary(board_texts(report), report.results.currency)


def _assumption_note(report: Report) -> str:
    n = sum(1 for a in report.assumptions if a["source"].startswith("assumption"))
    return (
        f"{n} of the {len(report.assumptions)} parameters are modelling assumptions without data "
        "behind them; docs/ASSUMPTIONS.md lists every one with its source, and "
        "scenarios/sweeps/behaviour_uncertainty.yaml tests how much the results depend on them."
    )


def _escape(text: str) -> str:
    """Text for an HTML page: markup in a plan name shows as typed, control characters as
    ``\\xNN`` (a page holding them is not valid HTML)."""
    return html.escape(escape_controls(text, keep=LAYOUT))


def _html_table(head: list[str], rows: list[list[str]]) -> str:
    e = _escape
    h = "".join(f"<th>{e(x)}</th>" for x in head)
    body = "".join("<tr>" + "".join(f"<td>{e(str(c))}</td>" for c in r) + "</tr>" for r in rows)
    return f"<table><thead><tr>{h}</tr></thead><tbody>{body}</tbody></table>"


# ---- PowerPoint -------------------------------------------------------------------------------


def render_pptx(report: Report) -> bytes:
    """A 16:9 deck: title, executive summary, one chart per slide titled with its finding,
    what was left out, what each plan changes, key assumptions, method and provenance."""
    from pptx import Presentation
    from pptx.util import Emu

    prs = Presentation()
    prs.slide_width, prs.slide_height = Emu(12192000), Emu(6858000)  # 16:9, 13.33 x 7.5 in
    _title_slide(prs, report)
    _lineup_slide(prs, report)
    _summary_slides(prs, report)
    for chart in report.charts:
        _chart_slide(prs, chart)
    _bullets(_slide(prs, f"{APPENDIX}: for the analyst"), [(APPENDIX_NOTE, 0, False)], size=20)
    _omitted_slide(prs, report)
    _plan_slides(prs, report)
    _assumption_slide(prs, report)
    _bullets(_slide(prs, "Method"), [(m, 0, False) for m in METHOD], top=1.4, size=16)
    _provenance_slide(prs, report)
    buf = io.BytesIO()
    prs.save(buf)
    return buf.getvalue()


Bullet = tuple[str, int, bool]  # (text, indent level, bold)


def _blank(prs: Any) -> Any:
    """A new slide on the blank layout: every box on it is placed by hand."""
    return prs.slides.add_slide(prs.slide_layouts[6])


def _slide(prs: Any, title: str, size: int = 26) -> Any:
    """A new slide with ``title`` across the top."""
    from pptx.util import Inches

    s = _blank(prs)
    box = s.shapes.add_textbox(Inches(0.5), Inches(0.3), Inches(12.3), Inches(1.1))
    tf = box.text_frame
    tf.word_wrap = True
    _put(tf.paragraphs[0], title, size, bold=True)
    return s


def _bullets(s: Any, items: list[Bullet], top: float = 1.5, size: int = 18) -> None:
    """A bulleted list below the title; each indent level is 3 pt smaller."""
    from pptx.util import Inches, Pt

    box = s.shapes.add_textbox(Inches(0.6), Inches(top), Inches(12.1), Inches(7.5 - top - 0.4))
    tf = box.text_frame
    tf.word_wrap = True
    for i, (text, level, bold) in enumerate(items):
        p = tf.paragraphs[0] if i == 0 else tf.add_paragraph()
        _put(p, ("\u2022 " if level == 0 else "\u2013 ") + text, size - 3 * level, bold)
        p.level = level
        p.space_after = Pt(6)


def _title_slide(prs: Any, report: Report) -> None:
    from pptx.util import Inches

    s = _blank(prs)
    box = s.shapes.add_textbox(Inches(0.8), Inches(1.2), Inches(11.7), Inches(5.6))
    tf = box.text_frame
    tf.word_wrap = True
    size = 40 if len(report.title) <= 60 else 32 if len(report.title) <= 120 else 26
    _put(tf.paragraphs[0], report.title, size, bold=True)
    if report.bottom_line:
        _put(tf.add_paragraph(), report.bottom_line, 20, bold=True)
    flag = guardrail_flag(report.guardrails)
    if flag:  # a title slide shown alone must not let its number be taken at face value
        _put(tf.add_paragraph(), flag, 18, bold=True, colour=charts.WORSE)
    plans = [x["label"] for x in report.lineup]
    if plans:
        line = f"Plans: {plans[0]} (the reference)"
        line += f", {join_words(plans[1:])}" if len(plans) > 1 else ""
        _put(tf.add_paragraph(), line, 20)
    _put(tf.add_paragraph(), report.subtitle, 16, colour=GREY)
    _put(tf.add_paragraph(), board_glossary(report), 14, colour=GREY)


def _lineup_slide(prs: Any, report: Report) -> None:
    """The plans with their descriptions, when the scenarios have any."""
    if not any(x["description"] for x in report.lineup):
        return
    items = [
        (f"{x['label']}: {x['description']}" if x["description"] else x["label"], 0, False)
        for x in report.lineup
    ]
    _bullets(_slide(prs, "The plans, the first one the reference"), items, size=SUMMARY_PT)


def _summary_pages(summary: list[dict[str, Any]]) -> list[list[Bullet]]:
    """The executive summary cut into slides' worth, so the text stays projector-sized; a
    finding and its points stay on one slide."""
    pages: list[list[Bullet]] = [[]]
    used = 0.0
    for item in summary:
        block = [(item["text"], 0, True)] + [(p, 1, False) for p in item["points"]]
        height = sum(_text_height(t, SUMMARY_PT - 3 * lvl) for t, lvl, _ in block)
        if pages[-1] and used + height > BODY_HEIGHT_PT:
            pages.append([])
            used = 0.0
        pages[-1] += block
        used += height
    return pages


def _summary_slides(prs: Any, report: Report) -> None:
    pages = _summary_pages(report.summary)
    for i, page in enumerate(pages):
        title = "Executive summary" + (f" ({i + 1} of {len(pages)})" if len(pages) > 1 else "")
        _bullets(_slide(prs, title), page, size=SUMMARY_PT)


def _chart_slide(prs: Any, chart: charts.Chart) -> None:
    """One chart titled with its finding; the caption takes the lines it needs at the foot and
    the chart fills the rest."""
    from pptx.util import Inches

    s = _slide(prs, chart.title, size=22 if len(chart.title) <= 170 else 19)
    caption_in = _text_height(chart.caption, CAPTION_PT, width_in=12.3) / 72 + 0.1
    room = 7.5 - 1.45 - caption_in - 0.1
    image = io.BytesIO(_png(chart, headline=False))
    pic = s.shapes.add_picture(image, Inches(0.4), Inches(1.45), height=Inches(room))
    if pic.width > Inches(12.5):  # keep within the slide, preserving the aspect ratio
        ratio = Inches(12.5) / pic.width
        pic.width, pic.height = int(pic.width * ratio), int(pic.height * ratio)
    pic.left = int((prs.slide_width - pic.width) / 2)
    cap = s.shapes.add_textbox(
        Inches(0.5), Inches(7.5 - caption_in - 0.05), Inches(12.3), Inches(caption_in)
    )
    cap.text_frame.word_wrap = True
    _put(cap.text_frame.paragraphs[0], chart.caption, CAPTION_PT, colour=GREY)


def _omitted_slide(prs: Any, report: Report) -> None:
    items = [(f"{w}: {y}.", 0, False) for w, y in report.omitted] or [
        ("Nothing: the results hold what every chart needs.", 0, False)
    ]
    _bullets(_slide(prs, "Not in this report, and why"), items, size=16)


def _plan_slides(prs: Any, report: Report) -> None:
    """What each plan changes (at most eight changes a plan, twelve lines a slide)."""
    if not report.plans:
        return
    items: list[Bullet] = []
    for plan in report.plans:
        items.append((plan["plan"], 0, True))
        items += [
            (f"{c['name']} ({c['key']}): {c['from']} \u2192 {c['to']} (source: {c['source']})",
             1, False)
            for c in plan["changes"][:8]
        ]  # fmt: skip
        if len(plan["changes"]) > 8:
            items.append(
                (f"... and {len(plan['changes']) - 8} more (see the HTML report)", 1, False)
            )
        if plan["rollout"]:
            items.append(("Roll-out: " + "; ".join(plan["rollout"]), 1, False))
    for i in range(0, len(items), 12):
        _bullets(_slide(prs, "What each plan changes"), items[i : i + 12], size=16)


def _assumption_slide(prs: Any, report: Report) -> None:
    """The key assumptions as a table, under a note on where the rest are."""
    from pptx.util import Inches, Pt

    s = _slide(prs, "Key assumptions and their sources")
    note = s.shapes.add_textbox(Inches(0.5), Inches(0.95), Inches(12.3), Inches(0.5))
    note.text_frame.word_wrap = True
    _put(note.text_frame.paragraphs[0], _assumption_note(report), 12)
    key = [a for a in report.assumptions if a["key_assumption"]]
    rows, cols = len(key) + 1, 4
    # row heights grow with wrapped text when the deck is opened; 10.5 pt keeps 18 rows,
    # a few of them on two lines, on the slide
    shape = s.shapes.add_table(rows, cols, Inches(0.5), Inches(1.55), Inches(12.3),
                               Inches(0.25 * rows))  # fmt: skip
    table = shape.table
    for j, w in enumerate((5.9, 1.5, 1.9, 3.0)):
        table.columns[j].width = Inches(w)
    for i in range(rows):
        table.rows[i].height = Inches(0.25)
    body = [("assumption", "value", "unit", "source")] + [
        (a["name"], a["value"], a["unit"], a["source"]) for a in key
    ]
    for i, row in enumerate(body):
        for j, text in enumerate(row):
            cell = table.cell(i, j)
            cell.margin_top = cell.margin_bottom = Pt(2)
            _put(cell.text_frame.paragraphs[0], str(text), 10.5, bold=i == 0,
                 colour="#FFFFFF" if i == 0 else charts.INK)  # fmt: skip


def _provenance_slide(prs: Any, report: Report) -> None:
    s = _slide(prs, "Provenance: how to reproduce these numbers")
    keys = ("results folder", "command", "plans (label: name)", "design points",
            "replications per point",
            "root seed", "seed rule", "config hash", "code version", "git commit",
            "simulation source hash", "packages")  # fmt: skip
    _bullets(s, [(f"{k}: {report.provenance[k]}", 0, False) for k in keys], top=1.4, size=13)


CAPTION_PT = 11  # chart captions: the explanation, not the message
SUMMARY_PT = 17  # executive-summary text size: the smallest a back row reads comfortably
BODY_HEIGHT_PT = 5.4 * 72  # room for text below a slide title
BODY_WIDTH_PT = 12.1 * 72


def _text_height(text: str, size: float, width_in: float = BODY_WIDTH_PT / 72) -> float:
    """Points a paragraph takes in a text box ``width_in`` wide: lines from an average glyph
    width of half an em, 1.2 line spacing and 6 pt after (python-pptx cannot measure text)."""
    per_line = width_in * 72 / (size * 0.5)
    return math.ceil(len(text) / per_line) * size * 1.2 + 6


GREY = "#555555"


def _put(paragraph: Any, text: str, size: float, bold: bool = False,
         colour: str = charts.INK) -> None:  # fmt: skip
    """Set a paragraph's text and style its run (PowerPoint applies run properties; a
    paragraph's default run properties are not honoured everywhere)."""
    from pptx.util import Pt

    # python-pptx would write a bell as "_x0007_"
    paragraph.text = escape_controls(text, keep=LAYOUT)
    for run in paragraph.runs:
        run.font.size = Pt(size)
        run.font.bold = bold
        run.font.color.rgb = _rgb(colour)


def _rgb(hex_colour: str) -> Any:
    from pptx.dml.color import RGBColor

    return RGBColor.from_string(hex_colour.lstrip("#"))


# --------------------------------------------------------------------------------------------
# Public entry point
# --------------------------------------------------------------------------------------------


def build_report(
    results: str | Path, out: str | Path | None = None, formats: str | Sequence[str] | None = None
) -> list[Path]:
    """Build the board pack of a results folder into ``out`` (default ``<results>/report``).

    Returns:
        The files written; ``report.json`` (always written) lists them with each chart's
        headline, what was left out and why, and the summary's numbers.
    """
    chosen = parse_formats(formats)
    report = build(results)
    folder = Path(out) if out else Path(results) / "report"
    return write(report, folder, chosen)
