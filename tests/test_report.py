"""Board pack: every declared file is valid, the summary states the results' own numbers, and
what the data cannot support is left out with a reason."""

from __future__ import annotations

import json
import math
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from conftest import TINY_BLENDED, TINY_SCENARIO, TINY_SWEEP
from PIL import Image
from pptx import Presentation
from scipy import stats

from simulation.analysis.compare import format_kpi_value
from simulation.cli.main import main
from simulation.experiments import compare, sweep
from simulation.model.metrics import KPIS
from simulation.report.pack import build_report

pytestmark = pytest.mark.needs_model

PHASED = """\
    extends: tiny.yaml
    name: phased
    interventions:
      - {day: 10, label: channel SLAs, set: {comms.strategy: channel_sla}}
      - {day: 20, label: handover gate, set: {handover.mvh: true}}
"""


def _write(folder: Path, name: str, text: str) -> Path:
    import textwrap

    path = folder / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def compare_pack(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A 3-scenario comparison (3 replications, one scenario phased in) and its full report."""
    root = tmp_path_factory.mktemp("compare")
    files = (("tiny.yaml", TINY_SCENARIO), ("blended.yaml", TINY_BLENDED), ("phased.yaml", PHASED))
    paths = [_write(root, n, t) for n, t in files]
    result = compare(paths, reps=3, seed=5, out=root / "results")
    files = build_report(root / "results", out=root / "pack")
    return {"root": root, "result": result, "files": files, "out": root / "pack"}


@pytest.fixture(scope="module")
def sweep_pack(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The tiny sweep (2 team sizes x 10 bonus mixes x 2 replications, no daily series)."""
    root = tmp_path_factory.mktemp("sweep")
    _write(root, "tiny.yaml", TINY_SCENARIO)
    path = _write(root, "tiny_sweep.yaml", TINY_SWEEP)
    results = sweep(path, out=root / "results")
    files = build_report(root / "results", out=root / "pack")
    return {"root": root, "results": results, "files": files, "out": root / "pack"}


def _index(pack: dict[str, Any]) -> dict[str, Any]:
    return json.loads((pack["out"] / "report.json").read_text(encoding="utf-8"))


class _Html(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.images: list[str] = []
        self.links: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "img":
            self.images.append(a.get("src") or "")
        for key in ("href", "src"):
            if tag in ("link", "script") and a.get(key):
                self.links.append(a[key] or "")

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _html(pack: dict[str, Any]) -> _Html:
    parser = _Html()
    parser.feed((pack["out"] / "report.html").read_text(encoding="utf-8"))
    return parser


def _deck_text(pack: dict[str, Any]) -> list[str]:
    prs = Presentation(str(pack["out"] / "report.pptx"))
    return [
        "\n".join(sh.text_frame.text for sh in slide.shapes if sh.has_text_frame)
        for slide in prs.slides
    ]


# --------------------------------------------------------------------------------------------
# Every declared file is what it says it is
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("pack_name", ["compare_pack", "sweep_pack"])
def test_every_declared_file_is_valid(pack_name: str, request: pytest.FixtureRequest) -> None:
    pack = request.getfixturevalue(pack_name)
    index = _index(pack)
    declared = {pack["out"] / f for f in index["files"]}
    assert declared == {Path(f) for f in pack["files"]} - {pack["out"] / "report.json"}
    keys = {c["key"] for c in index["charts"]}
    for path in declared:
        assert path.is_file() and path.stat().st_size > 0, path
        if path.suffix == ".png":
            with Image.open(path) as im:
                im.verify()
            with Image.open(path) as im:
                # a 16:9 slide at 150 dpi: sharp on a projector
                assert im.size == (1999, 1125) or im.size == (2000, 1125), (path, im.size)
            assert path.stem in keys
        elif path.suffix == ".svg":
            root = ET.parse(path).getroot()
            assert root.tag.endswith("svg")
            assert path.stem in keys
    # one PNG and one SVG per chart
    assert {p.stem for p in declared if p.suffix == ".png"} == keys
    assert {p.stem for p in declared if p.suffix == ".svg"} == keys


@pytest.mark.parametrize("pack_name", ["compare_pack", "sweep_pack"])
def test_html_is_self_contained(pack_name: str, request: pytest.FixtureRequest) -> None:
    pack = request.getfixturevalue(pack_name)
    index = _index(pack)
    page = _html(pack)
    assert len(page.images) == len(index["charts"])
    assert all(src.startswith("data:image/png;base64,") for src in page.images)
    assert page.links == []  # no external stylesheet or script: opens offline
    text = " ".join(page.text)
    for section in ("Executive summary", "Not in this report", "Assumptions",
                    "Method and provenance"):  # fmt: skip
        assert section in text
    for chart in index["charts"]:
        assert chart["title"] in text


@pytest.mark.parametrize("pack_name", ["compare_pack", "sweep_pack"])
def test_deck_has_one_slide_per_chart_with_its_finding(
    pack_name: str, request: pytest.FixtureRequest
) -> None:
    pack = request.getfixturevalue(pack_name)
    index = _index(pack)
    prs = Presentation(str(pack["out"] / "report.pptx"))
    slides = list(prs.slides)
    texts = _deck_text(pack)
    assert prs.slide_width * 9 == prs.slide_height * 16  # 16:9
    assert texts[0].startswith(index["title"])
    lineup = int(texts[1].startswith("The plans"))  # when the scenarios describe themselves
    assert texts[1 + lineup].startswith("Executive summary")
    chart_slides = [i for i, s in enumerate(slides)
                    if any(sh.shape_type == 13 for sh in s.shapes)]  # fmt: skip
    assert len(chart_slides) == len(index["charts"])
    for i, chart in zip(chart_slides, index["charts"], strict=True):
        assert texts[i].startswith(chart["title"]), "the slide title states the chart's finding"
        assert sum(sh.shape_type == 13 for sh in slides[i].shapes) == 1
    titles = [t.split("\n", 1)[0] for t in texts]
    assert "Not in this report, and why" in titles
    assert "Key assumptions and their sources" in titles
    assert titles[-2:] == ["Method", "Provenance: how to reproduce these numbers"]
    summary_pages = sum(t.startswith("Executive summary") for t in titles)
    plan_pages = sum(t == "What each plan changes" for t in titles)
    appendix = titles.index("Appendix: for the analyst")
    assert appendix == 1 + lineup + summary_pages + len(index["charts"])
    assert len(slides) == appendix + 1 + 1 + plan_pages + 3
    for slide in slides:  # nothing hangs off the slide
        for sh in slide.shapes:
            assert sh.left >= 0 and sh.top >= 0
            assert sh.left + sh.width <= prs.slide_width
            assert sh.top + sh.height <= prs.slide_height


def test_provenance_is_in_the_pack(compare_pack: dict[str, Any]) -> None:
    manifest = json.loads((compare_pack["root"] / "results" / "manifest.json").read_text())
    deck = "\n".join(_deck_text(compare_pack))
    html = " ".join(_html(compare_pack).text)
    for text in (deck, html):
        assert manifest["config_hash"] in text
        assert manifest["code"]["source_hash"] in text
        assert "root seed: 5" in text or "root seed 5" in text or "5" in text
    prov = _index(compare_pack)["provenance"]
    assert prov["replications per point"] == 3 and prov["root seed"] == 5


# --------------------------------------------------------------------------------------------
# The summary states the results' own numbers
# --------------------------------------------------------------------------------------------


def _paired(base: np.ndarray, other: np.ndarray) -> tuple[float, float, float]:
    d = other - base
    half = stats.t.ppf(0.975, len(d) - 1) * d.std(ddof=1) / math.sqrt(len(d))
    return d.mean(), d.mean() - half, d.mean() + half


def test_compare_summary_numbers_equal_the_runs(compare_pack: dict[str, Any]) -> None:
    runs = pd.read_parquet(compare_pack["root"] / "results" / "runs.parquet")
    index = _index(compare_pack)
    numbers = [n for item in index["summary"] for n in item["numbers"]]
    assert {n["plan"] for n in numbers} == {"Blended", "Phased"}  # the scenarios' labels
    assert {n["scenario"] for n in numbers} == {"blended", "phased"}
    html = " ".join(_html(compare_pack).text)
    deck = "\n".join(_deck_text(compare_pack))
    for n in numbers:
        table = runs.pivot(index="replication", columns="scenario", values=n["kpi"])
        base, plan = table[n["reference_scenario"]], table[n["scenario"]]
        diff, lo, hi = _paired(base.to_numpy(), plan.to_numpy())
        assert n["diff"] == pytest.approx(diff, rel=1e-9, abs=1e-12)
        assert n["ci_low"] == pytest.approx(lo, rel=1e-9, abs=1e-12)
        assert n["ci_high"] == pytest.approx(hi, rel=1e-9, abs=1e-12)
        assert n["mean"] == pytest.approx(plan.mean(), rel=1e-12)
        kpi = KPIS[n["kpi"]]
        shown = format_kpi_value(kpi, n["diff"], diff=True)
        assert shown in html and shown in deck, (n["kpi"], shown)
    # the same numbers as `friction compare` gives
    result = compare_pack["result"]
    for n in numbers:
        assert n["diff"] == result["differences"][n["scenario"]][n["kpi"]]["diff"]


def test_sweep_summary_numbers_equal_the_points(sweep_pack: dict[str, Any]) -> None:
    points = pd.read_parquet(sweep_pack["root"] / "results" / "points.parquet")
    labels = sweep_pack["results"].plan_labels
    index = _index(sweep_pack)
    levels = [n for item in index["summary"] for n in item["numbers"] if "shown" in n]
    assert levels, "the sweep summary states best and worst levels"
    html = " ".join(_html(sweep_pack).text)
    for n in levels:
        plan = (
            n["plan"].split(" (", 1)[-1].rstrip(")") if n["plan"].startswith("Tiny") else n["plan"]
        )
        row = points[[lab == plan for lab in labels]]
        assert len(row) == 1, plan
        for stat in ("mean", "ci_low", "ci_high"):
            assert n[stat] == pytest.approx(float(row[f"{n['kpi']}_{stat}"].iloc[0]), rel=1e-12)
        assert n["shown"] in html
    # best really is the best (the items stating a best and a worst level)
    for item in index["summary"]:
        if not item["numbers"] or "shown" not in item["numbers"][0]:
            continue
        best = item["numbers"][0]
        col = points[f"{best['kpi']}_mean"]
        target = col.min() if KPIS[best["kpi"]].better == "lower" else col.max()
        assert best["mean"] == pytest.approx(target, rel=1e-12)


# --------------------------------------------------------------------------------------------
# Charts appear when the data supports them, and the report says what it left out
# --------------------------------------------------------------------------------------------


def test_compare_pack_has_no_simplex_and_says_why(compare_pack: dict[str, Any]) -> None:
    index = _index(compare_pack)
    keys = [c["key"] for c in index["charts"]]
    assert keys == ["kpi_comparison", "time_series", "frontier", "value_stream", "payouts"]
    omitted = {o["what"]: o["why"] for o in index["omitted"]}
    assert "simplex" in omitted["Bonus-mix maps"]
    html = " ".join(_html(compare_pack).text)
    assert "Bonus-mix maps" in html


def test_sweep_pack_without_daily_series(sweep_pack: dict[str, Any]) -> None:
    index = _index(sweep_pack)
    keys = [c["key"] for c in index["charts"]]
    assert "time_series" not in keys
    maps = ("handover_churn", "productivity_loss", "throughput", "bonus_cost")
    assert {f"simplex_{k}_structure_team_size" for k in maps} <= set(keys)
    assert "frontier" in keys and "value_stream" in keys and "payouts" in keys
    omitted = {o["what"]: o["why"] for o in index["omitted"]}
    assert "--daily" in omitted["KPI time series"]
    # 20 points: the per-plan charts show a selection, and the report says so
    assert any("design points" in w for w in omitted)


def test_time_series_marks_every_rollout_day(compare_pack: dict[str, Any]) -> None:
    from simulation.report.pack import build

    report = build(compare_pack["root"] / "results")
    chart = next(c for c in report.charts if c.key == "time_series")
    ax = chart.figure.axes[0]
    dashed = {round(line.get_xdata()[0]) for line in ax.lines if line.get_linestyle() == "--"}
    assert dashed == {10, 20}
    assert "day 10: channel SLAs" in chart.caption and "day 20: handover gate" in chart.caption


def test_every_axis_is_labelled(compare_pack: dict[str, Any]) -> None:
    from simulation.report.pack import build

    report = build(compare_pack["root"] / "results")

    def labelled_y(ax: Any) -> bool:
        return bool(ax.get_ylabel()) or any(t.get_text() for t in ax.get_yticklabels())

    for chart in report.charts:
        chart.figure.canvas.draw()  # tick labels exist once drawn
        for ax in chart.figure.axes:
            if not ax.get_visible() or not ax.axison:
                continue
            where = (chart.key, ax.get_title(loc="left"))
            siblings = ax.get_shared_y_axes().get_siblings(ax)
            assert any(labelled_y(a) for a in siblings), where
            shared_x = ax.get_shared_x_axes().get_siblings(ax)
            assert any(a.get_xlabel() for a in shared_x) or ax.get_label() == "<colorbar>", where


# --------------------------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------------------------


def test_cli_report_selected_formats(compare_pack: dict[str, Any], tmp_path: Path,
                                     capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    out = tmp_path / "html-only"
    code = main(["report", str(compare_pack["root"] / "results"), "--out", str(out),
                 "--format", "html"])  # fmt: skip
    assert code == 0
    assert (out / "report.html").is_file() and not (out / "report.pptx").exists()
    assert not (out / "charts").exists()
    assert "report.html" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--format", "html,pdf"], "--format: unknown format(s) pdf"),
        (["--format", ","], "--format"),
    ],
)
def test_cli_report_rejects_unknown_formats(compare_pack: dict[str, Any], tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str], args: list[str],
                                            message: str) -> None:  # fmt: skip
    out = tmp_path / "none"
    code = main(["report", str(compare_pack["root"] / "results"), "--out", str(out), *args])
    err = capsys.readouterr().err
    assert code == 2 and message in err and "Traceback" not in err
    assert not out.exists()


