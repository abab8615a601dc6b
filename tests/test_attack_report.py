"""Board pack under hostile input: a folder it does not own, plan names that look like markup or
hold control characters, machine paths, and a build that fails halfway."""

from __future__ import annotations

import dataclasses
import json
import re
import textwrap
import xml.etree.ElementTree as ET
import zipfile
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from conftest import TINY_BLENDED, TINY_SCENARIO
from pptx import Presentation

from simulation.analysis.results import ResultsError
from simulation.cli.main import main
from simulation.experiments import compare
from simulation.report.pack import MARKER, build, write

pytestmark = pytest.mark.needs_model

#: Names a user may give plans: mathtext, a bad mathtext command, a bell, terminal colours,
#: HTML markup and non-ASCII text.
HOSTILE = [
    "today $\\cmd$",
    "plan $x$ \x07 <b>bold</b> & co",
    "\x1b[31mred\x1b[0m Zürich café ✓ pay\u202egnp.exe",
]
#: Control characters a pack must never hold raw: C0 but tab and line breaks, DEL, C1, and the
#: bidirectional controls that reorder what the reader sees.
CONTROL = re.compile(
    r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]"
)


def _scenarios(root: Path) -> list[Path]:
    paths = []
    for name, text in (("tiny.yaml", TINY_SCENARIO), ("blended.yaml", TINY_BLENDED)):
        path = root / name
        path.write_text(textwrap.dedent(text), encoding="utf-8")
        paths.append(path)
    return paths


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A 3-plan comparison (2 replications) whose plan names are :data:`HOSTILE`, and the exit
    code of ``friction report`` on it (every format)."""
    root = tmp_path_factory.mktemp("hostile")
    tiny, blended = _scenarios(root)
    compare([tiny, blended, blended], reps=2, seed=3, out=root / "results", labels=HOSTILE)
    code = main(["report", str(root / "results"), "--out", str(root / "pack")])
    return {"root": root, "code": code, "out": root / "pack"}


@pytest.fixture(scope="module")
def plain(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A 2-plan comparison run from the command line with absolute paths."""
    root = tmp_path_factory.mktemp("plain")
    tiny, blended = _scenarios(root)
    results = root / "results"
    code = main(["compare", str(tiny), str(blended), "--reps", "2", "--seed", "4",
                 "--out", str(results)])  # fmt: skip
    assert code == 0
    report = build(results)
    # two charts are enough to test how files are written, and quick to draw
    small = dataclasses.replace(report, charts=report.charts[:2])
    assert [c.key for c in small.charts] == ["kpi_comparison", "time_series"]
    return {"root": root, "results": results, "report": small}


def _write(plain: dict[str, Any], out: Path, formats: str = "html") -> list[Path]:
    return write(plain["report"], out, formats.split(","))


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


# --------------------------------------------------------------------------------------------
# friction deletes and overwrites only what it wrote
# --------------------------------------------------------------------------------------------


