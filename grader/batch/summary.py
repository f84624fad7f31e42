"""The cohort summary: one self-contained HTML page for the instructor.

Score distribution and runtime distribution (PNG plots embedded), pass rate per
check, every run that did not end normally with its cause, manual items pending,
problems of the class list, and suspicious similarity pairs.
"""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path
from typing import Any

import pandas as pd

from ..report.html import render_page
from .classlist import ClassList


def _plot(values: list[float], xlabel: str, bins: int = 10) -> str:
    """A histogram as a ``data:`` URI (Agg backend: no display needed)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6, 3), dpi=100)
    ax = fig.subplots()
    ax.hist(values or [0], bins=bins, color="#4c72b0", edgecolor="white")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("students")
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def build(results: dict[str, dict[str, Any]], frame: pd.DataFrame, classlist: ClassList,
          sources: dict[str, str], similar: list[dict[str, Any]]) -> dict[str, Any]:
    graded = [r for r in results.values() if r["status"] == "graded"]
    checks: dict[str, dict[str, Any]] = {}
    for r in graded:
        for c in r["checks"]:
            row = checks.setdefault(c["id"], {"id": c["id"], "title": c["title"], "points": c["max_score"],
                                              "passed": 0, "failed": 0, "error": 0, "skipped": 0})
            row[c["status"]] += 1
    for row in checks.values():
        total = sum(row[s] for s in ("passed", "failed", "error", "skipped"))
        row["rate"] = round(100 * row["passed"] / total, 1) if total else 0.0
    problems = [
        {"key": k, "status": r["status"], "exit": r["run"]["exit"],
         "cause": r.get("message") or r["run"].get("message") or "",
         "seconds": round(r["run"]["seconds"], 1), "peak_mb": round(r["run"].get("peak_memory_mb", 0))}
        for k, r in sorted(results.items())
        if r["status"] != "graded" or r["run"]["exit"] != "ok"
    ]
    grader_errors = [
        {"key": k, "check": c["id"], "message": c["message"]}
        for k, r in sorted(results.items()) for c in r.get("checks", []) if c["status"] == "error"
    ]
    pending: dict[str, dict[str, Any]] = {}
    for r in results.values():
        for m in r.get("manual", []):
            row = pending.setdefault(m["id"], {"id": m["id"], "title": m["title"], "pending": 0,
                                              "scored": 0})
            row["pending" if m.get("score") is None else "scored"] += 1
    scores = [float(x) for x in frame.loc[frame["status"] != "missing", "percent"].dropna()]
    runtimes = [r["run"]["seconds"] for r in results.values() if r["status"] == "graded"]
    counts = {s: sum(1 for h in sources.values() if h == s) for s in ("graded", "cached", "regraded")}
    return {
        "assignment": next(iter(results.values()))["assignment"] if results else "",
        "n": len(results), "graded": len(graded),
        "mean": round(sum(scores) / len(scores), 1) if scores else 0.0,
        "median": float(pd.Series(scores).median()) if scores else 0.0,
        "score_plot": _plot(scores, "score (%)"),
        "runtime_plot": _plot(runtimes, "runtime (s)"),
        "checks": list(checks.values()),
        "problems": problems,
        "grader_errors": grader_errors,
        "pending": list(pending.values()),
        "classlist": classlist.to_dict(),
        "similar": similar,
        "counts": counts,
    }


def write(context: dict[str, Any], folder: Path) -> None:
    (folder / "summary.html").write_text(render_page("summary.html.j2", s=context), encoding="utf-8")
    plain = {k: v for k, v in context.items() if not k.endswith("_plot")}
    (folder / "summary.json").write_text(json.dumps(plain, ensure_ascii=False, indent=2, default=str),
                                         encoding="utf-8")
