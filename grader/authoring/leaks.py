"""Proof that a student bundle holds no instructor-only material, byte for byte.

Secrets are everything a student must not see: every file under the assignment's
``hidden/`` folder, and the reference notebook's solution blocks and stored
outputs. A bundle leaks when any of its files contains a secret file whole, one of
its lines, a solution block, or (for binary files) any sampled 64-byte window.
Lines that the instructor publishes anyway (present in the public assignment
files or the template, like ``import numpy as np``) are not secrets, nor is a
solution block made only of such lines.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import nbformat

from ..assignment import Assignment
from ..templates import BEGIN, END, render_template

MIN_LINE = 16
"""Shorter lines are too common to mean anything (``return x``, ``0.5,1``)."""
WINDOW, WINDOWS = 64, 256
"""Binary secrets are sampled: this many evenly spaced windows of this many bytes."""


@dataclass(frozen=True)
class Secret:
    origin: str
    """Where it comes from, for the message (``hidden/checks.py line 12``)."""
    data: bytes


def public_files(assignment: Assignment) -> list[Path]:
    """Files of the assignment folder a student may see (everything outside ``hidden/``)."""
    root = assignment.root
    return sorted(
        p for p in root.rglob("*")
        if p.is_file() and not p.is_symlink()
        and p.relative_to(root).parts[0] != "hidden"
        and "__pycache__" not in p.parts and ".ipynb_checkpoints" not in p.parts
    )


def _published_lines(assignment: Assignment) -> set[str]:
    lines: set[str] = set()
    texts = [p.read_bytes().decode("utf-8", "replace") for p in public_files(assignment)]
    if assignment.reference_path.is_file():
        texts.append(render_template(assignment.reference_path.read_text(encoding="utf-8")))
    for text in texts:
        lines.update(line.strip() for line in text.splitlines())
    # Solution lines the instructor publishes on purpose (e.g. in a hint), named in
    # assignment.toml's [bundle] published, so the choice is explicit and reviewed.
    lines.update(str(line).strip() for line in assignment.config.get("bundle", {}).get("published", []))
    return lines


def _file_secrets(path: Path, origin: str, published: set[str]) -> list[Secret]:
    data = path.read_bytes()
    found = [Secret(origin, data)] if len(data) >= MIN_LINE else []
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        step = max((len(data) - WINDOW) // WINDOWS, 1)
        starts = range(0, max(len(data) - WINDOW, 0) + 1, step)
        return found + [Secret(f"{origin} bytes {i}", data[i:i + WINDOW]) for i in starts][:WINDOWS]
    return found + _line_secrets(text, origin, published)


def _line_secrets(text: str, origin: str, published: set[str]) -> list[Secret]:
    return [
        Secret(f"{origin} line {n}", line.strip().encode())
        for n, line in enumerate(text.splitlines(), 1)
        if len(line.strip()) >= MIN_LINE and line.strip() not in published
    ]


def _solution_blocks(source: str) -> list[str]:
    blocks: list[str] = []
    current: list[str] | None = None
    for line in source.splitlines():
        if line.strip() == BEGIN:
            current = []
        elif line.strip() == END and current is not None:
            if "".join(current).strip():
                blocks.append("\n".join(current).strip())
            current = None
        elif current is not None:
            current.append(line)
    return blocks


def _output_texts(cell: nbformat.NotebookNode) -> list[str]:
    texts = []
    for out in cell.get("outputs", []):
        if "text" in out:
            texts.append(str(out["text"]))
        for value in out.get("data", {}).values():
            texts.append(value if isinstance(value, str) else "".join(value))
    return texts


def secrets(assignment: Assignment) -> list[Secret]:
    """Everything that must not appear in this assignment's student bundle."""
    published = _published_lines(assignment)
    found: list[Secret] = []
    hidden = assignment.hidden_dir
    if hidden.is_dir():
        for path in sorted(p for p in hidden.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
            found += _file_secrets(path, f"hidden/{path.relative_to(hidden)}", published)
    ref = assignment.reference_path
    if ref.is_file():
        nb = nbformat.reads(ref.read_text(encoding="utf-8"), as_version=4)
        for index, cell in enumerate(nb.cells):
            where = f"{ref.name} cell {index}"
            if cell.cell_type == "code":
                for block in _solution_blocks(cell.source):
                    if not {line.strip() for line in block.splitlines() if line.strip()} <= published:
                        found.append(Secret(f"{where} solution", block.encode()))
                    found += _line_secrets(block, f"{where} solution", published)
            for text in _output_texts(cell):
                found += _line_secrets(text, f"{where} output", published)
    return found


def find_leaks(assignment: Assignment, bundle: Path) -> list[str]:
    """``"<bundle file>: <secret origin>"`` for every secret found in the bundle."""
    leaks = []
    table = secrets(assignment)
    for path in sorted(p for p in bundle.rglob("*") if p.is_file()):
        data = path.read_bytes()
        for secret in table:
            if secret.data and secret.data in data:
                leaks.append(f"{path.relative_to(bundle)}: {secret.origin}")
    return leaks
