"""Grading the perceptron reference vs executing it plainly with nbconvert.

    python benchmarks/bench_perceptron.py [--rounds 7]

Prints the median time of each and the median ratio grade/plain. Grading includes
everything an instructor waits for: intake, the sandboxed run, the hidden probes,
every check and the result file; plain is `jupyter nbconvert --to notebook --execute`.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from _timing import alternate, report

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "reference" / "perceptron" / "perceptron.ipynb"
BIN = Path(sys.executable).parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        grade = [str(BIN / "dlgrade"), "grade", "perceptron", str(NOTEBOOK), "--out", tmp,
                 "--format", "json"]
        plain = [str(BIN / "jupyter"), "nbconvert", "--to", "notebook", "--execute", str(NOTEBOOK),
                 "--output-dir", tmp, "--output", "plain"]
        graded, plained = alternate(grade, plain, args.rounds, cwd=str(ROOT))
    ratio = report("dlgrade grade", graded, "nbconvert --execute", plained)
    print(f"target ≤ 0.92: {'met' if ratio <= 0.92 else 'NOT met'}")


if __name__ == "__main__":
    main()
