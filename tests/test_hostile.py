"""The hostile corpus: every attack in ``tests/submissions/hostile/`` is contained.

Each fixture is the perceptron reference (or its unfinished template) with one
hostile cell added at the end, so the checks that don't depend on the attack show
that grading went on around it. For every case the test asserts the result
(status, ``run.exit``, which checks fail and why), and the containment guards of
:class:`Guard`: nothing outside the sandbox changed, no process outlived the
run, no secret or hidden value reached any output. Big notebooks, symlinks and
archives are generated at test time instead of being committed.

The assignment graded is a copy of ``perceptron`` with small limits, so that a
memory bomb or a disk filler is stopped in a second or two.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import socket
import subprocess
import tarfile
import tempfile
import threading
import uuid
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import nbformat
import psutil
import pytest
from conftest import ROOT, SUBMISSIONS, failing, load_result, run_cli, statuses

from grader import Options, Result, grade
from grader.assignment import Assignment
from grader.i18n import Messages
from grader.report import render_markdown
from grader.sandbox import Sandbox, bwrap_works

HOSTILE = SUBMISSIONS / "hostile"
REFERENCE = ROOT / "reference" / "perceptron" / "perceptron.ipynb"
TEMPLATE = ROOT / "assignments" / "perceptron" / "perceptron.ipynb"
TOKEN = "FAKE-TOKEN-" + uuid.uuid4().hex
HIDDEN_CANARY = "HIDDEN-CANARY-" + uuid.uuid4().hex
LISTEN_PORT = 47831  # the port the network fixture tries; the test listens on it
SMALL_LIMITS = """[limits]
time_s = 8
export_time_s = 20
startup_time_s = 40
memory_mb = 400
max_processes = 40
max_threads = 300
disk_mb = 24
max_files = 2000
output_kb = 32
artifact_mb = 1
"""
HIDDEN_CHECKS = {"producto_aleatorio", "activaciones_aleatorias", "aprobacion_oculta"}

needs_bwrap = pytest.mark.skipif(not bwrap_works(), reason="bubblewrap cannot run here")


def small_copy(base: Path) -> Assignment:
    """perceptron with small limits, and a canary among its hidden files."""
    root = base / "perceptron"
    shutil.copytree(ROOT / "assignments" / "perceptron", root)
    toml = (root / "assignment.toml").read_text(encoding="utf-8")
    head, _, rest = toml.partition("[limits]")
    manual = rest[rest.index("[[manual]]"):]
    (root / "assignment.toml").write_text(head + SMALL_LIMITS + "\n" + manual, encoding="utf-8")
    (root / "hidden" / "secreto.txt").write_text(HIDDEN_CANARY, encoding="utf-8")
    return Assignment(root)


@pytest.fixture(scope="module")
def assignment(tmp_path_factory: pytest.TempPathFactory) -> Assignment:
    return small_copy(tmp_path_factory.mktemp("assignments"))


@pytest.fixture(scope="module")
def box() -> Sandbox:
    return Sandbox("bwrap")


@pytest.fixture(scope="module")
def template_result(assignment: Assignment, box: Sandbox) -> Result:
    return grade(assignment, TEMPLATE, "template", box, Options())


class _Listener:
    """A TCP server on the grader's loopback; it must never hear from a sandbox."""

    def __init__(self) -> None:
        self.heard: list[bytes] = []
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            self.sock.bind(("127.0.0.1", LISTEN_PORT))
            self.listening = True
        except OSError:
            self.listening = False
            return
        self.sock.listen()
        self.sock.settimeout(0.2)
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            conn.settimeout(1)
            try:
                self.heard.append(conn.recv(1024) or b"(connected)")
            except OSError:
                self.heard.append(b"(connected)")
            conn.close()

    def close(self) -> None:
        if self.listening:
            self.stop.set()
            self.thread.join(timeout=2)
        self.sock.close()


