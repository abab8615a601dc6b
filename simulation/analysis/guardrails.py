"""Guardrails: when a comparison's numbers need reading with care, and why.

Each check is a pure function of what a results folder holds (the scenarios run, the reference
plan's means, the number of replications, how many designs a best one was picked from) and
returns facts, not sentences: :func:`simulation.analysis.words.guardrail_text` words them, so the
terminal and the board pack say the same. The checks:

* **different firms** (:func:`firm_differences`, :func:`sweep_firm_axes`): the plans compared do
  not run the same firm (``org.sales_reps``, ``org.ops_staff``) or market (any ``market.*``
  key), so they do not face the same customers and a difference mixes the firm with the plan;
* **outside the calibration bands** (:func:`calibration`): the reference plan's churn at
  handover, productivity loss or win rate lies outside the bands the defaults were calibrated
  to (design brief: 10-20%, 15-35%, 35-55%);
* **friction above payroll** (:func:`friction_over_payroll`): the reference plan's cost of
  friction exceeds its loaded payroll by more than :data:`FRICTION_PAYROLL_LIMIT` times, a sign
  the settings do not fit the firm;
* **best of many** (:func:`best_of_k`): a sweep's best design is picked after the runs from
  ``k`` designs; its paired interval against the reference is widened for the pick
  (:func:`picked_difference`, Bonferroni over the ``k - 1`` comparisons);
* **few replications** (:func:`few_replications`): fewer than :data:`MIN_REPLICATIONS` per plan.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from simulation.analysis.compare import paired_difference
from simulation.common.formats import as_float

__all__ = [
    "CALIBRATION_BANDS",
    "CONFIDENCE",
    "FIRM_KEYS",
    "FRICTION_PAYROLL_LIMIT",
    "MIN_REPLICATIONS",
    "best_of_k",
    "bonferroni_confidence",
    "calibration",
    "check_plans",
    "few_replications",
    "firm_differences",
    "friction_over_payroll",
    "loaded_payroll",
    "picked_difference",
    "sweep_firm_axes",
]

#: The bands the baseline's defaults were calibrated to (design brief "Calibration targets").
CALIBRATION_BANDS = {
    "handover_churn": (0.10, 0.20),
    "productivity_loss": (0.15, 0.35),
    "win_rate": (0.35, 0.55),
}
MIN_REPLICATIONS = 5  # fewer per plan and intervals rest on too few runs to read with trust
#: Cost of friction over loaded payroll beyond which the settings likely do not fit the firm.
#: The calibrated baseline (40 reps, 30 ops) runs at about 1.2 times its payroll, because the
#: cost of friction counts the contract value of customers lost at handover; twice the payroll
#: is beyond anything the calibration shows.
FRICTION_PAYROLL_LIMIT = 2.0
CONFIDENCE = 0.95
#: The keys that size the firm; with every ``market.*`` key they decide which customers it meets.
FIRM_KEYS = ("org.sales_reps", "org.ops_staff")
MARKET = "market"


#: Market keys that change what a customer is worth to the firm, not which customers it faces.
NOT_CUSTOMERS = ("gross_margin",)


def _firm(config: Mapping[str, Any]) -> dict[str, Any]:
    """The firm and market keys of a scenario (a plain dict, as a results folder stores it)."""
    out = {k: config.get("org", {}).get(k.split(".", 1)[1]) for k in FIRM_KEYS}
    out.update(
        {
            f"{MARKET}.{k}": v
            for k, v in sorted(config.get(MARKET, {}).items())
            if k not in NOT_CUSTOMERS
        }
    )
    return out


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, int | float) and isinstance(b, int | float):
        return math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-12)
    return a == b


def firm_differences(
    configs: Mapping[str, Mapping[str, Any]], reference: str
) -> dict[str, Any] | None:
    """The plans whose firm or market differs from the reference plan's, and how.

    Args:
        configs: each plan's scenario as a plain dict, by plan label.
        reference: the label of the plan the others are compared with.

    Returns:
        ``{"kind": "different_firms", "reference", "plans": [{"plan", "differences": [{"key",
        "reference", "value"}]}]}``, or ``None`` when every plan runs the reference's firm and
        market.
    """
    ref = _firm(configs[reference])
    plans = []
    for label, config in configs.items():
        if label == reference:
            continue
        own = _firm(config)
        diffs = [
            {"key": k, "reference": ref.get(k), "value": own.get(k)}
            for k in dict.fromkeys([*ref, *own])
            if not _same(ref.get(k), own.get(k))
        ]
        if diffs:
            plans.append({"plan": label, "differences": diffs})
    if not plans:
        return None
    return {"kind": "different_firms", "reference": reference, "plans": plans}


def _market_of_customers(key: str) -> bool:
    """A market key that decides which customers the firm meets (not only what they are worth)."""
    section, _, name = key.partition(".")
    return section == MARKET and name not in NOT_CUSTOMERS


def sweep_firm_axes(axes: Sequence[str]) -> dict[str, Any] | None:
    """A sweep whose axes change the firm or the market: its designs do not meet the same
    customers. ``None`` when no axis does."""
    keys = [k for k in axes if k in FIRM_KEYS or _market_of_customers(k)]
    if not keys:
        return None
    return {"kind": "different_firms", "reference": None, "keys": keys}


def calibration(means: Mapping[str, Any], plan: str) -> list[dict[str, Any]]:
    """The reference plan's KPIs that lie outside their calibration band (mean over runs)."""
    out = []
    for kpi, (low, high) in CALIBRATION_BANDS.items():
        value = as_float(means.get(kpi))
        if not math.isnan(value) and not low <= value <= high:
            out.append(
                {"kind": "calibration", "plan": plan, "kpi": kpi, "value": value,
                 "low": low, "high": high}
            )  # fmt: skip
    return out


