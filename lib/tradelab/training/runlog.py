"""One log file per run (``logs/training.log`` for SAC, ``logs/training_v3.log`` for PPO, as the seeds name them).

:func:`start_run_log` attaches a file handler to the ``tradelab`` logger, so every ``tradelab.*``
logger of the run (trainer, monitor, curriculum) writes into the run folder; :func:`stop_run_log`
detaches and closes it. Starting twice on the same file replaces the first handler (a resumed
run in one process does not log each line twice); the file is appended to, so a resumed run
continues its log.
"""

from __future__ import annotations

import logging
from pathlib import Path

__all__ = ["start_run_log", "stop_run_log"]

ROOT_LOGGER = "tradelab"
FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def start_run_log(path: str | Path) -> logging.FileHandler:
    """Append ``tradelab.*`` log records (INFO and up) to ``path``; returns the handler for :func:`stop_run_log`."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    root = logging.getLogger(ROOT_LOGGER)
    for old in [h for h in root.handlers if isinstance(h, logging.FileHandler)
                and Path(h.baseFilename) == path.resolve()]:
        stop_run_log(old)
    handler = logging.FileHandler(path, mode="a", encoding="utf-8")
    handler.setFormatter(logging.Formatter(FORMAT))
    handler.setLevel(logging.INFO)
    root.addHandler(handler)
    if root.level == logging.NOTSET or root.level > logging.INFO:
        root.setLevel(logging.INFO)
    return handler


def stop_run_log(handler: logging.Handler | None) -> None:
    """Detach and close a handler from :func:`start_run_log` (None: nothing)."""
    if handler is None:
        return
    logging.getLogger(ROOT_LOGGER).removeHandler(handler)
    handler.close()
