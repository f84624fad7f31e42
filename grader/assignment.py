"""Finding and loading an assignment folder.

::

    assignments/<name>/
        assignment.toml     title, points summary, notebook name, files, [limits]
        messages.toml       titles and messages of its checks, in Spanish and English
        checks.py           public checks, and ``inputs(rng)`` for public probe inputs
        export.py           runs in the student's kernel after their code (``ex`` given)
        <notebook>.ipynb    the student template (generated from the reference)
        data/               files the student needs, copied next to the submission
        hidden/checks.py    hidden checks and their ``inputs(rng)`` (instructor only)
        hidden/...          hidden data (instructor only)
    reference/<name>/<notebook>.ipynb   the solution the template is generated from
"""

from __future__ import annotations

import importlib.util
import inspect
import os
import sys
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from .checks import Check, collect_checks
from .errors import AssignmentError, UnknownAssignment
from .i18n import DEFAULT_LANG, Messages, tomllib
from .settings import DEFAULT_LIMITS, Limits

REPO_ROOT = Path(__file__).resolve().parent.parent


def assignments_dir() -> Path:
    """Where assignment names are looked up: ``$DLGRADE_ASSIGNMENTS`` or the repository's."""
    env = os.environ.get("DLGRADE_ASSIGNMENTS")
    return Path(env) if env else REPO_ROOT / "assignments"


@dataclass(frozen=True)
class Assignment:
    root: Path

    @cached_property
    def config(self) -> dict[str, Any]:
        path = self.root / "assignment.toml"
        try:
            with path.open("rb") as fh:
                return tomllib.load(fh)
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise AssignmentError(f"{path}: cannot read the assignment settings ({exc})") from exc

    @property
    def name(self) -> str:
        return str(self.config.get("name", self.root.name))

    def title(self, lang: str) -> str:
        titles = self.config.get("title", {})
        return str(titles.get(lang) or titles.get(DEFAULT_LANG) or self.name)

    @property
    def lang(self) -> str:
        return str(self.config.get("lang", DEFAULT_LANG))

    @property
    def version(self) -> str:
        return str(self.config.get("version", "1"))

    @cached_property
    def limits(self) -> Limits:
        return DEFAULT_LIMITS.with_overrides(
            dict(self.config.get("limits", {})), str(self.root / "assignment.toml")
        )

    @property
    def notebook(self) -> str:
        return str(self.config["notebook"])

    @property
    def template_path(self) -> Path:
        return self.root / self.notebook

    @property
    def reference_path(self) -> Path:
        return self.root.parent.parent / "reference" / self.name / self.notebook

    @property
    def files(self) -> list[Path]:
        """Files the student's code may read, copied next to the submission for each run."""
        return [self.root / f for f in self.config.get("files", [])]

    @property
    def hidden_dir(self) -> Path:
        return self.root / "hidden"

    @property
    def export_source(self) -> str:
        return (self.root / "export.py").read_text(encoding="utf-8")

    @property
    def frameworks(self) -> list[str]:
        """Libraries the run imports up front (``tensorflow``, ``torch``) for seeds and device."""
        return [str(f) for f in self.config.get("frameworks", [])]

    @property
    def datasets(self) -> list[str]:
        """Keras datasets the run reads (``mnist``, ``fashion_mnist``), served from local copies."""
        return [str(d) for d in self.config.get("datasets", [])]

    def pictures(self, ctx: Any, hidden: bool) -> dict[str, bytes]:
        """Feedback pictures (file name → PNG) from the checks modules' ``pictures(ctx)``."""
        found: dict[str, bytes] = {}
        for mod in self._modules(hidden):
            draw = getattr(mod, "pictures", None)
            if draw is not None:
                found.update(draw(ctx))
        return found

    def picture_code(self, hidden: bool) -> str:
        """The source that draws the pictures (not the checks' thresholds), for cache keys."""
        parts = [(Path(__file__).parent / "dl" / "pictures.py").read_text(encoding="utf-8")]
        for mod in self._modules(hidden):
            for name in ("pictures", "picture_labels"):
                fn = getattr(mod, name, None)
                if fn is not None:
                    parts.append(inspect.getsource(fn))
        return "\n".join(parts)

    @property
    def evaluate_prelude(self) -> str | None:
        """Imports an evaluation sandbox runs ahead, while the student's code runs
        (``[evaluate] prelude``): the framework that loads exported models."""
        prelude = self.config.get("evaluate", {}).get("prelude")
        return str(prelude) if prelude else None

    def messages(self, lang: str) -> Messages:
        return Messages(lang, self.root / "messages.toml")

    def _module(self, path: Path) -> ModuleType:
        return load_module(path)

    def _modules(self, hidden: bool) -> list[ModuleType]:
        mods = [self._module(self.root / "checks.py")]
        hidden_checks = self.hidden_dir / "checks.py"
        if hidden and hidden_checks.exists():
            mods.append(self._module(hidden_checks))
        return mods

    def checks(self, hidden: bool) -> list[Check]:
        messages = self.messages(DEFAULT_LANG)
        found: list[Check] = []
        for mod in self._modules(hidden):
            found.extend(collect_checks(mod, messages, str(mod.__file__)))
        ids = [c.id for c in found]
        for chk in found:
            for req in chk.requires:
                if req not in ids[: ids.index(chk.id)]:
                    raise AssignmentError(
                        f"{self.root}: check {chk.id!r} requires {req!r}, "
                        "which is not a check declared before it"
                    )
        if len(set(ids)) != len(ids):
            raise AssignmentError(f"{self.root}: two checks share an id")
        return found

    def inputs(self, hidden: bool, seed: int) -> dict[str, np.ndarray]:
        """Probe inputs for a run: public ones always, hidden ones in instructor grading."""
        rng = np.random.default_rng(seed)
        merged: dict[str, np.ndarray] = {}
        for mod in self._modules(hidden):
            make = getattr(mod, "inputs", None)
            if make is not None:
                merged.update(make(rng))
        return merged

    def manual_items(self) -> list[dict[str, Any]]:
        """Written answers an instructor scores: ``[[manual]] id, points`` in the settings."""
        return [dict(item) for item in self.config.get("manual", [])]

    def points(self) -> tuple[float, float]:
        """(automatic points in instructor grading, manual points)."""
        auto = sum(c.points for c in self.checks(hidden=True))
        manual = sum(float(m["points"]) for m in self.manual_items())
        return auto, manual


