"""Plain words: every verdict, headline and phrase a board member reads.

Numbers come from the analysis (:mod:`simulation.analysis.compare`,
:mod:`simulation.analysis.diagnosis`); this module only phrases them, so one wording serves the
terminal, the HTML report, the deck and the charts: how sure (:func:`certainty`), how large
(:func:`format_kpi_value`, :func:`size`), a comparison's verdict lines (:func:`verdict`), a
plan's change in a phrase (:func:`change_phrase`, :func:`comparison_headline`), a
diagnosis's verdict and headline (:func:`verdict_text`, :func:`headline_text`), and the names a
board reads instead of code: a design point's label (:func:`point_label`), a setting's value
(:func:`setting_phrase`) and the abbreviations spelled out (:func:`glossary`).

Money is shown in the currency of the results (``report.currency`` of the scenarios): the code
that formats a report or a terminal table wraps it in :func:`money_in`, and every money figure
worded inside reads "USD 1.2M a year".
"""

from __future__ import annotations

import contextlib
import math
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

import pandas as pd

from simulation.analysis.stats import MAX_SUGGESTED_REPS
from simulation.batch.design import WEIGHT_KEYS
from simulation.common.formats import format_number, format_value, number_style
from simulation.model.metrics import KPI, KPIS, MISSION
from simulation.scenario.config import human_name, lever_table
from simulation.scenario.levers import CURRENT, LEVER_BY_KEY, Lever

__all__ = [
    "ABBREVIATIONS",
    "CERTAINTY",
    "CHANGE_ORDER",
    "SMALL_CHANGE",
    "certainty",
    "chance",
    "change_phrase",
    "comparison_headline",
    "currency",
    "currency_name",
    "display_unit",
    "format_kpi_value",
    "glossary",
    "headline_text",
    "is_share",
    "join_words",
    "mix_text",
    "money_in",
    "point_label",
    "setting_phrase",
    "settings_phrase",
    "size",
    "table_unit",
    "verdict",
    "verdict_text",
]

#: Probability thresholds of the verdict's words, from the most to the least sure.
CERTAINTY = (
    (0.99, "almost certainly"),
    (0.95, "very likely"),
    (0.80, "probably"),
)
SMALL_CHANGE = 0.01  # a change under 1% of the first scenario's mean is called small


def certainty(p_better: float) -> tuple[str, str]:
    """``(how sure, direction)``: ("very likely", "better"), ("", "no clear difference")."""
    if math.isnan(p_better):
        return "", "not enough replications to say"
    for threshold, words in CERTAINTY:
        if p_better >= threshold:
            return words, "better"
        if 1 - p_better >= threshold:
            return words, "worse"
    return "", "no clear difference"


def is_share(kpi: KPI) -> bool:
    """A KPI that is a share (shown in %, its differences in percentage points)."""
    return kpi.bounds == (0.0, 1.0) and kpi.unit.startswith("share")


#: The ISO 4217 code money is shown in; ``None`` shows amounts without one.
_CURRENCY: ContextVar[str | None] = ContextVar("currency", default=None)


@contextlib.contextmanager
def money_in(code: str | None) -> Iterator[None]:
    """Show every money figure worded inside the block in ``code`` ("USD 1.2M a year")."""
    token = _CURRENCY.set(code)
    try:
        yield
    finally:
        _CURRENCY.reset(token)


def currency() -> str | None:
    """The currency money is being shown in (see :func:`money_in`)."""
    return _CURRENCY.get()


#: Names of common currencies, to spell a code out once (any other code is named as such).
CURRENCY_NAMES = {
    "AUD": "Australian dollar",
    "BRL": "Brazilian real",
    "CAD": "Canadian dollar",
    "CHF": "Swiss franc",
    "CNY": "Chinese yuan",
    "CZK": "Czech koruna",
    "DKK": "Danish krone",
    "EUR": "euro",
    "GBP": "pound sterling",
    "HKD": "Hong Kong dollar",
    "INR": "Indian rupee",
    "JPY": "Japanese yen",
    "MXN": "Mexican peso",
    "NOK": "Norwegian krone",
    "NZD": "New Zealand dollar",
    "PLN": "Polish zloty",
    "SEK": "Swedish krona",
    "SGD": "Singapore dollar",
    "USD": "United States dollar",
    "ZAR": "South African rand",
}


