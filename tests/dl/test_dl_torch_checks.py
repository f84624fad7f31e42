from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from grader.dl.torch_checks import diagnose_loop, linear_net, mlp, replay  # noqa: E402

COURSE = {"W1": np.array([[0.11, 0.12], [0.21, 0.08]]), "b1": np.array([1.0, 1.0]),
          "W2": np.array([[0.14], [0.15]]), "b2": np.array([1.0])}


def test_linear_net_gives_the_course_numbers() -> None:
    net = linear_net(COURSE, np.array([2.0, 3.0]), np.array([1.0]))
    assert np.allclose(net.hidden, [1.85, 1.48])
    assert np.allclose(net.prediction, [1.481])
    assert net.error == pytest.approx(0.1156805)
    assert np.allclose(net.gradients["b2"], [0.481])
    assert np.allclose(net.gradients["W1"], np.outer([2.0, 3.0], [0.14 * 0.481, 0.15 * 0.481]))


def start(rng: np.random.Generator) -> dict[str, np.ndarray]:
    return {"0.weight": rng.normal(0, 0.5, (5, 4)), "0.bias": rng.normal(0, 0.1, 5),
            "2.weight": rng.normal(0, 0.5, (3, 5)), "2.bias": rng.normal(0, 0.1, 3)}


def student_loop(weights: dict[str, np.ndarray], X: np.ndarray, y: np.ndarray, *, zero: bool = True,
                 backward: bool = True, step: bool = True) -> tuple[dict[str, np.ndarray], bool]:
    model = mlp(weights)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    for _ in range(3):
        loss = torch.nn.CrossEntropyLoss()(model(torch.tensor(X, dtype=torch.float32)), torch.tensor(y))
        if zero:
            optimizer.zero_grad()
        if backward:
            loss.backward()
        if step:
            optimizer.step()
    grads_none = all(p.grad is None for p in model.parameters())
    return {k: v.detach().numpy() for k, v in model.state_dict().items()}, grads_none


@pytest.mark.parametrize(("mistake", "verdict"), [
    ({}, "ok"), ({"zero": False}, "accumulates"), ({"backward": False}, "frozen_no_grad"),
    ({"step": False}, "frozen"),
])
def test_diagnose_loop_names_the_missing_call(mistake: dict[str, bool], verdict: str) -> None:
    rng = np.random.default_rng(1)
    weights, X, y = start(rng), rng.normal(0, 1, (16, 4)), rng.integers(0, 3, 16)
    after, grads_none = student_loop(weights, X, y, **mistake)
    assert diagnose_loop(weights, after, X, y, 3, 0.1, grads_none)[0] == verdict


def test_replay_matches_torch_sgd() -> None:
    rng = np.random.default_rng(2)
    weights, X, y = start(rng), rng.normal(0, 1, (16, 4)), rng.integers(0, 3, 16)
    after, _ = student_loop(weights, X, y)
    ours = replay(weights, X, y, 3, 0.1)
    assert all(np.allclose(ours[k], after[k], atol=1e-6) for k in ours)