def loaded_payroll(config: Mapping[str, Any]) -> float:
    """A scenario's salaries at loaded cost, per year."""
    org = config.get("org", {})
    factor = as_float(org.get("loaded_cost_factor", 1.0))
    reps = as_float(org.get("sales_reps")) * as_float(org.get("rep_salary"))
    ops = as_float(org.get("ops_staff")) * as_float(org.get("ops_salary"))
    return (reps + ops) * factor


def friction_over_payroll(
    means: Mapping[str, Any], config: Mapping[str, Any], plan: str
) -> dict[str, Any] | None:
    """The reference plan's cost of friction when it exceeds :data:`FRICTION_PAYROLL_LIMIT`
    times its loaded payroll (the runs' payroll KPI when they have one, else the scenario's
    salaries at loaded cost)."""
    cost = as_float(means.get("cost_of_friction"))
    payroll = as_float(means.get("payroll_cost"))
    if math.isnan(payroll) or payroll <= 0:
        payroll = loaded_payroll(config)
    if math.isnan(cost) or math.isnan(payroll) or payroll <= 0:
        return None
    if cost <= FRICTION_PAYROLL_LIMIT * payroll:
        return None
    return {"kind": "friction_over_payroll", "plan": plan, "cost": cost, "payroll": payroll,
            "limit": FRICTION_PAYROLL_LIMIT}  # fmt: skip


def few_replications(replications: int) -> dict[str, Any] | None:
    """Fewer than :data:`MIN_REPLICATIONS` replications per plan."""
    if replications >= MIN_REPLICATIONS:
        return None
    return {"kind": "few_replications", "replications": int(replications),
            "minimum": MIN_REPLICATIONS}  # fmt: skip


def best_of_k(k: int, replications: int) -> dict[str, Any] | None:
    """A best design picked from ``k`` designs after the runs (three or more: with two there is
    one comparison and nothing is picked). Its intervals are widened for the pick
    (:func:`picked_difference`)."""
    if k < 3:
        return None
    return {"kind": "best_of_k", "k": int(k), "comparisons": int(k) - 1,
            "replications": int(replications), "adjusted": True,
            "method": "Bonferroni"}  # fmt: skip


def bonferroni_confidence(comparisons: int, confidence: float = CONFIDENCE) -> float:
    """The confidence of each of ``comparisons`` intervals so that all hold together with at
    least ``confidence`` (Bonferroni: valid whatever the dependence between them)."""
    return 1.0 - (1.0 - confidence) / max(int(comparisons), 1)


def picked_difference(
    base: Sequence[float], other: Sequence[float], better: str, picked_of: int
) -> dict[str, Any]:
    """The paired difference of a design picked as the best of ``picked_of`` from the reference,
    allowing for the pick: the interval holds for all ``picked_of - 1`` comparisons at once
    (:func:`bonferroni_confidence`), and the chance it is better is Bonferroni-adjusted the same
    way (it stays at 50%, "no clear difference", when the adjustment leaves neither direction).

    Returns:
        The keys of :func:`simulation.analysis.compare.paired_difference` plus ``picked_of``,
        ``confidence`` (of the widened interval) and ``p_better_unadjusted``.
    """
    m = max(int(picked_of) - 1, 1)
    d = paired_difference(base, other, better, confidence=bonferroni_confidence(m))
    p = d["p_better"]
    if not math.isnan(p):
        adjusted = max(0.5, 1 - m * (1 - p)) if p >= 0.5 else min(0.5, m * p)
    else:
        adjusted = p
    return {**d, "p_better": adjusted, "p_better_unadjusted": p, "picked_of": int(picked_of),
            "confidence": bonferroni_confidence(m)}  # fmt: skip


def check_plans(
    configs: Mapping[str, Mapping[str, Any]],
    reference: str,
    means: Mapping[str, Any],
    replications: int,
) -> list[dict[str, Any]]:
    """Every guardrail of a comparison or diagnosis: different firms, the reference plan out of
    its calibration bands or with friction above payroll, few replications (in that order)."""
    found = [firm_differences(configs, reference)]
    found += calibration(means, reference)
    found += [friction_over_payroll(means, configs[reference], reference)]
    found += [few_replications(replications)]
    return [g for g in found if g is not None]
