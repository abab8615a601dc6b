"""Plain words: every verdict, headline and phrase a board member reads.

Numbers come from the analysis (:mod:`simulation.analysis.compare`,
:mod:`simulation.analysis.diagnosis`); this module only phrases them, so one wording serves the
terminal, the HTML report, the deck and the charts: how sure (:func:`certainty`), how large
(:func:`format_kpi_value`, :func:`size`), a comparison's verdict lines (:func:`verdict`), a
plan's change in a phrase (:func:`change_phrase`, :func:`comparison_headline`), a
diagnosis's verdict and headline (:func:`verdict_text`, :func:`headline_text`), the decision in
one sentence with its interval (:func:`comparison_bottom_line`, :func:`diagnosis_bottom_line`),
the price a "better" sentence names (:func:`price_clause`), the guardrails
(:func:`guardrail_text`), and the names a board reads instead of code: a design point's label
(:func:`point_label`), a setting's value (:func:`setting_phrase`) and the abbreviations spelled
out (:func:`glossary`).

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
from simulation.scenario.config import human_name, lever_table, plain_label
from simulation.scenario.levers import CURRENT, DEFAULT_RANK, LEVER_BY_KEY, Lever

__all__ = [
    "ABBREVIATIONS",
    "CERTAINTY",
    "CHANGE_ORDER",
    "ONE_REP_ADVICE",
    "PRICE_KPIS",
    "READ_WITH_CARE",
    "SMALL_CHANGE",
    "best_level_line",
    "certainty",
    "chance",
    "change_phrase",
    "comparison_bottom_line",
    "comparison_headline",
    "comparison_headline_of",
    "currency",
    "currency_name",
    "diagnosis_bottom_line",
    "display_unit",
    "format_kpi_value",
    "glossary",
    "guardrail_lines",
    "guardrail_text",
    "headline_text",
    "is_share",
    "join_words",
    "mix_text",
    "money_in",
    "point_label",
    "price_clause",
    "setting_phrase",
    "settings_phrase",
    "size",
    "starting_point",
    "table_unit",
    "verdict",
    "verdict_options",
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


def verdict(
    name: str,
    d: Mapping[str, float],
    base_label: str,
    label: str,
    others: Mapping[str, Mapping[str, Any]] | None = None,
) -> str:
    """One sentence a board member understands: what changed, by how much, how sure.

    ``others`` (the same plan's paired differences on every KPI) lets a "better" verdict name
    its price in the same sentence: a clear fall in throughput, revenue or net value. A row
    picked as the best of many (``picked_of``) says its interval is widened for the pick.
    """
    kpi = KPIS.get(name)
    title = kpi.label if kpi is not None else name
    if d["n"] == 0:
        return f"{title}: not defined in these runs."
    base_v = format_kpi_value(kpi, d["base_mean"])
    new_v = format_kpi_value(kpi, d["mean"])
    if _negligible(d):
        return f"{title}: unchanged at {base_v} under {label}."
    move = "up" if d["diff"] > 0 else "down"
    rel = "" if math.isnan(d["relative"]) else f", {d['relative']:+.0%}"
    change = format_kpi_value(kpi, d["diff"], diff=True)
    lo = format_kpi_value(kpi, d["ci_low"], diff=True, unit=False)
    hi = format_kpi_value(kpi, d["ci_high"], diff=True, unit=False)
    return (
        f"{title}: {move} from {base_v} under {base_label} to {new_v} under {label} "
        f"({change}{rel}; {_ci_name(d)} {lo} to {hi}). {_judgement(name, d, others)}"
    )


def _negligible(d: Mapping[str, Any]) -> bool:
    """No change beyond rounding: the whole interval within a billionth of the level."""
    scale = 1e-9 * max(1.0, abs(d["base_mean"]))
    return bool(max(abs(d["ci_low"]), abs(d["ci_high"]), abs(d["diff"])) <= scale)


def _judgement(
    name: str, d: Mapping[str, Any], others: Mapping[str, Mapping[str, Any]] | None
) -> str:
    """How sure a verdict is, in words, with the price of a "better" one."""
    words, direction = certainty(d["p_better"])
    picked = d.get("picked_of")
    if direction == "not enough replications to say":
        return "One replication cannot say how sure this is."
    if direction == "no clear difference":
        if picked:
            return (
                f"No clear difference once the pick of the best of {picked} designs is allowed "
                "for; more replications could settle it."
            )
        return (
            f"No clear difference ({d['p_better']:.0%} chance it is better); more replications "
            "could settle it."
        )
    p = d["p_better"] if direction == "better" else 1 - d["p_better"]
    if picked:
        judgement = f"{words.capitalize()} {direction}, even allowing for the pick"
    else:
        judgement = f"{words.capitalize()} {direction} ({chance(p)} chance)"
    if not math.isnan(d["relative"]) and abs(d["relative"]) < SMALL_CHANGE:
        judgement += ", but a small change"
    if direction == "better":
        price = price_clause(others or {}, skip=(name,), interval=False)
        if price:
            judgement += f", at a price: {price}"
    return judgement + "."


def _ci_name(d: Mapping[str, Any]) -> str:
    """'95% interval', or how it was widened for picking the best of many designs."""
    picked = d.get("picked_of")
    if picked:
        return f"95% interval widened for picking the best of {picked} designs,"
    return "95% interval"


#: The KPIs whose fall is the price a "better" sentence names: customers delivered, the revenue
#: they bring and the net value of the year.
PRICE_KPIS = tuple(k for k in ("net_value", "throughput", "revenue") if k in KPIS)


def price_clause(
    rows: Mapping[str, Mapping[str, Any]], skip: Sequence[str] = (), interval: bool = True
) -> str:
    """The price of a plan that does better: each price KPI (:data:`PRICE_KPIS`, other than
    ``skip``) that at least probably (80%) falls in ``rows`` (paired differences by KPI), or ''.

    With intervals: 'throughput very likely falls by 1.78 activations/month (95% interval 0.90
    to 2.66)'; without (a title, or a verdict line next to each KPI's own line): 'net value falls
    by 839k/year and throughput by 2.30 activations/month'.
    """
    said = []
    for name in PRICE_KPIS:
        d = rows.get(name)
        if name in skip or d is None or d.get("n", 0) < 2 or math.isnan(d["diff"]):
            continue
        words, direction = certainty(d["p_better"])
        if direction != "worse" or d["diff"] >= 0:
            continue
        kpi = KPIS[name]
        if not interval:
            said.append(f"{_phrase(name)}{' falls' if not said else ''} by {size(kpi, d['diff'])}")
            continue
        span = _interval(kpi, d["ci_low"], d["ci_high"], d["diff"])
        said.append(
            f"{_phrase(name)} {words} falls by {size(kpi, d['diff'])} ({_ci_name(d)} {span})"
        )
    return join_words(said) if said else ""


#: The order a headline names the mission KPIs in: the decision's measure first, then churn,
#: the handover being the news.
CHANGE_ORDER = tuple(
    k for k in ("net_value", "handover_churn", "productivity_loss", "throughput") if k in KPIS
)


def _rows_frame(rows: Mapping[str, Mapping[str, Any]]) -> pd.DataFrame:
    """One plan's paired differences by KPI as the rows :func:`change_phrase` reads."""
    return pd.DataFrame([{"kpi": k, **dict(d)} for k, d in rows.items()])


