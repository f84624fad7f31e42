"""The GitHub Classroom workflow of a student repository (``.github/workflows/classroom.yml``).

Classroom recognises its autograding by shape: a workflow named ``Autograding Tests``
with one job ``run-autograding-tests`` that skips Classroom's own bot, whose grading
steps expose a base64 ``result`` output and hand it to
``classroom-resources/autograding-grading-reporter@v1``. Ours has one grading step,
``dlgrade``, running the public checks of the assignment folder that is the repository
itself.

Steps are plain bash with their inputs in ``env:``, no ``${{ }}`` inside scripts, so the
tests can run them as written.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from dataclasses import dataclass
from importlib import metadata

from .._version import __version__
from ..assignment import Assignment

RUNNER = "ubuntu-latest"
DEFAULT_SOURCE = f"git+https://github.com/dlgrade/dlgrade@v{__version__}"
"""Where the workflow installs dlgrade from: a pinned tag; ``--dlgrade-source`` overrides it."""
PYTHON = "3.12"
SETUP_MINUTES = 15
"""Job time on top of the run's own limit: installing packages, starting kernels, the report."""
STEP_ID = "dlgrade"
"""The grading step's id: the reporter reads ``DLGRADE_RESULTS``."""
TORCH_CPU_INDEX = "https://download.pytorch.org/whl/cpu"
_VERSION = re.compile(r"^\d+(\.\d+)*([a-z]+\d*)?$")


@dataclass(frozen=True)
class WorkflowOptions:
    runner: str = RUNNER
    """``runs-on`` label; anything but ``ubuntu-latest`` is taken as a GPU runner."""
    source: str = DEFAULT_SOURCE
    """A version on a package index (``0.1.0``) or a pip URL (``git+https://…@TAG``)."""

    @property
    def gpu(self) -> bool:
        return self.runner != RUNNER


def _pin(extra: str, name: str) -> str:
    """``name==version`` as pinned in dlgrade's own extras, so the two cannot drift."""
    try:
        requires = metadata.requires("dlgrade") or []
    except metadata.PackageNotFoundError:
        requires = []
    for line in requires:
        spec, _, marker = line.partition(";")
        if f'extra == "{extra}"' in marker and re.match(rf"{re.escape(name)}\s*==", spec.strip()):
            return spec.strip().replace(" ", "")
    return name


def extras(assignment: Assignment, gpu: bool = False) -> list[str]:
    """dlgrade's extras for the assignment's frameworks (on a GPU, TensorFlow comes apart)."""
    frameworks = set(assignment.frameworks)
    found = ["torch"] if "torch" in frameworks else []
    if frameworks & {"tensorflow", "keras"} and not gpu:
        found.insert(0, "tf")
    return found


def install_commands(assignment: Assignment, options: WorkflowOptions) -> list[str]:
    """The pip commands that install a pinned dlgrade and the frameworks the assignment uses."""
    frameworks = set(assignment.frameworks)
    commands = ["python -m pip install --upgrade pip"]
    if "torch" in frameworks:
        index = "" if options.gpu else f" --index-url {TORCH_CPU_INDEX}"
        commands.append(f'python -m pip install "{_pin("torch", "torch")}"{index}')
    if frameworks & {"tensorflow", "keras"} and options.gpu:
        # the CUDA build; the tf extra would put the CPU-only wheel beside it
        version = _pin("tf", "tensorflow-cpu").partition("==")[2]
        commands.append(f'python -m pip install "tensorflow[and-cuda]{"==" + version if version else ""}"')
    commands.append(f'python -m pip install "{requirement(options.source, extras(assignment, options.gpu))}"')
    return commands


def requirement(source: str, extras: list[str] | tuple[str, ...] = ()) -> str:
    """The pip requirement of dlgrade from a version (``0.1.0``) or a URL (``git+https://…``)."""
    name = f"dlgrade[{','.join(extras)}]" if extras else "dlgrade"
    return f"{name}=={source}" if _VERSION.match(source) else f"{name} @ {source}"


