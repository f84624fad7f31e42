"""The export helper that runs *inside* the student's kernel.

This file is executed as source in the kernel (it is not imported from the
grader package, which the sandbox cannot see), so it depends on nothing but the
standard library and NumPy, and it must never hold an expected value: it only
calls the student's code on inputs and writes what comes back as data.

Each exported key becomes an entry of ``values.json``: ``{"ok": true, "value": …}``
for small JSON values, ``{"ok": true, "file": "key.npy"}`` for arrays, or
``{"ok": false, "error": "NameError", "message": "…"}`` when the student's code
raised. One failing key never stops the others.
"""

import json
import os
import re
import time
import traceback
from collections.abc import Callable
from typing import Any

import numpy as _np

_SAFE = re.compile(r"[^A-Za-z0-9_.-]")
# Frames of the grader's own code are left out of "where it failed" for the student.
_GRADER_FILES = ("export.py", "evaluate.py", "dlgrade_runtime")


class Exporter:
    """Calls student code and writes its results where the grader reads them."""

    def __init__(self, namespace: dict[str, Any], out_dir: str, inputs_path: str | None = None) -> None:
        self.ns = namespace
        self.out_dir = out_dir
        self.index: dict[str, dict[str, Any]] = {}
        self.inputs: dict[str, Any] = {}
        self._started = time.monotonic()
        if inputs_path and os.path.exists(inputs_path):
            with _np.load(inputs_path, allow_pickle=False) as data:
                self.inputs = {k: data[k] for k in data.files}

    def get(self, name: str) -> Any:
        """The student's global ``name``; a missing one raises NameError like Python would."""
        if name not in self.ns:
            raise NameError(f"name '{name}' is not defined")
        return self.ns[name]

    def run(self, key: str, thunk: Callable[[], Any]) -> Any:
        """Record what ``thunk()`` returns under ``key``, or the exception it raised."""
        try:
            value = thunk()
        except BaseException as exc:  # the student's code may raise anything, even SystemExit
            if isinstance(exc, KeyboardInterrupt):
                raise
            self._error(key, exc)
            return None
        self.put(key, value)
        return value

    def call(self, key: str, name: str, *args: Any, **kwargs: Any) -> Any:
        """Call the student's function ``name`` on copies of the inputs and record the result."""
        copies = [a.copy() if isinstance(a, _np.ndarray) else a for a in args]
        return self.run(key, lambda: self.get(name)(*copies, **kwargs))

    def put(self, key: str, value: Any) -> None:
        if isinstance(value, (bool, int, float, str)) or value is None:
            if isinstance(value, float) and not _np.isfinite(value):
                self.index[key] = {"ok": True, "value": repr(value), "nonfinite": True}
            else:
                self.index[key] = {"ok": True, "value": value}
            return
        if isinstance(value, dict):
            try:
                text = json.dumps(value)
            except (TypeError, ValueError) as exc:
                self._error(key, exc)
                return
            if len(text) > 1_000_000:
                self._error(key, ValueError("value too large to export"))
                return
            self.index[key] = {"ok": True, "value": json.loads(text)}
            return
        try:
            arr = _np.asarray(value)
        except Exception as exc:
            self._error(key, exc)
            return
        if arr.dtype.hasobject or arr.dtype.kind not in "biuf":
            self.index[key] = {
                "ok": False, "error": "TypeError",
                "message": f"not a numeric array (dtype {arr.dtype}, type {type(value).__name__})",
            }
            return
        name = _SAFE.sub("_", key) + ".npy"
        _np.save(os.path.join(self.out_dir, name), arr, allow_pickle=False)
        self.index[key] = {"ok": True, "file": name, "shape": list(arr.shape)}

    def _error(self, key: str, exc: BaseException) -> None:
        frames = traceback.extract_tb(exc.__traceback__) if exc.__traceback__ else []
        own = [f for f in frames if f.filename not in _GRADER_FILES]
        where = f" (line {own[-1].lineno})" if own else ""
        self.index[key] = {
            "ok": False, "error": type(exc).__name__, "message": (str(exc) + where)[:500],
        }

    def finish(self) -> None:
        self.index["__export__"] = {"ok": True, "value": round(time.monotonic() - self._started, 3)}
        path = os.path.join(self.out_dir, "values.json")
        tmp = path + ".tmp"
        with open(tmp, "w", encoding="utf-8") as fh:
            json.dump(self.index, fh)
        os.replace(tmp, path)
