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


#: Each sub-package's layer; a module imports only from its own layer or those before it.
LAYERS = {
    "common": 0,  # helpers with no simulation imports
    "scenario": 1,
    "model": 2,
    "batch": 3,
    "analysis": 4,
    "report": 5,
    "experiments": 6,  # the Python API (a module of its own)
    "cli": 7,  # command line and terminal tables
    "__main__": 7,
}
#: Not layered: the package itself, and the old diagnose module that re-exports the layers.
UNLAYERED = {"__init__", "diagnose"}
MODULES = sorted(PACKAGE.rglob("*.py"))


def _layer_of(path: Path) -> str:
    """The layer a file belongs to: its sub-package, or its own name at the top level."""
    parts = path.relative_to(PACKAGE).parts
    return parts[0] if len(parts) > 1 else path.stem


def _layer_of_module(module: str) -> str:
    return module.split(".")[1]


def test_every_module_has_a_layer():
    tops = {_layer_of(p) for p in MODULES} - UNLAYERED
    assert tops == set(LAYERS)
    assert all((PACKAGE / name / "__init__.py").is_file() for name in LAYERS
               if (PACKAGE / name).is_dir())  # fmt: skip


def test_modules_import_only_from_earlier_layers():
    upward = [
        f"{path.relative_to(PACKAGE)} ({_layer_of(path)}) -> {module}"
        for path in MODULES
        if _layer_of(path) in LAYERS
        for module, _ in _imports(path)
        if LAYERS.get(_layer_of_module(module), -1) > LAYERS[_layer_of(path)]
    ]
    assert upward == []


def _graph() -> dict[str, set[str]]:
    """Module -> the simulation modules it imports (packages stand for their __init__)."""

    def dotted(path: Path) -> str:
        rel = path.relative_to(PACKAGE.parent).with_suffix("")
        return ".".join(rel.parts[:-1] if rel.name == "__init__" else rel.parts)

    known = {dotted(p) for p in MODULES}
    graph: dict[str, set[str]] = {}
    for path in MODULES:
        edges = set()
        for module, names in _imports(path):
            subs = {f"{module}.{n}" for n in names} & known  # `from pkg import module`
            edges |= subs or {module}
        graph[dotted(path)] = edges
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Import cycles among top-level imports of the package (depth-first search)."""
    found, state = [], {}

    def visit(node: str, stack: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                found.append([*stack[stack.index(nxt) :], nxt])
            elif nxt in graph and not state.get(nxt):
                visit(nxt, [*stack, nxt])
        state[node] = 2

    for node in sorted(graph):
        if not state.get(node):
            visit(node, [node])
    return found


def test_no_import_cycles():
    assert _cycles(_graph()) == []


def test_the_cycle_check_finds_a_cycle():
    assert _cycles({"a": {"b"}, "b": {"a"}}) == [["a", "b", "a"]]


def test_validate_loads_neither_mesa_nor_scipy():
    code = (
        "import sys; from simulation.cli.main import main; "
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
        for path in MODULES
        if _layer_of(path) not in ("cli", "__main__", "diagnose")
        and any(_layer_of_module(module) == "cli" for module, _ in _imports(path))
    ]
    assert offenders == []


def test_no_module_takes_another_modules_private_names():
    borrowed = [
        f"{path.relative_to(PACKAGE)}: {module}.{name}"
        for path in MODULES
        for module, names in _imports(path)
        for name in names
        if name.startswith("_") and not name.startswith("__")
    ]
    assert borrowed == []


def test_old_diagnose_module_still_offers_its_names():
    from simulation import diagnose, experiments
    from simulation.analysis import words
    from simulation.cli import main as cli

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
    found = [f"imports {m}" for m, _ in _imports(path) if m == "simulation.model.model"]
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
        name: hits
        for name in MECHANISMS
        if (hits := _touches_the_model(PACKAGE / "model" / f"{name}.py"))
    }
    assert touching == {}


def test_the_mechanism_check_catches_a_function_that_takes_the_model(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("def step(model):\n    return model.deals\n", encoding="utf-8")
    assert _touches_the_model(bad) == ["line 1: step() takes 'model'"]


#: Files allowed to import inside functions, and why; everywhere else imports sit at the top.
LAZY_IMPORTS = {
    "__init__.py": "FrictionModel on first use, so validating a scenario does not load Mesa",
    "diagnose.py": "old command-line names forwarded to the CLI only when asked for",
    "cli/main.py": "each command loads only what it needs (validate stays free of Mesa, SciPy)",
    "batch/execute.py": "Dask is optional; workers import the model once; the CLI reads cores",
    "batch/estimate.py": "sizing a sweep file before any design point is built stays light",
    "batch/store.py": "the package's files for the source hash; summaries only when finishing",
    "batch/design.py": "SciPy's samplers only for sampled designs",
    "model/model.py": "the YAML loader only when a scenario is given as a path",
    "analysis/results.py": "pandas only for the tables that need it",
    "analysis/diagnosis.py": "pandas only for the tornado data",
    "report/pack.py": "python-pptx only when a deck is written",
    "report/charts.py": "adjustText only for labelled charts",
}


def _function_level_imports(path: Path) -> int:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return sum(
        isinstance(inner, ast.Import | ast.ImportFrom)
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        for inner in ast.walk(node)
    )


def test_function_level_imports_only_where_allowed():
    lazy = {
        path.relative_to(PACKAGE).as_posix() for path in MODULES if _function_level_imports(path)
    }
    assert lazy - set(LAZY_IMPORTS) == set()
