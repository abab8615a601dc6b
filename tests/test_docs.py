"""Documentation cannot drift from the code: generated docs, cited code names, bundled scenarios."""

from __future__ import annotations

import difflib
import importlib
import re
import sys
from pathlib import Path

import pytest

from simulation.scenario.config import lever_keys, lever_table

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tools"))  # the docs generator is a tool, not part of the package
import assumptions  # noqa: E402

ASSUMPTIONS_MD = REPO / "docs" / "ASSUMPTIONS.md"
ODD_MD = REPO / "docs" / "ODD.md"
README_MD = REPO / "README.md"
REGENERATE = "regenerate it with: .venv/bin/python tools/assumptions.py"


def _read(path: Path) -> str:
    assert path.exists(), f"{path.relative_to(REPO)} is missing"
    return path.read_text(encoding="utf-8")


# ------------------------------------------------------------------------------------------
# docs/ASSUMPTIONS.md
# ------------------------------------------------------------------------------------------


def test_assumptions_doc_is_current() -> None:
    committed = _read(ASSUMPTIONS_MD)
    rendered = assumptions.render_assumptions()
    if committed != rendered:  # show a readable diff rather than two long strings
        diff = "\n".join(
            list(
                difflib.unified_diff(
                    committed.splitlines(),
                    rendered.splitlines(),
                    "committed",
                    "rendered",
                    lineterm="",
                )
            )[:30]
        )
        pytest.fail(f"docs/ASSUMPTIONS.md is stale; {REGENERATE}\n{diff}")
    assert committed == rendered


def test_every_lever_is_documented() -> None:
    doc = _read(ASSUMPTIONS_MD)
    missing = [key for key in lever_keys() if f"| `{key}` |" not in doc]
    assert not missing, f"levers missing from docs/ASSUMPTIONS.md: {missing}; {REGENERATE}"


def test_every_lever_has_unit_and_source() -> None:
    rows = lever_table()
    no_unit = [r["key"] for r in rows if not str(r["unit"]).strip()]
    no_source = [r["key"] for r in rows if not str(r["source"]).strip()]
    no_meaning = [r["key"] for r in rows if not str(r["meaning"]).strip()]
    assert not no_unit, f"levers without a unit in simulation/scenario/config.py: {no_unit}"
    assert not no_source, f"levers without a source in simulation/scenario/config.py: {no_source}"
    assert not no_meaning, (
        f"levers without a description in simulation/scenario/config.py: {no_meaning}"
    )


def test_calibrated_keys_are_levers() -> None:
    keys = set(lever_keys())
    unknown = [c.key for c in assumptions.CALIBRATED if c.key not in keys]
    assert not unknown, f"assumptions.CALIBRATED names keys the schema does not have: {unknown}"


@pytest.mark.parametrize("const", assumptions.INLINE_CONSTANTS, ids=lambda c: c.name)
def test_inline_constant_still_in_code(const: assumptions.Constant) -> None:
    """Each literal the document lists is still written in its file (whitespace ignored)."""
    source = re.sub(r"\s+", "", _read(REPO / const.where))
    snippet = re.sub(r"\s+", "", const.snippet)
    assert snippet, f"{const.name}: no snippet to pin it to {const.where}"
    assert snippet in source, (
        f"'{const.snippet}' ({const.name}) is no longer in {const.where}: update "
        f"INLINE_CONSTANTS in tools/assumptions.py, then {REGENERATE}"
    )


def test_check_flag_reports_stale_and_fresh(tmp_path: Path, capsys) -> None:
    path = tmp_path / "ASSUMPTIONS.md"
    assert assumptions.main(["--check", "--output", str(path)]) == 1  # missing
    path.write_text("# old\n", encoding="utf-8")
    assert assumptions.main(["--check", "--output", str(path)]) == 1  # stale
    assert "stale" in capsys.readouterr().err
    assert assumptions.main(["--output", str(path)]) == 0  # write
    assert assumptions.main(["--check", "--output", str(path)]) == 0  # fresh
    assert path.read_text(encoding="utf-8") == assumptions.render_assumptions()


# ------------------------------------------------------------------------------------------
# docs/ODD.md names code that exists
# ------------------------------------------------------------------------------------------

MODULES = (
    "agents", "churn", "coaching", "comms", "config", "deals", "handover", "hours", "incentives",
    "information", "metrics", "model", "queueing", "selling", "streams", "structure",
)  # fmt: skip


CLASSES = ("FrictionModel", "SalesRep", "OpsStaff", "Person", "DealBook")


def _code_references(text: str) -> set[str]:
    """Code cited in backticks: ``simulation.<module>.<name>`` or ``<Class>.<name>``.

    Module references carry the ``simulation.`` prefix because scenario keys look the same
    (``handover.mvh`` is a key, ``simulation.model.handover.completeness`` a function).
    """
    modules = "|".join(MODULES)
    classes = "|".join(CLASSES)
    refs = set(re.findall(rf"`simulation\.((?:\w+\.)?(?:{modules})\.[A-Za-z_]\w*)", text))
    return refs | set(re.findall(rf"`((?:{classes})\.[A-Za-z_]\w*)", text))


def test_odd_code_references_exist() -> None:
    refs = _code_references(_read(ODD_MD))
    assert len(refs) > 20, "docs/ODD.md should name the functions implementing each submodel"
    classes = {}
    model = importlib.import_module("simulation.model.model")
    agents = importlib.import_module("simulation.model.agents")
    deals = importlib.import_module("simulation.model.deals")
    classes.update(
        FrictionModel=model.FrictionModel,
        SalesRep=agents.SalesRep,
        OpsStaff=agents.OpsStaff,
        Person=agents.Person,
        DealBook=deals.DealBook,
    )
    missing = []
    for ref in sorted(refs):
        owner, name = ref.rsplit(".", 1)
        obj = classes.get(owner) or importlib.import_module(f"simulation.{owner}")
        if not hasattr(obj, name):
            missing.append(ref)
    assert not missing, f"docs/ODD.md cites names the code does not have: {missing}"


# ------------------------------------------------------------------------------------------
# README.md
# ------------------------------------------------------------------------------------------


def test_readme_lists_every_bundled_scenario() -> None:
    readme = _read(README_MD)
    bundled = sorted(p.stem for p in (REPO / "scenarios").glob("*.yaml"))
    missing = [name for name in bundled if f"`{name}`" not in readme]
    assert not missing, f"README.md does not describe bundled scenarios: {missing}"
    cited = set(re.findall(r"scenarios/([A-Za-z0-9_]+)\.yaml", readme))
    unknown = sorted(cited - set(bundled))
    assert not unknown, f"README.md cites scenario files that do not exist: {unknown}"


def test_readme_lists_every_kpi() -> None:
    from simulation.model.metrics import KPIS

    readme = _read(README_MD)
    missing = [name for name in KPIS if f"`{name}`" not in readme]
    assert not missing, f"README.md does not list KPIs: {missing}"


def test_docs_links_resolve() -> None:
    """Relative links in README.md and docs/*.md point at files in the repository."""
    broken = []
    for doc in (README_MD, *sorted((REPO / "docs").glob("*.md"))):
        for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", _read(doc)):
            if "://" in target or target.startswith("mailto:"):
                continue
            if not (doc.parent / target).exists():
                broken.append(f"{doc.relative_to(REPO)} -> {target}")
    assert not broken, f"broken relative links: {broken}"
