"""Class intake: turn the paths an instructor gives into one submission per student.

The rule that decides what a path is:

- a ``.zip`` file is an LMS export (Moodle or Canvas): it is extracted safely and its
  contents read as a class folder;
- any other file is one submission;
- a folder is **one submission** when it directly holds the assignment's notebook (or
  script of the same stem), or holds exactly one notebook/script in all; otherwise it
  is a **class folder**: every notebook/script directly inside is one student (named
  by its file stem) and every sub-folder is one student (named by the folder).

Names are cleaned of LMS decorations: ``<assignment>-<user>`` (GitHub Classroom
clones), ``<login>_[LATE_]<id>_<sub-id>_<file>`` (Canvas), ``<Full Name>_<id>_assignsubmission_file_``
(Moodle). A roster CSV (``--roster``) maps those names to the roster's students;
duplicates, missing students and files that are not submissions are all recorded.
"""

from __future__ import annotations

import csv
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import UsageError

SUBMISSION_SUFFIXES = (".ipynb", ".py")
IGNORED = {"__MACOSX", ".ipynb_checkpoints", ".git", ".DS_Store", "Thumbs.db"}
MAX_ARCHIVE_FILES = 5000
MAX_ARCHIVE_MB = 500

_CANVAS = re.compile(r"^([a-z0-9]+)(?:_LATE)?_(\d+)_(\d+)_(.+)$")
_MOODLE = re.compile(r"^(.+?)_(\d+)_assignsubmission_\w+?_?$")


@dataclass
class Entry:
    """One submission of the class."""

    student: str
    """The identity the gradebook uses (roster ``student`` column, or the cleaned name)."""
    path: Path
    given: str
    raw_name: str
    """The file or folder name it came from."""
    roster: dict[str, str] = field(default_factory=dict)
    """The roster row it matched (empty when there is no roster or no match)."""
    key: str = ""
    """Unique name of its report folder: the student, ``student~2`` for a second claim."""
    duplicate: bool = False
    """Another submission claims the same student: both are graded, both flagged."""


@dataclass
class ClassList:
    entries: list[Entry] = field(default_factory=list)
    missing: list[dict[str, str]] = field(default_factory=list)
    """Roster rows with nothing submitted."""
    unknown: list[str] = field(default_factory=list)
    """Students not on the roster (graded all the same)."""
    ignored: list[str] = field(default_factory=list)
    """Things that are not submissions (``__MACOSX``, hidden files)."""
    duplicates: dict[str, list[str]] = field(default_factory=dict)
    """Student → every path that claimed them."""

    def to_dict(self) -> dict[str, object]:
        return {
            "submissions": len(self.entries),
            "missing": self.missing,
            "unknown": self.unknown,
            "ignored": self.ignored,
            "duplicates": self.duplicates,
        }


def is_class_folder(path: Path, notebook: str) -> bool:
    """Whether a folder holds a whole class (see the module docstring for the rule)."""
    if not path.is_dir() or path.is_symlink():
        return False
    stem = Path(notebook).stem
    if any((path / f"{stem}{suffix}").is_file() for suffix in SUBMISSION_SUFFIXES):
        return False
    found = [p for p in path.rglob("*") if p.suffix in SUBMISSION_SUFFIXES
             and not IGNORED.intersection(p.parts)]
    return len(found) != 1


def is_class(path: Path, notebook: str) -> bool:
    return (path.is_file() and path.suffix.lower() == ".zip") or is_class_folder(path, notebook)


def clean_name(name: str, assignment: str, is_file: bool = True) -> str:
    """The student part of an LMS- or Classroom-decorated file or folder name."""
    stem = Path(name).stem if is_file else name
    if m := _MOODLE.match(stem):
        return m.group(1).strip()
    if m := _CANVAS.match(name):
        return m.group(1)
    for prefix in {assignment, assignment.replace("_", "-")}:
        if stem.lower().startswith(prefix.lower() + "-") and len(stem) > len(prefix) + 1:
            return stem[len(prefix) + 1:]
    return stem


