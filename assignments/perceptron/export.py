# Runs in the student's kernel after their code. `ex` is the grader's Exporter:
# it calls the student's functions on the probe inputs and records what comes back.
# No expected value is here; the checks compare in the trusted process.
import numpy as np

inp = ex.inputs

# 1. Matrix product: the course example and any other probe pairs given.
for key in sorted(k for k in inp if k.startswith("mm_") and k.endswith("_A")):
    stem = key[: -len("_A")]
    ex.call(stem, "producto_matricial", inp[key], inp[stem + "_B"])

# 2. Activations and derivatives on every probe array.
FUNCTIONS = ("escalon", "sigmoide", "tanh", "relu", "leaky_relu",
             "derivada_sigmoide", "derivada_tanh")
for key in sorted(k for k in inp if k.startswith("act_")):
    for name in FUNCTIONS:
        ex.call(f"{name}:{key}", name, inp[key])
    for alpha_key in sorted(k for k in inp if k.startswith("alpha_")):
        ex.call(f"elu:{key}:{alpha_key}", "elu", inp[key], float(inp[alpha_key]))

# 3. The perceptron on the logic gates: a fresh instance each, default settings.
X_gate = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
GATES = {"and": [0, 0, 0, 1], "or": [0, 1, 1, 1], "xor": [0, 1, 1, 0]}


def _fit_predict(targets):
    model = ex.get("Perceptron")()
    fitted = model.fit(X_gate.copy(), np.array(targets))
    model = fitted if fitted is not None else model
    return {"pred": np.asarray(model.predict(X_gate.copy())).ravel().tolist(),
            "weights_shape": list(np.shape(model.weights)),
            "bias_is_scalar": bool(np.ndim(model.bias) == 0),
            "bias_type": type(model.bias).__name__}


for gate, targets in GATES.items():
    ex.run(f"gate:{gate}", lambda targets=targets: _fit_predict(targets))

ex.run("precision_xor", lambda: float(ex.get("precision_xor")))

# 4. The pass-rate classifier on the given students (public and hidden splits).
for key in sorted(k for k in inp if k.startswith("aprob_")):
    ex.call(key, "predecir_aprobacion", inp[key])