@dataclass
class Guard:
    """Snapshots of what a sandboxed run must leave untouched."""

    canary_dir: Path
    canary: Path
    runs: Path
    """Where this test's run folders are made (tempfile's folder, for the test's duration)."""
    sibling: subprocess.Popen[bytes] | None = None

    def leftovers(self) -> list[str]:
        """Processes of this test's runs: named by a fixture, or naming a run folder of its."""
        found = []
        for proc in psutil.process_iter(["cmdline"]):
            cmd = " ".join(proc.info["cmdline"] or [])
            if "913.25" in cmd or "914.25" in cmd or str(self.runs) in cmd:
                found.append(cmd)
        return found

    def check(self, result: Result, lang: str = "es") -> None:
        assert self.canary.read_text(encoding="utf-8") == "canary", "a file outside was changed"
        assert sorted(p.name for p in self.canary_dir.iterdir()) == [self.canary.name]
        for place in (*self.runs.parents, ROOT, Path("/etc"), Path.home()):
            assert not list(place.glob("dlgrade_pwned*")), f"something was written in {place}"
        assert not Path("/tmp/dlgrade_pwned_by_pickle").exists(), "the grader unpickled a payload"
        assert self.leftovers() == [], "a process outlived its run"
        assert list(self.runs.iterdir()) == [], "a run folder was left behind"
        assert self.sibling is not None and self.sibling.poll() is None, "a sibling was killed"
        text = result.to_json() + render_markdown(result, Messages(lang))
        for secret in (TOKEN, HIDDEN_CANARY, "dlgrade_canary"):
            assert secret not in text, f"{secret} leaked into the result"


@pytest.fixture
def guard(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Guard]:
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    monkeypatch.setenv("DLGRADE_API_KEY", TOKEN)
    canary_dir = tmp_path / "outside"
    canary_dir.mkdir()
    canary = canary_dir / f"dlgrade_canary_{uuid.uuid4().hex}.txt"
    canary.write_text("canary", encoding="utf-8")
    runs = tmp_path / "runs"
    runs.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(runs))
    sibling = subprocess.Popen(["sleep", "300"])
    g = Guard(canary_dir, canary, runs, sibling)
    yield g
    sibling.kill()
    sibling.wait()


def probe(result: Result) -> list[str]:
    """What a probing fixture reached: it raises ``RuntimeError("probe:[...]")`` at its end."""
    for err in result.run.cell_errors:
        if err["ename"] == "RuntimeError" and err["evalue"].startswith("probe:"):
            return list(json.loads(err["evalue"][len("probe:"):]))
    raise AssertionError(f"the probe did not report: {result.run.cell_errors}")


def codes(result: Result) -> dict[str, str | None]:
    return {c.id: c.code for c in result.checks if c.status != "passed"}


# name → (exit, checks expected not to pass (None: all pass is not expected, see test))
FULL_MARKS = {
    "infinite_loop.ipynb": "timeout",
    "sleeping_child.ipynb": "timeout",
    "daemon_outlives_run.ipynb": "ok",
    "tmp_filler.ipynb": "ok",
    "output_flood.ipynb": "ok",
    "kill_parent_and_siblings.ipynb": "ok",
    "sys_exit.ipynb": "ok",
    "kernelspec_other_kernel.ipynb": "ok",
}


@needs_bwrap
@pytest.mark.parametrize("name", sorted(FULL_MARKS))
def test_contained_attack_keeps_every_point_earned(name: str, assignment: Assignment, box: Sandbox,
                                                   guard: Guard) -> None:
    """The attack is stopped or harmless; everything the student did right still counts."""
    result = grade(assignment, HOSTILE / name, name, box, Options())
    assert result.status == "graded"
    assert result.run.exit == FULL_MARKS[name]
    assert failing(result) == set(), codes(result)
    assert result.score == result.max_score
    if FULL_MARKS[name] == "timeout":
        assert "8 s" in result.run.message
    if name == "output_flood.ipynb":
        assert result.run.output_truncated
        assert "32 KB" in result.run.message
    if name == "tmp_filler.ipynb":
        assert "No space left" in result.run.cell_errors[-1]["evalue"]
    if name == "sys_exit.ipynb":
        assert result.run.cell_errors[-1]["ename"] == "SystemExit"
    guard.check(result)


