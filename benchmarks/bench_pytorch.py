"""Time grading the pytorch-backprop reference end to end (instructor mode, hidden checks on).

Prints the wall time of each repetition, split into the sandboxed run (student cells
plus export) and everything after it (checks, including the evaluation sandbox that
loads the exported program), the load average (wall times on a busy machine
mean little), and the ratio of the median wall time to the 15 s budget.

    python benchmarks/bench_pytorch.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

from grader import Options, grade, resolve
from grader.sandbox import choose

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = ROOT / "reference" / "pytorch-backprop" / "pytorch-backprop.ipynb"
BUDGET_S = 15.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    sandbox = choose(allow_weak=True)
    assert sandbox is not None
    assignment = resolve("pytorch-backprop")
    walls = []
    for i in range(args.repeat):
        started = time.perf_counter()
        result = grade(assignment, REFERENCE, str(REFERENCE), sandbox, Options(hidden=True))
        wall = time.perf_counter() - started
        walls.append(wall)
        print(f"run {i + 1}: {wall:5.1f} s total, {result.run.seconds:5.1f} s sandboxed run, "
              f"{wall - result.run.seconds:5.1f} s checks; "
              f"score {result.score}/{result.max_score} ({sandbox.kind}, "
              f"load {os.getloadavg()[0]:.1f})")
    median = statistics.median(walls)
    print(f"median {median:.1f} s; budget {BUDGET_S:.0f} s; ratio {median / BUDGET_S:.2f}")


if __name__ == "__main__":
    main()
