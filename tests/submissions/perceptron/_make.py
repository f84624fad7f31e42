"""Rebuild the perceptron fixture submissions from the reference notebook.

Each fixture is the reference with one deliberate change, named after the outcome
it must give. Run ``python tests/submissions/perceptron/_make.py`` after changing
the reference; the tests assert exactly which checks each one fails.
"""

from __future__ import annotations

from pathlib import Path

import nbformat

HERE = Path(__file__).resolve().parent
REFERENCE = HERE.parents[2] / "reference" / "perceptron" / "perceptron.ipynb"

# fixture name -> list of (text in the reference, replacement)
EDITS: dict[str, list[tuple[str, str]]] = {
    "xor_claims_perfect": [(
        "precision_xor = float(np.mean(perceptron_xor.predict(X_logica) == y_xor))",
        "precision_xor = 1.0  # «seguro que acierta todo»",
    )],
    "no_bias": [(
        "                    self.bias = float(self.bias + self.tasa * error)\n", "",
    )],
    "sigmoid_overflow": [(
        """    x = np.asarray(x, dtype=float)
    # exp de un número negativo nunca desborda: se usa la forma adecuada a cada signo
    positivo = x >= 0
    z = np.exp(-np.abs(x))
    return np.where(positivo, 1.0 / (1.0 + z), z / (1.0 + z))""",
        """    import math
    x = np.asarray(x, dtype=float)
    valores = [1.0 / (1.0 + math.exp(-v)) for v in x.ravel()]
    return np.array(valores).reshape(x.shape)""",
    )],
    "uses_sklearn": [(
        "import numpy as np",
        "import numpy as np\nfrom sklearn.linear_model import Perceptron as PerceptronDeSklearn",
    )],
    "uses_matmul_operator": [(
        """    C = np.zeros((filas, columnas))
    for i in range(filas):
        for j in range(columnas):
            total = 0.0
            for k in range(comunes):
                total += A[i, k] * B[k, j]
            C[i, j] = total
    return C""",
        "    return A @ B",
    )],
    "step_strict": [(
        "return np.where(np.asarray(x) >= 0, 1.0, 0.0)",
        "return np.where(np.asarray(x) > 0, 1.0, 0.0)",
    )],
}


def build(name: str, edits: list[tuple[str, str]]) -> None:
    nb = nbformat.read(REFERENCE, as_version=4)
    for old, new in edits:
        hits = [c for c in nb.cells if old in c.source]
        if len(hits) != 1:
            raise SystemExit(f"{name}: {old[:40]!r} found in {len(hits)} cells")
        hits[0].source = hits[0].source.replace(old, new)
    nbformat.write(nb, HERE / f"{name}.ipynb")


if __name__ == "__main__":
    for fixture, changes in EDITS.items():
        build(fixture, changes)
    text = REFERENCE.read_text(encoding="utf-8")
    (HERE / "corrupt.ipynb").write_text(text[: len(text) // 2], encoding="utf-8")
    script = "\n\n# %%\n".join(
        c.source for c in nbformat.read(REFERENCE, as_version=4).cells if c.cell_type == "code"
    )
    (HERE / "reference_as_script.py").write_text(script + "\n", encoding="utf-8")