KILLED = {
    "memory_bomb.ipynb": ("memory", "artifact.not_exported"),
    "fork_bomb.ipynb": ("processes", "artifact.not_exported"),
    "thread_bomb.ipynb": ("processes", "artifact.not_exported"),
    "disk_filler.ipynb": ("disk", "artifact.not_exported"),
    "os_exit.ipynb": ("crash", "artifact.not_exported"),
    "kills_own_kernel.ipynb": ("crash", "artifact.not_exported"),
    "ctypes_segfault.ipynb": ("crash", "artifact.not_exported"),
}


@needs_bwrap
@pytest.mark.parametrize("name", sorted(KILLED))
def test_run_killed_at_a_limit_gets_a_result_that_says_why(
        name: str, assignment: Assignment, box: Sandbox, guard: Guard) -> None:
    result = grade(assignment, HOSTILE / name, name, box, Options(lang="en"))
    exit_, code = KILLED[name]
    assert result.status == "graded"
    assert result.run.exit == exit_
    assert codes(result)["producto_curso"] == code
    assert result.score == 0
    assert "code cell 11" in result.run.message  # the hostile cell, after the reference's ten
    if exit_ == "memory":
        assert result.run.peak_memory_mb >= 400
        assert "limit is 400 MB" in result.run.message
    if exit_ == "processes":
        assert "the limit is 40 processes and 300 threads" in result.run.message
    guard.check(result, "en")


@needs_bwrap
@pytest.mark.parametrize("name", ["network_access.ipynb", "read_instructor_material.ipynb"])
def test_nothing_outside_is_reachable(name: str, assignment: Assignment, box: Sandbox,
                                      guard: Guard) -> None:
    """No network, no instructor material, no other run, no secret: the probe finds nothing."""
    listener = _Listener()
    try:
        result = grade(assignment, HOSTILE / name, name, box, Options())
    finally:
        listener.close()
    assert probe(result) == []
    assert listener.heard == []
    assert failing(result) == set()
    guard.check(result)


@needs_bwrap
def test_writes_land_only_in_the_private_tmp(assignment: Assignment, box: Sandbox,
                                            guard: Guard) -> None:
    result = grade(assignment, HOSTILE / "write_outside.ipynb", "w", box, Options())
    written = probe(result)
    assert all(p.startswith("/tmp/") for p in written), written  # its own /tmp, gone with the run
    assert failing(result) == set()
    guard.check(result)


@needs_bwrap
@pytest.mark.parametrize("name", ["monkeypatch_numpy.ipynb", "stored_outputs_claim_success.ipynb"])
def test_faking_success_scores_like_the_unfinished_template(
        name: str, assignment: Assignment, box: Sandbox, guard: Guard,
        template_result: Result) -> None:
    result = grade(assignment, HOSTILE / name, name, box, Options())
    assert statuses(result) == statuses(template_result)
    assert result.score == template_result.score == 0
    guard.check(result)


@needs_bwrap
def test_forged_results_earn_only_what_hard_coding_could(assignment: Assignment, box: Sandbox,
                                                        guard: Guard) -> None:
    """Its own values.json and result.json: the truth tables (public facts) pass, nothing else."""
    result = grade(assignment, HOSTILE / "forge_result_file.ipynb", "f", box, Options())
    passed = {c.id for c in result.checks if c.status == "passed"}
    assert passed == {"perceptron_interfaz", "perceptron_and", "perceptron_or", "sin_frameworks"}
    assert not passed & HIDDEN_CHECKS
    assert codes(result)["xor_registrado"] == "xor.claims_perfect"
    assert result.score == 25
    guard.check(result)


EXPORT_ATTACKS = {
    "object_dtype_export.ipynb": {"producto_curso": "artifact.pickle"},
    "oversized_artifact.ipynb": {"producto_curso": "artifact.too_big"},
    "symlinks_in_output.ipynb": {"producto_curso": "artifact.not_file",
                                 "activaciones_puntos": "functions_raised",
                                 "derivadas_puntos": "functions_raised"},
}