def test_a_foreign_report_json_deletes_nothing(
    plain: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "mine"
    out.mkdir()
    (out / "thesis.docx").write_bytes(b"years of work")
    (out / "charts").mkdir()
    (out / "charts" / "figure1.png").write_bytes(b"my figure")
    foreign = json.dumps({"files": ["thesis.docx", "charts/figure1.png"]})
    (out / "report.json").write_text(foreign)
    before = _snapshot(out)
    code = main(["report", str(plain["results"]), "--out", str(out), "--format", "html"])
    err = capsys.readouterr().err
    assert (out / "thesis.docx").read_bytes() == b"years of work"
    assert (out / "charts" / "figure1.png").read_bytes() == b"my figure"
    # report.json is not friction's: it is neither overwritten nor trusted
    assert code == 2, err
    assert _snapshot(out) == before, "nothing written next to a file friction does not own"
    assert "report.json" in err and "--out" in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("name", ["report.html", "report.pptx", "charts/kpi_comparison.png"])
def test_a_foreign_pack_file_is_never_overwritten(
    plain: dict[str, Any], tmp_path: Path, name: str
) -> None:
    out = tmp_path / "mine"
    (out / "charts").mkdir(parents=True)
    (out / name).write_bytes(b"the user's own file")
    before = _snapshot(out)
    with pytest.raises(ResultsError, match=re.escape(name) + ".*output folder") as info:
        _write(plain, out, "html,pptx,png,svg")
    assert "--out" not in str(info.value), "the library names no command-line flag"
    assert _snapshot(out) == before


def test_a_pack_file_the_user_changed_is_kept(plain: dict[str, Any], tmp_path: Path) -> None:
    out = tmp_path / "pack"
    _write(plain, out, "html,png")
    (out / "charts" / "time_series.png").write_bytes(b"annotated by hand")
    # a rebuild without PNGs deletes the stale charts: not one the user changed
    _write(plain, out)
    assert (out / "charts" / "time_series.png").read_bytes() == b"annotated by hand"
    assert not (out / "charts" / "kpi_comparison.png").exists(), "unchanged stale charts go"
    # a rebuild that would overwrite a changed file refuses
    (out / "report.html").write_text("my edits")
    with pytest.raises(ResultsError, match=r"report\.html"):
        _write(plain, out)
    assert (out / "report.html").read_text() == "my edits"


def test_a_rebuild_replaces_friction_own_pack(plain: dict[str, Any], tmp_path: Path) -> None:
    out = tmp_path / "pack"
    (out / "charts").mkdir(parents=True)
    (out / "notes.txt").write_text("the user's own file")
    _write(plain, out, "png,svg")
    charts = {p.name for p in (out / "charts").iterdir()}
    assert {"time_series.svg", "time_series.png"} <= charts
    assert (out / MARKER).is_file()
    _write(plain, out)
    assert not list((out / "charts").iterdir()), "no stale chart of the first build survives"
    assert (out / "notes.txt").read_text() == "the user's own file"
    _write(plain, out)  # friction's own pack is rebuilt in place


def test_a_marker_naming_files_outside_the_pack_deletes_nothing(
    plain: dict[str, Any], tmp_path: Path
) -> None:
    import hashlib

    out = tmp_path / "pack"
    _write(plain, out)
    outside = tmp_path / "outside.txt"
    outside.write_text("not in the pack")
    marker = json.loads((out / MARKER).read_text())
    marker["files"]["../outside.txt"] = hashlib.sha256(b"not in the pack").hexdigest()
    (out / MARKER).write_text(json.dumps(marker))
    _write(plain, out)
    assert outside.read_text() == "not in the pack"


# --------------------------------------------------------------------------------------------
# Plan names are shown literally, and never break a file
# --------------------------------------------------------------------------------------------


def test_hostile_plan_names_build_a_pack(hostile: dict[str, Any]) -> None:
    assert hostile["code"] == 0


@pytest.mark.parametrize(
    ("name", "drawn"),
    [
        ("pay\u202egnp.exe", "pay\\u202egnp.exe"),
        ("a\u2066b\u2069c", "a\\u2066b\\u2069c"),
        ("x\u200fy\u061cz", "x\\u200fy\\u061cz"),
        ("bell\x07 $1", "bell\\x07 \\$1"),
        ("line\u2028break", "line\\u2028break"),
    ],
)
def test_charts_draw_control_characters_escaped(name: str, drawn: str) -> None:
    from simulation.report.charts import literal

    assert literal(name) == drawn


def _svg_text(path: Path) -> str:
    root = ET.parse(path).getroot()  # raises on invalid XML (a control character)
    return " ".join("".join(el.itertext()) for el in root.iter() if el.tag.endswith("text"))


def test_hostile_plan_names_are_drawn_literally(hostile: dict[str, Any]) -> None:
    svgs = sorted((hostile["out"] / "charts").glob("*.svg"))
    assert len(svgs) >= 4
    drawn = {p.stem: _svg_text(p) for p in svgs}
    assert not any(CONTROL.search(t) for t in drawn.values())
    # the per-plan charts name every plan, dollars and all, as typed
    for key in ("kpi_comparison", "value_stream", "payouts"):
        text = drawn[key]
        assert "$x$" in text and "$\\cmd$" in text and "Zürich café ✓" in text, key
        assert "\\x07" in text and "\\x1b[31mred" in text, key
        assert "pay\\u202egnp.exe" in text, key
        assert "<b>bold</b> & co" in text, key


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.text: list[str] = []

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def test_hostile_plan_names_in_the_html_are_text(hostile: dict[str, Any]) -> None:
    raw = (hostile["out"] / "report.html").read_text(encoding="utf-8")
    assert not CONTROL.search(raw)
    page = _Text()
    page.feed(raw)
    assert "<b>bold</b>" not in raw, "a plan name never becomes markup"
    text = " ".join(page.text)
    assert "plan $x$ \\x07 <b>bold</b> & co" in text
    assert "\\x1b[31mred\\x1b[0m Zürich café ✓ pay\\u202egnp.exe" in text


def test_hostile_plan_names_in_the_deck_and_index(hostile: dict[str, Any]) -> None:
    deck = Presentation(str(hostile["out"] / "report.pptx"))
    text = "\n".join(
        sh.text_frame.text for slide in deck.slides for sh in slide.shapes if sh.has_text_frame
    )
    assert "plan $x$ \\x07 <b>bold</b> & co" in text
    assert "pay\\u202egnp.exe" in text
    assert "_x001B_" not in text and not CONTROL.search(text)
    index = json.loads((hostile["out"] / "report.json").read_text(encoding="utf-8"))
    assert any(HOSTILE[1] in item["text"] for item in index["summary"]), "JSON keeps the name"


# --------------------------------------------------------------------------------------------
# No path of this machine in the pack
# --------------------------------------------------------------------------------------------


def test_the_pack_holds_no_path_of_this_machine(plain: dict[str, Any]) -> None:
    results = plain["results"]
    # the results were run as `friction compare /abs/tiny.yaml ... --out /abs/results`
    for out in (results / "report", plain["root"] / "elsewhere" / "pack"):
        _write(plain, out, "html,pptx")
        with zipfile.ZipFile(out / "report.pptx") as deck:
            xml = "\n".join(
                deck.read(n).decode("utf-8") for n in deck.namelist() if n.endswith(".xml")
            )
        texts = {
            "report.html": (out / "report.html").read_text(encoding="utf-8"),
            "report.json": (out / "report.json").read_text(encoding="utf-8"),
            "report.pptx": xml,
        }
        home = str(Path.home())
        for name, text in texts.items():
            for machine in {str(plain["root"]), str(plain["root"].resolve())}:
                assert machine not in text, (name, out)
            if home != "/":
                assert home not in text, (name, out)
        assert "compare tiny.yaml" in texts["report.html"], "the command, file names only"
        index = json.loads(texts["report.json"])
        assert (out / index["results"]).resolve() == results.resolve()


# --------------------------------------------------------------------------------------------
# A build that fails writes nothing
# --------------------------------------------------------------------------------------------


def test_a_failed_build_writes_no_partial_pack(
    plain: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from simulation.report import pack as report

    def broken(*args: Any) -> bytes:
        raise RuntimeError("the deck cannot be drawn")

    monkeypatch.setattr(report, "render_pptx", broken)
    out = tmp_path / "pack"
    with pytest.raises(RuntimeError):
        _write(plain, out, "png,svg,html,pptx")  # the deck is drawn after the rest
    assert not out.exists(), "nothing of a failed build is kept"


def test_an_unreadable_diagnosis_is_a_user_error(
    plain: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import shutil

    results = tmp_path / "results"
    shutil.copytree(plain["results"], results, ignore=shutil.ignore_patterns("report"))
    (results / "diagnosis.json").write_text('{"levers": [')  # cut short by a crash
    code = main(["report", str(results), "--format", "html"])
    err = capsys.readouterr().err
    assert code == 2 and "diagnosis.json" in err and "Traceback" not in err
    assert not (results / "report").exists()
