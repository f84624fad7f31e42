"""The batch cache: runs and results stored by content hash.

An entry is keyed by the **run key**: the submission's bytes, what the run sees of the
assignment (export step, settings, data files), the probe inputs (they depend on the
seed and on hidden material), and the grading environment. It holds the exported
artifacts (``out/``), the probe inputs, and the last result with the **check key** it
was computed under (the checks, messages and settings of the assignment).

- same run key, same check key: the stored result is reused (nothing runs);
- same run key, other check key: the entry is *stale*; a plain batch runs the
  submission again, ``--regrade`` runs only the checks on the stored artifacts;
- no entry: the submission runs.

Entries are written into a temporary folder and renamed into place, so an
interrupted batch never leaves a half-written entry that a later one trusts.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..assignment import Assignment
from ..intake import sha256_of
from ..pipeline import environment_info
from ..schema import Result

CACHE_FORMAT = "dlgrade.cache/1"


def _update_file(digest: Any, path: Path) -> None:
    digest.update(path.name.encode() + b"\0")
    digest.update(path.read_bytes())


def submission_digest(path: Path) -> str:
    """sha256 of a file, or of every regular file in a folder (paths and bytes)."""
    if path.is_file():
        return sha256_of(path)
    digest = hashlib.sha256()
    for p in sorted(path.rglob("*")):
        if p.is_file() and not p.is_symlink():
            digest.update(str(p.relative_to(path)).encode() + b"\0")
            digest.update(sha256_of(p).encode())
    return digest.hexdigest()


def run_fingerprint(assignment: Assignment, hidden: bool, seed: int) -> str:
    """Everything besides the submission that decides what a run exports."""
    digest = hashlib.sha256(CACHE_FORMAT.encode())
    for path in [assignment.root / "export.py", assignment.root / "assignment.toml", *assignment.files]:
        _update_file(digest, path)
    env = environment_info(seed, assignment.frameworks)
    env.pop("graded_at", None)
    digest.update(json.dumps([env, hidden, seed], sort_keys=True).encode())
    for name, array in sorted(assignment.inputs(hidden, seed).items()):
        arr = np.ascontiguousarray(array)
        digest.update(f"{name}:{arr.dtype.str}:{arr.shape}".encode())
        digest.update(arr.tobytes())
    return digest.hexdigest()


def check_fingerprint(assignment: Assignment, lang: str) -> str:
    """The checks, messages and settings: change any of them and stored results are stale."""
    digest = hashlib.sha256(lang.encode())
    for path in sorted(assignment.root.rglob("*")):
        if path.is_file() and path.suffix in (".py", ".toml") and "__pycache__" not in path.parts:
            digest.update(str(path.relative_to(assignment.root)).encode())
            _update_file(digest, path)
    return digest.hexdigest()


@dataclass
class Entry:
    folder: Path

    @property
    def meta_path(self) -> Path:
        return self.folder / "meta.json"

    def meta(self) -> dict[str, Any]:
        try:
            data = json.loads(self.meta_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) and data.get("format") == CACHE_FORMAT else {}

    def result(self) -> Result | None:
        try:
            return Result.load(self.folder / "result.json")
        except (OSError, ValueError, TypeError, KeyError):
            return None

    @property
    def has_artifacts(self) -> bool:
        return (self.folder / "out").is_dir() and (self.folder / "inputs.npz").is_file()


class Cache:
    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)

    def entry(self, run_key: str) -> Entry:
        return Entry(self.root / run_key[:40])

    def scratch(self) -> Path:
        """A fresh folder to build an entry in (see :meth:`commit`)."""
        return Path(tempfile.mkdtemp(prefix="tmp-", dir=self.root))

    def commit(self, scratch: Path, run_key: str, check_key: str, result: Result) -> None:
        _write_result(scratch, run_key, check_key, result)
        target = self.entry(run_key).folder
        old = target.with_name(target.name + ".old-" + scratch.name)
        if target.exists():
            os.replace(target, old)
        try:
            os.replace(scratch, target)
        except OSError:  # another job committed the same content first: theirs is as good
            shutil.rmtree(scratch, ignore_errors=True)
        shutil.rmtree(old, ignore_errors=True)

    def update_result(self, run_key: str, check_key: str, result: Result) -> None:
        """After a re-grade: the same artifacts, a new result and check key.

        The result is replaced before the check key, so an interruption in between
        leaves an entry that is still stale, never a stale result marked current."""
        _write_result(self.entry(run_key).folder, run_key, check_key, result)

    def sweep(self) -> None:
        """Remove leftovers of interrupted batches (never a committed entry)."""
        for p in self.root.glob("*"):
            if p.name.startswith("tmp-") or ".old-" in p.name:
                shutil.rmtree(p, ignore_errors=True)


def _write_result(folder: Path, run_key: str, check_key: str, result: Result) -> None:
    meta = json.dumps({"format": CACHE_FORMAT, "run_key": run_key, "check_key": check_key,
                       "submission_sha256": result.submission_sha256})
    for name, text in (("result.json", result.to_json()), ("meta.json", meta)):
        tmp = folder / f".{name}.{os.getpid()}.{threading.get_ident()}"
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, folder / name)
