"""Results for grading platforms that run dlgrade in their own containers.

- Gradescope: ``/autograder/results/results.json`` (score, tests with score/max_score/status).
- PrairieLearn external grader: ``/grade/results/results.json`` (score as a 0..1 fraction,
  ``gradable: false`` with ``format_errors`` for a submission that could not be read).

Both are rendered from the result object only; hidden checks keep their visibility.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..i18n import Messages
from ..schema import CheckResult, Result
from .html import embedded_images
from .markdown import render_markdown


def _check_text(c: CheckResult, t: Messages) -> str:
    lines = [t("report.status." + c.status)]
    if c.message:
        lines.append(c.message)
    if c.expected is not None or c.actual is not None:
        lines.append(f"{t('report.expected')}: {json.dumps(c.expected, ensure_ascii=False, default=str)}")
        lines.append(f"{t('report.actual')}: {json.dumps(c.actual, ensure_ascii=False, default=str)}")
    if c.hint:
        lines.append(f"{t('report.hint')}: {c.hint}")
    return "\n".join(lines)


def gradescope(result: Result, t: Messages, folder: Path | None = None) -> str:
    tests = [{
        "name": c.title, "number": str(n), "score": c.score, "max_score": c.max_score,
        "status": "passed" if c.status == "passed" else "failed",
        "output": _check_text(c, t), "output_format": "text",
        "visibility": "visible" if c.visibility == "public" else "after_published",
        "tags": [c.id, c.status],
    } for n, c in enumerate(result.checks, 1)]
    data: dict[str, Any] = {
        "score": result.score,
        "execution_time": round(result.run.seconds, 2),
        "output": render_markdown(result, t),
        "output_format": "md",
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "tests": tests,
        "extra_data": {"dlgrade": {"status": result.status, "exit": result.run.exit,
                                   "manual_pending_points": result.manual_pending}},
    }
    return json.dumps(data, ensure_ascii=False, indent=2)


def prairielearn(result: Result, t: Messages, folder: Path | None = None) -> str:
    images = [{"label": name, "url": uri} for name, uri in embedded_images(result, folder)]
    if result.status == "error" and result.run.exit == "invalid":
        data: dict[str, Any] = {"gradable": False, "format_errors": [result.message], "score": 0.0}
        return json.dumps(data, ensure_ascii=False, indent=2)
    data = {
        "gradable": True,
        "score": round(result.score / result.max_score, 6) if result.max_score else 0.0,
        "message": result.run.message or result.message,
        "output": "",
        "images": images,
        "tests": [{
            "name": c.title, "description": c.id, "points": c.score, "max_points": c.max_score,
            "message": _check_text(c, t), "output": "",
        } for c in result.checks],
    }
    return json.dumps(data, ensure_ascii=False, indent=2)
