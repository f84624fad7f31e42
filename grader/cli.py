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
from .pipeline import Options, grade
from .sandbox import FORCE_ENV, SUBPROCESS, Sandbox, choose
from .schema import Result

EXIT_OK, EXIT_USAGE, EXIT_GRADER = 0, 2, 3
_err = Console(stderr=True, highlight=False)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="dlgrade",
        description="Grade deep-learning notebooks: sandboxed runs, checks outside student code.",
    )
    sub = p.add_subparsers(dest="command", required=True)

    g = sub.add_parser("grade", help="instructor grading: public and hidden checks")
    g.add_argument("assignment", help="a name from `dlgrade list`, or an assignment folder")
    g.add_argument("submissions", nargs="+", help=".ipynb, .py, or a folder holding one")
    g.add_argument("--out", type=Path, default=Path("reports"), help="reports folder (./reports)")
    g.add_argument("--format", default="json,md,terminal",
                   help=f"comma-separated, from {', '.join(report.FORMATS)}")
    g.add_argument("--lang", choices=LANGUAGES, help="report language (default: the course's)")
    g.add_argument("--seed", type=int, default=0, help="seed for Python/NumPy/frameworks (0)")
    g.add_argument("--allow-weak-sandbox", action="store_true",
                   help="grade even where bubblewrap is unavailable (isolation is weaker)")

    c = sub.add_parser("check", help="student self-check: public checks only")
    c.add_argument("assignment")
    c.add_argument("submission")
    c.add_argument("--lang", choices=LANGUAGES)
    c.add_argument("--format", default="terminal", help="terminal (default), json or md")
    c.add_argument("--out", type=Path, default=None, help="also write reports here")

    sub.add_parser("list", help="the assignments, with titles and points")

    s = sub.add_parser("selftest", help="references must get full marks, templates zero")
    s.add_argument("assignment", nargs="?")
    s.add_argument("--allow-weak-sandbox", action="store_true")

    t = sub.add_parser("template", help="regenerate student templates from the references")
    t.add_argument("assignment", nargs="?", help="one assignment (default: all)")
    t.add_argument("--check", action="store_true", help="only report stale templates (exit 1)")
    return p


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
                out: Path | None, formats: list[str]) -> int:
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
    return status


def _list() -> int:
    out = Console(highlight=False)
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


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "list":
            return _list()
        if args.command == "selftest":
            return _selftest(args.assignment, args.allow_weak_sandbox)
        if args.command == "template":
            return _template(args.assignment, args.check)
        assignment = resolve(args.assignment)
        formats = _formats(args.format)
        if args.command == "grade":
            box = _sandbox(args.allow_weak_sandbox)
            options = Options(hidden=True, lang=args.lang, seed=args.seed)
            return _grade_many(assignment, args.submissions, options, box, args.out, formats)
        box = _sandbox(True)
        options = Options(hidden=False, lang=args.lang)
        return _grade_many(assignment, [args.submission], options, box, args.out, formats)
    except UsageError as exc:
        _err.print(f"[red]dlgrade:[/] {exc}")
        return EXIT_USAGE
    except DlgradeError as exc:
        _err.print(f"[red]dlgrade:[/] {exc}")
        return EXIT_GRADER
    except KeyboardInterrupt:
        _err.print("[yellow]interrupted[/]")
        return 130


__all__ = ["Messages", "Result", "main"]
