"""Which single change first? Each lever of the playbook applied alone, ranked with intervals.

The playbook advises changing one system at a time. ``friction diagnose SCENARIO`` starts from a
scenario ("current"), applies each of the six playbook levers alone on top of it, runs all of
them on the same replication seeds (common random numbers: replication ``i`` of every variant
faces the same customers) and ranks the levers by their paired difference from "current" on
every KPI, with 95% intervals and the chance each one is better.

How sure the model is about the favoured lever is said three ways:

* the chance that it is better than the current set-up at all (paired difference with
  "current", see :func:`simulation.compare.paired_difference`);
* the paired difference between it and the runner-up on the ranking KPI, and the chance it is
  the better of the two (same seeds, so replications pair one to one);
* how many replications it came out best in, among all levers.

The results folder is an ordinary compare folder (labels ``current`` and the lever keys), so
``friction report`` reads it; the diagnosis is saved next to it as ``diagnosis.json``.

Functions that rank and phrase (:func:`rank_levers`, :func:`count_wins`, :func:`head_to_head`,
:func:`summarise_diagnosis`, :func:`verdict_text`, :func:`render_diagnosis`) are pure.
"""

from __future__ import annotations

import argparse
import difflib
import math
import sys
import textwrap
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from simulation.compare import certainty, format_kpi_value, paired_difference, table_unit
from simulation.config import Scenario, get_dotted, same_value, with_changes
from simulation.design import Design, compare_design, slug
from simulation.loader import ScenarioError, load_scenario
from simulation.metrics import KPI, KPIS, MISSION
from simulation.tables import WIDTH, as_float, format_percent, format_table, format_value

if TYPE_CHECKING:
    import pandas as pd

    from simulation.execute import RunSummary

__all__ = [
    "CURRENT",
    "DEFAULT_RANK",
    "LEVERS",
    "MISSION",
    "DiagnoseError",
    "Lever",
    "Plan",
    "add_parser",
    "check_rank_by",
    "cmd_diagnose",
    "count_wins",
    "diagnose",
    "effects_frame",
    "finish_diagnosis",
    "head_to_head",
    "in_place",
    "intervention_notes",
    "plan_diagnosis",
    "rank_levers",
    "render_diagnosis",
    "rollout_day",
    "summarise_diagnosis",
    "verdict_text",
]

CURRENT = "current"  # label of the starting scenario in the results folder
DEFAULT_RANK = "cost_of_friction"  # lost hours at loaded cost plus customers lost at handover
TRADE_OFF = 0.2  # the favoured lever "clearly" worsens a mission KPI when P(better) < this
#: KPIs whose clear worsening the verdict names: the brief's three, and the revenue that cost of
#: friction leaves out (a lever can cut friction by selling less).
TRADE_OFF_KPIS = (*MISSION, "revenue")
MAX_SUGGESTED_REPS = 1000  # beyond this, a gap is too small to matter or to measure


# --------------------------------------------------------------------------------------------
# The levers of the playbook (one place; tests check them against the bundled scenario files)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Lever:
    """One system of the playbook: dotted changes that switch it on from day 0."""

    key: str
    label: str  # plain name, in tables and charts
    noun: str  # as it reads inside a sentence ("the handover gate")
    action: str  # the imperative that starts the verdict ("Introduce the ... gate")
    changes: dict[str, Any] = field(hash=False)
    source: str = ""  # the bundled single-lever scenario file with the same changes


LEVERS: tuple[Lever, ...] = (
    Lever(
        "blended_bonus",
        "Blended bonus 40/30/20/10",
        "the blended bonus",
        "Move the bonus to 40/30/20/10 (individual/team/company/silo-buster)",
        {
            "incentives.weights.individual": 0.4,
            "incentives.weights.team": 0.3,
            "incentives.weights.company": 0.2,
            "incentives.weights.silo_buster": 0.1,
        },
        "blended_40_30_20_10.yaml",
    ),
    Lever(
        "squads",
        "Cross-functional squads of 8",
        "cross-functional squads",
        "Reorganise into cross-functional squads of 8",
        {"structure.kind": "squad", "structure.team_size": 8},
        "squads.yaml",
    ),
    Lever(
        "handover_gate",
        "Minimum Viable Handoff gate",
        "the handover gate",
        "Introduce the Minimum Viable Handoff gate",
        {
            "handover.mvh": True,
            "handover.mvh_threshold": 0.7,
            "handover.compliance": 0.9,
            "handover.red_flag": True,
            "handover.auto_trigger": True,
        },
        "mvh.yaml",
    ),
    Lever(
        "channel_strategy",
        "Channel strategy with SLAs",
        "the channel strategy",
        "Adopt the channel strategy with SLAs",
        {
            "comms.strategy": "channel_sla",
            "comms.sla_answer_days": 1.0,
            "info.decision_archive": True,
        },
        "channel_sla.yaml",
    ),
    Lever(
        "translation",
        "Translation champions and glossary",
        "translation champions and the glossary",
        "Appoint translation champions and share a glossary",
        {"info.glossary": True, "info.eli5": True, "info.translation_champions": 4},
        "translation.yaml",
    ),
    Lever(
        "micro_coaching",
        "Micro-coaching",
        "micro-coaching",
        "Start micro-coaching",
        {"coaching.program": "micro_4wk", "coaching.start_day": 0, "coaching.postmortems": True},
        "micro_coaching.yaml",
    ),
)
LEVER_BY_KEY: dict[str, Lever] = {lever.key: lever for lever in LEVERS}
DEFAULTS = Scenario()  # schema defaults, to tell a deliberate setting from an untouched one