def currency_name(code: str) -> str:
    """'United States dollar' for USD; a code without a known name is 'the currency of this
    report'."""
    return CURRENCY_NAMES.get(code.upper(), "the currency of this report")


def _is_money(kpi: KPI | None) -> bool:
    return kpi is not None and kpi.unit.startswith("currency")


def display_unit(kpi: KPI | None, diff: bool = False) -> str:
    """The unit a reader sees: shares in % (their differences in points), money per year."""
    if kpi is None:
        return ""
    if is_share(kpi):
        return "points" if diff else "%"
    if _is_money(kpi):
        return " a year" if kpi.unit.endswith("/year") else ""
    if "0-1" in kpi.unit:
        return ""
    return kpi.unit


def table_unit(kpi: KPI | None, diff: bool = False) -> str:
    """The unit a table states once per row: money in its currency and period ("USD/year")."""
    if _is_money(kpi):
        assert kpi is not None
        code = currency()
        return kpi.unit.replace("currency", code) if code else kpi.unit
    return display_unit(kpi, diff) or "-"


def format_kpi_value(kpi: KPI | None, value: float, diff: bool = False, unit: bool = True) -> str:
    """A KPI value as a reader expects it: shares in % (differences in points), money compact
    in its currency ("USD 38.5M a year", "USD -1.09M a year").

    ``unit=False`` leaves the unit out (a table states it once per row).
    """
    if value is None or math.isnan(value):
        return "n/a"
    sign = "+" if diff and value > 0 else ""
    shown = display_unit(kpi, diff) if unit else ""
    if kpi is not None and is_share(kpi):
        text = f"{value * 100:.1f}"
        return f"{sign}{text}{' ' if diff else ''}{shown}".rstrip()
    if _is_money(kpi):
        text = format_number(value, number_style(value, compact=True))
        code = currency() if unit else None
        return f"{code + ' ' if code else ''}{sign}{text}{shown}"
    text = format_number(value, number_style(value))
    return f"{sign}{text} {shown}".rstrip()


def verdict(name: str, d: Mapping[str, float], base_label: str, label: str) -> str:
    """One sentence a board member understands: what changed, by how much, how sure."""
    kpi = KPIS.get(name)
    title = kpi.label if kpi is not None else name
    if d["n"] == 0:
        return f"{title}: not defined in these runs."
    base_v = format_kpi_value(kpi, d["base_mean"])
    new_v = format_kpi_value(kpi, d["mean"])
    if d["diff"] == 0 and d["ci_low"] == d["ci_high"]:
        return f"{title}: unchanged at {base_v} under {label}."
    move = "up" if d["diff"] > 0 else "down"
    rel = "" if math.isnan(d["relative"]) else f", {d['relative']:+.0%}"
    change = format_kpi_value(kpi, d["diff"], diff=True)
    lo = format_kpi_value(kpi, d["ci_low"], diff=True, unit=False)
    hi = format_kpi_value(kpi, d["ci_high"], diff=True, unit=False)
    words, direction = certainty(d["p_better"])
    if direction == "not enough replications to say":
        judgement = "One replication cannot say how sure this is."
    elif direction == "no clear difference":
        judgement = (
            f"No clear difference ({d['p_better']:.0%} chance it is better); more replications "
            "could settle it."
        )
    else:
        p = d["p_better"] if direction == "better" else 1 - d["p_better"]
        judgement = f"{words.capitalize()} {direction} ({chance(p)} chance)"
        if not math.isnan(d["relative"]) and abs(d["relative"]) < SMALL_CHANGE:
            judgement += ", but a small change"
        judgement += "."
    return (
        f"{title}: {move} from {base_v} under {base_label} to {new_v} under {label} "
        f"({change}{rel}; 95% interval {lo} to {hi}). {judgement}"
    )


#: The order a headline names the mission KPIs in: churn first, the handover being the news.
CHANGE_ORDER = ("handover_churn", "productivity_loss", "throughput")


