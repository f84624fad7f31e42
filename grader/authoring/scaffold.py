"""``dlgrade new NAME``: a complete, gradable assignment to start from.

It writes a small working example (a ``estandarizar`` function with a public and a
hidden check) that the instructor replaces piece by piece; every piece is already
wired, so the reference gets full marks and the template zero from the first minute.
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from ..errors import UsageError
from ..templates import BEGIN, END, render_template

NAME = re.compile(r"^[a-z][a-z0-9_-]{1,40}$")
_SCAFFOLD = Path(__file__).with_name("scaffold")
FILES = {
    "assignment.toml": "assignment.toml.tmpl",
    "messages.toml": "messages.toml.tmpl",
    "checks.py": "checks.py.tmpl",
    "export.py": "export.py.tmpl",
    "hidden/checks.py": "hidden_checks.py.tmpl",
    "statement.es.md": "statement.es.md.tmpl",
    "statement.en.md": "statement.en.md.tmpl",
}


def reference_notebook(name: str) -> nbformat.NotebookNode:
    nb = new_notebook(cells=[
        new_markdown_cell(f"# {name}\n\nEscribe aquí el enunciado de la tarea."),
        new_code_cell("import numpy as np"),
        new_code_cell("\n".join([
            "def estandarizar(x):",
            '    """Devuelve x con media 0 y desviación estándar 1."""',
            f"    {BEGIN}",
            "    centrado = x - np.mean(x)",
            "    return centrado / np.sqrt(np.mean(centrado**2))",
            f"    {END}",
        ])),
        new_code_cell("estandarizar(np.array([1.0, 2.0, 3.0]))"),
    ])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return nb


def create(name: str, root: Path) -> list[Path]:
    """Write the assignment ``name`` under ``root`` (``assignments/``, ``reference/``, ``tests/``)."""
    if not NAME.match(name):
        raise UsageError(f"{name!r} is not a usable assignment name: lower-case letters, digits, "
                         "'-' and '_', starting with a letter.")
    folder = root / "assignments" / name
    reference = root / "reference" / name / f"{name}.ipynb"
    fixtures = root / "tests" / "submissions" / name
    for path in (folder, reference.parent):
        if path.exists():
            raise UsageError(f"{path} already exists; choose another name or remove it first.")
    written: list[Path] = []
    for rel, source in FILES.items():
        target = folder / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text((_SCAFFOLD / source).read_text(encoding="utf-8").replace("__NAME__", name),
                          encoding="utf-8")
        written.append(target)
    reference.parent.mkdir(parents=True)
    text = nbformat.writes(reference_notebook(name)) + "\n"
    reference.write_text(text, encoding="utf-8")
    template = folder / f"{name}.ipynb"
    template.write_text(render_template(text), encoding="utf-8")
    fixtures.mkdir(parents=True, exist_ok=True)
    readme = fixtures / "README.md"
    readme.write_text((_SCAFFOLD / "fixtures_README.md.tmpl").read_text(encoding="utf-8")
                      .replace("__NAME__", name), encoding="utf-8")
    return [*written, reference, template, readme]
