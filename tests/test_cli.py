"""The command line as users meet it: exit codes, files written, no tracebacks."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import ROOT, SUBMISSIONS, load_result, run_cli

REFERENCE = "reference/perceptron/perceptron.ipynb"
TEMPLATE = "assignments/perceptron/perceptron.ipynb"


def test_grade_writes_result_and_feedback(tmp_path: Path) -> None:
    done = run_cli("grade", "perceptron", REFERENCE, TEMPLATE, "--out", str(tmp_path))
    assert done.returncode == 0, done.stderr
    ref = load_result(tmp_path / "perceptron")
    assert ref["schema"] == "dlgrade.result/1"
    assert (ref["score"], ref["max_score"]) == (90, 90)
    assert ref["manual_pending_points"] == 10
    # two submissions share a stem: the second gets its own folder, nothing is overwritten
    tpl = load_result(tmp_path / "perceptron-2")
    assert tpl["score"] == 0 and tpl["status"] == "graded"
    feedback = (tmp_path / "perceptron" / "feedback.md").read_text(encoding="utf-8")
    assert "90/90" in feedback and "Pendiente de revisión" in feedback
    assert "Traceback" not in done.stdout + done.stderr
    assert "Puntuación: 90/90" in done.stdout


def test_result_has_every_schema_field(tmp_path: Path) -> None:
    run_cli("grade", "perceptron", REFERENCE, "--out", str(tmp_path), "--format", "json")
    data = load_result(tmp_path / "perceptron")
    for key in ("assignment", "submission", "submission_sha256", "status", "score", "max_score",
                "checks", "run", "environment", "lang", "manual"):
        assert key in data
    for key in ("id", "title", "status", "score", "max_score", "visibility", "message"):
        assert key in data["checks"][0]
    for key in ("seconds", "exit", "sandbox", "device"):
        assert key in data["run"]
    assert data["submission"] == REFERENCE
    assert not (tmp_path / "perceptron" / "feedback.md").exists()


def test_english_report(tmp_path: Path) -> None:
    done = run_cli("grade", "perceptron", TEMPLATE, "--out", str(tmp_path), "--lang", "en")
    assert done.returncode == 0
    assert "Score: 0/90" in done.stdout
    assert "Matrix product: the course example" in done.stdout
    assert load_result(tmp_path / "perceptron")["lang"] == "en"


def test_self_check_hides_hidden_checks() -> None:
    done = run_cli("check", "perceptron", REFERENCE)
    assert done.returncode == 0
    assert "65/65" in done.stdout
    assert "aleatori" not in done.stdout  # no hidden check title appears
    assert "pruebas ocultas" in done.stdout


def test_corrupt_notebook_is_a_result_not_a_crash(tmp_path: Path) -> None:
    corrupt = SUBMISSIONS / "perceptron" / "corrupt.ipynb"
    done = run_cli("grade", "perceptron", str(corrupt), "--out", str(tmp_path))
    assert done.returncode == 0
    data = load_result(tmp_path / "corrupt")
    assert data["status"] == "error" and data["run"]["exit"] == "invalid"
    assert "no es un cuaderno válido" in done.stdout
    assert "Traceback" not in done.stdout + done.stderr


def test_wrong_file_type_is_a_result(tmp_path: Path) -> None:
    bogus = tmp_path / "tarea.docx"
    bogus.write_bytes(b"PK\x03\x04 not a notebook")
    done = run_cli("grade", "perceptron", str(bogus), "--out", str(tmp_path / "out"))
    assert done.returncode == 0
    assert load_result(tmp_path / "out" / "tarea")["status"] == "error"


def test_usage_errors_exit_2_without_traceback(tmp_path: Path) -> None:
    unknown = run_cli("grade", "no-such-assignment", REFERENCE)
    assert unknown.returncode == 2
    assert "unknown assignment" in unknown.stderr and "perceptron" in unknown.stderr
    missing = run_cli("grade", "perceptron", str(tmp_path / "nope.ipynb"))
    assert missing.returncode == 2 and "does not exist" in missing.stderr
    bad_format = run_cli("grade", "perceptron", REFERENCE, "--format", "pdf")
    assert bad_format.returncode == 2
    for done in (unknown, missing, bad_format):
        assert "Traceback" not in done.stderr


def test_assignment_given_as_a_path(tmp_path: Path) -> None:
    done = run_cli("grade", str(ROOT / "assignments" / "perceptron"), TEMPLATE,
                   "--out", str(tmp_path), "--format", "json")
    assert done.returncode == 0
    assert json.loads((tmp_path / "perceptron" / "result.json").read_text())["score"] == 0


def test_list_shows_titles_and_points() -> None:
    done = run_cli("list")
    assert done.returncode == 0
    assert "perceptron" in done.stdout and "90 automatic + 10 manual" in done.stdout


def test_selftest_passes() -> None:
    done = run_cli("selftest", "perceptron")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "reference: 90/90" in done.stdout and "template: 0/90" in done.stdout


def test_committed_templates_are_fresh() -> None:
    done = run_cli("template", "--check")
    assert done.returncode == 0, done.stderr


def test_an_empty_class_folder_is_a_usage_error(tmp_path: Path) -> None:
    (tmp_path / "entregas").mkdir()
    done = run_cli("grade", "perceptron", str(tmp_path / "entregas"), "--out", str(tmp_path / "o"))
    assert done.returncode == 2
    assert "no submissions" in done.stderr and "Traceback" not in done.stderr