def load_module(path: Path) -> ModuleType:
    """Import a checks file by path, once; assignment folders are not packages."""
    path = path.resolve()
    name = "dlgrade_checks_" + "".join(c if c.isalnum() else "_" for c in str(path))
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise AssignmentError(f"{path}: cannot load checks")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        del sys.modules[name]
        raise AssignmentError(f"{path}: the checks module failed to load: {exc!r}") from exc
    return module


def public_checks(hidden_file: str) -> ModuleType:
    """For ``hidden/checks.py``: the assignment's public checks module, to reuse its helpers."""
    return load_module(Path(hidden_file).resolve().parent.parent / "checks.py")


def resolve(name_or_path: str) -> Assignment:
    """An assignment from a name under ``assignments/`` or a path to its folder."""
    path = Path(name_or_path)
    if (path / "assignment.toml").is_file():
        return Assignment(path.resolve())
    candidate = assignments_dir() / name_or_path
    if "/" not in name_or_path and (candidate / "assignment.toml").is_file():
        return Assignment(candidate.resolve())
    raise UnknownAssignment(name_or_path, [a.name for a in all_assignments()])


def all_assignments() -> list[Assignment]:
    base = assignments_dir()
    if not base.is_dir():
        return []
    return [Assignment(p.resolve()) for p in sorted(base.iterdir()) if (p / "assignment.toml").is_file()]
