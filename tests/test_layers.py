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


#: Each module's layer; a module imports only from its own layer or those before it.
MODEL = (
    "model", "agents", "metrics", "deals", "incentives", "churn", "coaching", "comms",
    "handover", "information", "queueing", "streams", "hours", "selling", "structure",
)  # fmt: skip
LAYERS = {
    **dict.fromkeys(("formats", "seeds", "text"), 0),  # helpers with no simulation imports
    **dict.fromkeys(("config", "loader", "levers"), 1),  # scenario
    **dict.fromkeys(MODEL, 2),
    **dict.fromkeys(("runner", "design", "execute", "store", "estimate"), 3),  # batch
    **dict.fromkeys(("analysis", "compare", "results", "diagnosis", "words"), 4),  # analysis
    **dict.fromkeys(("charts", "report"), 5),  # report
    "experiments": 6,
    **dict.fromkeys(("cli", "tables", "__main__"), 7),  # command line and terminal tables
}
#: Not layered: the package itself, and the old diagnose module that re-exports the layers.
UNLAYERED = {"__init__", "diagnose"}


def test_every_module_has_a_layer():
    assert {p.stem for p in PACKAGE.glob("*.py")} - UNLAYERED == set(LAYERS)


def test_modules_import_only_from_earlier_layers():
    upward = [
        f"{path.stem} ({LAYERS[path.stem]}) -> {module} ({LAYERS[module.split('.')[1]]})"
        for path in PACKAGE.glob("*.py")
        if path.stem in LAYERS
        for module, _ in _imports(path)
        if LAYERS.get(module.split(".")[1], -1) > LAYERS[path.stem]
    ]
    assert upward == []


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


#: Mechanism modules: each owns its state (a dataclass of arrays) and plain functions of it.
MECHANISMS = (
    "incentives", "selling", "handover", "information", "comms", "queueing", "churn",
    "coaching", "structure", "hours",
)  # fmt: skip


def _touches_the_model(path: Path) -> list[str]:
    """Ways a module could reach the model object: importing it, naming it, taking it."""
    found = [f"imports {m}" for m, _ in _imports(path) if m == "simulation.model"]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Name) and node.id == "FrictionModel":
            found.append(f"line {node.lineno}: names FrictionModel")
        elif isinstance(node, ast.Attribute) and node.attr == "model":
            found.append(f"line {node.lineno}: reads .model")
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            args = node.args.posonlyargs + node.args.args + node.args.kwonlyargs
            found += [
                f"line {node.lineno}: {node.name}() takes '{a.arg}'"
                for a in args
                if a.arg in ("model", "m")
            ]
    return found


def test_mechanism_modules_never_touch_the_model_object():
    touching = {
        name: hits for name in MECHANISMS if (hits := _touches_the_model(PACKAGE / f"{name}.py"))
    }
    assert touching == {}


def test_the_mechanism_check_catches_a_function_that_takes_the_model(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("def step(model):\n    return model.deals\n", encoding="utf-8")
    assert _touches_the_model(bad) == ["line 1: step() takes 'model'"]
