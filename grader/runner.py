"""Run: execute a submission's notebook in a sandboxed Jupyter kernel, then export.

The notebook that runs is the student's cells between two cells of the grader's:
a preamble (seeds, plotting backend, the export helper) and the export step
(``assignments/<name>/export.py``), which writes the data the checks need into
the run's ``out/`` folder. The kernel alone runs in the sandbox; this process
drives it over Unix sockets and watches its memory, process count and clock.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat
import numpy as np
import psutil
from jupyter_client import AsyncKernelManager
from jupyter_client.kernelspec import KernelSpec
from nbclient import NotebookClient
from nbclient.exceptions import DeadKernelError

from .data import serve_source
from .sandbox import PidsCgroup, Sandbox, environment, kill_all
from .schema import RunInfo
from .settings import Limits
from .watchdog import Watch, clean_up, kernel_processes, watch

_RUNTIME = Path(__file__).with_name("runtime.py")
_KERNEL_ARGV = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]


@dataclass
class RunFolder:
    """``root/work`` (the submission's copy, cwd), ``root/out`` (exports), ``root/ctl``."""

    root: Path

    @property
    def work(self) -> Path:
        return self.root / "work"

    @property
    def out(self) -> Path:
        return self.root / "out"

    @property
    def ctl(self) -> Path:
        return self.root / "ctl"

    @classmethod
    def create(cls, base: Path | None = None) -> RunFolder:
        root = Path(tempfile.mkdtemp(prefix="dlg-", dir=base))
        folder = cls(root)
        for sub in (folder.work, folder.out, folder.ctl):
            sub.mkdir()
        return folder

    def remove(self) -> None:
        """Delete the folder, even where the run took away its own permissions (``chmod 000``)."""
        for root, dirs, _ in os.walk(self.root):
            for name in dirs:
                path = os.path.join(root, name)
                if not os.path.islink(path):
                    with contextlib.suppress(OSError):
                        os.chmod(path, 0o700)
        shutil.rmtree(self.root, ignore_errors=True)


def _skip_links(src: str, names: list[str]) -> list[str]:
    return [n for n in names if os.path.islink(os.path.join(src, n))]


def stage(folder: RunFolder, submission_dir: Path | None, files: list[tuple[Path, str]],
          inputs: dict[str, np.ndarray]) -> None:
    """Copy what the run may see into its folder; symlinks are never followed or copied."""
    if submission_dir is not None:
        shutil.copytree(submission_dir, folder.work, ignore=_skip_links, dirs_exist_ok=True)
    for src, rel in files:
        dest = folder.work / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, dest)
    np.savez(folder.ctl / "inputs.npz", **inputs)  # type: ignore[arg-type]


class _SandboxedKernelManager(AsyncKernelManager):
    """Interrupts reach the kernel inside the sandbox, not the bubblewrap parent.

    When the student's time is up, an interrupt kills what the kernel started, if it
    started anything (``os.system("sleep 1000")`` ignores SIGINT, and a SIGINT landing
    as that call returns can wedge the kernel); the call then returns by itself. Only a
    kernel with no children gets the SIGINT. nbclient repeats the interrupt until the
    cell ends, so a loop that keeps starting processes still ends.
    """

    async def _async_signal_kernel(self, signum: int) -> None:
        process = getattr(self.provisioner, "process", None)
        if process is None:
            return
        for proc in kernel_processes(process.pid):
            try:
                if "ipykernel_launcher" in " ".join(proc.cmdline()) and proc.name() != "bwrap":
                    children = proc.children(recursive=True) if signum == signal.SIGINT else []
                    if children:
                        kill_all(children)
                    else:
                        os.kill(proc.pid, signum)
            except (psutil.Error, OSError):
                continue


