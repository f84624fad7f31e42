"""Hidden checks of the pytorch-backprop assignment: instructor grading only.

Fresh random networks for every grading seed, of the course's shape and larger:
forward, error and update against the definitions, gradients against torch
autograd computed here.
"""

from __future__ import annotations

import numpy as np

from grader import Context, check
from grader.assignment import public_checks

public = public_checks(__file__)

SHAPES = {"rnd0": (2, 2, 1), "rnd1": (2, 2, 1), "rnd2": (4, 5, 3), "rnd3": (6, 3, 2), "rnd4": (3, 8, 1)}
UPDATED = ("rnd1", "rnd2", "rnd3")


def inputs(rng: np.random.Generator) -> dict[str, np.ndarray]:
    probes: dict[str, np.ndarray] = {}
    for name, shape in SHAPES.items():
        net = public.random_network(rng, *shape)
        probes.update(public.network_inputs(name, net))
        probes[f"err:{name}:pred"] = rng.normal(0, 2, shape[2]).round(3)
        probes[f"err:{name}:y"] = rng.normal(0, 2, shape[2]).round(3)
        if name in UPDATED:
            probes.update(public.update_inputs(rng, name, net, round(float(rng.uniform(0.01, 0.5)), 3)))
    return probes


@check(points=4, hidden=True)
def adelante_aleatorio(ctx: Context) -> None:
    for name in SHAPES:
        public.check_forward(ctx, name)
        public.check_error(ctx, name)


@check(points=8, hidden=True)
def gradientes_aleatorios(ctx: Context) -> None:
    public.check_gradients(ctx, list(SHAPES))


@check(points=3, hidden=True)
def actualizacion_aleatoria(ctx: Context) -> None:
    for name in UPDATED:
        public.check_update(ctx, name)
