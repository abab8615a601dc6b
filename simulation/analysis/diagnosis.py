"""Which single change first? Planning and statistics of a diagnosis.

The playbook advises changing one system at a time. A diagnosis starts from a scenario ("current"),
rolls each playbook lever (:mod:`simulation.scenario.levers`) out alone on top of it, and, for the
levers the playbook bundles from separate changes, each part alone too (``levers``: ``all``,
``bundles`` or ``parts``). Each lever is an intervention on the roll-out day (default
:data:`simulation.scenario.levers.DEFAULT_ROLLOUT_DAY`) of a run one scenario horizon longer than
that day, so a full horizon follows the roll-out and transition costs (squads' reorganisation dip)
are measured. All variants run on the same replication seeds (common random numbers: replication
``i`` of every variant faces the same customers, and is the current set-up until the roll-out
day). The levers are ranked by their paired difference from "current" on every KPI over the year
after roll-out (the model's ``after_rollout_<kpi>`` values), with 95% intervals and the chance
each one is better; the same over the whole run is reported beside them (``whole_run``).

How sure the model is about the favoured lever is said three ways:

* the chance that it is better than the current set-up at all (paired difference with
  "current", see :func:`simulation.analysis.compare.paired_difference`);
* the paired difference between it and the runner-up on the ranking KPI, and the chance it is
  the better of the two (same seeds, so replications pair one to one);
* how many replications it came out best in, among all levers.

The results folder is an ordinary compare folder (labels ``current`` and the lever keys), so
``friction report`` reads it; the diagnosis is saved next to it as ``diagnosis.json``. The
verdict's words come from :mod:`simulation.analysis.words`; running one is
:func:`simulation.experiments.diagnose`.

Functions that rank (:func:`rank_levers`, :func:`count_wins`, :func:`head_to_head`,
:func:`summarise_diagnosis`) are pure.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from simulation.analysis.compare import (
    beaten_on_every_kpi,
    beats,
    cannot_separate,
    named_first_order,
    paired_difference,
)
from simulation.analysis.guardrails import check_plans
from simulation.analysis.results import (
    Results,
    load_results,
    paired_differences,
    results_folder,
    save_comparison,
)
from simulation.analysis.stats import MAX_SUGGESTED_REPS
from simulation.analysis.words import (
    certainty,
    diagnosis_bottom_line,
    headline_text,
    verdict_text,
)
from simulation.batch.design import Design, compare_design, slug
from simulation.batch.store import write_json
from simulation.common.formats import format_value
from simulation.model.hours import DAYS_PER_YEAR
from simulation.model.metrics import AFTER_ROLLOUT, KPI, KPIS, MISSION, WINDOW_KPIS
from simulation.scenario.config import Scenario, get_dotted, same_value
from simulation.scenario.levers import (
    CURRENT,
    DEFAULT_LEVER_SET,
    DEFAULT_RANK,
    DEFAULT_ROLLOUT_DAY,
    DEFAULTS,
    LEVER_BY_KEY,
    Lever,
    in_place,
    intervention_notes,
    lever_set,
    rollout_day,
    state_on,
)
from simulation.scenario.loader import ScenarioError, load_scenario

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "CURRENT",
    "DEFAULT_RANK",
    "MAX_SUGGESTED_REPS",
    "TRADE_OFF",
    "TRADE_OFF_KPIS",
    "DiagnoseError",
    "Plan",
    "check_rank_by",
    "count_wins",
    "effects_frame",
    "finish_diagnosis",
    "head_to_head",
    "plan_diagnosis",
    "rank_levers",
    "suggested_reps",
    "summarise_diagnosis",
]

TRADE_OFF = 0.2  # the favoured lever "clearly" worsens a mission KPI when P(better) < this
#: KPIs whose clear worsening the verdict names: the brief's three, and the revenue that cost of
#: friction leaves out (a lever can cut friction by selling less).
TRADE_OFF_KPIS = (*MISSION, "revenue")


class DiagnoseError(ScenarioError):
    """A user error in diagnose options (exit 2)."""


def check_rank_by(name: str, where: str = "rank_by") -> str:
    """The KPI to rank by, or an error naming the valid ones."""
    if name in KPIS:
        return name
    close = difflib.get_close_matches(name, list(KPIS), n=1)
    hint = f"did you mean {close[0]}? " if close else ""
    raise DiagnoseError(f"{where}: '{name}' is not a KPI; {hint}choose one of {', '.join(KPIS)}")


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
            keys of :func:`simulation.analysis.compare.paired_difference`.

    Returns:
        The rows in rank order, each with ``rank``, ``improvement`` (the difference in the
        KPI's good direction), ``certainty`` and ``direction`` (words of
        :func:`simulation.analysis.compare.certainty`) added. Ties keep the input order.
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
        "p_better", "certainty", "direction", "beats", "separated", "suggested_reps"}``:
        ``beats``, the top beats the other (:func:`simulation.analysis.compare.beats`);
        ``separated``, the interval excludes 0 (else the two cannot be separated).
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
        "beats": beats(d, better),
        "separated": not cannot_separate(d),
        "suggested_reps": suggested_reps(sd, d["diff"], d["n"]),
    }


_DIFF_KEYS = ("n", "base_mean", "mean", "diff", "ci_low", "ci_high", "relative", "p_better")


def _rank_every_kpi(
    diffs: Sequence[Mapping[str, Any]], levers: Sequence[Lever]
) -> dict[str, list[dict[str, Any]]]:
    """The levers ranked on each KPI from their paired differences with "current"."""
    by_key = {lever.key: lever for lever in levers}
    rankings: dict[str, list[dict[str, Any]]] = {}
    for kpi in KPIS:
        rows = [
            {
                "lever": r["lever"],
                "label": by_key[r["lever"]].label,
                **{k: r[k] for k in _DIFF_KEYS},
            }
            for r in diffs
            if r["kpi"] == kpi
        ]
        rankings[kpi] = rank_levers(rows, kpi)
    return rankings


def _runner_up(
    ranked: Sequence[Mapping[str, Any]], rank_values: Mapping[str, Sequence[float]], better: str
) -> dict[str, Any] | None:
    """The second lever and its head-to-head with the first, or ``None`` when there is none."""
    if len(ranked) < 2 or math.isnan(ranked[1]["diff"]):
        return None
    top, second = ranked[0], ranked[1]
    return {
        "lever": second["lever"],
        "label": second["label"],
        **head_to_head(rank_values[top["lever"]], rank_values[second["lever"]], better),
    }


def _trade_offs(
    rankings: Mapping[str, Sequence[Mapping[str, Any]]], lever: str, rank_by: str
) -> list[dict[str, Any]]:
    """The trade-off KPIs (other than the ranking one) that ``lever`` clearly makes worse."""
    trade_offs = []
    for kpi in TRADE_OFF_KPIS:
        if kpi == rank_by:
            continue
        row = next(r for r in rankings[kpi] if r["lever"] == lever)
        p = row["p_better"]
        if not math.isnan(p) and p < TRADE_OFF:
            trade_offs.append(
                {
                    "kpi": kpi,
                    "label": KPIS[kpi].label,
                    **{k: row[k] for k in ("diff", "ci_low", "ci_high", "p_better")},
                }
            )
    return trade_offs


def _named_first(
    ranked: Sequence[Mapping[str, Any]], values: Mapping[str, Mapping[str, Sequence[float]]]
) -> list[dict[str, Any]]:
    """The ranking KPI's rows with no lever before one that beats it on every mission KPI
    (:func:`simulation.analysis.compare.named_first_order`), ranks renumbered; each row gains
    ``beaten_by``, the levers that beat it on every mission KPI."""
    keys = [r["lever"] for r in ranked]
    direction = {k: KPIS[k].better for k in MISSION}
    known: dict[tuple[str, str], bool] = {}

    def is_beaten_by(plan: str, other: str) -> bool:
        if (plan, other) not in known:
            known[plan, other] = beaten_on_every_kpi(values, plan, other, MISSION, direction)
        return known[plan, other]

    if not all(k in values for k in keys):
        return [{**r, "beaten_by": []} for r in ranked]
    order, _ = named_first_order(keys, is_beaten_by)
    by_key = {r["lever"]: r for r in ranked}
    return [
        {**by_key[k], "rank": i, "beaten_by": [o for o in keys if is_beaten_by(k, o)]}
        for i, k in enumerate(order, start=1)
    ]


def summarise_diagnosis(
    diffs: Sequence[Mapping[str, Any]],
    rank_values: Mapping[str, Sequence[float]],
    rank_by: str,
    levers: Sequence[Lever],
    current: Mapping[str, float],
    header: Mapping[str, Any] | None = None,
    values: Mapping[str, Mapping[str, Sequence[float]]] | None = None,
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
        values: ``values[lever][kpi]`` by replication for the mission KPIs
            (:data:`simulation.model.metrics.MISSION`): with them, no lever is named before one
            that beats it on every mission KPI (the ranking KPI's list is reordered so, each
            row saying ``beaten_by`` whom); without them the ranking KPI alone decides.
    """
    check_rank_by(rank_by)
    rankings = _rank_every_kpi(diffs, levers)
    if values is not None:
        rankings[rank_by] = _named_first(rankings[rank_by], values)
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
        runner = _runner_up(ranked, rank_values, better)
        trade_offs = _trade_offs(rankings, top["lever"], rank_by)
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
    result.setdefault("guardrails", [])
    result["verdict"] = verdict_text(result)
    result["headline"] = headline_text(result)
    result["bottom_line"] = diagnosis_bottom_line(result)
    return result


