"""The README's example outputs are what the current model prints.

``tools/readme_examples.py`` reruns each example command and rewrites the README blocks; this
test reruns them and fails when a block is stale, so a model or wording change that moves a
number in the README cannot land without refreshing it.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.needs_model

TOOL = Path(__file__).resolve().parents[1] / "tools" / "readme_examples.py"


def load_tool():
    spec = importlib.util.spec_from_file_location("readme_examples", TOOL)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    assert spec.loader is not None
    spec.loader.exec_module(module)
    return module


def test_every_readme_example_is_current() -> None:
    tool = load_tool()
    _, changed = tool.refreshed(tool.README.read_text())
    assert not changed, (
        f"README.md examples out of date: {changed}; run: .venv/bin/python tools/readme_examples.py"
    )


def test_a_stale_example_is_found_and_rewritten() -> None:
    tool = load_tool()
    compare = next(ex for ex in tool.EXAMPLES if ex.name == "compare")
    stale = tool.block("compare", "Churn at handover: down from 77.7% to 1.1%.")
    new, changed = tool.refreshed(f"intro\n\n{stale}\n\noutro\n", (compare,))
    assert changed == ["compare"]
    assert "77.7%" not in new and new.startswith("intro\n\n") and new.endswith("\n\noutro\n")
    assert tool.pattern("compare").search(new)
