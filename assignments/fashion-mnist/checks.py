"""Checks of the Fashion-MNIST workshop (Taller 3), built from the shared Keras blocks.

Test accuracy is measured by the grader on the exported model (safe mode, fresh
sandbox); the labels never leave this process.
"""

from __future__ import annotations

import numpy as np

from grader import Context, Note, check
from grader.dl import keras_checks as kc
from grader.dl.pictures import classifier_pictures, picture_labels

CLASS_NAMES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
               "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
ARCHITECTURE = [kc.FLATTEN, kc.dense(128, "relu"), kc.dense(10, "softmax")]
VARIANT_500 = [kc.FLATTEN, *[kc.dense(500, "relu")] * 3, kc.dense(10, "softmax")]
INPUT_SIZE = 28 * 28
EPOCHS = 10
THRESHOLD = 0.85


def inputs(rng: np.random.Generator) -> dict[str, np.ndarray]:
    return {"probe_x": rng.uniform(0, 1, (16, 28, 28)).astype("float32")}


@check(points=5)
def clases(ctx: Context) -> None:
    names = ctx.artifacts.value("class_names")["names"]
    if [n.strip().lower() for n in names] != [n.lower() for n in CLASS_NAMES]:
        raise kc.failure("clases.distintas", actual=names, expected=CLASS_NAMES,
                         hint="clases.hint")


@check(points=10)
def datos_escalados(ctx: Context) -> None:
    kc.check_preprocessed(ctx, "prep:train_images", (60000, 28, 28))
    kc.check_preprocessed(ctx, "prep:test_images", (10000, 28, 28))


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


@check(points=5, requires=["modelo_definido"])
def compilacion(ctx: Context) -> None:
    kc.check_compile(ctx, optimizer="adam", loss="sparse_categorical_crossentropy")


@check(points=10, requires=["modelo_definido"])
def entrenamiento(ctx: Context) -> Note | None:
    return kc.check_history(ctx, EPOCHS)


@check(points=5, requires=["modelo_definido"])
def modelo_exportable(ctx: Context) -> None:
    kc.evaluate_model(ctx, kc.test_split("fashion_mnist")[0])


@check(points=20, requires=["datos_escalados", "arquitectura", "entrenamiento",
                            "modelo_exportable"])
def precision_prueba(ctx: Context) -> Note:
    x_test, y_test = kc.test_split("fashion_mnist")
    return kc.check_accuracy(ctx, x_test, y_test, THRESHOLD)


@check(points=5, requires=["modelo_exportable"])
def predicciones(ctx: Context) -> None:
    got = ctx.artifacts.array("predictions")
    want = np.asarray(ctx.state["keras_pred"])
    if got.shape != want.shape:
        raise kc.failure("predicciones.forma", actual=list(got.shape), expected=list(want.shape),
                         hint="predicciones.hint")
    agree = float(np.mean(got.argmax(axis=1) == want.argmax(axis=1)))
    if agree < 0.99:
        raise kc.failure("predicciones.distintas", actual=round(agree, 4), expected=1.0,
                         hint="predicciones.hint")


@check(points=5)
def modelo_500(ctx: Context) -> None:
    kc.check_architecture(ctx, VARIANT_500, key="arch_500")
    kc.check_parameters(ctx, VARIANT_500, INPUT_SIZE, key="arch_500")


def pictures(ctx: Context) -> dict[str, bytes]:
    x_test, y_test = kc.test_split("fashion_mnist")
    return classifier_pictures(ctx, x_test, y_test, CLASS_NAMES, picture_labels(ctx))
