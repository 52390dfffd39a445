"""Where a notebook's relative paths point: the repository root, however the kernel was started."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["use_repo_root"]


def use_repo_root() -> None:
    """``chdir`` to the repository root when a kernel started in its ``notebooks/`` folder.

    Relative paths in the notebooks (``data/processed``, ``outputs/...``) then mean the repository
    root whether the kernel starts there (papermill, tests) or in ``notebooks/`` (JupyterLab).
    """
    cwd = Path.cwd()
    if cwd.name == "notebooks" and (cwd.parent / "lib" / "tradelab").is_dir():
        os.chdir(cwd.parent)
