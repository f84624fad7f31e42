"""`--format classroom`: the JSON the Classroom reporter reads, and how it travels."""

from __future__ import annotations

import base64
import json
from pathlib import Path

from conftest import ROOT, run_cli

from grader.i18n import Messages
from grader.report.classroom import MAX_BYTES, classroom_dict, render_classroom, write_output
from grader.schema import CheckResult, Result, RunInfo

TEMPLATE = ROOT / "assignments" / "perceptron" / "perceptron.ipynb"


def _check(id: str, status: str, score: float, max_score: float, **extra) -> CheckResult:
    return CheckResult(id=id, title=f"Title {id}", status=status, score=score,  # type: ignore[arg-type]
                       max_score=max_score, visibility="public", **extra)


def _result(checks: list[CheckResult], **extra) -> Result:
    fields = dict(assignment="demo", submission="nb.ipynb", submission_sha256="ab" * 32,
                  status="graded", score=sum(c.score for c in checks),
                  max_score=sum(c.max_score for c in checks), checks=checks,
                  run=RunInfo(seconds=1.234), environment={"dlgrade": "0.1.0"}, lang="es", mode="check")
    fields.update(extra)
    return Result(**fields)  # type: ignore[arg-type]


def test_one_test_per_check_with_partial_credit() -> None:
    checks = [_check("a", "passed", 5, 5), _check("b", "failed", 2.5, 10, message="half",
                                                  expected=[1, 2], actual=[1, 3], hint="try"),
              _check("c", "skipped", 0, 3)]
    data = classroom_dict(_result(checks), Messages("en"))
    assert data["version"] == 1 and data["status"] == "fail" and data["max_score"] == 18
    assert [t["status"] for t in data["tests"]] == ["pass", "fail", "fail"]
    assert [t["score"] for t in data["tests"]] == [5, 2.5, 0]
    assert set(data["tests"][0]) == {"name", "status", "score", "message", "test_code", "filename",
                                     "line_no", "execution_time"}
    assert "half" in data["tests"][1]["message"] and "[1, 3]" in data["tests"][1]["message"]
    assert "try" in data["tests"][1]["message"]
    assert data["dlgrade"]["submission_sha256"] == "ab" * 32


def test_status_pass_only_when_every_check_passes_and_error_wins() -> None:
    t = Messages("es")
    assert classroom_dict(_result([_check("a", "passed", 1, 1)]), t)["status"] == "pass"
    mixed = [_check("a", "failed", 0, 1), _check("b", "error", 0, 1)]
    assert classroom_dict(_result(mixed), t)["status"] == "error"


def test_unreadable_submission_still_reports_its_points_available() -> None:
    result = _result([], status="error", max_score=40.0, message="no es un cuaderno")
    data = classroom_dict(result, Messages("es"))
    assert data["max_score"] == 40 and data["status"] == "fail"
    assert [t["score"] for t in data["tests"]] == [0]
    assert "no es un cuaderno" in data["tests"][0]["message"]


def test_huge_messages_are_cut_to_fit_the_output_limit() -> None:
    checks = [_check(f"c{i}", "failed", 0, 1, message="x" * 400_000) for i in range(5)]
    text = render_classroom(_result(checks), Messages("es"))
    assert len(text.encode()) < MAX_BYTES
    assert len(json.loads(text)["tests"]) == 5
    assert "\n" not in text  # compact


def test_workflow_commands_in_messages_are_neutralised() -> None:
    checks = [_check("a", "failed", 0, 1, message="::error::owned\n::set-output name=x::1")]
    message = classroom_dict(_result(checks), Messages("es"))["tests"][0]["message"]
    assert not any(line.startswith("::") for line in message.splitlines())


def test_output_file_gets_one_base64_line(tmp_path: Path) -> None:
    out = tmp_path / "github_output"
    out.write_text("other=1\n", encoding="utf-8")
    text = render_classroom(_result([_check("a", "passed", 1, 1)]), Messages("es"))
    write_output(text, out)
    lines = out.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "other=1" and lines[1].startswith("result=") and len(lines) == 2
    assert json.loads(base64.b64decode(lines[1][len("result="):])) == json.loads(text)


def test_cli_check_writes_github_output_and_reports(tmp_path: Path, monkeypatch) -> None:
    output = tmp_path / "out.txt"
    monkeypatch.setenv("GITHUB_OUTPUT", str(output))
    proc = run_cli("check", "perceptron", str(TEMPLATE), "--format", "classroom",
                   "--out", str(tmp_path / "reports"))
    assert proc.returncode == 0, proc.stderr
    encoded = output.read_text(encoding="utf-8").strip().removeprefix("result=")
    data = json.loads(base64.b64decode(encoded))
    saved = json.loads((tmp_path / "reports" / "perceptron" / "classroom.json").read_text("utf-8"))
    assert data == saved and data["max_score"] > 0
    assert sum(t["score"] for t in data["tests"]) == 0


def test_cli_prints_the_json_when_it_has_nowhere_else_to_go(monkeypatch) -> None:
    monkeypatch.delenv("GITHUB_OUTPUT", raising=False)
    proc = run_cli("check", "perceptron", str(TEMPLATE), "--format", "classroom")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["version"] == 1


def test_cli_refuses_one_output_for_many_submissions(tmp_path: Path) -> None:
    proc = run_cli("grade", "perceptron", str(TEMPLATE), str(TEMPLATE), "--format", "classroom",
                   "--classroom-output", str(tmp_path / "o"), "--out", str(tmp_path / "r"),
                   "--allow-weak-sandbox")
    assert proc.returncode == 2 and "--classroom-output" in proc.stderr
