"""Run a batch's jobs in parallel: a local thread pool, or a Dask cluster.

Threads are enough locally: the student's code runs in sandboxed kernel processes,
and this process only drives them and runs the checks. Each run gets an equal share
of the CPU threads (OMP/BLAS/TensorFlow/PyTorch settings) so parallel runs do not
fight over cores.

Ctrl-C stops scheduling at once; runs already going finish and are kept (a second
Ctrl-C abandons them). Finished results are in the cache, so the next run of the
same command continues where this one stopped.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from .jobs import Job, Outcome, run_job


def default_jobs() -> int:
    """One run per core (short runs are dominated by single-threaded kernel start-up;
    measured on 2 cores, two runs at once take 0.65 of the time of one after the other);
    never more runs than GPUs when GPUs are visible."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    jobs = max(1, cores)
    gpus = [g for g in os.environ.get("CUDA_VISIBLE_DEVICES", "").split(",") if g.strip()]
    return min(jobs, len(gpus)) if gpus else jobs


def thread_share(jobs: int) -> int:
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return max(1, cores // max(1, jobs))


class Interrupted(Exception):
    """The user pressed Ctrl-C; the outcomes collected so far are in ``done``."""

    def __init__(self, done: list[Outcome]) -> None:
        super().__init__("interrupted")
        self.done = done


def _local(jobs: list[Job], workers: int) -> Iterator[Outcome]:
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="dlgrade-job")
    stop = threading.Event()
    pending: set[Future[Outcome]] = set()
    queue = iter(jobs)
    try:
        for job in queue:
            pending.add(pool.submit(run_job, job))
            if len(pending) >= workers:
                break
        while pending:
            # a short timeout keeps the main thread waking up: a Ctrl-C that the kernel
            # delivered to a worker thread is still handled at once
            done, pending = wait(pending, timeout=0.2, return_when=FIRST_COMPLETED)
            for fut in done:
                yield fut.result()
                if not stop.is_set():
                    nxt = next(queue, None)
                    if nxt is not None:
                        pending.add(pool.submit(run_job, nxt))
    finally:
        stop.set()
        pool.shutdown(wait=False, cancel_futures=True)


def _dask(jobs: list[Job], address: str) -> Iterator[Outcome]:
    from distributed import Client, as_completed

    with Client(address) as client:
        futures = [client.submit(run_job, job, key=f"dlgrade-{job.key}-{n}", pure=False)
                   for n, job in enumerate(jobs)]
        try:
            for fut in as_completed(futures):
                yield fut.result()
        finally:
            client.cancel(futures)


def execute(jobs: list[Job], workers: int, *, scheduler: str | None = None,
            console: Console | None = None,
            on_result: Callable[[Outcome], None] | None = None) -> list[Outcome]:
    """Every job's outcome (order of completion), with a progress bar on ``console``."""
    console = console or Console(stderr=True)
    stream: Iterable[Outcome] = _dask(jobs, scheduler) if scheduler else _local(jobs, workers)
    outcomes: list[Outcome] = []
    failures: list[str] = []
    columns: list[Any] = [
        TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
        TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(), TextColumn("{task.fields[status]}"),
    ]
    with Progress(*columns, console=console, transient=False) as bar:
        task = bar.add_task("grading", total=len(jobs), status="")
        try:
            for outcome in stream:
                outcomes.append(outcome)
                if outcome.result.get("status") != "graded" or outcome.result.get("run", {}).get(
                        "exit") not in ("ok", None):
                    failures.append(outcome.key)
                if on_result is not None:
                    on_result(outcome)
                counts = {h: sum(o.how == h for o in outcomes) for h in ("cached", "regraded")}
                status = " ".join(f"{v} {k}" for k, v in counts.items() if v)
                if failures:
                    status += f" [red]{len(failures)} failed run(s): {', '.join(failures[-3:])}[/]"
                bar.update(task, advance=1, status=status)
        except KeyboardInterrupt:
            bar.update(task, status="[yellow]interrupted: finished results are kept[/]")
            raise Interrupted(outcomes) from None
    return outcomes
