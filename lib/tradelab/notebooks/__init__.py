"""Notebook workspace: papermill runs, the notebook check, the demo pipeline and its report."""

from tradelab.notebooks.runner import (
    NotebookRun,
    list_notebooks,
    notebook_parameters,
    resolve_notebook,
    run,
)
from tradelab.notebooks.workdir import use_repo_root

__all__ = ["NotebookRun", "list_notebooks", "notebook_parameters", "resolve_notebook", "run", "use_repo_root"]
