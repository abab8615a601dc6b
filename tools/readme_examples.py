"""Keep the README's example outputs those of the current model.

Each example in README.md sits between two markers::

    <!-- example: NAME -->
    ```text
    ...what the command printed...
    ```
    <!-- /example -->

and is produced here by running its ``friction`` command (as a user would, into a temporary
results folder) and keeping the part of the output the README shows. Run

    .venv/bin/python tools/readme_examples.py          # rewrite the examples in README.md
    .venv/bin/python tools/readme_examples.py --check  # exit 1 if any example is stale

``tests/test_readme_examples.py`` runs the check, so a model or wording change that moves a
number fails the suite until the README is refreshed.
"""

from __future__ import annotations

import contextlib
import io
import re
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"


def paragraphs(text: str) -> list[str]:
    """The output's blank-line separated paragraphs, trailing spaces removed."""
    return [p.rstrip() for p in re.split(r"\n\s*\n", text.strip()) if p.strip()]


def first_paragraph(text: str) -> str:
    return paragraphs(text)[0]


def bullet(text: str, start: str) -> str:
    """The bullet of a list that starts with ``start``, with its continuation lines."""
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if line.startswith(start):
            out = [line]
            for more in lines[i + 1 :]:
                if not more.startswith("  "):
                    break
                out.append(more)
            return "\n".join(out).rstrip()
    raise LookupError(f"no line starts with {start!r} in the output")


def after_heading(text: str, heading: str) -> str:
    """The paragraph that follows a line reading ``heading``."""
    for para in paragraphs(text):
        if para.startswith(heading + "\n"):
            return para[len(heading) + 1 :]
    raise LookupError(f"no paragraph headed {heading!r} in the output")


@dataclass(frozen=True)
class Example:
    name: str
    argv: tuple[str, ...]  # the friction command, as the README states it
    keep: Callable[[str], str]  # the part of the output the README shows


EXAMPLES = (
    Example(
        "compare",
        (
            "compare",
            "scenarios/baseline.yaml",
            "scenarios/blended_40_30_20_10.yaml",
            "--reps",
            "10",
        ),
        lambda out: first_paragraph(out) + "\n...\n" + bullet(out, "- Churn at handover:"),
    ),
    Example(
        "diagnose",
        ("diagnose", "scenarios/baseline.yaml", "--reps", "10"),
        lambda out: first_paragraph(out) + "\n...\n" + after_heading(out, "In plain words:"),
    ),
)


def run(example: Example) -> str:
    """What the README shows of ``example``'s output on the current code."""
    sys.path.insert(0, str(ROOT))
    from simulation.cli.main import main

    with tempfile.TemporaryDirectory() as tmp, contextlib.chdir(ROOT):
        out = io.StringIO()
        argv = [*example.argv, "--out", str(Path(tmp) / example.name)]
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
            code = main(argv)
        if code != 0:
            raise RuntimeError(f"friction {' '.join(example.argv)} exited with {code}")
        return example.keep(out.getvalue())


def block(name: str, text: str) -> str:
    return f"<!-- example: {name} -->\n```text\n{text}\n```\n<!-- /example -->"


def pattern(name: str) -> re.Pattern[str]:
    return re.compile(
        rf"<!-- example: {re.escape(name)} -->\n```text\n(?:(?!<!--).)*?```\n<!-- /example -->",
        re.S,
    )


def refreshed(readme: str, examples: tuple[Example, ...] = EXAMPLES) -> tuple[str, list[str]]:
    """The README with every example rerun, and the names of those that changed."""
    changed = []
    for ex in examples:
        pat = pattern(ex.name)
        if not pat.search(readme):
            raise LookupError(f"README.md has no example block named {ex.name!r}")
        new = block(ex.name, run(ex))
        if pat.search(readme).group(0) != new:  # type: ignore[union-attr]
            changed.append(ex.name)
            readme = pat.sub(lambda _m, new=new: new, readme)
    return readme, changed


def main(argv: list[str]) -> int:
    check = "--check" in argv
    text = README.read_text()
    new, changed = refreshed(text)
    if check:
        if changed:
            print(
                f"README.md examples out of date: {', '.join(changed)}; "
                "run: .venv/bin/python tools/readme_examples.py",
                file=sys.stderr,
            )
            return 1
        return 0
    if changed:
        README.write_text(new)
    print(f"README.md: {len(changed)} example(s) refreshed ({', '.join(changed) or 'none'})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