# --------------------------------------------------------------------------------------------
# Running
# --------------------------------------------------------------------------------------------


@dataclass
class Plan:
    """What a diagnosis runs: the starting scenario, the levers to test, and the design.

    Every variant (``current`` included) runs ``rollout_day`` + the scenario's horizon measured
    days; each lever is rolled out on ``rollout_day`` as an intervention on top of the
    scenario's own roll-out, and ``current`` carries a roll-out step on that day that changes
    nothing, so the year after roll-out is measured alike in every variant.
    """

    start: Scenario
    source: str | None
    levers: list[Lever]
    already_in_place: list[Lever]
    notes: list[str]
    design: Design
    out: Path
    rollout_days: dict[str, int] = field(default_factory=dict)  # lever -> day it comes anyway
    rollout_day: int = DEFAULT_ROLLOUT_DAY  # the measured day every lever is rolled out on
    lever_set: str = DEFAULT_LEVER_SET

    @property
    def horizon_days(self) -> int:
        """Measured days of every variant: the roll-out day plus the scenario's horizon."""
        return self.rollout_day + self.start.horizon_days

    @property
    def window(self) -> tuple[int, int]:
        """Measured days ``[first, end)`` of the year after roll-out: from the first roll-out
        of any variant (the scenario's own may come earlier), a working year or to the end of
        the run (the model's window, :func:`simulation.model.metrics.after_rollout_kpis`)."""
        first = min([self.rollout_day, *(iv.day for iv in self.start.interventions)])
        return first, min(first + int(DAYS_PER_YEAR), self.horizon_days)


