"""Manual review: export pending written answers, import the instructor's scores.

``dlgrade review export OUT`` writes ``OUT/review.csv`` (and ``review.html`` to read
comfortably): one row per student and manual item with the student's text and an
empty ``score`` column. The instructor fills in scores and runs
``dlgrade review import OUT review.csv``: scores are validated (a number between 0
and the item's points), saved to ``OUT/review_scores.csv``, and the gradebook,
feedback and summary are rebuilt with them merged.
"""

from __future__ import annotations

import csv
import dataclasses
from pathlib import Path
from typing import Any

from ..errors import UsageError
from ..report.html import render_page
from ..schema import Result

SCORES = "review_scores.csv"


def load_scores(out: Path) -> dict[str, dict[str, float]]:
    path = out / SCORES
    found: dict[str, dict[str, float]] = {}
    if path.is_file():
        with path.open(newline="", encoding="utf-8") as fh:
            for row in csv.DictReader(fh):
                found.setdefault(row["key"], {})[row["item"]] = float(row["score"])
    return found


def apply_scores(result: Result, scores: dict[str, float]) -> Result:
    if not scores:
        return result
    manual = [dataclasses.replace(m, score=scores.get(m.id, m.score)) for m in result.manual]
    return dataclasses.replace(result, manual=manual)


def export_sheet(out: Path, results: dict[str, dict[str, Any]], students: dict[str, str]) -> Path:
    rows = []
    scores = load_scores(out)
    for key, r in sorted(results.items()):
        for m in r.get("manual", []):
            score = scores.get(key, {}).get(m["id"], m.get("score"))
            rows.append({"key": key, "student": students.get(key, key), "item": m["id"],
                         "title": m["title"], "points": m["points"],
                         "score": "" if score is None else score, "text": m["text"]})
    path = out / "review.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=["key", "student", "item", "title", "points", "score", "text"])
        writer.writeheader()
        writer.writerows(rows)
    (out / "review.html").write_text(render_page("review.html.j2", rows=rows), encoding="utf-8")
    return path


def import_sheet(out: Path, sheet: Path, results: dict[str, dict[str, Any]]) -> int:
    """Validate and store the scores of a filled-in sheet; returns how many were stored."""
    points = {(k, m["id"]): float(m["points"]) for k, r in results.items() for m in r.get("manual", [])}
    merged = load_scores(out)
    stored = 0
    try:
        with sheet.open(newline="", encoding="utf-8-sig") as fh:
            rows = list(csv.DictReader(fh))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise UsageError(f"review sheet {sheet}: cannot read it ({exc}).") from exc
    for n, row in enumerate(rows, 2):
        text = (row.get("score") or "").strip()
        if not text:
            continue
        where = (row.get("key", ""), row.get("item", ""))
        if where not in points:
            raise UsageError(f"{sheet} line {n}: no manual item {where[1]!r} for {where[0]!r}.")
        try:
            value = float(text.replace(",", "."))
        except ValueError:
            raise UsageError(f"{sheet} line {n}: score {text!r} is not a number.") from None
        if not 0 <= value <= points[where]:
            raise UsageError(f"{sheet} line {n}: score {value:g} is outside 0..{points[where]:g}.")
        merged.setdefault(where[0], {})[where[1]] = value
        stored += 1
    with (out / SCORES).open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["key", "item", "score"])
        for key, items in sorted(merged.items()):
            for item, value in sorted(items.items()):
                writer.writerow([key, item, value])
    return stored


