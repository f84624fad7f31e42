"""Checks of the keras-mnist assignment, built from the shared Keras blocks.

The test accuracy is measured by the grader: the exported model is loaded in a
fresh sandbox (safe mode) and predicts the test images; the labels never leave
this process.
"""

from __future__ import annotations

import numpy as np

from grader import Context, Note, check
from grader.dl import keras_checks as kc
from grader.dl.pictures import classifier_pictures, picture_labels

ARCHITECTURE = [kc.dense(512, "relu"), kc.dense(10, "softmax")]
INPUT_SIZE = 784
EPOCHS = 5
THRESHOLD = 0.97
DIGITS = [str(d) for d in range(10)]


def inputs(rng: np.random.Generator) -> dict[str, np.ndarray]:
    return {"probe_x": rng.uniform(0, 1, (16, 28, 28)).astype("float32")}


@check(points=10)
def datos_preprocesados(ctx: Context) -> None:
    kc.check_preprocessed(ctx, "prep:x_train", (60000, INPUT_SIZE))
    kc.check_preprocessed(ctx, "prep:x_test", (10000, INPUT_SIZE))


@check(points=5)
def modelo_definido(ctx: Context) -> None:
    kc.check_model_present(ctx, "model")


@check(points=15, requires=["modelo_definido"])
def arquitectura(ctx: Context) -> None:
    kc.check_architecture(ctx, ARCHITECTURE)


@check(points=10, requires=["modelo_definido"])
def parametros(ctx: Context) -> None:
    kc.check_parameters(ctx, ARCHITECTURE, INPUT_SIZE)


@check(points=5, requires=["modelo_definido"])
def salida_probabilidades(ctx: Context) -> None:
    kc.check_probabilities(ctx)


@check(points=10, requires=["modelo_definido"])
def compilacion(ctx: Context) -> None:
    kc.check_compile(ctx, optimizer="adam", loss="sparse_categorical_crossentropy")


@check(points=10, requires=["modelo_definido"])
def entrenamiento(ctx: Context) -> Note | None:
    return kc.check_history(ctx, EPOCHS)


@check(points=5, requires=["modelo_definido"])
def modelo_exportable(ctx: Context) -> None:
    kc.evaluate_model(ctx, kc.test_split("mnist")[0])


@check(points=20, requires=["datos_preprocesados", "arquitectura", "entrenamiento",
                            "modelo_exportable"])
def precision_prueba(ctx: Context) -> Note:
    x_test, y_test = kc.test_split("mnist")
    return kc.check_accuracy(ctx, x_test, y_test, THRESHOLD)


@check(points=5, requires=["precision_prueba"])
def evaluacion_registrada(ctx: Context) -> None:
    measured = ctx.state["keras_accuracy"]
    reported = ctx.artifacts.value("test_acc")
    if not isinstance(reported, (int, float)) or abs(reported - measured) > 0.01:
        raise kc.failure("evaluacion.distinta", actual=reported, expected=round(measured, 4),
                         hint="evaluacion.hint")


@check(points=5, requires=["modelo_exportable"])
def prediccion_digito(ctx: Context) -> None:
    want = int(np.argmax(ctx.state["keras_pred"][0]))
    got = ctx.artifacts.value("digito_predicho")
    if got != want:
        raise kc.failure("prediccion.distinta", actual=got, expected=want,
                         hint="prediccion.hint")


def pictures(ctx: Context) -> dict[str, bytes]:
    x_test, y_test = kc.test_split("mnist")
    return classifier_pictures(ctx, x_test, y_test, DIGITS, picture_labels(ctx))
