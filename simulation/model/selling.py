"""Selling: reps (with ops' pre-sales help) work their open deals to a decision.

Each rep works their oldest opportunities first; a buyer absorbs only a few hours a day, and
hours with no deal to work are idle. Documentation and ops' scoping review build each deal's
handover package while it is sold. A deal is decided when its selling work is done: won with a
probability that an oversold promise raises, lost otherwise; a deal that waits too long goes
stale and is lost. A won deal closes today and waits for its handover trigger.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from simulation.model import coaching, handover
from simulation.model.deals import HANDOVER, LOST, OPEN, DealBook
from simulation.model.hours import HC
from simulation.model.queueing import fifo_serve
from simulation.model.structure import Structure


def sell(d: DealBook, sim_day: int, hours: np.ndarray, org: Structure, s: Any,
         promise: np.ndarray, learning: coaching.Learning,
         bookings: np.ndarray) -> tuple[float, float]:  # fmt: skip
    """Selling and documenting move open deals; decisions at the end of the selling work.

    Books reps' core, idle and ops' collaboration into ``hours`` (people x categories) and won
    value into ``bookings`` (per rep). Returns deals won and lost today.
    """
    R = org.R
    m, b = s.market, s.behaviour
    open_ = d.live_in(OPEN)
    if len(open_) == 0:
        hours[:R, HC["idle"]] = hours[:R, HC["core"]]  # nothing to sell
        hours[:R, HC["core"]] = 0.0
        return 0.0, 0.0
    reps = d.rep[open_]
    n_open = np.bincount(reps, minlength=R).astype(float)
    help_q = np.bincount(org.ops_queue, weights=hours[R:, HC["help"]], minlength=org.n_queues)
    collab_q = np.bincount(org.ops_queue, weights=hours[R:, HC["quality"]], minlength=org.n_queues)
    rep_group = org.queue_of_rep if org.cross_functional else np.zeros(R, dtype=np.int64)
    open_per_group = np.bincount(rep_group[reps], minlength=org.n_queues).astype(float)
    help_per_deal = help_q * b.help_efficiency / np.maximum(open_per_group, 1.0)
    per_deal_collab = (collab_q / np.maximum(open_per_group, 1.0))[rep_group[reps]]
    # selling: each rep works their oldest opportunities first (a buyer absorbs a few hours a
    # day); ops' pre-sales help joins the rep's hours; hours with no deal to work are idle
    sell_cap = hours[:R, HC["core"]].copy()
    help_rep = help_per_deal[rep_group] * n_open  # ops pre-sales help reaching each rep
    served = fifo_serve(
        reps, open_, d.sell_need[open_] - d.sell_done[open_], sell_cap + help_rep,
        m.max_selling_hours_per_deal_day,
    )  # fmt: skip
    d.sell_done[open_] += served
    used = np.minimum(np.bincount(reps, weights=served, minlength=R), sell_cap)
    hours[:R, HC["idle"]] = sell_cap - used
    hours[:R, HC["core"]] = used
    # documentation and ops' scoping review spread over the pipeline (realistic scoping)
    doc = hours[:R, HC["quality"]] / np.maximum(n_open, 1.0)
    d.doc_hours[open_] += doc[reps] + per_deal_collab
    return _decide(d, open_, sim_day, org, s, promise, learning, bookings)


def _decide(d: DealBook, open_: np.ndarray, sim_day: int, org: Structure, s: Any,
            promise: np.ndarray, learning: coaching.Learning,
            bookings: np.ndarray) -> tuple[float, float]:  # fmt: skip
    """Stale deals are lost; deals whose selling is done are won or lost."""
    m, b = s.market, s.behaviour
    age = sim_day - d.created[open_] + 1
    stale = age * m.stale_hazard > d.stale_budget[open_]
    decided = ~stale & (d.sell_done[open_] >= d.sell_need[open_])
    lost_idx = open_[stale]
    dec = open_[decided]
    won_today = 0.0
    if len(dec):
        # a rep oversells a share ``promise`` of their deals; an oversold deal wins more often
        oversold = (d.u_oversell[dec] < promise[d.rep[dec]]).astype(float)
        logit = math.log(m.win_base / (1.0 - m.win_base)) + m.overpromise_win_lift * oversold
        p_win = 1.0 / (1.0 + np.exp(-logit))
        win = d.u_win[dec] < p_win
        won = dec[win]
        lost_idx = np.concatenate((lost_idx, dec[~win]))
        if len(won):
            wr = d.rep[won]
            d.stage[won] = HANDOVER
            d.closed[won] = sim_day
            d.promise[won] = oversold[win]
            d.queue[won] = org.queue_of_rep[wr]
            skill = coaching.rep_skill(learning, wr, b.learning_exponent)
            d.c_close[won] = handover.completeness(
                d.doc_hours[won], skill, b.doc_hours_need, d.complexity[won]
            )
            d.trigger[won] = sim_day + handover.trigger_days(d.u_trigger[won], s.handover)
            np.add.at(bookings, wr, d.value[won])
            won_today = float(len(won))
    if len(lost_idx):
        d.stage[lost_idx] = LOST
        d.closed[lost_idx] = sim_day
    return won_today, float(len(lost_idx))
