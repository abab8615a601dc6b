"""Communication channels: interruptions under chat-first, waiting under channel SLAs.

Chat-first: every message interrupts; it costs handling time, and when it lands during deep work
a resumption cost (Mark, Gudith & Klocke 2008: 10-25 min). Channel SLA: only the urgent share
stays on chat; the rest is batched (no resumption cost, slightly cheaper handling) but answers
wait for the SLA, so a deal whose questions go async stalls. Neither side is assumed away.
"""

from __future__ import annotations

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