#: How a KPI reads inside a sentence, where its label alone does not.
_PHRASES = {
    "cost_of_friction": "the cost of friction",
    "lead_time_days": "lead time",
    "decision_latency_days": "decision latency",
    "revenue": "activated revenue",
    "bonus_cost": "the bonus cost",
}


class DiagnoseError(ScenarioError):
    """A user error in diagnose options (exit 2)."""


def check_rank_by(name: str, where: str = "rank_by") -> str:
    """The KPI to rank by, or an error naming the valid ones."""
    if name in KPIS:
        return name
    close = difflib.get_close_matches(name, list(KPIS), n=1)
    hint = f"did you mean {close[0]}? " if close else ""
    raise DiagnoseError(f"{where}: '{name}' is not a KPI; {hint}choose one of {', '.join(KPIS)}")


def in_place(start: Scenario, lever: Lever) -> bool:
    """True when every change of ``lever`` already holds in ``start`` (at day 0)."""
    return all(same_value(get_dotted(start, k), v) for k, v in lever.changes.items())


def intervention_notes(start: Scenario, lever: Lever) -> list[str]:
    """What the starting scenario's time-phased roll-out does to a lever applied from day 0."""
    if not start.interventions:
        return []
    notes = []
    try:
        state = with_changes(start, lever.changes)
    except (KeyError, ValueError):
        return []
    overridden: set[str] = set()
    for iv in sorted(start.interventions, key=lambda iv: iv.day):
        when = f"day {iv.day}" + (f" ({iv.label})" if iv.label else "")
        try:
            state = with_changes(state, iv.set)
        except (KeyError, ValueError):
            break  # the lever cannot be applied at all: plan_diagnosis says so
        touched = [k for k in lever.changes if any(k == s or k.startswith(s + ".") for s in iv.set)]
        changed = [
            k
            for k in lever.changes
            if k not in overridden and not same_value(get_dotted(state, k), lever.changes[k])
        ]
        if changed:
            overridden.update(changed)
            sets = ", ".join(f"{k}={format_value(get_dotted(state, k))}" for k in changed)
            notes.append(
                f"{lever.label}: the scenario's roll-out sets {sets} on {when}, overriding the "
                "lever (applied from day 0) from then on."
            )
        elif touched and not overridden:
            notes.append(
                f"{lever.label}: the scenario already rolls this out on {when}; tested alone "
                "from day 0, it is brought forward rather than added."
            )
    return notes


def rollout_day(start: Scenario, lever: Lever) -> int | None:
    """The measured day the starting scenario's own roll-out puts ``lever`` in place, if any.

    A lever whose only missing change is ``coaching.start_day`` is in place from the day the
    scenario's coaching starts.
    """

    def day_of(state: Scenario, today: int) -> int | None:
        missing = [k for k, v in lever.changes.items() if not same_value(get_dotted(state, k), v)]
        if not missing:
            return today
        if missing == ["coaching.start_day"]:
            return max(today, int(state.coaching.start_day))
        return None

    state = start
    for iv in sorted(start.interventions, key=lambda iv: iv.day):
        try:
            state = with_changes(state, iv.set)
        except (KeyError, ValueError):
            return None
        day = day_of(state, iv.day)
        if day is not None:
            return day
    return day_of(start, 0) if not in_place(start, lever) else None


# --------------------------------------------------------------------------------------------
# Ranking (pure)
# --------------------------------------------------------------------------------------------


def _improvement(kpi: KPI, diff: float) -> float:
    """A difference turned so that larger is better (NaN stays NaN)."""
    return diff if kpi.better == "higher" else -diff


def rank_levers(rows: Sequence[Mapping[str, Any]], kpi: str) -> list[dict[str, Any]]:
    """Levers ordered by improvement of ``kpi`` in its good direction (undefined ones last).

    Args:
        rows: paired differences from "current", one per lever, each with ``lever`` and the
            keys of :func:`simulation.compare.paired_difference`.

    Returns:
        The rows in rank order, each with ``rank``, ``improvement`` (the difference in the
        KPI's good direction), ``certainty`` and ``direction`` (words of
        :func:`simulation.compare.certainty`) added. Ties keep the input order.
    """
    k = KPIS[kpi]
    scored = []
    for i, row in enumerate(rows):
        gain = _improvement(k, float(row["diff"]))
        scored.append((math.isnan(gain), -gain if not math.isnan(gain) else 0.0, i, row))
    scored.sort(key=lambda t: t[:3])
    out = []
    for rank, (_, _, _, row) in enumerate(scored, start=1):
        words, direction = certainty(float(row["p_better"]))
        out.append(
            {
                "rank": rank,
                **dict(row),
                "improvement": _improvement(k, float(row["diff"])),
                "certainty": words,
                "direction": direction,
            }
        )
    return out


