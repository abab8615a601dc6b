"""The package's layers import one way: no cycles through the CLI, no borrowed private names,
and `friction validate` starts without loading the model or the statistics stack."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "simulation"


def _imports(path: Path) -> list[tuple[str, list[str]]]:
    """``(module, names)`` of every ``simulation.*`` import in a file, at any depth."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("simulation"):
            names = [a.name for a in node.names]
            if node.module == "simulation":
                found += [(f"simulation.{n}", []) for n in names]
            else:
                found.append((node.module, names))
        elif isinstance(node, ast.Import):
            found += [(a.name, []) for a in node.names if a.name.startswith("simulation.")]
    return found


def test_validate_loads_neither_mesa_nor_scipy():
    code = (
        "import sys; from simulation.cli import main; "
        "assert main(['validate', 'scenarios/baseline.yaml']) == 0; "
        "assert 'mesa' not in sys.modules and 'scipy' not in sys.modules, "
        "sorted(m for m in ('mesa', 'scipy') if m in sys.modules)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=PACKAGE.parent,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr


def test_no_library_module_imports_the_cli():
    # diagnose.py forwards its old command-line names to the CLI only when they are asked for.
    offenders = [
        path.name
        for path in PACKAGE.glob("*.py")
        if path.stem not in ("cli", "__main__", "diagnose")
        and any(module == "simulation.cli" for module, _ in _imports(path))
    ]
    assert offenders == []


def test_no_module_takes_another_modules_private_names():
    borrowed = [
        f"{path.name}: {module}.{name}"
        for path in PACKAGE.glob("*.py")
        for module, names in _imports(path)
        for name in names
        if name.startswith("_") and not name.startswith("__")
    ]
    assert borrowed == []


def test_old_diagnose_module_still_offers_its_names():
    from simulation import cli, diagnose, experiments, words

    assert diagnose.diagnose is experiments.diagnose
    assert diagnose.verdict_text is words.verdict_text
    assert diagnose.render_diagnosis is cli.render_diagnosis
    assert diagnose.add_parser is cli.add_diagnose_parser
