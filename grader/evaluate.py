"""Evaluate: load an exported model in a sandbox that runs no student code.

The run step exports a model file (``.keras``, a ``torch.export`` program); this
step copies it into a fresh run folder and runs a grader-written script on it, in
the same sandbox, limits and watchdog as student runs, with the evaluation inputs.
Only predictions come back (``values.json`` + ``.npy`` through the export helper);
labels never enter. The script gets ``ex`` (the :mod:`grader.runtime` Exporter, with
the inputs as ``ex.inputs``) and the model files in its working folder.

A :class:`WarmEvaluator` starts that process before the student's run, so the
framework import (seconds) overlaps it; only the grader's own prelude runs early.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import numpy as np

from .artifacts import Artifacts
from .runner import RunFolder, load_runtime
from .sandbox import PidsCgroup, Sandbox, environment
from .settings import Limits
from .watchdog import Watch, clean_up, kernel_processes, watch


@dataclass
class Evaluation:
    artifacts: Artifacts
    ok: bool
    """False when the evaluation process failed, timed out or wrote nothing."""
    detail: str
    """The end of its error output when it failed (for the check's message)."""


def _program(script: str, out_dir: Path, inputs: Path) -> str:
    return "\n".join([
        *load_runtime(),
        f"ex = _m.Exporter({{}}, {str(out_dir)!r}, {str(inputs)!r})",
        "try:",
        f"    exec(compile({script!r}, 'evaluate.py', 'exec'), {{'ex': ex, '__name__': 'evaluate'}})",
        "finally:",
        "    ex.finish()",
        # Tearing down an interpreter that loaded a framework takes seconds; nothing is left to do.
        "_s.stdout.flush(); _s.stderr.flush()",
        "import os as _o; _o._exit(0)",
    ])


def _stage(folder: RunFolder, script: str, model_files: list[Path],
           inputs: dict[str, np.ndarray]) -> Path:
    """Copy the model files in (never through a symlink), write the inputs and the program."""
    for path in model_files:
        if path.is_symlink() or not path.is_file():
            continue
        shutil.copyfile(path, folder.work / path.name)
    inputs_path = folder.ctl / "inputs.npz"
    np.savez(inputs_path, **inputs)  # type: ignore[arg-type]
    program = folder.ctl / "evaluate.py"
    program.write_text(_program(script, folder.out, inputs_path), encoding="utf-8")
    return program


class _Process:
    """A sandboxed evaluation process, its cgroup and its log."""

    def __init__(self, program: Path, folder: RunFolder, sandbox: Sandbox, limits: Limits,
                 read_only: list[Path]) -> None:
        self.folder, self.sandbox = folder, sandbox
        self.cgroup = PidsCgroup.create(folder.root.name, limits.max_threads + 8)
        argv = sandbox.command(
            [sys.executable, str(program)], run_dir=folder.root, cwd=folder.work,
            env=environment(limits, sandbox.home(folder.root)), limits=limits,
            read_only=read_only, cgroup=self.cgroup,
        )
        self.log_path = folder.ctl / "evaluate.log"
        self.log: IO[bytes] = self.log_path.open("wb")
        self.popen = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=self.log,
                                      stderr=self.log, cwd=folder.work, start_new_session=True)
        self.root = kernel_processes(self.popen.pid)[:1]

    def poll(self) -> int | None:
        return self.popen.poll()

    def finish(self, limits: Limits, timeout_s: float) -> tuple[bool, str]:
        """Say "go", wait under the watchdog; (succeeded, the end of its error output)."""
        seen = Watch()
        watcher = threading.Thread(
            target=watch, args=(lambda: self.popen.pid, limits, time.monotonic() + timeout_s,
                                seen, self.folder.root), daemon=True)
        watcher.start()
        try:
            assert self.popen.stdin is not None
            self.popen.stdin.write(b"go\n")
            self.popen.stdin.close()
        except OSError:
            pass  # it already ended; its exit code tells
        try:
            code: int | None = self.popen.wait(timeout=timeout_s + 5)
        except subprocess.TimeoutExpired:
            code = None
        finally:
            seen.stop.set()
            watcher.join(timeout=2)
            self.close()
        if seen.killed or code is None:
            return False, seen.killed or "timeout"
        raw = self.log_path.read_bytes()[-600:]
        return code == 0, raw.decode("utf-8", "replace")

    def close(self) -> None:
        clean_up(self.root, self.sandbox, self.folder.root, self.cgroup)
        if self.popen.poll() is None:
            self.popen.kill()
        self.popen.wait()
        self.log.close()


