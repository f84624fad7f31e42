"""The sandbox itself: the fallback, the environment, the limits, the trusted-side readers.

The hostile corpus (``test_hostile.py``) attacks through whole submissions; these
tests pin the pieces: what the fallback does where bubblewrap is missing (forced
here with ``DLGRADE_SANDBOX=subprocess``), what a bubblewrap command binds, how
limits are declared, and how exported files are read.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import nbformat
import numpy as np
import psutil
import pytest
from conftest import ROOT, run_cli
from test_hostile import HOSTILE, REFERENCE, TOKEN, needs_bwrap, probe, small_copy

from grader import Options, grade
from grader.artifacts import Artifacts
from grader.assignment import Assignment
from grader.errors import ArtifactMissing, AssignmentError, IntakeError
from grader.evaluate import evaluate
from grader.i18n import Messages
from grader.intake import load
from grader.report import render_markdown
from grader.report.safe import neutralise
from grader.sandbox import FORCE_ENV, SUBPROCESS, PidsCgroup, Sandbox, choose, environment
from grader.settings import DEFAULT_LIMITS, Limits


@pytest.fixture(scope="module")
def assignment(tmp_path_factory: pytest.TempPathFactory) -> Assignment:
    return small_copy(tmp_path_factory.mktemp("assignments"))


def _env_probe(tmp_path: Path) -> Path:
    """The reference, then a cell reporting variables outside the allow-list or holding a secret."""
    allowed = [*environment(DEFAULT_LIMITS, "/tmp/home", {"DLGRADE_OUT": ""}), *SET_BY_IPYTHON]
    nb = nbformat.read(REFERENCE, as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(
        "import json, os\n"
        f"allowed = {allowed!r}\n"
        "bad = [k for k in os.environ if k not in allowed]\n"
        "bad += ['secret:' + k for k, v in os.environ.items() if 'FAKE-TOKEN' in v]\n"
        "run = os.path.dirname(os.environ['DLGRADE_OUT'])\n"
        "own = ('/tmp',) if os.environ['HOME'] == '/tmp/home' else (run + '/',)  # bwrap: private\n"
        "bad += [k for k in ('HOME', 'TMPDIR') if not os.environ[k].startswith(own)]\n"
        "import tempfile\n"
        "if not tempfile.mkdtemp().startswith(own):\n"
        "    bad.append('shared tmp')\n"
        "raise RuntimeError('probe:' + json.dumps(bad))\n"))
    path = tmp_path / "entorno.ipynb"
    path.write_text(nbformat.writes(nb), encoding="utf-8")
    return path


SET_BY_IPYTHON = ["TERM", "CLICOLOR", "CLICOLOR_FORCE", "PAGER", "GIT_PAGER", "FORCE_COLOR",
                  "PYDEVD_USE_FRAME_EVAL", "PWD", "DLGRADE_RUN"]
"""Set by ipykernel, IPython or bubblewrap itself, with fixed values."""


# --- the fallback ---------------------------------------------------------------------------


def test_forcing_the_fallback_still_needs_permission(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(FORCE_ENV, SUBPROCESS)
    assert choose(allow_weak=False) is None
    assert choose(allow_weak=True) == Sandbox(SUBPROCESS)


def test_instructor_grading_refuses_weak_isolation_without_the_flag(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(FORCE_ENV, SUBPROCESS)
    done = run_cli("grade", "perceptron", str(REFERENCE), "--out", str(tmp_path))
    assert done.returncode == 2
    assert "--allow-weak-sandbox" in done.stderr
    assert not (tmp_path / "perceptron").exists()


def test_fallback_grades_and_says_isolation_was_weaker(
        monkeypatch: pytest.MonkeyPatch, assignment: Assignment, tmp_path: Path) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    result = grade(assignment, _env_probe(tmp_path), "entorno", Sandbox(SUBPROCESS), Options())
    assert result.run.sandbox == "subprocess"
    assert result.score == result.max_score
    assert probe(result) == []
    assert "bubblewrap" in render_markdown(result, Messages("en"))


def test_fallback_leaves_no_daemon_and_keeps_its_limits(assignment: Assignment) -> None:
    box = Sandbox(SUBPROCESS)
    daemon = grade(assignment, HOSTILE / "daemon_outlives_run.ipynb", "d", box, Options())
    assert daemon.score == daemon.max_score
    assert not [p for p in psutil.process_iter(["cmdline"])
                if "914.25" in " ".join(p.info["cmdline"] or [])]
    bomb = grade(assignment, HOSTILE / "memory_bomb.ipynb", "m", box, Options())
    assert bomb.run.exit == "memory" and bomb.run.sandbox == "subprocess"


# --- what bubblewrap sees ---------------------------------------------------------------------


@needs_bwrap
def test_bwrap_environment_is_exactly_the_allow_list(
        monkeypatch: pytest.MonkeyPatch, assignment: Assignment, tmp_path: Path) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", TOKEN)
    result = grade(assignment, _env_probe(tmp_path), "entorno", Sandbox("bwrap"), Options())
    assert probe(result) == []


def test_bwrap_binds_nothing_of_the_repository_but_the_environment(tmp_path: Path) -> None:
    argv = Sandbox("bwrap").command(
        ["python"], run_dir=tmp_path, cwd=tmp_path, env={"HOME": "/tmp/home"}, limits=Limits())
    sources = [argv[i + 1] for i, a in enumerate(argv) if a in ("--bind", "--ro-bind", "--dev-bind")]
    for private in ("reference", "assignments", "tests", ".git"):
        assert not any((ROOT / private).is_relative_to(Path(src)) for src in sources), private
    assert "--unshare-all" in argv and "--die-with-parent" in argv and "--remount-ro" in argv
    assert not [a for a in argv if a.startswith("/dev/nvidia")] or Path("/dev/nvidiactl").exists()


def test_pids_cgroup_is_created_and_removed_when_allowed() -> None:
    group = PidsCgroup.create("dlg-test-cgroup", 50)
    if group is None:
        pytest.skip("no writable pids cgroup here; the watchdog alone counts processes")
    assert (group.path / "pids.max").read_text().strip() == "50"
    group.remove()
    assert not group.path.exists()


@needs_bwrap
def test_evaluation_runs_under_the_same_watchdog() -> None:
    script = "import numpy as np\nhog = [np.ones(2_000_000) for _ in range(400)]\n"
    with evaluate(script, model_files=[], inputs={}, sandbox=Sandbox("bwrap"),
                  limits=Limits(memory_mb=200), timeout_s=30) as ev:
        assert not ev.ok
        assert ev.detail == "memory"


# --- limits -------------------------------------------------------------------------------------


@pytest.mark.parametrize("table, words", [
    ({"memory": 10}, "unknown limit(s) memory"),
    ({"memory_mb": "big"}, "positive number"),
    ({"max_processes": 2.5}, "whole number"),
    ({"time_s": -1}, "positive number"),
])
def test_bad_limit_overrides_are_refused_with_their_name(table: dict, words: str) -> None:
    with pytest.raises(AssignmentError, match=words.replace("(", r"\(").replace(")", r"\)")):
        DEFAULT_LIMITS.with_overrides(table, "assignment.toml")


def test_limit_overrides_apply() -> None:
    limits = DEFAULT_LIMITS.with_overrides({"time_s": 5, "memory_mb": 300}, "x")
    assert (limits.time_s, limits.memory_mb, limits.disk_mb) == (5, 300, DEFAULT_LIMITS.disk_mb)


def test_a_folder_too_crowded_is_refused_before_copying(tmp_path: Path) -> None:
    for i in range(12):
        (tmp_path / f"f{i}.txt").write_text("x")
    with pytest.raises(IntakeError) as err:
        load(tmp_path, "f", Limits(max_files=10), "perceptron.ipynb")
    assert err.value.key == "intake.folder_too_big"


# --- the trusted-side readers --------------------------------------------------------------------


def _artifacts(out: Path, index: dict) -> Artifacts:
    (out / "values.json").write_text(json.dumps(index))
    return Artifacts(out, 1000)


def test_exported_files_that_are_not_plain_data_are_refused(tmp_path: Path) -> None:
    np.save(tmp_path / "obj.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    np.save(tmp_path / "big.npy", np.zeros(1000))
    (tmp_path / "link.npy").symlink_to("/etc/passwd")
    os.mkfifo(tmp_path / "fifo.npy")
    (tmp_path / "junk.npy").write_bytes(b"\x93NUMPY garbage")
    arts = _artifacts(tmp_path, {k: {"ok": True, "file": f"{k}.npy"}
                                 for k in ("obj", "big", "link", "fifo", "junk", "gone")}
                      | {"up": {"ok": True, "file": "../values.json"}})
    expected = {"obj": "artifact.pickle", "big": "artifact.too_big", "link": "artifact.not_file",
                "fifo": "artifact.not_file", "junk": "artifact.unreadable",
                "gone": "artifact.not_exported", "up": "artifact.bad_name"}
    for key, code in expected.items():
        with pytest.raises(ArtifactMissing) as err:
            arts.array(key)
        assert err.value.key == code, key


def test_an_index_that_is_a_link_or_too_deep_counts_as_no_export(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "values.json").symlink_to(ROOT / "pyproject.toml")
    assert Artifacts(tmp_path / "a", 1000).problem == "invalid"
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "values.json").write_text("[" * 100_000 + "]" * 100_000)
    deep = Artifacts(tmp_path / "b", 1000)
    assert deep.problem == "invalid"
    with pytest.raises(ArtifactMissing) as err:
        deep.array("mm_curso")
    assert err.value.key == "artifact.not_exported"


@pytest.mark.parametrize("text, shown", [
    ("::error file=x::you pass", ":\u200b:error file=x::you pass"),
    ("ok\n  ::set-output name=score::100", "ok\n  :\u200b:set-output name=score::100"),
    ("##[error]fake", "#\u200b#[error]fake"),
    ("\x1b[32m✓ all passed\x1b[0m", "✓ all passed"),
    ("\x9b31mred", "31mred"),
    ("abc\u202edcba", "abcdcba"),
])
def test_student_text_cannot_pose_as_grader_output(text: str, shown: str) -> None:
    assert neutralise(text) == shown
