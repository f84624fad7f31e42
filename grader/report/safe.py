"""Neutralising text that came from student code before the grader prints it.

A submission's exception text or answer could otherwise pose as grader output:
terminal escape sequences (ANSI and C1 controls), bidirectional overrides that
reorder what a reader sees, or GitHub Actions workflow commands (``::error::…``,
``##[error]…``) that CI would obey. A zero-width space after the first character
breaks a command while leaving it readable.
"""

from __future__ import annotations

import json
import re

_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[@-_]")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
"""C0 and C1 controls (``\x9b`` is a one-byte escape), and bidirectional overrides."""
_WORKFLOW = re.compile(r"^(\s*)::", re.MULTILINE)
_LEGACY_WORKFLOW = re.compile(r"^(\s*)##\[", re.MULTILINE)
"""GitHub Actions also obeys the older ``##[error]`` form of its commands."""


def neutralise(text: str, limit: int = 2000) -> str:
    text = _ANSI.sub("", text)
    text = _CONTROL.sub("", text)
    text = _WORKFLOW.sub("\\1:\u200b:", text)
    text = _LEGACY_WORKFLOW.sub("\\1#\u200b#[", text)
    return text if len(text) <= limit else text[:limit] + "…"


def shown(value: object, limit: int) -> str:
    """An expected/actual value as a reader sees it: text as is, data as JSON, none as "—"."""
    if value is None:
        return "—"
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    return neutralise(text, limit)
