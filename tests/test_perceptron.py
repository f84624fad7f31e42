"""The perceptron assignment end to end: reference, template and every fixture."""

from __future__ import annotations

import pytest
from conftest import ROOT, SUBMISSIONS, failing, grade_path

from grader import resolve

FIXTURES = SUBMISSIONS / "perceptron"
REFERENCE = ROOT / "reference" / "perceptron" / "perceptron.ipynb"
TEMPLATE = ROOT / "assignments" / "perceptron" / "perceptron.ipynb"
HIDDEN = {"producto_aleatorio", "activaciones_aleatorias", "aprobacion_oculta"}


def test_reference_gets_every_automatic_point() -> None:
    result = grade_path("perceptron", REFERENCE)
    assert result.status == "graded"
    assert failing(result) == set()
    assert (result.score, result.max_score) == (90, 90)
    assert result.run.exit == "ok" and result.run.cell_errors == []
    (item,) = result.manual
    assert item.id == "xor_explicacion" and item.points == 10 and item.score is None
    assert "linealmente" in item.text or "recta" in item.text


def test_points_add_up_to_one_hundred() -> None:
    assert resolve("perceptron").points() == (90, 10)


def test_template_scores_zero_without_crashing() -> None:
    result = grade_path("perceptron", TEMPLATE)
    assert result.status == "graded"
    assert result.score == 0
    assert result.run.exit == "ok"
    assert {c.status for c in result.checks} <= {"failed", "skipped"}
    raised = [c for c in result.checks if c.code == "artifact.raised"]
    assert raised and all("NotImplementedError" in c.message for c in raised)
    assert result.manual[0].text == ""


def test_self_check_runs_public_checks_only() -> None:
    result = grade_path("perceptron", REFERENCE, hidden=False)
    assert result.mode == "check"
    ids = {c.id for c in result.checks}
    assert ids and not ids & HIDDEN
    assert all(c.visibility == "public" for c in result.checks)
    assert result.score == result.max_score == 65


@pytest.mark.parametrize(
    ("fixture", "expected_failures", "code"),
    [
        ("xor_claims_perfect", {"xor_registrado"}, "xor.claims_perfect"),
        ("no_bias", {"perceptron_and", "perceptron_or", "aprobacion_entrenamiento",
                     "aprobacion_oculta"}, "perceptron.gate_wrong"),
        ("sigmoid_overflow", {"activaciones_estables"}, "functions_raised"),
        ("uses_sklearn", {"sin_frameworks"}, "static.forbidden"),
        ("uses_matmul_operator", {"producto_a_mano"}, "mm.uses_library"),
        ("step_strict", {"activaciones_puntos"}, "functions_wrong"),
    ],
)
def test_fixture_fails_exactly_what_it_should(fixture: str, expected_failures: set[str],
                                              code: str) -> None:
    result = grade_path("perceptron", FIXTURES / f"{fixture}.ipynb")
    assert result.status == "graded"
    assert failing(result) == expected_failures
    first = next(c for c in result.checks if c.id in expected_failures)
    assert first.code == code
    assert first.message and "{" not in first.message


def test_partial_credit_for_partly_right_activations() -> None:
    result = grade_path("perceptron", FIXTURES / "step_strict.ipynb")
    check = next(c for c in result.checks if c.id == "activaciones_puntos")
    assert 0 < check.score < check.max_score
    assert check.hint and "x ≥ 0" in check.hint


def test_xor_message_says_why_in_both_languages() -> None:
    es = grade_path("perceptron", FIXTURES / "xor_claims_perfect.ipynb", lang="es")
    en = grade_path("perceptron", FIXTURES / "xor_claims_perfect.ipynb", lang="en")
    pick = {r.lang: next(c for c in r.checks if c.id == "xor_registrado") for r in (es, en)}
    assert "linealmente separable" in (pick["es"].hint or "")
    assert "linearly separable" in (pick["en"].hint or "")
    assert "0.5" in pick["es"].message


def test_corrupt_notebook_gets_a_clear_result() -> None:
    result = grade_path("perceptron", FIXTURES / "corrupt.ipynb")
    assert result.status == "error"
    assert result.score == 0 and result.max_score == 90
    assert result.run.exit == "invalid"
    assert "JSON" in result.message and "línea" in result.message


def test_python_script_submission_is_graded_like_a_notebook() -> None:
    result = grade_path("perceptron", FIXTURES / "reference_as_script.py")
    assert result.status == "graded"
    assert failing(result) == set()


def test_result_records_environment_and_seed() -> None:
    result = grade_path("perceptron", REFERENCE, seed=3)
    assert result.environment["seeds"]["numpy"] == 3
    assert result.environment["packages"]["numpy"]
    assert result.run.sandbox in ("bwrap", "subprocess")
    assert len(result.submission_sha256) == 64


def test_a_kernel_that_cannot_start_is_the_graders_fault(monkeypatch: pytest.MonkeyPatch) -> None:
    from grader.pipeline import grader_failed
    from grader.sandbox import Sandbox

    monkeypatch.setattr(Sandbox, "command", lambda self, argv, **kw: ["false"])
    result = grade_path("perceptron", REFERENCE)
    assert result.status == "error" and grader_failed(result)
    assert {c.status for c in result.checks} == {"error"}
    assert "no es culpa de la entrega" in result.message


def test_manual_points_count_once_scored() -> None:
    result = grade_path("perceptron", REFERENCE)
    result.score_manual({"xor_explicacion": 8})
    assert (result.score, result.max_score) == (98, 100)
    assert result.manual_pending == 0
