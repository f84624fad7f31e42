"""Shared test helpers: grade through the public API or the real CLI."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from grader import Options, Result, grade, resolve
from grader.sandbox import choose

ROOT = Path(__file__).resolve().parent.parent
SUBMISSIONS = Path(__file__).resolve().parent / "submissions"


@pytest.fixture(scope="session")
def sandbox():
    return choose(allow_weak=True)


def grade_path(assignment: str, path: Path, *, hidden: bool = True, lang: str | None = None,
               seed: int = 0) -> Result:
    """Grade one file in-process with the best sandbox available."""
    box = choose(allow_weak=True)
    assert box is not None
    return grade(resolve(assignment), path, str(path), box, Options(hidden=hidden, lang=lang, seed=seed))


def statuses(result: Result) -> dict[str, str]:
    return {c.id: c.status for c in result.checks}


def failing(result: Result) -> set[str]:
    return {c.id for c in result.checks if c.status != "passed"}


def run_cli(*args: str, cwd: Path = ROOT, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    """Run ``dlgrade`` as a user would, in a subprocess."""
    return subprocess.run(
        [sys.executable, "-m", "grader", *args], cwd=cwd, capture_output=True, text=True,
        timeout=timeout, check=False,
    )


def load_result(folder: Path) -> dict:
    return json.loads((folder / "result.json").read_text(encoding="utf-8"))