def _differences_of(diffs: pd.DataFrame) -> dict[str, dict[str, dict[str, Any]]]:
    """``diffs`` rows (label, kpi, paired keys) as ``{label: {kpi: row}}``."""
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for r in diffs.to_dict(orient="records"):
        out.setdefault(str(r["label"]), {})[str(r["kpi"])] = r
    return out


def comparison_headline(
    diffs: pd.DataFrame, reference: str, ranking: Mapping[str, Any] | None = None
) -> str:
    """The finding of a comparison in one line (see :func:`comparison_headline_of`).

    ``diffs`` has one row per plan and KPI (``label``, ``kpi`` and the paired keys). Without a
    ``ranking`` (:func:`simulation.analysis.compare.rank_plans`, which needs the runs), the
    plans are ordered by their mean change on the ranking KPI alone.
    """
    differences = _differences_of(diffs)
    if not differences:
        return f"Each plan against {reference}"
    if ranking is None:
        rank_by = DEFAULT_RANK if DEFAULT_RANK in set(diffs["kpi"]) else CHANGE_ORDER[0]
        sign = -1.0 if KPIS[rank_by].better == "lower" else 1.0

        def gain(label: str) -> float:
            d = differences[label].get(rank_by)
            return -math.inf if d is None or math.isnan(d["diff"]) else sign * d["diff"]

        order = sorted(differences, key=gain, reverse=True)
        ranking = {"rank_by": rank_by, "first": order[0], "runner_up": None, "beats": True,
                   "separated": True, "passed_over": {}}  # fmt: skip
    return comparison_headline_of(ranking, differences, reference)


