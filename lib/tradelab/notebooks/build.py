"""Rebuild every notebook in ``notebooks/`` from its source module: ``python -m tradelab.notebooks.build``.

The committed ``.ipynb`` files are generated (outputs stripped, stable cell ids); edit the
``build_*`` module, rebuild, and commit both. A test checks they agree.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

SOURCES = ("build_data", "build_supervised", "build_sac", "build_ppo", "build_inference", "build_tune")


def build_all(folder: str | Path) -> list[Path]:
    """Write every notebook into ``folder``; returns their paths."""
    paths: list[Path] = []
    for name in SOURCES:
        paths += importlib.import_module(f"tradelab.notebooks.{name}").build(folder)
    return paths


if __name__ == "__main__":
    from tradelab.notebooks.runner import NOTEBOOK_DIR

    for path in build_all(sys.argv[1] if len(sys.argv) > 1 else NOTEBOOK_DIR):
        print(path)
