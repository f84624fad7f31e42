"""Batch grading of a whole class: intake, parallel runs, cache, regrade, every output."""

from __future__ import annotations

import csv
import json
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from classes import REFERENCE, make_class, with_cell
from conftest import ROOT, run_cli

from grader.batch.classlist import clean_name, collect, extract, is_class, read_roster
from grader.errors import UsageError


def _gradebook(out: Path) -> pd.DataFrame:
    return pd.read_csv(out / "gradebook.csv").set_index("student_id")


# --- intake of a class -------------------------------------------------------------------

@pytest.mark.parametrize(("name", "is_file", "student"), [
    ("ana.ipynb", True, "ana"),
    ("perceptron-octocat", False, "octocat"),
    ("garciaana_LATE_1234_5678_perceptron.ipynb", True, "garciaana"),
    ("garciaana_1234_5678_perceptron.ipynb", True, "garciaana"),
    ("Ana García_4321_assignsubmission_file_", False, "Ana García"),
    ("tarea.docx", True, "tarea"),
])
def test_student_names_from_lms_and_classroom_layouts(name: str, is_file: bool, student: str) -> None:
    assert clean_name(name, "perceptron", is_file) == student


def test_the_rule_for_what_is_a_class(tmp_path: Path) -> None:
    one = tmp_path / "one"
    one.mkdir()
    shutil.copyfile(REFERENCE, one / "cualquier_nombre.ipynb")
    named = tmp_path / "named"
    (named / "extra").mkdir(parents=True)
    shutil.copyfile(REFERENCE, named / "perceptron.ipynb")
    shutil.copyfile(REFERENCE, named / "extra" / "borrador.ipynb")
    klass = make_class(tmp_path / "class", hostile=False)
    assert not is_class(one, "perceptron.ipynb")  # a single notebook: one submission
    assert not is_class(named, "perceptron.ipynb")  # holds the assignment's notebook
    assert not is_class(REFERENCE, "perceptron.ipynb")
    assert is_class(klass, "perceptron.ipynb")
    zipped = tmp_path / "moodle.zip"
    zipfile.ZipFile(zipped, "w").close()
    assert is_class(zipped, "perceptron.ipynb")


def test_roster_missing_unknown_and_duplicates_are_listed(tmp_path: Path) -> None:
    klass = make_class(tmp_path / "class", hostile=False)
    shutil.copyfile(REFERENCE, klass / "Ana.py")  # a second claim on ana (case-insensitive)
    (klass / ".DS_Store").write_text("x")
    roster = tmp_path / "roster.csv"
    roster.write_text("student,name,email,github\n"
                      "ana,Ana Pérez,ana@uni.es,\nbeto,Beto Ruiz,beto@uni.es,\n"
                      "fede,Fede Gil,fede@uni.es,\nzoe,Zoe Sanz,zoe@uni.es,zoe-gh\n", encoding="utf-8")
    found = collect([klass], "perceptron", "perceptron.ipynb", tmp_path / "scratch", read_roster(roster))
    keys = sorted(e.key for e in found.entries)
    assert keys == ["ana", "ana~2", "beto", "carla", "dani", "eva", "fede"]
    assert [r["student"] for r in found.missing] == ["zoe"]
    assert sorted(found.unknown) == ["carla", "dani", "eva"]
    assert set(found.duplicates) == {"ana"} and len(found.duplicates["ana"]) == 2
    assert any(".DS_Store" in p for p in found.ignored)
    assert all(e.duplicate for e in found.entries if e.student == "ana")


def test_zip_extraction_refuses_traversal_and_links(tmp_path: Path) -> None:
    evil = tmp_path / "evil.zip"
    with zipfile.ZipFile(evil, "w") as zf:
        zf.writestr("../escape.ipynb", "{}")
    with pytest.raises(UsageError, match="unsafe"):
        extract(evil, tmp_path / "x")
    assert not (tmp_path / "escape.ipynb").exists()
    link = tmp_path / "link.zip"
    with zipfile.ZipFile(link, "w") as zf:
        info = zipfile.ZipInfo("ana.ipynb")
        info.external_attr = 0o120777 << 16
        zf.writestr(info, "/etc/passwd")
    with pytest.raises(UsageError, match="unsafe"):
        extract(link, tmp_path / "y")


# --- a whole class, end to end -----------------------------------------------------------