def extract(archive: Path, dest: Path) -> Path:
    """Extract an LMS zip safely: no absolute or ``..`` paths, no links, size and count caps."""
    try:
        zf = zipfile.ZipFile(archive)
    except (zipfile.BadZipFile, OSError) as exc:
        raise UsageError(f"{archive}: not a readable zip archive ({exc}).") from exc
    with zf:
        members = zf.infolist()
        if len(members) > MAX_ARCHIVE_FILES:
            raise UsageError(f"{archive}: {len(members)} files, more than the "
                             f"{MAX_ARCHIVE_FILES} a class export should hold.")
        if sum(m.file_size for m in members) > MAX_ARCHIVE_MB * 2**20:
            raise UsageError(f"{archive}: unpacks to more than {MAX_ARCHIVE_MB} MB.")
        root = dest.resolve()
        for m in members:
            target = (root / m.filename).resolve()
            mode = m.external_attr >> 16
            if m.filename.startswith("/") or not target.is_relative_to(root) or \
                    (mode & 0o170000) == 0o120000:
                raise UsageError(f"{archive}: refusing unsafe member {m.filename!r} "
                                 "(absolute path, '..' or link).")
            if m.is_dir():
                target.mkdir(parents=True, exist_ok=True)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            with zf.open(m) as src, target.open("wb") as out:
                written = 0
                while block := src.read(1 << 20):
                    written += len(block)
                    if written > m.file_size:  # a lying header: stop at what it declared
                        raise UsageError(f"{archive}: member {m.filename!r} is larger than declared.")
                    out.write(block)
    return dest


def scan(folder: Path, assignment: str, found: ClassList) -> list[tuple[str, Path]]:
    """(name, path) of every submission directly in a class folder."""
    items = []
    entries = sorted(folder.iterdir())
    # an archive with a single top folder (Canvas/Moodle wrap everything in one): look inside
    visible = [p for p in entries if p.name not in IGNORED and not p.name.startswith(".")]
    if len(visible) == 1 and visible[0].is_dir() and is_class_folder(visible[0], "\0"):
        return scan(visible[0], assignment, found)
    for p in entries:
        if p.name in IGNORED or p.name.startswith("."):
            found.ignored.append(str(p))
            continue
        items.append((clean_name(p.name, assignment, p.is_file()), p))
    return items


def _safe(name: str) -> str:
    """A name usable as a folder: no separators, no leading dot."""
    return re.sub(r"[^\w.@+-]+", "_", name).lstrip(".") or "student"


def read_roster(path: Path) -> list[dict[str, str]]:
    """A CSV with a ``student`` column (or a GitHub Classroom grades/roster export, whose
    ``roster_identifier`` or ``github_username`` becomes the student); any of
    ``username, github, github_username, email, sis_id, id, name`` may also match a
    submission's name."""
    try:
        with path.open(newline="", encoding="utf-8-sig") as fh:
            rows = [{k.strip().lower(): (v or "").strip() for k, v in r.items() if k}
                    for r in csv.DictReader(fh)]
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise UsageError(f"roster {path}: cannot read it ({exc}).") from exc
    if rows and "student" not in rows[0]:
        source = next((k for k in ("roster_identifier", "github_username") if k in rows[0]), None)
        if source is None:
            raise UsageError(f"roster {path}: needs a 'student' column (found {', '.join(rows[0])}).")
        for row in rows:
            row["student"] = row[source] or row.get("github_username", "")
    return rows


_ROSTER_KEYS = ("student", "username", "github", "github_username", "email", "sis_id", "id", "name")


def collect(paths: list[Path], assignment: str, notebook: str, scratch: Path,
            roster: list[dict[str, str]] | None = None, force: bool = False) -> ClassList:
    """Every submission under ``paths``, matched to the roster; nothing is dropped.

    ``force`` (``--batch``): every folder given is a class folder, whatever it holds."""
    found = ClassList()
    named: list[tuple[str, Path, str]] = []
    for n, path in enumerate(paths):
        if path.is_file() and path.suffix.lower() == ".zip":
            folder = extract(path, scratch / f"archive-{n}")
            named += [(name, p, str(p.relative_to(scratch))) for name, p in scan(folder, assignment, found)]
        elif is_class_folder(path, notebook) or (force and path.is_dir()):
            named += [(name, p, str(p)) for name, p in scan(path, assignment, found)]
        else:
            named.append((clean_name(path.name, assignment, path.is_file()), path, str(path)))
    index: dict[str, dict[str, str]] = {}
    for row in roster or []:
        for key in _ROSTER_KEYS:
            if row.get(key):
                index.setdefault(row[key].lower(), row)
    seen: dict[str, int] = {}
    claimed: set[int] = set()
    for name, path, given in named:
        row = index.get(name.lower(), {})
        if roster is not None and not row:
            found.unknown.append(name)
        student = row.get("student", name) if row else name
        if row:
            claimed.add(id(row))
        seen[student] = seen.get(student, 0) + 1
        key = _safe(student) + (f"~{seen[student]}" if seen[student] > 1 else "")
        found.entries.append(Entry(student=student, path=path, given=given, raw_name=path.name,
                                   roster=row, key=key))
        found.duplicates.setdefault(student, []).append(given)
    found.duplicates = {k: v for k, v in found.duplicates.items() if len(v) > 1}
    for entry in found.entries:
        entry.duplicate = entry.student in found.duplicates
    found.missing = [row for row in roster or [] if id(row) not in claimed]
    return found