def comparison_headline_of(
    ranking: Mapping[str, Any],
    differences: Mapping[str, Mapping[str, Mapping[str, Any]]],
    reference: str,
) -> str:
    """The finding of a comparison in one line: the plan named first (``ranking``, the
    reference among the candidates) and what it does against the reference, good news first,
    then the price. When the top two cannot be separated, it says so and names both; when the
    reference comes first, it says the best alternative does not beat it."""
    first, runner = ranking.get("first"), ranking.get("runner_up")
    if first is None:
        return f"Each plan against {reference}"
    shown = first if first != reference else runner
    if shown is None:
        return f"{reference} alone: nothing to compare it with"
    what = _phrase(ranking["rank_by"])
    lead = ""
    if runner is not None and not ranking.get("separated", True):
        lead = f"{first} and {runner} cannot be separated on {what}; "
    elif first == reference and runner is not None:
        lead = f"{reference} beats the best alternative, {runner}, on {what}; "
    elif runner is not None and runner in ranking.get("passed_over", {}):
        lead = f"{first} beats {runner} on every mission measure; "
    text = f"{lead}{shown} against {reference}: "
    return text + change_phrase(_rows_frame(differences[shown]))


def change_phrase(rows: pd.DataFrame, kpis: Sequence[str] = CHANGE_ORDER) -> str:
    """'cuts churn at handover by 4.8 points and productivity loss by 11.0 points, but lowers
    throughput by 1.78 activations/month' from one plan's paired differences; changes with
    under 80% certainty either way are reported as no clear change. A clear fall in a price KPI
    (:data:`PRICE_KPIS`) outside ``kpis`` is named as part of the price."""
    good: dict[str, list[str]] = {}
    bad: dict[str, list[str]] = {}
    unclear = []
    extra = [k for k in PRICE_KPIS if k not in kpis]
    for name in (*kpis, *extra):
        row = rows[rows["kpi"] == name] if len(rows) else rows
        if row.empty or pd.isna(row["diff"].iloc[0]):
            continue
        r = row.iloc[0]
        kpi = KPIS[name]
        _, direction = certainty(r["p_better"])
        if name in extra and direction != "worse":
            continue
        if direction not in ("better", "worse"):
            unclear.append(kpi.label.lower())
            continue
        verb = _verb_s(kpi, r["diff"])
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


def _verb_s(kpi: KPI, diff: float) -> str:
    """'cuts', 'raises' or 'lowers': a fall in a KPI where lower is better is a cut."""
    if diff >= 0:
        return "raises"
    return "cuts" if kpi.better == "lower" else "lowers"


def _verb_base(kpi: KPI, diff: float) -> str:
    """'raise', 'cut' or 'lower' (see :func:`_verb_s`)."""
    return {"raises": "raise", "cuts": "cut", "lowers": "lower"}[_verb_s(kpi, diff)]


def _a_year(text: str) -> str:
    """'1.2M/year' as said aloud: '1.2M a year'."""
    return text.replace("/year", " a year")


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def _decision(subject: str, rows: Mapping[str, Mapping[str, Any]], rank_by: str,
              against: str) -> str:  # fmt: skip
    """'<subject> would very likely raise net value by 1.2M a year (95% interval 0.4M to 2.0M)
    against <against>', with the price when it does better; no full stop."""
    kpi, what = KPIS[rank_by], _phrase(rank_by)
    d = rows.get(rank_by)
    if d is None or d["n"] == 0 or math.isnan(d["diff"]):
        return f"{subject} leaves {what} undefined in these runs"
    amount = _a_year(size(kpi, d["diff"]))
    verb = _verb_base(kpi, d["diff"])
    if d["n"] < 2 or math.isnan(d["p_better"]):
        return (
            f"{subject} would {verb} {what} by {amount} against {against}, but one replication "
            "cannot say how sure that is"
        )
    ci = f"({_ci_name(d)} {_interval(kpi, d['ci_low'], d['ci_high'], d['diff'])})"
    words, direction = certainty(d["p_better"])
    if direction == "no clear difference":
        return (
            f"{subject} might {verb} {what} by {amount} against {against}, but that could be "
            f"chance {ci}: no clear difference"
        )
    text = f"{subject} would {words} {verb} {what} by {amount} {ci} against {against}"
    price = price_clause(rows, skip=(rank_by,)) if direction == "better" else ""
    return text + (f", at a price: {price}" if price else "")


