"""Ops capacity and queueing: work-conserving first-come-first-served service of daily hours.

A functional ops department is one pooled queue; cross-functional teams each serve their own
queue with their own hours (pooling loss: one team can idle while another's customers wait).
Each deal absorbs at most a fixed number of hours a day (the customer's pace), so a pool of
``capacity`` hours behaves like ``capacity / cap`` parallel servers (M/G/c); with the cap lifted
it is one server of rate ``capacity`` (M/G/1), whose waits the Pollaczek-Khinchine formula gives.

State (``Queues``): the running queue-entry number (first come first served across days) and
the deals that received service today.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from simulation.model.deals import ACTIVATED, ONBOARDING, DealBook
from simulation.model.hours import HC


def fifo_serve(
    queue: np.ndarray,
    order_key: np.ndarray,
    remaining: np.ndarray,
    capacity: np.ndarray,
    job_cap: float = np.inf,
) -> np.ndarray:
    """Hours each waiting job receives today.

    Jobs in the same queue are served in ``order_key`` order; each queue spends at most its
    ``capacity`` hours, and an hour is never left unused while a job in that queue can still
    absorb work (work conserving). A job absorbs at most ``job_cap`` hours a day (the customer's
    pace), so a queue behaves like ``capacity / job_cap`` parallel servers; with an infinite cap
    it is a single server of rate ``capacity`` (M/G/1).

    Args:
        queue: queue id per job.
        order_key: service priority per job (smaller first, e.g. queue-entry sequence number).
        remaining: hours each job still needs.
        capacity: hours available today, indexed by queue id.
    """
    if len(queue) == 0:
        return np.zeros(0)
    if len(capacity) == 1:  # one pooled queue: no grouping needed
        order = np.argsort(order_key, kind="stable")
        r = np.minimum(remaining[order], job_cap)
        ahead = np.cumsum(r) - r
        served = np.empty(len(r))
        served[order] = np.minimum(np.maximum(capacity[0] - ahead, 0.0), r)
        return served
    order = np.lexsort((order_key, queue))
    q = queue[order]
    r = np.minimum(remaining[order], job_cap)
    cum = np.cumsum(r)
    # hours needed by the jobs ahead of each job in the same queue
    new_group = np.empty(len(q), dtype=bool)
    new_group[0] = True
    np.not_equal(q[1:], q[:-1], out=new_group[1:])
    starts = np.flatnonzero(new_group)
    lengths = np.diff(np.append(starts, len(q)))
    group_offset = np.repeat(cum[starts] - r[starts], lengths)
    ahead = cum - r - group_offset
    served_sorted = np.minimum(np.maximum(capacity[q] - ahead, 0.0), r)
    served = np.empty_like(served_sorted)
    served[order] = served_sorted
    return served


@dataclass
class Queues:
    """Order of entry into the ops queues and today's service."""

    next_seq: int = 0  # queue number of the next deal to enter
    served_today: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))


def serve(state: Queues, d: DealBook, sim_day: int, hours: np.ndarray, org: Any, s: Any,
          activated: np.ndarray, delivery: np.ndarray) -> tuple[float, float]:  # fmt: skip
    """Ops hours (plus reps' help) serve each queue first come first served.

    Books ops' core, idle, rework and search into ``hours``; activated value per rep into
    ``activated`` and productive delivery hours per ops person into ``delivery``. Returns the
    customers activated today and the ops utilisation.
    """
    R, nq = org.R, org.n_queues
    deliver = hours[R:, HC["core"]]
    cap_ops = np.bincount(org.ops_queue, weights=deliver, minlength=nq)
    rep_help = (
        np.bincount(org.queue_of_rep, weights=hours[:R, HC["help"]], minlength=nq)
        * s.behaviour.help_efficiency
    )
    capacity = cap_ops + rep_help
    live = d.live
    elig = live[(d.stage[live] == ONBOARDING) & (d.ready[live] <= sim_day)]
    activated_today = 0.0
    state.served_today = np.zeros(0, dtype=np.int64)
    used_q = np.zeros(nq)
    rework_q = np.zeros(nq)
    search_q = np.zeros(nq)
    if len(elig):
        served = fifo_serve(
            d.queue[elig], d.seq[elig], d.remaining[elig], capacity,
            s.market.max_hours_per_deal_day,
        )  # fmt: skip
        q = d.queue[elig]
        total = d.work_total[elig]
        used_q = np.bincount(q, weights=served, minlength=nq)
        rework_q = np.bincount(q, weights=served * d.rework_h[elig] / total, minlength=nq)
        search_q = np.bincount(q, weights=served * d.search_h[elig] / total, minlength=nq)
        d.remaining[elig] -= served
        state.served_today = elig[served > 0]
        done = elig[d.remaining[elig] <= 1e-9]
        if len(done):
            d.stage[done] = ACTIVATED
            d.done[done] = sim_day
            np.add.at(activated, d.rep[done], d.value[done])
            activated_today = float(len(done))
    # book queue hours back to people: ops first, reps' help after
    ops_share = np.where(
        capacity > 0, np.minimum(used_q, cap_ops) / np.maximum(cap_ops, 1e-12), 0.0
    )
    frac_rework = np.where(used_q > 0, rework_q / np.maximum(used_q, 1e-12), 0.0)
    frac_search = np.where(used_q > 0, search_q / np.maximum(used_q, 1e-12), 0.0)
    oq = org.ops_queue
    used = deliver * ops_share[oq]
    hours[R:, HC["idle"]] = deliver - used
    hours[R:, HC["rework"]] += used * frac_rework[oq]
    hours[R:, HC["search"]] += used * frac_search[oq]
    hours[R:, HC["core"]] = used * (1.0 - frac_rework[oq] - frac_search[oq])
    delivery += hours[R:, HC["core"]]
    return activated_today, float(used_q.sum() / max(capacity.sum(), 1e-12))
