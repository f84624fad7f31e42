"""Self-contained HTML pages: a student's feedback and the instructor's cohort summary.

Pages carry everything inline (CSS, pictures as ``data:`` URIs), so one file can be
mailed, uploaded to an LMS or opened offline. Jinja autoescaping is on: nothing a
student wrote can add markup.
"""

from __future__ import annotations

import base64
import json
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2

from ..i18n import Messages
from ..schema import Result

_MIME = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".gif": "image/gif",
         ".svg": "image/svg+xml", ".webp": "image/webp"}
MAX_IMAGE_BYTES = 5 * 2**20


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("grader.report", "templates"),
        autoescape=True, trim_blocks=True, lstrip_blocks=True, undefined=jinja2.StrictUndefined,
    )
    env.filters["show"] = _show
    return env


def _show(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 400 else text[:400] + "…"


def data_uri(path: Path) -> str | None:
    """A picture as a ``data:`` URI, or None for anything that is not a small regular image."""
    mime = _MIME.get(path.suffix.lower())
    if mime is None or path.is_symlink() or not path.is_file() or path.stat().st_size > MAX_IMAGE_BYTES:
        return None
    return f"data:{mime};base64,{base64.b64encode(path.read_bytes()).decode('ascii')}"


def embedded_images(result: Result, folder: Path | None) -> list[tuple[str, str]]:
    """(name, data URI) of the result's pictures that lie inside its folder."""
    if folder is None:
        return []
    root = folder.resolve()
    found = []
    for name in result.images:
        path = (root / name).resolve()
        if path.is_relative_to(root) and (uri := data_uri(path)):
            found.append((name, uri))
    return found


def render_feedback(result: Result, t: Messages, folder: Path | None = None) -> str:
    return environment().get_template("feedback.html.j2").render(
        r=result, t=t, lang=result.lang, images=embedded_images(result, folder),
        icons={"passed": "✓", "failed": "✗", "error": "!", "skipped": "–"},
    )


def render_page(template: str, **context: Any) -> str:
    return environment().get_template(template).render(**context)
