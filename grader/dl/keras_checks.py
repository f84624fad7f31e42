"""Keras building blocks for checks: the trusted side of :mod:`grader.dl.keras_runtime`.

Each ``check_*`` function reads what the export recorded and raises
:class:`~grader.errors.CheckFailure` with a ``keras.*`` catalogue key (texts in
``grader/dl/keras.toml``), so assignments declare *what* they expect and share
*how* it is judged. :func:`evaluate_model` computes predictions on test images in
a fresh sandbox (model loaded with ``safe_mode=True``); labels stay here.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .. import data
from ..checks import Context, Note
from ..errors import ArtifactMissing, CheckFailure
from ..evaluate import evaluate

RUNTIME = Path(__file__).with_name("keras_runtime.py")


def export_helpers() -> str:
    """Source prepended to a Keras assignment's ``export.py`` (see ``keras_runtime``)."""
    return RUNTIME.read_text(encoding="utf-8")


def failure(key: str, *, expected: Any = None, actual: Any = None, hint: str | None = None,
            **params: Any) -> CheckFailure:
    """A failure whose message may quote ``{have}`` and ``{want}`` (actual and expected)."""
    return CheckFailure(key, expected=expected, actual=actual, hint=hint,
                        have=_text(actual), want=_text(expected), **params)


def _text(value: Any) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(_text(v) for v in value) + "]"
    return str(value)


@dataclass(frozen=True)
class Layer:
    """One layer as the architecture diff sees it."""

    kind: str
    units: int | None = None
    activation: str | None = None

    def describe(self) -> str:
        if self.kind == "Dense":
            return f"Dense({self.units}, {self.activation})"
        return self.kind


def dense(units: int, activation: str) -> Layer:
    return Layer("Dense", units, activation)


FLATTEN = Layer("Flatten")


def _arch(ctx: Context, key: str = "arch") -> dict[str, Any]:
    value = ctx.artifacts.value(key)
    if not isinstance(value, dict) or not isinstance(value.get("layers"), list):
        raise failure("keras.arch.unreadable")
    return value


def layers_of(arch: dict[str, Any]) -> list[Layer]:
    found = []
    for item in arch["layers"]:
        kind = str(item.get("type"))
        if kind == "Dense":
            found.append(Layer(kind, item.get("units"), item.get("activation")))
        else:
            found.append(Layer(kind))
    return found


def check_model_present(ctx: Context, name: str) -> None:
    """The student's model variable exists and is a Keras model; a misnamed one is named."""
    error = ctx.artifacts.error_of("model_type")
    if error is not None or "model_type" not in ctx.artifacts:
        others = ctx.artifacts.value("keras_models").get("names", []) if (
            "keras_models" in ctx.artifacts) else []
        if others:
            raise failure("keras.model.other_name", name=name, found=", ".join(others),
                          hint="keras.model.other_name_hint")
        raise failure("keras.model.missing", name=name, hint="keras.model.missing_hint")
    if "arch" not in ctx.artifacts:
        raise failure("keras.model.not_keras", name=name,
                      actual=ctx.artifacts.value("model_type"))


def check_architecture(ctx: Context, expected: list[Layer], key: str = "arch") -> None:
    """Layer by layer, in order; the message names the first difference."""
    got = layers_of(_arch(ctx, key))
    for index, (want, have) in enumerate(zip(expected, got, strict=False), start=1):
        if want != have:
            raise failure("keras.arch.layer", index=index, actual=have.describe(),
                          expected=want.describe(), hint="keras.arch.hint")
    if len(got) != len(expected):
        raise failure(
            "keras.arch.count", actual=[layer.describe() for layer in got],
            expected=[layer.describe() for layer in expected], n_got=len(got), n_want=len(expected),
            hint="keras.arch.hint",
        )


def expected_params(expected: list[Layer], input_size: int) -> list[int]:
    """Parameters per layer: a Dense layer has (inputs + 1) × units (weights and biases)."""
    counts, width = [], input_size
    for layer in expected:
        if layer.kind == "Dense" and layer.units is not None:
            counts.append((width + 1) * layer.units)
            width = layer.units
        else:
            counts.append(0)
    return counts