#: The longest horizon a scenario may have (measured days), so the latest roll-out day.
LONGEST_HORIZON = next(
    int(m.le) for m in Scenario.model_fields["horizon_days"].metadata if hasattr(m, "le")
)
#: The key the roll-out step of ``current`` sets to the value it already has: a day marker.
MARK_KEY = "comms.strategy"
MARK_LABEL = "roll-out day (current set-up unchanged)"


def check_rollout_day(day: int, horizon: int, where: str = "rollout_day") -> int:
    """The roll-out day, or an error naming the rule: a whole measured day from 0, and room
    for the scenario's horizon after it within the longest run."""
    limit = LONGEST_HORIZON
    if isinstance(day, bool) or not isinstance(day, int) or day < 0:
        raise DiagnoseError(f"{where}: must be a whole number of measured days from 0, got {day}")
    if day + horizon > limit:
        raise DiagnoseError(
            f"{where}: day {day} plus the scenario's horizon of {horizon} days is more than the "
            f"longest run ({limit} measured days); choose {limit - horizon} or less"
        )
    return day


def rolled_out(start: Scenario, changes: Mapping[str, Any], day: int, label: str) -> Scenario:
    """``start`` with ``changes`` rolled out on measured ``day`` (after the scenario's own
    roll-out steps of that day) and its horizon extended by ``day``.

    Raises:
        ScenarioError: the changes give an invalid scenario on that day.
    """
    data = start.model_dump()
    data["horizon_days"] = day + start.horizon_days
    data["interventions"] = [*data["interventions"],
                             {"day": day, "set": dict(changes), "label": label}]  # fmt: skip
    return load_scenario(data)


