"""``dlgrade assign`` and ``dlgrade new``: the instructor's authoring commands."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from ..assignment import all_assignments, assignments_dir, resolve
from ..errors import UsageError
from ..templates import render_template
from .bundle import build_bundle
from .scaffold import create
from .workflow import DEFAULT_SOURCE, RUNNER, WorkflowOptions

DEFAULT_OUT = Path("bundles")


def add_parsers(sub: Any) -> None:
    a = sub.add_parser("assign", help="write the student bundle (GitHub Classroom template repository)")
    a.add_argument("assignment", nargs="?", help="a name from `dlgrade list`, or an assignment folder")
    a.add_argument("--all", action="store_true", help="every assignment, one bundle each in --out")
    a.add_argument("--out", type=Path, default=None,
                   help=f"the bundle folder (default ./{DEFAULT_OUT}/NAME; with --all, the parent)")
    a.add_argument("--runner", default=RUNNER,
                   help="runs-on label(s), comma-separated, of a GPU runner your organisation "
                        f"named; the job's time limit then follows the GPU limit (default {RUNNER})")
    a.add_argument("--dlgrade-source", default=DEFAULT_SOURCE,
                   help=f"the dlgrade the workflow installs: a version or a pip URL ({DEFAULT_SOURCE})")

    n = sub.add_parser("new", help="scaffold a new assignment: settings, checks, reference, fixtures")
    n.add_argument("name", help="lower-case name, e.g. cnn-cifar")
    n.add_argument("--root", type=Path, default=None,
                   help="project folder holding assignments/ and reference/ "
                        "(default: the one `dlgrade list` reads)")


def run_command(args: argparse.Namespace) -> int:
    if args.command == "new":
        root = args.root or assignments_dir().parent
        for path in create(args.name, root):
            print(f"wrote {path}")
        print(f"next: write the reference notebook and the checks (docs/authoring.md), then "
              f"`dlgrade template {args.name}` and `dlgrade selftest {args.name}`")
        return 0
    return _assign(args)


def _assign(args: argparse.Namespace) -> int:
    if args.all == bool(args.assignment):
        raise UsageError("give one assignment or --all.")
    options = WorkflowOptions(runner=args.runner, source=args.dlgrade_source)
    targets = all_assignments() if args.all else [resolve(args.assignment)]
    base = args.out or DEFAULT_OUT
    for a in targets:
        out = base / a.name if (args.all or args.out is None) else base
        build_bundle(a, out, options)
        print(f"wrote {out} ({a.name})")
        if a.reference_path.is_file() and (not a.template_path.is_file() or render_template(
                a.reference_path.read_text(encoding="utf-8")) != a.template_path.read_text(
                encoding="utf-8")):
            print(f"warning: {a.template_path} is stale; run `dlgrade template {a.name}`",
                  file=sys.stderr)
    return 0
