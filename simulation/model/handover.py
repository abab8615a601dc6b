"""Handover: package completeness, the Minimum Viable Handoff gate, red flags.

A package's completeness is the share of what ops needs that the rep wrote down. It rises with
documentation hours and skill with diminishing returns, ``1 - exp(-skill * hours / need)``, where
``need`` grows with the deal's complexity. A real gate check returns a package below the
threshold to the rep (hours and days, but the information gets fixed); a box-ticked check lets it
through unchanged (Urbach et al. 2014).

The daily flow: a won deal waits for the CRM trigger (``trigger_days``); when it is due, the
gate and the red-flag review may return it to the rep (``check_due``); otherwise it enters an
ops queue with its questions, rework, search and waits (``enter_ops``). A handover owner follows
up every waiting customer (``owner_hours``). The handover's state lives on the deals.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from simulation.model import coaching, comms, information, structure
from simulation.model.deals import ONBOARDING, DealBook, poisson_inverse
from simulation.model.information import Information
from simulation.model.structure import Structure


def completeness(
    doc_hours: np.ndarray, skill: np.ndarray, need: float, complexity: np.ndarray
) -> np.ndarray:
    """Share of required information in the package (0..1)."""
    return 1.0 - np.exp(-skill * doc_hours / (need * complexity))


def gate_returns(c: np.ndarray, threshold: float, checked_for_real: np.ndarray) -> np.ndarray:
    """Which packages a gate (or a red flag) sends back: below threshold and really checked."""
    return checked_for_real & (c < threshold)


#: Completeness a fix can reach at most (the curve never reaches 1 in finite hours).
MAX_FIXED_COMPLETENESS = 0.99


def fix_hours(
    c: np.ndarray,
    threshold: float,
    skill: np.ndarray,
    need: float,
    complexity: np.ndarray,
    factor: float,
) -> np.ndarray:
    """Rep hours to bring a returned package from ``c`` up to ``threshold``.

    The documentation hours the rep's own completeness curve needs for that step,
    ``need * complexity / skill * ln((1 - c) / (1 - threshold))``, times ``factor`` (redoing a
    package after the fact is slower than writing it while selling). Each extra point of
    completeness costs more than the last, so a gate at 0.95 is far dearer than one at 0.7.
    """
    target = min(threshold, MAX_FIXED_COMPLETENESS)
    gap = np.log(np.maximum(1.0 - c, 1e-12) / (1.0 - target))
    return factor * need * complexity / skill * np.maximum(gap, 0.0)


def trigger_days(u_trigger: np.ndarray, hv: Any) -> np.ndarray:
    """Days from close to handover: none with the CRM trigger, else an exponential delay."""
    if hv.auto_trigger:
        return np.zeros(len(u_trigger), dtype=np.int64)
    return np.round(-np.log1p(-u_trigger) * hv.manual_trigger_days).astype(np.int64)


def owner_hours(hv: Any, waiting_reps: np.ndarray, R: int) -> np.ndarray:
    """Rep hours a handover owner spends today following up their waiting customers."""
    per_rep = np.bincount(waiting_reps, minlength=R)
    return per_rep * hv.owner_hours_per_week / 5.0


def check_due(d: DealBook, due: np.ndarray, sim_day: int, s: Any, org: Structure,
              learning: coaching.Learning, coordination: np.ndarray,
              rework: np.ndarray) -> np.ndarray:  # fmt: skip
    """Gate and red-flag checks of the handovers ``due`` today; returns those that go to ops.

    Gate forms and red-flag reviews are booked as ``coordination`` today; fixing a returned
    package is booked as the rep's ``rework`` (hours due tomorrow), and the package comes back
    ``return_days`` later, completed up to the threshold.
    """
    hv, R = s.handover, org.R
    c = d.c_close[due]
    back = np.zeros(len(due), dtype=bool)
    rep_hours = np.zeros(len(coordination))
    if hv.mvh:
        first = ~d.gated[due]
        np.add.at(rep_hours, d.rep[due[first]], hv.gate_minutes / 60.0)
        d.handover_hours[due[first]] += hv.gate_minutes / 60.0
        real = d.u_comply[due] < hv.compliance
        back |= first & gate_returns(c, hv.mvh_threshold, real)
        d.gated[due] = True
    if hv.red_flag:
        # ops review each incoming package once and flag a thin one with some chance
        review = ~back & ~d.flagged[due]
        ops_hours = np.bincount(d.queue[due[review]], minlength=org.n_queues)
        ops_hours = ops_hours * hv.review_minutes / 60.0 / np.maximum(org.ops_per_queue, 1.0)
        coordination[R:] += ops_hours[org.ops_queue]
        spotted = d.u_flag[due] < hv.red_flag_detection
        flag = review & spotted & (c < hv.mvh_threshold)
        d.flagged[due[review]] = True
        back |= flag
    if back.any():
        b = due[back]
        skill = coaching.rep_skill(learning, d.rep[b], s.behaviour.learning_exponent)
        fix = fix_hours(
            c[back], hv.mvh_threshold, skill, s.behaviour.doc_hours_need, d.complexity[b],
            hv.fix_factor,
        )  # fmt: skip
        np.add.at(rework, d.rep[b], fix)
        d.handover_hours[b] += fix
        d.c_close[b] = np.maximum(c[back], hv.mvh_threshold)
        d.returned[b] = True
        d.trigger[b] = sim_day + max(1, round(hv.return_days))
    coordination += rep_hours
    return due[~back]


def enter_ops(d: DealBook, idx: np.ndarray, sim_day: int, s: Any, org: Structure,
              info_state: Information, ops_interruptions: float, seq0: int,
              coordination: np.ndarray, messages: np.ndarray) -> None:  # fmt: skip
    """Deals ``idx`` enter their ops queue: questions, translation, misreads, rework, search,
    exceptions and the days they wait before ops can start; ``seq0`` is the first queue number.

    Ops questions land on the rep as ``messages``; ELI5 answers and exceptions cost the rep
    ``coordination`` hours.
    """
    info, cm, m = s.info, s.comms, s.market
    c = d.c_close[idx]
    reps = d.rep[idx]
    asym_people = info_state.asymmetry
    q_ops_asym = structure.per_queue_mean(org, asym_people[org.R :])
    asym = 0.5 * asym_people[reps] + 0.5 * q_ops_asym[d.queue[idx]]
    questions = information.questions_per_deal(c, asym, info.questions_per_gap)
    # translation champions: limited hours, a queue when demand outruns them
    translated, wait = information.translate(info_state, info, questions)
    p_mis = information.misunderstanding_probability(
        asym,
        info.glossary_effect if info.glossary else 0.0,
        info.eli5_effect if info.eli5 else 0.0,
        translated,
        info.champion_effect,
    )
    misread = d.u_misread[idx] < p_mis
    promise = d.promise[idx]
    base = d.impl_base[idx]
    rework = base * (
        info.misunderstanding_rework * misread
        + m.promise_rework * promise
        + cm.stress_rework * ops_interruptions
    )
    search = information.deal_search_hours(
        c, asym, info.search_hours_per_gap,
        info.archive_search_cut if info.decision_archive else 0.0,
    )  # fmt: skip
    # exceptions: settled in the team (half a day) or escalated to a manager (with backlog)
    n_exc = poisson_inverse(d.u_exc[idx], m.exceptions_per_deal * (1.0 + 2.0 * promise))
    exc_latency = structure.settle_exceptions(org, s.structure, n_exc, d.u_auth[idx])
    answer = comms.answer_wait_days(
        questions, cm.strategy == "chat_first", cm.sla_answer_days, cm.urgent_share
    )
    if s.handover.owner:
        answer *= 1.0 - s.handover.owner_answer_speedup
    stall = answer + exc_latency + wait
    # messages: ops questions land on the rep; exceptions cost the rep an hour of talk
    np.add.at(messages, reps, questions)
    if info.eli5:
        np.add.at(coordination, reps, questions * info.eli5_minutes / 60.0)
    np.add.at(coordination, reps, n_exc * 1.0)
    d.stage[idx] = ONBOARDING
    d.ops_entry[idx] = sim_day
    d.c_ops[idx] = c
    d.questions[idx] = questions
    d.misread[idx] = misread
    d.translated[idx] = translated > 0
    d.n_exc[idx] = n_exc
    d.exc_latency[idx] = exc_latency
    d.rework_h[idx] = rework
    d.search_h[idx] = search
    d.work_total[idx] = base + rework + search
    d.remaining[idx] = d.work_total[idx]
    d.ready[idx] = sim_day + np.ceil(stall).astype(np.int64)
    d.seq[idx] = seq0 + np.arange(len(idx))
