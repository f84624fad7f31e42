"""The result object: the single source every report format is rendered from.

Versioned as ``"schema": "dlgrade.result/1"``. Fields are added, never renamed,
within a version.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

SCHEMA = "dlgrade.result/1"

CheckStatus = Literal["passed", "failed", "error", "skipped"]
Visibility = Literal["public", "hidden"]
RunExit = Literal["ok", "timeout", "memory", "processes", "disk", "crash", "invalid"]
ResultStatus = Literal["graded", "error"]


@dataclass
class CheckResult:
    """The outcome of one check."""

    id: str
    """Stable identifier (the check function's name)."""
    title: str
    """What the check verifies, in the result's language."""
    status: CheckStatus
    """passed: right; failed: the student's work is wrong; error: the grader could not
    judge; skipped: a prerequisite did not pass."""
    score: float
    max_score: float
    visibility: Visibility
    message: str = ""
    """What happened, in the result's language."""
    expected: Any = None
    actual: Any = None
    hint: str | None = None
    """What to try next."""
    code: str | None = None
    """Catalogue key of the message, for tools that do not read prose."""


@dataclass
class ManualItem:
    """A piece of work an instructor scores by hand (a written answer, a table)."""

    id: str
    title: str
    points: float
    text: str
    """The student's own text, as written."""
    score: float | None = None
    """None until an instructor scores it."""


@dataclass
class RunInfo:
    """How the student's code ran."""

    seconds: float = 0.0
    exit: RunExit = "ok"
    sandbox: str = "none"
    """``bwrap`` (isolated), ``subprocess`` (weaker: resource limits only) or ``none``."""
    device: str = "cpu"
    peak_memory_mb: float = 0.0
    cells_run: int = 0
    cell_errors: list[dict[str, Any]] = field(default_factory=list)
    """Per failing cell: index, exception name and value."""
    message: str = ""
    """Why the run ended the way it did, in the result's language."""
    output_truncated: bool = False
    grader_failure: str = ""
    """Set when the grader or the machine failed (e.g. the kernel could not start)."""
    """The run printed more than ``output_kb``; the rest of its output was dropped."""


@dataclass
class Result:
    """Everything dlgrade knows about one graded submission."""

    assignment: str
    submission: str
    submission_sha256: str
    status: ResultStatus
    score: float
    max_score: float
    checks: list[CheckResult]
    run: RunInfo
    environment: dict[str, Any]
    lang: str
    mode: str = "grade"
    """``grade`` (instructor: public and hidden checks) or ``check`` (student self-check)."""
    message: str = ""
    """For ``status: error``: why nothing could be graded."""
    manual: list[ManualItem] = field(default_factory=list)
    images: list[str] = field(default_factory=list)
    """Pictures written beside the result (file names relative to it)."""
    schema: str = SCHEMA
    image_data: dict[str, bytes] = field(default_factory=dict, repr=False, compare=False)
    """The PNG bytes of ``images`` until a report writes them; never part of the JSON."""

    def score_manual(self, scores: dict[str, float]) -> None:
        """Record an instructor's scores for manual items; they now count toward the total."""
        for item in self.manual:
            if item.id in scores:
                item.score = max(0.0, min(float(scores[item.id]), item.points))
        scored = [m for m in self.manual if m.score is not None]
        self.score = round(sum(c.score for c in self.checks) + sum(m.score or 0 for m in scored), 2)
        self.max_score = sum(c.max_score for c in self.checks) + sum(m.points for m in scored)

    @property
    def manual_pending(self) -> float:
        return sum(item.points for item in self.manual if item.score is None)

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data.pop("image_data")
        data["manual_pending_points"] = self.manual_pending
        return {"schema": data.pop("schema"), **data}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=2, default=_jsonable)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Result:
        data = dict(data)
        data.pop("manual_pending_points", None)
        data["checks"] = [CheckResult(**c) for c in data.get("checks", [])]
        data["manual"] = [ManualItem(**m) for m in data.get("manual", [])]
        data["run"] = RunInfo(**data.get("run", {}))
        return cls(**data)

    @classmethod
    def load(cls, path: Path) -> Result:
        return cls.from_dict(json.loads(path.read_text(encoding="utf-8")))


def _jsonable(value: Any) -> Any:
    """numpy scalars and arrays that end up in expected/actual become plain JSON."""
    if hasattr(value, "tolist"):
        return value.tolist()
    return str(value)
