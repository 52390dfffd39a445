"""Check (and normalise) the committed notebooks: they are the source, edited in JupyterLab.

``python -m tradelab.notebooks.check notebooks`` prints one line per problem and exits 1 when any
notebook breaks a rule (``make lint`` calls it). ``--fix`` rewrites what a machine can fix, in
place: it strips outputs and execution counts, drops run-state metadata (cell timings, papermill,
widget state) and normalises the kernelspec and ``language_info`` that JupyterLab rewrites. Cell
sources are never touched. What needs a person (the ``parameters`` cell, the cell count, the
header) is reported with what to do in JupyterLab.
"""

from __future__ import annotations

import argparse
import ast
import sys
from pathlib import Path
from typing import Any

__all__ = [
    "KERNELSPEC",
    "LANGUAGE_INFO",
    "MAX_CELLS",
    "REQUIRED_PARAMETERS",
    "check_notebook",
    "check_paths",
    "fix_notebook",
    "main",
]

#: Notebooks stay small: logic lives in the package.
MAX_CELLS = 15
#: Every notebook's parameters cell defines these.
REQUIRED_PARAMETERS = ("output_dir", "smoke")
#: The kernel `make setup` installs (``ipykernel install --name python3 --display-name ...``) and
#: papermill runs (``runner.run(kernel_name="python3")``). The same display name in the files means
#: JupyterLab has nothing to rewrite when it opens them.
KERNELSPEC = {"name": "python3", "display_name": "Python 3 (tradelab)", "language": "python"}
#: ``language_info`` as committed. A running kernel adds its version and lexer details (JupyterLab
#: saves them on open); the check accepts those, ``--fix`` trims them back to this.
LANGUAGE_INFO = {"name": "python"}
#: Cell metadata written while running or viewing, never part of the source.
CELL_RUN_STATE = ("execution", "ExecuteTime", "papermill", "collapsed", "scrolled", "heading_collapsed", "hidden")
#: Notebook metadata written by papermill runs and widget state saving.
NOTEBOOK_RUN_STATE = ("papermill", "widgets")


def _cells(numbers: list[int]) -> str:
    return ("cell " if len(numbers) == 1 else "cells ") + ", ".join(map(str, numbers))


def _parameter_names(source: str) -> set[str]:
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return set()
    names: set[str] = set()
    for node in tree.body:
        targets = node.targets if isinstance(node, ast.Assign) else [getattr(node, "target", None)]
        names.update(t.id for t in targets if isinstance(t, ast.Name))
    return names


def _fixable(nb: Any) -> list[str]:
    """Everything ``--fix`` would change, as sentences."""
    code = [(i, c) for i, c in enumerate(nb.cells, start=1) if c.cell_type == "code"]
    found = []
    outputs = [i for i, c in code if c.get("outputs")]
    counts = [i for i, c in code if c.get("execution_count") is not None]
    state = [i for i, c in enumerate(nb.cells, start=1) if set(c.get("metadata", {})) & set(CELL_RUN_STATE)]
    state_keys = sorted({k for c in nb.cells for k in c.get("metadata", {}) if k in CELL_RUN_STATE})
    if outputs:
        found.append(f"outputs in {_cells(outputs)}")
    if counts:
        found.append(f"execution counts in {_cells(counts)}")
    if state:
        found.append(f"run-state metadata {state_keys} in {_cells(state)}")
    kernelspec = dict(nb.metadata.get("kernelspec", {}))
    if kernelspec != KERNELSPEC:
        found.append(f"kernelspec is {kernelspec}, not the kernel `make setup` installs: {KERNELSPEC}")
    language = nb.metadata.get("language_info", {})
    if language.get("name") != LANGUAGE_INFO["name"]:
        found.append(f"language_info names {language.get('name')!r}, must be {LANGUAGE_INFO}")
    extra = sorted(set(nb.metadata) & set(NOTEBOOK_RUN_STATE))
    if extra:
        found.append(f"notebook metadata carries run state {extra}")
    return found


def _workflow_parameters(stem: str, names: set[str]) -> list[str]:
    """A workflow notebook's parameters must be its config's keys or short names (:mod:`tradelab.workflows`)."""
    from tradelab.config import unknown_names
    from tradelab.workflows import for_notebook

    workflow = for_notebook(stem)
    if workflow is None:
        return []
    cls = workflow.config_class()
    stray = unknown_names(cls, names - set(workflow.notebook_only) - {"output_dir"}, workflow.short_names())
    if not stray:
        return []
    return [f"parameters {stray} are not keys of {cls.__name__} (the {workflow.name} workflow): rename each to its "
            f"config key, or add a short name to {workflow.parameters or 'the config'} (the command's alias too)"]


