"""How student code is isolated: the command prefix a run is launched under.

``bwrap`` (bubblewrap): read-only system and Python, private ``/tmp`` (a tmpfs of
bounded size) and home, only the run folder writable, no network, own PID
namespace, killed with its parent, no capabilities, environment reduced to an
allow-list. Killing the outer ``bwrap`` process ends the whole PID namespace at
once, so nothing a submission forks (daemons, fork bombs) survives its run.

``subprocess``: the fallback where bubblewrap is missing or cannot start
(macOS, locked-down runners). Same environment allow-list and resource limits,
its own session (the caller starts it in ``cwd`` with ``start_new_session``),
and every process it starts carries a marker in its
environment so the grader can find and kill it; but the code can read what the
grader's user can read, see other processes and reach the network. Results say
so (``run.sandbox = "subprocess"``) and instructor grading refuses it unless
``--allow-weak-sandbox`` is given.

``DLGRADE_SANDBOX=subprocess`` forces the fallback even where bubblewrap works
(to test it, or to compare costs); ``DLGRADE_SANDBOX=bwrap`` insists on
bubblewrap.
"""

from __future__ import annotations

import contextlib
import functools
import glob
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import psutil

from .settings import Limits

BWRAP, SUBPROCESS = "bwrap", "subprocess"
FORCE_ENV = "DLGRADE_SANDBOX"
MARKER_ENV = "DLGRADE_RUN"
"""Set in every sandboxed environment to the run's id; finds strays in the fallback."""


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
    """Folders the interpreter and its packages live in (all read-only inside).

    A virtual environment inside the repository binds only its own folder, never
    the repository around it.
    """
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

    def home(self, run_dir: Path) -> str:
        """The home folder student code gets: private in bwrap, inside the run folder otherwise."""
        return "/tmp/home" if self.kind == BWRAP else str(run_dir / "home")

    def command(
        self,
        argv: list[str],
        *,
        run_dir: Path,
        cwd: Path,
        env: dict[str, str],
        limits: Limits,
        read_only: Iterable[Path] = (),
        cgroup: PidsCgroup | None = None,
    ) -> list[str]:
        """``argv`` wrapped so that it runs isolated, limited, with exactly ``env``."""
        enter = cgroup.enter() if cgroup is not None else []
        limit = [
            "prlimit",
            f"--fsize={limits.disk_mb * 2**20}",
            "--core=0",
        ]
        if os.geteuid() != 0:  # root ignores RLIMIT_NPROC; the watchdog counts processes instead
            limit.append(f"--nproc={_user_tasks() + limits.max_threads}")
        env = {**env, MARKER_ENV: run_dir.name}
        if self.kind != BWRAP:  # no private /tmp: temporary files go in the run folder, counted
            env["TMPDIR"] = str(run_dir / "tmp")
        scrub = ["env", "-i", *(f"{k}={v}" for k, v in sorted(env.items()))]
        if self.kind != BWRAP:
            Path(env["HOME"]).mkdir(parents=True, exist_ok=True)
            Path(env["TMPDIR"]).mkdir(parents=True, exist_ok=True)
            return [*enter, *scrub, *limit, "--", *argv]  # the caller starts it in cwd, in its own session
        # Order matters: later mounts land on top of earlier ones, so the private /tmp
        # comes first and the binds that may live under /tmp (a venv, the run folder) after.
        box = [
            "bwrap", "--unshare-all", "--die-with-parent", "--new-session", "--cap-drop", "ALL",
            "--proc", "/proc", "--dev", "/dev",
            # /tmp lives in memory: bounded so a disk filler can't eat the machine's RAM
            "--size", str(limits.disk_mb * 2**20), "--tmpfs", "/tmp",
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
            # the root bwrap builds is a tmpfs too: read-only, so nothing unbounded is writable
            "--remount-ro", "/",
            "--",
        ]
        return [*enter, *scrub, *limit, "--", *box, *argv]


