"""The GitHub Classroom result: what ``autograding-grading-reporter@v1`` reads.

One Classroom test per check, with its points (partial credit counts: the reporter
adds ``tests[].score`` as given). The JSON travels base64-encoded, unwrapped, in the
``result`` output of a workflow step (``result=<base64>`` appended to
``$GITHUB_OUTPUT``); step outputs are capped at 1 MB, so the compact JSON is kept
under :data:`MAX_BYTES` by shortening messages, never by dropping a test.

Classroom points are a self-check the student could tamper with (they can edit the
workflow). The instructor's batch grading is authoritative; the submission's
sha256 travels here too, so the two can be matched.
"""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path
from typing import Any

from ..i18n import Messages
from ..schema import CheckResult, Result
from .safe import neutralise

MAX_BYTES = 750_000
"""Compact JSON size cap: its base64 (4/3 larger) stays under the 1 MB output limit."""
MESSAGE_CHARS = 1500
"""First cap on each test's message; halved until the whole result fits."""

_STATUS = {"passed": "pass", "failed": "fail", "skipped": "fail", "error": "error"}


def _message(chk: CheckResult, t: Messages, limit: int) -> str:
    parts = [chk.message] if chk.message else []
    if chk.expected is not None or chk.actual is not None:
        show = [json.dumps(v, ensure_ascii=False, default=str) for v in (chk.expected, chk.actual)]
        parts.append(f"{t('report.expected')}: {show[0]} · {t('report.actual')}: {show[1]}")
    if chk.hint:
        parts.append(f"{t('report.hint')}: {chk.hint}")
    return neutralise("\n".join(parts), limit)


def classroom_dict(result: Result, t: Messages, limit: int = MESSAGE_CHARS) -> dict[str, Any]:
    """The reporter's JSON for one result (messages cut at ``limit`` characters)."""
    seconds = round(result.run.seconds, 2)
    tests: list[dict[str, Any]] = [
        {
            "name": f"{chk.title} · {chk.max_score:g} {t('report.points').lower()}",
            "status": _STATUS[chk.status],
            "score": chk.score,
            "message": _message(chk, t, limit),
            "test_code": f"dlgrade check {result.assignment} · {chk.id}",
            "filename": neutralise(result.submission, 200),
            "line_no": 0,
            "execution_time": f"{seconds:g}s",
        }
        for chk in result.checks
    ]
    if not tests:  # the submission could not be read: one failing test says why
        tests.append({
            "name": t("report.error_title"), "status": "fail", "score": 0,
            "message": neutralise(result.message, limit),
            "test_code": f"dlgrade check {result.assignment}",
            "filename": neutralise(result.submission, 200), "line_no": 0,
            "execution_time": f"{seconds:g}s",
        })
    statuses = {test["status"] for test in tests}
    status = "error" if "error" in statuses else "fail" if "fail" in statuses else "pass"
    return {
        "version": 1,
        "status": status,
        "max_score": result.max_score,
        "tests": tests,
        "dlgrade": {
            "assignment": result.assignment, "mode": result.mode,
            "submission_sha256": result.submission_sha256,
            "version": result.environment.get("dlgrade", ""),
        },
    }


def render_classroom(result: Result, t: Messages) -> str:
    """Compact JSON under :data:`MAX_BYTES`, shortening messages as needed."""
    limit = MESSAGE_CHARS
    while True:
        text = json.dumps(classroom_dict(result, t, limit), ensure_ascii=False, separators=(",", ":"))
        if len(text.encode()) < MAX_BYTES or limit < 10:
            return text
        limit //= 2


def encode(text: str) -> str:
    """base64 of the UTF-8 JSON, on one line, as the reporter decodes it."""
    return base64.b64encode(text.encode()).decode("ascii")


def write_output(text: str, path: Path) -> None:
    """Append ``result=<base64>`` to a GitHub Actions output file."""
    with path.open("a", encoding="utf-8") as fh:
        fh.write(f"result={encode(text)}\n")


def output_path(explicit: Path | None) -> Path | None:
    """Where the step output goes: ``--classroom-output``, else ``$GITHUB_OUTPUT`` if set."""
    if explicit is not None:
        return explicit
    env = os.environ.get("GITHUB_OUTPUT")
    return Path(env) if env else None
