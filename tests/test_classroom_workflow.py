"""The Classroom path end to end: bundle → the workflow's own steps → the reporter's points."""

from __future__ import annotations

import shutil
from pathlib import Path

import nbformat
import pytest
from classroom_sim import run_workflow
from conftest import grade_path

from grader.assignment import Assignment, all_assignments
from grader.authoring import build_bundle
from grader.authoring.bundle import template_text


def _params() -> list:
    return [pytest.param(a, id=a.name, marks=[pytest.mark.slow] if a.frameworks else [])
            for a in all_assignments()]


def _mixed(assignment: Assignment) -> str:
    """The reference's first half of cells with the template's second half: partial work."""
    ref = nbformat.reads(assignment.reference_path.read_text(encoding="utf-8"), as_version=4)
    tpl = nbformat.reads(template_text(assignment), as_version=4)
    half = len(ref.cells) // 2
    ref.cells = ref.cells[:half] + tpl.cells[half:]
    return nbformat.writes(ref)


def _classroom(assignment: Assignment, notebook_text: str, tmp_path: Path) -> tuple:
    bundle = build_bundle(assignment, tmp_path / "repo")
    (bundle / assignment.notebook).write_text(notebook_text, encoding="utf-8")
    submitted = tmp_path / assignment.notebook
    shutil.copy(bundle / assignment.notebook, submitted)
    report = run_workflow(bundle, tmp_path)
    checked = grade_path(str(assignment.root), submitted, hidden=False)
    return report, checked


@pytest.mark.parametrize("assignment", _params())
def test_reference_gets_every_public_point(assignment: Assignment, tmp_path: Path) -> None:
    text = assignment.reference_path.read_text(encoding="utf-8")
    report, checked = _classroom(assignment, text, tmp_path)
    data = report.runners["dlgrade"]
    assert report.max_points == checked.max_score > 0
    assert report.points == report.max_points, [t for t in data["tests"] if t["status"] != "pass"]
    assert data["status"] == "pass"
    assert [t["score"] for t in data["tests"]] == [c.score for c in checked.checks]
    assert data["dlgrade"]["submission_sha256"] == checked.submission_sha256
    # the instructor's grading gives the same points on the same public checks
    graded = grade_path(assignment.name, tmp_path / assignment.notebook, hidden=True)
    public = [c.score for c in graded.checks if c.visibility == "public"]
    assert public == [t["score"] for t in data["tests"]]


@pytest.mark.parametrize("assignment", _params())
def test_template_gets_zero(assignment: Assignment, tmp_path: Path) -> None:
    report, checked = _classroom(assignment, template_text(assignment), tmp_path)
    data = report.runners["dlgrade"]
    assert report.max_points == checked.max_score > 0
    assert report.points == 0
    assert data["status"] == "fail"
    assert len(data["tests"]) == len(checked.checks)
    assert all(t["status"] == "fail" for t in data["tests"])


@pytest.mark.parametrize("assignment", [a for a in _params() if not a.marks])
def test_partial_work_gets_the_same_partial_points(assignment: Assignment, tmp_path: Path) -> None:
    report, checked = _classroom(assignment, _mixed(assignment), tmp_path)
    assert 0 < report.points < report.max_points
    assert report.points == pytest.approx(checked.score)
    by_test = [t["score"] for t in report.runners["dlgrade"]["tests"]]
    assert by_test == [c.score for c in checked.checks]
    assert "submission sha256: " + checked.submission_sha256 in "".join(report.logs)


def test_a_broken_notebook_still_reports_zero_of_the_points(tmp_path: Path) -> None:
    assignment = next(a for a in all_assignments() if a.name == "perceptron")
    report, checked = _classroom(assignment, '{"cells": [', tmp_path)
    assert checked.status == "error"
    assert report.points == 0 and report.max_points == checked.max_score > 0
    tests = report.runners["dlgrade"]["tests"]
    assert len(tests) == 1 and tests[0]["status"] == "fail" and tests[0]["message"]