def count_wins(values: Mapping[str, Sequence[float]], better: str) -> tuple[dict[str, int], int]:
    """Replications each lever came out best in (ties count for each), and how many counted.

    ``values[lever]`` lists a KPI by replication, every lever in the same replication order.
    Replications where any lever's value is undefined (NaN) are not counted.
    """
    keys = list(values)
    wins = dict.fromkeys(keys, 0)
    if not keys:
        return wins, 0
    n = 0
    for column in zip(*(values[k] for k in keys), strict=True):
        vals = [float(v) for v in column]
        if any(math.isnan(v) for v in vals):
            continue
        n += 1
        best = max(vals) if better == "higher" else min(vals)
        for key, v in zip(keys, vals, strict=True):
            if v == best:
                wins[key] += 1
    return wins, n


def suggested_reps(sd: float, gap: float, n: int) -> int | None:
    """Replications that would likely separate a paired gap of ``gap`` with spread ``sd``.

    The usual sample size of a paired comparison: 80% power for a two-sided 5% test, assuming
    the gap seen is the true one; rounded up to ten. ``None`` when no count would do.
    """
    if not (math.isfinite(sd) and math.isfinite(gap)) or gap == 0 or sd == 0:
        return None
    need = math.ceil(((1.96 + 0.8416) * sd / abs(gap)) ** 2)
    need = max(need, n + 10)
    need = int(math.ceil(need / 10) * 10)
    return need if need <= MAX_SUGGESTED_REPS else None


def head_to_head(top: Sequence[float], other: Sequence[float], better: str) -> dict[str, Any]:
    """Paired difference ``top - other`` on the same seeds, with P(top better) and the
    replications that might separate them.

    Returns:
        ``{"n", "top_mean", "other_mean", "diff", "ci_low", "ci_high", "relative",
        "p_better", "certainty", "direction", "suggested_reps"}``.
    """
    d = paired_difference(other, top, better)
    pairs = [
        (a, b) for a, b in zip(top, other, strict=True) if not (math.isnan(a) or math.isnan(b))
    ]
    sd = math.nan
    if len(pairs) > 1:
        diffs = [a - b for a, b in pairs]
        mean = sum(diffs) / len(diffs)
        sd = math.sqrt(sum((x - mean) ** 2 for x in diffs) / (len(diffs) - 1))
    words, direction = certainty(d["p_better"])
    return {
        "n": d["n"],
        "top_mean": d["mean"],
        "other_mean": d["base_mean"],
        **{k: d[k] for k in ("diff", "ci_low", "ci_high", "relative", "p_better")},
        "certainty": words,
        "direction": direction,
        "suggested_reps": suggested_reps(sd, d["diff"], d["n"]),
    }


