"""Report formats of the batch work, rendered from hand-made results (no student code runs):
Gradescope and PrairieLearn results, HTML feedback, and both pages in a real browser."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from grader import report
from grader.batch import gradebook, summary
from grader.batch.classlist import ClassList, Entry
from grader.i18n import Messages
from grader.schema import CheckResult, ManualItem, Result, RunInfo


def _result(score: float = 7.0, status: str = "graded", exit: str = "ok", lang: str = "es") -> Result:
    checks = [
        CheckResult(id="forma", title="Forma de la salida", status="passed", score=5, max_score=5,
                    visibility="public"),
        CheckResult(id="precision", title="Precisión en test", status="failed", score=score - 5,
                    max_score=5, visibility="hidden", message="La precisión <b>0.81</b> no llega a 0.9",
                    expected=0.9, actual=0.81, hint="Entrena más épocas.", code="acc.low"),
    ] if status == "graded" else []
    return Result(assignment="perceptron", submission="ana.ipynb", submission_sha256="ab" * 32,
                  status=status, score=score if status == "graded" else 0, max_score=10, checks=checks,
                  run=RunInfo(seconds=1.5, exit=exit, sandbox="bwrap"), environment={}, lang=lang,
                  message="" if status == "graded" else "El cuaderno no es válido",
                  manual=[ManualItem(id="xor", title="Explica XOR", points=10, text="<script>x</script>")])


def _picture(folder: Path) -> str:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    fig = Figure(figsize=(8, 3))
    fig.subplots().plot([0, 1, 2], [3, 1, 2])
    folder.mkdir(parents=True, exist_ok=True)
    fig.savefig(folder / "curvas.png")
    return "curvas.png"


def test_gradescope_results(tmp_path: Path) -> None:
    r = _result()
    report.write(r, tmp_path, ["gradescope"], Messages("es"))
    data = json.loads((tmp_path / "gradescope.json").read_text(encoding="utf-8"))
    assert data["score"] == 7 and data["execution_time"] == 1.5
    assert [(t["name"], t["score"], t["max_score"], t["status"]) for t in data["tests"]] == [
        ("Forma de la salida", 5, 5, "passed"), ("Precisión en test", 2, 5, "failed")]
    assert data["tests"][1]["visibility"] == "after_published"  # hidden checks stay hidden
    assert "Entrena más épocas." in data["tests"][1]["output"]


def test_prairielearn_results(tmp_path: Path) -> None:
    r = _result()
    r.images = [_picture(tmp_path)]
    report.write(r, tmp_path, ["prairielearn"], Messages("es"))
    data = json.loads((tmp_path / "prairielearn.json").read_text(encoding="utf-8"))
    assert data["gradable"] is True and data["score"] == 0.7
    assert data["tests"][1]["points"] == 2 and data["tests"][1]["max_points"] == 5
    assert data["images"][0]["url"].startswith("data:image/png;base64,")
    bad = _result(status="error", exit="invalid")
    report.write(bad, tmp_path / "bad", ["prairielearn"], Messages("es"))
    data = json.loads((tmp_path / "bad" / "prairielearn.json").read_text(encoding="utf-8"))
    assert data["gradable"] is False and data["format_errors"] == ["El cuaderno no es válido"]


def test_html_feedback_is_self_contained_escaped_and_translated(tmp_path: Path) -> None:
    r = _result()
    r.images = [_picture(tmp_path), "../../etc/passwd"]
    report.write(r, tmp_path, ["html"], Messages("es"))
    page = (tmp_path / "feedback.html").read_text(encoding="utf-8")
    assert "<title>perceptron — 7/10</title>" in page and "Puntuación: 7/10" in page
    assert page.count("data:image/png;base64,") == 1  # the path outside the folder is never read
    assert "<script>x</script>" not in page and "&lt;script&gt;" in page
    assert "<b>0.81</b>" not in page
    en = _result(lang="en")
    report.write(en, tmp_path / "en", ["html"], Messages("en"))
    assert "Score: 7/10" in (tmp_path / "en" / "feedback.html").read_text(encoding="utf-8")


def _summary_page(folder: Path) -> Path:
    results = {f"s{n}": _result(score=5 + n % 6).to_dict() for n in range(12)}
    results["s12"] = _result(status="error", exit="invalid").to_dict()
    results["s13"] = {**_result().to_dict(), "run": {**_result().to_dict()["run"], "exit": "memory",
                                                     "message": "Memoria agotada (2048 MB)"}}
    classlist = ClassList(entries=[Entry(student=k, path=Path(k), given=k, raw_name=k, key=k)
                                   for k in results], missing=[{"student": "zoe"}])
    frame = gradebook.rows(results, classlist, {}, (10, 10))
    context = summary.build(results, frame, classlist, {}, [
        {"a": "s1", "b": "s2", "score": 88.0, "fragment": "def f(x):\n    return x" * 20}])
    summary.write(context, folder)
    return folder / "summary.html"


def test_summary_lists_causes_and_pending_items(tmp_path: Path) -> None:
    page = _summary_page(tmp_path).read_text(encoding="utf-8")
    assert "Memoria agotada (2048 MB)" in page and "El cuaderno no es válido" in page
    assert page.count("data:image/png;base64,") == 2
    assert "zoe" in page and "s1 ↔ s2" in page
    data = json.loads((tmp_path / "summary.json").read_text(encoding="utf-8"))
    assert data["pending"] == [{"id": "xor", "title": "Explica XOR", "pending": 14, "scored": 0}]
    rates = {c["id"]: c["rate"] for c in data["checks"]}
    assert rates == {"forma": 100.0, "precision": 0.0}


# --- a real browser -----------------------------------------------------------------------

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--no-first-run"]


@pytest.fixture
def browser(tmp_path: Path):  # type: ignore[no-untyped-def]
    if CHROMIUM is None:
        pytest.skip("chromium is not installed (Debian: apt-get install -y chromium)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    with sync_api.sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(tmp_path / "profile"), executable_path=CHROMIUM, headless=True, args=FLAGS,
            viewport={"width": 375, "height": 740}, offline=True,
        )
        try:
            yield context
        finally:
            context.close()


def _look(context, path: Path) -> dict:  # type: ignore[no-untyped-def]
    page = context.new_page()
    page.goto(path.resolve().as_uri())
    page.wait_for_load_state("load")
    seen = page.evaluate("""() => ({
        title: document.title,
        score: document.querySelector('#score')?.innerText || '',
        images: [...document.images].map(i => [i.complete, i.naturalWidth]),
        overflow: document.documentElement.scrollWidth - window.innerWidth,
    })""")
    page.close()
    return seen


def test_feedback_page_in_chromium_at_phone_width(browser, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    r = _result()
    r.images = [_picture(tmp_path)]
    report.write(r, tmp_path, ["html"], Messages("es"))
    seen = _look(browser, tmp_path / "feedback.html")
    assert seen["title"] == "perceptron — 7/10"
    assert seen["score"] == "Puntuación: 7/10"
    assert seen["images"] and all(done and width > 0 for done, width in seen["images"])
    assert seen["overflow"] <= 0, "the page scrolls sideways on a phone"


def test_summary_page_in_chromium_at_phone_width(browser, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    seen = _look(browser, _summary_page(tmp_path))
    assert "cohort summary" in seen["title"]
    assert seen["score"].startswith("13/14 graded")
    assert len(seen["images"]) == 2 and all(done and width > 0 for done, width in seen["images"])
    assert seen["overflow"] <= 0, "the page scrolls sideways on a phone"


def test_single_submission_platform_formats_from_the_cli(tmp_path: Path) -> None:
    from conftest import ROOT, run_cli

    done = run_cli("grade", "perceptron", str(ROOT / "reference/perceptron/perceptron.ipynb"),
                   "--out", str(tmp_path), "--format", "gradescope,prairielearn,html")
    assert done.returncode == 0, done.stderr
    folder = tmp_path / "perceptron"
    assert json.loads((folder / "gradescope.json").read_text(encoding="utf-8"))["score"] == 90
    assert json.loads((folder / "prairielearn.json").read_text(encoding="utf-8"))["score"] == 1.0
    assert "Puntuación: 90/90" in (folder / "feedback.html").read_text(encoding="utf-8")
