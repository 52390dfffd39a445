"""No import cycles among tradelab's modules, including ones hidden by an import inside a function.

The graph is built statically with :mod:`ast`: module A → module B when A imports B anywhere (at module
level, in a class or in a function). Two kinds of import are left out, because they never run as part
of module A: imports under ``if TYPE_CHECKING:`` (type checkers only) and imports under
``if __name__ == "__main__":`` (they run in the ``__main__`` module of ``python -m A``, which then
imports A afresh). Imports by string (``importlib.import_module``) are not seen.

A cycle is a strongly connected component of more than one module. A function-level import used only
to keep start-up fast (torch, SB3, TensorFlow) is fine; one that merely hides a cycle is not: move the
shared piece to a lower module that both import.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

LIB = Path(__file__).resolve().parents[1] / "lib"

#: Cycles that remain, each with why (empty: none). A new cycle fails the test; a listed one that is
#: gone fails it too, so the list is kept honest.
ALLOWED: dict[frozenset[str], str] = {}


def _modules(lib: Path) -> dict[str, Path]:
    mods = {}
    for path in sorted((lib / "tradelab").rglob("*.py")):
        parts = list(path.relative_to(lib).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        mods[".".join(parts)] = path
    return mods


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _is_main_guard(test: ast.expr) -> bool:
    return (isinstance(test, ast.Compare) and isinstance(test.left, ast.Name) and test.left.id == "__name__"
            and any(isinstance(c, ast.Constant) and c.value == "__main__" for c in test.comparators))


def _imported_names(tree: ast.AST, module: str, is_package: bool) -> list[str]:
    """Dotted names ``module`` imports (``pkg.mod`` and ``pkg.mod.name`` candidates), skipping the two guards."""
    found: list[str] = []

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and (_is_type_checking(node.test) or _is_main_guard(node.test)):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            found.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                package = module.split(".") if is_package else module.split(".")[:-1]
                package = package[: len(package) - node.level + 1]
                base = ".".join(package + ([base] if base else []))
            found.extend(f"{base}.{alias.name}" for alias in node.names)  # a submodule, else resolved to base
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found


def import_graph(lib: Path = LIB) -> dict[str, set[str]]:
    """tradelab module → the tradelab modules it imports (most specific module each name resolves to)."""
    mods = _modules(lib)
    graph: dict[str, set[str]] = {}
    for name, path in mods.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        targets = set()
        for dotted in _imported_names(tree, name, path.name == "__init__.py"):
            if not dotted.startswith("tradelab"):
                continue
            parts = dotted.split(".")
            while parts and ".".join(parts) not in mods:
                parts.pop()
            if parts:
                targets.add(".".join(parts))
        graph[name] = targets - {name}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[frozenset[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[frozenset[str]] = []

    def strong(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                strong(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = set()
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.add(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(frozenset(comp))

    for v in sorted(graph):
        if v not in index:
            strong(v)
    return out


def _describe(comp: frozenset[str], graph: dict[str, set[str]]) -> str:
    edges = [f"{a} -> {b}" for a in sorted(comp) for b in sorted(graph[a] & comp)]
    return "{" + ", ".join(edges) + "}"


def test_no_import_cycles_among_tradelab_modules():
    graph = import_graph()
    found = set(cycles(graph))
    new = [_describe(c, graph) for c in found if c not in ALLOWED]
    assert not new, ("import cycle(s) among tradelab modules (an import inside a function counts): "
                     + "; ".join(new) + ". Move what both modules need to a lower module that both import")
    gone = [sorted(c) for c in ALLOWED if c not in found]
    assert not gone, f"allow-listed cycle(s) no longer exist, remove them from ALLOWED: {gone}"


def _write(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / "tradelab" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


@pytest.mark.parametrize(("a_text", "cyclic"), [
    ("def f():\n    from tradelab.b import g\n", True),               # hidden in a function: still a cycle
    ("from . import b\n", True),                                       # relative import
    ("import tradelab.b\n", True),
    ("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from tradelab.b import g\n", False),
    ("if __name__ == '__main__':\n    from tradelab.b import g\n", False),
    ("import os\n", False),
])
def test_the_detector_sees_function_level_and_relative_imports(tmp_path, a_text, cyclic):
    lib = _write(tmp_path, {"__init__.py": "", "a.py": a_text, "b.py": "from tradelab.a import x\n"})
    graph = import_graph(lib)
    assert (frozenset({"tradelab.a", "tradelab.b"}) in cycles(graph)) is cyclic


def test_the_detector_finds_a_cycle_through_a_chain_and_a_package(tmp_path):
    lib = _write(tmp_path, {"__init__.py": "", "p/__init__.py": "", "p/a.py": "from tradelab.p.b import x\n",
                            "p/b.py": "def f():\n    from tradelab import c\n",
                            "c.py": "from tradelab.p import a\n"})
    assert cycles(import_graph(lib)) == [frozenset({"tradelab.p.a", "tradelab.p.b", "tradelab.c"})]
