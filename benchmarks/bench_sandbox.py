"""What the sandbox costs: the perceptron reference graded in bubblewrap vs without it.

"Without" is the subprocess fallback: the same kernel, pipeline, watchdog and
resource limits, but no namespaces. Runs alternate between the two so that a
noisy machine slows both alike; the medians and their ratio are printed.

    python benchmarks/bench_sandbox.py [--runs 7]
"""

from __future__ import annotations

import argparse
import statistics
import time

from grader import Options, grade, resolve
from grader.sandbox import BWRAP, SUBPROCESS, Sandbox, bwrap_works


def _one(kind: str) -> tuple[float, float]:
    assignment = resolve("perceptron")
    began = time.perf_counter()
    result = grade(assignment, assignment.reference_path, "reference", Sandbox(kind), Options())
    took = time.perf_counter() - began
    if result.score != result.max_score:
        raise SystemExit(f"{kind}: the reference scored {result.score}/{result.max_score}")
    return took, result.run.seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    if not bwrap_works():
        print("bubblewrap cannot run here: nothing to compare")
        return 1
    _one(BWRAP), _one(SUBPROCESS)  # warm the file cache for both
    times: dict[str, list[float]] = {BWRAP: [], SUBPROCESS: []}
    for _ in range(args.runs):
        for kind in (BWRAP, SUBPROCESS):
            times[kind].append(_one(kind)[0])
    sandboxed, plain = statistics.median(times[BWRAP]), statistics.median(times[SUBPROCESS])
    print(f"perceptron reference, {args.runs} runs each, whole grade() call:")
    print(f"  bwrap       median {sandboxed:.3f} s  (min {min(times[BWRAP]):.3f})")
    print(f"  subprocess  median {plain:.3f} s  (min {min(times[SUBPROCESS]):.3f})")
    print(f"  sandbox cost: {sandboxed - plain:+.3f} s per submission, ratio {sandboxed / plain:.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