class WarmEvaluator:
    """An evaluation sandbox started before it is needed, for one evaluation.

    Its process imports ``prelude`` (a framework: seconds) while the student's run
    goes on, then waits on its standard input; :func:`evaluate` later gives it the
    model files, the inputs and the script. Same sandbox, limits and fresh folder as
    a cold evaluation, and still no student code: only the grader's prelude ran.
    """

    def __init__(self, prelude: str, sandbox: Sandbox, limits: Limits,
                 read_only: list[Path] | None = None) -> None:
        self.folder = RunFolder.create()
        waiter = self.folder.ctl / "warm.py"
        job = self.folder.ctl / "evaluate.py"
        waiter.write_text("\n".join([
            prelude,
            "import sys as _s",
            "if _s.stdin.readline().strip() == 'go':",
            f"    exec(compile(open({str(job)!r}, encoding='utf-8').read(), 'evaluate', 'exec'), {{}})",
        ]), encoding="utf-8")
        self.process: _Process | None = _Process(waiter, self.folder, sandbox, limits,
                                                 read_only or [])

    def take(self) -> _Process | None:
        """The waiting process, once; None after it was taken or if it already died."""
        process, self.process = self.process, None
        if process is not None and process.poll() is not None:
            process.close()
            return None
        return process

    def close(self) -> None:
        if self.process is not None:
            self.process.close()
            self.process = None
        self.folder.remove()


def evaluation_key(script: str, model_files: list[Path], inputs: dict[str, np.ndarray]) -> str:
    """Content hash of an evaluation: the script, the model files' bytes, the inputs."""
    digest = hashlib.sha256(script.encode())
    for path in model_files:
        digest.update(path.name.encode() + b"\0")
        if path.is_file() and not path.is_symlink():
            digest.update(path.read_bytes())
    for name in sorted(inputs):
        arr = np.ascontiguousarray(inputs[name])
        digest.update(f"{name}:{arr.dtype.str}:{arr.shape}".encode())
        digest.update(arr.tobytes())
    return digest.hexdigest()


def keep_files(final: Path, files: dict[str, bytes]) -> None:
    """Store ``files`` as the folder ``final`` in one rename, so no reader sees half of it;
    a folder another job kept first wins."""
    if final.exists():
        return
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix="tmp-", dir=final.parent))
    for name, data in files.items():
        (tmp / name).write_bytes(data)
    try:
        tmp.rename(final)
    except OSError:
        shutil.rmtree(tmp, ignore_errors=True)


@contextmanager
def evaluate(script: str, *, model_files: list[Path], inputs: dict[str, np.ndarray],
             sandbox: Sandbox, limits: Limits, timeout_s: float | None = None,
             read_only: list[Path] | None = None,
             warm: WarmEvaluator | None = None,
             cache_dir: Path | None = None) -> Iterator[Evaluation]:
    """Run ``script`` on copies of ``model_files``; yields the evaluation, then cleans up.

    With ``warm``, its already-started process does the work when it is still waiting.
    With ``cache_dir`` (a trusted folder no sandbox sees), an evaluation of the same
    script, model bytes and inputs is read back instead of being run again.
    """
    key = evaluation_key(script, model_files, inputs) if cache_dir is not None else ""
    if cache_dir is not None and (cache_dir / key / "values.json").is_file():
        yield Evaluation(Artifacts(cache_dir / key, limits.artifact_mb * 2**20), ok=True,
                         detail="")
        return
    process = warm.take() if warm is not None else None
    folder = warm.folder if warm is not None and process is not None else RunFolder.create()
    try:
        program = _stage(folder, script, model_files, inputs)
        if process is None:
            process = _Process(program, folder, sandbox, limits, read_only or [])
        ok, detail = process.finish(limits, timeout_s or limits.export_time_s * 2)
        artifacts = Artifacts(folder.out, limits.artifact_mb * 2**20)
        ok = ok and artifacts.problem is None
        if ok and cache_dir is not None:  # plain files only: what the readers accept anyway
            keep_files(cache_dir / key, {p.name: p.read_bytes() for p in folder.out.iterdir()
                                         if p.is_file() and not p.is_symlink()})
        yield Evaluation(artifacts=artifacts, ok=ok, detail=detail)
    finally:
        folder.remove()
