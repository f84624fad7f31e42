"""Grading the keras-mnist reference vs running the same notebook plainly.

Alternates ``dlgrade grade`` (sandboxed kernel, export, safe-mode evaluation in a
second sandbox, checks, pictures, reports) with ``jupyter nbconvert --to notebook
--execute`` of the same notebook, several rounds, and prints the median ratio
grade/plain. Runs have no network, so the plain copy gets one first cell that
serves the local MNIST to ``keras.datasets.mnist.load_data()`` exactly as the
grader's preamble does; nothing else differs.

    DLGRADE_DATA=../shared/data python benchmarks/bench_keras_mnist.py [--rounds 5]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat

from grader import data

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = ROOT / "reference" / "keras-mnist" / "keras_mnist.ipynb"


def timed(argv: list[str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        sys.exit(f"failed: {' '.join(argv)}\n{done.stderr[-2000:]}")
    return time.perf_counter() - start


def plain_copy(folder: Path) -> Path:
    nb = nbformat.read(NOTEBOOK, as_version=4)
    serve = data.serve_source({"mnist": data.locate("mnist")})
    nb.cells.insert(0, nbformat.v4.new_code_cell(serve))
    path = folder / "plain.ipynb"
    nbformat.write(nb, path)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        folder = Path(tmp)
        plain_nb = plain_copy(folder)
        grade = [sys.executable, "-m", "grader", "grade", "keras-mnist", str(NOTEBOOK),
                 "--out", str(folder / "reports"), "--format", "json,md"]
        plain = [sys.executable, "-m", "jupyter", "nbconvert", "--to", "notebook", "--execute",
                 "--ExecutePreprocessor.timeout=600", "--output", str(folder / "out.ipynb"),
                 str(plain_nb)]
        grades, plains = [], []
        for k in range(args.rounds):
            order = (grade, plain) if k % 2 == 0 else (plain, grade)
            for argv in order:
                seconds = timed(argv)
                (grades if argv is grade else plains).append(seconds)
            print(f"round {k + 1}: grade {grades[-1]:.1f} s, plain {plains[-1]:.1f} s, "
                  f"ratio {grades[-1] / plains[-1]:.2f}", flush=True)
    ratios = [g / p for g, p in zip(grades, plains, strict=True)]
    print(f"median grade {statistics.median(grades):.1f} s, median plain "
          f"{statistics.median(plains):.1f} s, median ratio {statistics.median(ratios):.2f} "
          "(target ≤ 1.25)")


if __name__ == "__main__":
    main()
