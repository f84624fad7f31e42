"""A whole class in one call: collect → schedule through the cache → write every output.

Output folder layout::

    OUT/<student>/result.json, feedback.md, feedback.html, ...   one folder per submission
    OUT/gradebook.csv, canvas.csv, moodle.csv, nbgrader_grades.csv  one row per student
    OUT/summary.html, summary.json                                the cohort summary
    OUT/class.json                                                who submitted what, how graded
    OUT/review.csv (dlgrade review export) → OUT/review_scores.csv (import)
    OUT/.cache/                                                   runs and results by content hash
"""

from __future__ import annotations

import json
import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console

from .. import report
from ..assignment import Assignment
from ..errors import UsageError
from ..pipeline import Options
from ..schema import Result
from . import gradebook, summary
from .cache import Cache, check_fingerprint, run_fingerprint
from .classlist import ClassList, Entry, collect, read_roster
from .jobs import Job, Outcome
from .review import apply_scores, load_scores
from .scheduler import Interrupted, execute
from .similarity import similar_pairs


@dataclass
class BatchOptions:
    jobs: int = 1
    regrade: bool = False
    cache: Path | None = None
    """Cache folder; None: ``OUT/.cache``."""
    use_cache: bool = True
    roster: Path | None = None
    scheduler: str | None = None
    """A Dask scheduler address (``tcp://host:8786``); None: local threads."""
    formats: list[str] = field(default_factory=lambda: ["json", "md", "html"])
    canvas_id: str = ""
    similarity: bool = True
    allow_weak: bool = True
    force: bool = False
    """``--batch``: every folder given is a class folder."""


@dataclass
class BatchReport:
    outcomes: list[Outcome]
    classlist: ClassList
    interrupted: bool = False


def run_batch(assignment: Assignment, paths: list[Path], options: Options, batch: BatchOptions,
              out: Path, console: Console | None = None) -> BatchReport:
    out.mkdir(parents=True, exist_ok=True)
    archives = out / ".archives"
    shutil.rmtree(archives, ignore_errors=True)
    archives.mkdir()
    roster = read_roster(batch.roster) if batch.roster else None
    classlist = collect(paths, assignment.name, assignment.notebook, archives, roster, batch.force)
    if not classlist.entries and not classlist.missing:
        raise UsageError(
            f"no submissions (.ipynb or .py) found in {', '.join(str(p) for p in paths)}; "
            "give a notebook, a folder of notebooks, per-student folders or an LMS zip."
        )
    lang = options.lang or assignment.lang
    cache_dir = None
    if batch.use_cache:
        cache = Cache(batch.cache or out / ".cache")
        cache.sweep()
        cache_dir = str(cache.root.resolve())
    run_fp = run_fingerprint(assignment, options.hidden, options.seed)
    check_fp = check_fingerprint(assignment, lang)
    jobs = [Job(assignment_root=str(assignment.root), path=str(e.path.resolve()), given=e.given,
                key=e.key, options=options, cache_dir=cache_dir, run_fingerprint=run_fp,
                check_fingerprint=check_fp, regrade=batch.regrade, allow_weak=batch.allow_weak)
            for e in classlist.entries]
    sources: dict[str, str] = {}
    seconds: dict[str, float] = {}
    scores = load_scores(out)

    def keep(outcome: Outcome) -> None:
        sources[outcome.key] = outcome.how
        seconds[outcome.key] = round(outcome.seconds, 3)
        result = apply_scores(Result.from_dict(outcome.result), scores.get(outcome.key, {}))
        report.write(result, out / outcome.key, batch.formats, assignment.messages(result.lang))

    _save_class(out, classlist, sources, seconds)
    interrupted = False
    try:
        outcomes = execute(jobs, batch.jobs, scheduler=batch.scheduler, console=console, on_result=keep)
    except Interrupted as stop:
        outcomes, interrupted = stop.done, True
    _save_class(out, classlist, sources, seconds)
    finalize(out, assignment, batch)
    return BatchReport(outcomes, classlist, interrupted)


def _save_class(out: Path, classlist: ClassList, sources: dict[str, str],
                seconds: dict[str, float]) -> None:
    data = {
        **classlist.to_dict(),
        "entries": [{**asdict(e), "path": str(e.path)} for e in classlist.entries],
        "sources": sources,
        # wall time of each job (run, cache hit or re-grade): what the benchmarks compare
        "job_seconds": seconds,
    }
    (out / "class.json").write_text(json.dumps(data, ensure_ascii=False, indent=2), encoding="utf-8")


def load_class(out: Path) -> tuple[ClassList, dict[str, str]]:
    data = json.loads((out / "class.json").read_text(encoding="utf-8"))
    entries = [Entry(**{**e, "path": Path(e["path"])}) for e in data["entries"]]
    found = ClassList(entries=entries, missing=data["missing"], unknown=data["unknown"],
                      ignored=data["ignored"], duplicates=data["duplicates"])
    return found, data.get("sources", {})


def load_results(out: Path, classlist: ClassList) -> dict[str, dict[str, Any]]:
    results = {}
    for e in classlist.entries:
        path = out / e.key / "result.json"
        if path.is_file():
            results[e.key] = json.loads(path.read_text(encoding="utf-8"))
    return results


def finalize(out: Path, assignment: Assignment, batch: BatchOptions) -> None:
    """Gradebook, LMS files and summary from the result files in ``out`` (and review scores)."""
    classlist, sources = load_class(out)
    results = load_results(out, classlist)
    scores = load_scores(out)
    for key, data in results.items():
        if scores.get(key):
            result = apply_scores(Result.from_dict(data), scores[key])
            report.write(result, out / key, batch.formats, assignment.messages(result.lang))
            results[key] = result.to_dict()
    frame = gradebook.rows(results, classlist, sources, assignment.points())
    gradebook.write_gradebook(frame, out / "gradebook.csv")
    if not frame.empty:
        gradebook.write_canvas(frame, classlist, assignment.title(assignment.lang), batch.canvas_id,
                               out / "canvas.csv")
        gradebook.write_moodle(frame, classlist, out / "moodle.csv")
        gradebook.write_nbgrader(frame, assignment.name, out / "nbgrader_grades.csv")
    similar = similar_pairs(classlist, assignment) if batch.similarity else []
    summary.write(summary.build(results, frame, classlist, sources, similar), out)
