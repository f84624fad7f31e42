"""The grading pipeline in one function: intake → run → check → report data.

Everything a submission can do wrong ends as a :class:`~grader.schema.Result`;
only a broken assignment or a bug of dlgrade's escapes as an exception.
"""

from __future__ import annotations

import dataclasses
import hashlib
import platform
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from . import data, intake
from ._version import __version__
from .artifacts import Artifacts
from .assignment import Assignment
from .checks import Context, run_checks
from .errors import IntakeError
from .evaluate import WarmEvaluator, keep_files
from .i18n import Messages
from .manual import collect_manual
from .runner import RunFolder, RunRequest, execute, stage
from .sandbox import Sandbox, gpu_device_nodes
from .schema import CheckResult, Result, RunInfo
from .settings import DEFAULT_LIMITS, DEFAULT_SEED, Limits


@dataclass(frozen=True)
class Options:
    hidden: bool = True
    """Instructor grading (public and hidden checks) or a student self-check (public only)."""
    lang: str | None = None
    seed: int = DEFAULT_SEED
    keep_run: Path | None = None
    """Copy the run folder here (for debugging an assignment); normally it is deleted."""
    keep_artifacts: Path | None = None
    """Copy ``out/`` and the probe inputs here, so :func:`check_stored` can re-grade later."""
    threads: int | None = None
    """CPU threads for the run's numeric libraries (a batch's share); None: the assignment's."""
    evaluations: Path | None = None
    """A trusted folder where model evaluations are kept by content hash, so that a
    re-grade does not load the same exported model again (a batch's cache)."""


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
    limits = assignment.limits
    if options.threads:
        limits = dataclasses.replace(limits, threads=options.threads)
    datasets = {name: data.locate(name) for name in assignment.datasets}
    export_source = assignment.export_source
    if "tensorflow" in assignment.frameworks:
        from .dl.keras_checks import export_helpers

        export_source = export_helpers() + "\n" + export_source
    folder = RunFolder.create()
    prelude = assignment.evaluate_prelude
    warm: WarmEvaluator | None = None
    try:
        warm = WarmEvaluator(prelude, sandbox, assignment.limits) if prelude else None
        stage(
            folder,
            sub.path.parent if sub.path != path else None,
            [(f, str(f.relative_to(assignment.root))) for f in assignment.files],
            inputs,
        )
        info = execute(RunRequest(
            notebook=sub.notebook, folder=folder, export_source=export_source,
            limits=limits, sandbox=sandbox, seed=options.seed,
            frameworks=assignment.frameworks, read_only=sorted(datasets.values()),
            datasets=datasets, gpu=bool(assignment.frameworks) and bool(gpu_device_nodes()),
        ))
        if info.grader_failure:
            return _grader_failed(assignment, given, sub.sha256, info, messages, checks, env,
                                  lang, mode)
        info.message = run_message(info, messages, limits)
        result = _checked(assignment, sub, given, folder.out, inputs, info, options, env,
                          sandbox=sandbox, evaluator=warm)
        if options.keep_run is not None:
            shutil.copytree(folder.root, options.keep_run, symlinks=True, dirs_exist_ok=True)
        if options.keep_artifacts is not None:
            shutil.copytree(folder.out, options.keep_artifacts / "out", ignore=_only_plain,
                            dirs_exist_ok=True)
            shutil.copyfile(folder.ctl / "inputs.npz", options.keep_artifacts / "inputs.npz")
    finally:
        folder.remove()
        if warm is not None:
            warm.close()
    return result


def _only_plain(src: str, names: list[str]) -> list[str]:
    """What a sandbox wrote that is not a plain file or folder (links, pipes) is never kept."""
    import os
    import stat

    skip = []
    for name in names:
        mode = os.lstat(os.path.join(src, name)).st_mode
        if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
            skip.append(name)
    return skip


def check_stored(assignment: Assignment, path: Path, given: str, stored: Path, run: RunInfo,
                 options: Options, sandbox: Sandbox | None = None) -> Result:
    """Re-grade from a kept run: the checks only, on ``stored/out`` and ``stored/inputs.npz``.

    No student code runs. ``path`` is the submission as graded (for the source and
    the manual answers); ``run`` is how that run went.
    """
    env = environment_info(options.seed, assignment.frameworks)
    sub = intake.load(path, given, assignment.limits, assignment.notebook)
    with np.load(stored / "inputs.npz", allow_pickle=False) as data:
        inputs = {k: data[k] for k in data.files}
    run = dataclasses.replace(run, message=run_message(run, assignment.messages(
        options.lang or assignment.lang), assignment.limits))
    return _checked(assignment, sub, given, stored / "out", inputs, run, options, env,
                    sandbox=sandbox)


