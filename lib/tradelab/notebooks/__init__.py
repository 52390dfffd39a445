"""Notebook workspace: papermill runs, the notebook check, the demo pipeline and its report."""

from tradelab.notebooks.kernel_setup import setup_kernel
from tradelab.notebooks.runner import (
    NotebookRun,
    list_notebooks,
    notebook_parameters,
    resolve_notebook,
    run,
)

__all__ = ["NotebookRun", "list_notebooks", "notebook_parameters", "resolve_notebook", "run", "setup_kernel"]
