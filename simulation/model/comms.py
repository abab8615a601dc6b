"""Communication channels: interruptions under chat-first, waiting under channel SLAs.

Chat-first: every message interrupts; it costs handling time, and when it lands during deep work
a resumption cost (Mark, Gudith & Klocke 2008: 10-25 min). Channel SLA: only the urgent share
stays on chat; the rest is batched (no resumption cost, slightly cheaper handling) but answers
wait for the SLA, so a deal whose questions go async stalls. Neither side is assumed away.

Messages per person per day: chatter (stream ``chatter``), ops questions about new handovers,
and status requests about waiting customers. State (``Comms``): today's interruptions, whose
stress adds rework to the deals ops receive the next day.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np


def message_load(
    messages: np.ndarray,
    chat_first: bool,
    handling_min: float,
    resumption_min: float,
    deep_share: float,
    urgent_share: float,
    batch_factor: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Interruptions, handling hours and resumption hours per person for ``messages`` received."""
    interrupting = messages if chat_first else messages * urgent_share
    batched = messages - interrupting
    handling = (interrupting + batched * batch_factor) * handling_min / 60.0
    resumption = interrupting * deep_share * resumption_min / 60.0
    return interrupting, handling, resumption


def answer_wait_days(
    questions: np.ndarray, chat_first: bool, sla_days: float, urgent_share: float
) -> np.ndarray:
    """Days a deal waits for answers: none on chat; one SLA cycle per round of batched questions.

    Questions are asked in rounds of about three; only the urgent share bypasses the SLA.
    """
    if chat_first:
        return np.zeros_like(questions)
    rounds = np.ceil(questions * (1.0 - urgent_share) / 3.0)
    return rounds * sla_days


@dataclass
class Comms:
    """Interruptions of the day just handled."""

    ops_interruptions: float = 0.0  # per ops person
    total: float = 0.0  # all people


def chatter(rng: np.random.Generator, per_day: float, n: int) -> np.ndarray:
    """Each person's non-deal messages today (stream ``chatter``)."""
    return rng.poisson(per_day, n).astype(float)


def status_requests(messages: np.ndarray, rate: float, waiting_queue: np.ndarray,
                    waiting_rep: np.ndarray, org: Any) -> None:  # fmt: skip
    """Add status requests about waiting customers: to the queue's ops and (half) to the rep."""
    if len(waiting_queue) == 0 or rate <= 0:
        return
    per_queue = np.bincount(waiting_queue, minlength=org.n_queues) * rate
    oq = org.ops_queue
    messages[org.R :] += per_queue[oq] / np.maximum(org.ops_per_queue[oq], 1.0)
    messages[: org.R] += np.bincount(waiting_rep, minlength=org.R) * rate * 0.5


def handle(state: Comms, messages: np.ndarray, cm: Any, R: int,
           interruption_hours: np.ndarray) -> float:  # fmt: skip
    """Handle today's ``messages``: their hours join ``interruption_hours``.

    Returns interruptions per person today.
    """
    inter, handling, resumption = message_load(
        messages, cm.strategy == "chat_first", cm.handling_minutes, cm.resumption_minutes,
        cm.deep_work_share, cm.urgent_share, cm.batch_handling_factor,
    )  # fmt: skip
    interruption_hours += handling + resumption
    state.total = float(inter.sum())
    state.ops_interruptions = float(inter[R:].mean())
    return float(inter.sum()) / len(messages)
