"""Batch grading: scaling with --jobs, re-grade vs first grading, overhead per submission.

    python benchmarks/bench_batch.py [--rounds 3] [--size 8]

The class is ``--size`` perceptron submissions (the reference, each with a different
comment cell so the content-hash cache cannot share runs between them); keras-mnist
is not on this branch. Every timing is the whole ``dlgrade`` command as an
instructor runs it (interpreter start, intake, runs, checks, every output file).

1. scaling: ``--jobs 2`` vs ``--jobs 1``, no cache;
2. re-grade: the first grading (empty cache) vs ``--regrade`` after a check's points
   changed (the cache holds the runs; only checks run): the whole command, and the
   median job alone (one submission's run vs its re-grade, from ``class.json``);
3. overhead: the batch command (``--jobs 1``, no cache) vs the plain command run once
   per submission, one after the other; the difference divided by the class size is
   the batch machinery's cost per submission.
"""

from __future__ import annotations

import argparse
import json
import shlex
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

import nbformat
from _timing import alternate, report, timed

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "reference" / "perceptron" / "perceptron.ipynb"
DLGRADE = str(Path(sys.executable).parent / "dlgrade")


def make_class(folder: Path, size: int) -> None:
    folder.mkdir(parents=True)
    for n in range(size):
        nb = nbformat.read(REFERENCE, as_version=4)
        nb.cells.append(nbformat.v4.new_code_cell(f"# entrega {n}"))
        nbformat.write(nb, folder / f"alumno{n:02d}.ipynb")


def batch(assignment: str, klass: Path, out: Path, *extra: str) -> list[str]:
    return [DLGRADE, "grade", assignment, str(klass), "--out", str(out), "--format", "json",
            "--no-similarity", *extra]


def _job_seconds(out: Path) -> float:
    """Median wall time of one job (run or re-grade), from the batch's class.json."""
    times = json.loads((out / "class.json").read_text(encoding="utf-8"))["job_seconds"].values()
    return statistics.median(times)


def flip_points(checks: Path) -> None:
    """Change one check's points (6 ↔ 7): every stored result becomes stale."""
    text = checks.read_text(encoding="utf-8")
    new = text.replace("@check(points=6)", "@check(points=7)", 1) if "@check(points=6)" in text \
        else text.replace("@check(points=7)", "@check(points=6)", 1)
    checks.write_text(new, encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--size", type=int, default=8)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        klass = tmp / "class"
        make_class(klass, args.size)

        print(f"== scaling: {args.size} submissions, --jobs 2 vs --jobs 1 (no cache)")
        j2, j1 = alternate(batch("perceptron", klass, tmp / "o2", "--jobs", "2", "--no-cache"),
                           batch("perceptron", klass, tmp / "o1", "--jobs", "1", "--no-cache"),
                           args.rounds, warmup=0, cwd=str(ROOT))
        report("--jobs 2", j2, "--jobs 1", j1)

        print(f"== re-grade: first grading vs --regrade after a threshold change ({args.size} subs)")
        assignment = tmp / "assignments" / "perceptron"
        shutil.copytree(ROOT / "assignments" / "perceptron", assignment)
        first, regrade, job_first, job_regrade = [], [], [], []
        for n in range(args.rounds):
            out = tmp / f"regrade{n}"
            first.append(timed(batch(str(assignment), klass, out, "--jobs", "2"), str(ROOT)))
            job_first.append(_job_seconds(out))
            flip_points(assignment / "checks.py")
            regrade.append(timed(batch(str(assignment), klass, out, "--jobs", "2", "--regrade"),
                                 str(ROOT)))
            job_regrade.append(_job_seconds(out))
        ratio = report("first grading", first, "--regrade", regrade)
        print(f"target ≥ 20×: {'met' if ratio >= 20 else 'NOT met'} (whole command)")
        report("per-submission job, first", job_first, "per-submission job, --regrade", job_regrade)

        print(f"== overhead: a batch of {args.size} (--jobs 1, no cache) vs {args.size} single commands")
        singles = " && ".join(
            shlex.join([DLGRADE, "grade", "perceptron", str(nb), "--out", str(tmp / "single"),
                        "--format", "json"]) for nb in sorted(klass.glob("*.ipynb")))
        one_batch, one_by_one = alternate(
            batch("perceptron", klass, tmp / "ob", "--jobs", "1", "--no-cache"), ["sh", "-c", singles],
            args.rounds, warmup=0, cwd=str(ROOT))
        report("batch", one_batch, "one by one", one_by_one)
        per = (statistics.median(one_batch) - statistics.median(one_by_one)) / args.size
        print(f"batch overhead per submission: {per:+.2f} s (negative: the batch is cheaper)")

if __name__ == "__main__":
    main()
