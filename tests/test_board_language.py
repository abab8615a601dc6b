"""Board language: the board-facing part of a pack speaks plain words.

The board-facing part is the HTML page before its appendix, every deck slide before the
appendix divider and every text drawn in a chart. It must not name a scenario key, a results
or pack file, a scenario's code name (when it has a label), a seed or a command option; what
it must not name is generated from the data (the levers table, the folders, the manifest),
not typed here. Money carries its currency, every abbreviation is spelled out, and a chart's
headline states the same quantity as the numbers beside it.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import re
import textwrap
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import matplotlib.text
import pytest
from conftest import TINY_SCENARIO
from pptx import Presentation

from simulation.analysis.results import load_results
from simulation.cli.main import main
from simulation.experiments import compare, sweep
from simulation.model.metrics import KPIS
from simulation.report.pack import build, build_report
from simulation.scenario.config import lever_table
from simulation.scenario.levers import LEVER_BY_KEY

pytestmark = pytest.mark.needs_model

# Names with an underscore: in board text they can only be code names.
TODAY = TINY_SCENARIO.replace("name: tiny", "name: today_tiny")
BLENDED = """\
    extends: today_tiny.yaml
    name: blended_tiny
    incentives:
      weights: {individual: 0.4, team: 0.3, company: 0.2, silo_buster: 0.1}
"""
PHASED = """\
    extends: today_tiny.yaml
    name: phased_rollout
    interventions:
      - {day: 10, label: channel SLAs, set: {comms.strategy: channel_sla}}
      - {day: 20, set: {handover.mvh: true, handover.red_flag: true}}
    coaching: {program: micro_4wk, start_day: 15}
"""
SWEEP = """\
    name: tiny sweep
    base: today_tiny.yaml
    replications: 2
    seed: 7
    axes:
      structure.team_size: [4, 5]
      incentives.weights: {simplex: 0.5}
"""
#: A sweep that changes the firm itself: its designs do not face the same customers.
FIRM_SWEEP = """\
    name: firm sweep
    base: today_tiny.yaml
    replications: 2
    seed: 7
    axes:
      org.sales_reps: [4, 6]
      market.deal_value: [30000, 50000]
"""
#: A short diagnosis: the six bundles, rolled out on day 10 of a 50-day run.
DIAGNOSE = ["--reps", "3", "--seed", "2", "--levers", "bundles", "--rollout-day", "10",
            "--set", "horizon_days=40", "--set", "warmup_days=10", "--workers", "1"]  # fmt: skip


def _write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def compare_pack(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Three scenarios (one phased in, with a coaching start) at 3 replications, and the pack."""
    root = tmp_path_factory.mktemp("board")
    files = [
        _write(root, n, t)
        for n, t in (
            ("today_tiny.yaml", TODAY),
            ("blended_tiny.yaml", BLENDED),
            ("phased_rollout.yaml", PHASED),
        )
    ]
    results = root / "board_results"
    compare(files, reps=3, seed=5, out=results)
    build_report(results, out=root / "board_pack")
    return {"results": results, "out": root / "board_pack", "inputs": files}


def _sweep_pack(root: Path, name: str, text: str) -> dict[str, Any]:
    """Run the sweep file ``text`` (over the tiny scenario) and build its pack."""
    files = [_write(root, "today_tiny.yaml", TODAY), _write(root, f"{name}.yaml", text)]
    results = root / f"{name}_results"
    sweep(files[1], out=results)
    build_report(results, out=root / f"{name}_pack")
    return {"results": results, "out": root / f"{name}_pack", "inputs": files}


