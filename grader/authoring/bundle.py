"""The student bundle: what becomes a GitHub Classroom template repository.

::

    <bundle>/
        README.md                      statement (Spanish, then English), checks, honesty note
        <notebook>.ipynb               the template, generated afresh from the reference
        assignment.toml, messages.toml,
        checks.py, export.py, data/…   the public assignment folder: ``dlgrade check . NB``
                                       grades with a pip-installed dlgrade, no instructor repo
        .github/workflows/classroom.yml
        .gitignore
        .dlgrade-bundle.json           what was written and from which dlgrade (and marks the
                                       folder as a bundle, so a rebuild may replace it)

Left out: ``hidden/`` (hidden checks and data), the reference notebook and its
outputs, and the statement sources (merged into the README). After writing, the
bundle is scanned for every secret (:mod:`.leaks`); a leak is an error.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from .._version import __version__
from ..assignment import Assignment
from ..errors import AssignmentError, UsageError
from ..i18n import LANGUAGES
from ..templates import render_template
from .leaks import find_leaks, public_files
from .workflow import WorkflowOptions, extras, render_workflow, requirement

MANIFEST = ".dlgrade-bundle.json"
WORKFLOW = Path(".github/workflows/classroom.yml")
STATEMENTS = {lang: f"statement.{lang}.md" for lang in LANGUAGES}
"""Optional statement sources in the assignment folder, one per language."""
GITIGNORE = "reports/\n.ipynb_checkpoints/\n__pycache__/\n"
_TEMPLATES = Path(__file__).with_name("templates")


def template_text(assignment: Assignment) -> str:
    """The student notebook: rendered from the reference, else the committed template."""
    if assignment.reference_path.is_file():
        return render_template(assignment.reference_path.read_text(encoding="utf-8"))
    if assignment.template_path.is_file():
        return assignment.template_path.read_text(encoding="utf-8")
    raise AssignmentError(f"{assignment.root}: neither {assignment.reference_path} nor "
                          f"{assignment.template_path} exists; write the reference notebook first.")


def _points(value: float) -> str:
    return f"{value:g}"


def render_readme(assignment: Assignment, options: WorkflowOptions) -> str:
    checks = assignment.checks(hidden=True)
    es, en = assignment.messages("es"), assignment.messages("en")
    hidden = sum(c.points for c in checks if c.visibility == "hidden")
    statement = {}
    for lang, name in STATEMENTS.items():
        path = assignment.root / name
        statement[lang] = path.read_text(encoding="utf-8").strip() if path.is_file() else ""
    env = Environment(loader=FileSystemLoader(_TEMPLATES), undefined=StrictUndefined,
                      keep_trailing_newline=True, autoescape=False)
    return env.get_template("README.md.j2").render(
        title={lang: assignment.title(lang) for lang in LANGUAGES},
        statement=statement,
        notebook=assignment.notebook,
        public=[{"title_es": es(f"{c.id}.title"), "title_en": en(f"{c.id}.title"),
                 "points": _points(c.points)} for c in checks if c.visibility == "public"],
        hidden_points=_points(hidden) if hidden else "",
        manual=[{"title_es": es(f"{m['id']}.title"), "title_en": en(f"{m['id']}.title"),
                 "points": _points(float(m["points"]))} for m in assignment.manual_items()],
        install=requirement(options.source, extras(assignment)),
    )


def bundle_files(assignment: Assignment, options: WorkflowOptions) -> dict[str, bytes]:
    """Every file of the bundle by relative path (the manifest aside)."""
    skip = {assignment.notebook, "README.md", *STATEMENTS.values()}
    files: dict[str, bytes] = {}
    for path in public_files(assignment):
        rel = path.relative_to(assignment.root).as_posix()
        if rel not in skip and not rel.endswith(".pyc"):
            files[rel] = path.read_bytes()
    files[assignment.notebook] = template_text(assignment).encode()
    files["README.md"] = render_readme(assignment, options).encode()
    files[WORKFLOW.as_posix()] = render_workflow(assignment, options).encode()
    files[".gitignore"] = GITIGNORE.encode()
    return files


def _prepare(out: Path) -> None:
    if out.exists() and any(out.iterdir()):
        if not (out / MANIFEST).is_file():
            raise UsageError(f"{out} exists and is not a dlgrade bundle; choose an empty or "
                             "new folder for --out.")
        shutil.rmtree(out)
    out.mkdir(parents=True, exist_ok=True)


def build_bundle(assignment: Assignment, out: Path, options: WorkflowOptions | None = None) -> Path:
    """Write the student bundle of ``assignment`` into ``out`` (replacing an older bundle)."""
    options = options or WorkflowOptions()
    files = bundle_files(assignment, options)
    _prepare(out)
    for rel, data in files.items():
        target = out / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    manifest = {
        "assignment": assignment.name, "version": assignment.version, "dlgrade": __version__,
        "runner": options.runner, "source": options.source,
        "files": {rel: hashlib.sha256(data).hexdigest() for rel, data in sorted(files.items())},
    }
    (out / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    leaks = find_leaks(assignment, out)
    if leaks:
        shutil.rmtree(out)
        raise AssignmentError(f"{assignment.name}: instructor-only material would reach students "
                              f"({'; '.join(leaks[:5])}); the bundle was removed.")
    return out
