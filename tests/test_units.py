"""Unit tests of the small modules: intake, templates, checks runner, artifacts, i18n, static."""

from __future__ import annotations

import json
import os
from pathlib import Path

import nbformat
import numpy as np
import pytest

from grader import CheckFailure, Note, check
from grader.artifacts import ArtifactInvalid, Artifacts
from grader.assignment import all_assignments
from grader.checks import Context, collect_checks, run_checks
from grader.errors import ArtifactMissing, AssignmentError, IntakeError
from grader.i18n import Messages, load_catalogue
from grader.intake import load, script_to_notebook
from grader.manual import answers
from grader.report.safe import neutralise
from grader.schema import Result, RunInfo
from grader.settings import Limits
from grader.static import imported_modules
from grader.templates import make_template, strip_code

LIMITS = Limits()


def _nb(*sources: str) -> str:
    return nbformat.writes(nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_code_cell(s) for s in sources]))


# --- intake -----------------------------------------------------------------

@pytest.mark.parametrize(("name", "content", "key"), [
    ("a.txt", b"hola", "intake.wrong_type"),
    ("a.ipynb", b"", "intake.empty"),
    ("a.ipynb", b"{\"cells\": [", "intake.bad_json"),
    ("a.ipynb", b"[1, 2]", "intake.not_notebook"),
    ("a.py", "print('año')".encode("latin-1"), "intake.not_utf8"),
    ("a.ipynb", b'{"cells": [{"cell_type": "code"}], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}',
     "intake.invalid"),
])
def test_intake_refuses_with_a_key(tmp_path: Path, name: str, content: bytes, key: str) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(IntakeError) as info:
        load(path, name, LIMITS, "tarea.ipynb")
    assert info.value.key == key


def test_intake_drops_stored_outputs(tmp_path: Path) -> None:
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1")])
    nb.cells[0].outputs = [nbformat.v4.new_output("stream", text="100/100 ✓")]
    path = tmp_path / "a.ipynb"
    nbformat.write(nb, path)
    sub = load(path, "a.ipynb", LIMITS, "a.ipynb")
    assert sub.notebook.cells[0].outputs == []


def test_intake_finds_the_notebook_in_a_folder(tmp_path: Path) -> None:
    (tmp_path / "notas.ipynb").write_text(_nb("x = 1"))
    (tmp_path / "tarea.ipynb").write_text(_nb("y = 2"))
    sub = load(tmp_path, str(tmp_path), LIMITS, "tarea.ipynb")
    assert sub.path.name == "tarea.ipynb"
    (tmp_path / "tarea.ipynb").unlink()
    assert load(tmp_path, "", LIMITS, "tarea.ipynb").path.name == "notas.ipynb"
    (tmp_path / "otra.ipynb").write_text(_nb("z = 3"))
    with pytest.raises(IntakeError) as info:
        load(tmp_path, "", LIMITS, "tarea.ipynb")
    assert info.value.key == "intake.ambiguous"


def test_script_cells_split_at_markers() -> None:
    nb = script_to_notebook("import numpy as np\n# %%\nx = 1\n\n# %% [markdown]\ny = 2\n")
    assert [c.source.strip().splitlines()[-1] for c in nb.cells] == ["import numpy as np", "x = 1", "y = 2"]


# --- templates ---------------------------------------------------------------

def test_solution_blocks_become_placeholders_at_their_indent() -> None:
    src = "def f(x):\n    ### BEGIN SOLUTION\n    return x + 1\n    ### END SOLUTION\n"
    out = strip_code(src, "cell")
    assert "return x + 1" not in out
    assert "    raise NotImplementedError(" in out


@pytest.mark.parametrize("src", ["### BEGIN SOLUTION\nx", "x\n### END SOLUTION",
                                 "### BEGIN SOLUTION\n### BEGIN SOLUTION\n### END SOLUTION"])
def test_unbalanced_markers_are_refused(src: str) -> None:
    with pytest.raises(AssignmentError):
        strip_code(src, "cell 3")


def test_markdown_answers_are_blanked() -> None:
    ref = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(
        "Pregunta\n<!-- dlgrade:answer q1 -->\n"
        "<!-- BEGIN SOLUTION -->\nLa respuesta.\n<!-- END SOLUTION -->")])
    tpl = make_template(ref)
    assert "La respuesta" not in tpl.cells[0].source
    assert answers(tpl) == {"q1": ""}
    assert answers(ref) == {"q1": "La respuesta."}


