"""org-friction: agent-based simulation of Sales/Operations friction.

Public API::

    from simulation import FrictionModel, load_scenario
    model = FrictionModel(scenario="scenarios/baseline.yaml", rng=1).run()
    model.kpis          # every KPI of the run (see simulation.model.metrics.KPIS)

The commands as functions, each writing a results folder like the CLI:
``simulation.experiments.compare``, ``sweep`` and ``diagnose``,
``simulation.report.pack.build_report``; ``simulation.analysis.results.load_results`` reads
a folder back and ``simulation.report.charts`` draws from it. Each sub-package is a layer
(see docs/ARCHITECTURE.md): common, scenario, model, batch, analysis, report, then the API
(``simulation.experiments``) and the command line (``simulation.cli``).

``FrictionModel`` is imported lazily so that validating a scenario does not load Mesa.
"""

from typing import Any

from simulation.scenario.config import Scenario
from simulation.scenario.loader import ScenarioError, load_scenario

__all__ = ["FrictionModel", "Scenario", "ScenarioError", "load_scenario"]
__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    if name == "FrictionModel":
        from simulation.model.model import FrictionModel

        return FrictionModel
    raise AttributeError(f"module 'simulation' has no attribute {name!r}")
