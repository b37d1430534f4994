"""No production module imports another in a cycle: not module to module, not package to package.

The graph is grimp's (what import-linter reads), so imports inside functions count: a lazy import
hides a cycle from Python at start-up, not from the design. The layering itself (which app may
import which) is import-linter's contract in pyproject.toml; this test catches the cycles inside
an app, where no layer is declared.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import grimp
import pytest

PRODUCTION = ("config", "ledger", "evidence", "exports")

# Upward imports being removed in other branches; each entry is (importer prefix, imported prefix).
KNOWN: set[tuple[str, str]] = set()

Edge = tuple[str, str]


def import_edges(graph: grimp.ImportGraph, known: Iterable[Edge] = ()) -> set[Edge]:
    modules = graph.modules
    edges = set()
    for importer in modules:
        for imported in graph.find_modules_directly_imported_by(importer):
            if imported not in modules:
                continue  # outside the packages asked for (the standard library, Django, ...)
            if any(importer.startswith(a) and imported.startswith(b) for a, b in known):
                continue
            edges.add((importer, imported))
    return edges


def strongly_connected(edges: set[Edge]) -> list[list[str]]:
    """Tarjan's algorithm, iterative: the groups of nodes that reach each other (cycles)."""
    adjacent: dict[str, list[str]] = {}
    for a, b in sorted(edges):
        adjacent.setdefault(a, []).append(b)
        adjacent.setdefault(b, [])
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups = []
    for root in adjacent:
        if root in index:
            continue
        work = [(root, 0)]
        while work:
            node, i = work.pop()
            if i == 0:
                index[node] = low[node] = len(index)
                stack.append(node)
                on_stack.add(node)
            for j in range(i, len(adjacent[node])):
                nxt = adjacent[node][j]
                if nxt not in index:
                    work.append((node, j + 1))
                    work.append((nxt, 0))
                    break
                if nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
            else:
                if low[node] == index[node]:
                    group = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        group.append(member)
                        if member == node:
                            break
                    if len(group) > 1:
                        groups.append(sorted(group))
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[node])
    return groups


def sibling(package: str, module: str) -> str | None:
    """The child of `package` that `module` is in (itself or a descendant), or None."""
    if not module.startswith(package + "."):
        return None
    return package + "." + module[len(package) + 1 :].split(".")[0]


def find_cycles(graph: grimp.ImportGraph, known: Iterable[Edge] = ()) -> list[str]:
    """Each cycle as one line per import in it, `importer -> imported (l.N)`."""
    edges = import_edges(graph, known)
    report = []

    def describe(title: str, group: list[str], members: set[Edge]) -> None:
        lines = [title + ": " + ", ".join(group)]
        for importer, imported in sorted(members):
            seen = graph.get_import_details(importer=importer, imported=imported)
            where = ", ".join(f"l.{d['line_number']}" for d in seen)
            lines.append(f"    {importer} -> {imported} ({where})")
        report.append("\n".join(lines))

    reported: set[Edge] = set()
    for group in strongly_connected(edges):
        members = {(a, b) for a, b in edges if a in group and b in group}
        reported |= members
        describe("modules", group, members)

    # Package level: within each package, its children (modules and subpackages) must not import
    # each other both ways, even through different modules (exports.pack.build -> exports.signing
    # -> exports.pack.evidence is no module cycle, but pack and signing would need each other).
    packages = {m.rpartition(".")[0] for m in graph.modules if "." in m}
    for package in sorted(packages):
        between: dict[Edge, set[Edge]] = {}
        for a, b in edges:
            child_a, child_b = sibling(package, a), sibling(package, b)
            if child_a and child_b and child_a != child_b:
                between.setdefault((child_a, child_b), set()).add((a, b))
        for group in strongly_connected(set(between)):
            members = set().union(*(v for (x, y), v in between.items() if x in group and y in group))
            if not members <= reported:  # not just a module cycle seen from its package
                describe(f"packages in {package}", group, members)
    return report


def test_it_has_no_import_cycles_in_production_code():
    # Imports under `if TYPE_CHECKING:` never run, so they cannot form a cycle at import time.
    graph = grimp.build_graph(*PRODUCTION, exclude_type_checking_imports=True, cache_dir=None)
    cycles = find_cycles(graph, KNOWN)
    assert not cycles, "import cycles (move the shared piece down, or pass a function in):\n" + "\n".join(cycles)


@pytest.fixture
def package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Write a throwaway package from {relative path: source} and put it on sys.path."""

    def write(files: dict[str, str]) -> grimp.ImportGraph:
        for name, source in files.items():
            path = tmp_path / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(source)
        monkeypatch.syspath_prepend(str(tmp_path))
        return grimp.build_graph("pkg", cache_dir=None)

    return write


def test_it_finds_a_cycle_hidden_in_a_function_level_import(package):
    graph = package(
        {
            "pkg/__init__.py": "",
            "pkg/jobs.py": "def request():\n    from pkg.tasks import run\n",
            "pkg/tasks.py": "from pkg.jobs import request\n",
        }
    )
    cycles = find_cycles(graph)
    assert cycles and cycles[0].startswith("modules: pkg.jobs, pkg.tasks")
    assert "pkg.jobs -> pkg.tasks (l.2)" in cycles[0]


def test_it_finds_packages_that_import_each_other_through_different_modules(package):
    graph = package(
        {
            "pkg/__init__.py": "",
            "pkg/pack/__init__.py": "",
            "pkg/pack/build.py": "from pkg.signing import sign\n",
            "pkg/pack/errors.py": "class PackError(Exception): ...\n",
            "pkg/signing.py": "from pkg.pack.errors import PackError\n",
        }
    )
    assert find_cycles(graph) == [
        "packages in pkg: pkg.pack, pkg.signing\n"
        "    pkg.pack.build -> pkg.signing (l.1)\n"
        "    pkg.signing -> pkg.pack.errors (l.1)"
    ]


def test_it_leaves_out_the_imports_it_is_told_are_known(package):
    graph = package(
        {
            "pkg/__init__.py": "",
            "pkg/low.py": "import pkg.high\n",
            "pkg/high.py": "import pkg.low\n",
        }
    )
    assert find_cycles(graph, {("pkg.low", "pkg.high")}) == []
    assert len(find_cycles(graph)) == 1
