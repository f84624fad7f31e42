"""Authoring: from an instructor's reference solution to a student repository.

``dlgrade assign`` writes the student bundle (:mod:`.bundle`) with its GitHub
Classroom workflow (:mod:`.workflow`) and proves it leaks nothing (:mod:`.leaks`);
``dlgrade new`` scaffolds an assignment (:mod:`.scaffold`).
"""

from .bundle import build_bundle
from .leaks import find_leaks
from .scaffold import create
from .workflow import WorkflowOptions, render_workflow

__all__ = ["WorkflowOptions", "build_bundle", "create", "find_leaks", "render_workflow"]