# --- checks runner -----------------------------------------------------------

@check(points=4)
def _passes(ctx: Context) -> Note:
    return Note("n.ok", {"who": "x"})


@check(points=3)
def _fails(ctx: Context) -> None:
    raise CheckFailure("n.bad", expected=1, actual=2, hint="n.hint", fraction=0.5)


@check(points=2, requires=["_fails"])
def _dependent(ctx: Context) -> None:
    return None


@check(points=1)
def _broken(ctx: Context) -> None:
    raise ZeroDivisionError("oops")


class _Mod:
    pass


def test_outcomes_are_distinct(tmp_path: Path) -> None:
    catalogue = tmp_path / "messages.toml"
    lines = ["[es]", '"n.ok" = "bien {who}"', '"n.bad" = "mal: {actual} en vez de {expected}"',
             '"n.hint" = "prueba otra cosa"']
    lines += [f'"{n}.title" = "t {n}"' for n in ("_passes", "_fails", "_dependent", "_broken")]
    lines += ["[en]"] + [f'"{n}.title" = "t {n}"' for n in ("_passes", "_fails", "_dependent", "_broken")]
    catalogue.write_text("\n".join(lines), encoding="utf-8")
    messages = Messages("es", catalogue)
    module = _Mod()
    for fn in (_passes, _fails, _dependent, _broken):
        setattr(module, fn.__name__, fn)
    checks = collect_checks(module, messages, "test")  # type: ignore[arg-type]
    ctx = Context(Artifacts(tmp_path, 100), {}, "", None, RunInfo(), None)
    results = {r.id: r for r in run_checks(checks, ctx, messages)}
    assert results["_passes"].status == "passed" and results["_passes"].message == "bien x"
    assert results["_fails"].status == "failed" and results["_fails"].score == 1.5
    assert results["_fails"].message == "mal: 2 en vez de 1"
    assert results["_dependent"].status == "skipped" and results["_dependent"].score == 0
    assert results["_broken"].status == "error" and "ZeroDivisionError" in results["_broken"].message


def test_a_check_without_title_is_refused(tmp_path: Path) -> None:
    module = _Mod()
    module._passes = _passes  # type: ignore[attr-defined]
    with pytest.raises(AssignmentError, match="_passes"):
        collect_checks(module, Messages("es"), "mod.py")  # type: ignore[arg-type]


def test_failures_survive_pickling() -> None:
    import pickle

    failure = CheckFailure("k", expected=1, actual=2, hint="h", fraction=0.25, name="x")
    again = pickle.loads(pickle.dumps(failure))
    assert (again.key, again.expected, again.actual, again.fraction, again.params) == (
        "k", 1, 2, 0.25, {"name": "x"})
    assert isinstance(pickle.loads(pickle.dumps(ArtifactMissing("m"))), ArtifactMissing)


# --- artifacts ---------------------------------------------------------------

def _index(tmp_path: Path, entries: dict[str, dict[str, object]]) -> None:
    (tmp_path / "values.json").write_text(json.dumps(entries))


