"""Feedback pictures, drawn by the grader from exported data (never by student code).

Each function returns PNG bytes; :func:`classifier_pictures` gathers the three a
classification assignment shows (training curves, confusion matrix, misclassified
test images) from what the checks already computed, skipping those whose data
is missing.
"""

from __future__ import annotations

import io
from typing import Any

import numpy as np

from ..checks import Context


def _figure() -> Any:
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def _png(fig: Any) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=90, bbox_inches="tight")
    _figure().close(fig)
    return buffer.getvalue()


def training_curves(history: dict[str, list[float]], labels: dict[str, str]) -> bytes:
    """Loss and accuracy per epoch, training vs validation."""
    plt = _figure()
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.4))
    for ax, metric in zip(axes, ("loss", "accuracy"), strict=True):
        for prefix, style in (("", "o-"), ("val_", "s--")):
            values = history.get(prefix + metric)
            if values:
                epochs = range(1, len(values) + 1)
                ax.plot(epochs, values, style, label=labels["val" if prefix else "train"])
        ax.set_title(labels[metric])
        ax.set_xlabel(labels["epoch"])
        ax.grid(alpha=0.3)
        ax.legend()
    return _png(fig)


def confusion_matrix(true: np.ndarray, pred: np.ndarray, names: list[str],
                     labels: dict[str, str]) -> bytes:
    k = len(names)
    matrix = np.zeros((k, k), dtype=int)
    np.add.at(matrix, (true.astype(int), pred.astype(int)), 1)
    plt = _figure()
    fig, ax = plt.subplots(figsize=(6.5, 5.5))
    ax.imshow(matrix, cmap="Blues")
    for i in range(k):
        for j in range(k):
            color = "white" if matrix[i, j] > matrix.max() / 2 else "black"
            ax.text(j, i, str(matrix[i, j]), ha="center", va="center", fontsize=7, color=color)
    ax.set_xticks(range(k), names, rotation=45, ha="right", fontsize=8)
    ax.set_yticks(range(k), names, fontsize=8)
    ax.set_xlabel(labels["predicted"])
    ax.set_ylabel(labels["true"])
    ax.set_title(labels["confusion"])
    return _png(fig)


def misclassified(images: np.ndarray, true: np.ndarray, pred: np.ndarray, names: list[str],
                  labels: dict[str, str], count: int = 15) -> bytes:
    """A grid of the first wrongly classified test images, predicted vs true class."""
    wrong = np.flatnonzero(true != pred)[:count]
    plt = _figure()
    cols = 5
    rows = max(1, -(-len(wrong) // cols))
    fig, axes = plt.subplots(rows, cols, figsize=(cols * 1.9, rows * 2.2), squeeze=False)
    for ax in axes.ravel():
        ax.axis("off")
    for ax, index in zip(axes.ravel(), wrong, strict=False):
        ax.imshow(images[index], cmap="binary")
        ax.set_title(f"{labels['predicted']}: {names[pred[index]]}\n"
                     f"{labels['true']}: {names[true[index]]}", fontsize=7, color="crimson")
    fig.suptitle(labels["misclassified"])
    return _png(fig)


def classifier_pictures(ctx: Context, images: np.ndarray, true: np.ndarray, names: list[str],
                        labels: dict[str, str]) -> dict[str, bytes]:
    """The three feedback pictures, for whatever data this grading produced."""
    found: dict[str, bytes] = {}
    if "history" in ctx.artifacts:
        history = ctx.artifacts.value("history").get("history") or {}
        if history.get("loss"):
            found["curvas_entrenamiento.png"] = training_curves(history, labels)
    pred = ctx.state.get("keras_pred")
    if pred is not None and np.shape(pred) == (len(true), len(names)):
        classes = np.asarray(pred).argmax(axis=1)
        found["matriz_confusion.png"] = confusion_matrix(true, classes, names, labels)
        found["mal_clasificadas.png"] = misclassified(images, true, classes, names, labels)
    return found


LABEL_KEYS = ("train", "val", "loss", "accuracy", "epoch", "predicted", "true", "confusion",
              "misclassified")


def picture_labels(ctx: Context) -> dict[str, str]:
    """Axis and title words in the result's language (``picture.*`` catalogue keys)."""
    messages = ctx.state.get("messages")
    return {key: messages(f"picture.{key}") if messages else key for key in LABEL_KEYS}
