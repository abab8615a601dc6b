"""Run an attack in a child process with a memory ceiling and a time limit.

Tests that feed friction hostile input (YAML alias bombs, huge designs, deep nesting) could
exhaust this machine if a guard regresses. They run here instead: in a fresh interpreter whose
address space is capped with ``RLIMIT_AS`` and which is killed after ``timeout`` seconds, so a
regression fails one test instead of taking the test run (or the CI machine) down.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
#: Enough for Python, numpy, pydantic, pyarrow and a small run; far below what an attack needs.
DEFAULT_MEMORY = 1 << 30  # 1 GiB
DEFAULT_TIMEOUT = 60.0


@dataclass(frozen=True)
class Outcome:
    returncode: int | None  # None: killed for taking longer than the timeout
    stdout: str
    stderr: str

    @property
    def timed_out(self) -> bool:
        return self.returncode is None


def _limit(memory: int) -> None:
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))


def run_limited(
    args: list[str],
    cwd: Path | str | None = None,
    memory: int = DEFAULT_MEMORY,
    timeout: float = DEFAULT_TIMEOUT,
    env: dict[str, str] | None = None,
) -> Outcome:
    """Run ``python args...`` under an address-space limit and a timeout.

    ``args`` follow the interpreter: ``["-m", "simulation", "run", "x.yaml"]`` runs the CLI,
    ``["-c", code]`` a snippet. The repository root is on ``PYTHONPATH`` so the child imports
    this checkout.
    """
    child_env = {**os.environ, **(env or {})}
    child_env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(ROOT), child_env.get("PYTHONPATH", "")) if p
    )
    # numpy's OpenBLAS reserves address space per thread; one thread keeps the cap meaningful
    child_env.setdefault("OPENBLAS_NUM_THREADS", "1")
    try:
        proc = subprocess.run(
            [sys.executable, *args],
            cwd=cwd,
            env=child_env,
            capture_output=True,
            text=True,
            timeout=timeout,
            preexec_fn=lambda: _limit(memory),  # no threads are started here
        )
    except subprocess.TimeoutExpired as exc:
        out = exc.stdout.decode() if isinstance(exc.stdout, bytes) else exc.stdout or ""
        err = exc.stderr.decode() if isinstance(exc.stderr, bytes) else exc.stderr or ""
        return Outcome(None, out, err)
    return Outcome(proc.returncode, proc.stdout, proc.stderr)
