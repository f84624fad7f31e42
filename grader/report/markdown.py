"""Markdown feedback: what a student reads, check by check."""

from __future__ import annotations

from typing import Any

from ..i18n import Messages
from ..schema import CheckResult, Result
from .safe import neutralise, shown

ICONS = {"passed": "✓", "failed": "✗", "error": "!", "skipped": "–"}


def _fmt(value: Any) -> str:
    return shown(value, 400)


def _check_lines(chk: CheckResult, t: Messages) -> list[str]:
    head = f"### {ICONS[chk.status]} {chk.title} — {chk.score:g}/{chk.max_score:g}"
    lines = [head, "", f"*{t('report.status.' + chk.status)}*", ""]
    if chk.message:
        lines += [neutralise(chk.message), ""]
    if chk.expected is not None or chk.actual is not None:
        lines += [
            f"| {t('report.expected')} | {t('report.actual')} |", "|---|---|",
            f"| `{_fmt(chk.expected)}` | `{_fmt(chk.actual)}` |", "",
        ]
    if chk.hint:
        lines += [f"> **{t('report.hint')}:** {neutralise(chk.hint)}", ""]
    return lines


def render_markdown(result: Result, t: Messages) -> str:
    lines = [f"# {result.assignment} — {result.score:g}/{result.max_score:g}", ""]
    lines += [f"`{neutralise(result.submission, 300)}` · sha256 `{result.submission_sha256[:12]}`", ""]
    if result.status == "error":
        lines += [f"## {t('report.error_title')}", "", neutralise(result.message), ""]
        return "\n".join(lines)
    if result.run.sandbox != "bwrap":
        lines += [f"> {t('report.sandbox_weak')}", ""]
    if result.run.message:
        lines += [f"**{t('report.run')}:** {neutralise(result.run.message)}", ""]
    if result.mode == "check":
        lines += [f"*{t('report.hidden_note')}*", ""]
    for chk in result.checks:
        lines += _check_lines(chk, t)
    for image in result.images:
        lines += [f"![{image}]({image})", ""]
    if result.manual:
        lines += [f"## {t('report.manual')}", ""]
        for item in result.manual:
            lines += [f"### {item.title} ({item.points:g})", ""]
            body = neutralise(item.text) if item.text else t("report.no_answer")
            lines += ["> " + line for line in body.splitlines() or [""]]
            lines.append("")
    run = result.run
    lines += ["---", "", t("report.seconds", seconds=run.seconds, exit=run.exit,
                               sandbox=run.sandbox, device=run.device), ""]
    return "\n".join(lines)
