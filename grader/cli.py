"""The ``dlgrade`` command line.

Exit status: 0 when every submission got a result (whatever its score), 2 for usage
errors, 3 when the grader itself failed on some submission. User mistakes never
show a Python traceback.
"""

from __future__ import annotations

import argparse
import os
import traceback
from collections.abc import Sequence
from pathlib import Path

from rich.console import Console

from . import report
from .assignment import Assignment, all_assignments, resolve
from .errors import AssignmentError, DlgradeError, UsageError
from .i18n import LANGUAGES, Messages
from .pipeline import Options, grade, grader_failed
from .sandbox import FORCE_ENV, SUBPROCESS, Sandbox, choose
from .schema import Result

EXIT_OK, EXIT_USAGE, EXIT_GRADER = 0, 2, 3
_err = Console(stderr=True, highlight=False, soft_wrap=True)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="dlgrade",
        description="Grade deep-learning notebooks: sandboxed runs, checks outside student code.",
    )
    sub = p.add_subparsers(dest="command", required=True)

    g = sub.add_parser("grade", help="instructor grading: public and hidden checks")
    g.add_argument("assignment", help="a name from `dlgrade list`, or an assignment folder")
    g.add_argument("submissions", nargs="+",
                   help=".ipynb, .py, a folder holding one, or a class: a folder of many, or an LMS zip")
    g.add_argument("--out", type=Path, default=Path("reports"), help="reports folder (./reports)")
    g.add_argument("--format", default=None,
                   help=f"comma-separated, from {', '.join(report.FORMATS)} "
                        "(default json,md,terminal; for a class json,md,html)")
    _batch_arguments(g)
    g.add_argument("--lang", choices=LANGUAGES, help="report language (default: the course's)")
    g.add_argument("--seed", type=int, default=0, help="seed for Python/NumPy/frameworks (0)")
    g.add_argument("--allow-weak-sandbox", action="store_true",
                   help="grade even where bubblewrap is unavailable (isolation is weaker)")
    _classroom_option(g)

    c = sub.add_parser("check", help="student self-check: public checks only")
    c.add_argument("assignment")
    c.add_argument("submission")
    c.add_argument("--lang", choices=LANGUAGES)
    c.add_argument("--format", default="terminal",
                   help=f"comma-separated, from {', '.join(report.FORMATS)} (default: terminal)")
    c.add_argument("--out", type=Path, default=None, help="also write reports here")
    _classroom_option(c)

    r = sub.add_parser("review", help="manual review of a graded class: export a sheet, import scores")
    r.add_argument("action", choices=("export", "import"))
    r.add_argument("assignment")
    r.add_argument("out", type=Path, help="the class's reports folder (from `dlgrade grade`)")
    r.add_argument("sheet", type=Path, nargs="?", help="for import: the filled-in review.csv")

    sub.add_parser("list", help="the assignments, with titles and points")

    s = sub.add_parser("selftest", help="references must get full marks, templates zero")
    s.add_argument("assignment", nargs="?")
    s.add_argument("--allow-weak-sandbox", action="store_true")

    d = sub.add_parser("data", help="the datasets (MNIST, Fashion-MNIST): what is available, where")
    d.add_argument("action", choices=["status"])
    for command in (g, c, s, d):
        command.add_argument("--data-dir", type=Path, default=None,
                             help="folder with mnist.npz and fashion-mnist.npz (or $DLGRADE_DATA)")

    t = sub.add_parser("template", help="regenerate student templates from the references")
    t.add_argument("assignment", nargs="?", help="one assignment (default: all)")
    t.add_argument("--check", action="store_true", help="only report stale templates (exit 1)")

    from .authoring.commands import add_parsers

    add_parsers(sub)
    return p


def _classroom_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--classroom-output", type=Path, default=None, metavar="FILE",
                   help="with --format classroom: append result=<base64> here "
                        "(default: $GITHUB_OUTPUT when set; else the JSON goes to stdout)")


