"""org-friction: agent-based simulation of Sales/Operations friction.

Public API::

    from simulation import FrictionModel, load_scenario
    model = FrictionModel(scenario="scenarios/baseline.yaml", rng=1)
    model.run()
    model.kpis          # every KPI of the run (see simulation.metrics.KPIS)
"""

from simulation.config import Scenario

__all__ = ["Scenario"]
__version__ = "0.1.0"