@pytest.fixture(scope="module")
def sweep_pack(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Two team sizes x ten bonus mixes x two replications, and the pack."""
    return _sweep_pack(tmp_path_factory.mktemp("board_sweep"), "tiny_sweep", SWEEP)


@pytest.fixture(scope="module")
def firm_sweep_pack(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Two firm sizes x two deal values x two replications, and the pack."""
    return _sweep_pack(tmp_path_factory.mktemp("board_firms"), "firm_sweep", FIRM_SWEEP)


@pytest.fixture(scope="module")
def diagnose_pack(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A short diagnosis of a scenario with a code name and no label, run as a user runs it,
    its terminal output, and the pack."""
    root = tmp_path_factory.mktemp("board_diagnose")
    files = [_write(root, "today_tiny.yaml", TODAY)]
    results = root / "board_diagnosis"
    terminal = io.StringIO()
    with contextlib.redirect_stdout(terminal):
        code = main(["diagnose", str(files[0]), *DIAGNOSE, "--out", str(results)])
    assert code == 0
    build_report(results, out=root / "board_diagnosis_pack")
    return {"results": results, "out": root / "board_diagnosis_pack", "inputs": files,
            "terminal": terminal.getvalue()}  # fmt: skip


# --------------------------------------------------------------------------------------------
# The board-facing text of a pack
# --------------------------------------------------------------------------------------------


class _Text(HTMLParser):
    """Every text a reader sees on a page: data, image descriptions; not the style sheet."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._skip = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._skip = tag == "style"
        alt = dict(attrs).get("alt")
        if alt:
            self.parts.append(alt)

    def handle_endtag(self, tag: str) -> None:
        self._skip = False

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def _html_board(out: Path) -> str:
    """The page before its appendix (all of it when it has none)."""
    page = (out / "report.html").read_text(encoding="utf-8")
    cut = page.find('id="appendix"')
    if cut >= 0:
        page = page[: page.rfind("<", 0, cut)]
    parser = _Text()
    parser.feed(page)
    return "\n".join(parser.parts)


def _slides(out: Path) -> list[str]:
    def text(slide: Any) -> str:
        parts = []
        for sh in slide.shapes:
            if sh.has_text_frame:
                parts.append(sh.text_frame.text)
            if getattr(sh, "has_table", False) and sh.has_table:
                parts += [c.text for row in sh.table.rows for c in row.cells]
        return "\n".join(parts)

    return [text(s) for s in Presentation(str(out / "report.pptx")).slides]


def _deck_board(out: Path) -> str:
    """The slides before the appendix divider (all of them when there is none)."""
    board = []
    for slide in _slides(out):
        if slide.startswith("Appendix"):
            break
        board.append(slide)
    return "\n".join(board)


def _chart_text(results: Path) -> str:
    """Everything the pack's charts say: headline, caption and every text drawn."""
    parts = []
    for chart in build(results).charts:
        parts += [chart.title, chart.caption]
        parts += [t.get_text() for t in chart.figure.findobj(matplotlib.text.Text)]
    return "\n".join(parts)


def _board(pack: dict[str, Any]) -> dict[str, str]:
    return {
        "html": _html_board(pack["out"]),
        "deck": _deck_board(pack["out"]),
        "charts": _chart_text(pack["results"]),
    }


# --------------------------------------------------------------------------------------------
# What the board-facing text must not hold, generated from the data
# --------------------------------------------------------------------------------------------


def _code_names() -> set[str]:
    """Every key of the levers table and of the playbook levers (bundles and parts), their
    last parts and the values a key takes from a list, when written as code (with an
    underscore or a dot). Single words ("squads", "translation", "silo") are English words a
    board sentence may use in their plain meaning."""
    table = lever_table()
    keys = {r["key"] for r in table} | set(LEVER_BY_KEY)
    keys |= {k for lv in LEVER_BY_KEY.values() for k in lv.changes}
    leaves = {k.rsplit(".", 1)[-1] for k in keys}
    choices = {v.strip() for r in table if " | " in r["range"] for v in r["range"].split("|")}
    return {t for t in keys | leaves | choices if "_" in t or "." in t}


def _file_names(pack: dict[str, Any]) -> set[str]:
    """Every file in the results and pack folders, the two folders and the input files."""
    names = {pack["results"].name, pack["out"].name}
    for folder in (pack["results"], pack["out"]):
        names |= {p.name for p in folder.rglob("*") if p.is_file()}
    names |= {p.name for p in pack["inputs"]}
    return names


def _code_slugs(results: Path) -> set[str]:
    """The ``name`` of every scenario the results hold that differs from its label."""
    config = load_results(results).manifest["config"]
    scenarios = config.get("scenarios") or [config["base_scenario"]]
    return {s["name"] for s in scenarios if s["name"] != s.get("label")}


def _found(text: str, token: str) -> bool:
    return re.search(rf"(?<![\w.]){re.escape(token)}(?![\w])", text) is not None


def _offences(pack: dict[str, Any], texts: dict[str, str] | None = None) -> list[str]:
    """What the board-facing texts (the pack's, unless ``texts`` are given) should not name."""
    tokens = _code_names() | _file_names(pack) | _code_slugs(pack["results"])
    found = []
    for where, text in (_board(pack) if texts is None else texts).items():
        found += [f"{where}: {t}" for t in sorted(tokens) if _found(text, t)]
        found += [f"{where}: seed" for _ in re.findall(r"seed", text, re.IGNORECASE)][:1]
        found += [f"{where}: --"] if "--" in text else []
    return found


PACKS = ["compare_pack", "sweep_pack", "firm_sweep_pack", "diagnose_pack"]


@pytest.mark.parametrize("pack_name", PACKS)
def test_board_text_names_no_key_file_slug_seed_or_option(
    pack_name: str, request: pytest.FixtureRequest
) -> None:
    pack = request.getfixturevalue(pack_name)
    assert _offences(pack) == []


def test_the_scan_finds_what_it_looks_for(compare_pack: dict[str, Any]) -> None:
    """The check can fail: the appendix holds keys, file names and the seed, and the scan of
    the whole page finds them."""
    page = (compare_pack["out"] / "report.html").read_text(encoding="utf-8")
    parser = _Text()
    parser.feed(page)
    text = "\n".join(parser.parts)
    assert any(_found(text, t) for t in _code_names())
    assert _found(text, compare_pack["results"].name)
    assert re.search("seed", text, re.IGNORECASE)


def _terminal_board(terminal: str) -> dict[str, str]:
    """What a board member reads of ``friction diagnose``'s output: the lead (bottom line and
    what to read with care, up to the analyst's account of the run) and the paragraph in plain
    words."""
    lead = terminal.split("\nDiagnosis of ", 1)[0]
    words = terminal.split("In plain words:\n", 1)[1].split("\n\n", 1)[0]
    return {"terminal lead": lead, "terminal words": words}


def test_diagnose_speaks_plain_words_in_the_terminal_and_its_file(
    diagnose_pack: dict[str, Any],
) -> None:
    d = json.loads((diagnose_pack["results"] / "diagnosis.json").read_text(encoding="utf-8"))
    texts = _terminal_board(diagnose_pack["terminal"])
    assert texts["terminal lead"].strip() and texts["terminal words"].strip()
    texts |= {k: d[k] for k in ("verdict", "headline", "bottom_line")}
    assert _offences(diagnose_pack, texts) == []


def test_a_diagnosis_names_its_starting_scenario_by_its_label(
    diagnose_pack: dict[str, Any],
) -> None:
    from simulation.scenario.config import plain_label

    d = json.loads((diagnose_pack["results"] / "diagnosis.json").read_text(encoding="utf-8"))
    assert d["scenario"] == "today_tiny"
    assert d["scenario_label"] == plain_label("today_tiny") == "Today tiny"
    assert "Today tiny" in d["verdict"]


def test_a_firm_sweep_says_in_plain_words_that_its_customers_differ(
    firm_sweep_pack: dict[str, Any],
) -> None:
    """The guardrail names what the sweep changes by the settings' human names."""
    names = {r["key"]: r["name"].lower() for r in lever_table()}
    for where, text in _board(firm_sweep_pack).items():
        if where == "charts":
            continue
        said = " ".join(text.split())
        assert "do not face the same customers" in said, where
        assert names["org.sales_reps"] in said and names["market.deal_value"] in said, where


# --------------------------------------------------------------------------------------------
# A diagnosis's advice on replications, in plain words
# --------------------------------------------------------------------------------------------


def _diagnosis(values: dict[str, list[float]], rank_by: str = "cost_of_friction") -> dict:
    """A diagnosis of the first levers of the playbook from each one's ranking-KPI runs
    (``values[lever]``, ``values["current"]``), starting from a scenario with a code name."""
    from simulation.analysis.compare import paired_difference
    from simulation.analysis.diagnosis import summarise_diagnosis
    from simulation.scenario.levers import CURRENT

    levers = [LEVER_BY_KEY[k] for k in values if k != CURRENT]
    rows = []
    for kpi in KPIS:
        for lv in levers:
            if kpi == rank_by:
                d = paired_difference(values[CURRENT], values[lv.key], KPIS[kpi].better)
            else:
                n = len(values[CURRENT])
                p = 0.5 if n > 1 else math.nan
                d = {"n": n, "base_mean": 1.0, "mean": 1.0, "diff": 0.0, "ci_low": 0.0,
                     "ci_high": 0.0, "relative": 0.0, "p_better": p}  # fmt: skip
            rows.append({**d, "lever": lv.key, "kpi": kpi})
    header = {"scenario": "today_tiny", "scenario_label": "Today's plan", "seed": 1,
              "replications": len(values[CURRENT]), "results": "results/x"}  # fmt: skip
    return summarise_diagnosis(rows, values, rank_by, levers, dict.fromkeys(KPIS, 1.0), header)


def _wobbly(shift: float, wobble: float, n: int = 10) -> list[float]:
    return [1000.0 + shift + 37 * ((7 * i) % 5) + (wobble if i % 2 else -wobble) for i in range(n)]


#: Verdicts that advise more replications or another ranking, one of each kind.
ADVICE = {
    # the top two cannot be separated, but more replications might tell them apart
    "runner-up unclear": {"current": _wobbly(0, 0), "blended_bonus": _wobbly(-300, 20),
                          "squads": _wobbly(-290, -20)},
    # no lever clearly helps; more replications might tell
    "unclear": {"current": _wobbly(0, 0), "blended_bonus": _wobbly(-8, 40),
                "squads": _wobbly(30, 5)},
    "one replication": {"current": [10.0], "blended_bonus": [8.0], "squads": [9.0]},
    "unranked": {"current": [math.nan] * 3, "blended_bonus": [math.nan] * 3,
                 "squads": [math.nan] * 3},
}  # fmt: skip


@pytest.mark.parametrize("case", list(ADVICE))
def test_a_diagnosis_advises_in_plain_words(case: str) -> None:
    """The verdict keeps its advice (how many replications might separate the levers, rank by
    another measure) without naming a command option, a key or the scenario's code name; the
    terminal gives the option on a line of its own."""
    from simulation.cli.main import render_diagnosis

    d = _diagnosis(ADVICE[case])
    for key in ("verdict", "headline", "bottom_line"):
        text = d[key]
        assert "--" not in text and not re.search(r"\breps\b", text), (key, text)
        assert not any(_found(text, t) for t in _code_names() | {"today_tiny"}), (key, text)
    more = {"runner-up unclear": (d["runner_up"] or {}).get("suggested_reps"),
            "unclear": d.get("top_suggested_reps")}.get(case)  # fmt: skip
    terminal = render_diagnosis(d)
    if case in ("runner-up unclear", "unclear"):
        assert more, "the case must advise more replications"
        assert d["top"]["direction"] == (
            "better" if case == "runner-up unclear" else "no clear difference"
        )
        assert f"about {more:,} replications" in d["verdict"]
        assert re.search(rf"^\S.*--reps {more}\b", terminal, re.MULTILINE)
    if case == "one replication":
        assert "10 or more replications" in d["verdict"]
        assert "--reps 10" in terminal
    if case == "unranked":
        assert "another measure" in d["verdict"] and "--rank-by" in terminal
    else:
        assert "Today's plan" in d["verdict"]
    words = terminal.split("In plain words:\n", 1)[1].split("\n\n", 1)[0]
    assert "--" not in words


ABBREVIATION = re.compile(r"(?<![\w&])([A-Z][A-Z0-9&]*[A-Z0-9])(?=s?(?![\w&]))")


@pytest.mark.parametrize("pack_name", PACKS)
def test_every_abbreviation_is_spelled_out(pack_name: str, request: pytest.FixtureRequest) -> None:
    pack = request.getfixturevalue(pack_name)
    for where, text in _board(pack).items():
        if where == "charts":  # drawn text is explained by the page and slides around it
            continue
        seen = {
            a
            for t in _board(pack).values()
            for a in ABBREVIATION.findall(t)
            if sum(c.isupper() for c in a) >= 2
        }
        for abbr in seen:
            said = re.search(rf"\({re.escape(abbr)}\)|{re.escape(abbr)} = \w", text)
            assert said, f"{where}: {abbr} is not spelled out"


# --------------------------------------------------------------------------------------------
# Labels and currency
# --------------------------------------------------------------------------------------------

EUR_TODAY = TODAY + "    label: Today's plan\n    report: {currency: EUR}\n"
EUR_BLENDED = BLENDED + "    label: Blended bonus 40/30/20/10\n"


@pytest.fixture(scope="module")
def eur_pack(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("eur")
    files = [_write(root, "today_tiny.yaml", EUR_TODAY),
             _write(root, "blended_tiny.yaml", EUR_BLENDED)]  # fmt: skip
    results = root / "eur_results"
    compare(files, reps=3, seed=3, out=results)
    build_report(results, out=root / "eur_pack")
    return {"results": results, "out": root / "eur_pack", "inputs": files}


def test_labels_default_to_the_name_in_plain_words_and_are_not_inherited(tmp_path: Path) -> None:
    from simulation.scenario.config import plain_label
    from simulation.scenario.loader import load_scenario

    assert plain_label("blended_40_30_20_10") == "Blended 40/30/20/10"
    assert plain_label("zero_friction") == "Zero friction"
    base = _write(tmp_path, "today_tiny.yaml", EUR_TODAY)
    child = _write(tmp_path, "child.yaml", "extends: today_tiny.yaml\nname: my_child_plan\n")
    assert load_scenario(base).label == "Today's plan"
    assert load_scenario(child).label == "My child plan"  # its own, not its parent's
    assert load_scenario(child).report.currency == "EUR"  # settings are inherited


def test_money_names_its_currency(eur_pack: dict[str, Any]) -> None:
    board = _board(eur_pack)
    for where in ("html", "deck"):
        text = board[where]
        assert "currency" not in text.lower() and "/year" not in text, where
        figures = re.findall(r"(\b[A-Z]{3} )?[-+]?\d[\d,.]*[kMB]? a year", text)
        assert figures, where
        assert all(code == "EUR " for code in figures), (where, figures)
    assert "EUR per" in board["charts"] and "currency" not in board["charts"]
    # the appendix states units with the currency too
    appendix = (eur_pack["out"] / "report.html").read_text(encoding="utf-8")
    assert "EUR/year" in appendix and "currency/year" not in appendix


def test_title_slide_states_the_title_and_the_plan_labels(eur_pack: dict[str, Any]) -> None:
    report = build(eur_pack["results"])
    first = _slides(eur_pack["out"])[0]
    assert first.startswith(report.title)
    for label in ("Today's plan", "Blended bonus 40/30/20/10"):
        assert label in first
    assert "today_tiny" not in first and "blended_tiny" not in first


def test_a_comparison_needs_one_currency(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    a = _write(tmp_path, "today_tiny.yaml", EUR_TODAY)
    b = _write(tmp_path, "usd.yaml", "extends: today_tiny.yaml\nname: usd\nreport: {currency: USD}")
    code = main(["compare", str(a), str(b), "--reps", "2", "--out", str(tmp_path / "c")])
    err = capsys.readouterr().err
    assert code == 2 and "report.currency" in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1
    assert not (tmp_path / "c").exists()


def test_a_sweep_over_currencies_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    _write(tmp_path, "today_tiny.yaml", EUR_TODAY)
    spec = _write(tmp_path, "s.yaml", SWEEP.replace(
        "structure.team_size: [4, 5]", "report.currency: [EUR, USD]"))  # fmt: skip
    code = main(["sweep", str(spec), "--out", str(tmp_path / "s")])
    err = capsys.readouterr().err
    assert code == 2 and "report.currency" in err and "Traceback" not in err


@pytest.mark.parametrize("bad", ["euro", "EU", "eur1", "1"])
def test_a_currency_is_a_three_letter_code(
    bad: str, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    path = _write(tmp_path, "s.yaml", TODAY + f"    report: {{currency: '{bad}'}}\n")
    code = main(["validate", str(path)])
    err = capsys.readouterr().err
    assert code == 2 and "report.currency" in err and "ISO 4217" in err
    assert len(err.strip().splitlines()) == 1


def test_sweep_points_get_plain_labels() -> None:
    from simulation.analysis.words import point_label

    mix = {"incentives.weights.individual": 0.4, "incentives.weights.team": 0.3,
           "incentives.weights.company": 0.2, "incentives.weights.silo_buster": 0.1}  # fmt: skip
    squads = {"structure.kind": "squad", "structure.team_size": 8}
    assert point_label({**mix, **squads}) == "40/30/20/10, squads of 8"
    assert point_label({"structure.team_size": 5}, {"structure": {"kind": "silo"}}) == (
        "functional teams of 5"
    )
    text = point_label({"handover.mvh_threshold": 0.6, "behaviour.logit_beta": 2.5})
    assert not any(_found(text, t) for t in _code_names()), text


def test_assumptions_are_shown_with_human_names(eur_pack: dict[str, Any]) -> None:
    rows = lever_table()
    for r in rows:
        assert r["name"] and not any(c in r["name"] for c in "_."), r
        assert len(r["name"]) <= 50, r
    names = {r["key"]: r["name"] for r in rows}
    report = build(eur_pack["results"])
    key = [a for a in report.assumptions if a["key_assumption"]]
    assert key and all(a["name"] == names[a["key"]] for a in key)
    assert all(c["name"] == names[c["key"]] for p in report.plans for c in p["changes"])


# --------------------------------------------------------------------------------------------
# A headline states the same quantity as the numbers beside it
# --------------------------------------------------------------------------------------------


def _chart(results: Path, key: str) -> Any:
    return next(c for c in build(results).charts if c.key == key)


def _shown(results: Any, point: int, kpi: str) -> str:
    from simulation.analysis.words import format_kpi_value, money_in

    with money_in(results.currency):
        return format_kpi_value(KPIS[kpi], float(results.by_point.loc[point, f"{kpi}_mean"]))


def test_payouts_headline_uses_the_mean_the_kpis_use(compare_pack: dict[str, Any]) -> None:
    results = load_results(compare_pack["results"])
    chart = _chart(compare_pack["results"], "payouts")
    named = [p for p, label in enumerate(results.plan_labels) if p and label in chart.title]
    assert len(named) == 1, chart.title
    assert "mean" in chart.title.lower()
    for kpi in ("payout_rep_mean", "payout_ops_mean"):
        assert _shown(results, named[0], kpi) in chart.title, (kpi, chart.title)
    assert "median" in chart.caption and "mean" in chart.caption


def test_time_series_headline_states_the_kpi_of_the_summary(compare_pack: dict[str, Any]) -> None:
    results = load_results(compare_pack["results"])
    chart = _chart(compare_pack["results"], "time_series")
    named = [p for p, label in enumerate(results.plan_labels) if label in chart.title]
    assert named, chart.title
    for p in named:  # the year's value the summary and the comparison state
        assert _shown(results, p, "productivity_loss") in chart.title, chart.title


def test_value_stream_headline_says_what_it_measures(compare_pack: dict[str, Any]) -> None:
    results = load_results(compare_pack["results"])
    chart = _chart(compare_pack["results"], "value_stream")
    assert "first contact" in chart.title
    # the lead time it names is the KPI the comparison shows
    assert _shown(results, 0, "lead_time_days") in chart.title, chart.title
    assert "close to activation" in chart.caption


def test_time_series_plots_the_kpi_its_headline_names(compare_pack: dict[str, Any]) -> None:
    """The chart's daily productivity loss averages, over the year, to the KPI of each run."""
    from simulation.report.charts import daily_productivity_loss

    results = load_results(compare_pack["results"])
    daily = results.daily
    assert daily is not None
    year = daily[daily["day"] >= 0]
    mean = daily_productivity_loss(year).groupby([year["point"], year["replication"]]).mean()
    for _, run in results.runs.iterrows():
        assert mean[(run["point"], run["replication"])] == pytest.approx(
            run["productivity_loss"], rel=1e-9
        )
