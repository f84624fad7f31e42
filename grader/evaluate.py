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
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .artifacts import Artifacts
from .runner import RunFolder
from .sandbox import BWRAP, Sandbox, environment
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


def _argv(folder: RunFolder, program: Path, sandbox: Sandbox, limits: Limits,
          read_only: list[Path]) -> list[str]:
    home = "/tmp/home" if sandbox.kind == BWRAP else str(folder.root / "home")
    return sandbox.command(
        [sys.executable, str(program)], run_dir=folder.root, cwd=folder.work,
        env=environment(limits, home), limits=limits, read_only=read_only,
    )


class WarmEvaluator:
    """An evaluation sandbox started before it is needed, for one evaluation.

    Its process imports ``prelude`` (a framework: seconds) while the student's run
    goes on, then waits on its standard input; :func:`evaluate` later gives it the
    model files, the inputs and the script. Same sandbox, limits and fresh folder as
    a cold evaluation, and still no student code: only the grader's prelude ran.
    """

    def __init__(self, prelude: str, sandbox: Sandbox, limits: Limits,
                 read_only: list[Path] | None = None) -> None:
        self.sandbox, self.limits, self.read_only = sandbox, limits, read_only or []
        self.folder = RunFolder.create()
        waiter = self.folder.ctl / "warm.py"
        job = self.folder.ctl / "evaluate.py"
        waiter.write_text("\n".join([
            prelude,
            "import sys as _s",
            "if _s.stdin.readline().strip() == 'go':",
            f"    exec(compile(open({str(job)!r}, encoding='utf-8').read(), 'evaluate', 'exec'), {{}})",
        ]), encoding="utf-8")
        self.process: subprocess.Popen[bytes] | None = subprocess.Popen(
            _argv(self.folder, waiter, sandbox, limits, self.read_only),
            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )

    def take(self) -> subprocess.Popen[bytes] | None:
        """The waiting process, once; None after it was taken or if it already died."""
        process, self.process = self.process, None
        if process is not None and process.poll() is not None:
            return None
        return process

    def close(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.communicate()
            self.process = None
        self.folder.remove()


@contextmanager
def evaluate(script: str, *, model_files: list[Path], inputs: dict[str, np.ndarray],
             sandbox: Sandbox, limits: Limits, timeout_s: float | None = None,
             read_only: list[Path] | None = None,
             warm: WarmEvaluator | None = None) -> Iterator[Evaluation]:
    """Run ``script`` on copies of ``model_files``; yields the evaluation, then cleans up.

    With ``warm``, its already-started process does the work when it is still waiting.
    """
    process = warm.take() if warm is not None else None
    folder = warm.folder if warm is not None and process is not None else RunFolder.create()
    timeout = timeout_s or limits.export_time_s * 2
    try:
        program = _stage(folder, script, model_files, inputs)
        if process is None:
            process = subprocess.Popen(
                _argv(folder, program, sandbox, limits, read_only or []),
                stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            )
        try:
            _, err = process.communicate(b"go\n", timeout=timeout)
            ok, detail = process.returncode == 0, err.decode("utf-8", "replace")[-600:]
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()
            ok, detail = False, "timeout"
        artifacts = Artifacts(folder.out, limits.artifact_mb * 2**20)
        yield Evaluation(artifacts=artifacts, ok=ok and artifacts.problem is None, detail=detail)
    finally:
        folder.remove()
