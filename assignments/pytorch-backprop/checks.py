"""Public checks of the pytorch-backprop assignment (they run in student self-checks too).

Part 1 (NumPy): the course's 2-2-1 linear network, forward, error, gradients by
the chain rule and one update. Expected gradients come from torch autograd, here
in the trusted process. Part 2 (PyTorch): the Iris model, its loop and its
training curve; test accuracy is measured on the exported program, in a sandbox
without student code, and compared here with labels that never enter a run.
"""

from __future__ import annotations

import ast
import importlib.util
import re
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path

import numpy as np

from grader import CheckFailure, Context, Note, check
from grader.dl.architecture import Layer, compare_layers
from grader.dl.torch_checks import diagnose_loop, linear_net, program_outputs, warm_up
from grader.errors import ArtifactMissing

PARAMS = ("W1", "b1", "W2", "b2")
COURSE = {
    "W1": np.array([[0.11, 0.12], [0.21, 0.08]]), "b1": np.array([1.0, 1.0]),
    "W2": np.array([[0.14], [0.15]]), "b2": np.array([1.0]),
    "x": np.array([2.0, 3.0]), "y": np.array([1.0]),
}
PART1 = ("adelante", "error_cuadratico", "gradientes", "actualizar")
EXPECTED_LAYERS = [Layer.dense(4, 8), Layer.dense(8, 9), Layer.dense(9, 3)]
EXPECTED_OPS = ["linear", "relu", "linear", "relu", "linear"]
# Exported operations that mean the same layer or activation (in-place forms lose their "_").
OP_NAMES = {"addmm": "linear", "mm": "linear", "matmul": "linear"}
EPOCHS, FINAL_LOSS, MIN_ACCURACY = 100, 0.1, 0.9
# The rows train_test_split(test_size=0.2, random_state=41, stratify=y) holds out in the template.
TEST_ROWS = [64, 58, 88, 34, 26, 134, 136, 70, 59, 97, 51, 81, 101, 121, 100, 125, 25, 71, 35, 133,
             23, 1, 116, 60, 0, 16, 21, 12, 110, 107]
N_TEST = len(TEST_ROWS)
REPLAY_EPOCHS, REPLAY_LR = 3, 0.1

warm_up()  # the checks need torch; importing it overlaps with the student's run


