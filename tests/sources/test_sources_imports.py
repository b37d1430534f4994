"""Harvesters depend on the ledger only: nothing in evidence/sources imports the read models or
compliance, not even inside a function, so what a harvest appends never depends on them."""

from __future__ import annotations

import ast
from pathlib import Path

import evidence.sources

UPWARD = ("evidence.readmodels", "evidence.compliance", "exports", "devkit")


def imported(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", "")) == "import_module":
            names.update(a.value for a in node.args if isinstance(a, ast.Constant) and isinstance(a.value, str))
    return names


def test_it_imports_nothing_above_the_sources_layer():
    root = Path(evidence.sources.__file__).parent
    found = {
        f"{path.relative_to(root)}: {name}"
        for path in root.rglob("*.py")
        for name in imported(path)
        if name.startswith(UPWARD)
    }
    assert found == set()