def _batch_arguments(g: argparse.ArgumentParser) -> None:
    """Class grading (see grader/batch/classlist.py for when a path is a class)."""
    b = g.add_argument_group("class grading")
    b.add_argument("--jobs", "-j", type=int, default=None,
                   help="submissions graded at once (default: from cores and GPUs)")
    b.add_argument("--roster", type=Path, help="CSV with a 'student' column mapping names to students")
    b.add_argument("--regrade", action="store_true",
                   help="re-run only the checks on stored artifacts when checks or messages changed")
    b.add_argument("--cache", type=Path, default=None, help="cache folder (default OUT/.cache)")
    b.add_argument("--no-cache", action="store_true", help="grade everything again, store nothing")
    b.add_argument("--executor", choices=("local", "dask"), default="local",
                   help="local threads (default) or a Dask distributed cluster")
    b.add_argument("--scheduler", help="Dask scheduler address, with --executor dask")
    b.add_argument("--canvas-id", default="", help="Canvas assignment id for canvas.csv's column")
    b.add_argument("--no-similarity", action="store_true", help="skip the similarity comparison")
    b.add_argument("--batch", action="store_true",
                   help="treat the given paths as a class even when each is one submission")


def _is_batch(assignment: Assignment, args: argparse.Namespace) -> bool:
    from .batch.classlist import is_class

    return bool(args.batch or args.roster or args.regrade or args.jobs or args.executor == "dask"
                or any(is_class(Path(p), assignment.notebook) for p in args.submissions))


def _formats(text: str) -> list[str]:
    formats = [f.strip() for f in text.split(",") if f.strip()]
    unknown = [f for f in formats if f not in report.FORMATS]
    if unknown:
        raise UsageError(f"unknown format(s) {', '.join(unknown)}; choose from "
                         f"{', '.join(report.FORMATS)}")
    return formats


def _sandbox(allow_weak: bool) -> Sandbox:
    box = choose(allow_weak)
    if box is None and os.environ.get(FORCE_ENV, "").strip().lower() == SUBPROCESS:
        raise UsageError(
            f"{FORCE_ENV}={SUBPROCESS} asks for the fallback without bubblewrap, so student code "
            "would run without isolation. Pass --allow-weak-sandbox to accept that, or unset it."
        )
    if box is None:
        raise UsageError(
            "bubblewrap (bwrap) is not available or cannot create namespaces here, so student "
            "code would run without isolation. Install it (Debian/Ubuntu: apt-get install "
            "bubblewrap) or pass --allow-weak-sandbox to accept weaker isolation."
        )
    return box


def _stem(path: str) -> str:
    p = Path(path)
    return (p.stem if p.suffix else p.name) or "submission"


def _grade_many(assignment: Assignment, paths: list[str], options: Options, box: Sandbox,
                out: Path | None, formats: list[str], classroom_output: Path | None = None) -> int:
    if "classroom" in formats and classroom_output is not None and len(paths) > 1:
        raise UsageError("--classroom-output takes the result of one submission; "
                         "grade one at a time, or use --out to get classroom.json for each.")
    for given in paths:
        if not Path(given).exists() and not Path(given).is_symlink():
            raise UsageError(f"submission {given!r} does not exist; check the path and try again.")
    status = EXIT_OK
    used: set[str] = set()
    for given in paths:
        try:
            result = grade(assignment, Path(given), given, box, options)
        except AssignmentError:
            raise
        except Exception:  # a dlgrade bug must not cost the rest of the class their results
            _err.print(f"[red]dlgrade failed on {given}:[/]\n{traceback.format_exc(limit=5)}")
            status = EXIT_GRADER
            continue
        if grader_failed(result):
            status = EXIT_GRADER
        messages = assignment.messages(result.lang)
        if "terminal" in formats:
            report.print_terminal(result, messages)
        if out is not None:
            stem = _stem(given)
            name, n = stem, 2
            while name in used:
                name, n = f"{stem}-{n}", n + 1
            used.add(name)
            report.write(result, out / name, formats, messages)
        if "classroom" in formats and len(paths) == 1:
            _classroom(result, messages, out, classroom_output)
    return status


def _classroom(result: Result, messages: Messages, out: Path | None, explicit: Path | None) -> None:
    """The Classroom step output; on stdout when it would go nowhere else."""
    from .report.classroom import output_path, render_classroom, write_output

    text = render_classroom(result, messages)
    target = output_path(explicit)
    if target is not None:
        write_output(text, target)
    elif out is None:
        print(text)