@needs_bwrap
@pytest.mark.parametrize("name", sorted(EXPORT_ATTACKS))
def test_unsafe_exports_are_refused_not_read(name: str, assignment: Assignment, box: Sandbox,
                                            guard: Guard) -> None:
    result = grade(assignment, HOSTILE / name, name, box, Options())
    expected = {**EXPORT_ATTACKS[name], "producto_a_mano": "check.skipped",
                "producto_aleatorio": "check.skipped"}
    assert codes(result) == expected
    guard.check(result)


@needs_bwrap
def test_syntax_error_in_a_script_costs_only_that_cell(assignment: Assignment, box: Sandbox,
                                                      guard: Guard) -> None:
    result = grade(assignment, HOSTILE / "syntax_error.py", "s", box, Options())
    assert result.run.exit == "ok"
    assert [e["ename"] for e in result.run.cell_errors] == ["SyntaxError"]
    assert failing(result) == {"xor_registrado"}
    guard.check(result)


def _reference_with(cell: str) -> str:
    nb = nbformat.read(REFERENCE, as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(cell))
    return nbformat.writes(nb)


@needs_bwrap
def test_symlinks_in_a_submitted_folder_are_not_followed(tmp_path: Path, assignment: Assignment,
                                                        box: Sandbox, guard: Guard) -> None:
    folder = tmp_path / "entrega"
    folder.mkdir()
    (folder / "perceptron.ipynb").write_text(_reference_with(
        "import json, os\n"
        "found = [p for p in ('datos.csv', 'referencia/perceptron/perceptron.ipynb', 'passwd')\n"
        "         if os.path.exists(p)]\n"
        "raise RuntimeError('probe:' + json.dumps(found))\n"), encoding="utf-8")
    (folder / "datos.csv").symlink_to("/etc/passwd")
    (folder / "passwd").symlink_to("/etc/passwd")
    (folder / "referencia").symlink_to(ROOT / "reference")
    result = grade(assignment, folder, "entrega", box, Options())
    assert probe(result) == []
    assert failing(result) == set()
    guard.check(result)
    link = tmp_path / "enlace.ipynb"
    link.symlink_to(REFERENCE)
    refused = grade(assignment, link, "enlace.ipynb", box, Options())
    assert refused.status == "error" and "enlace simbólico" in refused.message