def comparison_bottom_line(
    ranking: Mapping[str, Any],
    differences: Mapping[str, Mapping[str, Mapping[str, Any]]],
    reference: str,
    picked_of: int | None = None,
) -> str:
    """The decision in one sentence with its 95% interval: what the plan named first
    (``ranking``, see :func:`simulation.analysis.compare.rank_plans`) does to the ranking KPI
    against the reference, or, when the reference comes first, that it should be kept.

    ``differences[plan][kpi]`` are paired differences from the reference; ``picked_of`` is
    the number of designs a sweep's best was picked from (its interval is widened for it).
    """
    rank_by = ranking["rank_by"]
    what = _phrase(rank_by)
    first, runner = ranking.get("first"), ranking.get("runner_up")
    if first is None:
        return f"{_cap(what)} is not defined in these runs, so the plans cannot be ranked by it."
    if runner is None:
        return f"Only {first} was run: there is nothing to compare it with."
    if first != reference:
        subject = f"Picked as the best of {picked_of} designs, {first}" if picked_of else first
        text = _decision(subject, differences[first], rank_by, reference)
        if not ranking.get("separated", True) and runner != reference:
            text += f"; the model cannot separate it from {runner}"
        return text + "."
    if ranking.get("beats"):
        lead = f"Keep {reference}: the best alternative, {runner},"
    elif not ranking.get("separated", True):
        lead = f"No plan beats {reference} on {what}: the best alternative, {runner},"
    else:
        lead = f"Keep {reference}, which beats {runner} on every mission measure: {runner}"
    return _decision(lead, differences[runner], rank_by, reference) + "."


def best_level_line(
    label: str | None, row: Mapping[str, Any] | None, rank_by: str, picked_of: int
) -> str:
    """The bottom line of a sweep that did not run today's plan: the best design's level on
    the ranking KPI with its 95% interval (``row`` holds ``<kpi>_mean``, ``_ci_low``,
    ``_ci_high``)."""
    what = _phrase(rank_by)
    if label is None or row is None:
        return f"{_cap(what)} is not defined in these runs, so the designs cannot be ranked by it."
    kpi = KPIS[rank_by]
    mean, lo, hi = (float(row[f"{rank_by}_{s}"]) for s in ("mean", "ci_low", "ci_high"))
    return (
        f"Of {picked_of} designs, {label} has the best {what}, "
        f"{_a_year(format_kpi_value(kpi, mean))} (95% interval "
        f"{format_kpi_value(kpi, lo, unit=False)} to {format_kpi_value(kpi, hi, unit=False)}); "
        "the sweep did not run today's plan, so it states no change against it."
    )


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


#: The replications a one-replication verdict advises, at least.
ONE_REP_ADVICE = 10


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


def starting_point(d: Mapping[str, Any]) -> str:
    """The set-up a diagnosis measures its levers against, by the starting scenario's label
    (older files without one: its name in plain words): 'the current set-up (Today's plan)';
    'today's set-up' for the bundled baseline."""
    name = str(d.get("scenario") or "")
    if name.lower() == "baseline":
        return "today's set-up"
    label = d.get("scenario_label") or (plain_label(name) if name and name != CURRENT else "")
    return f"the current set-up ({label})" if label else "the current set-up"


def _top_words(d: Mapping[str, Any]) -> _TopWords:
    """The shared phrases of a diagnosis whose favoured lever (``d["top"]``) is known."""
    kpi = KPIS[d["rank_by"]]
    top = d["top"]
    where = starting_point(d)
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
        f"model cannot tell how sure this is, nor the order of the levers; run {ONE_REP_ADVICE} "
        "or more replications."
    )


