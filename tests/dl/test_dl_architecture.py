from __future__ import annotations

import pytest

from grader.dl.architecture import Layer, compare_layers, dense_params
from grader.errors import CheckFailure

EXPECTED = [Layer.dense(4, 8), Layer.dense(8, 9), Layer.dense(9, 3)]


def test_dense_params_counts_weights_and_biases() -> None:
    assert dense_params(4, 8) == 40
    assert sum(layer.params for layer in EXPECTED) == 151
    assert dense_params(4, 8, bias=False) == 32


def test_same_layers_pass() -> None:
    compare_layers(EXPECTED, list(EXPECTED))


@pytest.mark.parametrize(("actual", "key", "index"), [
    ([Layer.dense(4, 8), Layer.dense(8, 9), Layer.dense(9, 2)], "dl.params.outputs", 3),
    ([Layer.dense(4, 8), Layer.dense(16, 9), Layer.dense(9, 3)], "dl.params.inputs", 2),
    ([Layer.dense(4, 16), Layer.dense(16, 9), Layer.dense(9, 3)], "dl.params.outputs", 1),
    ([Layer.dense(4, 8, bias=False), Layer.dense(8, 9), Layer.dense(9, 3)], "dl.params.no_bias", 1),
    ([Layer.dense(4, 8), Layer.dense(8, 3)], "dl.layer_count", None),
    ([Layer.dense(4, 8), Layer("Conv1d", 8, 9, 81), Layer.dense(9, 3)], "dl.layer_kind", 2),
])
def test_first_difference_is_named_and_explained(actual: list[Layer], key: str, index: int | None) -> None:
    with pytest.raises(CheckFailure) as caught:
        compare_layers(EXPECTED, actual)
    assert caught.value.key == key
    assert caught.value.params.get("index") == index
    assert caught.value.params["expected_total"] == 151


def test_layer_from_export_json() -> None:
    layer = Layer.from_dict({"kind": "Linear", "inputs": 9, "outputs": 3, "params": 30, "bias": True})
    assert layer == Layer.dense(9, 3)
    assert Layer.from_dict({}).label() == "?"
