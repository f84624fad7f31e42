"""`dlgrade new`: a scaffolded assignment is gradable end to end, bundle and Classroom included."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest
from classroom_sim import run_workflow
from conftest import load_result, run_cli

from grader.assignment import resolve
from grader.authoring import build_bundle, create, find_leaks
from grader.errors import UsageError

OTHER_SOLUTION = "    return (x - np.mean(x)) / np.std(x)"


@pytest.fixture
def project(tmp_path: Path, monkeypatch) -> Path:
    """A fresh project folder that the CLI looks assignments up in."""
    monkeypatch.setenv("DLGRADE_ASSIGNMENTS", str(tmp_path / "assignments"))
    proc = run_cli("new", "demo-norm", "--root", str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    return tmp_path


STATEMENT = "Estandariza un vector: media 0, desviación 1."


def _fill(reference: Path) -> None:
    """The instructor writes the statement, and their own solution inside the markers."""
    nb = nbformat.read(reference, as_version=4)
    nb.cells[0].source = f"# Estandarizar\n\n{STATEMENT}"
    cell = next(c for c in nb.cells if "### BEGIN SOLUTION" in c.source)
    lines = cell.source.splitlines()
    start, end = lines.index("    ### BEGIN SOLUTION"), lines.index("    ### END SOLUTION")
    cell.source = "\n".join([*lines[: start + 1], OTHER_SOLUTION, *lines[end:]])
    nbformat.write(nb, reference)


def test_new_writes_every_piece(project: Path) -> None:
    folder = project / "assignments" / "demo-norm"
    for rel in ("assignment.toml", "messages.toml", "checks.py", "export.py", "hidden/checks.py",
                "statement.es.md", "statement.en.md", "demo-norm.ipynb"):
        assert (folder / rel).is_file(), rel
    assert (project / "reference" / "demo-norm" / "demo-norm.ipynb").is_file()
    assert (project / "tests" / "submissions" / "demo-norm").is_dir()
    listing = run_cli("list")
    assert listing.returncode == 0 and "demo-norm" in listing.stdout


def test_new_assignment_grades_end_to_end(project: Path, tmp_path: Path) -> None:
    reference = project / "reference" / "demo-norm" / "demo-norm.ipynb"
    template = project / "assignments" / "demo-norm" / "demo-norm.ipynb"
    _fill(reference)
    assert run_cli("template", "--check").returncode == 1  # the statement changed
    assert run_cli("template", "demo-norm").returncode == 0
    assert run_cli("template", "--check").returncode == 0
    assert OTHER_SOLUTION.strip() not in template.read_text(encoding="utf-8")
    assert STATEMENT in template.read_text(encoding="utf-8")

    out = tmp_path / "reports"
    proc = run_cli("grade", "demo-norm", str(reference), str(template), "--out", str(out),
                   "--allow-weak-sandbox")
    assert proc.returncode == 0, proc.stderr
    full, zero = load_result(out / "demo-norm"), load_result(out / "demo-norm-2")
    assert full["status"] == "graded" and full["score"] == full["max_score"] == 15
    assert {c["visibility"] for c in full["checks"]} == {"public", "hidden"}
    assert zero["status"] == "graded" and zero["score"] == 0
    assert all(c["status"] != "error" for c in full["checks"] + zero["checks"])
    assert run_cli("selftest", "demo-norm").returncode == 0


def test_new_assignment_becomes_a_classroom_repository(project: Path, tmp_path: Path) -> None:
    assignment = resolve("demo-norm")
    bundle = build_bundle(assignment, tmp_path / "repo")
    assert find_leaks(assignment, bundle) == []
    assert not (bundle / "hidden").exists()
    readme = (bundle / "README.md").read_text(encoding="utf-8")
    assert "estandarizar" in readme and "5 puntos" in readme  # statement, and the hidden points
    (bundle / "demo-norm.ipynb").write_bytes(assignment.reference_path.read_bytes())
    report = run_workflow(bundle, tmp_path)
    assert report.points == report.max_points == 10
    assert json.loads(json.dumps(report.runners["dlgrade"]))["status"] == "pass"


def test_new_refuses_bad_names_and_existing_assignments(project: Path) -> None:
    with pytest.raises(UsageError):
        create("Demo Norm", project)
    with pytest.raises(UsageError, match="already exists"):
        create("demo-norm", project)
    proc = run_cli("new", "../escape", "--root", str(project))
    assert proc.returncode == 2
