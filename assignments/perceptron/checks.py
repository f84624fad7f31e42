"""Public checks of the perceptron assignment (they run in student self-checks too).

Expected values are computed here, in the trusted process, from the probe inputs;
they never enter the student's run.
"""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np

from grader import CheckFailure, Context, check
from grader.errors import ArtifactMissing
from grader.static import imported_modules

COURSE_A = np.array([[2, 5, 2], [1, 0, -2], [3, 1, 1]], dtype=float)
COURSE_B = np.array([[-2, 1, 0], [-2, 2, 1], [0, 0, 3]], dtype=float)
FIXED = np.array([-2.0, -1.0, -0.5, 0.0, 0.5, 1.0, 2.0])
EXTREME = np.array([-1000.0, -50.0, 0.0, 50.0, 1000.0])
DATA = Path(__file__).parent / "data" / "aprobacion.csv"
FORBIDDEN = ("sklearn", "keras", "tensorflow", "torch")
ATOL = 1e-6


def sigmoid(x: np.ndarray) -> np.ndarray:
    z = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + z), z / (1 + z))


# The trusted definitions every activation is compared with.
TRUSTED = {
    "escalon": lambda x: np.where(x >= 0, 1.0, 0.0),
    "sigmoide": sigmoid,
    "tanh": np.tanh,
    "relu": lambda x: np.maximum(0.0, x),
    "leaky_relu": lambda x: np.where(x >= 0, x, 0.1 * x),
    "derivada_sigmoide": lambda x: sigmoid(x) * (1 - sigmoid(x)),
    "derivada_tanh": lambda x: 1 - np.tanh(x) ** 2,
}
ACTIVATIONS = ("escalon", "sigmoide", "tanh", "relu", "leaky_relu")
DERIVATIVES = ("derivada_sigmoide", "derivada_tanh")


def elu(x: np.ndarray, alpha: float) -> np.ndarray:
    return np.where(x >= 0, x, alpha * np.expm1(np.minimum(x, 0.0)))


def inputs(rng: np.random.Generator) -> dict[str, np.ndarray]:
    data = np.loadtxt(DATA, delimiter=",", skiprows=1)
    return {
        "mm_curso_A": COURSE_A, "mm_curso_B": COURSE_B,
        "act_fijos": FIXED, "act_extremos": EXTREME, "alpha_1": np.array(1.0),
        "aprob_entrenamiento": data[:, :2],
    }


def compare(ctx: Context, key: str, expected: np.ndarray) -> None:
    """Fail unless the exported array under ``key`` matches ``expected`` in shape and value."""
    got = ctx.artifacts.array(key)
    if got.shape != expected.shape:
        raise CheckFailure("shape", name=key.split(":")[0], expected=list(expected.shape),
                           actual=list(got.shape), hint="shape.hint")
    wrong = ~np.isclose(got.astype(float), expected, atol=ATOL, rtol=1e-5, equal_nan=False)
    if wrong.any():
        where = tuple(int(i) for i in np.argwhere(wrong)[0])
        raise CheckFailure("value", name=key.split(":")[0], index=where,
                           expected=float(expected[where]), actual=float(got[where]))


def each_function(ctx: Context, names: tuple[str, ...], probe: str) -> None:
    """Check several functions on one probe; partial credit for the ones that are right."""
    x = ctx.inputs[probe]
    wrong: dict[str, CheckFailure] = {}
    for name in names:
        try:
            compare(ctx, f"{name}:{probe}", TRUSTED[name](x))
        except CheckFailure as failure:
            wrong[name] = failure
    if wrong:
        first = next(iter(wrong))
        fraction = (len(names) - len(wrong)) / len(names)
        if wrong[first].key == "artifact.missing":
            raise wrong[first]
        if isinstance(wrong[first], ArtifactMissing):
            raised = wrong[first].params
            raise CheckFailure("functions_raised", names=", ".join(wrong), first=first,
                               error=raised.get("error", "?"), detail=raised.get("detail", ""),
                               fraction=fraction)
        sample = x[: min(len(x), 5)] if x.ndim == 1 else x.ravel()[:5]
        actual = None
        if f"{first}:{probe}" in ctx.artifacts:
            actual = np.round(ctx.artifacts.array(f"{first}:{probe}").ravel()[:5], 4).tolist()
        raise CheckFailure(
            "functions_wrong", names=", ".join(wrong), input=np.round(sample, 3).tolist(),
            first=first, expected=np.round(TRUSTED[first](sample), 4).tolist(), actual=actual,
            hint=f"hint.{first}", fraction=fraction,
        )


@check(points=6)
def producto_curso(ctx: Context) -> None:
    expected = COURSE_A @ COURSE_B
    got = ctx.artifacts.array("mm_curso")
    if got.shape == (3, 3) and np.isclose(got[0, 0], 14):
        raise CheckFailure("mm.sign", expected=expected.tolist(), actual=got.tolist(),
                           hint="mm.hint")
    compare(ctx, "mm_curso", expected)


