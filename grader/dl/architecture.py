"""Framework-neutral architecture checks: layers with parameters, compared one by one.

A model is described as a list of :class:`Layer` (what a Keras ``Dense`` or a
PyTorch ``nn.Linear`` has in common). :func:`compare_layers` names the first
difference and explains a parameter mismatch the way a student can act on it
("Linear 3: 20 parameters, expected 30 — 2 outputs instead of 3"). Messages are
the ``dl.*`` keys of the grader's catalogue.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ..errors import CheckFailure


@dataclass(frozen=True)
class Layer:
    """One layer that holds parameters."""

    kind: str
    """The framework's name for it: ``Linear``, ``Dense``…"""
    inputs: int | None
    outputs: int | None
    params: int
    bias: bool = True

    @classmethod
    def dense(cls, inputs: int, outputs: int, kind: str = "Linear", bias: bool = True) -> Layer:
        return cls(kind, inputs, outputs, dense_params(inputs, outputs, bias), bias)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Layer:
        """From the JSON an export step wrote (``kind``, ``inputs``, ``outputs``, ``params``, ``bias``)."""
        def number(key: str) -> int | None:
            value = data.get(key)
            return int(value) if isinstance(value, (int, float)) else None

        return cls(str(data.get("kind", "?")), number("inputs"), number("outputs"),
                   number("params") or 0, bool(data.get("bias", True)))

    def label(self) -> str:
        if self.inputs is None or self.outputs is None:
            return self.kind
        return f"{self.kind}({self.inputs}, {self.outputs})"


def dense_params(inputs: int, outputs: int, bias: bool = True) -> int:
    """Weights plus one bias per output unit."""
    return inputs * outputs + (outputs if bias else 0)


def total(layers: Iterable[Layer]) -> int:
    return sum(layer.params for layer in layers)


def compare_layers(expected: list[Layer], actual: list[Layer]) -> None:
    """Raise a :class:`CheckFailure` naming the first layer that differs, if any does."""
    totals: dict[str, Any] = {"expected_total": total(expected), "actual_total": total(actual)}
    if len(actual) != len(expected):
        raise CheckFailure(
            "dl.layer_count", expected=[layer.label() for layer in expected],
            actual=[layer.label() for layer in actual], expected_count=len(expected),
            actual_count=len(actual), expected_list=", ".join(layer.label() for layer in expected),
            actual_list=", ".join(layer.label() for layer in actual) or "—",
            hint="dl.params_hint", **totals,
        )
    for index, (want, got) in enumerate(zip(expected, actual, strict=True), start=1):
        if got.kind != want.kind:
            raise CheckFailure("dl.layer_kind", index=index, expected=want.label(),
                               actual=got.label(), **totals)
        if got.params == want.params and (got.inputs, got.outputs) == (want.inputs, want.outputs):
            continue
        raise CheckFailure(
            _reason(want, got), index=index, kind=got.kind, expected=want.params, actual=got.params,
            expected_inputs=want.inputs, actual_inputs=got.inputs,
            expected_outputs=want.outputs, actual_outputs=got.outputs,
            hint="dl.params_hint", **totals,
        )


def _reason(want: Layer, got: Layer) -> str:
    """The catalogue key that explains why a layer's shape or parameter count differs."""
    wrong_in, wrong_out = got.inputs != want.inputs, got.outputs != want.outputs
    if wrong_in and wrong_out:
        return "dl.params.both"
    if wrong_in:
        return "dl.params.inputs"
    if wrong_out:
        return "dl.params.outputs"
    if got.bias != want.bias:
        return "dl.params.no_bias" if want.bias else "dl.params.extra_bias"
    return "dl.params.other"
