"""Every limit and default in one place, each with its reason.

An assignment overrides any of these in the ``[limits]`` table of its
``assignment.toml``; a name that is not a field here is refused when the
assignment loads, so a typo never silently keeps the default.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, fields
from typing import Any

from .errors import AssignmentError


@dataclass(frozen=True)
class Limits:
    """Resource limits of one run of student code."""

    time_s: float = 120.0
    """Wall-clock seconds for all the student's cells together (on a CPU)."""
    gpu_time_s: float = 60.0
    """Wall-clock seconds when the run has a GPU."""
    export_time_s: float = 60.0
    """Seconds the grader's export step may take after the student's code."""
    startup_time_s: float = 60.0
    """Seconds a kernel may take to start before the run counts as crashed."""
    memory_mb: int = 4096
    """Resident memory of the whole process tree; the run is killed above it."""
    max_processes: int = 256
    """Processes the sandbox may hold at once (fork bombs); the run is killed above it."""
    max_threads: int = 1024
    """Threads of all its processes together (thread bombs; TensorFlow alone starts dozens)."""
    disk_mb: int = 512
    """Megabytes the run may write: its folder in total, any single file, and its private /tmp."""
    max_files: int = 20000
    """Files and folders the run may create (an inode bomb is a disk filler too)."""
    output_kb: int = 256
    """Text a run may print; past it, output is dropped with a notice."""
    artifact_mb: int = 200
    """Size of any single exported file the grader will read back."""
    submission_mb: int = 20
    """Size of a submitted notebook or script; larger ones are refused unread."""
    folder_mb: int = 100
    """Total size of a submitted folder (it is copied for every run); larger ones are refused."""
    max_cells: int = 2000
    """Cells in a submitted notebook; more is not a student's homework."""
    threads: int = 2
    """CPU threads the numeric libraries may use (OMP, MKL, TF, torch)."""
    watch_interval_s: float = 0.1
    """How often the watchdog measures memory, processes and threads (disk: every 5th time)."""

    def with_overrides(self, table: dict[str, Any], where: str) -> Limits:
        known = {f.name: f.type for f in fields(self)}
        unknown = sorted(set(table) - set(known))
        if unknown:
            raise AssignmentError(
                f"{where}: unknown limit(s) {', '.join(unknown)}; "
                f"known limits are {', '.join(sorted(known))}"
            )
        for name, value in table.items():
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
                raise AssignmentError(f"{where}: limit {name} must be a positive number, not {value!r}")
            if known[name] in ("int", int) and not isinstance(value, int):
                raise AssignmentError(f"{where}: limit {name} must be a whole number, not {value!r}")
        return dataclasses.replace(self, **table)


DEFAULT_LIMITS = Limits()
DEFAULT_SEED = 0
