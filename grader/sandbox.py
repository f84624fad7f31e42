"""How student code is isolated: the command prefix a run is launched under.

``bwrap`` (bubblewrap): read-only system and Python, private ``/tmp`` and home,
only the run folder writable, no network, own PID namespace, killed with its
parent, no capabilities, environment reduced to an allow-list.

``subprocess``: the fallback where bubblewrap is missing or cannot start
(macOS, locked-down runners). Same environment allow-list and resource limits,
but the code can read what the grader's user can read. Results say so.
"""

from __future__ import annotations

import functools
import glob
import os
import shutil
import subprocess
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from .settings import Limits

BWRAP, SUBPROCESS = "bwrap", "subprocess"


@functools.lru_cache(maxsize=1)
def bwrap_works() -> bool:
    """Whether bubblewrap is installed *and* can create its namespaces here."""
    exe = shutil.which("bwrap")
    if exe is None:
        return False
    try:
        done = subprocess.run(
            [exe, "--unshare-all", "--die-with-parent", "--ro-bind", "/", "/", "true"],
            capture_output=True, timeout=20, check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


def _python_roots() -> list[str]:
    """Folders the interpreter and its packages live in (all read-only inside)."""
    roots = {os.path.realpath(p) for p in (sys.prefix, sys.base_prefix, sys.exec_prefix)}
    return sorted(roots)


def environment(limits: Limits, home: str, extra: dict[str, str] | None = None) -> dict[str, str]:
    """The whole environment student code sees: nothing of the grader's leaks in."""
    threads = str(limits.threads)
    env = {
        "PATH": f"{Path(sys.executable).parent}:/usr/local/bin:/usr/bin:/bin",
        "HOME": home,
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "TMPDIR": "/tmp",
        "MPLBACKEND": "Agg",
        "MPLCONFIGDIR": f"{home}/.matplotlib",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONHASHSEED": "0",
        "PYDEVD_DISABLE_FILE_VALIDATION": "1",
        "OMP_NUM_THREADS": threads,
        "OPENBLAS_NUM_THREADS": threads,
        "MKL_NUM_THREADS": threads,
        "TF_NUM_INTRAOP_THREADS": threads,
        "TF_NUM_INTEROP_THREADS": "1",
        "TF_CPP_MIN_LOG_LEVEL": "2",
        "TF_ENABLE_ONEDNN_OPTS": "0",
        "KERAS_BACKEND": "tensorflow",
    }
    if "VIRTUAL_ENV" in os.environ or sys.prefix != sys.base_prefix:
        env["VIRTUAL_ENV"] = sys.prefix
    for name in ("CUDA_VISIBLE_DEVICES", "NVIDIA_VISIBLE_DEVICES"):
        if name in os.environ:
            env[name] = os.environ[name]
    env.update(extra or {})
    return env


def gpu_device_nodes() -> list[str]:
    return sorted(glob.glob("/dev/nvidia*"))


@dataclass(frozen=True)
class Sandbox:
    kind: str

    @property
    def isolated(self) -> bool:
        return self.kind == BWRAP

    def command(
        self,
        argv: list[str],
        *,
        run_dir: Path,
        cwd: Path,
        env: dict[str, str],
        limits: Limits,
        read_only: Iterable[Path] = (),
    ) -> list[str]:
        """``argv`` wrapped so that it runs isolated, limited, with exactly ``env``."""
        limit = [
            "prlimit",
            f"--fsize={limits.disk_mb * 2**20}",
            "--core=0",
        ]
        if os.geteuid() != 0:  # root ignores RLIMIT_NPROC; the monitor counts processes instead
            limit.append(f"--nproc={limits.max_processes}")
        scrub = ["env", "-i", *(f"{k}={v}" for k, v in sorted(env.items()))]
        if self.kind != BWRAP:
            return [*scrub, *limit, "--", *argv]
        # Order matters: later mounts land on top of earlier ones, so the private /tmp
        # comes first and the binds that may live under /tmp (a venv, the run folder) after.
        box = [
            "bwrap", "--unshare-all", "--die-with-parent", "--new-session", "--cap-drop", "ALL",
            "--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp",
            "--ro-bind", "/usr", "/usr",
        ]
        for name in ("bin", "sbin", "lib", "lib64", "lib32"):
            host = Path("/") / name
            if host.is_symlink():
                box += ["--symlink", os.readlink(host), str(host)]
            elif host.is_dir():
                box += ["--ro-bind", str(host), str(host)]
        for etc in ("ld.so.cache", "ld.so.conf", "ld.so.conf.d", "alternatives", "localtime",
                    "fonts", "mime.types", "nsswitch.conf", "hosts", "passwd", "group"):
            box += ["--ro-bind-try", f"/etc/{etc}", f"/etc/{etc}"]
        for root in _python_roots():
            box += ["--ro-bind", root, root]
        for extra in read_only:
            box += ["--ro-bind", str(extra), str(extra)]
        for node in gpu_device_nodes():
            box += ["--dev-bind", node, node]
        box += [
            "--dir", env["HOME"],
            "--bind", str(run_dir), str(run_dir), "--chdir", str(cwd),
            "--",
        ]
        return [*scrub, *limit, "--", *box, *argv]


def choose(allow_weak: bool = True) -> Sandbox | None:
    """bubblewrap when it works; the weaker subprocess if allowed; else None."""
    if bwrap_works():
        return Sandbox(BWRAP)
    return Sandbox(SUBPROCESS) if allow_weak else None
