"""Replication seeds and the shape of replication results (stand-in model)."""

from __future__ import annotations

import pytest

from simulation.batch.runner import replication_seeds, run_one, run_replications
from simulation.scenario.config import Scenario


def test_seeds_are_reproducible_distinct_and_63_bit():
    seeds = replication_seeds(1, 50)
    assert seeds == replication_seeds(1, 50)
    assert len(set(seeds)) == 50
    assert all(0 <= s < 2**63 for s in seeds)


def test_seeds_are_not_consecutive_integers():
    seeds = replication_seeds(5, 3)
    assert seeds != [5, 6, 7] and seeds[1] - seeds[0] != 1


def test_more_replications_extend_the_same_sequence():
    assert replication_seeds(9, 10)[:4] == replication_seeds(9, 4)


def test_root_seeds_do_not_overlap():
    # With seed + i, replication 1 of root 1 would equal replication 0 of root 2.
    assert not set(replication_seeds(1, 20)) & set(replication_seeds(2, 20))


@pytest.mark.parametrize(("seed", "reps"), [(-1, 3), (1, 0)])
def test_invalid_seed_or_reps(seed, reps):
    with pytest.raises(ValueError):
        replication_seeds(seed, reps)


def test_run_one_shape(fake_model):
    out = run_one(Scenario(), 42)
    assert out["seed"] == 42
    assert set(out["kpis"]) == {"throughput", "productivity_loss", "lead_time_days"}
    assert all(type(v) is float for v in out["kpis"].values())
    assert set(out["stages"]["handover"]) == {"process_days", "wait_days", "pct_complete_accurate"}


def test_run_replications_shape_and_progress(fake_model):
    calls = []
    result = run_replications(
        Scenario(name="x"), 4, 11, progress=lambda done, total: calls.append((done, total))
    )
    assert calls == [(1, 4), (2, 4), (3, 4), (4, 4)]
    assert list(result) == ["scenario", "seed", "reps", "kpis", "stages", "runs"]
    assert (result["scenario"], result["seed"], result["reps"]) == ("x", 11, 4)
    assert [r["seed"] for r in result["runs"]] == replication_seeds(11, 4)
    assert list(result["runs"][0]) == ["seed", "throughput", "productivity_loss", "lead_time_days"]
    tp = result["kpis"]["throughput"]
    values = [r["throughput"] for r in result["runs"]]
    assert tp["mean"] == pytest.approx(sum(values) / 4)
    assert tp["ci_low"] < tp["mean"] < tp["ci_high"]
    assert set(result["stages"]) == {"qualification", "handover", "onboarding"}


def test_same_seed_same_result(fake_model):
    # repr, not ==: a NaN KPI (undefined in a run) never equals itself.
    assert repr(run_replications(Scenario(), 5, 2)) == repr(run_replications(Scenario(), 5, 2))
