"""Student templates generated from reference notebooks, so the two never drift.

In code cells, every ``### BEGIN SOLUTION`` … ``### END SOLUTION`` block becomes
``raise NotImplementedError(...)`` at the block's indentation. In Markdown cells,
``<!-- BEGIN SOLUTION -->`` … ``<!-- END SOLUTION -->`` becomes the answer
placeholder. Outputs and execution counts are cleared.
"""

from __future__ import annotations

import re

import nbformat

from .errors import AssignmentError
from .manual import PLACEHOLDER

BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
MD_BLOCK = re.compile(r"<!-- BEGIN SOLUTION -->.*?<!-- END SOLUTION -->", re.DOTALL)
TODO = 'raise NotImplementedError("Escribe tu solución aquí / write your solution here")'


def strip_code(source: str, where: str) -> str:
    out: list[str] = []
    inside = False
    for line in source.splitlines():
        stripped = line.strip()
        if stripped == BEGIN:
            if inside:
                raise AssignmentError(f"{where}: nested {BEGIN}")
            inside = True
            indent = line[: len(line) - len(line.lstrip())]
            out.append(f"{indent}# TODO: tu código aquí")
            out.append(f"{indent}{TODO}")
        elif stripped == END:
            if not inside:
                raise AssignmentError(f"{where}: {END} without {BEGIN}")
            inside = False
        elif not inside:
            out.append(line)
    if inside:
        raise AssignmentError(f"{where}: {BEGIN} is never closed")
    return "\n".join(out)


def make_template(reference: nbformat.NotebookNode) -> nbformat.NotebookNode:
    nb = nbformat.from_dict(reference)
    for index, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            cell.source = strip_code(cell.source, f"cell {index}")
            cell.outputs = []
            cell.execution_count = None
        elif cell.cell_type == "markdown":
            cell.source = MD_BLOCK.sub(PLACEHOLDER, cell.source)
        cell["id"] = f"cell-{index:03d}"
    nb.metadata.pop("widgets", None)
    return nb


def render_template(reference_text: str) -> str:
    """The template's exact file text for a reference notebook's text."""
    return nbformat.writes(make_template(nbformat.reads(reference_text, as_version=4))) + "\n"
