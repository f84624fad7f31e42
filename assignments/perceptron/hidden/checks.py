"""Hidden checks of the perceptron assignment: instructor grading only.

Random probes are drawn fresh for every grading seed; the hidden split of the
pass-rate data never leaves this folder (only its features enter a run).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from grader import Context, check
from grader.assignment import public_checks

public = public_checks(__file__)

HIDDEN_DATA = Path(__file__).parent / "aprobacion_prueba.csv"


def inputs(rng: np.random.Generator) -> dict[str, np.ndarray]:
    probes: dict[str, np.ndarray] = {}
    for k, (m, n, p) in enumerate([(2, 4, 3), (5, 5, 5), (1, 7, 2), (6, 3, 4)]):
        probes[f"mm_rnd{k}_A"] = rng.integers(-9, 10, (m, n)).astype(float)
        probes[f"mm_rnd{k}_B"] = rng.normal(0, 2, (n, p)).round(3)
    probes["act_rnd"] = rng.normal(0, 3, (4, 6))
    probes["alpha_rnd"] = np.array(round(float(rng.uniform(0.2, 2.0)), 3))
    probes["aprob_oculto"] = np.loadtxt(HIDDEN_DATA, delimiter=",", skiprows=1)[:, :2]
    return probes


@check(points=5, hidden=True, requires=["producto_curso"])
def producto_aleatorio(ctx: Context) -> None:
    for k in range(4):
        a, b = ctx.inputs[f"mm_rnd{k}_A"], ctx.inputs[f"mm_rnd{k}_B"]
        public.compare(ctx, f"mm_rnd{k}", a @ b)


@check(points=10, hidden=True)
def activaciones_aleatorias(ctx: Context) -> None:
    public.each_function(ctx, public.ACTIVATIONS + public.DERIVATIVES, "act_rnd")
    x, alpha = ctx.inputs["act_rnd"], float(ctx.inputs["alpha_rnd"])
    public.compare(ctx, "elu:act_rnd:alpha_rnd", public.elu(x, alpha))


@check(points=10, hidden=True)
def aprobacion_oculta(ctx: Context) -> None:
    labels = np.loadtxt(HIDDEN_DATA, delimiter=",", skiprows=1)[:, 2]
    public.accuracy_at_least(ctx, "aprob_oculto", labels, 0.9)