@check(points=4, requires=["producto_curso"])
def producto_a_mano(ctx: Context) -> None:
    tree = _function(ctx.source, "producto_matricial")
    if tree is None:
        raise CheckFailure("mm.no_function")
    for node in ast.walk(tree):
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.MatMult):
            raise CheckFailure("mm.uses_library", what="@", hint="mm.loops")
        name = getattr(node, "attr", None) or getattr(node, "id", None)
        if name in ("dot", "matmul", "einsum", "tensordot", "inner", "vdot"):
            raise CheckFailure("mm.uses_library", what=name, hint="mm.loops")
    if not any(isinstance(node, (ast.For, ast.While, ast.comprehension)) for node in ast.walk(tree)):
        raise CheckFailure("mm.no_loops", hint="mm.loops")


def _function(source: str, name: str) -> ast.FunctionDef | None:
    for chunk in [*source.split("\n\n\n"), source]:
        try:
            tree = ast.parse(chunk)
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef) and node.name == name:
                return node
    return None


@check(points=12)
def activaciones_puntos(ctx: Context) -> None:
    each_function(ctx, ACTIVATIONS, "act_fijos")
    for key in ("act_fijos",):
        compare(ctx, f"elu:{key}:alpha_1", elu(ctx.inputs[key], 1.0))


@check(points=3)
def activaciones_estables(ctx: Context) -> None:
    each_function(ctx, ("sigmoide", "tanh"), "act_extremos")


@check(points=5)
def derivadas_puntos(ctx: Context) -> None:
    each_function(ctx, DERIVATIVES, "act_fijos")


def _gate(ctx: Context, gate: str) -> dict[str, object]:
    value = ctx.artifacts.value(f"gate:{gate}")
    if not isinstance(value, dict):
        raise CheckFailure("perceptron.bad_export", gate=gate)
    return value


@check(points=5)
def perceptron_interfaz(ctx: Context) -> None:
    info = _gate(ctx, "and")
    if info.get("weights_shape") != [2]:
        raise CheckFailure("perceptron.weights_shape", expected=[2],
                           actual=info.get("weights_shape"), hint="perceptron.weights_hint")
    if not info.get("bias_is_scalar"):
        raise CheckFailure("perceptron.bias_scalar", actual=info.get("bias_type"),
                           hint="perceptron.bias_hint")


def _learns(ctx: Context, gate: str, targets: list[int]) -> None:
    pred = _gate(ctx, gate).get("pred")
    if pred != targets:
        raise CheckFailure("perceptron.gate_wrong", gate=gate.upper(), expected=targets,
                           actual=pred, hint="perceptron.rule_hint")


@check(points=8, requires=["perceptron_interfaz"])
def perceptron_and(ctx: Context) -> None:
    _learns(ctx, "and", [0, 0, 0, 1])


@check(points=7, requires=["perceptron_interfaz"])
def perceptron_or(ctx: Context) -> None:
    _learns(ctx, "or", [0, 1, 1, 1])


@check(points=5, requires=["perceptron_interfaz"])
def xor_registrado(ctx: Context) -> None:
    reported = ctx.artifacts.value("precision_xor")
    if not isinstance(reported, (int, float)) or not 0 <= reported <= 1:
        raise CheckFailure("xor.not_fraction", actual=reported, hint="xor.fraction_hint")
    measured = float(np.mean(np.array(_gate(ctx, "xor").get("pred")) == [0, 1, 1, 0]))
    if reported >= 1:
        raise CheckFailure("xor.claims_perfect", expected="< 1", actual=reported,
                           measured=measured, hint="xor.why")


@check(points=5)
def aprobacion_entrenamiento(ctx: Context) -> None:
    labels = np.loadtxt(DATA, delimiter=",", skiprows=1)[:, 2]
    accuracy_at_least(ctx, "aprob_entrenamiento", labels, 0.9)


def accuracy_at_least(ctx: Context, key: str, labels: np.ndarray, threshold: float) -> None:
    pred = ctx.artifacts.array(key).ravel()
    if pred.shape != labels.shape:
        raise CheckFailure("shape", name="predecir_aprobacion", expected=list(labels.shape),
                           actual=list(pred.shape), hint="shape.hint")
    accuracy = float(np.mean(pred == labels))
    if accuracy < threshold:
        raise CheckFailure("aprob.low", expected=f"≥ {threshold:.0%}", actual=f"{accuracy:.1%}",
                           hint="aprob.hint")


@check(points=5)
def sin_frameworks(ctx: Context) -> None:
    if not ctx.artifacts.any_ok():
        raise CheckFailure("static.nothing_yet")
    used = sorted(imported_modules(ctx.source) & set(FORBIDDEN))
    if used:
        raise CheckFailure("static.forbidden", modules=", ".join(used), actual=used,
                           hint="static.hint")
