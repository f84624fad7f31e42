"""Reading what a run exported, on the trusted side of the boundary.

Only data crosses: ``values.json`` (an index of exported keys) and ``.npy`` files
read with ``allow_pickle=False``. Every file is opened without following symlinks
and size-checked first, so a run cannot point the grader at ``/etc/passwd`` or
exhaust its memory.
"""

from __future__ import annotations

import errno
import io
import json
import os
import stat
from pathlib import Path
from typing import Any

import numpy as np

from .errors import ArtifactMissing

INDEX = "values.json"
_INDEX_MAX_BYTES = 8 * 1024 * 1024


class ArtifactInvalid(ArtifactMissing):
    """An exported file exists but is not acceptable data (pickle, symlink, too big)."""


def read_bytes_nofollow(path: Path, max_bytes: int) -> bytes:
    """Read a regular file the run wrote, refusing symlinks and anything too large.

    ``O_NONBLOCK`` so that a FIFO left in the output folder can't hang the grader;
    a symlink fails the open itself (``ELOOP``) and is refused like any non-file.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.ENXIO, errno.EACCES, errno.EISDIR):
            raise ArtifactInvalid("artifact.not_file", name=path.name) from exc
        raise
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise ArtifactInvalid("artifact.not_file", name=path.name)
        if info.st_size > max_bytes:
            raise ArtifactInvalid(
                "artifact.too_big", name=path.name, size_mb=round(info.st_size / 2**20, 1),
                limit_mb=round(max_bytes / 2**20, 1),
            )
        with os.fdopen(os.dup(fd), "rb") as fh:
            return fh.read(max_bytes + 1)
    finally:
        os.close(fd)


class Artifacts:
    """The exported values of one run, looked up by key."""

    def __init__(self, out_dir: Path, max_bytes: int) -> None:
        self.out_dir = out_dir
        self.max_bytes = max_bytes
        self.index: dict[str, dict[str, Any]] = {}
        self.problem: str | None = None
        try:
            raw = read_bytes_nofollow(out_dir / INDEX, _INDEX_MAX_BYTES)
            loaded = json.loads(raw.decode("utf-8"))
            if isinstance(loaded, dict):
                self.index = {str(k): v for k, v in loaded.items() if isinstance(v, dict)}
        except FileNotFoundError:
            self.problem = "missing"
        except (OSError, ValueError, RecursionError, ArtifactMissing):
            self.problem = "invalid"

    def __contains__(self, key: str) -> bool:
        return bool(self.index.get(key, {}).get("ok"))

    def any_ok(self) -> bool:
        """Whether anything of the student's code ran and returned a value."""
        return any(v.get("ok") for k, v in self.index.items() if not k.startswith("__"))

    def _entry(self, key: str) -> dict[str, Any]:
        entry = self.index.get(key)
        if entry is None and self.problem is not None:
            raise ArtifactMissing("artifact.not_exported", name=key)
        if entry is None:
            raise ArtifactMissing("artifact.missing", name=key)
        if not entry.get("ok"):
            raise ArtifactMissing(
                "artifact.raised", name=key,
                error=str(entry.get("error", "?"))[:80],
                detail=str(entry.get("message", ""))[:300],
            )
        return entry

    def value(self, key: str) -> Any:
        """A JSON value the export recorded (a number, a string, a list, a dict)."""
        entry = self._entry(key)
        if "file" in entry:
            return self.array(key)
        return entry.get("value")

    def array(self, key: str) -> np.ndarray:
        """A numeric array the export saved as ``.npy``; never unpickled."""
        entry = self._entry(key)
        name = entry.get("file")
        if "file" not in entry:
            try:
                return np.asarray(entry.get("value"), dtype=float)
            except (TypeError, ValueError) as exc:
                raise ArtifactInvalid("artifact.not_numeric", name=key) from exc
        if not isinstance(name, str) or "/" in name or name.startswith("."):
            raise ArtifactInvalid("artifact.bad_name", name=key)
        try:
            raw = read_bytes_nofollow(self.out_dir / name, self.max_bytes)
        except FileNotFoundError as exc:
            raise ArtifactMissing("artifact.not_exported", name=key) from exc
        except OSError as exc:
            raise ArtifactInvalid("artifact.not_file", name=key) from exc
        if not raw.startswith(b"\x93NUMPY"):
            raise ArtifactInvalid("artifact.unreadable", name=key)
        try:
            arr = np.load(io.BytesIO(raw), allow_pickle=False)
        except ValueError as exc:
            code = "artifact.pickle" if "pickle" in str(exc) else "artifact.unreadable"
            raise ArtifactInvalid(code, name=key) from exc
        except (OSError, EOFError, TypeError, MemoryError) as exc:
            raise ArtifactInvalid("artifact.unreadable", name=key) from exc
        if not isinstance(arr, np.ndarray) or arr.dtype.hasobject:
            raise ArtifactInvalid("artifact.pickle", name=key)
        return arr

    def error_of(self, key: str) -> str | None:
        """The exception name the export recorded for a key, if it raised."""
        entry = self.index.get(key)
        if entry is None or entry.get("ok"):
            return None
        return str(entry.get("error", ""))
