"""Declaring checks and running them in the trusted process.

A check is a plain function decorated with :func:`check`. It receives a
:class:`Context`, returns ``None`` (or a :class:`Note` to pass with a remark) and
fails by raising :class:`~grader.errors.CheckFailure` with expected/actual/hint
fields. Any other exception means the *grader* could not judge: the check gets
status ``error``, never silently counted as the student's fault.

Titles and messages live in the assignment's catalogue: ``<id>.title`` is the title
of check ``<id>``; failure keys are catalogue keys too.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

import nbformat
import numpy as np

from .artifacts import Artifacts
from .errors import AssignmentError, CheckFailure
from .i18n import LANGUAGES, Messages
from .sandbox import Sandbox
from .schema import CheckResult, RunInfo, Visibility
from .settings import DEFAULT_LIMITS, Limits

if TYPE_CHECKING:
    from .evaluate import WarmEvaluator

__all__ = ["Check", "Context", "Note", "check", "collect_checks", "run_checks"]


@dataclass(frozen=True)
class Check:
    id: str
    fn: Callable[[Context], Note | None]
    points: float
    visibility: Visibility
    requires: tuple[str, ...]


@dataclass(frozen=True)
class Note:
    """A check that passes with a remark (e.g. "your model overfits after epoch 3")."""

    key: str
    params: dict[str, Any] = field(default_factory=dict)


def check(
    points: float, *, hidden: bool = False, requires: tuple[str, ...] | list[str] = ()
) -> Callable[[Callable[[Context], Note | None]], Callable[[Context], Note | None]]:
    """Mark a function as a check worth ``points``; ``hidden`` ones run in instructor grading only."""

    def mark(fn: Callable[[Context], Note | None]) -> Callable[[Context], Note | None]:
        fn.__dlgrade_check__ = Check(  # type: ignore[attr-defined]
            id=fn.__name__,
            fn=fn,
            points=float(points),
            visibility="hidden" if hidden else "public",
            requires=tuple(requires),
        )
        return fn

    return mark


def collect_checks(module: ModuleType, messages: Messages, where: str) -> list[Check]:
    """The checks of a module, in definition order; refuses untitled or badly-declared ones."""
    found = [
        obj.__dlgrade_check__ for obj in vars(module).values() if hasattr(obj, "__dlgrade_check__")
    ]
    for chk in found:
        for lang in LANGUAGES:
            if not messages.defines(f"{chk.id}.title", lang):
                raise AssignmentError(f"{where}: check {chk.id!r} has no title in [{lang}]")
        if chk.points < 0:
            raise AssignmentError(f"{where}: check {chk.id!r} has negative points")
    return found


@dataclass
class Context:
    """What a check may look at. Everything here is trusted-side data."""

    artifacts: Artifacts
    inputs: dict[str, np.ndarray]
    """The probe inputs the grader gave the run (kept here, never read back from it)."""
    source: str
    """The student's code cells, joined."""
    notebook: nbformat.NotebookNode | None
    run: RunInfo
    hidden_dir: Path | None
    """Instructor-only data; ``None`` in a student self-check."""
    state: dict[str, Any] = field(default_factory=dict)
    """Scratch space checks may share (e.g. predictions computed once)."""
    sandbox: Sandbox | None = None
    """Where :func:`grader.evaluate.evaluate` runs exported models (never student code)."""
    limits: Limits = DEFAULT_LIMITS
    """The assignment's limits, for those evaluations."""
    evaluator: WarmEvaluator | None = None
    """An evaluation sandbox started during the run, if the assignment asked for one."""
    eval_cache: Path | None = None
    """Where evaluations are kept by content hash (a batch's cache), or None."""


def run_checks(checks: list[Check], ctx: Context, messages: Messages) -> list[CheckResult]:
    """Run every check once, in order; a failed prerequisite skips its dependants."""
    outcomes: dict[str, str] = {}
    results: list[CheckResult] = []
    for chk in checks:
        title = messages(f"{chk.id}.title")
        base: dict[str, Any] = {
            "id": chk.id, "title": title, "max_score": chk.points, "visibility": chk.visibility,
        }
        blocking = [r for r in chk.requires if outcomes.get(r) != "passed"]
        if blocking:
            outcomes[chk.id] = "skipped"
            titles = ", ".join(messages(f"{r}.title") for r in blocking)
            results.append(
                CheckResult(
                    **base, status="skipped", score=0.0, code="check.skipped",
                    message=messages("check.skipped", prerequisites=titles),
                )
            )
            continue
        results.append(_run_one(chk, ctx, messages, base))
        outcomes[chk.id] = results[-1].status
    return results


def _run_one(chk: Check, ctx: Context, messages: Messages, base: dict[str, Any]) -> CheckResult:
    try:
        note = chk.fn(ctx)
    except CheckFailure as failure:
        fraction = min(max(failure.fraction, 0.0), 1.0)
        # expected/actual are fields of the failure, and messages may show them too
        params = {"expected": failure.expected, "actual": failure.actual, **failure.params}
        return CheckResult(
            **base,
            status="failed",
            score=round(chk.points * fraction, 2),
            message=messages(failure.key, **params),
            expected=failure.expected,
            actual=failure.actual,
            hint=messages(failure.hint, **params) if failure.hint else None,
            code=failure.key,
        )
    except Exception as exc:  # the grader's own trouble: reported, never blamed on the student
        return CheckResult(
            **base, status="error", score=0.0, code="check.error",
            message=messages("check.error", error=f"{type(exc).__name__}: {exc}"[:300]),
        )
    message = messages(note.key, **note.params) if note else ""
    return CheckResult(
        **base, status="passed", score=chk.points, message=message,
        code=note.key if note else None,
    )
