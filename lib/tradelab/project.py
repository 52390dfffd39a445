"""Where tradelab's shipped files live: ``configs/``, ``notebooks/`` and ``kaggle/specs/``.

From a checkout (``lib/tradelab`` beside those folders, editable install or ``PYTHONPATH=lib``) the
repository's folders are used: researchers edit them there. A non-editable ``pip install .`` has no
repository, so the copies that ``setup.py`` packages into ``tradelab/resources/`` are used instead.
There is one committed copy of each file; the packaged ones are made at build time.
"""

from __future__ import annotations

import importlib.resources
from pathlib import Path

__all__ = ["RESOURCES", "checkout_root", "missing_note", "resource_dir", "resource_dirs"]

#: kind -> folder in a checkout (relative to the repository root); the wheel holds ``tradelab/resources/<kind>``
RESOURCES: dict[str, tuple[str, ...]] = {
    "configs": ("configs",),
    "notebooks": ("notebooks",),
    "kaggle_specs": ("kaggle", "specs"),
}


def checkout_root() -> Path | None:
    """The repository root when this package is imported from a checkout's ``lib/``, else None."""
    package = Path(__file__).resolve().parent
    return package.parents[1] if package.parent.name == "lib" else None


def resource_dirs(kind: str) -> list[Path]:
    """Where ``kind`` is looked for, in order: the checkout's folder, then the packaged copy."""
    if kind not in RESOURCES:
        raise ValueError(f"unknown resource kind {kind!r}; one of {sorted(RESOURCES)}")
    found = []
    root = checkout_root()
    if root is not None:
        found.append(root.joinpath(*RESOURCES[kind]))
    packaged = importlib.resources.files("tradelab") / "resources" / kind
    found.append(packaged if isinstance(packaged, Path) else Path(str(packaged)))
    return found


def resource_dir(kind: str) -> Path:
    """The first existing folder of :func:`resource_dirs`; the first candidate when none exists
    (errors then say where else tradelab looked: :func:`missing_note`)."""
    candidates = resource_dirs(kind)
    return next((p for p in candidates if p.is_dir()), candidates[0])


def missing_note(kind: str) -> str:
    """``""`` when ``kind``'s folder exists, else a sentence naming every place looked and the fix."""
    candidates = resource_dirs(kind)
    if any(p.is_dir() for p in candidates):
        return ""
    return (f"; no {kind} folder found (looked in {' and '.join(map(str, candidates))}): run from a "
            "checkout or reinstall tradelab with `pip install .` so the packaged copies are there")