def _partly_in_place_note(start: Scenario, lever: Lever, day: int) -> str | None:
    """A note when some of the lever's changes already hold by deliberate choice.

    ``start`` is the scenario on the roll-out day. A change whose value is merely the default
    does not count as held.
    """
    held = [
        k
        for k, v in lever.changes.items()
        if same_value(get_dotted(start, k), v) and not same_value(get_dotted(DEFAULTS, k), v)
    ]
    if not held:
        return None
    moves = ", ".join(
        f"{k} {format_value(get_dotted(start, k))} -> "
        + (f"{day} (the roll-out day)" if k == "coaching.start_day" else format_value(v))
        for k, v in lever.changes.items()
        if k not in held
    )
    return (
        f"{lever.label}: partly in place already ({', '.join(held)}); testing "
        f"it changes only {moves}."
    )


@dataclass
class _Choice:
    """The levers a diagnosis tests, with their scenarios, and what it says about the rest."""

    levers: list[Lever] = field(default_factory=list)  # to test, in playbook order
    variants: list[Scenario] = field(default_factory=list)  # one per lever tested
    skipped: list[Lever] = field(default_factory=list)  # already in place
    notes: list[str] = field(default_factory=list)
    rollouts: dict[str, int] = field(default_factory=dict)  # lever -> day it comes anyway


def _variant(start: Scenario, on_day: Scenario, lever: Lever, day: int) -> Scenario:
    """``lever`` rolled out on ``day``; the lever's changes are checked on the scenario of
    that day first, so an invalid combination is named as before."""
    load_scenario(on_day, lever.changes)
    return rolled_out(start, lever.changes, day, lever.label)


def _choose_levers(start: Scenario, levers: Sequence[Lever], day: int) -> _Choice:
    """Each lever rolled out alone on ``day`` on top of ``start``, leaving out those in place
    by then or invalid."""
    chosen = _Choice()
    on_day = state_on(start, day)
    for lever in levers:
        if in_place(start, lever, day):
            chosen.skipped.append(lever)
            continue
        note = _partly_in_place_note(on_day, lever, day)
        if note is not None:
            chosen.notes.append(note)
        try:
            chosen.variants.append(_variant(start, on_day, lever, day))
        except ScenarioError as exc:
            chosen.notes.append(
                f"{lever.label}: cannot be applied to this scenario, so not tested "
                f"({' '.join(str(exc).split())})."
            )
            continue
        chosen.levers.append(lever)
        comes = rollout_day(start, lever)
        if comes is not None and comes > day:
            chosen.rollouts[lever.key] = comes
    chosen.notes[:0] = intervention_notes(start, chosen.levers, day)
    return chosen


def _squads_dip_note(start: Scenario, levers: Sequence[Lever], day: int) -> str | None:
    """Say that squads pay their reorganisation dip in the measured year after roll-out."""
    if not (any(lv.key == "squads" for lv in levers) and start.structure.kind == "silo"):
        return None
    dip = start.structure.transition_days
    if not dip:
        return None
    return (
        f"{LEVER_BY_KEY['squads'].label}: rolled out on day {day} like every lever, so the "
        f"{dip}-day reorganisation dip falls in the year after roll-out and counts against "
        "them, as in a real roll-out."
    )


def _window_note(plan_start: Scenario, day: int) -> str | None:
    """Say so when the scenario's own roll-out starts before the levers' roll-out day."""
    own = [iv.day for iv in plan_start.interventions]
    if not own or min(own) >= day:
        return None
    return (
        f"The year after roll-out is measured from day {min(own)}, the first step of the "
        f"scenario's own roll-out, not from day {day}: every variant is measured over the "
        "same days."
    )


