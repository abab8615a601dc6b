"""FrictionModel is a plain Mesa 3.5 model: agents, AgentSets, run_for, running, batch_run.

design brief "Time and entities": SalesRep and OpsStaff are Mesa ``Agent`` subclasses created with
``create_agents`` and activated through ``AgentSet``s, no removed Mesa 2 schedulers; the model
works with Mesa's own tooling (``batch_run``) unmodified.
"""

from __future__ import annotations

import math
import multiprocessing
from collections.abc import Iterator
from pathlib import Path

import mesa
import mesa.agentset
import numpy as np
import pytest
import yaml

from simulation.model import metrics
from simulation.model.agents import OpsStaff, SalesRep
from simulation.model.model import FrictionModel
from simulation.scenario.config import Scenario, with_changes
from simulation.scenario.loader import load_scenario

pytestmark = pytest.mark.needs_model

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"
MAIN_KPIS = (
    "productivity_loss",
    "handover_churn",
    "throughput",
    "win_rate",
    "lead_time_days",
    "revenue",
    "bonus_cost",
    "handover_quality",
    "interruptions_per_day",
)


def short(name: str, horizon: int = 30, warmup: int = 10) -> Scenario:
    return with_changes(
        load_scenario(SCENARIOS / f"{name}.yaml"), {"horizon_days": horizon, "warmup_days": warmup}
    )


def write_scenario(s: Scenario, path: Path) -> Path:
    path.write_text(yaml.safe_dump(s.model_dump(mode="json"), sort_keys=False), encoding="utf-8")
    return path


def test_model_and_agents_are_mesa_objects() -> None:
    s = short("baseline")
    model = FrictionModel(s, rng=1)
    assert isinstance(model, mesa.Model)
    assert not hasattr(model, "schedule"), "Mesa 2 schedulers were removed in Mesa 3; use AgentSets"
    assert len(model.agents) == s.org.sales_reps + s.org.ops_staff
    by_type = model.agents_by_type
    assert set(by_type) == {SalesRep, OpsStaff}
    assert len(by_type[SalesRep]) == s.org.sales_reps
    assert len(by_type[OpsStaff]) == s.org.ops_staff
    assert isinstance(by_type[SalesRep], mesa.agentset.AbstractAgentSet)
    assert all(isinstance(a, SalesRep) for a in by_type[SalesRep])
    assert all(isinstance(a, OpsStaff) for a in by_type[OpsStaff])
    assert all(isinstance(a, mesa.Agent) and a.model is model for a in model.agents)
    # each agent is a view on its row of the model arrays
    rep = next(iter(by_type[SalesRep]))
    assert math.isclose(sum(rep.shares.values()), 1.0)
    assert 0 <= rep.promise <= s.behaviour.overpromise_max
    assert len({a.unique_id for a in model.agents}) == len(model.agents)


def test_agent_views_follow_the_model_arrays() -> None:
    model = FrictionModel(short("baseline"), rng=2)
    model.run_for(20)
    for agent in model.agents:
        assert np.allclose(list(agent.shares.values()), model.shares[agent.idx])
        assert agent.team == model.team[agent.idx]
    reps = list(model.agents_by_type[SalesRep])
    assert np.allclose([r.promise for r in reps], model.promise[: model.R])


def test_run_for_advances_steps_and_running_stops_at_horizon() -> None:
    s = short("baseline", horizon=25, warmup=5)
    model = FrictionModel(s, rng=3)
    assert model.running and model.steps == 0
    model.run_for(7)
    assert model.steps == 7 and model.running
    assert all(math.isnan(model.kpis.get(k, math.nan)) for k in MAIN_KPIS), (
        "KPIs must not exist before the horizon"
    )
    while model.running:
        model.step()
    assert model.steps == s.warmup_days + s.horizon_days, (
        f"stopped at step {model.steps}, horizon is {s.warmup_days + s.horizon_days}"
    )
    missing = [k for k in MAIN_KPIS if not np.isfinite(model.kpis.get(k, math.nan))]
    assert not missing, f"KPIs not filled at the horizon: {missing}"
    assert set(model.kpis) == set(metrics.KPIS)
    assert set(model.stages) == {*metrics.STAGES, metrics.END_TO_END}
    # run() on a finished model does nothing more
    model.run()
    assert model.steps == s.warmup_days + s.horizon_days


