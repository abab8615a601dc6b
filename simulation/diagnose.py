"""Which single change first? The names of a diagnosis, where code written before the split
finds them.

A diagnosis now lives in its layers: the playbook levers in :mod:`simulation.scenario.levers`,
planning and statistics in :mod:`simulation.analysis.diagnosis`, the verdict's words in
:mod:`simulation.analysis.words`, running one in :func:`simulation.experiments.diagnose`, the
tornado chart in :func:`simulation.report.charts.write_tornado` and the terminal command in
:mod:`simulation.cli.main`. This module re-exports them, so ``from simulation.diagnose import
diagnose`` keeps working.
"""

from __future__ import annotations

from typing import Any

from simulation.analysis.diagnosis import (
    MAX_SUGGESTED_REPS,
    TRADE_OFF,
    TRADE_OFF_KPIS,
    DiagnoseError,
    Plan,
    check_rank_by,
    count_wins,
    effects_frame,
    finish_diagnosis,
    head_to_head,
    plan_diagnosis,
    rank_levers,
    suggested_reps,
    summarise_diagnosis,
)
from simulation.analysis.words import headline_text, verdict_text
from simulation.experiments import diagnose
from simulation.model.metrics import MISSION
from simulation.report.charts import write_tornado
from simulation.scenario.levers import (
    CURRENT,
    DEFAULT_RANK,
    DEFAULTS,
    LEVER_BY_KEY,
    LEVERS,
    Lever,
    in_place,
    intervention_notes,
    rollout_day,
)

__all__ = [
    "CURRENT",
    "DEFAULTS",
    "DEFAULT_RANK",
    "LEVERS",
    "LEVER_BY_KEY",
    "MAX_SUGGESTED_REPS",
    "MISSION",
    "TRADE_OFF",
    "TRADE_OFF_KPIS",
    "DiagnoseError",
    "Lever",
    "Plan",
    "check_rank_by",
    "count_wins",
    "diagnose",
    "effects_frame",
    "finish_diagnosis",
    "head_to_head",
    "headline_text",
    "in_place",
    "intervention_notes",
    "plan_diagnosis",
    "rank_levers",
    "rollout_day",
    "suggested_reps",
    "summarise_diagnosis",
    "verdict_text",
    "write_tornado",
]

#: The command-line parts, now in :mod:`simulation.cli.main` under these names.
_CLI_NAMES = {
    "add_parser": "add_diagnose_parser",
    "cmd_diagnose": "cmd_diagnose",
    "render_diagnosis": "render_diagnosis",
}


def __getattr__(name: str) -> Any:
    """The command-line names, looked up in :mod:`simulation.cli.main` only when asked for, so no
    library module imports the CLI."""
    if name in _CLI_NAMES:
        from simulation.cli import main as cli

        return getattr(cli, _CLI_NAMES[name])
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