def _diagnosis_design(
    start: Scenario, chosen: _Choice, reps: int, seed: int, source: str | None, day: int,
    lever_set: str,
) -> Design:  # fmt: skip
    """The compare design of "current" and every chosen lever, named after the scenario."""
    marker = {MARK_KEY: get_dotted(state_on(start, day), MARK_KEY)}
    design = compare_design(
        [rolled_out(start, marker, day, MARK_LABEL), *chosen.variants],
        reps,
        seed,
        labels=[CURRENT, *(lv.key for lv in chosen.levers)],
        sources={"scenario": source} if source else None,
    )
    design.name = slug(f"diagnose-{start.name}", 80)
    design.config["diagnose"] = {
        "scenario": start.name,
        "levers": {lv.key: dict(lv.changes) for lv in chosen.levers},
        "already_in_place": [lv.key for lv in chosen.skipped],
        "rollout_day": day,
        "lever_set": lever_set,
    }
    return design


def plan_diagnosis(
    scenario: str | Path | Scenario,
    reps: int = 10,
    seed: int = 1,
    out: str | Path | None = None,
    overrides: Mapping[str, Any] | None = None,
    rollout_day: int = DEFAULT_ROLLOUT_DAY,
    levers: str = DEFAULT_LEVER_SET,
) -> Plan:
    """Load the starting scenario, decide which levers to test and build the comparison design.

    Args:
        rollout_day: the measured day each lever is rolled out on; every variant runs this
            many days more than the scenario's horizon, so a full horizon follows the roll-out.
        levers: which levers to test: ``bundles``, ``parts`` or ``all`` (see
            :data:`simulation.scenario.levers.LEVER_SETS`).

    A lever already in place on the roll-out day is left out; one the scenario cannot take (an
    invalid combination) is left out with a note.

    Raises:
        ScenarioError: the scenario cannot be loaded, a bad option, or no lever is left to test.
    """
    if reps < 1:
        raise DiagnoseError(f"reps: must be at least 1, got {reps}")
    if seed < 0:
        raise DiagnoseError(f"seed: must be at least 0, got {seed}")
    try:
        candidates = lever_set(levers)
    except ValueError as exc:
        raise DiagnoseError(f"levers: {exc}") from None
    source = None if isinstance(scenario, Scenario) else str(Path(scenario).resolve())
    start = load_scenario(scenario, overrides)
    check_rollout_day(rollout_day, start.horizon_days)
    chosen = _choose_levers(start, candidates, rollout_day)
    if not chosen.levers:
        raise DiagnoseError(
            f"scenario '{start.name}': every lever of the playbook is already in place by day "
            f"{rollout_day} (or cannot be applied), so there is nothing to compare"
        )
    notes = chosen.notes
    for extra in (_squads_dip_note(start, chosen.levers, rollout_day),
                  _window_note(start, rollout_day)):  # fmt: skip
        if extra is not None:
            notes.append(extra)
    by = f" by day {rollout_day}" if start.interventions else ""  # its own roll-out counts
    for lever in chosen.skipped:
        notes.insert(0, f"{lever.label}: already in place in '{start.name}'{by}, so not tested.")
    design = _diagnosis_design(start, chosen, reps, seed, source, rollout_day, levers)
    folder = results_folder(out, design.name, 80)
    return Plan(
        start, source, chosen.levers, chosen.skipped, notes, design, folder, chosen.rollouts,
        rollout_day, levers,
    )  # fmt: skip


AFTER = AFTER_ROLLOUT  # prefix of a run's values over the year after its first roll-out


def _after_kpis(results: Results) -> list[str]:
    """The KPIs the runs carry for the year after roll-out (defined in at least one run; a
    folder written before the model measured that year has none)."""
    runs = results.runs
    return [k for k in WINDOW_KPIS if AFTER + k in runs.columns and runs[AFTER + k].notna().any()]


def _diffs(results: Results, labels: Sequence[str], kpis: Sequence[str], prefix: str) -> list[dict]:
    """Paired differences from "current" (point 0) of ``prefix + kpi``, one row per lever."""
    if not kpis:  # paired_differences reads every KPI when given none
        return []
    frame = paired_differences(results, 0, None, list(kpis), prefix=prefix)
    return [
        {**r, "label": labels[int(r["point"])], "lever": labels[int(r["point"])]}
        for r in frame.to_dict(orient="records")
    ]


