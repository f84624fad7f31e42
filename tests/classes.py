"""Build whole classes from the perceptron fixtures, for the batch tests and benchmarks."""

from __future__ import annotations

import shutil
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "submissions" / "perceptron"
REFERENCE = ROOT / "reference" / "perceptron" / "perceptron.ipynb"
TEMPLATE = ROOT / "assignments" / "perceptron" / "perceptron.ipynb"


def with_cell(source: str, dest: Path) -> Path:
    """The reference with one more code cell at the end (a hostile or crashing addition)."""
    nb = nbformat.read(REFERENCE, as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(source))
    nbformat.write(nb, dest)
    return dest


def make_class(folder: Path, hostile: bool = True) -> Path:
    """A class folder: correct, wrong, broken, Classroom-style and (optionally) hostile work.

    Expected outcomes: ana 90, beto 60 (no_bias), carla error/invalid (corrupt), dani 90 (a
    script), eva 0 (the template), fede in ``perceptron-fede/`` (step_strict), and with
    ``hostile``: gus killed for memory, hugo's kernel dies (crash) after a full solution.
    """
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(REFERENCE, folder / "ana.ipynb")
    shutil.copyfile(FIXTURES / "no_bias.ipynb", folder / "beto.ipynb")
    shutil.copyfile(FIXTURES / "corrupt.ipynb", folder / "carla.ipynb")
    shutil.copyfile(FIXTURES / "reference_as_script.py", folder / "dani.py")
    shutil.copyfile(TEMPLATE, folder / "eva.ipynb")
    (folder / "perceptron-fede").mkdir(exist_ok=True)
    shutil.copyfile(FIXTURES / "step_strict.ipynb", folder / "perceptron-fede" / "perceptron.ipynb")
    if hostile:
        with_cell("bloques = [bytearray(256 * 2**20) for _ in range(40)]", folder / "gus.ipynb")
        with_cell("import os\nos._exit(1)", folder / "hugo.ipynb")
    return folder
