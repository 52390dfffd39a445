"""Seeds, thread counts, device choice and the metadata every artifact folder carries."""

from __future__ import annotations

import os
import platform
import random
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np


def default_threads() -> int:
    """Threads for torch/TF: ``TRADELAB_THREADS`` if set, else 1 (fastest on 2 shared cores)."""
    return int(os.environ.get("TRADELAB_THREADS", "1"))


def set_threads(n: int | None = None) -> int:
    """Limit torch (and TF, when already imported) to ``n`` intra-op threads; returns ``n``."""
    n = default_threads() if n is None else int(n)
    if n < 1:
        from tradelab.errors import ConfigError

        raise ConfigError(f"threads must be >= 1, got {n}")
    if "torch" in sys.modules or _importable("torch"):
        import torch

        torch.set_num_threads(n)
    if "tensorflow" in sys.modules:
        import tensorflow as tf

        try:  # only possible before TF's runtime initialises
            tf.config.threading.set_intra_op_parallelism_threads(n)
            tf.config.threading.set_inter_op_parallelism_threads(n)
        except RuntimeError:
            pass
    return n


def _importable(name: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(name) is not None


def seed_everything(seed: int) -> None:
    """Seed python, numpy, torch and (when imported) TF/Keras."""
    random.seed(seed)
    np.random.seed(seed % (2**32))
    os.environ["PYTHONHASHSEED"] = str(seed)
    if "torch" in sys.modules or _importable("torch"):
        import torch

        torch.manual_seed(seed)
    if "keras" in sys.modules:
        import keras

        keras.utils.set_random_seed(seed)


def resolve_device(device: str = "auto") -> str:
    """``"auto"`` → ``"cuda"`` when torch sees a GPU, else ``"cpu"``; other values pass through."""
    if device != "auto":
        return device
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def git_commit(cwd: str | os.PathLike | None = None) -> str | None:
    """Current git commit of the working tree, or None outside a repository."""
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=cwd or Path(__file__).resolve().parent,
            capture_output=True,
            text=True,
            timeout=5,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None


def run_metadata(**extra: Any) -> dict[str, Any]:
    """Package version, git commit, python/platform and UTC time, plus ``extra``."""
    from tradelab import __version__

    meta: dict[str, Any] = {
        "tradelab_version": __version__,
        "git_commit": git_commit(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "created_utc": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    meta.update(extra)
    return meta
