"""Seeds, thread counts, device choice and the metadata every artifact folder carries."""

from __future__ import annotations

import os
import platform
import random
import re
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
    """Seed python, numpy, torch and (when imported) TF/Keras.

    ``PYTHONHASHSEED`` is not set here: Python reads it only at start-up, so setting it in a running
    process changes nothing (tradelab never iterates a set or dict of str in an order that matters).
    """
    random.seed(seed)
    np.random.seed(seed % (2**32))
    if "torch" in sys.modules or _importable("torch"):
        import torch

        torch.manual_seed(seed)
    if "keras" in sys.modules:
        import keras

        keras.utils.set_random_seed(seed)


_DEVICE_RE = re.compile(r"^(auto|cpu|mps|cuda(:\d+)?)$")


def check_device(device: str, field: str = "device") -> str:
    """``device`` lower-cased when it is ``auto|cpu|cuda[:N]|mps``, else a :class:`ConfigError` (no torch import)."""
    from tradelab.errors import ConfigError

    text = str(device).strip().lower()
    if not _DEVICE_RE.match(text):
        raise ConfigError(f"{field} {device!r} is not supported: use auto, cpu, cuda, cuda:N or mps")
    return text


def resolve_device(device: str = "auto") -> str:
    """``auto|cpu|cuda[:N]|mps`` → the torch device to use.

    ``"auto"`` is ``"cuda"`` when torch sees a GPU, else ``"cpu"``. Asking for ``cuda``/``mps`` on a
    machine without one falls back to ``"cpu"`` and says so; anything else is a :class:`ConfigError`.
    """
    from tradelab.errors import ConfigError

    device = check_device(device)
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device.startswith("cuda"):
        if not torch.cuda.is_available():
            print(f"note: device {device!r} requested but torch sees no CUDA GPU; falling back to cpu")
            return "cpu"
        index = int(device.split(":")[1]) if ":" in device else 0
        if index >= torch.cuda.device_count():
            raise ConfigError(f"device {device!r}: only {torch.cuda.device_count()} CUDA device(s) visible; "
                              "use cuda:0 .. cuda:N-1")
    if device == "mps" and not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
        print("note: device 'mps' requested but it is not available; falling back to cpu")
        return "cpu"
    return device


KAGGLE_MAX_RUNTIME_S = 11 * 3600
"""Default wall-clock budget on Kaggle: the session limit is 12 h; one hour is left to save and test."""


def on_kaggle() -> bool:
    """True inside a Kaggle kernel (``/kaggle/working`` exists or ``KAGGLE_KERNEL_RUN_TYPE`` is set)."""
    return bool(os.environ.get("KAGGLE_KERNEL_RUN_TYPE")) or Path("/kaggle/working").is_dir()


_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_max_runtime(value: Any, field: str = "max_runtime") -> float | None:
    """Seconds of wall clock a trainer may run, or None (unlimited).

    ``None``/``"auto"``: 11 h on Kaggle, unlimited locally; ``"off"``/``"none"``: unlimited;
    a number of seconds; or a duration such as ``"11h"``, ``"90m"``, ``"1h30m"``, ``"45s"``.
    """
    from tradelab.errors import ConfigError

    if value is None or (isinstance(value, str) and value.strip().lower() == "auto"):
        return float(KAGGLE_MAX_RUNTIME_S) if on_kaggle() else None
    if isinstance(value, str) and value.strip().lower() in ("off", "none", "unlimited"):
        return None
    seconds: float | None = None
    if isinstance(value, int | float) and not isinstance(value, bool):
        seconds = float(value)
    elif isinstance(value, str):
        text = value.strip().lower().replace(" ", "")
        try:
            seconds = float(text)
        except ValueError:
            parts = re.findall(r"(\d+(?:\.\d+)?)([smhd])", text)
            if parts and "".join(n + u for n, u in parts) == text:
                seconds = sum(float(n) * _UNITS[u] for n, u in parts)
    if seconds is None or not seconds > 0 or seconds != seconds:
        raise ConfigError(f"{field} = {value!r}: use seconds (e.g. 3600), a duration like '11h', '90m', "
                          "'1h30m', 'auto' (11 h on Kaggle, unlimited locally) or 'off'")
    return seconds


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
