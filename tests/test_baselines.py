"""Regression check: the bundled scenarios' KPIs match a committed reference.

Any change to model outputs shows up here as a readable diff table. When the change is
intended, refresh the reference and flag it in CHANGELOG.md ("Model output change"):

    .venv/bin/python tests/test_baselines.py --update
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = Path(__file__).with_name("baseline_kpis.json")
SEEDS = (11, 12)
RTOL = 1e-6  # same code, same seeds: only floating-point noise across platforms is tolerated


def compute() -> dict[str, dict[str, float]]:
    from simulation.batch.runner import run_replications
    from simulation.scenario.loader import load_scenario

    out = {}
    for path in sorted((ROOT / "scenarios").glob("*.yaml")):
        res = run_replications(load_scenario(path), reps=len(SEEDS), seed=SEEDS[0])
        out[path.stem] = {
            k: None if math.isnan(v["mean"]) else v["mean"] for k, v in res["kpis"].items()
        }
    return out


def _close(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return math.isclose(a, b, rel_tol=RTOL, abs_tol=1e-12)


def test_bundled_scenarios_match_reference() -> None:
    expected = json.loads(REFERENCE.read_text())
    actual = compute()
    assert sorted(actual) == sorted(expected), (
        f"scenario set changed: {sorted(actual)} vs reference {sorted(expected)}; "
        "run `python tests/test_baselines.py --update`"
    )
    rows = []
    for scen, kpis in expected.items():
        for k, ref in kpis.items():
            got = actual[scen].get(k)
            if not _close(got, ref):
                rows.append(f"  {scen:22s} {k:26s} reference {ref!s:>22} now {got!s:>22}")
    assert not rows, (
        f"{len(rows)} KPI(s) differ from tests/baseline_kpis.json (rtol {RTOL}):\n"
        + "\n".join(rows)
        + "\nIf intended: `python tests/test_baselines.py --update` and flag it in CHANGELOG.md."
    )


if __name__ == "__main__":
    if "--update" not in sys.argv:
        sys.exit("usage: python tests/test_baselines.py --update")
    sys.path.insert(0, str(ROOT))
    data = compute()
    REFERENCE.write_text(json.dumps(data, indent=1, sort_keys=True, allow_nan=False) + "\n")
    print(f"wrote {REFERENCE.relative_to(ROOT)} ({len(data)} scenarios)")
