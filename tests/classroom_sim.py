"""A GitHub Classroom run without GitHub: the workflow's own steps, then the reporter.

The generated ``classroom.yml`` is parsed; its ``run:`` steps run as GitHub runs them
(``bash --noprofile --norc -eo pipefail``, job and step ``env``, a fresh
``$GITHUB_OUTPUT`` per step) in the bundle folder. Steps that need GitHub, root or the
network are emulated: checkout (the bundle is the checkout), setup-python, the cache and
the install (this test environment's own dlgrade, first on ``PATH``), the sandbox
packages (bubblewrap is installed here), the artifact upload. The reporter is
re-implemented from ``autograding-grading-reporter@v1``: for each id in ``runners``
it reads ``<ID>_RESULTS``, base64-decodes it, parses the JSON, skips a runner whose
``max_score`` is falsy, and adds up ``tests[].score``.
"""

from __future__ import annotations

import base64
import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

REPORTER = "classroom-resources/autograding-grading-reporter@v1"
EMULATED_RUN_STEPS = {"sandbox", "install"}
"""Step ids that install things (root, network); this environment already has them."""
SKIPPED_ACTIONS = ("actions/checkout@", "actions/setup-python@", "actions/cache@",
                   "actions/upload-artifact@")
_EXPR = re.compile(r"\$\{\{\s*steps\.([\w-]+)\.outputs\.([\w-]+)\s*\}\}")


@dataclass
class Report:
    points: float = 0.0
    max_points: float = 0.0
    runners: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Each runner's decoded JSON."""
    logs: list[str] = field(default_factory=list)


def load_workflow(bundle: Path) -> dict[str, Any]:
    return yaml.safe_load((bundle / ".github/workflows/classroom.yml").read_text(encoding="utf-8"))


def _outputs(path: Path) -> dict[str, str]:
    found = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        name, sep, value = line.partition("=")
        if sep:
            found[name] = value
    return found


def _substitute(value: str, outputs: dict[str, dict[str, str]]) -> str:
    return _EXPR.sub(lambda m: outputs.get(m.group(1), {}).get(m.group(2), ""), value)


def run_workflow(bundle: Path, tmp: Path) -> Report:
    workflow = load_workflow(bundle)
    job = workflow["jobs"]["run-autograding-tests"]
    outputs: dict[str, dict[str, str]] = {}
    report = Report()
    path = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    for n, step in enumerate(job["steps"]):
        env = {**os.environ, "PATH": path, "GITHUB_ACTIONS": "true", "CI": "true"}
        env.update({k: str(v) for k, v in job.get("env", {}).items()})
        env.update({k: _substitute(str(v), outputs) for k, v in step.get("env", {}).items()})
        uses = step.get("uses", "")
        if uses == REPORTER:
            _report(step, env, report)
        elif uses:
            assert uses.startswith(SKIPPED_ACTIONS), f"unexpected action {uses}"
        elif step.get("id") not in EMULATED_RUN_STEPS:
            out_file = tmp / f"output-{n}"
            out_file.write_text("", encoding="utf-8")
            env["GITHUB_OUTPUT"] = str(out_file)
            proc = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]],
                                  cwd=bundle, env=env, capture_output=True, text=True, timeout=600,
                                  check=False)
            report.logs.append(proc.stdout + proc.stderr)
            assert proc.returncode == 0, f"step {step.get('name')} failed:\n{proc.stdout}\n{proc.stderr}"
            if "id" in step:
                outputs[step["id"]] = _outputs(out_file)
    return report


def _report(step: dict[str, Any], env: dict[str, str], report: Report) -> None:
    for runner in str(step["with"]["runners"]).split(","):
        runner = runner.strip()
        encoded = env.get(f"{runner.upper()}_RESULTS", "")
        data = json.loads(base64.b64decode(encoded, validate=True).decode("utf-8"))
        report.runners[runner] = data
        if not data.get("max_score"):
            continue
        report.points += sum(test["score"] for test in data["tests"])
        report.max_points += data["max_score"]
