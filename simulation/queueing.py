"""Ops capacity and queueing: work-conserving first-come-first-served service of daily hours.

A functional ops department is one pooled queue; cross-functional teams each serve their own
queue with their own hours (pooling loss: one team can idle while another's customers wait).
Each deal absorbs at most a fixed number of hours a day (the customer's pace), so a pool of
``capacity`` hours behaves like ``capacity / cap`` parallel servers (M/G/c); with the cap lifted
it is one server of rate ``capacity`` (M/G/1), whose waits the Pollaczek-Khinchine formula gives.
"""

from __future__ import annotations

import numpy as np


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