def _lever_rows(d: Mapping[str, Any], lever: str) -> dict[str, Mapping[str, Any]]:
    """A lever's paired differences from the current set-up, by KPI (from the rankings)."""
    return {
        kpi: row for kpi, ranked in d["rankings"].items() for row in ranked if row["lever"] == lever
    }


def _mission_words() -> str:
    """'net value, churn at handover, productivity loss and throughput'."""
    return join_words([_phrase(k) for k in MISSION])


def _runner_beaten(runner: Mapping[str, Any]) -> bool:
    """The favoured lever beats the runner-up on the ranking KPI (older files: by P(better))."""
    return bool(runner.get("beats", runner["direction"] == "better"))


def _runner_separated(runner: Mapping[str, Any]) -> bool:
    """The interval of the top two's paired difference excludes 0 (older files: by P(better))."""
    return bool(runner.get("separated", runner["direction"] == "better"))


def _better_sentences(d: Mapping[str, Any], w: _TopWords) -> list[str]:
    """The favoured lever clearly helps: how much, at what price, and whether it beats the
    runner-up."""
    top, runner = d["top"], d["runner_up"]
    price = price_clause(_lever_rows(d, top["lever"]), skip=(d["rank_by"],))
    text = (
        f"{w.lever.action} first{w.later}: it {top['certainty']} {_verb(top['diff'])} {w.what} "
        f"by {w.by} (95% interval {w.interval}) against {w.where}"
        + (f", at a price: {price}" if price else "")
    )
    if runner is None:
        return [text + "; it is the only lever tested."]
    n_wins, won = d["wins"]["replications"], d["wins"]["by_lever"].get(top["lever"], 0)
    rl = _lever(runner["lever"])
    if _runner_beaten(runner):
        return [
            text + f"; it beats the runner-up, {rl.noun}, by {size(w.kpi, runner['diff'])} "
            f"({_interval(w.kpi, runner['ci_low'], runner['ci_high'], runner['diff'])}) and "
            f"came out best in {won} of {n_wins} replications, so the model is "
            f"{runner['certainty']} right about the order."
        ]
    if not _runner_separated(runner):
        return [text + ".", _runner_up_unclear_sentence(runner, w, won, n_wins)]
    return [
        text + ".",
        f"It comes before {rl.noun}, which does better on {w.what} by "
        f"{size(w.kpi, runner['diff'])}, because it beats {rl.noun} on every mission measure "
        f"({_mission_words()}).",
    ]


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
        tail = f" Running about {_round_reps(more)} replications might separate them."
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
        parts.append(f"Running about {_round_reps(more)} replications might tell whether it helps.")
    return parts


def _all_worse_sentence(d: Mapping[str, Any], w: _TopWords) -> str:
    """Every lever makes the ranking KPI worse: the least harmful, and leave things as they are."""
    return (
        f"Every lever makes {w.what} worse against {w.where}; the least harmful, "
        f"{w.lever.noun}, {_verb(d['top']['diff'])} it by {w.by} (95% interval {w.interval}). "
        f"On {w.what} the model favours leaving the current set-up as it is."
    )


def _trade_off_sentences(d: Mapping[str, Any], priced: bool = False) -> list[str]:
    """One sentence per other KPI the favoured lever makes clearly worse (``priced``: leaving
    out the price KPIs the verdict's first sentence already names)."""
    parts = []
    for t in d["trade_offs"]:
        if priced and t["kpi"] in PRICE_KPIS:
            continue
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
            "ranked by it; rank them by another measure."
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
        parts += _trade_off_sentences(d, priced=direction == "better" and not one_rep)
    return " ".join(parts + _other_leaders(d) + _in_place_sentence(d))


def verdict_options(d: Mapping[str, Any]) -> list[str]:
    """The command-line options behind the verdict's advice (more replications, another
    ranking), one line each, for the analyst's terminal; board text words the advice in
    :func:`verdict_text` without them."""
    top = d["top"]
    if top is None:
        return ["--rank-by KPI (rank the levers by another measure)"]
    if math.isnan(top["p_better"]):
        return [f"--reps {ONE_REP_ADVICE} (enough replications to tell how sure the verdict is)"]
    runner = d.get("runner_up")
    if top["direction"] == "better" and runner is not None:
        more = runner["suggested_reps"]
        if more is not None and not _runner_beaten(runner) and not _runner_separated(runner):
            return [f"--reps {more} (replications that might separate the top two levers)"]
    more = d.get("top_suggested_reps")
    if top["direction"] == "no clear difference" and more:
        return [f"--reps {more} (replications that might tell whether the best lever helps)"]
    return []


