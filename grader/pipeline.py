"""The grading pipeline in one function: intake → run → check → report data.

Everything a submission can do wrong ends as a :class:`~grader.schema.Result`;
only a broken assignment or a bug of dlgrade's escapes as an exception.
"""

from __future__ import annotations

import platform
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import intake
from ._version import __version__
from .artifacts import Artifacts
from .assignment import Assignment
from .checks import Context, run_checks
from .errors import IntakeError
from .i18n import Messages
from .manual import collect_manual
from .runner import RunFolder, RunRequest, execute, stage
from .sandbox import Sandbox
from .schema import Result, RunInfo
from .settings import DEFAULT_LIMITS, DEFAULT_SEED, Limits


@dataclass(frozen=True)
class Options:
    hidden: bool = True
    """Instructor grading (public and hidden checks) or a student self-check (public only)."""
    lang: str | None = None
    seed: int = DEFAULT_SEED
    keep_run: Path | None = None
    """Copy the run folder here (for debugging an assignment); normally it is deleted."""


def grade(assignment: Assignment, path: Path, given: str, sandbox: Sandbox,
          options: Options) -> Result:
    lang = options.lang or assignment.lang
    messages = assignment.messages(lang)
    checks = assignment.checks(hidden=options.hidden)
    env = environment_info(options.seed, assignment.frameworks)
    mode = "grade" if options.hidden else "check"
    try:
        sub = intake.load(path, given, assignment.limits, assignment.notebook)
    except IntakeError as exc:
        return _refused(assignment, given, path, exc, messages, checks, env, lang, mode)

    inputs = assignment.inputs(options.hidden, options.seed)
    folder = RunFolder.create()
    try:
        stage(
            folder,
            sub.path.parent if sub.path != path else None,
            [(f, str(f.relative_to(assignment.root))) for f in assignment.files],
            inputs,
        )
        info = execute(RunRequest(
            notebook=sub.notebook, folder=folder, export_source=assignment.export_source,
            limits=assignment.limits, sandbox=sandbox, seed=options.seed,
            frameworks=assignment.frameworks, read_only=[],
        ))
        info.message = run_message(info, messages, assignment.limits)
        ctx = Context(
            artifacts=Artifacts(folder.out, assignment.limits.artifact_mb * 2**20),
            inputs=inputs,
            source=intake.student_source(sub.notebook),
            notebook=sub.notebook,
            run=info,
            hidden_dir=assignment.hidden_dir if options.hidden else None,
        )
        results = run_checks(checks, ctx, messages)
        if options.keep_run is not None:
            shutil.copytree(folder.root, options.keep_run, symlinks=True, dirs_exist_ok=True)
    finally:
        folder.remove()
    return Result(
        assignment=assignment.name,
        submission=given,
        submission_sha256=sub.sha256,
        status="graded",
        score=round(sum(r.score for r in results), 2),
        max_score=sum(r.max_score for r in results),
        checks=results,
        run=info,
        environment=env,
        lang=lang,
        mode=mode,
        manual=collect_manual(sub.notebook, assignment.manual_items(), messages),
    )


def _refused(assignment: Assignment, given: str, path: Path, exc: IntakeError,
             messages: Messages, checks: list[Any], env: dict[str, Any], lang: str,
             mode: str) -> Result:
    """An unreadable submission still gets a result: zero, with the reason."""
    try:
        digest = intake.sha256_of(path) if path.is_file() and not path.is_symlink() else ""
    except OSError:
        digest = ""
    message = messages(exc.key, **exc.params)
    return Result(
        assignment=assignment.name, submission=given, submission_sha256=digest, status="error",
        score=0.0, max_score=sum(c.points for c in checks), checks=[],
        run=RunInfo(exit="invalid", sandbox="none", message=message), environment=env,
        lang=lang, mode=mode, message=message,
    )


def run_message(info: RunInfo, messages: Messages, limits: Limits = DEFAULT_LIMITS) -> str:
    """Why the run ended as it did (and whether output was cut), in the student's language."""
    parts = []
    if info.exit == "ok":
        if info.cell_errors:
            parts.append(messages("run.ok_errors", count=len(info.cell_errors)))
    else:
        params: dict[str, Any] = {
            "seconds": round(info.seconds), "peak_mb": round(info.peak_memory_mb),
            "limit_s": round(limits.gpu_time_s if info.device == "gpu" else limits.time_s),
            "limit_mb": limits.memory_mb, "disk_mb": limits.disk_mb,
            "max_processes": limits.max_processes, "max_threads": limits.max_threads,
            "detail": "—", "cell": "—",
        }
        for err in info.cell_errors:
            params.update({k: err[k] for k in ("processes", "threads") if k in err})
            if err.get("cell") is not None:
                params["cell"] = err["cell"]
        key = f"run.{info.exit}"
        if info.cell_errors:
            last = info.cell_errors[-1]
            params["detail"] = f"{last['ename']}: {last['evalue']}"
            if info.exit == "crash" and last["ename"] == "DeadKernel":
                key = "run.crash_cell"
        parts.append(messages(key, **params))
    if info.output_truncated:
        parts.append(messages("run.output_truncated", output_kb=limits.output_kb))
    return " ".join(parts)


_VERSIONED = ("numpy", "nbclient", "ipykernel", "tensorflow", "keras", "torch")


def environment_info(seed: int, frameworks: list[str]) -> dict[str, Any]:
    """Python and library versions of the grading environment, and the seeds set."""
    from importlib import metadata

    versions = {}
    for name in _VERSIONED:
        if name in ("tensorflow", "keras", "torch") and name not in frameworks and not (
            name == "keras" and "tensorflow" in frameworks
        ):
            continue
        for dist in (name, f"{name}-cpu"):
            try:
                versions[name] = metadata.version(dist)
                break
            except metadata.PackageNotFoundError:
                continue
    return {
        "dlgrade": __version__,
        "python": platform.python_version(),
        "platform": platform.platform(terse=True),
        "packages": versions,
        "seeds": {"python": seed, "numpy": seed, **{f: seed for f in frameworks}},
        "graded_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
