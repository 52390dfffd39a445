"""Lint committed notebooks: outputs stripped, one ``parameters`` cell, small, runnable kernel.

``python -m tradelab.notebooks.check notebooks`` prints one line per problem and exits 1 when
any notebook breaks a rule (``make lint`` calls it).
"""

from __future__ import annotations

import sys
from pathlib import Path

__all__ = ["MAX_CELLS", "REQUIRED_PARAMETERS", "check_notebook", "check_paths", "main"]

#: Notebooks stay small: logic lives in the package.
MAX_CELLS = 15
#: Every notebook's parameters cell defines these.
REQUIRED_PARAMETERS = ("output_dir", "smoke")


def _parameter_names(source: str) -> set[str]:
    import ast

    try:
        tree = ast.parse(source)
    except SyntaxError:
        return set()
    names: set[str] = set()
    for node in tree.body:
        targets = node.targets if isinstance(node, ast.Assign) else [getattr(node, "target", None)]
        names.update(t.id for t in targets if isinstance(t, ast.Name))
    return names


def _cell_problems(cells: list) -> list[str]:
    problems = []
    for i, cell in enumerate(cells, start=1):
        if cell.cell_type != "code":
            continue
        if cell.get("outputs"):
            problems.append(f"cell {i} carries outputs (strip them: `jupyter nbconvert --clear-output --inplace`)")
        if cell.get("execution_count") is not None:
            problems.append(f"cell {i} has an execution count (strip outputs before committing)")
    return problems


def check_notebook(path: str | Path) -> list[str]:
    """Every rule ``path`` breaks, as readable sentences (empty when the notebook is fine)."""
    import nbformat

    path = Path(path)
    try:
        nb = nbformat.read(path, as_version=4)
    except Exception as exc:  # nbformat raises several unrelated types for a broken file
        return [f"cannot be read as a notebook ({type(exc).__name__}: {exc})"]
    problems = _cell_problems(nb.cells)
    tagged = [c for c in nb.cells if "parameters" in c.get("metadata", {}).get("tags", [])]
    if len(tagged) != 1:
        problems.append(f"needs exactly one cell tagged 'parameters', found {len(tagged)}")
    else:
        missing = [p for p in REQUIRED_PARAMETERS if p not in _parameter_names(tagged[0].source)]
        if missing:
            problems.append(f"the parameters cell does not define {missing}")
    if len(nb.cells) > MAX_CELLS:
        problems.append(f"has {len(nb.cells)} cells, at most {MAX_CELLS} (move logic into lib/tradelab)")
    if not nb.cells or nb.cells[0].cell_type != "markdown":
        problems.append("the first cell must be a markdown header saying what it does, needs and writes")
    kernel = nb.metadata.get("kernelspec", {}).get("name")
    if kernel != "python3":
        problems.append(f"kernelspec name is {kernel!r}, must be 'python3'")
    return problems


def check_paths(paths: list[str | Path]) -> dict[Path, list[str]]:
    """Problems per notebook for files and folders (folders: their ``*.ipynb``)."""
    found: list[Path] = []
    for p in map(Path, paths):
        found.extend(sorted(p.glob("*.ipynb")) if p.is_dir() else [p])
    return {p: check_notebook(p) for p in found}


def main(argv: list[str] | None = None) -> int:
    """Check the notebooks named on the command line; exit 1 when any rule is broken."""
    paths = list(argv if argv is not None else sys.argv[1:]) or ["notebooks"]
    results = check_paths(paths)
    bad = {p: probs for p, probs in results.items() if probs}
    for path, problems in bad.items():
        for problem in problems:
            print(f"{path}: {problem}")
    print(f"checked {len(results)} notebook(s): {len(results) - len(bad)} ok, {len(bad)} with problems")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
