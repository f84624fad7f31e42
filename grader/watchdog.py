"""The watchdog: measures a sandbox's process tree, kills it at a limit, cleans up after it.

Every ``watch_interval_s`` it sums the tree's memory (proportional set size when
forked children share pages), counts processes and threads, and every fifth time
the bytes and files under the run folder; past a limit, or past the hard deadline,
it kills the tree root first (in bubblewrap that ends the whole PID namespace).
:func:`clean_up` runs after every run, whatever happened: nothing a run started
outlives it.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import psutil

from .sandbox import SUBPROCESS, PidsCgroup, Sandbox, kill_all, strays
from .settings import Limits


def kernel_processes(pid: int) -> list[psutil.Process]:
    """The sandbox's root process and all its descendants, root first."""
    try:
        root = psutil.Process(pid)
        return [root, *root.children(recursive=True)]
    except psutil.Error:
        return []


@dataclass
class Watch:
    """What the watchdog saw: peaks, and the limit it killed the run for (if it did)."""

    peak_mb: float = 0.0
    killed: str | None = None
    processes: int = 0
    threads: int = 0
    disk_mb: float = 0.0
    stop: threading.Event = field(default_factory=threading.Event)


def folder_usage(root: Path, max_entries: int) -> tuple[int, int]:
    """(bytes allocated, entries) under ``root``; stops counting past ``max_entries``."""
    used, entries = 0, 0
    stack = [str(root)]
    while stack and entries <= max_entries:
        try:
            with os.scandir(stack.pop()) as it:
                for entry in it:
                    entries += 1
                    try:
                        info = entry.stat(follow_symlinks=False)
                    except OSError:
                        continue
                    used += info.st_blocks * 512
                    if entry.is_dir(follow_symlinks=False):
                        stack.append(entry.path)
        except OSError:
            continue
    return used, entries


def _over_limit(procs: list[psutil.Process], limits: Limits, seen: Watch, check_disk: bool,
                run_dir: Path, deadline: float) -> str | None:
    seen.processes = max(seen.processes, len(procs))
    if len(procs) > limits.max_processes:
        return "processes"
    rss, threads = 0, 0
    for proc in procs:
        try:
            rss += proc.memory_info().rss
            threads += proc.num_threads()
        except psutil.Error:
            continue
    seen.threads = max(seen.threads, threads)
    if len(procs) > limits.max_processes or threads > limits.max_threads:
        return "processes"
    if rss > limits.memory_mb * 2**20 and len(procs) > 3:
        rss = _proportional(procs)  # forked children share pages that RSS counts once each
    seen.peak_mb = max(seen.peak_mb, rss / 2**20)
    if rss > limits.memory_mb * 2**20:
        return "memory"
    if check_disk:
        used, entries = folder_usage(run_dir, limits.max_files)
        seen.disk_mb = max(seen.disk_mb, used / 2**20)
        if used > limits.disk_mb * 2**20 or entries > limits.max_files:
            return "disk"
    if time.monotonic() > deadline:
        return "timeout"
    return None


def _proportional(procs: list[psutil.Process]) -> int:
    """Memory of a tree with shared pages counted once (PSS; slower than RSS, so used sparingly)."""
    total = 0
    for proc in procs:
        try:
            total += proc.memory_full_info().pss
        except (psutil.Error, AttributeError):
            continue
    return total


def watch(root_pid: Callable[[], int | None], limits: Limits, deadline: float, seen: Watch,
          run_dir: Path) -> None:
    """Until ``seen.stop``: measure the sandbox's tree; kill it at the first limit it passes."""
    tick = 0
    while not seen.stop.wait(limits.watch_interval_s):
        pid = root_pid()
        if pid is None:
            continue
        tick += 1
        procs: list[psutil.Process] = []
        try:
            procs = kernel_processes(pid)
            reason = _over_limit(procs, limits, seen, tick % 5 == 0, run_dir, deadline)
        except Exception:  # a process vanishing mid-measurement must not end the watch
            reason = "processes" if len(procs) > limits.max_processes else None
        if reason:
            seen.killed = reason
            kill_all(procs)
            return


def kill_tree(procs: list[psutil.Process], run_id: str | None = None) -> None:
    """Kill a sandbox: its root first (in bwrap that ends the PID namespace), then the rest.

    ``run_id`` also finds the processes a fallback run detached from its tree
    (daemons, ``setsid``), by the marker in their environment.
    """
    kill_all(procs)
    if run_id is not None:
        kill_all(strays(run_id))


def _wait_dead(procs: list[psutil.Process], timeout: float) -> None:
    """Until every process is gone or a zombie (whose reaping is its new parent's business)."""
    end = time.monotonic() + timeout
    alive = list(procs)
    while alive and time.monotonic() < end:
        still = []
        for proc in alive:
            try:
                if proc.status() != psutil.STATUS_ZOMBIE:
                    still.append(proc)
            except psutil.Error:
                continue
        alive = still
        if alive:
            time.sleep(0.01)


def clean_up(root: list[psutil.Process], sandbox: Sandbox, run_dir: Path,
             cgroup: PidsCgroup | None) -> None:
    """Nothing a run started outlives it: its tree, its cgroup, and in the fallback its strays."""
    procs = kernel_processes(root[0].pid) if root and root[0].is_running() else []
    kill_tree(procs, run_dir.name if sandbox.kind == SUBPROCESS else None)
    _wait_dead(procs, timeout=5)
    if cgroup is not None:
        cgroup.remove()
