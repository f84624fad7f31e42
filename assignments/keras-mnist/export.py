# Runs in the student's kernel after their code. The Keras helpers of
# grader/dl/keras_runtime.py (array_stats, export_keras_model, ...) are defined
# above this script by the grader; `ex` is the Exporter. No expected value here.
for name in ("x_train", "x_test"):
    ex.run(f"prep:{name}", lambda name=name: array_stats(ex.get(name)))

export_keras_model("model")
ex.run("test_acc", lambda: float(ex.get("test_acc")))
ex.run("digito_predicho", lambda: int(ex.get("digito_predicho")))
