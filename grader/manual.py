"""Manual-review items: written answers an instructor scores by hand.

An answer cell carries a marker line ``<!-- dlgrade:answer ID -->`` (invisible when
the notebook renders); the answer is the text after it. The marker, not the cell's
position, identifies the answer, so a student may add cells around it freely.
"""

from __future__ import annotations

import re
from typing import Any

import nbformat

from .i18n import Messages
from .schema import ManualItem

MARKER = re.compile(r"<!--\s*dlgrade:answer\s+([\w.-]+)\s*-->")
PLACEHOLDER = "_Escribe aquí tu respuesta._"
_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)


def answers(nb: nbformat.NotebookNode) -> dict[str, str]:
    """The text of every marked answer cell, by id (the first cell wins on duplicates)."""
    found: dict[str, str] = {}
    for cell in nb.cells:
        match = MARKER.search(cell.source)
        if match and match.group(1) not in found:
            text = _COMMENT.sub("", cell.source[match.end():]).replace(PLACEHOLDER, "").strip()
            found[match.group(1)] = text
    return found


def collect_manual(nb: nbformat.NotebookNode, items: list[dict[str, Any]],
                   messages: Messages) -> list[ManualItem]:
    texts = answers(nb)
    return [
        ManualItem(
            id=str(item["id"]),
            title=messages(f"{item['id']}.title"),
            points=float(item["points"]),
            text=texts.get(str(item["id"]), ""),
        )
        for item in items
    ]
