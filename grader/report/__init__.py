"""Report: every format is rendered from one :class:`~grader.schema.Result`.

``json`` (the result itself), ``md`` (Markdown feedback), ``html`` (self-contained
feedback page), ``classroom`` (the GitHub Classroom reporter's JSON), ``gradescope``
and ``prairielearn`` (those platforms' ``results.json``), ``terminal`` (colour, on
stdout). :func:`write` puts the file formats in ``DIR/<submission-stem>/``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from ..i18n import Messages
from ..schema import Result
from .classroom import render_classroom
from .html import render_feedback
from .markdown import render_markdown
from .platforms import gradescope, prairielearn
from .terminal import print_terminal

Renderer = Callable[[Result, Messages, Path], str]
FILE_FORMATS: dict[str, tuple[str, Renderer]] = {
    "json": ("result.json", lambda r, t, folder: r.to_json()),
    "md": ("feedback.md", lambda r, t, folder: render_markdown(r, t)),
    "html": ("feedback.html", render_feedback),
    "classroom": ("classroom.json", lambda r, t, folder: render_classroom(r, t)),
    "gradescope": ("gradescope.json", gradescope),
    "prairielearn": ("prairielearn.json", prairielearn),
}
FORMATS = (*FILE_FORMATS, "terminal")

__all__ = ["FORMATS", "print_terminal", "render_classroom", "render_feedback", "render_markdown",
           "write"]


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
        name, render = FILE_FORMATS[fmt]
        path = folder / name
        text = render(result, messages, folder)
        tmp = path.with_suffix(path.suffix + ".tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(path)
        written.append(path)
    return written
