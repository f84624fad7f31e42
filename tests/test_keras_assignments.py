"""keras-mnist and fashion-mnist graded on the real data (``../shared/data``).

Only the two references train fully; every faulty fixture either fails before
training or trains on a 2,000-image subset, so the file stays a few minutes long.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from conftest import ROOT, SUBMISSIONS, failing, grade_path, run_cli

pytest.importorskip("tensorflow")
DATA = Path(os.environ.get("DLGRADE_DATA") or ROOT.parent / "shared" / "data")
if not (DATA / "mnist.npz").is_file():
    pytest.skip(f"no MNIST in {DATA} (set DLGRADE_DATA)", allow_module_level=True)
os.environ["DLGRADE_DATA"] = str(DATA)

MNIST_DEPENDANTS = {"precision_prueba", "evaluacion_registrada"}


_graded: dict[tuple[str, str, str | None], object] = {}


def graded(assignment, name, lang=None):
    """Grade a fixture once per test session (the parametrized and message tests share it)."""
    key = (assignment, name, lang)
    if key not in _graded:
        _graded[key] = grade_path(assignment, SUBMISSIONS / assignment / f"{name}.ipynb", lang=lang)
    return _graded[key]


def codes(result):
    return {c.id: c.code for c in result.checks if c.status == "failed"}


@pytest.fixture(scope="module")
def mnist_reference():
    return grade_path("keras-mnist", ROOT / "reference/keras-mnist/keras_mnist.ipynb")


def test_mnist_reference_full_marks(mnist_reference):
    result = mnist_reference
    assert failing(result) == set(), [(c.id, c.message) for c in result.checks]
    assert result.score == result.max_score == 100
    accuracy = next(c for c in result.checks if c.id == "precision_prueba")
    assert accuracy.code == "keras.accuracy.ok"
    assert sorted(result.images) == ["curvas_entrenamiento.png", "mal_clasificadas.png",
                                     "matriz_confusion.png"]
    assert all(png.startswith(b"\x89PNG") for png in result.image_data.values())
    assert result.run.device.startswith(("cpu", "gpu"))
    assert [m.id for m in result.manual] == ["ejercicios"] and result.manual[0].text
    assert result.environment["seeds"]["tensorflow"] == 0


def test_mnist_report_writes_and_embeds_pictures(mnist_reference, tmp_path):
    from grader import report, resolve

    report.write(mnist_reference, tmp_path, ["json", "md"], resolve("keras-mnist").messages("es"))
    markdown = (tmp_path / "feedback.md").read_text(encoding="utf-8")
    for name in mnist_reference.images:
        assert (tmp_path / name).read_bytes().startswith(b"\x89PNG")
        assert f"]({name})" in markdown
    assert "image_data" not in (tmp_path / "result.json").read_text(encoding="utf-8")


CASES = {
    "wrong_hidden_units": ({"arquitectura": "keras.arch.layer", "parametros": "keras.params.units"},
                           MNIST_DEPENDANTS),
    "no_scaling": ({"datos_preprocesados": "keras.prep.range"}, MNIST_DEPENDANTS),
    "sigmoid_output": ({"arquitectura": "keras.arch.layer",
                        "salida_probabilidades": "keras.probs.not_distribution"}, MNIST_DEPENDANTS),
    "categorical_integer_labels": ({"compilacion": "keras.compile.onehot",
                                    "entrenamiento": "keras.history.epochs"}, MNIST_DEPENDANTS),
    "epochs_zero": ({"entrenamiento": "keras.history.epochs"}, MNIST_DEPENDANTS),
    "never_fits": ({"entrenamiento": "keras.history.not_fitted"}, MNIST_DEPENDANTS),
    "lambda_layer": ({"datos_preprocesados": "keras.prep.range", "arquitectura": "keras.arch.layer",
                      "parametros": "keras.params.count", "modelo_exportable": "keras.export.unsafe"},
                     MNIST_DEPENDANTS | {"prediccion_digito"}),
    "misnamed_model": ({"modelo_definido": "keras.model.other_name"},
                       {"arquitectura", "parametros", "salida_probabilidades", "compilacion",
                        "entrenamiento", "modelo_exportable", "prediccion_digito"} | MNIST_DEPENDANTS),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_mnist_faulty_fixture(name):
    failed, skipped = CASES[name]
    result = graded("keras-mnist", name, "en" if name == "wrong_hidden_units" else None)
    assert codes(result) == failed, [(c.id, c.status, c.message) for c in result.checks]
    assert {c.id for c in result.checks if c.status == "skipped"} == skipped
    assert not [c for c in result.checks if c.status == "error"]
    for chk in result.checks:
        if chk.status == "failed":
            assert "{" not in chk.message, chk.message  # every placeholder filled


def test_mnist_messages_name_the_difference():
    result = graded("keras-mnist", "wrong_hidden_units", "en")
    arch = next(c for c in result.checks if c.id == "arquitectura")
    assert arch.message == "layer 1: Dense(128, relu); expected Dense(512, relu)."
    params = next(c for c in result.checks if c.id == "parametros")
    assert "128 units instead of 512" in params.message and "101,770" in params.message


def test_mnist_template_scores_zero():
    result = grade_path("keras-mnist", ROOT / "assignments/keras-mnist/keras_mnist.ipynb")
    assert result.status == "graded" and result.score == 0
    assert codes(result) == {"datos_preprocesados": "keras.prep.shape",
                             "modelo_definido": "keras.model.missing"}


def test_fashion_reference_full_marks():
    result = grade_path("fashion-mnist",
                        ROOT / "reference/fashion-mnist/taller3_fashion_mnist.ipynb")
    assert failing(result) == set(), [(c.id, c.message) for c in result.checks]
    assert result.score == result.max_score == 100
    assert len(result.images) == 3
    assert [m.id for m in result.manual] == [f"pregunta_{i}" for i in range(1, 6)]
    assert sum(m.points for m in result.manual) == 20


def test_fashion_truncated_models_fail():
    result = graded("fashion-mnist", "truncated_model")
    assert codes(result) == {
        "arquitectura": "keras.arch.count", "parametros": "keras.params.count",
        "salida_probabilidades": "keras.probs.shape", "modelo_500": "keras.arch.layer",
    }
    assert {c.id for c in result.checks if c.status == "skipped"} == {"precision_prueba"}


def test_fashion_template_scores_zero():
    result = grade_path("fashion-mnist", ROOT / "assignments/fashion-mnist/taller3_fashion_mnist.ipynb")
    assert result.status == "graded" and result.score == 0


def test_data_status_and_missing_data(tmp_path):
    done = run_cli("data", "status", "--data-dir", str(DATA))
    assert done.returncode == 0 and "sha256 verified" in done.stdout
    done = run_cli("data", "status", "--data-dir", str(tmp_path))
    assert done.returncode == 1 and "mnist.npz is not in" in done.stdout


def test_corrupt_data_is_refused(tmp_path, monkeypatch):
    from grader import data

    (tmp_path / "mnist.npz").write_bytes(b"not the data")
    monkeypatch.setenv("DLGRADE_DATA", str(tmp_path))
    with pytest.raises(data.DataUnavailable, match="SHA-256"):
        data.locate("mnist")
