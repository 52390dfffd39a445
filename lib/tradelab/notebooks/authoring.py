"""Write notebooks from Python with nbformat (never hand-edit notebook JSON).

A tradelab notebook is: a markdown header, one code cell tagged ``parameters``, then a few
cells that call the package. :func:`write_notebook` builds exactly that, outputs stripped,
with the ``python3`` kernelspec.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

__all__ = ["write_notebook", "use_repo_root"]

#: First lines of every notebook's first code cell: relative paths (data/processed, outputs/...)
#: mean the repository root whether the kernel starts there (papermill, tests) or in notebooks/
#: (JupyterLab).
REPO_ROOT_LINES = "from tradelab.notebooks.authoring import use_repo_root\n\nuse_repo_root()"


def use_repo_root() -> None:
    """``chdir`` to the repository root when a kernel started in its ``notebooks/`` folder."""
    import os

    cwd = Path.cwd()
    if cwd.name == "notebooks" and (cwd.parent / "lib" / "tradelab").is_dir():
        os.chdir(cwd.parent)


def write_notebook(path: str | Path, header: str, parameters: str, cells: Sequence[str]) -> Path:
    """Write ``path``: markdown ``header``, tagged ``parameters`` cell, then ``cells``.

    A cell starting with ``"## "`` or ``"# "`` becomes markdown, every other one code.
    """
    import nbformat
    from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

    nb = new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    nb.cells.append(new_markdown_cell(header.strip()))
    nb.cells.append(new_code_cell(parameters.strip(), metadata={"tags": ["parameters"]}))
    first_code = True
    for source in cells:
        source = source.strip()
        is_markdown = source.startswith(("# ", "## ", "### "))
        if not is_markdown and first_code:
            source, first_code = f"{REPO_ROOT_LINES}\n\n{source}", False
        nb.cells.append(new_markdown_cell(source) if is_markdown else new_code_cell(source))
    for i, cell in enumerate(nb.cells):  # stable ids keep diffs small
        cell["id"] = f"cell-{i:02d}"
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.validate(nb)
    nbformat.write(nb, path)
    return path