def test_cli_report_on_bad_folders(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["report", str(tmp_path / "nowhere")])
    assert code == 2 and "not found" in capsys.readouterr().err
    (tmp_path / "plain").mkdir()
    code = main(["report", str(tmp_path / "plain")])
    assert code == 2 and "no manifest.json" in capsys.readouterr().err
    half = tmp_path / "half"
    half.mkdir()
    (half / "manifest.json").write_text(json.dumps({"kind": "sweep", "design": {"columns": []},
                                                    "seeds": {"root_entropy": 1}}))  # fmt: skip
    code = main(["report", str(half)])
    err = capsys.readouterr().err
    assert code == 2 and "--resume" in err and "Traceback" not in err


def test_rebuild_removes_the_previous_pack_files_only(compare_pack: dict[str, Any],
                                                      tmp_path: Path) -> None:  # fmt: skip
    out = tmp_path / "pack"
    out.mkdir()
    mine = out / "notes.txt"
    mine.write_text("the user's own file")
    build_report(compare_pack["root"] / "results", out=out, formats="png,html")
    assert (out / "charts" / "frontier.png").is_file()
    files = build_report(compare_pack["root"] / "results", out=out, formats="html")
    assert not any((out / "charts").glob("*.png")), "no stale chart survives a rebuild"
    assert mine.read_text() == "the user's own file"
    assert {f.name for f in files} == {"report.html", "report.json"}


def test_cli_report_to_an_unwritable_folder(
    compare_pack: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    code = main(["report", str(compare_pack["root"] / "results"), "--out", str(blocker / "x"),
                 "--format", "html"])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2 and "--out: cannot write the report" in err and "Traceback" not in err