def comparison_headline(diffs: pd.DataFrame, reference: str) -> str:
    """The finding of a comparison in one line, about the plan a board would look at first:
    the most clear gains on the mission's three KPIs and, among those, the mildest worst
    side effect (so a plan that cuts churn by giving up a quarter of the sales does not lead).
    What it does to them is said good news first, then the price."""
    plans = list(dict.fromkeys(diffs["label"]))
    if not plans:
        return f"Each plan against {reference}"

    def score(label: str) -> tuple[int, float]:
        rows = diffs[(diffs["label"] == label) & diffs["kpi"].isin(MISSION)].dropna(
            subset=["diff", "relative"]
        )
        gains = sum(certainty(p)[1] == "better" for p in rows["p_better"])
        sign = rows["kpi"].map(lambda k: -1.0 if KPIS[k].better == "lower" else 1.0)
        worst = float((sign * rows["relative"]).min()) if len(rows) else -math.inf
        return gains, worst

    label = max(plans, key=score)
    return f"{label} against {reference}: " + change_phrase(diffs[diffs["label"] == label])


def change_phrase(rows: pd.DataFrame, kpis: Sequence[str] = CHANGE_ORDER) -> str:
    """'cuts churn at handover by 4.8 points and productivity loss by 11.0 points, but lowers
    throughput by 1.78 activations/month' from one plan's paired differences; changes with
    under 80% certainty either way are reported as no clear change."""
    good: dict[str, list[str]] = {}
    bad: dict[str, list[str]] = {}
    unclear = []
    for name in kpis:
        row = rows[rows["kpi"] == name]
        if row.empty or pd.isna(row["diff"].iloc[0]):
            continue
        r = row.iloc[0]
        kpi = KPIS[name]
        _, direction = certainty(r["p_better"])
        if direction not in ("better", "worse"):
            unclear.append(kpi.label.lower())
            continue
        down = r["diff"] < 0
        verb = (
            ("cuts" if down else "raises")
            if kpi.better == "lower"
            else ("lowers" if down else "raises")
        )
        target = good if direction == "better" else bad
        target.setdefault(verb, []).append(f"{kpi.label.lower()} by {size(kpi, r['diff'])}")
    said = [f"{verb} {join_words(items)}" for verb, items in good.items()]
    if bad:
        said.append(
            ("but " if said else "") + "; ".join(f"{v} {join_words(i)}" for v, i in bad.items())
        )
    text = ", ".join(said)
    if unclear:
        text += ("; " if text else "") + f"no clear change in {join_words(unclear)}"
    return text or "no clear change"


def join_words(items: Sequence[str]) -> str:
    """'a', 'a and b', 'a, b and c'."""
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


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


def size(kpi: KPI, value: float, unit: bool = True) -> str:
    """The size of a change, without its sign (the sentence's verb gives the direction):
    '4.8 points', '1.78 activations/month', 'USD 3.2M a year'."""
    return format_kpi_value(kpi, abs(value), diff=True, unit=unit).replace("+", "", 1)


def _verb(diff: float) -> str:
    return "cuts" if diff < 0 else "raises"


def _interval(kpi: KPI, lo: float, hi: float, diff: float) -> str:
    """A 95% interval in the words of its change: sizes when it keeps the sign, else both ways."""
    if lo >= 0 or hi <= 0:
        a, b = sorted((abs(lo), abs(hi)))
        return f"{size(kpi, a, unit=False)} to {size(kpi, b, unit=False)}"
    if diff < 0:
        return (
            f"anywhere from a {size(kpi, hi, unit=False)} rise to a {size(kpi, lo, unit=False)} cut"
        )
    return f"anywhere from a {size(kpi, lo, unit=False)} cut to a {size(kpi, hi, unit=False)} rise"


def chance(p: float) -> str:
    """A probability as people say it: 'over 99%' rather than '100%'."""
    if p >= 0.995:
        return "over 99%"
    if p <= 0.005:
        return "under 1%"
    return f"{p:.0%}"


def _lever(key: str) -> Lever:
    return LEVER_BY_KEY[key]


def _round_reps(n: int) -> str:
    return f"{n:,}"