def test_class_grades_in_one_command_with_every_output(tmp_path: Path) -> None:
    klass = make_class(tmp_path / "class")
    roster = tmp_path / "roster.csv"
    roster.write_text("student,name,email\nana,Ana Pérez,ana@uni.es\nzoe,Zoe Sanz,zoe@uni.es\n",
                      encoding="utf-8")
    out = tmp_path / "out"
    done = run_cli("grade", "perceptron", str(klass), "--out", str(out), "--jobs", "2",
                   "--roster", str(roster), "--canvas-id", "777")
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    book = _gradebook(out)
    assert book.loc["ana", "score"] == 90 and book.loc["ana", "max_score"] == 100
    assert book.loc["ana", "manual_pending"] == 10 and book.loc["ana", "name"] == "Ana Pérez"
    assert book.loc["beto", "score"] == 60
    assert (book.loc["carla", "status"], book.loc["carla", "exit"]) == ("error", "invalid")
    assert book.loc["dani", "score"] == 90 and book.loc["eva", "score"] == 0
    assert book.loc["fede", "status"] == "graded" and 0 < book.loc["fede", "score"] < 90
    assert book.loc["gus", "exit"] == "memory"
    assert book.loc["hugo", "exit"] == "crash"
    assert book.loc["zoe", "status"] == "missing"
    assert book.loc["ana", "check:producto_curso"] == 6
    # every submission has its own feedback, in every file format asked for
    for key in ("ana", "beto", "carla", "gus", "hugo"):
        for name in ("result.json", "feedback.md", "feedback.html"):
            assert (out / key / name).is_file(), (key, name)
    # LMS import files
    with (out / "canvas.csv").open(encoding="utf-8") as fh:
        canvas = list(csv.reader(fh))
    assert canvas[0][:5] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
    assert canvas[0][5].endswith("(777)") and canvas[1][0] == "Points Possible"
    assert [canvas[2][0], canvas[2][5]] == ["Ana Pérez", "90.0"]
    moodle = pd.read_csv(out / "moodle.csv")
    assert list(moodle.columns) == ["username", "email", "fullname", "grade"]
    nbg = pd.read_csv(out / "nbgrader_grades.csv").set_index("student_id")
    assert list(nbg.columns)[:3] == ["assignment", "duedate", "timestamp"]
    assert (nbg.loc["ana", "first_name"], nbg.loc["ana", "last_name"]) == ("Ana", "Pérez")
    assert nbg.loc["ana", "raw_score"] == 90 and nbg.loc["ana", "max_score"] == 100
    # the cohort summary names the failures and their causes
    page = (out / "summary.html").read_text(encoding="utf-8")
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    exits = {p["key"]: p["exit"] for p in summary["problems"]}
    assert exits == {"carla": "invalid", "gus": "memory", "hugo": "crash"}
    assert "data:image/png;base64," in page and "zoe" in page
    pairs = {p["a"] + "/" + p["b"] for p in summary["similar"]}
    assert "ana/dani" in pairs  # the same solution as a notebook and as a script
    assert not any("eva" in pair for pair in pairs)  # the template's code is never "shared"
    assert summary["pending"][0]["pending"] >= 5

    # unchanged class: nothing runs again
    again = run_cli("grade", "perceptron", str(klass), "--out", str(out), "--jobs", "2",
                    "--roster", str(roster))
    assert again.returncode == 0, again.stderr
    assert "0 run, 8 cached" in again.stderr
    assert _gradebook(out).loc["ana", "source"] == "cached"


def test_changed_threshold_regrades_from_stored_artifacts(tmp_path: Path) -> None:
    assignment = tmp_path / "assignments" / "perceptron"
    shutil.copytree(ROOT / "assignments" / "perceptron", assignment)
    klass = make_class(tmp_path / "class", hostile=False)
    out = tmp_path / "out"
    first = run_cli("grade", str(assignment), str(klass), "--out", str(out), "--jobs", "2")
    assert first.returncode == 0, first.stderr
    checks = assignment / "checks.py"
    checks.write_text(checks.read_text(encoding="utf-8").replace("@check(points=6)", "@check(points=7)", 1),
                      encoding="utf-8")
    plain = run_cli("grade", str(assignment), str(klass), "--out", str(tmp_path / "o2"), "--cache",
                    str(out / ".cache"), "--jobs", "2")
    assert "6 run, 0 cached" in plain.stderr  # stale entries are never reused as they were
    regrade = run_cli("grade", str(assignment), str(klass), "--out", str(out), "--regrade", "--jobs", "2")
    assert regrade.returncode == 0, regrade.stderr
    book = _gradebook(out)
    assert book.loc["ana", "score"] == 91 and book.loc["ana", "source"] in ("regraded", "cached")
    assert book.loc["beto", "score"] == 61


def test_single_folder_submission_is_not_a_class(tmp_path: Path) -> None:
    one = tmp_path / "entrega"
    one.mkdir()
    shutil.copyfile(REFERENCE, one / "perceptron.ipynb")
    done = run_cli("grade", "perceptron", str(one), "--out", str(tmp_path / "out"), "--format", "json")
    assert done.returncode == 0, done.stderr
    assert not (tmp_path / "out" / "gradebook.csv").exists()
    assert (tmp_path / "out" / "entrega" / "result.json").is_file()


