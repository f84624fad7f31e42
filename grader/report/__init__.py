"""Report: every format is rendered from one :class:`~grader.schema.Result`.

``json`` (the result itself), ``md`` (Markdown feedback), ``classroom`` (the GitHub
Classroom reporter's JSON), ``terminal`` (colour, on stdout). :func:`write` puts the
file formats in ``DIR/<submission-stem>/``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from ..i18n import Messages
from ..schema import Result
from .classroom import render_classroom
from .markdown import render_markdown
from .terminal import print_terminal

FILE_FORMATS = {"json": "result.json", "md": "feedback.md", "classroom": "classroom.json"}
FORMATS = (*FILE_FORMATS, "terminal")
RENDERERS: dict[str, Callable[[Result, Messages], str]] = {
    "json": lambda result, _: result.to_json(), "md": render_markdown, "classroom": render_classroom,
}

__all__ = ["FORMATS", "print_terminal", "render_classroom", "render_markdown", "write"]


def write(result: Result, folder: Path, formats: list[str], messages: Messages) -> list[Path]:
    """Write the requested file formats of one result; ``result.json`` always; its pictures."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, png in result.image_data.items():
        if name in result.images and "/" not in name and not name.startswith("."):
            (folder / name).write_bytes(png)
            written.append(folder / name)
    for fmt in dict.fromkeys(["json", *formats]):
        if fmt not in FILE_FORMATS:
            continue
        path = folder / FILE_FORMATS[fmt]
        text = RENDERERS[fmt](result, messages)
        tmp = path.with_suffix(path.suffix + ".tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(path)
        written.append(path)
    return written
