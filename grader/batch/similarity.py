"""Pairwise code similarity across a class (copydetect's winnowing fingerprints).

Only the students' code cells are compared; code that comes from the assignment's
template is boilerplate and never counts. Pairs whose shared share of tokens is at
or above the threshold (in both directions' maximum) are listed with a fragment.
Missing copydetect means no similarity section, never a failed batch.
"""

from __future__ import annotations

import itertools
import tempfile
from pathlib import Path
from typing import Any

from ..assignment import Assignment
from ..errors import IntakeError
from ..intake import load, student_source
from .classlist import ClassList

THRESHOLD = 0.6
NOISE_T, GUARANTEE_T = 25, 30


def _source(path: Path, assignment: Assignment) -> str | None:
    try:
        return student_source(load(path, str(path), assignment.limits, assignment.notebook).notebook)
    except (IntakeError, OSError):
        return None


def similar_pairs(classlist: ClassList, assignment: Assignment,
                  threshold: float = THRESHOLD) -> list[dict[str, Any]]:
    try:
        from copydetect import CodeFingerprint, compare_files
    except ImportError:
        return []
    win = GUARANTEE_T - NOISE_T + 1
    pairs: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="dlg-sim-") as tmp:
        root = Path(tmp)
        boilerplate: list[int] = []
        tpl = assignment.template_path
        template = _source(tpl, assignment) if tpl.exists() else None
        if template:
            (root / "_template.py").write_text(template, encoding="utf-8")
            boilerplate = list(CodeFingerprint(str(root / "_template.py"), NOISE_T, win).hashes)
        prints = {}
        for n, e in enumerate(classlist.entries):
            text = _source(e.path, assignment)
            if not text:
                continue
            file = root / f"s{n}.py"
            file.write_text(text, encoding="utf-8")
            try:
                prints[e.key] = CodeFingerprint(str(file), NOISE_T, win, boilerplate=boilerplate)
            except Exception:  # copydetect refuses some inputs (too short to fingerprint)
                continue
        for (a, fa), (b, fb) in itertools.combinations(sorted(prints.items()), 2):
            if fa.raw_code == fb.raw_code and not fa.hashes:
                continue
            _, (sa, sb), (slices_a, _) = compare_files(fa, fb)
            score = max(sa, sb)
            if score >= threshold:
                fragment = ""
                if len(slices_a[0]):
                    start, end = int(slices_a[0][0]), int(slices_a[1][0])
                    fragment = fa.raw_code[start:end][:600]
                pairs.append({"a": a, "b": b, "score": round(100 * score, 1), "fragment": fragment})
    return sorted(pairs, key=lambda p: -p["score"])
