"""A SAC run's folder: default locations, which checkpoint a run continues from, the best agent on disk.

:func:`default_paths` (the seed guide's data/output defaults, Kaggle-aware), :func:`find_latest_checkpoint`
(what ``resume_from`` points at), :func:`start_point` (resume, continue or start fresh),
:func:`best_on_disk`, :func:`set_aside_foreign_best` and :func:`adopt_previous_best` (an
``agent_{id}_best.pt`` is only ever replaced by a better agent of the same run). Used by
:class:`~tradelab.training.sac_trainer.KaggleTrainer`, which re-exports the first two.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from tradelab.agents.checkpoint import read_checkpoint
from tradelab.errors import CheckpointError
from tradelab.utils import atomic_write_bytes

__all__ = ["default_paths", "find_latest_checkpoint", "start_point", "best_on_disk", "set_aside_foreign_best",
           "adopt_previous_best"]


def find_latest_checkpoint(where: str | Path, agent_id: int | None = None) -> Path:
    """Resolve ``resume_from``: a file, a folder (its or its ``checkpoints/`` newest), or a glob pattern."""
    text = str(where)
    if any(ch in text for ch in "*?["):
        root = Path(text).anchor or "."
        candidates = [Path(p) for p in Path(root).glob(text.lstrip("/"))] if Path(text).is_absolute() \
            else list(Path().glob(text))
    else:
        path = Path(text)
        if path.is_file():
            return path
        folder = path / "checkpoints" if (path / "checkpoints").is_dir() else path
        candidates = list(folder.glob("agent_*_ep*.pt")) if folder.is_dir() else []
    pattern = re.compile(rf"agent_{agent_id if agent_id else '[0-9]+'}_ep(\d+)\.pt$")
    ranked = [(int(m.group(1)), p) for p in candidates if (m := pattern.search(p.name))]
    if not ranked:
        raise CheckpointError(f"resume_from={text!r}: no checkpoints/agent_{agent_id or '*'}_ep<N>.pt found there")
    return max(ranked)[1]


def default_paths() -> tuple[Path, Path]:
    """The seed guide's defaults: on Kaggle the first ``processed_data.h5`` under ``/kaggle/input`` and
    ``/kaggle/working``; elsewhere ``data/processed/processed_data.h5`` and ``outputs/sac``.

    ``TRADELAB_KAGGLE_ROOT`` (default ``/kaggle``) moves the Kaggle root, as the kernel bootstrap does.
    """
    root = Path(os.environ.get("TRADELAB_KAGGLE_ROOT", "/kaggle"))
    if (root / "input").is_dir():
        found = sorted((root / "input").rglob("processed_data.h5"))
        return (found[0] if found else root / "input" / "processed_data.h5"), root / "working"
    return Path("data/processed/processed_data.h5"), Path("outputs/sac")


def start_point(output_dir: Path, agent_id: int, fresh: bool, resume_from: str | Path | None,
                identity: Callable[[], dict[str, Any]]) -> Path | None:
    """The checkpoint to continue from: explicit ``resume_from``, else the folder's newest (unless fresh).

    ``identity()``: what the run is (asked only by a fresh run, to set aside another run's best agent)."""
    from tradelab.utils.io import remove_stale_temps

    out = output_dir  # replay-buffer/.pt/JSON temps of a killed run (we hold the folder lock)
    remove_stale_temps(out, out / "checkpoints", out / "logs", out / "plots")
    folder = output_dir / "checkpoints"
    mine = sorted(folder.glob(f"agent_{agent_id}_ep*.pt")) if folder.is_dir() else []
    if fresh:
        for old in [*mine, *folder.glob(f"agent_{agent_id}_ep*.buffer.pt"), *folder.glob("metrics_ep*.json")]:
            old.unlink(missing_ok=True)
        if mine:
            print(f"fresh run: removed {len(mine)} checkpoint(s) of the earlier run in {folder}")
        set_aside_foreign_best(output_dir, agent_id, identity())
        return None
    if resume_from:
        return find_latest_checkpoint(resume_from, agent_id)
    if mine:
        path = find_latest_checkpoint(folder, agent_id)
        print(f"{folder} holds checkpoints of this run: resuming from the newest, {path.name} "
              "(pass fresh=True / --fresh to start over)")
        return path
    return None


def best_on_disk(output_dir: Path, agent_id: int) -> float | None:
    """Validation Sharpe of the ``agent_{id}_best.pt`` already in the folder (None: none or unreadable)."""
    best = output_dir / f"agent_{agent_id}_best.pt"
    if not best.is_file():
        return None
    try:
        value = ((read_checkpoint(best, required=()).get("extra") or {}).get("stats") or {}).get("best_val_sharpe")
    except CheckpointError as exc:
        print(f"note: existing {best.name} is unreadable ({exc}); it will be replaced")
        return None
    return float(value) if value is not None and np.isfinite(value) else None


def set_aside_foreign_best(output_dir: Path, agent_id: int, mine: dict[str, Any]) -> None:
    """A fresh run: a best agent of another asset/data/agent is renamed, not compared or overwritten."""
    from tradelab.utils.lock import identity_diff

    best = output_dir / f"agent_{agent_id}_best.pt"
    if not best.is_file():
        return
    try:
        found = (read_checkpoint(best, required=()).get("extra") or {}).get("identity") or {}
    except CheckpointError:
        found = {}
    keys = ("asset", "data_hash", "agent_id", "env", "episode_length")
    if not found or identity_diff({k: mine[k] for k in keys}, {k: found[k] for k in keys if k in found}):
        aside = best.with_name(f"agent_{agent_id}_best.previous.pt")
        best.replace(aside)
        print(f"fresh run: the earlier best agent (other asset/data/settings) was moved to {aside.name}")


def adopt_previous_best(checkpoint: Path, output_dir: Path, agent_id: int) -> None:
    """Resuming into a new folder (e.g. a Kaggle continuation): bring the run's best agent along."""
    name = f"agent_{agent_id}_best.pt"
    src, dst = checkpoint.resolve().parent.parent / name, output_dir / name
    if src.is_file() and not dst.exists():
        atomic_write_bytes(dst, src.read_bytes())
