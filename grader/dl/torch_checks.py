"""PyTorch on the trusted side: expected values computed by the grader, and exported programs.

Everything here computes *expected* values from inputs the grader chose (gradients
by autograd, a replayed training loop) or has an exported ``torch.export`` program
evaluated. This process never opens a file a run wrote with torch: programs are
loaded only by :data:`EVALUATE_SCRIPT`, inside a fresh sandbox that runs no student
code, and only their predictions come back (``.npy``).

torch is imported inside the functions, so loading a checks module stays cheap.
"""

from __future__ import annotations

import importlib
import os
import stat
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from ..checks import Context
from ..errors import CheckFailure
from ..evaluate import evaluate

EVALUATE_SCRIPT = """\
import numpy as np
import torch

def _predict():
    program = torch.export.load(ex.inputs["__program__"].item())
    X = torch.from_numpy(np.ascontiguousarray(ex.inputs["X"], dtype=np.float32))
    with torch.no_grad():
        out = program.module()(X)
    return out.detach().cpu().double().numpy()

ex.run("salida", _predict)
"""
"""Runs in the evaluation sandbox: the program's output on ``X``, nothing else."""


@dataclass(frozen=True)
class LinearNet:
    """What the grader expects of a two-layer linear network on one example."""

    hidden: np.ndarray
    prediction: np.ndarray
    error: float
    gradients: dict[str, np.ndarray]


def linear_net(params: Mapping[str, np.ndarray], x: np.ndarray, y: np.ndarray) -> LinearNet:
    """``h = x·W1 + b1``, ``ŷ = h·W2 + b2``, ``E = ½·Σ(ŷ − y)²`` and ∂E/∂θ by autograd (float64)."""
    import torch

    theta = {k: torch.tensor(np.asarray(params[k], dtype=float), requires_grad=True)
             for k in ("W1", "b1", "W2", "b2")}
    xt = torch.tensor(np.asarray(x, dtype=float))
    yt = torch.tensor(np.asarray(y, dtype=float))
    hidden = xt @ theta["W1"] + theta["b1"]
    prediction = hidden @ theta["W2"] + theta["b2"]
    error = 0.5 * ((prediction - yt) ** 2).sum()
    error.backward()
    return LinearNet(
        hidden=hidden.detach().numpy(), prediction=prediction.detach().numpy(), error=float(error.detach()),
        gradients={k: t.grad.numpy().copy() for k, t in theta.items() if t.grad is not None},
    )


def mlp(weights: Mapping[str, np.ndarray]) -> Any:
    """``Linear → ReLU → Linear`` (as ``nn.Sequential``) holding exactly ``weights``."""
    import torch
    from torch import nn

    hidden, inputs = weights["0.weight"].shape
    outputs = weights["2.weight"].shape[0]
    model = nn.Sequential(nn.Linear(inputs, hidden), nn.ReLU(), nn.Linear(hidden, outputs))
    model.load_state_dict({k: torch.from_numpy(np.array(v, dtype=np.float32)) for k, v in weights.items()})
    return model


def replay(weights: Mapping[str, np.ndarray], X: np.ndarray, y: np.ndarray, epochs: int, lr: float,
           *, zero_grad: bool = True) -> dict[str, np.ndarray]:
    """The weights after ``epochs`` full-batch SGD steps on cross-entropy, as a correct loop gives.

    With ``zero_grad=False``, what a loop that never clears its gradients gives instead.
    The step is written out (``p ← p − lr·∇p``, what ``torch.optim.SGD`` does without
    momentum) because the first use of ``torch.optim`` costs seconds of imports.
    """
    import torch
    from torch import nn

    model = mlp(weights)
    criterion = nn.CrossEntropyLoss()
    Xt, yt = torch.from_numpy(X.astype(np.float32)), torch.from_numpy(y.astype(np.int64))
    params = list(model.parameters())
    for _ in range(epochs):
        if zero_grad:
            for p in params:
                p.grad = None
        criterion(model(Xt), yt).backward()
        with torch.no_grad():
            for p in params:
                if p.grad is not None:
                    p -= lr * p.grad
    return {k: v.detach().numpy().copy() for k, v in model.state_dict().items()}


def warm_up() -> None:
    """Import torch in the background while the student's run goes on (it takes seconds)."""
    threading.Thread(target=importlib.import_module, args=("torch",), daemon=True).start()


Diagnosis = Literal["ok", "accumulates", "frozen", "frozen_no_grad", "other"]


def diagnose_loop(start: Mapping[str, np.ndarray], after: Mapping[str, np.ndarray], X: np.ndarray,
                  y: np.ndarray, epochs: int, lr: float, grads_none: bool) -> tuple[Diagnosis, float]:
    """Which training loop turns ``start`` into ``after``; and the largest gap to the right one.

    ``ok``: a correct loop; ``accumulates``: ``zero_grad`` forgotten; ``frozen``: the
    weights never moved although gradients exist (no ``step``, or gradients cleared
    before it); ``frozen_no_grad``: never moved and no gradient at all (no ``backward``).
    """
    right = replay(start, X, y, epochs, lr)
    if set(after) != set(right) or any(np.shape(after[k]) != right[k].shape for k in right):
        return "other", float("nan")
    gap = max(float(np.max(np.abs(after[k] - right[k]))) for k in right)

    def same(target: Mapping[str, np.ndarray]) -> bool:
        return all(np.allclose(after[k], target[k], rtol=1e-4, atol=1e-5) for k in right)

    if same(right):
        return "ok", gap
    if same(replay(start, X, y, epochs, lr, zero_grad=False)):
        return "accumulates", gap
    if same(start):
        return ("frozen_no_grad" if grads_none else "frozen"), gap
    return "other", gap


def program_outputs(ctx: Context, filename: str, X: np.ndarray) -> np.ndarray:
    """Outputs of the run's exported program on ``X``, computed in a sandbox without student code.

    Fails (``dl.program.*``) when the program is missing, not a plain file, too big,
    or cannot be loaded and run.
    """
    if ctx.sandbox is None:
        raise RuntimeError("no sandbox to evaluate the exported program in")
    path = ctx.artifacts.out_dir / filename
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        raise CheckFailure("dl.program.missing", name=filename) from None
    limit = ctx.limits.artifact_mb * 2**20
    if not stat.S_ISREG(info.st_mode) or info.st_size > limit:
        raise CheckFailure("dl.program.unusable", name=filename,
                           size_mb=round(info.st_size / 2**20, 1), limit_mb=ctx.limits.artifact_mb)
    inputs = {"X": np.asarray(X, dtype=np.float32), "__program__": np.array(filename)}
    with evaluate(EVALUATE_SCRIPT, model_files=[path], inputs=inputs, sandbox=ctx.sandbox,
                  limits=ctx.limits, warm=ctx.evaluator,
                  cache_dir=ctx.eval_cache) as ev:
        if "salida" not in ev.artifacts:
            entry = ev.artifacts.index.get("salida", {})
            detail = entry.get("message") or ev.detail.strip().splitlines()[-1:] or ["?"]
            raise CheckFailure("dl.program.failed", name=filename,
                               error=str(entry.get("error", "")),
                               detail=str(detail if isinstance(detail, str) else detail[0])[:300])
        return ev.artifacts.array("salida")