def test_artifacts_never_unpickle(tmp_path: Path) -> None:
    np.save(tmp_path / "evil.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    np.save(tmp_path / "good.npy", np.arange(3))
    _index(tmp_path, {"evil": {"ok": True, "file": "evil.npy"}, "good": {"ok": True, "file": "good.npy"}})
    arts = Artifacts(tmp_path, 10_000)
    assert arts.array("good").tolist() == [0, 1, 2]
    with pytest.raises(ArtifactInvalid):
        arts.array("evil")


def test_artifacts_refuse_symlinks_and_big_files(tmp_path: Path) -> None:
    os.symlink("/etc/passwd", tmp_path / "link.npy")
    np.save(tmp_path / "big.npy", np.zeros(10_000))
    _index(tmp_path, {"link": {"ok": True, "file": "link.npy"}, "big": {"ok": True, "file": "big.npy"},
                      "up": {"ok": True, "file": "../x.npy"}})
    arts = Artifacts(tmp_path, 1_000)
    with pytest.raises(ArtifactInvalid) as link:  # refused as the student's, not a grader error
        arts.array("link")
    assert link.value.key == "artifact.not_file"
    with pytest.raises(ArtifactInvalid):
        arts.array("big")
    with pytest.raises(ArtifactInvalid):
        arts.array("up")


def test_missing_and_raised_keys_fail_as_the_students(tmp_path: Path) -> None:
    _index(tmp_path, {"f": {"ok": False, "error": "NameError", "message": "name 'f' is not defined"}})
    arts = Artifacts(tmp_path, 1000)
    with pytest.raises(ArtifactMissing) as raised:
        arts.value("f")
    assert raised.value.key == "artifact.raised"
    with pytest.raises(ArtifactMissing) as missing:
        arts.value("g")
    assert missing.value.key == "artifact.missing"


# --- catalogues, schema, static, safety --------------------------------------

def test_every_catalogue_has_both_languages_with_the_same_keys() -> None:
    catalogues = [Path(__file__).parents[1] / "grader" / "messages.toml"]
    catalogues += [a.root / "messages.toml" for a in all_assignments()]
    for path in catalogues:
        tables = load_catalogue(path)
        assert set(tables["es"]) == set(tables["en"]), path


def test_missing_translation_falls_back_to_spanish(tmp_path: Path) -> None:
    path = tmp_path / "m.toml"
    path.write_text('[es]\n"solo" = "sólo {x}"\n[en]\n', encoding="utf-8")
    assert Messages("en", path)("solo", x=1) == "sólo 1"
    assert Messages("en", path)("nada") == "nada"


def test_result_round_trips_through_json(tmp_path: Path) -> None:
    from grader.schema import CheckResult, ManualItem

    result = Result("a", "s.ipynb", "0" * 64, "graded", 1.5, 3.0,
                    [CheckResult("c", "t", "failed", 1.5, 3.0, "public", "m", np.float32(1), [1])],
                    RunInfo(seconds=1.0), {"python": "3"}, "es",
                    manual=[ManualItem("q", "Q", 2.0, "texto")])
    path = tmp_path / "r.json"
    path.write_text(result.to_json())
    again = Result.load(path)
    assert again.checks[0].expected == 1.0 and again.manual[0].text == "texto"
    assert again.manual_pending == 2.0


def test_imports_are_found_even_when_hidden() -> None:
    src = ("%matplotlib inline\nimport os, sklearn.linear_model\nfrom torch import nn\n"
           "x = __import__('keras')\n")
    assert {"os", "sklearn", "torch", "keras"} <= imported_modules(src)
    assert "tensorflow" in imported_modules("def f(:\nimport tensorflow as tf\n")


def test_student_text_cannot_pose_as_grader_output() -> None:
    text = neutralise("ok\n::error::100/100\n\x1b[32mverde\x1b[0m")
    assert "\n::error" not in text and "\x1b" not in text


def test_batch_pictures_are_kept_by_what_they_are_drawn_from(tmp_path: Path) -> None:
    from grader.pipeline import Options, _pictures

    class _Drawing:
        root = tmp_path / "tarea"
        drawn = 0

        def picture_code(self, hidden: bool) -> str:
            return "def pictures(ctx): ..."

        def pictures(self, ctx: object, hidden: bool) -> dict[str, bytes]:
            self.drawn += 1
            return {"curvas.png": b"\x89PNG" + bytes([self.drawn])}

    assignment = _Drawing()
    assignment.root.mkdir()
    (assignment.root / "checks.py").write_text("THRESHOLD = 0.97\n")
    out = tmp_path / "out"
    out.mkdir()
    (out / "values.json").write_text("{}")
    options = Options(evaluations=tmp_path / "cache")
    first = _pictures(assignment, None, options, "es", out)  # type: ignore[arg-type]
    (assignment.root / "checks.py").write_text("THRESHOLD = 0.975\n")  # a threshold change
    again = _pictures(assignment, None, options, "es", out)  # type: ignore[arg-type]
    assert again == first and assignment.drawn == 1
    (out / "values.json").write_text('{"otra": 1}')  # other exports: drawn anew
    _pictures(assignment, None, options, "es", out)  # type: ignore[arg-type]
    assert assignment.drawn == 2
    _pictures(assignment, None, options, "en", out)  # type: ignore[arg-type]
    assert assignment.drawn == 3
