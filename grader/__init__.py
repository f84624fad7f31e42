"""dlgrade: grading for an introductory deep-learning course.

The public surface is small: :func:`grade` runs one submission through the
pipeline, :func:`resolve` finds an assignment, :class:`Result` is what comes out.
"""

from ._version import __version__
from .assignment import Assignment, resolve
from .checks import Context, Note, check
from .errors import CheckFailure, DlgradeError
from .pipeline import Options, grade
from .schema import SCHEMA, Result

__all__ = [
    "SCHEMA",
    "Assignment",
    "CheckFailure",
    "Context",
    "DlgradeError",
    "Note",
    "Options",
    "Result",
    "__version__",
    "check",
    "grade",
    "resolve",
]