def test_datacollector_records_one_row_per_day_with_kpis_on_the_last() -> None:
    s = short("baseline", horizon=20, warmup=5)
    model = FrictionModel(s, rng=4).run()
    df = model.datacollector.get_model_vars_dataframe()
    steps = s.warmup_days + s.horizon_days
    assert len(df) in (steps, steps + 1), (
        f"one row per step (and maybe one at set-up), got {len(df)}"
    )
    last = df.iloc[-1]
    for k in MAIN_KPIS:
        assert last[k] == model.kpis[k] or (math.isnan(last[k]) and math.isnan(model.kpis[k]))
    assert df.iloc[:-1][list(MAIN_KPIS)].isna().all().all(), (
        "KPI columns are NaN before the horizon"
    )


@pytest.fixture
def restore_start_method() -> Iterator[None]:
    """mesa.batch_run forces the 'spawn' start method process-wide; put it back afterwards."""
    before = multiprocessing.get_start_method(allow_none=True)
    yield
    multiprocessing.set_start_method(before, force=True)


def test_batch_run_works_unmodified(tmp_path: Path, restore_start_method: None) -> None:
    base = write_scenario(short("baseline"), tmp_path / "baseline.yaml")
    mvh = write_scenario(short("mvh"), tmp_path / "mvh.yaml")
    total = 40
    rows = mesa.batch_run(
        FrictionModel,
        {"scenario": [str(base), str(mvh)]},
        rng=[1, 2],
        max_steps=1000,
        number_processes=1,
        display_progress=False,
    )
    assert len(rows) == 4, f"2 scenarios x 2 seeds should give 4 rows, got {len(rows)}"
    seen = set()
    for row in rows:
        seen.add((row["scenario"], row["rng"]))
        assert row["Step"] == total, (
            f"batch_run's last row should be the horizon step {total}, got {row['Step']}"
        )
        direct = FrictionModel(row["scenario"], rng=row["rng"]).run().kpis
        for k, v in direct.items():
            assert row[k] == v or (math.isnan(row[k]) and math.isnan(v)), (
                f"batch_run {Path(row['scenario']).name} rng {row['rng']}: {k} = {row[k]!r}, "
                f"a direct run gives {v!r}"
            )
    assert seen == {(str(p), r) for p in (base, mvh) for r in (1, 2)}


def test_batch_run_max_steps_stops_early(tmp_path: Path, restore_start_method: None) -> None:
    path = write_scenario(short("baseline"), tmp_path / "baseline.yaml")
    rows = mesa.batch_run(
        FrictionModel,
        {"scenario": str(path)},
        rng=[5],
        max_steps=12,
        number_processes=1,
        display_progress=False,
    )
    assert len(rows) == 1 and rows[0]["Step"] == 12
    assert math.isnan(rows[0]["productivity_loss"]), "a run cut before the horizon has no KPIs yet"


def test_model_accepts_scenario_dict_or_path(tmp_path: Path) -> None:
    s = short("mvh")
    path = write_scenario(s, tmp_path / "mvh_short.yaml")
    from_obj = FrictionModel(s, rng=9).run().kpis
    from_dict = FrictionModel(s.model_dump(), rng=9).run().kpis
    from_path = FrictionModel(path, rng=9).run().kpis
    from_str = FrictionModel(str(path), rng=9).run().kpis
    for label, other in (("dict", from_dict), ("Path", from_path), ("str path", from_str)):
        diff = {
            k
            for k in from_obj
            if not (from_obj[k] == other[k] or (math.isnan(from_obj[k]) and math.isnan(other[k])))
        }
        assert not diff, f"Scenario vs {label}: KPIs differ for {sorted(diff)}"


def test_default_scenario_and_seed_types() -> None:
    """No scenario means the documented defaults; rng may be an int, a SeedSequence or None."""
    m = FrictionModel(None, rng=np.random.SeedSequence(3))
    assert m.s == Scenario()
    m.run_for(2)
    a = FrictionModel(short("baseline"), rng=np.random.SeedSequence(3)).run().kpis
    b = FrictionModel(short("baseline"), rng=np.random.SeedSequence(3)).run().kpis
    assert a == b or all(a[k] == b[k] or (math.isnan(a[k]) and math.isnan(b[k])) for k in a)
    unseeded = FrictionModel(short("baseline"), rng=None)
    unseeded.run_for(1)