def network_inputs(name: str, net: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    return {f"red:{name}:{k}": np.asarray(v, dtype=float) for k, v in net.items()}


def random_network(rng: np.random.Generator, n_in: int, n_hidden: int, n_out: int) -> dict[str, np.ndarray]:
    shapes = {"W1": (n_in, n_hidden), "b1": (n_hidden,), "W2": (n_hidden, n_out), "b2": (n_out,),
              "x": (n_in,), "y": (n_out,)}
    return {k: rng.normal(0, 1, shape).round(3) for k, shape in shapes.items()}


def update_inputs(rng: np.random.Generator, name: str, net: Mapping[str, np.ndarray],
                  rate: float) -> dict[str, np.ndarray]:
    """Gradients drawn at random: the update is checked apart from the student's gradients."""
    probes = {f"upd:{name}:g:{k}": rng.normal(0, 1, np.shape(net[k])).round(3) for k in PARAMS}
    probes[f"upd:{name}:tasa"] = np.array(rate)
    return probes


def inputs(rng: np.random.Generator) -> dict[str, np.ndarray]:
    wide = random_network(rng, 3, 4, 2)
    probes = {**network_inputs("curso", COURSE), **network_inputs("ancha", wide),
              "err:curso:pred": np.array([1.481]), "err:curso:y": np.array([1.0]),
              **update_inputs(rng, "curso", COURSE, 0.1)}
    low, high = np.array([4.3, 2.0, 1.0, 0.1]), np.array([7.9, 4.4, 6.9, 2.5])
    probes["sonda_X"] = rng.uniform(low, high, (7, 4)).round(1)
    probes["ejemplo_X"] = rng.uniform(low, high, (N_TEST, 4)).round(1)
    probes.update({
        "repaso:w:0.weight": rng.normal(0, 0.5, (5, 4)), "repaso:w:0.bias": rng.normal(0, 0.1, 5),
        "repaso:w:2.weight": rng.normal(0, 0.5, (3, 5)), "repaso:w:2.bias": rng.normal(0, 0.1, 3),
        "repaso:X": rng.normal(0, 1, (16, 4)), "repaso:y": rng.integers(0, 3, 16),
        "repaso:epocas": np.array(REPLAY_EPOCHS), "repaso:lr": np.array(REPLAY_LR),
    })
    return probes


# ---------------------------------------------------------------- part 1 helpers

def same(got: np.ndarray, want: np.ndarray) -> bool:
    return got.size == want.size and bool(np.allclose(got.astype(float).ravel(), want.ravel(),
                                                      rtol=1e-5, atol=1e-8))


def label(ctx: Context, name: str) -> str:
    """A network as the student reads it: ``2-2-1``."""
    w1, w2 = ctx.inputs[f"red:{name}:W1"], ctx.inputs[f"red:{name}:W2"]
    return f"{w1.shape[0]}-{w1.shape[1]}-{w2.shape[1]}"


def network(ctx: Context, name: str) -> dict[str, np.ndarray]:
    return {k: ctx.inputs[f"red:{name}:{k}"] for k in (*PARAMS, "x", "y")}


def rounded(a: np.ndarray) -> list[float]:
    return np.round(np.asarray(a, dtype=float).ravel(), 5).tolist()


def check_forward(ctx: Context, name: str) -> None:
    net = network(ctx, name)
    want = linear_net(net, net["x"], net["y"])
    ctx.artifacts.value(f"adelante:{name}")  # surfaces the exception adelante raised, if it did
    for part, expected, hint in (("h", want.hidden, "adelante.hint_h"),
                                 ("y_pred", want.prediction, "adelante.hint_y")):
        got = ctx.artifacts.array(f"adelante:{name}:{part}")
        if not same(got, expected):
            raise CheckFailure(f"adelante.{part}", red=label(ctx, name), expected=rounded(expected),
                               actual=rounded(got), hint=hint)


def check_error(ctx: Context, name: str) -> None:
    pred, y = ctx.inputs[f"err:{name}:pred"], ctx.inputs[f"err:{name}:y"]
    expected = 0.5 * float(np.sum((pred - y) ** 2))
    got = ctx.artifacts.array(f"error:{name}")
    if got.size != 1:
        raise CheckFailure("error.no_escalar", actual=list(got.shape), hint="error.hint")
    value = float(got.ravel()[0])
    if not np.isclose(value, expected, rtol=1e-6, atol=1e-10):
        hint = "error.hint_medio" if np.isclose(value, 2 * expected, rtol=1e-6) else "error.hint"
        raise CheckFailure("error.valor", prediction=rounded(pred), target=rounded(y),
                           expected=round(expected, 6), actual=round(value, 6), hint=hint)


def compare_params(ctx: Context, prefix: str, name: str, expected: Mapping[str, np.ndarray],
                   what: str, per_param_hint: bool = True) -> list[CheckFailure]:
    """One failure per parameter whose exported value differs from ``expected``."""
    ctx.artifacts.value(f"{prefix}:{name}")
    wrong = []
    for k in PARAMS:
        got = ctx.artifacts.array(f"{prefix}:{name}:{k}")
        want = np.asarray(expected[k], dtype=float)
        if got.shape != want.shape:
            wrong.append(CheckFailure(f"{what}.forma", param=k, red=label(ctx, name),
                                      expected=list(want.shape), actual=list(got.shape),
                                      hint=f"{what}.hint_forma"))
        elif not same(got, want):
            hint = f"{what}.hint_{k}" if per_param_hint else f"{what}.hint_valor"
            wrong.append(CheckFailure(
                f"{what}.valor", param=k, red=label(ctx, name), expected=rounded(want),
                actual=rounded(got), hint=f"{what}.hint_signo" if same(-got, want) else hint))
    return wrong


def check_gradients(ctx: Context, names: list[str]) -> None:
    """Student gradients against autograd's, network by network; partial credit per network."""
    failures: list[CheckFailure] = []
    for name in names:
        net = network(ctx, name)
        try:
            wrong = compare_params(ctx, "gradientes", name, linear_net(net, net["x"], net["y"]).gradients,
                                   "grad")
        except ArtifactMissing as missing:
            wrong = [missing]
        failures.extend(wrong[:1])
    if failures:
        first = failures[0]
        first.fraction = (len(names) - len(failures)) / len(names)
        raise first


def check_update(ctx: Context, name: str) -> None:
    net = network(ctx, name)
    rate = float(ctx.inputs[f"upd:{name}:tasa"])
    expected = {k: net[k] - rate * ctx.inputs[f"upd:{name}:g:{k}"] for k in PARAMS}
    wrong = compare_params(ctx, "actualizar", name, expected, "actualizar", per_param_hint=False)
    if wrong:
        wrong[0].params["tasa"] = rate
        raise wrong[0]


# ---------------------------------------------------------------- part 1 checks

@check(points=6)
def adelante_curso(ctx: Context) -> None:
    check_forward(ctx, "curso")


@check(points=4)
def error_curso(ctx: Context) -> None:
    check_error(ctx, "curso")


@check(points=10)
def gradientes_curso(ctx: Context) -> None:
    net = network(ctx, "curso")
    expected = linear_net(net, net["x"], net["y"]).gradients
    wrong = compare_params(ctx, "gradientes", "curso", expected, "grad")
    if wrong:
        wrong[0].fraction = (len(PARAMS) - len(wrong)) / len(PARAMS)
        raise wrong[0]


@check(points=5)
def gradientes_numericos(ctx: Context) -> None:
    """The student's gradients against finite differences of the student's own error."""
    for name in ("curso", "ancha"):
        ctx.artifacts.value(f"numerico:{name}")
        numeric = {k: ctx.artifacts.array(f"numerico:{name}:{k}") for k in PARAMS}
        wrong = compare_params(ctx, "gradientes", name, numeric, "numerico", per_param_hint=False)
        if wrong:
            raise wrong[0]


@check(points=5)
def actualizacion_curso(ctx: Context) -> None:
    check_update(ctx, "curso")


def part1_torch_uses(ctx: Context) -> list[str]:
    """Where the part-1 functions (and the functions they call) use PyTorch."""
    cells = [c.source for c in ctx.notebook.cells if c.cell_type == "code"] if ctx.notebook else [ctx.source]
    trees = []
    for cell in cells:
        try:
            trees.append(ast.parse(re.sub(r"^\s*[!%].*$", "", cell, flags=re.MULTILINE)))
        except SyntaxError:
            continue
    aliases: set[str] = set()
    functions: dict[str, ast.FunctionDef] = {}
    for tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                aliases.update((a.asname or a.name.split(".")[0]) for a in node.names
                               if a.name.split(".")[0] == "torch")
            elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "torch":
                aliases.update((a.asname or a.name) for a in node.names)
            elif isinstance(node, ast.FunctionDef):
                functions[node.name] = node
    pending, seen, uses = [n for n in PART1 if n in functions], set(), []
    while pending:
        name = pending.pop()
        if name in seen:
            continue
        seen.add(name)
        for node in ast.walk(functions[name]):
            if isinstance(node, ast.Name):
                if node.id in aliases | {"torch"}:
                    uses.append(f"{name}: {node.id}")
                elif node.id in functions:
                    pending.append(node.id)
            elif isinstance(node, (ast.Import, ast.ImportFrom)):
                modules = ([a.name for a in node.names] if isinstance(node, ast.Import)
                           else [node.module or ""])
                uses.extend(f"{name}: import {m}" for m in modules if m.split(".")[0] == "torch")
            elif isinstance(node, ast.Attribute) and node.attr in ("backward", "requires_grad", "autograd"):
                uses.append(f"{name}: .{node.attr}")
    return sorted(set(uses))


@check(points=5)
def sin_pytorch_parte1(ctx: Context) -> None:
    if not any(f"{fn}:curso" in ctx.artifacts for fn in ("adelante", "error", "gradientes", "actualizar")):
        raise CheckFailure("estatico.nada")
    uses = part1_torch_uses(ctx)
    if uses:
        raise CheckFailure("estatico.torch", usos="; ".join(uses), actual=uses, hint="estatico.hint")


# ---------------------------------------------------------------- part 2 checks

@check(points=8)
def arquitectura(ctx: Context) -> None:
    described = ctx.artifacts.value("arquitectura")
    if not isinstance(described, dict):
        raise CheckFailure("arq.ilegible")
    compare_layers(EXPECTED_LAYERS, [Layer.from_dict(d) for d in described.get("layers", [])
                                     if isinstance(d, dict)])
    if "programa" not in ctx.artifacts:
        return None
    program = ctx.artifacts.value("programa")
    ops = [OP_NAMES.get(op.rstrip("_"), op.rstrip("_")) for op in program.get("ops", [])]
    ops = [op for op in ops if op in ("linear", "relu", "sigmoid", "tanh", "gelu", "leaky_relu")]
    if ops != EXPECTED_OPS:
        raise CheckFailure("arq.activaciones", expected=" → ".join(EXPECTED_OPS),
                           actual=" → ".join(ops), hint="arq.hint_activaciones")
    return None


@check(points=4)
def forma_salida(ctx: Context) -> None:
    out = ctx.artifacts.array("salida:sonda")
    n = len(ctx.inputs["sonda_X"])
    if out.shape != (n, 3):
        raise CheckFailure("salida.forma", n=n, expected=[n, 3], actual=list(out.shape),
                           hint="salida.hint")


@check(points=5)
def sin_softmax(ctx: Context) -> None:
    out = ctx.artifacts.array("salida:sonda")
    ops = ctx.artifacts.value("programa").get("ops", []) if "programa" in ctx.artifacts else []
    probabilities = (out.ndim == 2 and out.size > 0 and bool(np.all(out >= 0))
                     and bool(np.allclose(out.sum(axis=1), 1.0, atol=1e-5)))
    if probabilities or any("softmax" in op and "log" not in op for op in ops):
        ctx.state["softmax"] = True
        raise CheckFailure("softmax.antes_de_ce", hint="softmax.hint")


@check(points=10)
def higiene_gradientes(ctx: Context) -> None:
    """Replays the student's ``entrenar`` on the grader's model and compares the weights it left."""
    info = ctx.artifacts.value("repaso")
    if not isinstance(info, dict):
        raise CheckFailure("higiene.ilegible")
    if not info.get("forward_calls"):
        raise CheckFailure("higiene.otro_modelo", hint="higiene.hint_argumentos")
    start = {key.split(":", 2)[2]: ctx.inputs[key] for key in ctx.inputs if key.startswith("repaso:w:")}
    after = {k: ctx.artifacts.array(f"repaso:despues:{k}") for k in start}
    verdict, gap = diagnose_loop(start, after, ctx.inputs["repaso:X"], ctx.inputs["repaso:y"],
                                 REPLAY_EPOCHS, REPLAY_LR, bool(info.get("grads_none")))
    ctx.state["ciclo"] = verdict
    if verdict != "ok":
        raise CheckFailure(f"higiene.{verdict}", epochs=REPLAY_EPOCHS, gap=f"{gap:.3g}",
                           hint=f"higiene.hint_{verdict}")
    if info.get("losses") != REPLAY_EPOCHS:
        raise CheckFailure("higiene.perdidas", expected=REPLAY_EPOCHS, actual=info.get("losses"),
                           hint="perdida.hint_longitud")


@check(points=8)
def curva_perdida(ctx: Context) -> Note | None:
    losses = ctx.artifacts.array("perdidas").astype(float).ravel()
    if losses.size != EPOCHS:
        raise CheckFailure("perdida.longitud", expected=EPOCHS, actual=int(losses.size),
                           hint="perdida.hint_longitud")
    first, last = float(losses[0]), float(losses[-1])
    if not np.all(np.isfinite(losses)):
        epoch = int(np.argmax(~np.isfinite(losses))) + 1
        raise CheckFailure("perdida.nan", epoch=epoch, first=round(first, 4), hint="perdida.hint_diverge")
    peak = int(np.argmax(losses))
    if losses[peak] > 10 * first:
        raise CheckFailure("perdida.explota", epoch=peak + 1, peak=f"{losses[peak]:.4g}",
                           first=round(first, 4), actual=round(last, 4), hint="perdida.hint_diverge")
    broken_loop = ctx.state.get("ciclo") not in (None, "ok")
    if last > 0.9 * first:
        raise CheckFailure("perdida.sube" if last > first else "perdida.no_baja", first=round(first, 4),
                           actual=round(last, 4),
                           hint="perdida.hint_ciclo" if broken_loop else "perdida.hint_no_baja")
    if last > FINAL_LOSS:
        raise CheckFailure("perdida.alta", expected=f"≤ {FINAL_LOSS}", actual=round(last, 4),
                           first=round(first, 4), fraction=0.5,
                           hint="perdida.hint_softmax" if ctx.state.get("softmax") else "perdida.hint_alta")
    return Note("perdida.ok", {"first": round(first, 4), "last": round(last, 4)})


@lru_cache(maxsize=1)
def test_split() -> tuple[np.ndarray, np.ndarray]:
    """Features and labels of the held-out Iris rows; the labels stay in this process.

    Read from the CSV scikit-learn ships, without importing scikit-learn (seconds);
    a test checks TEST_ROWS against the template's ``train_test_split``.
    """
    spec = importlib.util.find_spec("sklearn")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("scikit-learn is not installed; it ships the Iris data")
    csv = Path(next(iter(spec.submodule_search_locations))) / "datasets" / "data" / "iris.csv"
    data = np.loadtxt(csv, delimiter=",", skiprows=1)[TEST_ROWS]
    return data[:, :4].astype(np.float32), data[:, 4].astype(int)


@check(points=15, requires=["forma_salida"])
def precision_prueba(ctx: Context) -> Note:
    program = ctx.artifacts.value("programa")
    X_test, y_test = test_split()
    out = program_outputs(ctx, "modelo.pt2", X_test)
    if out.shape != (len(y_test), 3):
        raise CheckFailure("salida.forma", n=len(y_test), expected=[len(y_test), 3], actual=list(out.shape),
                           hint="salida.hint")
    accuracy = float(np.mean(out.argmax(axis=1) == y_test))
    if accuracy < MIN_ACCURACY:
        raise CheckFailure("precision.baja", expected=f"≥ {MIN_ACCURACY:.0%}", actual=f"{accuracy:.1%}",
                           hint="precision.hint")
    device = program.get("device", "?") if isinstance(program, dict) else "?"
    return Note("precision.ok", {"accuracy": f"{accuracy:.1%}", "device": device})