def timeout_minutes(assignment: Assignment, options: WorkflowOptions) -> int:
    limits = assignment.limits
    run_s = (limits.gpu_time_s if options.gpu else limits.time_s) + limits.export_time_s
    return math.ceil(run_s / 60) + SETUP_MINUTES


def _q(text: str) -> str:
    """A YAML double-quoted scalar (JSON strings are valid YAML)."""
    return json.dumps(text, ensure_ascii=False)


def _block(script: str, indent: int) -> str:
    pad = " " * indent
    return "|\n" + "\n".join(pad + line if line else "" for line in script.splitlines())


def _runs_on(runner: str) -> str:
    labels = [label.strip() for label in runner.split(",") if label.strip()]
    return _q(labels[0]) if len(labels) == 1 else "[" + ", ".join(_q(x) for x in labels) + "]"


def render_workflow(assignment: Assignment, options: WorkflowOptions) -> str:
    install = install_commands(assignment, options)
    key = hashlib.sha256("\n".join([*install, PYTHON]).encode()).hexdigest()[:16]
    sandbox = "\n".join([
        "sudo apt-get update -q",
        "sudo apt-get install -y -q bubblewrap",
        "# Ubuntu 24.04 lets AppArmor refuse the user namespaces bubblewrap needs.",
        "sudo sysctl -w kernel.apparmor_restrict_unprivileged_userns=0 || true",
    ])
    grade = "\n".join([
        "python -c 'import grader; print(\"dlgrade\", grader.__version__)'",
        'dlgrade check . "$NOTEBOOK" --format terminal,classroom,json,md --out reports',
        'echo "submission sha256: $(sha256sum "$NOTEBOOK" | cut -d" " -f1)"',
    ])
    gpu_note = (
        f"    # GPU runner {options.runner!r}: an organisation names its GPU runners (GitHub's\n"
        "    # larger runners, or self-hosted ones); change the label here if yours differs.\n"
        if options.gpu else ""
    )
    return f"""\
# GitHub Classroom autograding for {assignment.name}, written by `dlgrade assign`.
# The points shown in Classroom are a self-check: the instructor's grading, with
# hidden checks, is the grade. Editing this file does not change that grade.
name: Autograding Tests
"on":
  push:
  workflow_dispatch:
  repository_dispatch:
permissions:
  checks: write
  actions: read
  contents: read
jobs:
  run-autograding-tests:
{gpu_note}    runs-on: {_runs_on(options.runner)}
    if: github.actor != 'github-classroom[bot]'
    timeout-minutes: {timeout_minutes(assignment, options)}
    env:
      NOTEBOOK: {_q(assignment.notebook)}
      PIP_DISABLE_PIP_VERSION_CHECK: "1"
    steps:
      - name: Checkout code
        uses: actions/checkout@v4
      - name: Set up Python
        uses: actions/setup-python@v5
        with:
          python-version: {_q(PYTHON)}
      - name: Cache pip packages and datasets
        uses: actions/cache@v4
        with:
          path: |
            ~/.cache/pip
            ~/.cache/dlgrade
            ~/.keras/datasets
          key: dlgrade-${{{{ runner.os }}}}-{key}
      - name: Sandbox (bubblewrap)
        id: sandbox
        run: {_block(sandbox, 10)}
      - name: Install dlgrade
        id: install
        run: {_block(chr(10).join(install), 10)}
      - name: dlgrade check
        id: {STEP_ID}
        run: {_block(grade, 10)}
      - name: Keep the reports
        if: always()
        uses: actions/upload-artifact@v4
        with:
          name: dlgrade-reports
          path: reports/
          if-no-files-found: ignore
      - name: Autograding Reporter
        uses: classroom-resources/autograding-grading-reporter@v1
        env:
          {STEP_ID.upper()}_RESULTS: "${{{{ steps.{STEP_ID}.outputs.result }}}}"
        with:
          runners: {STEP_ID}
"""