def _list() -> int:
    out = Console(highlight=False, soft_wrap=True)
    for a in all_assignments():
        auto, manual = a.points()
        extra = f" + {manual:g} manual" if manual else ""
        out.print(f"[bold]{a.name}[/]  {a.title('es')} / {a.title('en')}  "
                  f"({auto:g} automatic{extra})")
    return EXIT_OK


def _selftest(name: str | None, allow_weak: bool) -> int:
    box = _sandbox(allow_weak)
    targets = [resolve(name)] if name else all_assignments()
    out = Console(highlight=False)
    failures = 0
    for a in targets:
        for kind, path, want_full in (("reference", a.reference_path, True),
                                      ("template", a.template_path, False)):
            result = grade(a, path, str(path), box, Options())
            ok = result.status == "graded" and (
                result.score == result.max_score if want_full else result.score == 0)
            failures += not ok
            mark = "[green]✓[/]" if ok else "[red]✗[/]"
            out.print(f"{mark} {a.name} {kind}: {result.score:g}/{result.max_score:g} "
                      f"({result.run.seconds:.1f} s)")
            if not ok:
                report.print_terminal(result, a.messages("en"), out)
    return EXIT_OK if failures == 0 else 1


def _template(name: str | None, check_only: bool) -> int:
    from .templates import render_template

    targets = [resolve(name)] if name else all_assignments()
    stale = 0
    for a in targets:
        text = render_template(a.reference_path.read_text(encoding="utf-8"))
        current = a.template_path.read_text(encoding="utf-8") if a.template_path.exists() else ""
        if text != current:
            stale += 1
            if check_only:
                _err.print(f"stale template: {a.template_path} (run `dlgrade template {a.name}`)")
            else:
                a.template_path.write_text(text, encoding="utf-8")
                print(f"wrote {a.template_path}")
    return 1 if (check_only and stale) else EXIT_OK


def _data_status() -> int:
    from . import data

    out = Console(highlight=False)
    folder = data.configured_dir()
    out.print(f"data folder: {folder if folder else f'(none; set ${data.ENV} or --data-dir)'}")
    missing = 0
    for name, state, where in data.status():
        missing += not state.startswith("ok")
        colour = "green" if state.startswith("ok") else "yellow"
        out.print(f"[{colour}]{name}[/]: {state}\n    {where}")
    return 1 if missing and folder else EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if getattr(args, "data_dir", None) is not None:  # the data layer reads it from there
        os.environ["DLGRADE_DATA"] = str(args.data_dir.resolve())
    try:
        if args.command == "data":
            return _data_status()
        if args.command == "list":
            return _list()
        if args.command == "selftest":
            return _selftest(args.assignment, args.allow_weak_sandbox)
        if args.command == "template":
            return _template(args.assignment, args.check)
        if args.command in ("assign", "new"):
            from .authoring.commands import run_command

            return run_command(args)
        assignment = resolve(args.assignment)
        if args.command == "review":
            from .batch.cli import review

            return review(assignment, args.action, args.out, args.sheet)
        if args.command == "grade":
            options = Options(hidden=True, lang=args.lang, seed=args.seed)
            if _is_batch(assignment, args):
                from .batch.cli import grade_class

                return grade_class(assignment, args, options)
            formats = _formats(args.format or "json,md,terminal")
            box = _sandbox(args.allow_weak_sandbox)
            return _grade_many(assignment, args.submissions, options, box, args.out, formats,
                               args.classroom_output)
        formats = _formats(args.format or "terminal")
        box = _sandbox(True)
        options = Options(hidden=False, lang=args.lang)
        return _grade_many(assignment, [args.submission], options, box, args.out, formats,
                           args.classroom_output)
    except UsageError as exc:
        _err.print(f"[red]dlgrade:[/] {exc}")
        return EXIT_USAGE
    except DlgradeError as exc:
        _err.print(f"[red]dlgrade:[/] {exc}")
        return EXIT_GRADER
    except KeyboardInterrupt:
        _err.print("[yellow]interrupted[/]")
        return 130


__all__ = ["main"]
