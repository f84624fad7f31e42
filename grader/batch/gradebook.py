"""The gradebook (one row per student) and its LMS import files, built with pandas.

``gradebook.csv`` columns: ``student_id`` and roster details, ``status``
(graded | error | missing), ``exit`` (how the run ended), ``raw_score``
(automatic + scored manual points), ``score`` (same; no late penalty is applied),
``max_score``, ``auto_score``, ``manual_score``, ``manual_pending``, ``percent``,
``runtime_s``, ``source`` (graded | cached | regraded), ``duplicate``, ``sha256``,
then one column per check (``check:<id>``) and per manual item (``manual:<id>``).
The score column names follow nbgrader's ``grades.csv``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from .classlist import ClassList, Entry


def rows(results: dict[str, dict[str, Any]], classlist: ClassList, sources: dict[str, str],
         points: tuple[float, float]) -> pd.DataFrame:
    """``points``: the assignment's (automatic, manual) points, the same maximum for every row."""
    max_score = points[0] + points[1]
    records: list[dict[str, Any]] = []
    by_key: dict[str, Entry] = {e.key: e for e in classlist.entries}
    for key, r in sorted(results.items()):
        entry = by_key.get(key)
        roster = entry.roster if entry else {}
        manual_scored = sum(m["score"] for m in r.get("manual", []) if m.get("score") is not None)
        rec: dict[str, Any] = {
            "student_id": entry.student if entry else key,
            "name": roster.get("name", ""),
            "email": roster.get("email", ""),
            "submission": r["submission"],
            "status": r["status"],
            "exit": r["run"]["exit"],
            "raw_score": round(r["score"] + manual_scored, 2),
            "score": round(r["score"] + manual_scored, 2),
            "max_score": max_score,
            "auto_score": r["score"],
            "manual_score": manual_scored,
            "manual_pending": sum(m["points"] for m in r.get("manual", []) if m.get("score") is None)
            if r["status"] == "graded" else points[1],
            "percent": round(100 * (r["score"] + manual_scored) / max_score, 1) if max_score else 0.0,
            "runtime_s": round(r["run"]["seconds"], 2),
            "source": sources.get(key, "graded"),
            "duplicate": bool(entry and entry.duplicate),
            "sha256": r["submission_sha256"],
            "key": key,
        }
        for c in r.get("checks", []):
            rec[f"check:{c['id']}"] = c["score"]
        for m in r.get("manual", []):
            rec[f"manual:{m['id']}"] = m.get("score")
        records.append(rec)
    for row in classlist.missing:
        records.append({"student_id": row.get("student", ""), "name": row.get("name", ""),
                        "email": row.get("email", ""), "status": "missing", "raw_score": 0.0,
                        "score": 0.0, "max_score": max_score, "percent": 0.0, "key": ""})
    return pd.DataFrame.from_records(records)


def write_gradebook(frame: pd.DataFrame, path: Path) -> None:
    frame.drop(columns=["key"], errors="ignore").to_csv(path, index=False)


def _roster_col(frame: pd.DataFrame, classlist: ClassList, field: str) -> list[str]:
    by_student = {e.student: e.roster for e in classlist.entries}
    by_student.update({r.get("student", ""): r for r in classlist.missing})
    return [by_student.get(s, {}).get(field, "") for s in frame["student_id"]]


def _for_lms(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per student: of duplicate claims, the best-scoring one (all are in the gradebook)."""
    return frame.sort_values("score", ascending=False).drop_duplicates("student_id").sort_values(
        "student_id")


def write_canvas(frame: pd.DataFrame, classlist: ClassList, title: str, assignment_id: str,
                 path: Path) -> None:
    """Canvas gradebook import: Student, ID, SIS User ID, SIS Login ID, Section, "Title (id)"."""
    best = _for_lms(frame)
    column = f"{title} ({assignment_id})" if assignment_id else title
    out = pd.DataFrame({
        "Student": [n or s for n, s in zip(best["name"].fillna(""), best["student_id"], strict=True)],
        "ID": _roster_col(best, classlist, "canvas_id"),
        "SIS User ID": _roster_col(best, classlist, "sis_id"),
        "SIS Login ID": [r or s for r, s in zip(_roster_col(best, classlist, "username"),
                                                best["student_id"], strict=True)],
        "Section": _roster_col(best, classlist, "section"),
        column: best["score"].to_numpy(),
    })
    possible = {c: "" for c in out.columns}
    possible["Student"] = "Points Possible"
    possible[column] = str(frame["max_score"].dropna().max() if "max_score" in frame else "")
    pd.concat([pd.DataFrame([possible]), out]).to_csv(path, index=False)


def write_moodle(frame: pd.DataFrame, classlist: ClassList, path: Path) -> None:
    """Moodle grade import: map ``username`` (or ``email``) to the user; ``grade`` is the value."""
    best = _for_lms(frame)
    emails = _roster_col(best, classlist, "email")
    out = pd.DataFrame({
        "username": [r or s for r, s in zip(_roster_col(best, classlist, "username"),
                                            best["student_id"], strict=True)],
        "email": emails,
        "fullname": best["name"].fillna("").to_numpy(),
        "grade": best["score"].to_numpy(),
    })
    out.to_csv(path, index=False)


def write_nbgrader(frame: pd.DataFrame, assignment: str, path: Path) -> None:
    """nbgrader's ``grades.csv`` columns, for tools that already read them (no late penalty)."""
    best = _for_lms(frame)
    names = best["name"].fillna("").astype(str)
    out = pd.DataFrame({
        "assignment": assignment, "duedate": "", "timestamp": "",
        "student_id": best["student_id"].to_numpy(),
        "last_name": [n.split(" ", 1)[1] if " " in n else "" for n in names],
        "first_name": [n.split(" ", 1)[0] for n in names],
        "email": best["email"].fillna("").to_numpy(),
        "raw_score": best["raw_score"].to_numpy(), "late_submission_penalty": 0.0,
        "score": best["score"].to_numpy(), "max_score": best["max_score"].to_numpy(),
    })
    out.to_csv(path, index=False)
