"""Shared timing harness: run two commands alternately, report medians and their ratio."""

from __future__ import annotations

import statistics
import subprocess
import time
from collections.abc import Sequence


def timed(cmd: Sequence[str], cwd: str | None = None) -> float:
    start = time.perf_counter()
    done = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"command failed ({done.returncode}): {' '.join(cmd)}\n{done.stderr[-2000:]}")
    return elapsed


def alternate(a: Sequence[str], b: Sequence[str], rounds: int, warmup: int = 1,
              cwd: str | None = None) -> tuple[list[float], list[float]]:
    """Time ``a`` and ``b`` alternately so drift on a shared machine hits both alike."""
    for _ in range(warmup):
        timed(a, cwd)
        timed(b, cwd)
    times_a, times_b = [], []
    for i in range(rounds):
        first, second = (a, b) if i % 2 == 0 else (b, a)
        t1, t2 = timed(first, cwd), timed(second, cwd)
        times_a.append(t1 if first is a else t2)
        times_b.append(t2 if first is a else t1)
    return times_a, times_b


def report(label_a: str, times_a: list[float], label_b: str, times_b: list[float]) -> float:
    med_a, med_b = statistics.median(times_a), statistics.median(times_b)
    ratios = sorted(x / y for x, y in zip(times_a, times_b, strict=True))
    print(f"{label_a}: median {med_a:.2f} s  ({', '.join(f'{t:.2f}' for t in times_a)})")
    print(f"{label_b}: median {med_b:.2f} s  ({', '.join(f'{t:.2f}' for t in times_b)})")
    ratio = statistics.median(ratios)
    print(f"median ratio {label_a}/{label_b}: {ratio:.2f}")
    return ratio
