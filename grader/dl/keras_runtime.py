"""Keras export helpers that run *inside* the student's kernel, before ``export.py``.

Like :mod:`grader.runtime`, this file is executed as source (the sandbox cannot
import the grader), in the export script's namespace, where ``ex`` is the
Exporter. It only describes what the student built — layers, compile settings,
history, array shapes — as plain data, and saves the model file that the
evaluate step loads in safe mode. No expected value is here.
"""

import os as _os

import numpy as _np


def keras_models():
    """Names of the student's globals that hold a Keras model (to name a misnamed one)."""
    import keras

    return sorted(k for k, v in ex.ns.items()
                  if not k.startswith("_") and isinstance(v, keras.Model))


def _activation(config):
    act = config.get("activation")
    if isinstance(act, dict):
        inner = act.get("config")
        act = inner.get("name") if isinstance(inner, dict) and inner.get("name") else act.get(
            "class_name")
    return None if act is None else str(act)


def _shape(tensor):
    try:
        return [None if d is None else int(d) for d in tensor.shape]
    except Exception:
        return None


def describe_model(model):
    """Layers in order (type, units, activation, output shape, parameters) and totals."""
    layers = []
    for layer in model.layers:
        try:
            config = layer.get_config()
        except Exception:
            config = {}
        try:
            params = int(layer.count_params())
        except Exception:
            params = None
        layers.append({
            "type": type(layer).__name__,
            "units": config.get("units"),
            "activation": _activation(config),
            "output_shape": _shape(layer.output) if layer.built else None,
            "params": params,
        })
    try:
        total = int(model.count_params())
    except Exception:
        total = None
    inputs = getattr(model, "inputs", None) or []
    return {
        "layers": layers,
        "params": total,
        "built": bool(model.built),
        "input_shape": _shape(inputs[0]) if inputs else None,
        "output_shape": _shape(model.outputs[0]) if getattr(model, "outputs", None) else None,
    }


def _name_of(obj):
    if obj is None:
        return None
    if isinstance(obj, str):
        return obj
    if isinstance(obj, dict):
        return str(obj.get("config", {}).get("name") or obj.get("class_name"))
    name = getattr(obj, "name", None) or getattr(obj, "__name__", None)
    return str(name) if name else type(obj).__name__


def compile_settings(model):
    """Optimizer, loss and metrics as the student passed them to ``compile``."""
    config = model.get_compile_config() or {}
    optimizer = config.get("optimizer")
    opt_name = (optimizer.get("class_name") if isinstance(optimizer, dict)
                else _name_of(optimizer))
    loss = config.get("loss")
    metrics = config.get("metrics") or []
    if not isinstance(metrics, (list, tuple)):
        metrics = [metrics]
    return {
        "compiled": bool(getattr(model, "compiled", config != {})),
        "optimizer": None if opt_name is None else str(opt_name).lower(),
        "loss": _name_of(loss),
        "metrics": [str(_name_of(m)) for m in metrics],
    }


def training_history(model):
    """What ``fit`` recorded last: epochs run and per-epoch metrics (train and validation)."""
    history = getattr(model, "history", None)
    if history is None:  # Keras attaches it after the first epoch; fit(epochs=0) returns one only
        import keras

        history = next((v for v in ex.ns.values() if isinstance(v, keras.callbacks.History)
                        and getattr(v, "model", None) is model), None)
    if history is None or not hasattr(history, "history"):
        return {"fitted": False, "epochs": 0, "history": {}}
    curves = {str(k): [float(x) for x in v] for k, v in history.history.items()}
    return {"fitted": True, "epochs": len(getattr(history, "epoch", []) or []),
            "history": curves}


def array_stats(value):
    """Shape, dtype and range of a (possibly large) array, without exporting it."""
    arr = _np.asarray(value)
    finite = arr.size > 0 and arr.dtype.kind in "biuf"
    return {"shape": list(arr.shape), "dtype": str(arr.dtype),
            "min": float(arr.min()) if finite else None,
            "max": float(arr.max()) if finite else None}


def predict_probe(model, images):
    """The model's output on probe images shaped like its input (scaled to [0, 1])."""
    shape = tuple(int(d) for d in model.inputs[0].shape[1:])
    batch = _np.asarray(images, dtype="float32").reshape((len(images), *shape))
    return _np.asarray(model.predict(batch, verbose=0))


def save_model(model, file_name="model.keras"):
    """Save the model where the evaluate step picks it up; returns the file name."""
    model.save(_os.path.join(ex.out_dir, file_name))
    return file_name


def device():
    """``gpu:<name>`` when TensorFlow sees a GPU, else ``cpu``."""
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    return f"gpu:{gpus[0].name}" if gpus else "cpu"


def export_keras_model(name, probe_key="probe_x"):
    """Everything the Keras building-block checks read, for the student's model ``name``."""
    ex.run("keras_models", lambda: {"names": keras_models()})
    if ex.run("model_type", lambda: type(ex.get(name)).__name__) is None:
        return None
    model = ex.get(name)
    ex.run("arch", lambda: describe_model(model))
    ex.run("compile", lambda: compile_settings(model))
    ex.run("history", lambda: training_history(model))
    if probe_key in ex.inputs:
        ex.run("probe_pred", lambda: predict_probe(model, ex.inputs[probe_key]))
    ex.run("model_file", lambda: save_model(model))
    ex.run("device", device)
    return model