def headline_text(d: Mapping[str, Any]) -> str:
    """The verdict in one line, for a chart or slide title: the lever to change first (both,
    when the top two cannot be separated) and its price."""
    top = d["top"]
    kpi = KPIS[d["rank_by"]]
    what = _phrase(d["rank_by"])
    if top is None:
        return f"The levers cannot be ranked by {kpi.label.lower()} in these runs"
    lever = _lever(top["lever"])
    effect = f"{_verb(top['diff'])} {what} by {size(kpi, top['diff'])}"
    if top["direction"] != "better":
        return f"No single lever clearly improves {what}"
    price = price_clause(_lever_rows(d, top["lever"]), skip=(d["rank_by"],), interval=False)
    priced = f", at a price: {price}" if price else ""
    runner = d.get("runner_up")
    if runner is not None and not _runner_separated(runner):
        return (
            f"Change first: {lever.noun} or {_lever(runner['lever']).noun}, which the model "
            f"cannot separate on {what}. {_cap(lever.noun)} {effect}{priced}"
        )
    won = d["wins"]["by_lever"].get(top["lever"], 0)
    return (
        f"Change first: {lever.noun}. It {effect} and came out best in {won} of "
        f"{d['wins']['replications']} replications{priced}"
    )


def diagnosis_bottom_line(d: Mapping[str, Any]) -> str:
    """The decision of a diagnosis in one sentence with its 95% interval: what the lever named
    first does to the ranking KPI against the current set-up."""
    top = d["top"]
    what = _phrase(d["rank_by"])
    if top is None:
        return f"{_cap(what)} is not defined in these runs, so the levers cannot be ranked by it."
    w = _top_words(d)
    rows = _lever_rows(d, top["lever"])
    rows[d["rank_by"]] = top
    if top["direction"] == "worse":
        lead = (
            f"Keep the current set-up on {what}: every lever would make it worse, and the least "
            f"harmful, {w.lever.noun},"
        )
        return _decision(lead, rows, d["rank_by"], w.where) + "."
    if top["direction"] == "no clear difference":
        lead = (
            f"No single lever clearly changes {what} against {w.where}: the most promising, "
            f"{w.lever.noun},"
        )
        return _decision(lead, rows, d["rank_by"], w.where) + "."
    text = _decision(_cap(w.lever.noun), rows, d["rank_by"], w.where)
    runner = d.get("runner_up")
    if runner is not None and not _runner_separated(runner):
        text += f"; the model cannot separate it from {_lever(runner['lever']).noun}"
    return text + "."


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
                f"on {_phrase(kpi)}, {_lever(best['lever']).noun}, which {_verb(best['diff'])} "
                f"it by {size(k, best['diff'])}"
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
# Guardrails (the facts come from simulation.analysis.guardrails)
# --------------------------------------------------------------------------------------------

#: The heading of the guardrails, in the terminal and the board pack.
READ_WITH_CARE = "Read with care"
#: The keys that count people: '12 sales reps', not 'sales reps of 12'.
_HEADCOUNTS = ("org.sales_reps", "org.ops_staff")


def _setting_name(key: str) -> str:
    """A setting's short human name inside a sentence ('annual contract value of a deal'),
    never its key (a key the schema does not know reads as its last part in words)."""
    try:
        return _lower_first(human_name(key))
    except (KeyError, AttributeError):
        return key.rsplit(".", 1)[-1].replace("_", " ")


def _setting_value(key: str, value: Any) -> str:
    """A setting as a reader writes it: 60,000 with its separator (and the currency, for
    money), a share in %, 0.25 as it is."""
    if not isinstance(value, int | float) or isinstance(value, bool):
        return format_value(value).replace("_", " ")
    unit = _UNITS.get(key, "")
    if unit.startswith(_PERCENT_UNITS):
        return f"{float(value) * 100:g}%"
    text = f"{value:,.0f}" if abs(value) >= 1000 else format_value(value)
    code = currency() if unit.startswith("currency") else None
    return f"{code} {text}" if code else text


