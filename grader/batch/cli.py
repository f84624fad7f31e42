"""The class-grading commands behind ``dlgrade grade`` (for a class) and ``dlgrade review``."""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.console import Console

from ..assignment import Assignment
from ..errors import UsageError
from ..pipeline import Options
from ..report import FORMATS
from .run import BatchOptions, finalize, load_class, load_results, run_batch
from .scheduler import default_jobs, thread_share

_err = Console(stderr=True, highlight=False, soft_wrap=True)


def grade_class(assignment: Assignment, args: argparse.Namespace, options: Options) -> int:
    for given in args.submissions:
        if not Path(given).exists():
            raise UsageError(f"submission {given!r} does not exist; check the path and try again.")
    formats = [f.strip() for f in (args.format or "json,md,html").split(",") if f.strip()]
    unknown = [f for f in formats if f not in FORMATS]
    if unknown:
        raise UsageError(f"unknown format(s) {', '.join(unknown)}; choose from {', '.join(FORMATS)}")
    if args.executor == "dask" and not args.scheduler:
        raise UsageError("--executor dask needs --scheduler ADDRESS (e.g. tcp://127.0.0.1:8786).")
    jobs = args.jobs or default_jobs()
    if jobs < 1:
        raise UsageError("--jobs must be at least 1.")
    batch = BatchOptions(
        jobs=jobs, regrade=args.regrade, cache=args.cache, use_cache=not args.no_cache,
        roster=args.roster, scheduler=args.scheduler if args.executor == "dask" else None,
        formats=formats, canvas_id=args.canvas_id, similarity=not args.no_similarity,
        allow_weak=args.allow_weak_sandbox, force=args.batch,
    )
    from ..sandbox import choose

    if choose(args.allow_weak_sandbox) is None:
        raise UsageError("bubblewrap (bwrap) is not available; install it or pass --allow-weak-sandbox.")
    options = Options(hidden=options.hidden, lang=options.lang, seed=options.seed,
                      threads=thread_share(jobs))
    done = run_batch(assignment, [Path(p) for p in args.submissions], options, batch, args.out, _err)
    counts = {h: sum(o.how == h for o in done.outcomes) for h in ("graded", "cached", "regraded")}
    errors = sum(o.result["status"] == "error" and o.result["run"]["exit"] != "invalid"
                 for o in done.outcomes)
    _err.print(f"{len(done.outcomes)}/{len(done.classlist.entries)} submissions: "
               f"{counts['graded']} run, {counts['cached']} cached, {counts['regraded']} re-graded; "
               f"{len(done.classlist.missing)} missing; reports in {args.out}")
    if done.interrupted:
        _err.print("[yellow]interrupted:[/] finished results are kept; run the same command to "
                   "continue. Runs already started finish first (Ctrl-C again to abandon them).")
        return 130
    return 3 if errors else 0


def review(assignment: Assignment, action: str, out: Path, sheet: Path | None) -> int:
    from .review import export_sheet, import_sheet

    if not (out / "class.json").is_file():
        raise UsageError(f"{out} is not a graded class's reports folder (no class.json).")
    classlist, _ = load_class(out)
    results = load_results(out, classlist)
    if action == "export":
        path = export_sheet(out, results, {e.key: e.student for e in classlist.entries})
        print(f"wrote {path} and {path.with_suffix('.html')}")
        return 0
    if sheet is None:
        raise UsageError("review import needs the filled-in sheet: dlgrade review import A OUT review.csv")
    stored = import_sheet(out, sheet, results)
    finalize(out, assignment, BatchOptions())
    print(f"stored {stored} score(s); gradebook and summary rebuilt in {out}")
    return 0