def summarise_diagnosis(
    diffs: Sequence[Mapping[str, Any]],
    rank_values: Mapping[str, Sequence[float]],
    rank_by: str,
    levers: Sequence[Lever],
    current: Mapping[str, float],
    header: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The diagnosis (JSON-able) from paired differences and the ranking KPI's runs.

    Args:
        diffs: one row per lever and KPI: ``lever``, ``kpi`` and the paired difference keys.
        rank_values: ``rank_values[lever]`` is the ranking KPI by replication (same order);
            ``rank_values["current"]``, when given, sizes the advice on replications.
        levers: the levers run, in run order.
        current: the mean of every KPI under the current set-up.
        header: scenario, replications, seed, results folder, in-place levers and notes, put
            first in the result.
    """
    check_rank_by(rank_by)
    by_key = {lever.key: lever for lever in levers}
    rankings: dict[str, list[dict[str, Any]]] = {}
    for kpi in KPIS:
        rows = [
            {
                "lever": r["lever"],
                "label": by_key[r["lever"]].label,
                **{
                    k: r[k]
                    for k in (
                        "n",
                        "base_mean",
                        "mean",
                        "diff",
                        "ci_low",
                        "ci_high",
                        "relative",
                        "p_better",
                    )
                },
            }
            for r in diffs
            if r["kpi"] == kpi
        ]
        rankings[kpi] = rank_levers(rows, kpi)
    better = KPIS[rank_by].better
    wins, n_wins = count_wins({lv.key: rank_values[lv.key] for lv in levers}, better)
    ranked = rankings[rank_by]
    top = ranked[0] if ranked and not math.isnan(ranked[0]["diff"]) else None
    runner = None
    trade_offs = []
    top_more = None  # replications that might show whether the favoured lever helps at all
    if top is not None and CURRENT in rank_values and top["direction"] == "no clear difference":
        top_more = head_to_head(rank_values[top["lever"]], rank_values[CURRENT], better)[
            "suggested_reps"
        ]
    if top is not None:
        if len(ranked) > 1 and not math.isnan(ranked[1]["diff"]):
            second = ranked[1]
            runner = {
                "lever": second["lever"],
                "label": second["label"],
                **head_to_head(rank_values[top["lever"]], rank_values[second["lever"]], better),
            }
        for kpi in TRADE_OFF_KPIS:
            if kpi == rank_by:
                continue
            row = next(r for r in rankings[kpi] if r["lever"] == top["lever"])
            p = row["p_better"]
            if not math.isnan(p) and p < TRADE_OFF:
                trade_offs.append(
                    {
                        "kpi": kpi,
                        "label": KPIS[kpi].label,
                        **{k: row[k] for k in ("diff", "ci_low", "ci_high", "p_better")},
                    }
                )
    result: dict[str, Any] = dict(header or {})
    result.update(
        {
            "rank_by": rank_by,
            "rank_label": KPIS[rank_by].label,
            "levers": [
                {"lever": lv.key, "label": lv.label, "changes": dict(lv.changes)} for lv in levers
            ],
            "current": {k: float(v) for k, v in current.items()},
            "rankings": rankings,
            "wins": {"kpi": rank_by, "replications": n_wins, "by_lever": wins},
            "top": dict(top) if top is not None else None,
            "top_suggested_reps": top_more,
            "runner_up": runner,
            "trade_offs": trade_offs,
        }
    )
    result.setdefault("already_in_place", [])
    result.setdefault("notes", [])
    result["verdict"] = verdict_text(result)
    result["headline"] = headline_text(result)
    return result


# --------------------------------------------------------------------------------------------
# Plain words (pure)
# --------------------------------------------------------------------------------------------


def _phrase(kpi: str) -> str:
    return _PHRASES.get(kpi, KPIS[kpi].label.lower())


def _size(kpi: KPI, value: float, unit: bool = True) -> str:
    """The size of a change, without its sign (the sentence's verb gives the direction)."""
    return format_kpi_value(kpi, abs(value), diff=True, unit=unit).lstrip("+")


def _verb(diff: float) -> str:
    return "cuts" if diff < 0 else "raises"


def _interval(kpi: KPI, lo: float, hi: float, diff: float) -> str:
    """A 95% interval in the words of its change: sizes when it keeps the sign, else both ways."""
    if lo >= 0 or hi <= 0:
        a, b = sorted((abs(lo), abs(hi)))
        return f"{_size(kpi, a, unit=False)} to {_size(kpi, b, unit=False)}"
    if diff < 0:
        return (
            f"anywhere from a {_size(kpi, hi, unit=False)} rise to a "
            f"{_size(kpi, lo, unit=False)} cut"
        )
    return (
        f"anywhere from a {_size(kpi, lo, unit=False)} cut to a {_size(kpi, hi, unit=False)} rise"
    )


def _chance(p: float) -> str:
    if p >= 0.995:
        return "over 99%"
    if p <= 0.005:
        return "under 1%"
    return f"{p:.0%}"


def _lever(key: str) -> Lever:
    return LEVER_BY_KEY[key]


def _round_reps(n: int) -> str:
    return f"{n:,}"


def verdict_text(d: Mapping[str, Any]) -> str:
    """The paragraph a board member reads: which single change the model favours, how sure."""
    rank_by = d["rank_by"]
    kpi = KPIS[rank_by]
    what = _phrase(rank_by)
    where = (
        "today's set-up"
        if str(d.get("scenario", "")).lower() == "baseline"
        else f"the current set-up ({d.get('scenario', CURRENT)})"
    )
    top = d["top"]
    parts: list[str] = []
    if top is None:
        parts.append(
            f"{kpi.label} is not defined in these runs, so the levers cannot be ranked by it; "
            "rank them by another KPI (--rank-by)."
        )
        return " ".join(parts + _in_place_sentence(d))
    lever = _lever(top["lever"])
    size = _size(kpi, top["diff"])
    interval = _interval(kpi, top["ci_low"], top["ci_high"], top["diff"])
    one_rep = math.isnan(top["p_better"])
    direction = top["direction"]
    runner = d["runner_up"]
    n_wins, won = d["wins"]["replications"], d["wins"]["by_lever"].get(top["lever"], 0)
    day = d.get("rollout_days", {}).get(top["lever"])
    later = f" (from day 0, not day {day} as the current roll-out has it)" if day else ""
    if one_rep:
        parts.append(
            f"{lever.action} first{later}: it {_verb(top['diff'])} {what} by {size} against "
            f"{where}, the largest gain of the levers tested. With one replication the model "
            "cannot tell how sure this is, nor the order of the levers; run 10 or more (--reps 10)."
        )
    elif direction == "better":
        text = (
            f"{lever.action} first{later}: it {top['certainty']} {_verb(top['diff'])} {what} "
            f"by {size} (95% interval {interval}) against {where}"
        )
        if runner is None:
            text += "; it is the only lever tested."
            parts.append(text)
        elif runner["direction"] == "better":
            rl = _lever(runner["lever"])
            text += (
                f", and beats the runner-up, {rl.noun}, by {_size(kpi, runner['diff'])} "
                f"({_interval(kpi, runner['ci_low'], runner['ci_high'], runner['diff'])}); "
                f"it came out best in {won} of {n_wins} replications, so the model is "
                f"{runner['certainty']} right about the order."
            )
            parts.append(text)
        else:
            rl = _lever(runner["lever"])
            parts.append(text + ".")
            if runner["diff"] == 0:
                gap = f"the two tie on average and {lever.noun} came out best in {won} of {n_wins}"
            else:
                span = _interval(kpi, runner["ci_low"], runner["ci_high"], runner["diff"])
                gap = (
                    f"{lever.noun} is ahead by {_size(kpi, runner['diff'])} (95% interval {span}) "
                    f"and came out best in {won} of {n_wins}"
                )
            more = runner["suggested_reps"]
            if more is not None:
                tail = (
                    f" More replications (about {_round_reps(more)}, --reps {more}) might "
                    "separate them."
                )
            else:
                tail = (
                    f" The gap is too small for more replications to settle (more than "
                    f"{_round_reps(MAX_SUGGESTED_REPS)} would be needed): treat them as equally "
                    f"good on {what}."
                )
            parts.append(
                f"But the model cannot separate it from the runner-up, {rl.noun}: {gap} "
                f"replications.{tail}"
            )
    elif direction == "no clear difference":
        chance = _chance(top["p_better"])
        parts.append(
            f"No single lever clearly improves {what} against {where}. The most promising, "
            f"{lever.noun}, {_verb(top['diff'])} it by {size} (95% interval {interval}), but that "
            f"could be chance ({chance} chance it helps); the model does not favour any one "
            "change on this KPI."
        )
        more = d.get("top_suggested_reps")
        if more:
            parts.append(f"More replications (about {_round_reps(more)}) might tell.")
    else:  # every lever makes it worse
        parts.append(
            f"Every lever makes {what} worse against {where}; the least harmful, {lever.noun}, "
            f"{_verb(top['diff'])} it by {size} (95% interval {interval}). On {what} the model "
            "favours leaving the current set-up as it is."
        )
    if direction == "better" or one_rep:
        for t in d["trade_offs"]:
            tk = KPIS[t["kpi"]]
            parts.append(
                f"Trade-off: it also makes {_phrase(t['kpi'])} worse, "
                f"{'cutting' if t['diff'] < 0 else 'raising'} it by "
                f"{_size(tk, t['diff'])} (95% interval "
                f"{_interval(tk, t['ci_low'], t['ci_high'], t['diff'])})."
            )
    return " ".join(parts + _other_leaders(d) + _in_place_sentence(d))


def headline_text(d: Mapping[str, Any]) -> str:
    """The verdict in one line, for a chart or slide title."""
    top = d["top"]
    kpi = KPIS[d["rank_by"]]
    if top is None:
        return f"The levers cannot be ranked by {kpi.label.lower()} in these runs"
    lever = _lever(top["lever"])
    effect = f"{_verb(top['diff'])} {_phrase(d['rank_by'])} by {_size(kpi, top['diff'])}"
    if top["direction"] != "better":
        return f"No single lever clearly improves {_phrase(d['rank_by'])}"
    won = d["wins"]["by_lever"].get(top["lever"], 0)
    return (
        f"Change first: {lever.noun}. It {effect} and came out best in {won} of "
        f"{d['wins']['replications']} replications"
    )


def _other_leaders(d: Mapping[str, Any]) -> list[str]:
    """Where another lever leads on one of the brief's three KPIs: the answer depends on what
    the board weighs most, and the verdict should say so."""
    top = d["top"]["lever"] if d.get("top") else None
    said = []
    for kpi in MISSION:
        if kpi == d["rank_by"] or not d["rankings"].get(kpi):
            continue
        best = d["rankings"][kpi][0]
        if best["lever"] != top and best["direction"] == "better":
            k = KPIS[kpi]
            said.append(
                f"on {_phrase(kpi)}, {_lever(best['lever']).noun} ({_verb(best['diff'])} it by "
                f"{_size(k, best['diff'])})"
            )
    if not said:
        return []
    return [f"Ranked by another measure the first change differs: {'; '.join(said)}."]


def _in_place_sentence(d: Mapping[str, Any]) -> list[str]:
    done = [x["label"] for x in d.get("already_in_place", [])]
    if not done:
        return []
    return [f"Already in place, so not tested: {', '.join(done)}."]


# --------------------------------------------------------------------------------------------
# Running
# --------------------------------------------------------------------------------------------


@dataclass
class Plan:
    """What a diagnosis runs: the starting scenario, the levers to test, and the design."""

    start: Scenario
    source: str | None
    levers: list[Lever]
    already_in_place: list[Lever]
    notes: list[str]
    design: Design
    out: Path
    rollout_days: dict[str, int] = field(default_factory=dict)  # lever -> day it comes anyway


def plan_diagnosis(
    scenario: str | Path | Scenario,
    reps: int = 10,
    seed: int = 1,
    out: str | Path | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Plan:
    """Load the starting scenario, decide which levers to test and build the comparison design.

    A lever already in place is left out; one the scenario cannot take (an invalid
    combination) is left out with a note.

    Raises:
        ScenarioError: the scenario cannot be loaded, or no lever is left to test.
    """
    from simulation.experiments import RESULTS

    if reps < 1:
        raise DiagnoseError(f"reps: must be at least 1, got {reps}")
    if seed < 0:
        raise DiagnoseError(f"seed: must be at least 0, got {seed}")
    source = None if isinstance(scenario, Scenario) else str(Path(scenario).resolve())
    start = load_scenario(scenario, overrides)
    levers, skipped, notes, variants = [], [], [], []
    rollouts: dict[str, int] = {}
    for lever in LEVERS:
        notes += intervention_notes(start, lever)
        if in_place(start, lever):
            skipped.append(lever)
            continue
        # changes that already hold by deliberate choice (not merely a default value)
        held = [
            k
            for k, v in lever.changes.items()
            if same_value(get_dotted(start, k), v) and not same_value(get_dotted(DEFAULTS, k), v)
        ]
        if held:
            moves = ", ".join(
                f"{k} {format_value(get_dotted(start, k))} -> {format_value(v)}"
                for k, v in lever.changes.items()
                if k not in held
            )
            notes.append(
                f"{lever.label}: partly in place already ({', '.join(held)}); testing "
                f"it changes only {moves}."
            )
        try:
            variants.append(load_scenario(start, lever.changes))
        except ScenarioError as exc:
            notes.append(
                f"{lever.label}: cannot be applied to this scenario, so not tested "
                f"({' '.join(str(exc).split())})."
            )
            continue
        levers.append(lever)
        day = rollout_day(start, lever)
        if day is not None:
            rollouts[lever.key] = day
    if not levers:
        raise DiagnoseError(
            f"scenario '{start.name}': every lever of the playbook is already in place (or "
            "cannot be applied), so there is nothing to compare"
        )
    if any(lv.key == "squads" for lv in levers) and start.structure.kind == "silo":
        reorg = [iv.day for iv in start.interventions
                 if any(k.startswith("structure.") for k in iv.set)]  # fmt: skip
        note = (
            f"{LEVER_BY_KEY['squads'].label}: in place from the first simulated day, so the "
            f"{start.structure.transition_days}-day reorganisation dip is not counted"
        )
        if reorg:
            note += (
                f", while the current set-up pays it when it reorganises on day {min(reorg)}; "
                "this flatters squads."
            )
        else:
            note += "; rolled out mid-year, squads would pay it first."
        notes.append(note)
    for lever in skipped:
        notes.insert(0, f"{lever.label}: already in place in '{start.name}', so not tested.")
    design = compare_design(
        [start, *variants],
        reps,
        seed,
        labels=[CURRENT, *(lv.key for lv in levers)],
        sources={"scenario": source} if source else None,
    )
    design.name = slug(f"diagnose-{start.name}", 80)
    design.config["diagnose"] = {
        "scenario": start.name,
        "levers": {lv.key: dict(lv.changes) for lv in levers},
        "already_in_place": [lv.key for lv in skipped],
    }
    folder = Path(out) if out else RESULTS / design.name
    return Plan(start, source, levers, skipped, notes, design, folder, rollouts)


def finish_diagnosis(plan: Plan, rank_by: str = DEFAULT_RANK) -> dict[str, Any]:
    """Read the finished results folder, rank the levers and save ``diagnosis.json``.

    Also saves ``comparison.json`` (the folder's ordinary paired comparison), so the folder
    reads like any compare folder.
    """
    from simulation.experiments import save_comparison
    from simulation.results import load_results, paired_differences
    from simulation.store import write_json

    check_rank_by(rank_by)
    results = load_results(plan.out)
    save_comparison(results)
    frame = paired_differences(results, reference=0)
    labels = results.manifest["config"]["labels"]
    lever_of_point = dict(enumerate(labels))
    rows = [
        {**r, "lever": lever_of_point[int(r["point"])]} for r in frame.to_dict(orient="records")
    ]
    table = results.values(rank_by)
    rank_values = {labels[p]: [float(v) for v in table[p].tolist()] for p in table.columns}
    start = results.by_point.loc[0]  # the current set-up's means
    current = {k: float(start[f"{k}_mean"]) for k in KPIS}
    header = {
        "scenario": plan.start.name,
        "description": plan.start.description,
        "source": plan.source,
        "replications": results.replications,
        "seed": results.seed,
        "results": str(plan.out),
        "already_in_place": [
            {"lever": lv.key, "label": lv.label, "changes": dict(lv.changes)}
            for lv in plan.already_in_place
        ],
        "notes": list(plan.notes),
        "rollout_days": dict(plan.rollout_days),
    }
    d = summarise_diagnosis(rows, rank_values, rank_by, plan.levers, current, header)
    write_json(plan.out / "diagnosis.json", d)
    return d


def diagnose(
    scenario: str | Path | Scenario,
    reps: int = 10,
    seed: int = 1,
    out: str | Path | None = None,
    workers: int = 1,
    resume: bool = False,
    rank_by: str = DEFAULT_RANK,
    progress: Callable[[int, int], None] | None = None,
    command: Sequence[str] = (),
    overrides: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Apply each playbook lever alone to ``scenario`` on common random numbers and rank them.

    Args:
        out: results folder (default ``results/diagnose-<scenario name>``); an existing one is
            refused unless ``resume``.
        rank_by: the KPI that picks the favoured lever (default the cost of friction).
        overrides: dotted lever changes applied to the starting scenario first.

    Returns:
        The diagnosis: scenario, replications, seed, results folder, levers tested and already
        in place, notes, per-KPI rankings with 95% intervals, the favoured lever, its
        comparison with the runner-up, wins out of replications, trade-offs and the verdict.
        Also saved as ``<out>/diagnosis.json``.

    Raises:
        ScenarioError: a bad scenario, ``rank_by`` or results folder (a user error).
        RuntimeError: some runs failed (their tracebacks are in ``<out>/failures``).
    """
    from simulation.experiments import execute

    check_rank_by(rank_by)
    plan = plan_diagnosis(scenario, reps, seed, out, overrides)
    summary: RunSummary = execute(
        plan.design, plan.out, workers=workers, resume=resume, progress=progress, command=command
    )
    if summary.failed:
        raise RuntimeError(
            f"{summary.failed} run(s) failed; tracebacks are in {plan.out / 'failures'}"
        )
    return finish_diagnosis(plan, rank_by)


# --------------------------------------------------------------------------------------------
# Tables and charts
# --------------------------------------------------------------------------------------------


def effects_frame(diagnosis: Mapping[str, Any]) -> pd.DataFrame:
    """Effects of every lever on every KPI (the tornado chart's data).

    Columns ``lever, label, kpi, diff, ci_low, ci_high, p_better``; within a KPI, levers are in
    rank order (the largest improvement first).
    """
    import pandas as pd

    rows = [
        {k: r[k] for k in ("lever", "label", "diff", "ci_low", "ci_high", "p_better")}
        | {"kpi": kpi}
        for kpi, ranked in diagnosis["rankings"].items()
        for r in ranked
    ]
    columns = ["lever", "label", "kpi", "diff", "ci_low", "ci_high", "p_better"]
    frame = pd.DataFrame(rows, columns=columns)
    for c in ("diff", "ci_low", "ci_high", "p_better"):
        frame[c] = frame[c].astype(float)
    return frame


def render_diagnosis(d: Mapping[str, Any]) -> str:
    """Terminal text: ranking table, mission KPIs per lever, notes and the verdict."""
    rank_by = d["rank_by"]
    kpi = KPIS[rank_by]
    n_levers = len(d["levers"])
    lines = [
        f"Diagnosis of '{d['scenario']}': {n_levers} lever(s) of the playbook, each applied "
        f"alone from day 0, {d['replications']} replication(s) on the same seeds (root seed "
        f"{d['seed']}); every variant faces the same customers.",
        f"Results: {d['results']}/ (diagnosis.json, comparison.json, runs.parquet)",
    ]
    lines = [textwrap.fill(lines[0], WIDTH), lines[1]]
    base = as_float(d["current"].get(rank_by))
    wins = d["wins"]
    rows = []
    for r in d["rankings"][rank_by]:
        diff, lo, hi = as_float(r["diff"]), as_float(r["ci_low"]), as_float(r["ci_high"])
        k = wins["by_lever"].get(r["lever"], 0)
        rows.append(
            [
                str(r["rank"]),
                r["label"],
                format_kpi_value(kpi, diff, diff=True, unit=False),
                f"[{format_kpi_value(kpi, lo, diff=True, unit=False)}, "
                f"{format_kpi_value(kpi, hi, diff=True, unit=False)}]",
                format_percent(as_float(r["p_better"])),
                f"{k}/{wins['replications']}",
            ]
        )
    lines += [
        "",
        textwrap.fill(
            f"Ranked by {kpi.label.lower()} ({table_unit(kpi, True)}; {kpi.better} is better; "
            f"current: {format_kpi_value(kpi, base)}), change against current:",
            WIDTH,
        ),
        format_table(
            ["rank", "lever", "change", "95% interval", "P(better)", "best in"],
            rows,
            right=(0, 2, 3, 4, 5),
        ),
    ]
    mission = [m for m in MISSION if m in d["rankings"]]
    by_lever = {m: {r["lever"]: r for r in d["rankings"][m]} for m in mission}
    m_rows, flagged = [], False
    for r in d["rankings"][rank_by]:
        row = [r["label"]]
        for m in mission:
            x = by_lever[m][r["lever"]]
            mk = KPIS[m]
            cell = (
                f"{format_kpi_value(mk, as_float(x['diff']), diff=True, unit=False)} "
                f"[{format_kpi_value(mk, as_float(x['ci_low']), diff=True, unit=False)}, "
                f"{format_kpi_value(mk, as_float(x['ci_high']), diff=True, unit=False)}]"
            )
            p = as_float(x["p_better"])
            worse = not math.isnan(p) and p < TRADE_OFF
            flagged = flagged or worse
            row.append(cell + (" *" if worse else "  "))
        m_rows.append(row)
    now = ", ".join(
        f"{KPIS[m].label.lower()} {format_kpi_value(KPIS[m], as_float(d['current'].get(m)))}"
        for m in mission
    )
    units = ", ".join(f"{KPIS[m].label.lower()} in {table_unit(KPIS[m], True)}" for m in mission)
    headers = ["lever"] + [KPIS[m].label.lower() for m in mission]
    lines += [
        "",
        textwrap.fill(f"Mission KPIs, change against current ({units}; current: {now}):", WIDTH),
        format_table(headers, m_rows, right=tuple(range(1, len(headers))), wrap={0: 28}),
    ]
    if flagged:
        lines.append("* clearly worse than current (under 20% chance it is better)")
    notes = list(d.get("notes", []))
    if notes:
        lines += ["", "Notes:"]
        lines += [
            textwrap.fill(n, WIDTH, initial_indent="- ", subsequent_indent="  ") for n in notes
        ]
    lines += ["", "In plain words:", textwrap.fill(d["verdict"], WIDTH)]
    lines += [
        "",
        "Differences are paired (same seeds); differences of % are in percentage points; "
        "intervals are\nStudent-t 95%; P(better) is the chance the true difference is in the "
        "KPI's good direction;\n'best in' counts the replications where the lever gave the best "
        f"{kpi.label.lower()} of all levers.",
    ]
    return "\n".join(lines)


def write_tornado(d: Mapping[str, Any], folder: Path) -> list[Path]:
    """Save the tornado chart of the ranking KPI in ``folder`` (PNG and SVG)."""
    from simulation import charts

    title = f"Each playbook lever alone against '{d['scenario']}'"
    chart = charts.tornado(effects_frame(d), d["rank_by"], title)
    return charts.save_chart(chart, folder, formats=("png", "svg"))


# --------------------------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------------------------


def add_parser(sub: Any) -> argparse.ArgumentParser:
    """Register ``friction diagnose`` on the CLI's subparsers."""
    from simulation.cli import add_replication_args, add_results_args, add_set_arg

    p = sub.add_parser(
        "diagnose",
        help="apply each lever of the playbook alone and say which single change to make first",
        description="Start from SCENARIO, apply each of the six playbook levers alone on the "
        "same seeds, rank them by their effect on every KPI with 95%% intervals, and say in "
        "plain words which single change the model favours and how sure it is.",
    )
    p.add_argument("scenario", help="scenario YAML file to start from (the current set-up)")
    add_set_arg(p, "a lever in the starting scenario")
    add_replication_args(p)
    p.add_argument(
        "--rank-by",
        default=DEFAULT_RANK,
        metavar="KPI",
        help=f"KPI that picks the favoured lever (default {DEFAULT_RANK}: lost hours plus "
        "customers lost at handover, per year)",
    )
    add_results_args(p, "results/diagnose-<scenario name>")
    p.add_argument("--json", action="store_true", help="print machine-readable JSON")
    p.set_defaults(func=cmd_diagnose)
    return p


def cmd_diagnose(args: argparse.Namespace) -> int:
    """Run the diagnosis into a results folder and print the ranking and the verdict."""
    from simulation.cli import (
        EXIT_OK,
        EXIT_RUNS_FAILED,
        PROG,
        _execute,
        _failures_note,
        _overrides,
        check_request,
        check_workers,
        design_request,
        dump_json,
    )

    rank_by = check_rank_by(args.rank_by, "--rank-by")  # a DiagnoseError is a user error
    check_workers(args)
    plan = plan_diagnosis(Path(args.scenario), args.reps, args.seed, args.out, _overrides(args.set))
    check_request(args, design_request(args, plan.design))
    argv = [PROG, "diagnose", *getattr(args, "argv", [])]
    summary = _execute(args, plan.design, plan.out, argv)
    if summary.failed:
        print(_failures_note(summary, plan.out), file=sys.stderr)
        return EXIT_RUNS_FAILED
    d = finish_diagnosis(plan, rank_by)
    charts = write_tornado(d, plan.out)
    if args.json:
        print(dump_json(d))
    else:
        tornado = ", ".join(str(c) for c in charts)
        print(render_diagnosis(d) + f"\nTornado chart: {tornado}")
    return EXIT_OK
