"""Plain words: every sentence a board member reads about a diagnosis.

Numbers come from :mod:`simulation.diagnosis` (and :mod:`simulation.compare`); this module only
phrases them, so one wording serves the terminal, the HTML report, the deck and the charts.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from simulation.analysis import MAX_SUGGESTED_REPS
from simulation.compare import format_kpi_value
from simulation.levers import CURRENT, LEVER_BY_KEY, Lever
from simulation.metrics import KPI, KPIS, MISSION

__all__ = ["headline_text", "verdict_text"]

#: How a KPI reads inside a sentence, where its label alone does not.
_PHRASES = {
    "cost_of_friction": "the cost of friction",
    "lead_time_days": "lead time",
    "decision_latency_days": "decision latency",
    "revenue": "activated revenue",
    "bonus_cost": "the bonus cost",
}


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
