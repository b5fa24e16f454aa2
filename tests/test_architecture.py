"""The shape of the code: layers import downward only, and no module imports itself back.

Every import counts, including those inside functions: a "lazy" import that closes a
circle still ties the two modules into one (DESIGN.md: search and reports must not
import each other). Imports under ``if TYPE_CHECKING:`` are for annotations only and do
not count.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("theory", "verification")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {
        _module_name(p): p for package in PACKAGES for p in sorted((ROOT / package).rglob("*.py"))
    }


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(path: Path, known: dict[str, Path]) -> set[str]:
    """The sith modules that ``path`` imports (at any depth, outside TYPE_CHECKING)."""
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child):
                for other in child.orelse:
                    visit(other)
                continue
            if isinstance(child, ast.Import):
                found.update(a.name for a in child.names if a.name in known)
            elif isinstance(child, ast.ImportFrom) and child.module and child.level == 0:
                for alias in child.names:
                    sub = f"{child.module}.{alias.name}"
                    if sub in known:
                        found.add(sub)
                    elif child.module in known:
                        found.add(child.module)
            visit(child)

    visit(ast.parse(path.read_text(encoding="utf-8")))
    return found


def _graph() -> dict[str, set[str]]:
    known = _modules()
    return {name: _imports(path, known) - {name} for name, path in known.items()}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []

    def connect(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                connect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                components.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            connect(v)
    return components


def test_the_import_graph_has_no_circle():
    assert _cycles(_graph()) == []


def test_theory_never_imports_verification():
    offenders = {
        module: sorted(t for t in targets if t.startswith("verification"))
        for module, targets in _graph().items()
        if module.startswith("theory")
    }
    assert {m: t for m, t in offenders.items() if t} == {}


def test_the_cycle_finder_finds_a_planted_cycle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


@pytest.mark.parametrize(
    "package, order",
    [
        (
            "_runs",
            [
                "records",
                "store",
                "signals",
                "rundir",
                "documents",
                "arguments",
                "evaluator",
                "worker",
                "session",
            ],
        ),
        (
            "_search",
            [
                "records",
                "necessity",
                "reports",
                "rundir",
                "outside",
                "derive",
                "parallel",
                "driver",
            ],
        ),
        ("_sweep", ["settings", "result", "reports", "driver"]),
        ("_align", ["pairwise", "work", "result", "reports", "driver"]),
    ],
)
def test_the_run_packages_are_layered(package, order):
    graph = _graph()
    for i, name in enumerate(order):
        below = {f"verification.{package}.{n}" for n in order[i + 1 :]}
        assert not graph[f"verification.{package}.{name}"] & below, name