@dataclass(frozen=True)
class _TopWords:
    """The phrases every verdict sentence about the favoured lever shares.

    Built once so each sentence helper words the same lever, size and interval the same way.
    """

    kpi: KPI  # the ranking KPI
    what: str  # the ranking KPI as a phrase ("the cost of friction")
    where: str  # the set-up the levers are measured against
    lever: Lever  # the favoured lever
    by: str  # the size of its change
    interval: str  # its 95% interval in words
    later: str  # a reminder of the current roll-out day, if the lever comes anyway


def _top_words(d: Mapping[str, Any]) -> _TopWords:
    """The shared phrases of a diagnosis whose favoured lever (``d["top"]``) is known."""
    kpi = KPIS[d["rank_by"]]
    top = d["top"]
    where = (
        "today's set-up"
        if str(d.get("scenario", "")).lower() == "baseline"
        else f"the current set-up ({d.get('scenario', CURRENT)})"
    )
    day = d.get("rollout_days", {}).get(top["lever"])
    return _TopWords(
        kpi=kpi,
        what=_phrase(d["rank_by"]),
        where=where,
        lever=_lever(top["lever"]),
        by=size(kpi, top["diff"]),
        interval=_interval(kpi, top["ci_low"], top["ci_high"], top["diff"]),
        later=f" (on day {d.get('rollout', {}).get('day', 0)}, not day {day} as the current "
        "roll-out has it)"
        if day
        else "",
    )


def _one_rep_sentence(d: Mapping[str, Any], w: _TopWords) -> str:
    """With one replication: the favoured lever, and that how sure cannot be told."""
    return (
        f"{w.lever.action} first{w.later}: it {_verb(d['top']['diff'])} {w.what} by {w.by} "
        f"against {w.where}, the largest gain of the levers tested. With one replication the "
        "model cannot tell how sure this is, nor the order of the levers; run 10 or more "
        "(--reps 10)."
    )


def _better_sentences(d: Mapping[str, Any], w: _TopWords) -> list[str]:
    """The favoured lever clearly helps: how much, and whether it beats the runner-up."""
    top, runner = d["top"], d["runner_up"]
    text = (
        f"{w.lever.action} first{w.later}: it {top['certainty']} {_verb(top['diff'])} {w.what} "
        f"by {w.by} (95% interval {w.interval}) against {w.where}"
    )
    if runner is None:
        return [text + "; it is the only lever tested."]
    n_wins, won = d["wins"]["replications"], d["wins"]["by_lever"].get(top["lever"], 0)
    if runner["direction"] == "better":
        rl = _lever(runner["lever"])
        return [
            text + f", and beats the runner-up, {rl.noun}, by {size(w.kpi, runner['diff'])} "
            f"({_interval(w.kpi, runner['ci_low'], runner['ci_high'], runner['diff'])}); "
            f"it came out best in {won} of {n_wins} replications, so the model is "
            f"{runner['certainty']} right about the order."
        ]
    return [text + ".", _runner_up_unclear_sentence(runner, w, won, n_wins)]


def _runner_up_unclear_sentence(
    runner: Mapping[str, Any], w: _TopWords, won: int, n_wins: int
) -> str:
    """The favoured lever cannot be told apart from the runner-up: the gap, and what might tell."""
    rl = _lever(runner["lever"])
    if runner["diff"] == 0:
        gap = f"the two tie on average and {w.lever.noun} came out best in {won} of {n_wins}"
    else:
        span = _interval(w.kpi, runner["ci_low"], runner["ci_high"], runner["diff"])
        gap = (
            f"{w.lever.noun} is ahead by {size(w.kpi, runner['diff'])} (95% interval {span}) "
            f"and came out best in {won} of {n_wins}"
        )
    more = runner["suggested_reps"]
    if more is not None:
        tail = f" More replications (about {_round_reps(more)}, --reps {more}) might separate them."
    else:
        tail = (
            f" The gap is too small for more replications to settle (more than "
            f"{_round_reps(MAX_SUGGESTED_REPS)} would be needed): treat them as equally "
            f"good on {w.what}."
        )
    return (
        f"But the model cannot separate it from the runner-up, {rl.noun}: {gap} replications.{tail}"
    )


