"""`dlgrade assign`: the student bundle, its workflow, and proof that nothing hidden leaks."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import nbformat
import pytest
import yaml
from classroom_sim import REPORTER, load_workflow
from conftest import run_cli

from grader.assignment import Assignment, all_assignments
from grader.authoring import WorkflowOptions, build_bundle, find_leaks
from grader.authoring import bundle as bundle_module
from grader.authoring.leaks import secrets
from grader.authoring.workflow import extras, install_commands, requirement, timeout_minutes
from grader.errors import AssignmentError, UsageError
from grader.templates import BEGIN, END

ASSIGNMENTS = [pytest.param(a, id=a.name) for a in all_assignments()]


@pytest.fixture
def bundles(tmp_path: Path) -> dict[str, Path]:
    return {a.name: build_bundle(a, tmp_path / a.name) for a in all_assignments()}


def _files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file())


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_bundle_holds_what_a_student_needs(assignment: Assignment, bundles: dict[str, Path]) -> None:
    bundle = bundles[assignment.name]
    names = {p.relative_to(bundle).as_posix() for p in _files(bundle)}
    assert {"README.md", assignment.notebook, "assignment.toml", "messages.toml", "checks.py",
            "export.py", ".github/workflows/classroom.yml"} <= names
    for f in assignment.files:
        rel = f.relative_to(assignment.root).as_posix()
        assert (bundle / rel).read_bytes() == f.read_bytes()
    assert (bundle / "checks.py").read_bytes() == (assignment.root / "checks.py").read_bytes()


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_readme_spanish_first_english_below_and_honest(assignment: Assignment,
                                                       bundles: dict[str, Path]) -> None:
    text = (bundles[assignment.name] / "README.md").read_text(encoding="utf-8")
    es, en = text.split("\n---\n")
    assert es.startswith(f"# {assignment.title('es')}") and f"# {assignment.title('en')}" in en
    assert "autoevaluación, no tu nota" in es and "self-check, not your grade" in en
    assert "SHA-256" in es and "SHA-256" in en
    for chk in assignment.checks(hidden=False):
        assert assignment.messages("es")(f"{chk.id}.title") in es
        assert assignment.messages("en")(f"{chk.id}.title") in en


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_no_hidden_material_in_the_bundle(assignment: Assignment, bundles: dict[str, Path]) -> None:
    bundle = bundles[assignment.name]
    assert find_leaks(assignment, bundle) == []
    contents = [p.read_bytes() for p in _files(bundle)]
    assert not any("hidden" in p.relative_to(bundle).parts for p in _files(bundle))
    # independently of the scanner: no hidden file, whole, anywhere
    for path in (p for p in assignment.hidden_dir.rglob("*") if p.is_file()):
        assert not any(path.read_bytes() in data for data in contents), path
    # the template has no solution and no stored output
    nb = nbformat.reads((bundle / assignment.notebook).read_text(encoding="utf-8"), as_version=4)
    for cell in nb.cells:
        assert BEGIN not in cell.source and END not in cell.source
        assert not cell.get("outputs")
    ref = nbformat.reads(assignment.reference_path.read_text(encoding="utf-8"), as_version=4)
    solved = [c.source for c in ref.cells if c.cell_type == "code" and BEGIN in c.source]
    assert solved and not any(src.encode() in data for src in solved for data in contents)


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_bundle_template_is_the_committed_template(assignment: Assignment,
                                                   bundles: dict[str, Path]) -> None:
    bundle = bundles[assignment.name]
    assert (bundle / assignment.notebook).read_bytes() == assignment.template_path.read_bytes(), (
        f"stale template: run `dlgrade template {assignment.name}`")


def test_the_scanner_finds_planted_leaks(bundles: dict[str, Path]) -> None:
    a = next(a for a in all_assignments() if a.name == "perceptron")
    bundle = bundles[a.name]
    assert secrets(a)
    hidden_line = next(s for s in secrets(a) if s.origin.startswith("hidden/checks.py line"))
    with (bundle / "checks.py").open("ab") as fh:
        fh.write(b"\n# " + hidden_line.data + b"\n")
    ref = nbformat.reads(a.reference_path.read_text(encoding="utf-8"), as_version=4)
    solved = next(c for c in ref.cells if c.cell_type == "code" and BEGIN in c.source)
    (bundle / "notes.py").write_text(solved.source, encoding="utf-8")
    shutil.copytree(a.hidden_dir, bundle / "extra", ignore=shutil.ignore_patterns("__pycache__"))
    leaks = find_leaks(a, bundle)
    assert any(x.startswith("checks.py: hidden/checks.py line") for x in leaks)
    assert any(x.startswith("notes.py: ") and "solution" in x for x in leaks)
    assert any(x.startswith("extra/") for x in leaks)


def test_a_leaking_bundle_is_refused_and_removed(tmp_path: Path, monkeypatch) -> None:
    a = next(a for a in all_assignments() if a.name == "perceptron")
    real = bundle_module.bundle_files

    def leaky(assignment: Assignment, options: WorkflowOptions) -> dict[str, bytes]:
        files = real(assignment, options)
        files["hidden.csv"] = next(p for p in a.hidden_dir.iterdir() if p.suffix == ".csv").read_bytes()
        return files

    monkeypatch.setattr(bundle_module, "bundle_files", leaky)
    with pytest.raises(AssignmentError, match="instructor-only"):
        build_bundle(a, tmp_path / "b")
    assert not (tmp_path / "b").exists()


def test_rebuild_replaces_a_bundle_but_never_another_folder(tmp_path: Path) -> None:
    a = all_assignments()[0]
    out = build_bundle(a, tmp_path / "b")
    (out / "stale.txt").write_text("old", encoding="utf-8")
    build_bundle(a, out)
    assert not (out / "stale.txt").exists()
    other = tmp_path / "mine"
    other.mkdir()
    (other / "thesis.tex").write_text("precious", encoding="utf-8")
    with pytest.raises(UsageError):
        build_bundle(a, other)
    assert (other / "thesis.tex").exists()


# -- the workflow ---------------------------------------------------------------------------

@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_workflow_has_the_shape_classroom_expects(assignment: Assignment,
                                                  bundles: dict[str, Path]) -> None:
    wf = load_workflow(bundles[assignment.name])
    assert wf["name"] == "Autograding Tests"
    assert set(wf["on"]) == {"push", "repository_dispatch", "workflow_dispatch"}
    assert wf["permissions"] == {"checks": "write", "actions": "read", "contents": "read"}
    assert list(wf["jobs"]) == ["run-autograding-tests"]
    job = wf["jobs"]["run-autograding-tests"]
    assert job["if"] == "github.actor != 'github-classroom[bot]'"
    assert job["runs-on"] == "ubuntu-latest"
    assert job["timeout-minutes"] == timeout_minutes(assignment, WorkflowOptions())
    steps = {s.get("id"): s for s in job["steps"]}
    assert "dlgrade check . \"$NOTEBOOK\"" in steps["dlgrade"]["run"]
    assert "classroom" in steps["dlgrade"]["run"]
    assert job["env"]["NOTEBOOK"] == assignment.notebook
    reporter = next(s for s in job["steps"] if s.get("uses") == REPORTER)
    assert reporter["with"]["runners"] == "dlgrade"
    assert reporter["env"] == {"DLGRADE_RESULTS": "${{ steps.dlgrade.outputs.result }}"}
    cache = next(s for s in job["steps"] if s.get("uses", "").startswith("actions/cache@"))
    assert "~/.cache/pip" in cache["with"]["path"] and "~/.keras/datasets" in cache["with"]["path"]
    assert "dlgrade" in steps["install"]["run"] and "@v" in steps["install"]["run"]


def _schema_check(path: Path) -> subprocess.CompletedProcess[str]:
    exe = Path(sys.executable).with_name("check-jsonschema")
    return subprocess.run([str(exe), "--builtin-schema", "vendor.github-workflows", str(path)],
                          capture_output=True, text=True, check=False)


@pytest.mark.parametrize("runner", ["ubuntu-latest", "gpu-t4", "self-hosted,linux,x64,gpu"])
def test_workflow_passes_the_github_workflow_schema(runner: str, tmp_path: Path) -> None:
    bundle = build_bundle(all_assignments()[0], tmp_path / "b", WorkflowOptions(runner=runner))
    workflow = bundle / ".github/workflows/classroom.yml"
    proc = _schema_check(workflow)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    actionlint = shutil.which("actionlint")
    if actionlint:  # the real linter, where a machine has it
        lint = subprocess.run([actionlint, str(workflow)], capture_output=True, text=True, check=False)
        assert lint.returncode == 0, lint.stdout


def test_schema_check_is_not_vacuous(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yml"
    bad.write_text("name: x\non: push\njobs:\n  j:\n    steps: []\n", encoding="utf-8")
    assert _schema_check(bad).returncode != 0


def test_project_ci_passes_the_schema() -> None:
    proc = _schema_check(Path(__file__).resolve().parent.parent / ".github/workflows/ci.yml")
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_gpu_runner_takes_the_gpu_time_limit(tmp_path: Path) -> None:
    a = all_assignments()[0]
    wf = load_workflow(build_bundle(a, tmp_path / "b", WorkflowOptions(runner="gpu-t4")))
    job = wf["jobs"]["run-autograding-tests"]
    assert job["runs-on"] == "gpu-t4"
    limits = a.limits
    assert job["timeout-minutes"] == -(-(limits.gpu_time_s + limits.export_time_s) // 60) + 15
    wf = load_workflow(build_bundle(a, tmp_path / "c", WorkflowOptions(runner="self-hosted, gpu")))
    assert wf["jobs"]["run-autograding-tests"]["runs-on"] == ["self-hosted", "gpu"]


def test_install_follows_the_frameworks_and_the_pins() -> None:
    torch_tf = SimpleNamespace(frameworks=["tensorflow", "torch"])
    cpu = install_commands(torch_tf, WorkflowOptions(source="0.2.0"))  # type: ignore[arg-type]
    assert any("torch==" in c and "whl/cpu" in c for c in cpu)
    assert cpu[-1] == 'python -m pip install "dlgrade[tf,torch]==0.2.0"'
    gpu = install_commands(torch_tf, WorkflowOptions(runner="gpu", source="0.2.0"))  # type: ignore[arg-type]
    assert not any("whl/cpu" in c for c in gpu)
    assert any("tensorflow[and-cuda]" in c for c in gpu) and gpu[-1].endswith('"dlgrade[torch]==0.2.0"')
    assert extras(SimpleNamespace(frameworks=[])) == []  # type: ignore[arg-type]
    assert requirement("git+https://example.org/x/dlgrade@v1") == "dlgrade @ git+https://example.org/x/dlgrade@v1"


def test_cli_assign_all_writes_one_bundle_each_and_is_deterministic(tmp_path: Path) -> None:
    for out in ("one", "two"):
        proc = run_cli("assign", "--all", "--out", str(tmp_path / out))
        assert proc.returncode == 0, proc.stderr
    names = sorted(p.name for p in (tmp_path / "one").iterdir())
    assert names == sorted(a.name for a in all_assignments())
    for name in names:
        first, second = _files(tmp_path / "one" / name), _files(tmp_path / "two" / name)
        assert [p.relative_to(tmp_path / "one") for p in first] == [
            p.relative_to(tmp_path / "two") for p in second]
        assert all(a.read_bytes() == b.read_bytes() for a, b in zip(first, second, strict=True))


def test_cli_assign_needs_one_target() -> None:
    assert run_cli("assign").returncode == 2
    assert run_cli("assign", "perceptron", "--all").returncode == 2


def test_committed_templates_are_fresh() -> None:
    proc = run_cli("template", "--check")
    assert proc.returncode == 0, proc.stderr


def test_project_ci_runs_what_ci_run_runs() -> None:
    root = Path(__file__).resolve().parent.parent
    ci = yaml.safe_load((root / ".github/workflows/ci.yml").read_text(encoding="utf-8"))
    scripts = "\n".join(s.get("run", "") for s in ci["jobs"]["test"]["steps"])
    assert "bubblewrap" in scripts and "DLGRADE_DATA" in scripts
    local = root / ".ci" / "run"
    wanted = re.findall(r"^\s*(make \w+)", local.read_text(encoding="utf-8"), re.M) if local.is_file() else []
    for command in wanted or ["make lint", "make test"]:
        assert command in scripts, f"{command} runs in .ci/run but not in ci.yml"
