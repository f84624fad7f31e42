"""The terminal report: colour, one line per check, the total last."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.markup import escape

from ..i18n import Messages
from ..schema import Result
from .safe import neutralise, shown

STYLE = {
    "passed": ("✓", "green"), "failed": ("✗", "red"),
    "error": ("!", "yellow"), "skipped": ("–", "dim"),
}


def _short(value: Any) -> str:
    return escape(shown(value, 160))


def print_terminal(result: Result, t: Messages, console: Console | None = None) -> None:
    out = console or Console(highlight=False, soft_wrap=True)
    out.print(f"[bold]{escape(result.assignment)}[/] · {escape(neutralise(result.submission, 200))}")
    if result.status == "error":
        out.print(f"[bold red]✗ {t('report.error_title')}[/]: {escape(neutralise(result.message))}")
        out.print(f"[bold]{t('report.score')}: 0/{result.max_score:g}[/]")
        return
    if result.run.sandbox != "bwrap":
        out.print(f"[yellow]{t('report.sandbox_weak')}[/]")
    if result.run.message:
        out.print(f"[yellow]{escape(neutralise(result.run.message))}[/]")
    for chk in result.checks:
        icon, colour = STYLE[chk.status]
        out.print(
            f"[{colour}]{icon}[/] {escape(chk.title)} "
            f"[dim]({chk.score:g}/{chk.max_score:g})[/]"
        )
        if chk.status != "passed" or chk.message:
            if chk.message:
                out.print(f"    {escape(neutralise(chk.message))}")
            if chk.expected is not None or chk.actual is not None:
                out.print(f"    [dim]{t('report.expected')}:[/] {_short(chk.expected)}")
                out.print(f"    [dim]{t('report.actual')}:[/] {_short(chk.actual)}")
            if chk.hint:
                out.print(f"    [cyan]{t('report.hint')}:[/] {escape(neutralise(chk.hint))}")
    if result.mode == "check":
        out.print(f"[dim]{t('report.hidden_note')}[/]")
    total = f"[bold]{t('report.score')}: {result.score:g}/{result.max_score:g}[/]"
    if result.manual_pending:
        total += f" · {t('report.manual_pending', points=f'{result.manual_pending:g}')}"
    out.print(total)
