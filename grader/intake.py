"""Intake: turn a submission path into a validated notebook, or a clear refusal.

A ``.py`` script becomes a notebook (split at ``# %%`` markers), so every submission
runs the same way. Outputs stored in a submitted notebook are dropped: the grader
executes; it never trusts what a notebook claims it printed.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

import nbformat

from .errors import IntakeError, SubmissionNotFound
from .settings import Limits

NOTEBOOK, SCRIPT = ".ipynb", ".py"


@dataclass
class Submission:
    path: Path
    """The file actually read (inside a folder submission, the notebook found there)."""
    given: str
    """The path as the user gave it."""
    kind: str
    sha256: str
    notebook: nbformat.NotebookNode


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def find_file(path: Path, preferred: str) -> Path:
    """The notebook or script to grade: the path itself, or the one inside a folder."""
    if not path.exists() and not path.is_symlink():
        raise SubmissionNotFound(str(path))
    if path.is_symlink():
        raise IntakeError("intake.symlink", name=path.name)
    if path.is_file():
        return path
    found = sorted(
        p for p in path.rglob("*")
        if p.suffix in (NOTEBOOK, SCRIPT) and p.is_file() and not p.is_symlink()
        and ".ipynb_checkpoints" not in p.parts
    )
    for wanted in (preferred, Path(preferred).with_suffix(SCRIPT).name):
        exact = [p for p in found if p.name == wanted]
        if len(exact) == 1:
            return exact[0]
    notebooks = [p for p in found if p.suffix == NOTEBOOK] or found
    if len(notebooks) == 1:
        return notebooks[0]
    if not notebooks:
        raise IntakeError("intake.empty_folder", name=path.name)
    raise IntakeError(
        "intake.ambiguous", name=path.name, files=", ".join(p.name for p in notebooks[:5])
    )


def check_folder(path: Path, limits: Limits) -> None:
    """Refuse a folder too big or too crowded to copy for a run (symlinks are not followed)."""
    total, entries = 0, 0
    for root, dirs, files in os.walk(path):
        entries += len(dirs) + len(files)
        for name in files:
            try:
                total += os.lstat(os.path.join(root, name)).st_size
            except OSError:
                continue
        if entries > limits.max_files or total > limits.folder_mb * 2**20:
            raise IntakeError("intake.folder_too_big", name=path.name, limit_mb=limits.folder_mb,
                              limit_files=limits.max_files)


def load(path: Path, given: str, limits: Limits, preferred: str) -> Submission:
    """Read and validate a submission; raises IntakeError with a catalogue key."""
    if path.is_dir() and not path.is_symlink():
        check_folder(path, limits)
    file = find_file(path, preferred)
    if file.suffix not in (NOTEBOOK, SCRIPT):
        raise IntakeError("intake.wrong_type", name=file.name, suffix=file.suffix or "—")
    size = file.stat().st_size
    if size > limits.submission_mb * 2**20:
        raise IntakeError(
            "intake.too_big", name=file.name, size_mb=round(size / 2**20, 1),
            limit_mb=limits.submission_mb,
        )
    digest = sha256_of(file)
    raw = file.read_bytes()
    if not raw.strip():
        raise IntakeError("intake.empty", name=file.name)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise IntakeError("intake.not_utf8", name=file.name, position=exc.start) from exc
    if file.suffix == SCRIPT:
        nb = script_to_notebook(text)
        kind = "script"
    else:
        nb = parse_notebook(text, file.name, limits.max_cells)
        kind = "notebook"
    code_cells = sum(1 for c in nb.cells if c.cell_type == "code")
    if len(nb.cells) > limits.max_cells:
        raise IntakeError("intake.too_many_cells", cells=len(nb.cells), limit=limits.max_cells)
    if code_cells == 0:
        raise IntakeError("intake.no_code", name=file.name)
    return Submission(path=file, given=given, kind=kind, sha256=digest, notebook=nb)


def parse_notebook(text: str, name: str, max_cells: int | None = None) -> nbformat.NotebookNode:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise IntakeError("intake.bad_json", name=name, line=exc.lineno, column=exc.colno) from exc
    except RecursionError as exc:
        raise IntakeError("intake.invalid", name=name, detail="JSON nested too deeply") from exc
    if not isinstance(data, dict) or "cells" not in data:
        raise IntakeError("intake.not_notebook", name=name)
    cells = data["cells"]
    if max_cells is not None and isinstance(cells, list) and len(cells) > max_cells:
        # counted before validating: validating 20,000 cells would take the grader's time
        raise IntakeError("intake.too_many_cells", cells=len(cells), limit=max_cells)
    try:
        nb = nbformat.reads(text, as_version=4)
        nbformat.validate(nb)
    except Exception as exc:  # nbformat raises several unrelated types for bad notebooks
        first = (str(exc).splitlines() or [type(exc).__name__])[0]
        raise IntakeError("intake.invalid", name=name, detail=first[:200]) from exc
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    return nb


def script_to_notebook(text: str) -> nbformat.NotebookNode:
    chunks: list[list[str]] = [[]]
    for line in text.splitlines():
        if line.startswith("# %%") and any(s.strip() for s in chunks[-1]):
            chunks.append([])
        chunks[-1].append(line)
    cells = [nbformat.v4.new_code_cell("\n".join(c)) for c in chunks if any(s.strip() for s in c)]
    return nbformat.v4.new_notebook(cells=cells)


def student_source(nb: nbformat.NotebookNode) -> str:
    """The student's code, one cell after another (for static checks)."""
    return "\n\n".join(c.source for c in nb.cells if c.cell_type == "code")