def _means(results: Results, kpis: Sequence[str], prefix: str) -> dict[str, float]:
    """Means over replications of "current" (point 0)."""
    return {k: float(results.values(prefix + k)[0].mean()) for k in kpis}


def _window_header(plan: Plan, after: Sequence[str], rank_by: str) -> dict[str, Any]:
    """What the JSON says about the roll-out, the windows and the bundles."""
    first, end = plan.window
    return {
        "lever_set": plan.lever_set,
        "rollout": {
            "day": plan.rollout_day,
            "horizon_days": plan.horizon_days,
            "after_rollout": {"from_day": first, "to_day": end},
            "ranked_on": "after_rollout" if rank_by in after else "whole_run",
            "after_rollout_kpis": list(after),
        },
        "bundles": {
            lv.key: [p for p in lv.parts if p in {x.key for x in plan.levers}]
            for lv in plan.levers
            if lv.parts
        },
    }


def _window_notes(plan: Plan, after: Sequence[str], rank_by: str) -> list[str]:
    """Say when a ranking uses the whole run because the year after roll-out is not measured."""
    if not after:
        return ["These runs carry no figures for the year after roll-out, so every ranking "
                "is over the whole run, the days before the roll-out included."]  # fmt: skip
    if rank_by not in after:
        return [f"{KPIS[rank_by].label} is measured over the whole run only, so the ranking on "
                "it includes the days before the roll-out."]  # fmt: skip
    return []


def finish_diagnosis(plan: Plan, rank_by: str = DEFAULT_RANK) -> dict[str, Any]:
    """Read the finished results folder, rank the levers and save ``diagnosis.json``.

    The rankings that decide (``rankings``, ``top``, the verdict) are over the year after
    roll-out for every KPI the runs measure there (``rollout.after_rollout_kpis``), the rest
    over the whole run; ``whole_run`` ranks every KPI over the whole run, transition and the
    days before the roll-out included. Also saves ``comparison.json`` (the folder's ordinary
    paired comparison), so the folder reads like any compare folder.
    """
    check_rank_by(rank_by)
    results = load_results(plan.out)
    save_comparison(results)
    labels = results.manifest["config"]["labels"]
    after = _after_kpis(results)
    whole = _diffs(results, labels, list(KPIS), "")
    rows = _diffs(results, labels, after, AFTER)
    rows += [r for r in whole if r["kpi"] not in after]
    values: dict[str, dict[str, list[float]]] = {label: {} for label in labels}
    for kpi in dict.fromkeys((rank_by, *MISSION)):  # per replication, in the deciding window
        table = results.values((AFTER if kpi in after else "") + kpi)
        for p in table.columns:
            values[labels[p]][kpi] = [float(v) for v in table[p].tolist()]
    rank_values = {label: v[rank_by] for label, v in values.items()}
    current = _means(results, list(KPIS), "") | _means(results, after, AFTER)
    configs = {labels[p]: results.scenario_config(p) for p in range(results.n_points)}
    guardrails = [  # said of the starting scenario by its label
        {**g, **{k: plan.start.label for k in ("plan", "reference") if g.get(k) == CURRENT}}
        for g in check_plans(configs, CURRENT, current, results.replications)
    ]
    header = {
        "scenario": plan.start.name,
        "scenario_label": plan.start.label,
        "description": plan.start.description,
        "source": plan.source,
        "replications": results.replications,
        "seed": results.seed,
        "results": str(plan.out),
        "already_in_place": [
            {"lever": lv.key, "label": lv.label, "changes": dict(lv.changes)}
            for lv in plan.already_in_place
        ],
        "notes": [*plan.notes, *_window_notes(plan, after, rank_by)],
        "rollout_days": dict(plan.rollout_days),
        **_window_header(plan, after, rank_by),
        "guardrails": guardrails,
    }
    d = summarise_diagnosis(rows, rank_values, rank_by, plan.levers, current, header, values)
    for entry in d["levers"]:
        lever = LEVER_BY_KEY[entry["lever"]]
        entry.update(kind=lever.kind, bundle=lever.bundle or None, parts=list(lever.parts))
    d["whole_run"] = {
        "current": _means(results, list(KPIS), ""),
        "rankings": _rank_every_kpi(whole, plan.levers),
    }
    write_json(plan.out / "diagnosis.json", d)
    return d


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