def test_ctrl_c_keeps_finished_results_and_a_rerun_continues(tmp_path: Path) -> None:
    klass = make_class(tmp_path / "class", hostile=False)
    out = tmp_path / "out"
    proc = subprocess.Popen(
        [sys.executable, "-m", "grader", "grade", "perceptron", str(klass), "--out", str(out), "-j", "1",
         "--no-similarity"], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while len(list(out.glob("*/result.json"))) < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "interrupted" in err and "Traceback" not in err
    finished = len(list(out.glob("*/result.json")))
    assert 2 <= finished < 6
    assert (out / "gradebook.csv").is_file()  # partial gradebook of what finished
    again = run_cli("grade", "perceptron", str(klass), "--out", str(out), "-j", "1", "--no-similarity")
    assert again.returncode == 0, again.stderr
    ran = int(again.stderr.split(" run,")[0].rsplit(" ", 1)[-1])
    assert ran <= 6 - finished
    assert len(list(out.glob("*/result.json"))) == 6


def test_manual_review_export_and_import_merge_into_the_gradebook(tmp_path: Path) -> None:
    klass = tmp_path / "class"
    klass.mkdir()
    shutil.copyfile(REFERENCE, klass / "ana.ipynb")
    shutil.copyfile(REFERENCE, klass / "beto.ipynb")
    out = tmp_path / "out"
    assert run_cli("grade", "perceptron", str(klass), "--out", str(out), "-j", "2").returncode == 0
    exported = run_cli("review", "export", "perceptron", str(out))
    assert exported.returncode == 0, exported.stderr
    rows = list(csv.DictReader((out / "review.csv").open(encoding="utf-8")))
    assert [(r["key"], r["item"], r["score"]) for r in rows] == [
        ("ana", "xor_explicacion", ""), ("beto", "xor_explicacion", "")]
    assert "perceptrón solo puede trazar" in rows[0]["text"]
    assert "perceptrón solo puede trazar" in (out / "review.html").read_text(encoding="utf-8")
    rows[0]["score"] = "7,5"
    sheet = tmp_path / "filled.csv"
    with sheet.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    imported = run_cli("review", "import", "perceptron", str(out), str(sheet))
    assert imported.returncode == 0, imported.stderr
    book = _gradebook(out)
    assert book.loc["ana", "score"] == 97.5 and book.loc["ana", "manual_pending"] == 0
    assert book.loc["beto", "score"] == 90 and book.loc["beto", "manual_pending"] == 10
    assert json.loads((out / "ana" / "result.json").read_text())["manual"][0]["score"] == 7.5
    rows[1]["score"] = "11"
    with sheet.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    refused = run_cli("review", "import", "perceptron", str(out), str(sheet))
    assert refused.returncode == 2 and "outside 0..10" in refused.stderr


def test_a_long_lived_worker_reloads_changed_checks(tmp_path: Path) -> None:
    """A Dask worker lives across batches: a re-grade must use the checks as they are now."""
    from grader.assignment import Assignment
    from grader.batch.cache import check_fingerprint, run_fingerprint
    from grader.batch.jobs import Job, run_job
    from grader.pipeline import Options

    root = tmp_path / "assignments" / "perceptron"
    shutil.copytree(ROOT / "assignments" / "perceptron", root)

    def job() -> Job:
        a = Assignment(root)
        return Job(assignment_root=str(root), path=str(REFERENCE), given="ana.ipynb", key="ana",
                   options=Options(), cache_dir=str(tmp_path / "cache"),
                   run_fingerprint=run_fingerprint(a, True, 0), check_fingerprint=check_fingerprint(a, "es"),
                   regrade=True)

    first = run_job(job())
    assert (first.how, first.result["score"]) == ("graded", 90)
    checks = root / "checks.py"
    checks.write_text(checks.read_text(encoding="utf-8").replace("@check(points=6)", "@check(points=7)", 1),
                      encoding="utf-8")
    second = run_job(job())
    assert (second.how, second.result["score"]) == ("regraded", 91)
    assert run_job(job()).how == "cached"


def test_moodle_and_canvas_zips_grade_as_a_class(tmp_path: Path) -> None:
    archive = tmp_path / "export.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.write(REFERENCE, "perceptron-entregas/Ana García_4321_assignsubmission_file_/perceptron.ipynb")
        zf.write(ROOT / "tests/submissions/perceptron/no_bias.ipynb",
                 "perceptron-entregas/ruizbeto_LATE_12_34_perceptron.ipynb")
        zf.writestr("perceptron-entregas/__MACOSX/._x", "junk")
    out = tmp_path / "out"
    done = run_cli("grade", "perceptron", str(archive), "--out", str(out), "-j", "2", "--no-similarity")
    assert done.returncode == 0, done.stderr
    book = _gradebook(out)
    assert book.loc["Ana García", "score"] == 90 and book.loc["ruizbeto", "score"] == 60
    assert json.loads((out / "class.json").read_text(encoding="utf-8"))["ignored"]


def test_a_timeout_is_listed_with_its_cause(tmp_path: Path) -> None:
    assignment = tmp_path / "assignments" / "perceptron"
    shutil.copytree(ROOT / "assignments" / "perceptron", assignment)
    toml = assignment / "assignment.toml"
    toml.write_text(toml.read_text(encoding="utf-8").replace("time_s = 60", "time_s = 10"), encoding="utf-8")
    klass = tmp_path / "class"
    klass.mkdir()
    with_cell("import time\nwhile True:\n    time.sleep(1)", klass / "lento.ipynb")
    shutil.copyfile(REFERENCE, klass / "ana.ipynb")
    out = tmp_path / "out"
    done = run_cli("grade", str(assignment), str(klass), "--out", str(out), "-j", "2", "--no-similarity")
    assert done.returncode == 0, done.stderr
    problems = json.loads((out / "summary.json").read_text(encoding="utf-8"))["problems"]
    assert [(p["key"], p["exit"]) for p in problems] == [("lento", "timeout")]
    assert problems[0]["cause"] and "lento" in (out / "summary.html").read_text(encoding="utf-8")
    assert _gradebook(out).loc["ana", "score"] == 90


def _job(root: Path, path: Path, key: str, cache: Path | None):  # type: ignore[no-untyped-def]
    from grader.assignment import Assignment
    from grader.batch.cache import check_fingerprint, run_fingerprint
    from grader.batch.jobs import Job
    from grader.pipeline import Options

    a = Assignment(root)
    return Job(assignment_root=str(root), path=str(path), given=path.name, key=key, options=Options(),
               cache_dir=str(cache) if cache else None, run_fingerprint=run_fingerprint(a, True, 0),
               check_fingerprint=check_fingerprint(a, "es"))


def test_a_pipe_in_the_exports_is_not_kept_and_breaks_nothing(tmp_path: Path) -> None:
    from grader.batch.jobs import run_job

    hostile = with_cell("import os\nos.mkfifo(os.path.join(os.environ['DLGRADE_OUT'], 'tubo'))",
                        tmp_path / "tubo.ipynb")
    outcome = run_job(_job(ROOT / "assignments" / "perceptron", hostile, "tubo", tmp_path / "cache"))
    assert outcome.result["status"] == "graded" and outcome.result["score"] == 90
    assert outcome.result["run"]["cell_errors"] == []  # the pipe was made
    stored = [p for p in (tmp_path / "cache").rglob("*") if p.name == "tubo"]
    assert stored == []


def test_a_dlgrade_failure_on_one_submission_does_not_stop_the_batch(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from grader.batch import jobs, scheduler

    real = jobs.grade

    def flaky(assignment, path, *args, **kwargs):  # type: ignore[no-untyped-def]
        if path.name == "beto.ipynb":
            raise RuntimeError("a bug of dlgrade's")
        return real(assignment, path, *args, **kwargs)

    monkeypatch.setattr(jobs, "grade", flaky)
    klass = tmp_path / "class"
    klass.mkdir()
    for name in ("ana", "beto"):
        shutil.copyfile(REFERENCE, klass / f"{name}.ipynb")
    root = ROOT / "assignments" / "perceptron"
    outcomes = scheduler.execute([_job(root, klass / "ana.ipynb", "ana", None),
                                  _job(root, klass / "beto.ipynb", "beto", None)], 2)
    by_key = {o.key: o.result for o in outcomes}
    assert by_key["ana"]["score"] == 90
    assert by_key["beto"]["status"] == "error"
    assert "a bug of dlgrade's" in by_key["beto"]["run"]["grader_failure"]


def test_a_github_classroom_roster_maps_usernames(tmp_path: Path) -> None:
    klass = tmp_path / "class"
    (klass / "perceptron-octocat").mkdir(parents=True)
    shutil.copyfile(REFERENCE, klass / "perceptron-octocat" / "perceptron.ipynb")
    (klass / "perceptron-monalisa").mkdir()
    shutil.copyfile(REFERENCE, klass / "perceptron-monalisa" / "perceptron.ipynb")
    roster = tmp_path / "classroom.csv"
    roster.write_text("assignment_name,github_username,roster_identifier,points_awarded\n"
                      "perceptron,octocat,ana.perez,\nperceptron,monalisa,,\nperceptron,,zoe.sanz,\n",
                      encoding="utf-8")
    found = collect([klass], "perceptron", "perceptron.ipynb", tmp_path / "s", read_roster(roster))
    assert sorted(e.student for e in found.entries) == ["ana.perez", "monalisa"]
    assert [r["student"] for r in found.missing] == ["zoe.sanz"] and found.unknown == []