def check_parameters(ctx: Context, expected: list[Layer], input_size: int,
                     key: str = "arch") -> None:
    """Total and per-layer parameter counts, with why a layer's count differs."""
    arch = _arch(ctx, key)
    want = expected_params(expected, input_size)
    total = arch.get("params")
    if total is None:
        raise failure("keras.params.unbuilt", hint="keras.params.unbuilt_hint")
    if total == sum(want) and len(arch["layers"]) == len(want):
        return
    got = [item.get("params") for item in arch["layers"]]
    if len(got) != len(want):
        per_layer = ", ".join(f"{item.get('type')} {item.get('params') or 0:,}"
                              for item in arch["layers"])
        raise failure("keras.params.count", actual=f"{total:,}", expected=f"{sum(want):,}",
                      n_got=len(got), n_want=len(want), per_layer=per_layer,
                      hint="keras.arch.hint")
    for index, (item, count) in enumerate(zip(arch["layers"], want, strict=False), start=1):
        if item.get("params") == count:
            continue
        units = item.get("units")
        params = dict(index=index, kind=item.get("type"), actual=f"{item.get('params'):,}",
                      expected=f"{count:,}", total=f"{total:,}", want_total=f"{sum(want):,}")
        want_units = expected[index - 1].units if index <= len(expected) else None
        if item.get("type") == "Dense" and units and want_units and item.get("params") is not None:
            if units != want_units:
                raise failure("keras.params.units", units=units, want_units=want_units,
                              **params)
            raise failure("keras.params.inputs", inputs=item["params"] // units - 1,
                          want_inputs=count // want_units - 1, **params)
        raise failure("keras.params.layer", **params)
    raise failure("keras.params.total", actual=f"{total:,}", expected=f"{sum(want):,}",
                  per_layer=got)


def check_probabilities(ctx: Context, key: str = "probe_pred", classes: int = 10) -> None:
    """Each output row is a probability distribution over the classes (softmax)."""
    pred = ctx.artifacts.array(key).astype(float)
    if pred.ndim != 2 or pred.shape[1] != classes:
        raise failure("keras.probs.shape", actual=list(pred.shape),
                      expected=["n", classes])
    sums = pred.sum(axis=1)
    if not np.all(np.isfinite(pred)) or pred.min() < -1e-6 or not np.allclose(sums, 1, atol=1e-3):
        worst = int(np.argmax(np.abs(sums - 1)))
        raise failure("keras.probs.not_distribution", actual=round(float(sums[worst]), 4),
                      expected=1.0, hint="keras.probs.hint")


def check_compile(ctx: Context, optimizer: str, loss: str, metric: str = "accuracy") -> None:
    """Optimizer, loss and metric given to ``compile``."""
    settings = ctx.artifacts.value("compile")
    if not settings.get("compiled"):
        raise failure("keras.compile.missing", hint="keras.compile.hint")
    if settings.get("optimizer") != optimizer:
        raise failure("keras.compile.optimizer", actual=settings.get("optimizer"),
                      expected=optimizer)
    if loss.startswith("sparse_") and settings.get("loss") == loss[len("sparse_"):]:
        raise failure("keras.compile.onehot", actual=settings.get("loss"), expected=loss,
                      hint="keras.compile.loss_hint")
    if settings.get("loss") != loss:
        raise failure("keras.compile.loss", actual=settings.get("loss"), expected=loss,
                      hint="keras.compile.loss_hint")
    names = [m.lower() for m in settings.get("metrics", [])]
    if metric not in names and f"sparse_categorical_{metric}" not in names:
        raise failure("keras.compile.metric", actual=settings.get("metrics"),
                      expected=[metric])


def check_preprocessed(ctx: Context, key: str, shape: tuple[int, ...], dtype: str = "float32",
                       low: float = 0.0, high: float = 1.0) -> None:
    """An array of the student's has the shape, dtype and value range the model needs."""
    stats = ctx.artifacts.value(key)
    name = key.split(":")[-1]
    if tuple(stats["shape"]) != shape:
        raise failure("keras.prep.shape", name=name, actual=stats["shape"],
                      expected=list(shape), hint="keras.prep.shape_hint")
    if stats["dtype"] not in (dtype, "float64"):
        raise failure("keras.prep.dtype", name=name, actual=stats["dtype"], expected=dtype,
                      hint="keras.prep.scale_hint")
    if stats["min"] is None or stats["min"] < low or stats["max"] > high:
        raise failure("keras.prep.range", name=name,
                      actual=[stats["min"], stats["max"]], expected=[low, high],
                      hint="keras.prep.scale_hint")


def check_history(ctx: Context, epochs: int) -> Note | None:
    """``fit`` ran the epochs asked for and the loss went down; overfitting is a remark."""
    hist = ctx.artifacts.value("history")
    if not hist.get("fitted"):
        raise failure("keras.history.not_fitted", hint="keras.history.fit_hint")
    if hist.get("epochs") != epochs:
        raise failure("keras.history.epochs", actual=hist.get("epochs"), expected=epochs,
                      hint="keras.history.epochs_hint")
    loss = hist["history"].get("loss", [])
    if len(loss) < 2 or not loss[-1] < loss[0]:
        raise failure("keras.history.loss", actual=loss[:1] + loss[-1:],
                      hint="keras.history.loss_hint")
    val = hist["history"].get("val_loss", [])
    if len(val) >= 3:
        best = int(np.argmin(val))
        if best < len(val) - 1 and val[-1] > val[best] and loss[-1] < loss[best]:
            return Note("keras.history.overfitting", {"epoch": best + 1,
                                                      "best": round(val[best], 4),
                                                      "last": round(val[-1], 4)})
    return None


EVALUATE = """
import numpy as np
import keras
loaded = {}


def load():
    loaded["model"] = keras.saving.load_model("model.keras", safe_mode=True, compile=False)
    return True


if ex.run("load", load):
    model = loaded["model"]
    shape = tuple(int(d) for d in model.inputs[0].shape[1:])
    x = (ex.inputs["x"].astype("float32") / 255.0).reshape((-1, *shape))
    ex.run("pred", lambda: np.asarray(model.predict(x, batch_size=500, verbose=0)))
"""


def evaluate_model(ctx: Context, images: np.ndarray) -> np.ndarray:
    """Predictions of the exported model on ``images`` (uint8), computed once per grading."""
    if "keras_pred" in ctx.state:
        return np.asarray(ctx.state["keras_pred"])
    if "model_file" not in ctx.artifacts:
        error = ctx.artifacts.error_of("model_file") or "?"
        raise failure("keras.export.save_failed", error=error, hint="keras.export.hint")
    model_file = ctx.artifacts.out_dir / "model.keras"
    assert ctx.sandbox is not None, "the pipeline gives checks its sandbox"
    with evaluate(EVALUATE, model_files=[model_file], inputs={"x": images},
                  sandbox=ctx.sandbox, limits=ctx.limits, warm=ctx.evaluator,
                  cache_dir=ctx.eval_cache) as ev:
        if "load" not in ev.artifacts:
            entry = ev.artifacts.index.get("load", {})
            if not entry:
                raise RuntimeError(f"evaluation failed: {ev.detail[-300:]}")
            raise failure("keras.export.unsafe", error=str(entry.get("error")),
                          detail=str(entry.get("message", ""))[:200],
                          hint="keras.export.unsafe_hint")
        try:
            pred = ev.artifacts.array("pred")
        except ArtifactMissing as exc:
            raise failure("keras.export.predict_failed",
                          detail=str(exc.params.get("detail", ""))[:200]) from exc
    ctx.state["keras_pred"] = pred
    return pred


def check_accuracy(ctx: Context, images: np.ndarray, labels: np.ndarray,
                   threshold: float) -> Note:
    """Test accuracy measured by the grader from its own predictions and labels."""
    pred = evaluate_model(ctx, images)
    if pred.shape != (len(labels), 10):
        raise failure("keras.probs.shape", actual=list(pred.shape),
                      expected=[len(labels), 10])
    accuracy = float(np.mean(pred.argmax(axis=1) == labels))
    ctx.state["keras_accuracy"] = accuracy
    if accuracy < threshold:
        raise failure("keras.accuracy.low", actual=round(accuracy, 4), expected=threshold,
                      hint="keras.accuracy.hint")
    return Note("keras.accuracy.ok", {"accuracy": round(accuracy, 4), "threshold": threshold})


@functools.lru_cache(maxsize=2)
def test_split(name: str) -> tuple[np.ndarray, np.ndarray]:
    """``(x_test, y_test)`` of a Keras dataset from the verified local copy (trusted side)."""
    with np.load(data.locate(name), allow_pickle=False) as archive:  # the test half only
        return archive["x_test"], archive["y_test"]