def _checked(assignment: Assignment, sub: intake.Submission, given: str, out: Path,
             inputs: dict[str, Any], info: RunInfo, options: Options,
             env: dict[str, Any], *, sandbox: Sandbox | None = None,
             evaluator: WarmEvaluator | None = None) -> Result:
    lang = options.lang or assignment.lang
    messages = assignment.messages(lang)
    ctx = Context(
        artifacts=Artifacts(out, assignment.limits.artifact_mb * 2**20),
        inputs=inputs,
        source=intake.student_source(sub.notebook),
        notebook=sub.notebook,
        run=info,
        hidden_dir=assignment.hidden_dir if options.hidden else None,
        sandbox=sandbox,
        limits=assignment.limits,
        evaluator=evaluator,
        eval_cache=options.evaluations,
        state={"messages": messages},
    )
    _record_device(ctx.artifacts, info)
    results = run_checks(assignment.checks(hidden=options.hidden), ctx, messages)
    pictures = _pictures(assignment, ctx, options, lang, out)
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
        mode="grade" if options.hidden else "check",
        manual=collect_manual(sub.notebook, assignment.manual_items(), messages),
        images=list(pictures),
        image_data=pictures,
    )


def _pictures(assignment: Assignment, ctx: Context, options: Options, lang: str,
              out: Path) -> dict[str, bytes]:
    """The feedback pictures; in a batch, kept by the hash of what they are drawn from.

    They depend only on the run's exports, the assignment's checks code and the
    language, so a re-grade after a threshold change reads them back undrawn.
    """
    if options.evaluations is None:
        return assignment.pictures(ctx, options.hidden)
    digest = hashlib.sha256(f"{__version__}:{lang}:{options.hidden}".encode())
    digest.update(assignment.picture_code(options.hidden).encode())
    for path in sorted(p for p in assignment.root.rglob("*") if p.is_file()):
        if path.suffix == ".toml":  # labels and titles drawn on the pictures
            digest.update(path.read_bytes())
        elif path.suffix != ".py":  # data: its identity is enough
            info = path.stat()
            digest.update(f"{path.name}:{info.st_size}:{info.st_mtime_ns}".encode())
    for path in sorted(out.iterdir()):
        if path.is_file() and not path.is_symlink():
            digest.update(path.name.encode() + b"\0" + path.read_bytes())
    kept = options.evaluations / f"pictures-{digest.hexdigest()}"
    if kept.is_dir():
        return {p.name: p.read_bytes() for p in sorted(kept.glob("*.png"))}
    pictures = assignment.pictures(ctx, options.hidden)
    if pictures and all(name.endswith(".png") and "/" not in name for name in pictures):
        keep_files(kept, pictures)
    return pictures


def _record_device(artifacts: Artifacts, info: RunInfo) -> None:
    """The device the framework itself reported (``gpu:…``/``cpu``), when the export gave one."""
    if "device" in artifacts:
        device = artifacts.value("device")
        if isinstance(device, str) and device:
            info.device = device[:80]


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


def _grader_failed(assignment: Assignment, given: str, digest: str, info: RunInfo,
                   messages: Messages, checks: list[Any], env: dict[str, Any], lang: str,
                   mode: str) -> Result:
    """dlgrade could not run the submission at all: every check is an error, not a zero."""
    message = messages("run.grader_failure", detail=info.grader_failure[-300:])
    info.message = message
    results = [
        CheckResult(id=c.id, title=messages(f"{c.id}.title"), status="error", score=0.0,
                    max_score=c.points, visibility=c.visibility, message=message,
                    code="run.grader_failure")
        for c in checks
    ]
    return Result(
        assignment=assignment.name, submission=given, submission_sha256=digest, status="error",
        score=0.0, max_score=sum(c.points for c in checks), checks=results, run=info,
        environment=env, lang=lang, mode=mode, message=message,
    )


def grader_failed(result: Result) -> bool:
    """Whether dlgrade (not the student) is to blame for a result: exit status 3."""
    return result.status == "error" and result.run.exit != "invalid"


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
