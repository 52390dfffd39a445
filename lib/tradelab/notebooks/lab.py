"""`make lab`: JupyterLab on ``notebooks/`` with inline plots, whatever the calling shell exports.

``make`` exports ``MPLBACKEND=Agg`` for headless runs, and a kernel started by Lab inherits it;
ipykernel only switches matplotlib to its inline backend when ``MPLBACKEND`` is unset, so every
``plt.show()`` would show nothing. :func:`lab_environment` drops it for the Lab server (and so for
its kernels).

Opening a notebook makes Lab write the running kernel's ``language_info`` (Python version, lexer)
into it, and autosave saves that: a notebook only opened would differ from git. :func:`trim_on_save`,
Lab's pre-save hook here, trims it back to what is committed (``check.LANGUAGE_INFO``), so opening
and autosaving leaves the file as it was; outputs a run adds are kept (``check --fix`` strips them
before a commit).

The browser test (``tests/test_lab_browser.py``) starts Lab through :func:`lab_command` and
:func:`lab_environment`, so it checks what ``make lab`` runs.

    python -m tradelab.notebooks.lab [ROOT] [jupyter lab options ...]
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

__all__ = ["lab_environment", "lab_command", "trim_on_save", "main"]

#: Variables a Lab server must not pass on to its kernels (see the module docstring).
DROPPED = ("MPLBACKEND",)


def lab_environment(base: Mapping[str, str] | None = None) -> dict[str, str]:
    """``base`` (default ``os.environ``) without :data:`DROPPED`, with TensorFlow's start-up chatter off."""
    env = {k: v for k, v in (os.environ if base is None else base).items() if k not in DROPPED}
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    return env


def trim_on_save(model: dict[str, Any], **_: Any) -> None:
    """Jupyter server pre-save hook: a notebook's ``language_info`` back to the committed one (in place)."""
    from tradelab.notebooks.check import LANGUAGE_INFO

    if model.get("type") != "notebook" or not isinstance(model.get("content"), dict):
        return
    meta = model["content"].setdefault("metadata", {})
    info = meta.get("language_info")
    if isinstance(info, dict) and info.get("name") == LANGUAGE_INFO["name"]:
        meta["language_info"] = dict(LANGUAGE_INFO)


def lab_command(root: str | Path = "notebooks", options: Sequence[str] = ()) -> list[str]:
    """The ``jupyter lab`` command line of this interpreter's environment, rooted at ``root``."""
    return [sys.executable, "-m", "jupyterlab", f"--ServerApp.root_dir={Path(root).resolve()}",
            f"--ContentsManager.pre_save_hook={__name__}.trim_on_save", *options]


def main(argv: Sequence[str] | None = None) -> int:
    """Replace this process with JupyterLab (``ROOT`` first, default ``notebooks``; the rest go to Lab)."""
    args = list(sys.argv[1:] if argv is None else argv)
    root = args.pop(0) if args and not args[0].startswith("-") else "notebooks"
    if not Path(root).is_dir():
        print(f"error: {root} is not a folder; run `make lab` from the repository root", file=sys.stderr)
        return 2
    cmd = lab_command(root, args)
    os.execve(sys.executable, cmd, lab_environment())
    return 0  # not reached


if __name__ == "__main__":
    raise SystemExit(main())