def _unclear_sentences(d: Mapping[str, Any], w: _TopWords) -> list[str]:
    """No lever clearly helps: the most promising one, and whether more replications might tell."""
    top = d["top"]
    parts = [
        f"No single lever clearly improves {w.what} against {w.where}. The most promising, "
        f"{w.lever.noun}, {_verb(top['diff'])} it by {w.by} (95% interval {w.interval}), but "
        f"that could be chance ({chance(top['p_better'])} chance it helps); the model does not "
        "favour any one change on this KPI."
    ]
    more = d.get("top_suggested_reps")
    if more:
        parts.append(f"More replications (about {_round_reps(more)}) might tell.")
    return parts


def _all_worse_sentence(d: Mapping[str, Any], w: _TopWords) -> str:
    """Every lever makes the ranking KPI worse: the least harmful, and leave things as they are."""
    return (
        f"Every lever makes {w.what} worse against {w.where}; the least harmful, "
        f"{w.lever.noun}, {_verb(d['top']['diff'])} it by {w.by} (95% interval {w.interval}). "
        f"On {w.what} the model favours leaving the current set-up as it is."
    )


def _trade_off_sentences(d: Mapping[str, Any]) -> list[str]:
    """One sentence per other KPI the favoured lever makes clearly worse."""
    parts = []
    for t in d["trade_offs"]:
        tk = KPIS[t["kpi"]]
        parts.append(
            f"Trade-off: it also makes {_phrase(t['kpi'])} worse, "
            f"{'cutting' if t['diff'] < 0 else 'raising'} it by "
            f"{size(tk, t['diff'])} (95% interval "
            f"{_interval(tk, t['ci_low'], t['ci_high'], t['diff'])})."
        )
    return parts


def verdict_text(d: Mapping[str, Any]) -> str:
    """The paragraph a board member reads: which single change the model favours, how sure."""
    top = d["top"]
    if top is None:
        unranked = (
            f"{KPIS[d['rank_by']].label} is not defined in these runs, so the levers cannot be "
            "ranked by it; rank them by another KPI (--rank-by)."
        )
        return " ".join([unranked, *_in_place_sentence(d)])
    w = _top_words(d)
    one_rep = math.isnan(top["p_better"])
    direction = top["direction"]
    if one_rep:
        parts = [_one_rep_sentence(d, w)]
    elif direction == "better":
        parts = _better_sentences(d, w)
    elif direction == "no clear difference":
        parts = _unclear_sentences(d, w)
    else:
        parts = [_all_worse_sentence(d, w)]
    if direction == "better" or one_rep:
        parts += _trade_off_sentences(d)
    return " ".join(parts + _other_leaders(d) + _in_place_sentence(d))


def headline_text(d: Mapping[str, Any]) -> str:
    """The verdict in one line, for a chart or slide title."""
    top = d["top"]
    kpi = KPIS[d["rank_by"]]
    if top is None:
        return f"The levers cannot be ranked by {kpi.label.lower()} in these runs"
    lever = _lever(top["lever"])
    effect = f"{_verb(top['diff'])} {_phrase(d['rank_by'])} by {size(kpi, top['diff'])}"
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
                f"{size(k, best['diff'])})"
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
# Names a board reads instead of code
# --------------------------------------------------------------------------------------------

#: Plain words for the values a key takes from a list (the rest read as written, without "_").
CHOICES: dict[tuple[str, str], str] = {
    ("comms.strategy", "chat_first"): "chat first",
    ("comms.strategy", "channel_sla"): "channels with agreed answer times",
    ("coaching.program", "none"): "no coaching",
    ("coaching.program", "micro_4wk"): "four-week micro-coaching",
    ("coaching.program", "workshop"): "a one-day coaching workshop",
    ("incentives.rep_measure", "bookings"): "reps paid on bookings",
    ("incentives.rep_measure", "activation"): "reps paid on activated customers",
    ("behaviour.choice_rule", "logit"): "people weigh every task at once",
    ("behaviour.choice_rule", "budget"): "people budget effort task by task",
    ("structure.kind", "silo"): "functional silos",
    ("structure.kind", "pod"): "cross-functional pods",
    ("structure.kind", "squad"): "cross-functional squads",
    ("structure.kind", "tribe"): "cross-functional tribes",
}
#: How a structure's teams are called, by kind.
TEAMS = {"silo": "functional teams", "pod": "pods", "squad": "squads", "tribe": "tribes"}
_PERCENT_UNITS = ("share", "probability", "completeness", "0..1")


