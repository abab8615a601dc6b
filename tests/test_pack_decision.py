"""A diagnosis pack states one set of figures: the window the decision was made on.

The diagnosis ranks levers on the year after roll-out; its pack's summary lines and comparison
chart must show the same figures (not the whole run's), the title slide must carry the
guardrails' warning, and the summary must say what net value is.
"""

from __future__ import annotations

import io
import json
import textwrap
from pathlib import Path

import pytest
from pptx import Presentation

from simulation.analysis.words import READ_WITH_CARE, format_kpi_value, guardrail_flag
from simulation.cli import main as cli
from simulation.model.metrics import KPIS
from simulation.report.pack import build, render_pptx

pytestmark = pytest.mark.needs_model

SMALL = """\
    name: small
    label: A small firm
    horizon_days: 60
    warmup_days: 20
    org: {sales_reps: 12, ops_staff: 5}
    structure: {team_size: 6}
"""


@pytest.fixture(scope="module")
def diagnosed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("diag")
    scenario = root / "small.yaml"
    scenario.write_text(textwrap.dedent(SMALL), encoding="utf-8")
    out = root / "d"
    argv = ["diagnose", str(scenario), "--reps", "3", "--workers", "1", "--levers", "bundles",
            "--rollout-day", "10", "--out", str(out), "--json"]  # fmt: skip
    assert cli.main(argv) == cli.EXIT_OK
    return out


def test_the_pack_states_the_figures_the_diagnosis_decided_on(diagnosed: Path) -> None:
    d = json.loads((diagnosed / "diagnosis.json").read_text(encoding="utf-8"))
    assert d["rollout"]["ranked_on"] == "after_rollout"
    report = build(diagnosed)
    numbers = [n for item in report.summary for n in item.get("numbers", [])]
    by_plan = {(n["scenario"], n["kpi"]): n for n in numbers if "scenario" in n}
    checked = 0
    for row in d["rankings"]["net_value"]:
        shown = by_plan.get((row["lever"], "net_value"))
        if shown is None:
            continue
        assert shown["diff"] == pytest.approx(row["diff"]), row["lever"]
        whole = next(r for r in d["whole_run"]["rankings"]["net_value"]
                     if r["lever"] == row["lever"])  # fmt: skip
        assert shown["diff"] != pytest.approx(whole["diff"]), "not the whole run's figure"
        checked += 1
    assert checked, "the summary should state each lever's net value change"


def test_the_title_slide_carries_the_warning_and_the_summary_defines_net_value(
    diagnosed: Path,
) -> None:
    report = build(diagnosed)
    assert report.guardrails, "3 replications should trigger a guardrail"
    flag = guardrail_flag(report.guardrails)
    assert flag.startswith(READ_WITH_CARE) and "few replications" in flag
    prs = Presentation(io.BytesIO(render_pptx(report)))
    title_text = " ".join(
        p.text for shape in prs.slides[0].shapes if shape.has_text_frame
        for p in shape.text_frame.paragraphs
    )  # fmt: skip
    assert flag in title_text
    first = report.summary[0]
    assert "net value" in first["text"]
    assert any(p.startswith("Net value is the gross margin") for p in first["points"])


def test_no_flag_without_guardrails() -> None:
    assert guardrail_flag([]) == ""
    assert format_kpi_value(KPIS["net_value"], -1.5e6)  # signed money formats
