"""Evaluate: load an exported model in a sandbox that runs no student code.

The run step exports a model file (``.keras``, a ``torch.export`` program); this
step copies it into a fresh run folder and runs a grader-written script on it, in
the same sandbox as student runs, with the evaluation inputs. Only predictions
come back (``values.json`` + ``.npy`` through the export helper); labels never
enter. The script gets ``ex`` (the :mod:`grader.runtime` Exporter, with the
inputs as ``ex.inputs``) and the model files in its working folder.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .artifacts import Artifacts
from .runner import RunFolder
from .sandbox import PidsCgroup, Sandbox, environment
from .settings import Limits
from .watchdog import Watch, clean_up, kernel_processes, watch

_RUNTIME = Path(__file__).with_name("runtime.py")


@dataclass
class Evaluation:
    artifacts: Artifacts
    ok: bool
    """False when the evaluation process failed, timed out or wrote nothing."""
    detail: str
    """The end of its error output when it failed (for the check's message)."""


def _program(script: str, out_dir: Path, inputs: Path) -> str:
    return "\n".join([
        "import types as _t, sys as _s",
        "_m = _t.ModuleType('dlgrade_runtime')",
        f"exec(compile({_RUNTIME.read_text(encoding='utf-8')!r}, 'dlgrade_runtime', 'exec'), _m.__dict__)",
        "_s.modules['dlgrade_runtime'] = _m",
        f"ex = _m.Exporter({{}}, {str(out_dir)!r}, {str(inputs)!r})",
        "try:",
        f"    exec(compile({script!r}, 'evaluate.py', 'exec'), {{'ex': ex, '__name__': 'evaluate'}})",
        "finally:",
        "    ex.finish()",
    ])


def _run_watched(argv: list[str], folder: RunFolder, sandbox: Sandbox,
                 cgroup: PidsCgroup | None, limits: Limits,
                 timeout_s: float) -> tuple[bool, str]:
    """Run the evaluation under the same watchdog as a student run; (succeeded, error tail)."""
    log_path = folder.ctl / "evaluate.log"
    seen = Watch()
    with log_path.open("wb") as log:
        proc = subprocess.Popen(argv, stdout=log, stderr=log, cwd=folder.work,
                                start_new_session=True)
        root = kernel_processes(proc.pid)[:1]
        watcher = threading.Thread(
            target=watch, args=(lambda: proc.pid, limits, time.monotonic() + timeout_s, seen,
                                folder.root), daemon=True)
        watcher.start()
        try:
            code = proc.wait(timeout=timeout_s + 5)
        except subprocess.TimeoutExpired:
            code = None
        finally:
            seen.stop.set()
            watcher.join(timeout=2)
            clean_up(root, sandbox, folder.root, cgroup)
            proc.wait()
    if seen.killed or code is None:
        return False, seen.killed or "timeout"
    with log_path.open("rb") as fh:
        fh.seek(max(0, log_path.stat().st_size - 600))
        tail = fh.read().decode("utf-8", "replace")
    return code == 0, tail


@contextmanager
def evaluate(script: str, *, model_files: list[Path], inputs: dict[str, np.ndarray],
             sandbox: Sandbox, limits: Limits, timeout_s: float | None = None,
             read_only: list[Path] | None = None) -> Iterator[Evaluation]:
    """Run ``script`` on copies of ``model_files``; yields the evaluation, then cleans up."""
    folder = RunFolder.create()
    try:
        for path in model_files:
            if path.is_symlink() or not path.is_file():
                continue
            shutil.copyfile(path, folder.work / path.name)
        inputs_path = folder.ctl / "inputs.npz"
        np.savez(inputs_path, **inputs)  # type: ignore[arg-type]
        program = folder.ctl / "evaluate.py"
        program.write_text(_program(script, folder.out, inputs_path), encoding="utf-8")
        home = sandbox.home(folder.root)
        cgroup = PidsCgroup.create(folder.root.name, limits.max_threads + 8)
        argv = sandbox.command(
            [sys.executable, str(program)], run_dir=folder.root, cwd=folder.work,
            env=environment(limits, home), limits=limits, read_only=read_only or [], cgroup=cgroup,
        )
        ok, detail = _run_watched(argv, folder, sandbox, cgroup, limits,
                                  timeout_s or limits.export_time_s * 2)
        artifacts = Artifacts(folder.out, limits.artifact_mb * 2**20)
        yield Evaluation(artifacts=artifacts, ok=ok and artifacts.problem is None, detail=detail)
    finally:
        folder.remove()
