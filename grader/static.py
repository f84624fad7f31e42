"""Static checks on source code, where behaviour can't tell (e.g. forbidden imports)."""

from __future__ import annotations

import ast
import re

_MAGIC = re.compile(r"^\s*[!%].*$", re.MULTILINE)


def imported_modules(source: str) -> set[str]:
    """Top-level names of every module the source imports (``import x.y`` → ``x``).

    IPython magics and shell lines are blanked first; a cell that does not parse is
    read line by line, so one syntax error can't hide an import.
    """
    text = _MAGIC.sub("", source)
    try:
        trees = [ast.parse(text)]
    except SyntaxError:
        trees = []
        for line in text.splitlines():
            try:
                trees.append(ast.parse(line.strip()))
            except SyntaxError:
                continue
    names: set[str] = set()
    for tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names.add(node.module.split(".")[0])
            elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                  and node.func.id == "__import__" and node.args
                  and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
                names.add(node.args[0].value.split(".")[0])
        if "importlib" in names or "import_module" in text:
            names.add("importlib")
    return names