@needs_bwrap
def test_folder_with_nested_archives_grades_its_notebook(tmp_path: Path, assignment: Assignment,
                                                        box: Sandbox, guard: Guard) -> None:
    folder = tmp_path / "entrega"
    folder.mkdir()
    shutil.copyfile(REFERENCE, folder / "perceptron.ipynb")
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w") as zf:
        zf.writestr("otra/perceptron.ipynb", TEMPLATE.read_text(encoding="utf-8"))
        zf.writestr("ceros.bin", b"\0" * 5_000_000)  # compresses to almost nothing
    with zipfile.ZipFile(folder / "entrega.zip", "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("dentro.zip", inner.getvalue())
    with tarfile.open(folder / "copia.tar.gz", "w:gz") as tf:
        tf.add(folder / "entrega.zip", arcname="entrega.zip")
    result = grade(assignment, folder, "entrega", box, Options())
    assert result.score == result.max_score  # the archives are data, never unpacked
    guard.check(result)
    only_archives = tmp_path / "solo_zip"
    only_archives.mkdir()
    shutil.copyfile(folder / "entrega.zip", only_archives / "entrega.zip")
    refused = grade(assignment, only_archives, "solo_zip", box, Options(lang="en"))
    assert refused.status == "error" and "holds no notebook" in refused.message


def test_unreadable_notebooks_get_a_result_with_the_reason(assignment: Assignment,
                                                           tmp_path: Path) -> None:
    box = Sandbox("subprocess")  # refused before anything runs: no sandbox needed
    cases = {
        "invalid_json.ipynb": "JSON is broken at line",
        "non_utf8.ipynb": "is not UTF-8 text",
    }
    many = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1")] * 20_000)
    (tmp_path / "many_cells.ipynb").write_text(nbformat.writes(many), encoding="utf-8")
    cases["many_cells.ipynb"] = "20000 cells; the limit is 2000"
    big = nbformat.read(REFERENCE, as_version=4)
    big.cells[1].outputs = [nbformat.v4.new_output("stream", name="stdout", text="x" * 50 * 2**20)]
    (tmp_path / "huge.ipynb").write_text(nbformat.writes(big), encoding="utf-8")
    cases["huge.ipynb"] = "the limit is 20 MB"
    for name, words in cases.items():
        path = HOSTILE / name if (HOSTILE / name).exists() else tmp_path / name
        result = grade(assignment, path, name, box, Options(lang="en"))
        assert result.status == "error" and result.run.exit == "invalid", name
        assert words in result.message, (name, result.message)
        assert result.score == 0


@needs_bwrap
def test_a_batch_goes_on_and_the_next_submission_is_unaffected(
        assignment: Assignment, tmp_path: Path, guard: Guard) -> None:
    """Through the CLI: hostile submissions, then the reference, in one batch."""
    names = ["os_exit.ipynb", "memory_bomb.ipynb", "invalid_json.ipynb", "forge_result_file.ipynb"]
    paths = [str(HOSTILE / n) for n in names] + [str(REFERENCE)]
    done = run_cli("grade", str(assignment.root), *paths, "--out", str(tmp_path / "out"),
                   "--format", "json,md,terminal", timeout=300)
    assert done.returncode == 0, done.stderr
    assert TOKEN not in done.stdout + done.stderr
    results = {n: load_result(tmp_path / "out" / Path(n).stem) for n in names}
    assert results["os_exit.ipynb"]["run"]["exit"] == "crash"
    assert results["memory_bomb.ipynb"]["run"]["exit"] == "memory"
    assert results["invalid_json.ipynb"]["status"] == "error"
    reference = load_result(tmp_path / "out" / "perceptron")
    assert reference["score"] == reference["max_score"]
    assert reference["run"]["exit"] == "ok"
    for folder in (tmp_path / "out").iterdir():
        text = "".join(p.read_text(encoding="utf-8") for p in folder.iterdir())
        assert TOKEN not in text and HIDDEN_CANARY not in text
    assert guard.leftovers() == []


def _direct_probe(tmp_path: Path, assignment: Assignment) -> Path:
    """Reads that would succeed without isolation: the hidden canary by its absolute path and the
    repository's reference by a relative climb (and /proc, for secrets the grader started with)."""
    secret = assignment.hidden_dir / "secreto.txt"
    depth = len(Path(tempfile.gettempdir()).resolve().parts) + 3
    nb = nbformat.read(REFERENCE, as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(
        "import json, os\n"
        "found = []\n"
        f"for path in [{str(secret)!r}, '/proc/{os.getpid()}/environ',\n"
        f"             os.path.join(*(['..'] * {depth}), {str(REFERENCE)[1:]!r})]:\n"
        "    try:\n"
        "        data = open(path, 'rb').read()\n"
        "    except OSError:\n"
        "        continue\n"
        "    if b'CANARY' in data or b'FAKE-TOKEN' in data or b'dlgrade:answer' in data:\n"
        "        found.append(path.rsplit('/', 1)[-1])\n"
        "raise RuntimeError('probe:' + json.dumps(found))\n"))
    path = tmp_path / "directo.ipynb"
    path.write_text(nbformat.writes(nb), encoding="utf-8")
    return path


@needs_bwrap
def test_the_probes_would_see_what_an_unisolated_run_sees(
        tmp_path: Path, assignment: Assignment, box: Sandbox, guard: Guard) -> None:
    """A control: the same reads succeed in the weaker fallback (as the README warns), so an
    empty probe under bubblewrap means isolation, not a probe that cannot find anything."""
    notebook = _direct_probe(tmp_path, assignment)
    assert probe(grade(assignment, notebook, "d", box, Options())) == []
    weak = grade(assignment, notebook, "d", Sandbox("subprocess"), Options())
    assert sorted(probe(weak)) == ["perceptron.ipynb", "secreto.txt"]
