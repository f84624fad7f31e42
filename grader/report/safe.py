"""Neutralising text that came from student code before the grader prints it.

A submission's exception text or answer could otherwise pose as grader output:
terminal escape sequences, or GitHub Actions workflow commands (``::error::…``)
that CI would obey.
"""

from __future__ import annotations

import re

_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[@-_]")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_WORKFLOW = re.compile(r"^(\s*)::", re.MULTILINE)


def neutralise(text: str, limit: int = 2000) -> str:
    text = _ANSI.sub("", text)
    text = _CONTROL.sub("", text)
    text = _WORKFLOW.sub("\\1:\u200b:", text)
    return text if len(text) <= limit else text[:limit] + "…"