class _Client(NotebookClient):
    """Keeps printed output under a cap, so a flood can't fill the grader's memory."""

    def __init__(self, *args: Any, output_cap: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.output_cap = output_cap
        self.output_used = 0
        self.truncated = False

    def output(self, outs: list[Any], msg: dict[str, Any], display_id: str | None,
               cell_index: int) -> Any:
        size = len(json.dumps(msg.get("content", {}), default=str))
        if msg.get("msg_type") != "error" and self.output_used + size > self.output_cap:
            self.truncated = True
            return None
        self.output_used += size
        return super().output(outs, msg, display_id, cell_index)


def load_runtime() -> list[str]:
    """Lines that make ``grader/runtime.py`` importable as ``dlgrade_runtime`` inside a
    sandbox, which cannot see the grader package (they bind ``_m``, ``_s`` and ``_t``)."""
    return [
        "import sys as _s, types as _t",
        "_m = _t.ModuleType('dlgrade_runtime')",
        f"exec(compile({_RUNTIME.read_text(encoding='utf-8')!r}, 'dlgrade_runtime', 'exec'),"
        " _m.__dict__)",
        "_s.modules['dlgrade_runtime'] = _m",
    ]


def preamble(seed: int, frameworks: list[str], out_dir: Path, inputs: Path) -> str:
    """The grader's first cell: seeds, a quiet plotting backend, the export helper."""
    lines = [
        "import random as _r",
        f"_r.seed({seed})",
        "import numpy as _np",
        f"_np.random.seed({seed})",
        *load_runtime(),
    ]
    if "tensorflow" in frameworks:
        lines += ["import keras as _k", f"_k.utils.set_random_seed({seed})"]
    if "torch" in frameworks:
        lines += ["import torch as _tt", f"_tt.manual_seed({seed})"]
    lines.append("del _r, _s, _t, _m, _np")
    return "\n".join(lines)


def export_cell(source: str, out_dir: Path, inputs: Path) -> str:
    """The grader's last cell: run the assignment's export script against the student's globals."""
    return "\n".join([
        "import dlgrade_runtime as _dl",
        f"_ex = _dl.Exporter(globals(), {str(out_dir)!r}, {str(inputs)!r})",
        "try:",
        f"    exec(compile({source!r}, 'export.py', 'exec'), {{'ex': _ex, '__name__': 'export'}})",
        "finally:",
        "    _ex.finish()",
    ])


@dataclass
class RunRequest:
    notebook: nbformat.NotebookNode
    folder: RunFolder
    export_source: str
    limits: Limits
    sandbox: Sandbox
    seed: int
    frameworks: list[str]
    read_only: list[Path]
    gpu: bool = False
    datasets: dict[str, Path] = field(default_factory=dict)
    """Keras dataset name → verified archive, served to ``load_data()`` (mount it read-only)."""


def execute(req: RunRequest) -> RunInfo:
    """Run the student's cells and the export step; never raises for anything the student did."""
    folder, limits = req.folder, req.limits
    inputs = folder.ctl / "inputs.npz"
    student = [c for c in req.notebook.cells if c.cell_type == "code"]
    first = preamble(req.seed, req.frameworks, folder.out, inputs)
    if req.datasets:
        first += "\n" + serve_source(req.datasets)
    cells = [
        nbformat.v4.new_code_cell(first),
        *(nbformat.v4.new_code_cell(c.source) for c in student),
        nbformat.v4.new_code_cell(export_cell(req.export_source, folder.out, inputs)),
    ]
    nb = nbformat.v4.new_notebook(cells=cells)
    env = environment(limits, req.sandbox.home(folder.root), {"DLGRADE_OUT": str(folder.out)})
    cgroup = PidsCgroup.create(folder.root.name, limits.max_threads + 8)  # + bwrap, sh, env
    argv = req.sandbox.command(
        _KERNEL_ARGV, run_dir=folder.root, cwd=folder.work, env=env, limits=limits,
        read_only=req.read_only, cgroup=cgroup,
    )
    km = _SandboxedKernelManager(
        transport="ipc", ip=str(folder.ctl / "k"), connection_file=str(folder.ctl / "kernel.json")
    )
    km._kernel_spec = KernelSpec(  # a spec of our own: the sandboxed command, signal interrupts
        argv=argv, display_name="dlgrade", language="python", interrupt_mode="signal", env={}
    )
    budget = limits.gpu_time_s if req.gpu else limits.time_s
    client = _Client(
        nb, km=km, timeout=int(budget), allow_errors=True, interrupt_on_timeout=True,
        shutdown_kernel="immediate", startup_timeout=int(limits.startup_time_s),
        output_cap=limits.output_kb * 1024, record_timing=False,
        resources={"metadata": {"path": str(folder.work)}},
    )
    info = RunInfo(sandbox=req.sandbox.kind, device="gpu" if req.gpu else "cpu")
    seen = Watch()
    started = time.monotonic()
    hard_deadline = started + limits.startup_time_s + budget + limits.export_time_s + 10
    watcher = threading.Thread(target=watch, args=(lambda: _kernel_pid(km), limits, hard_deadline,
                                                   seen, folder.root), daemon=True)
    watcher.start()
    timed_out = False
    started_cells = False
    index = 0
    root: list[psutil.Process] = []
    log = (folder.ctl / "kernel.log").open("wb")
    try:
        with client.setup_kernel(stdout=log, stderr=log):
            pid = _kernel_pid(km)
            root = kernel_processes(pid)[:1] if pid is not None else []
            student_start = time.monotonic()
            for index, cell in enumerate(nb.cells):
                is_export = index == len(nb.cells) - 1
                if is_export:
                    client.timeout = int(limits.export_time_s)
                else:
                    remaining = budget - (time.monotonic() - student_start)
                    if remaining <= 0:
                        timed_out = True
                        continue
                    client.timeout = max(1, int(remaining))
                began = time.monotonic()
                started_cells = True
                client.execute_cell(cell, index)
                if 0 < index < len(nb.cells) - 1:
                    info.cells_run += 1
                    _record_errors(cell, index, info)
                if not is_export and time.monotonic() - began >= client.timeout and not timed_out:
                    timed_out = True
                    if not info.cell_errors or info.cell_errors[-1]["cell"] != index:
                        info.cell_errors.append({"cell": index, "ename": "TimeoutError",
                                                 "evalue": f"{budget:g} s"})
    except DeadKernelError:
        info.exit = "crash"
        info.cell_errors.append({"cell": index if 0 < index < len(nb.cells) - 1 else None,
                                 "ename": "DeadKernel", "evalue": "the Python process ended"})
    except Exception as exc:  # kernel never started, lost sockets: still a result, never a trace
        info.exit = "crash"
        info.cell_errors.append({"cell": None, "ename": type(exc).__name__,
                                 "evalue": str(exc)[:300]})
        if not started_cells and seen.killed is None:
            # No student code had run yet: the kernel could not start, which is the
            # grader's or the machine's trouble, never the student's.
            info.grader_failure = _log_tail(folder.ctl / "kernel.log") or str(exc)
    finally:
        log.close()
        seen.stop.set()
        watcher.join(timeout=2)
        clean_up(root, req.sandbox, folder.root, cgroup)
    info.seconds = round(time.monotonic() - started, 3)
    info.peak_memory_mb = round(seen.peak_mb, 1)
    info.output_truncated = client.truncated
    if seen.killed in ("memory", "processes", "disk"):
        info.exit = seen.killed  # type: ignore[assignment]  # checked against RunExit just above
    elif seen.killed == "timeout" or timed_out:
        info.exit = "timeout"
    if seen.killed == "processes":
        info.cell_errors.append({"cell": None, "ename": "TooManyProcesses",
                                 "evalue": f"{seen.processes} processes, {seen.threads} threads",
                                 "processes": seen.processes, "threads": seen.threads})
    return info


def _log_tail(path: Path, limit: int = 800) -> str:
    try:
        return path.read_bytes()[-limit:].decode("utf-8", "replace").strip()
    except OSError:
        return ""
def _kernel_pid(km: AsyncKernelManager) -> int | None:
    process = getattr(km.provisioner, "process", None) if km.provisioner else None
    return None if process is None else int(process.pid)


def _record_errors(cell: nbformat.NotebookNode, index: int, info: RunInfo) -> None:
    for out in cell.get("outputs", []):
        if out.get("output_type") == "error":
            info.cell_errors.append({
                "cell": index, "ename": str(out.get("ename", ""))[:100],
                "evalue": str(out.get("evalue", ""))[:300],
            })
