"""One job of a batch: grade one submission through the cache.

:func:`run_job` is a plain module-level function of picklable arguments, so the
same code runs in a local thread pool and on a Dask worker.
"""

from __future__ import annotations

import hashlib
import shutil
import sys
import threading
import time
import traceback
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from ..assignment import Assignment
from ..errors import DlgradeError
from ..pipeline import Options, check_stored, grade, grader_failed
from ..sandbox import Sandbox, choose
from ..schema import Result, RunInfo
from .cache import Cache, submission_digest

How = Literal["graded", "cached", "regraded", "uncached"]


@dataclass(frozen=True)
class Job:
    assignment_root: str
    path: str
    given: str
    key: str
    """The student's report folder name."""
    options: Options
    cache_dir: str | None
    run_fingerprint: str
    check_fingerprint: str
    regrade: bool = False
    allow_weak: bool = True


@dataclass
class Outcome:
    key: str
    result: dict[str, Any]
    how: How
    stale: bool = False
    """A stored entry existed but its checks changed: it was not reused as it was."""
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)


@lru_cache(maxsize=4)
def _sandbox(allow_weak: bool) -> Sandbox:
    box = choose(allow_weak)
    if box is None:
        raise DlgradeError("no usable sandbox on this worker (bubblewrap missing)")
    return box


_loaded: dict[str, str] = {}
_loaded_lock = threading.Lock()


def _fresh_checks(root: str, fingerprint: str) -> None:
    """A long-lived worker (Dask) must not keep checks modules of an older version loaded."""
    with _loaded_lock:
        if _loaded.get(root, fingerprint) != fingerprint:
            prefix = "dlgrade_checks_" + "".join(
                c if c.isalnum() else "_" for c in str(Path(root).resolve()))
            for name in [n for n in sys.modules if n.startswith(prefix)]:
                del sys.modules[name]
        _loaded[root] = fingerprint


def run_job(job: Job) -> Outcome:
    """Never raises: a failure of dlgrade's own on one submission is that submission's result."""
    start = time.perf_counter()
    try:
        return _run_job(job, start)
    except Exception:
        detail = traceback.format_exc(limit=4)[-600:]
        assignment = Assignment(Path(job.assignment_root))
        lang = job.options.lang or assignment.lang
        message = assignment.messages(lang)("run.grader_failure", detail=detail[-300:])
        result = Result(
            assignment=assignment.name, submission=job.given, submission_sha256="", status="error",
            score=0.0, max_score=assignment.points()[0], checks=[],
            run=RunInfo(exit="crash", message=message, grader_failure=detail), environment={},
            lang=lang, message=message,
        )
        return Outcome(job.key, result.to_dict(), "uncached", seconds=time.perf_counter() - start)


def _run_job(job: Job, start: float) -> Outcome:
    _fresh_checks(job.assignment_root, job.check_fingerprint)
    assignment = Assignment(Path(job.assignment_root))
    path = Path(job.path)
    box = _sandbox(job.allow_weak)
    if job.cache_dir is None:
        result = grade(assignment, path, job.given, box, job.options)
        return Outcome(job.key, result.to_dict(), "uncached", seconds=time.perf_counter() - start)
    try:
        digest = submission_digest(path)
    except OSError:  # unreadable: the pipeline turns it into a result with the reason
        result = grade(assignment, path, job.given, box, job.options)
        return Outcome(job.key, result.to_dict(), "uncached", seconds=time.perf_counter() - start)
    cache = Cache(Path(job.cache_dir))
    # evaluations of exported models are kept too, so a re-grade needn't load them again
    options = replace(job.options, evaluations=cache.root / "evaluations")
    run_key = hashlib.sha256(f"{job.run_fingerprint}:{digest}".encode()).hexdigest()
    entry = cache.entry(run_key)
    meta = entry.meta()
    stale = bool(meta) and meta.get("check_key") != job.check_fingerprint
    if meta.get("run_key") == run_key and not stale:
        stored = entry.result()
        if stored is not None:
            stored.submission = job.given
            return Outcome(job.key, stored.to_dict(), "cached", seconds=time.perf_counter() - start)
    if stale and job.regrade and entry.has_artifacts:
        previous = entry.result()
        if previous is not None and previous.status == "graded":
            result = check_stored(assignment, path, job.given, entry.folder, previous.run,
                                  options, sandbox=box)
            cache.update_result(run_key, job.check_fingerprint, result)
            return Outcome(job.key, result.to_dict(), "regraded", stale=True,
                           seconds=time.perf_counter() - start)
    scratch = cache.scratch()
    try:
        result = grade(assignment, path, job.given, box, replace(options, keep_artifacts=scratch))
        if _cacheable(result):
            cache.commit(scratch, run_key, job.check_fingerprint, result)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return Outcome(job.key, result.to_dict(), "graded", stale=stale,
                   seconds=time.perf_counter() - start)


def _cacheable(result: Result) -> bool:
    """The grader's own failures are retried next time; everything else is kept."""
    return not grader_failed(result)
