"""Generate the "índice de aprobación" data of the perceptron assignment.

Run once by the instructor (``python reference/perceptron/make_data.py``); the
output is committed. The student gets ``aprobacion.csv``; the hidden split goes to
``assignments/perceptron/hidden/`` and never reaches a student or a sandbox.

A student passes when a weighted mix of study hours and attendance clears a
threshold; a little label noise keeps the data *nearly* linearly separable.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2] / "assignments" / "perceptron"


def make(n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    horas = rng.uniform(0, 12, n).round(1)
    asistencia = rng.uniform(40, 100, n).round(0)
    score = 0.55 * horas + 0.07 * asistencia + rng.normal(0, 0.35, n)
    aprobado = (score > 8.3).astype(int)
    return np.column_stack([horas, asistencia, aprobado])


def write(path: Path, rows: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = ["horas_estudio,asistencia,aprobado"]
    lines += [f"{h:.1f},{a:.0f},{int(y)}" for h, a, y in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    write(ROOT / "data" / "aprobacion.csv", make(240, seed=2025))
    write(ROOT / "hidden" / "aprobacion_prueba.csv", make(120, seed=7311))