def mix_text(values: Mapping[str, Any]) -> str:
    """A bonus mix as people write it, individual/team/company/silo-buster in %: 40/30/20/10."""
    return "/".join(f"{float(values[k]) * 100:.0f}" for k in WEIGHT_KEYS)


def _lower_first(name: str) -> str:
    """'Shared glossary' -> 'shared glossary'; a proper name stays ('Minimum Viable ...')."""
    words = name.split()
    if (len(words) > 1 and words[1][:1].isupper()) or words[0].isupper():
        return name
    return name[:1].lower() + name[1:]


def setting_phrase(key: str, value: Any) -> str:
    """One setting in plain words: 'shared glossary', 'team size 8', 'gate compliance 90%'."""
    choice = CHOICES.get((key, str(value)))
    if choice is not None:
        return choice
    name = _lower_first(human_name(key))
    if isinstance(value, bool):
        return name if value else f"no {name}"
    unit = _UNITS.get(key, "")
    if isinstance(value, int | float) and value is not None:
        if unit.startswith(_PERCENT_UNITS):
            return f"{name} {float(value) * 100:g}%"
        if unit.startswith("currency"):
            code = currency()
            amount = format_number(float(value), number_style(float(value), compact=True))
            return f"{name} {code + ' ' if code else ''}{amount}"
        if unit in ("days", "working days", "day"):
            return f"{name} {format_value(value)} days"
    return f"{name} {format_value(value).replace('_', ' ')}"


_UNITS = {r["key"]: r["unit"] for r in lever_table()}


def _teams(kind: Any, size: Any) -> str:
    teams = TEAMS.get(str(kind), "teams") if kind is not None else "teams"
    if size is None:
        return "functional silos" if kind == "silo" else teams
    return f"{teams} of {format_value(size)}"


def point_label(values: Mapping[str, Any], scenario: Mapping[str, Any] | None = None) -> str:
    """A design point in plain words from its axis values: '40/30/20/10, squads of 8'.

    ``scenario`` (the point's scenario as a mapping) names what an axis leaves implicit, such
    as the kind of team whose size a sweep varies.
    """
    rest = dict(values)
    parts = []
    if all(k in rest for k in WEIGHT_KEYS):
        parts.append(mix_text(rest))
        for k in WEIGHT_KEYS:
            rest.pop(k)
    if "structure.kind" in rest or "structure.team_size" in rest:
        structure = (scenario or {}).get("structure", {})
        kind = rest.pop("structure.kind", structure.get("kind"))
        size = rest.pop("structure.team_size", None)
        parts.append(_teams(kind, size))
    parts += [setting_phrase(k, v) for k, v in rest.items()]
    return ", ".join(parts) or "as set"


def settings_phrase(keys: Iterable[str]) -> str:
    """What a roll-out step without a label changes: 'channel strategy and decision archive'."""
    names = list(dict.fromkeys(_lower_first(human_name(k)) for k in keys))
    return join_words(names) if names else "a change"


#: Abbreviations a board page may use, each spelled out once (see :func:`glossary`).
ABBREVIATIONS = {
    "C&A": "complete and accurate",
    "CRM": "customer relationship management (system)",
    "ELI5": "explain like I'm five (plain-language answers)",
    "KPI": "key performance indicator",
    "MVH": "Minimum Viable Handoff",
    "SLA": "service-level agreement (an agreed answer time)",
}
_ABBREVIATION = re.compile(r"(?<![\w&])([A-Z][A-Z0-9&]*[A-Z0-9])(?=s?(?![\w&]))")


def glossary(texts: Iterable[str], code: str | None = None) -> str:
    """'Abbreviations: C&A = complete and accurate; USD = US dollar.' for the abbreviations
    ``texts`` use (and the currency ``code``), or '' when they use none."""
    used = {a for t in texts for a in _ABBREVIATION.findall(t)}
    terms = {a: e for a, e in ABBREVIATIONS.items() if a in used}
    if code:
        terms[code] = currency_name(code)
    if not terms:
        return ""
    return "Abbreviations: " + "; ".join(f"{a} = {e}" for a, e in sorted(terms.items())) + "."
