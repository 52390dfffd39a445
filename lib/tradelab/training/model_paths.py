"""Where a ``--load-model`` path points: what SB3's ``PPO.load`` accepts, also relative to the run's folders.

Seed 004 passes ``--load-model models/stage1_final``: no ``.zip`` (SB3 adds it) and relative to the
curriculum folder, not to the shell's working directory. :func:`resolve_model_path` tries the path
as given and then under each search folder, each with and without ``.zip``, and names every place
it looked when none exists.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from tradelab.errors import CheckpointError

__all__ = ["resolve_model_path", "candidate_paths"]


def candidate_paths(path: str | Path, search_dirs: Iterable[str | Path] = ()) -> list[Path]:
    """The files tried, in order: ``path`` then ``dir/path`` for each search folder, each also + ``.zip``."""
    path = Path(path).expanduser()
    bases = [path] if path.is_absolute() else [path, *(Path(d) / path for d in search_dirs)]
    out: list[Path] = []
    for base in bases:
        for cand in (base, base.with_name(base.name + ".zip")) if base.suffix != ".zip" else (base,):
            if cand not in out:
                out.append(cand)
    return out


def resolve_model_path(path: str | Path, search_dirs: Iterable[str | Path] = ()) -> Path:
    """The existing model file ``path`` names (see the module docstring); :class:`CheckpointError` if none."""
    tried = candidate_paths(path, search_dirs)
    for cand in tried:
        if cand.is_file():
            return cand
    raise CheckpointError(f"model {str(path)!r} not found; looked for " + ", ".join(str(p) for p in tried)
                          + ". Train the previous stage first or give the path of an existing .zip")
