"""Same seed, same result; named streams give common random numbers across scenarios.

design brief "Sanity checks": same seed, same result whatever the number of worker processes;
scenarios compared on common random numbers (each stochastic process its own named stream), so
an A-vs-B difference is not seed noise. The model must not touch global random state.
"""

from __future__ import annotations

import math
import multiprocessing
import random
from collections.abc import Iterator
from pathlib import Path

import mesa
import numpy as np
import pandas as pd
import pytest
import yaml

from simulation.model.model import FrictionModel
from simulation.scenario.config import Scenario, with_changes
from simulation.scenario.loader import load_scenario

pytestmark = pytest.mark.needs_model

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"
SHORT = {"horizon_days": 60, "warmup_days": 20}


def short(name: str, **changes: object) -> Scenario:
    return with_changes(load_scenario(SCENARIOS / f"{name}.yaml"), {**SHORT, **changes})


def run(s: Scenario, seed: int) -> FrictionModel:
    return FrictionModel(s, rng=seed).run()


def assert_same_kpis(a: dict[str, float], b: dict[str, float], what: str) -> None:
    assert a.keys() == b.keys(), f"{what}: KPI names differ"
    diff = {
        k: (a[k], b[k]) for k in a if not (a[k] == b[k] or (math.isnan(a[k]) and math.isnan(b[k])))
    }
    assert not diff, f"{what}: KPIs must be identical to the last bit, differ: {diff}"


def daily(model: FrictionModel) -> pd.DataFrame:
    return model.datacollector.get_model_vars_dataframe()


@pytest.mark.parametrize("name", ["baseline", "playbook", "squads"])
def test_same_seed_same_kpis_and_daily_series(name: str) -> None:
    s = short(name) if name != "playbook" else load_scenario(SCENARIOS / "playbook.yaml")
    a, b = run(s, 11), run(s, 11)
    assert_same_kpis(a.kpis, b.kpis, f"{name}, seed 11 twice")
    pd.testing.assert_frame_equal(daily(a), daily(b), check_exact=True)
    assert pd.DataFrame(a.stages).equals(pd.DataFrame(b.stages)), f"{name}: stage tables differ"


def test_different_seeds_differ() -> None:
    s = short("baseline")
    a, b = run(s, 1), run(s, 2)
    same = [k for k in a.kpis if a.kpis[k] == b.kpis[k]]
    assert len(same) <= 2, f"seeds 1 and 2 give identical values for {same}: seeds are not used"
    assert not daily(a).equals(daily(b)), "seeds 1 and 2 give the same daily series"
    assert a.deals.n != b.deals.n or not np.array_equal(
        a.deals.value[: a.deals.n], b.deals.value[: b.deals.n]
    ), "seeds 1 and 2 draw the same deals"


@pytest.mark.parametrize(
    "other", ["channel_sla", "mvh", "blended_40_30_20_10", "squads", "translation"]
)
def test_levers_leave_lead_and_customer_draws_unchanged(other: str) -> None:
    """Common random numbers: the same leads, deal sizes and customer patience whatever the plan.

    Lead arrivals come from the ``leads`` stream and deal attributes from the ``deals`` stream;
    none of these levers touches either process, so the first deals must match exactly.
    """
    a, b = run(short("baseline"), 5), run(short(other), 5)
    n = min(a.deals.n, b.deals.n)
    assert n > 100, f"too few deals to compare ({n})"
    for name in ("created", "rep", "value", "patience", "sell_need", "impl_base", "u_win"):
        x, y = getattr(a.deals, name)[:n], getattr(b.deals, name)[:n]
        mismatch = np.flatnonzero(x != y)
        assert len(mismatch) == 0, (
            f"baseline vs {other}, seed 5: deals.{name} differs from deal {mismatch[0]} on "
            f"({len(mismatch)} of {n}); a lever that does not touch the lead/deal process must "
            "leave its draws unchanged"
        )
    # the number of leads created depends only on the leads stream: identical over the run
    assert a.deals.n == b.deals.n, f"baseline created {a.deals.n} leads, {other} {b.deals.n}"


def test_people_draws_do_not_depend_on_plan() -> None:
    """Intrinsic norms and initial skills come from the ``people`` stream only."""
    a = FrictionModel(short("baseline"), rng=3)
    b = FrictionModel(short("blended_40_30_20_10"), rng=3)
    assert np.array_equal(a.norms, b.norms), "norms differ between plans on the same seed"
    assert np.array_equal(a.skill0, b.skill0), (
        "initial skills differ between plans on the same seed"
    )


