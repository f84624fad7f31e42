"""The one exception tree of dlgrade.

::

    DlgradeError                      anything dlgrade raises on purpose
    ├── UsageError                    the user asked for something impossible (exit 2)
    │   ├── UnknownAssignment         no such assignment name or folder
    │   └── SubmissionNotFound        the submission path does not exist
    ├── AssignmentError               an assignment folder is malformed (exit 3)
    ├── IntakeError                   a submission cannot be read; becomes a graded result
    └── GraderFailure                 dlgrade itself failed on a submission (exit 3)

    CheckFailure(AssertionError)      raised by a check: the student's work is wrong;
                                      carries ``key``, ``params``, ``expected``,
                                      ``actual`` and ``hint`` as fields
    └── ArtifactMissing               the export step produced nothing for a key

Every message a user sees names what happened and what to do next.
"""

from __future__ import annotations

from typing import Any


class DlgradeError(Exception):
    """Base of every error dlgrade raises on purpose."""


class UsageError(DlgradeError):
    """The command line asked for something that cannot be done (exit status 2)."""


class UnknownAssignment(UsageError):
    def __init__(self, name: str, known: list[str]) -> None:
        self.name = name
        self.known = known
        listing = ", ".join(known) or "(none)"
        super().__init__(
            f"unknown assignment {name!r}; known assignments: {listing}. "
            "Give a name from `dlgrade list` or a path to an assignment folder."
        )


class SubmissionNotFound(UsageError):
    def __init__(self, path: str) -> None:
        self.path = path
        super().__init__(f"submission {path!r} does not exist; check the path and try again.")


class AssignmentError(DlgradeError):
    """An assignment folder is malformed: the instructor must fix it."""


class IntakeError(DlgradeError):
    """A submission cannot be read. Carries a catalogue key so both languages can explain it."""

    def __init__(self, key: str, **params: Any) -> None:
        self.key = key
        self.params = params
        super().__init__(f"{key} {params}")

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild_intake_error, (self.key, self.params))


def _rebuild_intake_error(key: str, params: dict[str, Any]) -> IntakeError:
    return IntakeError(key, **params)


class GraderFailure(DlgradeError):
    """dlgrade itself failed while grading a submission (exit status 3)."""


class CheckFailure(AssertionError):
    """A check found the student's work wrong.

    ``key`` names a message in the assignment's catalogue, ``params`` fill it in;
    ``expected``/``actual`` are shown side by side and ``hint`` names a catalogue
    entry with what to try next. ``fraction`` (0..1) is partial credit.
    """

    def __init__(
        self,
        key: str,
        *,
        expected: Any = None,
        actual: Any = None,
        hint: str | None = None,
        fraction: float = 0.0,
        **params: Any,
    ) -> None:
        self.key = key
        self.fraction = fraction
        self.params = params
        self.expected = expected
        self.actual = actual
        self.hint = hint
        super().__init__(key)

    def __reduce__(self) -> tuple[Any, ...]:
        return (
            _rebuild_failure,
            (type(self), self.key, self.expected, self.actual, self.hint, self.fraction, self.params),
        )


class ArtifactMissing(CheckFailure):
    """The export step recorded no usable value for a key (usually: the code raised)."""


def _rebuild_failure(
    cls: type[CheckFailure],
    key: str,
    expected: Any,
    actual: Any,
    hint: str | None,
    fraction: float,
    params: dict[str, Any],
) -> CheckFailure:
    return cls(key, expected=expected, actual=actual, hint=hint, fraction=fraction, **params)
