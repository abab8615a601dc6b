"""Shared fixtures: YAML files in tmp_path and a stand-in model for CLI/runner plumbing tests."""

from __future__ import annotations

import importlib.util
import math
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

_MODEL_MISSING = any(
    importlib.util.find_spec(f"simulation.model.{m}") is None for m in ("model", "metrics")
)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "needs_model: runs the real model; skipped only while it is not written yet"
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not _MODEL_MISSING:
        return
    skip = pytest.mark.skip(
        reason="simulation/model/model.py or simulation/model/metrics.py does not exist"
    )
    for item in items:
        if "needs_model" in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def write_yaml(tmp_path: Path) -> Callable[[str, str], Path]:
    """Write dedented YAML text to ``tmp_path/name`` (subfolders allowed) and return the path."""

    def write(name: str, text: str) -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
        return path

    return write


#: The KPIs the stand-in model reports (real KPI names, so the real registry labels them).
FAKE_KPI_NAMES = ("throughput", "productivity_loss", "lead_time_days")


class FakeModel:
    """Seeded stand-in with the FrictionModel interface: tests the plumbing, not the model."""

    def __init__(self, scenario: Any, rng: int) -> None:
        self.scenario = scenario
        self.rng = np.random.default_rng(rng)
        self.running = True
        self.kpis: dict[str, float] = {}
        self.stages: dict[str, dict[str, float]] = {}

    def run(self) -> None:
        r = self.rng
        team = self.scenario.incentives.weights.team
        self.kpis = {
            "throughput": 20 + 5 * team + r.normal(),
            "productivity_loss": 0.25 - 0.05 * team + 0.01 * r.normal(),
            "lead_time_days": math.nan if r.random() < 0.3 else 12 + r.normal(),
        }
        self.stages = {
            stage: {
                "process_days": 2 + r.random(),
                "wait_days": 3 + r.random(),
                "pct_complete_accurate": 80 + r.random(),
            }
            for stage in ("qualification", "handover", "onboarding")
        }
        self.running = False


@pytest.fixture
def fake_model(monkeypatch: pytest.MonkeyPatch) -> type[FakeModel]:
    """Run the stand-in instead of the real model for one test (the runner's model class)."""
    from simulation.batch import runner

    monkeypatch.setattr(runner, "FrictionModel", FakeModel)
    return FakeModel


@pytest.fixture
def fake_kpis(fake_model: type[FakeModel]) -> dict[str, Any]:
    """The registry entries of the KPIs the stand-in reports (implies the stand-in model)."""
    from simulation.model.metrics import KPIS

    return {name: KPIS[name] for name in FAKE_KPI_NAMES}


TINY_SCENARIO = """\
    name: tiny
    description: A small, short organisation so store and executor tests run in milliseconds.
    horizon_days: 30
    warmup_days: 5
    org: {sales_reps: 6, ops_staff: 4}
    structure: {team_size: 5}
"""

TINY_BLENDED = """\
    extends: tiny.yaml
    name: blended
    incentives:
      weights: {individual: 0.4, team: 0.3, company: 0.2, silo_buster: 0.1}
"""

TINY_SWEEP = """\
    name: tiny sweep
    base: tiny.yaml
    replications: 2
    seed: 7
    axes:
      structure.team_size: [4, 5]
      incentives.weights: {simplex: 0.5}
"""


@pytest.fixture
def tiny_sweep(write_yaml: Callable[[str, str], Path]) -> Path:
    """A 40-run sweep (2 team sizes x 10 bonus mixes x 2 replications) of a tiny scenario."""
    write_yaml("tiny.yaml", TINY_SCENARIO)
    return write_yaml("tiny_sweep.yaml", TINY_SWEEP)