def test_no_global_numpy_random_state() -> None:
    s = short("baseline")
    np.random.seed(0)  # noqa: NPY002 - the global state is what this test is about
    before = np.random.get_state()  # noqa: NPY002
    a = run(s, 4)
    after = np.random.get_state()  # noqa: NPY002
    assert (
        before[0] == after[0] and np.array_equal(before[1], after[1]) and before[2:] == after[2:]
    ), "a model run consumed numbers from numpy's global random state"
    np.random.seed(999)  # noqa: NPY002
    b = run(s, 4)
    assert_same_kpis(a.kpis, b.kpis, "np.random.seed(0) vs np.random.seed(999)")
    pd.testing.assert_frame_equal(daily(a), daily(b), check_exact=True)


def test_no_global_stdlib_random_state() -> None:
    s = short("baseline")
    random.seed(0)
    before = random.getstate()
    a = run(s, 4)
    assert random.getstate() == before, "a model run consumed numbers from the stdlib global random"
    random.seed(999)
    b = run(s, 4)
    assert_same_kpis(a.kpis, b.kpis, "random.seed(0) vs random.seed(999)")
    pd.testing.assert_frame_equal(daily(a), daily(b), check_exact=True)


def test_interventions_do_not_shift_other_streams() -> None:
    """A roll-out on day 10 keeps the same leads and customers (no draw consumed by the lever)."""
    base = short("baseline")
    data = base.model_dump()
    data["interventions"] = [{"day": 10, "set": {"handover.mvh": True, "info.glossary": True}}]
    rolled = Scenario.model_validate(data)
    a, b = run(base, 8), run(rolled, 8)
    n = a.deals.n
    assert n == b.deals.n
    for name in ("created", "rep", "value", "patience"):
        assert np.array_equal(getattr(a.deals, name)[:n], getattr(b.deals, name)[:n]), name


def test_market_change_redraws_only_the_future_arrivals() -> None:
    """Doubling the lead rate on measured day 10 keeps every earlier lead and changes the rest."""
    base = short("baseline")
    data = base.model_dump()
    data["interventions"] = [{"day": 10, "set": {"market.leads_per_rep_day": 0.5}}]
    boom = Scenario.model_validate(data)
    a, b = run(base, 4), run(boom, 4)
    cut = base.warmup_days + 10  # simulation day of the change
    before_a = a.deals.created[: a.deals.n] < cut
    before_b = b.deals.created[: b.deals.n] < cut
    k = int(before_a.sum())
    assert k == int(before_b.sum()) and k > 0
    for name in ("created", "rep", "value", "patience", "u_win"):
        assert np.array_equal(getattr(a.deals, name)[:k], getattr(b.deals, name)[:k]), name
    days_after = a.total_days - cut
    rate_a = (a.deals.n - k) / (days_after * a.R)
    rate_b = (b.deals.n - k) / (days_after * b.R)
    assert abs(rate_a - 0.25) < 0.03, (
        f"lead rate before the change {rate_a:.3f}, expected 0.25 +- 0.03"
    )
    assert abs(rate_b - 0.5) < 0.04, (
        f"lead rate after the change {rate_b:.3f}, expected 0.5 +- 0.04"
    )


@pytest.fixture
def restore_start_method() -> Iterator[None]:
    """mesa.batch_run forces the 'spawn' start method process-wide; put it back afterwards."""
    before = multiprocessing.get_start_method(allow_none=True)
    yield
    multiprocessing.set_start_method(before, force=True)


def test_serial_and_parallel_batch_runs_identical(
    tmp_path: Path, restore_start_method: None
) -> None:
    """Same seeds through 1 and 2 worker processes give the same KPIs to the last bit."""
    s = short("baseline", horizon_days=40, warmup_days=10)
    path = tmp_path / "short.yaml"
    path.write_text(yaml.safe_dump(s.model_dump(mode="json")), encoding="utf-8")
    params = {"scenario": [str(path)]}
    kw = {"rng": [1, 2], "max_steps": 1000, "display_progress": False}
    serial = mesa.batch_run(FrictionModel, params, number_processes=1, **kw)
    parallel = mesa.batch_run(FrictionModel, params, number_processes=2, **kw)
    key = lambda row: row["rng"]  # noqa: E731
    assert len(serial) == len(parallel) == 2
    for a, b in zip(sorted(serial, key=key), sorted(parallel, key=key), strict=True):
        assert a["rng"] == b["rng"]
        assert_same_kpis(
            {k: float(v) for k, v in a.items() if isinstance(v, float | int) and k != "RunId"},
            {k: float(v) for k, v in b.items() if isinstance(v, float | int) and k != "RunId"},
            f"rng {a['rng']}: serial vs 2 processes",
        )
        assert not math.isnan(a["productivity_loss"]), "KPIs missing from the batch_run row"
