"""Message catalogues: every sentence a student or instructor reads comes from here.

A catalogue is a TOML file with one table per language (``[es]``, ``[en]``) of
``"dotted.key" = "text with {placeholders}"``. The grader's own catalogue
(``grader/messages.toml``) is merged with the assignment's (``messages.toml`` in its
folder); the assignment wins on a clash. A key missing in the asked language falls
back to Spanish, the course's language, then to the key itself, so a missing
translation is visible but never a crash.
"""

from __future__ import annotations

import string
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # Python 3.10
    import tomli as tomllib

LANGUAGES = ("es", "en")
DEFAULT_LANG = "es"
_CORE = Path(__file__).with_name("messages.toml")
_BLOCKS = Path(__file__).with_name("dl")
"""Catalogues of the shared check building blocks (``grader/dl/*.toml``), merged after the core."""


def load_catalogue(path: Path) -> dict[str, dict[str, str]]:
    """Read one catalogue file into ``{lang: {key: text}}``."""
    with path.open("rb") as fh:
        raw = tomllib.load(fh)
    return {lang: {str(k): str(v) for k, v in table.items()} for lang, table in raw.items()}


class _Lenient(string.Formatter):
    """Formats with whatever parameters exist; an absent one shows as ``{name}``."""

    def get_value(self, key: int | str, args: Any, kwargs: Mapping[str, Any]) -> Any:
        if isinstance(key, str) and key not in kwargs:
            return "{" + key + "}"
        return super().get_value(key, args, kwargs)


_FORMATTER = _Lenient()


class Messages:
    """Looks up and formats catalogue entries in one language."""

    def __init__(self, lang: str = DEFAULT_LANG, extra: Path | None = None) -> None:
        if lang not in LANGUAGES:
            raise ValueError(f"language {lang!r} is not one of {LANGUAGES}")
        self.lang = lang
        self._tables = load_catalogue(_CORE)
        for block in sorted(_BLOCKS.glob("*.toml")):
            for code, table in load_catalogue(block).items():
                self._tables.setdefault(code, {}).update(table)
        if extra is not None and extra.exists():
            for code, table in load_catalogue(extra).items():
                self._tables.setdefault(code, {}).update(table)

    def defines(self, key: str, lang: str) -> bool:
        """Whether ``key`` has a text of its own in ``lang`` (no fallback)."""
        return key in self._tables.get(lang, {})

    def has(self, key: str) -> bool:
        return any(key in self._tables.get(code, {}) for code in (self.lang, DEFAULT_LANG))

    def __call__(self, key: str, **params: Any) -> str:
        for code in (self.lang, DEFAULT_LANG):
            text = self._tables.get(code, {}).get(key)
            if text is not None:
                return _FORMATTER.format(text, **params)
        return key
