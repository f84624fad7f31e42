"""The Keras building blocks on hand-made exports: no TensorFlow, no runs."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from grader import CheckFailure
from grader.artifacts import Artifacts
from grader.checks import Context, Note
from grader.data import serve_source
from grader.dl import keras_checks as kc
from grader.schema import RunInfo

MNIST = [kc.dense(512, "relu"), kc.dense(10, "softmax")]
FASHION = [kc.FLATTEN, kc.dense(128, "relu"), kc.dense(10, "softmax")]
VARIANT = [kc.FLATTEN, *[kc.dense(500, "relu")] * 3, kc.dense(10, "softmax")]


def context(tmp_path: Path, values: dict) -> Context:
    index = {k: {"ok": True, "value": v} for k, v in values.items()}
    (tmp_path / "values.json").write_text(json.dumps(index), encoding="utf-8")
    return Context(artifacts=Artifacts(tmp_path, 2**20), inputs={}, source="", notebook=None,
                   run=RunInfo(), hidden_dir=None)


def arch(layers: list[tuple[str, int | None, str | None]], input_size: int) -> dict:
    items, width, total = [], input_size, 0
    for kind, units, act in layers:
        params = (width + 1) * units if units else 0
        width = units or width
        total += params
        items.append({"type": kind, "units": units, "activation": act, "params": params})
    return {"layers": items, "params": total}


def test_expected_parameter_counts():
    assert sum(kc.expected_params(MNIST, 784)) == 407_050
    assert sum(kc.expected_params(FASHION, 784)) == 101_770
    assert sum(kc.expected_params(VARIANT, 784)) == 898_510


def test_first_difference_and_truncation(tmp_path):
    ctx = context(tmp_path, {"arch": arch([("Dense", 512, "relu")], 784)})
    with pytest.raises(CheckFailure) as caught:
        kc.check_architecture(ctx, MNIST)
    assert caught.value.key == "keras.arch.count"
    with pytest.raises(CheckFailure) as caught:
        kc.check_parameters(ctx, MNIST, 784)
    assert caught.value.key == "keras.params.count"


def test_parameter_mismatch_explains_inputs(tmp_path):
    wrong = arch([("Dense", 512, "relu"), ("Dense", 10, "softmax")], 28)  # forgot to flatten
    ctx = context(tmp_path, {"arch": wrong})
    with pytest.raises(CheckFailure) as caught:
        kc.check_parameters(ctx, MNIST, 784)
    assert caught.value.key == "keras.params.inputs"
    assert caught.value.params["inputs"] == 28 and caught.value.params["want_inputs"] == 784


def test_history_overfitting_is_a_note(tmp_path):
    history = {"loss": [0.5, 0.3, 0.2, 0.1], "val_loss": [0.4, 0.3, 0.35, 0.4]}
    ctx = context(tmp_path, {"history": {"fitted": True, "epochs": 4, "history": history}})
    note = kc.check_history(ctx, 4)
    assert isinstance(note, Note) and note.key == "keras.history.overfitting"
    assert note.params["epoch"] == 2


def test_one_hot_loss_is_explained(tmp_path):
    settings = {"compiled": True, "optimizer": "adam", "loss": "categorical_crossentropy",
                "metrics": ["accuracy"]}
    ctx = context(tmp_path, {"compile": settings})
    with pytest.raises(CheckFailure) as caught:
        kc.check_compile(ctx, optimizer="adam", loss="sparse_categorical_crossentropy")
    assert caught.value.key == "keras.compile.onehot"


def test_served_loader_returns_the_archive(tmp_path):
    arrays = {"x_train": np.zeros((2, 28, 28), np.uint8), "y_train": np.arange(2, dtype=np.uint8),
              "x_test": np.ones((1, 28, 28), np.uint8), "y_test": np.array([7], np.uint8)}
    np.savez(tmp_path / "d.npz", **arrays)
    namespace: dict = {}
    source = serve_source({"mnist": tmp_path / "d.npz"}).split("import importlib")[0]
    exec(source + "\nload_data = _dlg_serve(" + repr(str(tmp_path / "d.npz")) + ")", namespace)
    (x, y), (xt, yt) = namespace["load_data"]()
    assert x.shape == (2, 28, 28) and y.tolist() == [0, 1]
    assert yt.tolist() == [7] and xt.dtype == np.uint8
