"""The pytorch-backprop assignment end to end: the reference, the template and one-bug fixtures.

Each fixture is the reference with a single mistake a student makes; its test names
exactly the checks that must fail and the message each one gives.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import nbformat
import numpy as np
import pytest
from conftest import SUBMISSIONS, grade_path

from grader import Result, resolve
from grader.assignment import load_module
from grader.checks import Context
from grader.schema import RunInfo

ASSIGNMENT = "pytorch-backprop"
FIXTURES = SUBMISSIONS / ASSIGNMENT
REFERENCE = Path(__file__).resolve().parent.parent / "reference" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"


@cache
def graded(name: str) -> Result:
    path = REFERENCE if name == "reference" else FIXTURES / f"{name}.ipynb"
    return grade_path(ASSIGNMENT, path)


def not_passed(result: Result) -> dict[str, str | None]:
    return {c.id: c.code for c in result.checks if c.status != "passed"}


def test_reference_gets_full_marks() -> None:
    result = graded("reference")
    assert not_passed(result) == {}
    assert result.score == result.max_score == 100
    assert result.run.exit == "ok" and not result.run.cell_errors


def test_result_records_seeds_versions_and_device() -> None:
    result = graded("reference")
    assert result.environment["seeds"] == {"python": 0, "numpy": 0, "torch": 0}
    assert result.environment["packages"]["torch"].startswith("2.")
    assert result.run.device == "cpu"


def test_template_scores_zero_without_grader_errors() -> None:
    result = graded("plantilla")
    assert result.status == "graded" and result.score == 0
    assert {c.status for c in result.checks} <= {"failed", "skipped"}


@pytest.mark.parametrize(("fixture", "expected"), [
    ("sin_zero_grad", {"higiene_gradientes": "higiene.accumulates", "curva_perdida": "perdida.sube",
                       "precision_prueba": "precision.baja"}),
    ("salida_2_clases", {"arquitectura": "dl.params.outputs", "forma_salida": "salida.forma",
                         "curva_perdida": "artifact.raised", "precision_prueba": "check.skipped"}),
    ("softmax_antes_de_ce", {"sin_softmax": "softmax.antes_de_ce", "curva_perdida": "perdida.alta"}),
    ("tasa_10", {"curva_perdida": "perdida.explota", "precision_prueba": "precision.baja"}),
    ("sin_backward", {"higiene_gradientes": "higiene.frozen_no_grad", "curva_perdida": "perdida.no_baja",
                      "precision_prueba": "precision.baja"}),
    ("gradiente_signo_b1", {"gradientes_curso": "grad.valor", "gradientes_numericos": "numerico.valor",
                            "gradientes_aleatorios": "grad.valor"}),
])
def test_fixture_fails_exactly(fixture: str, expected: dict[str, str]) -> None:
    assert not_passed(graded(fixture)) == expected


def test_messages_explain_the_mistake() -> None:
    checks = {c.id: c for c in graded("salida_2_clases").checks}
    assert "20" in checks["arquitectura"].message and "30" in checks["arquitectura"].message
    assert "141" in checks["arquitectura"].message and "151" in checks["arquitectura"].message
    softmax = {c.id: c for c in graded("softmax_antes_de_ce").checks}
    assert "softmax" in (softmax["curva_perdida"].hint or "")
    signs = {c.id: c for c in graded("gradiente_signo_b1").checks}
    assert "signo" in (signs["gradientes_curso"].hint or "")
    diverged = {c.id: c for c in graded("tasa_10").checks}["curva_perdida"]
    assert "divergió" in diverged.message and "NaN" in (diverged.hint or "")


def test_english_self_check_runs_public_checks_only() -> None:
    result = grade_path(ASSIGNMENT, FIXTURES / "softmax_antes_de_ce.ipynb", hidden=False, lang="en")
    assert all(c.visibility == "public" for c in result.checks)
    failing = {c.id: c for c in result.checks if c.status != "passed"}
    assert set(failing) == {"sin_softmax", "curva_perdida"}
    assert "logits" in failing["sin_softmax"].message


def static_context(cells: list[str]) -> Context:
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    return Context(artifacts=None, inputs={}, source="\n\n".join(cells), notebook=nb,  # type: ignore[arg-type]
                   run=RunInfo(), hidden_dir=None)


def test_static_check_follows_aliases_and_helpers() -> None:
    checks = load_module(resolve(ASSIGNMENT).root / "checks.py")
    uses = checks.part1_torch_uses(static_context([
        "import torch as T\nfrom torch import autograd",
        "def ayuda(v):\n    return T.tensor(v)",
        "def gradientes(red, x, y):\n    return ayuda(x)",
        "def adelante(red, x):\n    return x, x",
    ]))
    assert uses == ["ayuda: T"]
    clean = checks.part1_torch_uses(static_context([
        "import numpy as np\nimport torch",
        "def adelante(red, x):\n    return x @ red['W1'], x",
        "modelo = torch.nn.Linear(4, 3)",
        "%matplotlib inline",
    ]))
    assert clean == []


def test_held_out_rows_are_the_templates_split() -> None:
    sklearn = pytest.importorskip("sklearn.model_selection")
    from sklearn.datasets import load_iris

    checks = load_module(resolve(ASSIGNMENT).root / "checks.py")
    iris = load_iris()
    _, X_test, _, y_test = sklearn.train_test_split(
        iris.data, iris.target, test_size=0.2, random_state=41, stratify=iris.target)
    X, y = checks.test_split()
    assert np.allclose(X, X_test) and (y == y_test).all()


def test_grading_is_deterministic_on_cpu() -> None:
    again = grade_path(ASSIGNMENT, REFERENCE)
    first = {c.id: c.message for c in graded("reference").checks}
    assert {c.id: c.message for c in again.checks} == first
    assert "0.038" in first["curva_perdida"]
