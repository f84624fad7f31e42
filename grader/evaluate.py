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
from .runner import RunFolder, Watch, clean_up, kernel_processes, watch
from .sandbox import PidsCgroup, Sandbox, environment
from .settings import Limits

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
            clean_up(root, sandbox, folder, cgroup)
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


_WAIT = """
import os as _os, sys as _sys, time as _time
_deadline = _time.monotonic() + {wait}
while not _os.path.exists({go!r}):
    if _time.monotonic() > _deadline:
        _sys.exit(3)
    _time.sleep(0.02)
"""


class Evaluator:
    """An evaluate process started ahead of time, so its slow imports overlap the student's run.

    It imports ``imports`` (e.g. ``import keras``), then waits for :meth:`run` to hand
    it the model files and inputs; used once, then :meth:`close` ends it in any case.
    """

    def __init__(self, script: str, imports: str, *, sandbox: Sandbox, limits: Limits,
                 wait_s: float) -> None:
        self.folder = RunFolder.create()
        self.limits = limits
        self._go = self.folder.ctl / "go"
        inputs_path = self.folder.ctl / "inputs.npz"
        program = self.folder.ctl / "evaluate.py"
        program.write_text(
            imports + "\n" + _WAIT.format(wait=wait_s, go=str(self._go)) + "\n"
            + _program(script, self.folder.out, inputs_path), encoding="utf-8")
        home = sandbox.home(self.folder.root)
        argv = sandbox.command(
            [sys.executable, str(program)], run_dir=self.folder.root, cwd=self.folder.work,
            env=environment(limits, home), limits=limits,
        )
        self._log = (self.folder.ctl / "stderr.log").open("wb")
        self.process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=self._log)

    @contextmanager
    def run(self, model_files: list[Path], inputs: dict[str, np.ndarray],
            timeout_s: float | None = None) -> Iterator[Evaluation]:
        """Hand over the model files and inputs; yields the evaluation like :func:`evaluate`."""
        for path in model_files:
            if path.is_symlink() or not path.is_file():
                continue
            shutil.copyfile(path, self.folder.work / path.name)
        np.savez(self.folder.ctl / "inputs.npz", **inputs)  # type: ignore[arg-type]
        self._go.touch()
        try:
            code = self.process.wait(timeout=timeout_s or self.limits.export_time_s * 2)
            ok = code == 0
        except subprocess.TimeoutExpired:
            ok = False
        self._log.flush()
        detail = (self.folder.ctl / "stderr.log").read_bytes().decode("utf-8", "replace")[-600:]
        artifacts = Artifacts(self.folder.out, self.limits.artifact_mb * 2**20)
        yield Evaluation(artifacts=artifacts, ok=ok and artifacts.problem is None,
                         detail=detail if ok else detail or "timeout")

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self._log.close()
        self.folder.remove()