def _user_tasks() -> int:
    """Threads this user already runs: RLIMIT_NPROC counts them all, not just the run's."""
    uid, total = os.getuid(), 0
    for proc in psutil.process_iter(["uids", "num_threads"]):
        uids = proc.info["uids"]
        if uids is not None and uids.real == uid:
            total += proc.info["num_threads"] or 1
    return total


def strays(run_id: str) -> list[psutil.Process]:
    """Processes still carrying a run's marker (the fallback's daemons and orphans)."""
    found = []
    wanted = f"{MARKER_ENV}={run_id}".encode()
    for pid in psutil.pids():
        if pid == os.getpid():
            continue
        try:
            with open(f"/proc/{pid}/environ", "rb") as fh:
                if wanted in fh.read().split(b"\0"):
                    found.append(psutil.Process(pid))
        except (OSError, psutil.Error):
            continue
    return found


def kill_all(procs: Iterable[psutil.Process]) -> None:
    """SIGKILL each process, the first (the sandbox's root) first: in bwrap that ends its namespace."""
    for proc in procs:
        try:
            proc.send_signal(signal.SIGKILL)
        except psutil.Error:
            continue


class PidsCgroup:
    """A pids cgroup for one run, where the grader may create one (root, or a delegated tree).

    The kernel itself then refuses the fork past ``pids.max`` (processes and threads
    together) — the only limit that holds for a root grader, which RLIMIT_NPROC does
    not bind. Elsewhere the watchdog's count is the limit.
    """

    def __init__(self, path: Path) -> None:
        self.path = path

    @classmethod
    def create(cls, name: str, max_tasks: int) -> PidsCgroup | None:
        base = _pids_base()
        if base is None:
            return None
        path = base / "dlgrade" / name
        try:
            path.mkdir(parents=True)
            (path / "pids.max").write_text(str(max_tasks))
        except OSError:
            with contextlib.suppress(OSError):
                path.rmdir()
            return None
        return cls(path)

    def enter(self) -> list[str]:
        """A command prefix that moves itself into this cgroup before anything else runs."""
        return ["/bin/sh", "-c", 'echo $$ > "$0" && exec "$@"', str(self.path / "cgroup.procs")]

    def members(self) -> list[psutil.Process]:
        try:
            pids = [int(p) for p in (self.path / "cgroup.procs").read_text().split()]
        except (OSError, ValueError):
            return []
        found = []
        for pid in pids:
            with contextlib.suppress(psutil.Error):
                found.append(psutil.Process(pid))
        return found

    def remove(self) -> None:
        """Kill whatever is left in it, then delete it."""
        for _ in range(50):
            left = self.members()
            if not left:
                break
            kill_all(left)
            time.sleep(0.02)
        with contextlib.suppress(OSError):
            self.path.rmdir()


def _pids_base() -> Path | None:
    """This process's own pids cgroup folder, if it can be written to."""
    try:
        lines = Path("/proc/self/cgroup").read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        _, controllers, where = line.split(":", 2)
        if "pids" in controllers.split(","):
            base = Path("/sys/fs/cgroup/pids") / where.lstrip("/")
        elif controllers == "" and "pids" in _read("/sys/fs/cgroup/cgroup.controllers"):
            base = Path("/sys/fs/cgroup") / where.lstrip("/")
        else:
            continue
        if base.is_dir() and os.access(base, os.W_OK):
            return base
    return None


def _read(path: str) -> str:
    try:
        return Path(path).read_text()
    except OSError:
        return ""


def choose(allow_weak: bool = True) -> Sandbox | None:
    """bubblewrap when it works; the weaker subprocess if allowed; else None.

    ``DLGRADE_SANDBOX`` forces one kind; forcing ``subprocess`` still needs ``allow_weak``.
    """
    forced = os.environ.get(FORCE_ENV, "").strip().lower()
    if forced == SUBPROCESS:
        return Sandbox(SUBPROCESS) if allow_weak else None
    if bwrap_works():
        return Sandbox(BWRAP)
    if forced == BWRAP:
        return None
    return Sandbox(SUBPROCESS) if allow_weak else None
