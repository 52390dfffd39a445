"""The notebook bootstrap: a kernel's process-wide settings, made once and in the open.

A notebook kernel is a process of its own, so the notebook's set-up cell (the first code cell,
``setup_kernel()``) is an entry point like the CLI's ``main``: process-wide settings belong there,
and library functions make none. It does two things:

1. TensorBoard without TensorFlow (:func:`tradelab.utils.tensorboard.skip_tensorflow`): SB3 then
   imports in well under a second instead of loading all of TensorFlow. It runs before any cell
   imports SB3; Keras' TensorBoard callback lifts it when it needs the real ``tf.summary``.
2. The working directory. Relative paths in the notebooks (``data/processed``, ``outputs/...``)
   mean the folder the kernel runs in: the caller's for papermill, ``tradelab run`` and the tests,
   ``/kaggle/working`` on Kaggle. JupyterLab starts a kernel in the notebook's own folder; when that
   is a checkout's ``notebooks/``, the kernel ``chdir``s to the repository root, so the same
   parameters mean the same files there. This is the only ``chdir`` in tradelab, and it says so.
"""

from __future__ import annotations

import os
from pathlib import Path

from tradelab.utils.tensorboard import skip_tensorflow

__all__ = ["notebook_workdir", "setup_kernel"]


def notebook_workdir(cwd: Path) -> Path:
    """The folder relative paths should mean for a kernel started in ``cwd``: the repository root when
    ``cwd`` is a checkout's ``notebooks/`` folder, else ``cwd`` itself."""
    if cwd.name == "notebooks" and (cwd.parent / "lib" / "tradelab").is_dir():
        return cwd.parent
    return cwd


def setup_kernel() -> Path:
    """Make this kernel's process-wide settings (see the module docstring); return the working directory.

    Call it once, in the notebook's first code cell, before anything imports stable-baselines3.
    """
    skip_tensorflow()
    cwd = Path.cwd()
    target = notebook_workdir(cwd)
    if target != cwd:
        os.chdir(target)
        print(f"working directory: {target} (the kernel started in {cwd}; relative paths mean the repository root)")
    return target