def _setting(key: str, value: Any, reference: Any) -> str:
    """'12 sales reps (against 40)', 'annual contract value of a deal of 60,000 (against
    40,000)'."""
    v, r = _setting_value(key, value), _setting_value(key, reference)
    if key in _HEADCOUNTS:
        return f"{v} {_setting_name(key)} (against {r})"
    return f"{_setting_name(key)} of {v} (against {r})"


def _firms_text(g: Mapping[str, Any]) -> str:
    if g.get("keys"):
        what = join_words([_setting_name(k) for k in g["keys"]])
        return (
            f"The designs do not face the same customers: the sweep changes the {what}, so a "
            "difference between designs mixes the firm or its market with the plan."
        )
    per = [
        f"{p['plan']} has "
        + join_words([_setting(x["key"], x["value"], x["reference"]) for x in p["differences"]])
        for p in g["plans"]
    ]
    return (
        f"The plans do not face the same customers: against {g['reference']}, "
        + "; ".join(per)
        + ". They share their random draws, but a difference mixes the firm or its market with "
        "the plan."
    )


def guardrail_text(g: Mapping[str, Any]) -> str:
    """One guardrail (:mod:`simulation.analysis.guardrails`) in a sentence or two."""
    kind = g["kind"]
    if kind == "different_firms":
        return _firms_text(g)
    if kind == "calibration":
        kpi = KPIS[g["kpi"]]
        band = f"{g['low'] * 100:.0f}-{g['high'] * 100:.0f}%"
        return (
            f"Under {g['plan']}, {_phrase(g['kpi'])} is {format_kpi_value(kpi, g['value'])}, "
            f"outside the {band} band the model is calibrated to: read its figures as a "
            "what-if for this set-up, not a forecast."
        )
    if kind == "friction_over_payroll":
        money = KPIS["cost_of_friction"]
        return (
            f"Under {g['plan']}, the cost of friction ({format_kpi_value(money, g['cost'])}) "
            f"is {g['cost'] / g['payroll']:.1f} times the payroll "
            f"({format_kpi_value(money, g['payroll'])}), more than the calibrated firm ever "
            "shows: check that the settings fit this firm before trusting the money figures."
        )
    if kind == "best_of_k":
        return (
            f"The best design was picked from {g['k']} after the runs: its intervals against "
            f"today's plan are widened for that pick ({g['method']}, {g['comparisons']} "
            "comparisons), and a design picked this way still tends to do less well when tried "
            "again."
        )
    if kind == "few_replications":
        n = g["replications"]
        return (
            f"Only {n} replication{'s' if n != 1 else ''} per plan, fewer than {g['minimum']}: "
            "the intervals rest on few runs and can mislead; run 10 or more before deciding."
        )
    raise ValueError(f"unknown guardrail kind '{kind}'")


def guardrail_lines(guardrails: Sequence[Mapping[str, Any]]) -> list[str]:
    """Every guardrail's sentence, in order (empty when there is nothing to read with care)."""
    return [guardrail_text(g) for g in guardrails]


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


def net_value_meaning(redeployable_share: float = 0.0) -> str:
    """What net value is, in one sentence a board reads beside the bottom line."""
    if redeployable_share > 0:
        hours = (
            f"{redeployable_share:.0%} of the cost of hours lost to friction or slack is counted "
            "as money the firm could save or redeploy"
        )
    else:
        hours = (
            "hours lost to friction or slack count only through the customers they cost, "
            "since people are paid either way"
        )
    return (
        "Net value is the gross margin on one year of the customers activated, less bonuses and "
        f"the payroll of the people modelled; {hours}."
    )


#: A guardrail in a few words, for a title slide that has no room for the sentence.
_FLAGS = {
    "different_firms": "the plans are different firms or markets",
    "calibration": "today's figures lie outside the calibrated range",
    "friction_over_payroll": "friction costs more than twice the payroll",
    "few_replications": "few replications",
    "best_of_k": "the best of many designs is picked",
}


def guardrail_flag(guardrails: Sequence[Mapping[str, Any]]) -> str:
    """'Read with care: few replications; today's figures lie outside the calibrated range (see
    the summary).', or '' when no guardrail applies."""
    flags = list(dict.fromkeys(_FLAGS.get(g["kind"], "see the summary") for g in guardrails))
    if not flags:
        return ""
    return f"{READ_WITH_CARE}: {'; '.join(flags)} (see the summary)."