def _manual(nb: Any, stem: str = "") -> list[str]:
    """Rules only a person can fix (in JupyterLab), as sentences that say how."""
    found = []
    tagged = [c for c in nb.cells if "parameters" in c.get("metadata", {}).get("tags", [])]
    if len(tagged) != 1:
        found.append(
            f"needs exactly one cell tagged 'parameters', found {len(tagged)} (JupyterLab: select the cell → "
            "property inspector (gear icon, right sidebar) → Cell Tags; one cell holds the tag)"
        )
    else:
        missing = [p for p in REQUIRED_PARAMETERS if p not in _parameter_names(tagged[0].source)]
        if missing:
            found.append(f"the parameters cell does not define {missing} (add e.g. `output_dir = \"outputs/NAME\"`"
                         " and `smoke = False` to it)")
    injected = [i for i, c in enumerate(nb.cells, start=1) if "injected-parameters" in c.get("metadata", {}).get("tags", [])]
    if injected:
        found.append(f"{_cells(injected)}: papermill's injected-parameters from an executed copy; delete it (move any "
                     "value you want to keep into the parameters cell)")
    if len(tagged) == 1:
        found += _workflow_parameters(stem, _parameter_names(tagged[0].source))
    if len(nb.cells) > MAX_CELLS:
        found.append(f"has {len(nb.cells)} cells, at most {MAX_CELLS} (merge cells or move logic into lib/tradelab)")
    if not nb.cells or nb.cells[0].cell_type != "markdown":
        found.append("the first cell must be a markdown header saying what the notebook does, needs and writes")
    return found


def _read(path: Path) -> Any:
    import nbformat

    return nbformat.read(path, as_version=4)


def check_notebook(path: str | Path) -> list[str]:
    """Every rule ``path`` breaks, as readable sentences that name the fix (empty when fine)."""
    try:
        nb = _read(Path(path))
    except Exception as exc:  # nbformat raises several unrelated types for a broken file
        return [f"cannot be read as a notebook ({type(exc).__name__}: {exc})"]
    fix = f"fix: python -m tradelab.notebooks.check --fix {path}"
    return [f"{problem} ({fix})" for problem in _fixable(nb)] + _manual(nb, Path(path).stem)


def _normalise(nb: Any) -> None:
    for cell in nb.cells:
        for key in CELL_RUN_STATE:
            cell.metadata.pop(key, None)
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    for key in NOTEBOOK_RUN_STATE:
        nb.metadata.pop(key, None)
    nb.metadata["kernelspec"] = dict(KERNELSPEC)
    nb.metadata["language_info"] = dict(LANGUAGE_INFO)


def fix_notebook(path: str | Path) -> bool:
    """Normalise ``path`` in place (outputs, counts, run state, kernelspec, language_info); True if it changed.

    Cell sources, cell ids, tags and the cell order are kept exactly. An unreadable file is left alone.
    """
    import nbformat

    path = Path(path)
    try:
        nb = _read(path)
    except Exception:  # reported by check_notebook
        return False
    _normalise(nb)
    after = nbformat.writes(nb) + "\n"  # what nbformat.write (and so JupyterLab) puts on disk
    if path.read_text(encoding="utf-8") == after:
        return False
    nbformat.validate(nb)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(after, encoding="utf-8")
    tmp.replace(path)
    return True


def _find(paths: list[str | Path]) -> list[Path]:
    found: list[Path] = []
    for p in map(Path, paths):
        found.extend(sorted(p.glob("*.ipynb")) if p.is_dir() else [p])
    return found


def check_paths(paths: list[str | Path]) -> dict[Path, list[str]]:
    """Problems per notebook for files and folders (folders: their ``*.ipynb``)."""
    return {p: check_notebook(p) for p in _find(paths)}


def main(argv: list[str] | None = None) -> int:
    """Check (``--fix``: first normalise) the notebooks named; exit 1 when any rule is still broken."""
    parser = argparse.ArgumentParser(prog="python -m tradelab.notebooks.check", description=__doc__.split("\n\n")[0])
    parser.add_argument("paths", nargs="*", default=["notebooks"], help="notebooks or folders (default: notebooks)")
    parser.add_argument("--fix", action="store_true",
                        help="strip outputs and execution counts and normalise metadata in place (sources kept)")
    args = parser.parse_args(argv)
    found = _find(args.paths)
    if args.fix:
        for path in found:
            if fix_notebook(path):
                print(f"{path}: normalised (outputs stripped, metadata reset)")
    results = {p: check_notebook(p) for p in found}
    bad = {p: probs for p, probs in results.items() if probs}
    for path, problems in bad.items():
        for problem in problems:
            print(f"{path}: {problem}")
    print(f"checked {len(results)} notebook(s): {len(results) - len(bad)} ok, {len(bad)} with problems")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
