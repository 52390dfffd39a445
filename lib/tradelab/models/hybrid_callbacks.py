"""Keras callbacks of a hybrid-model run: best/last checkpoints, early stopping, LR schedule, TensorBoard, log.

``checkpoints/best.keras`` (best on the monitor, from ``ModelCheckpoint``) picks the final
weights; ``checkpoints/last.keras`` + ``state.json`` are written atomically after every epoch
so a killed run resumes (``training_params.resume``). On resume the early-stopping and
LR-plateau counters restart; the best-checkpoint threshold carries over.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from tradelab.errors import CheckpointError
from tradelab.models.hybrid_artifacts import save_model_atomic
from tradelab.utils import atomic_write_json, read_json
from tradelab.utils.tensorboard import use_tensorflow_summaries

__all__ = ["resolve_mode", "best_so_far", "make_callbacks", "resume_state", "clear_checkpoints"]

log = logging.getLogger("tradelab.supervised")


def resolve_mode(mode: str, monitor: str) -> str:
    """'min'/'max' as given; 'auto' → max for accuracy/AUC-like names, else min.

    Keras's own 'auto' gives up on per-head names such as ``val_trading_signal_output_loss``.
    """
    if mode != "auto":
        return mode
    return "max" if ("acc" in monitor or "auc" in monitor) else "min"


def best_so_far(values: list[float], mode: str, monitor: str) -> float | None:
    """Best value of ``monitor`` in ``values`` (max for accuracy/AUC-like names in auto mode)."""
    if not values:
        return None
    return float(max(values) if resolve_mode(mode, monitor) == "max" else min(values))


def _last_checkpoint(folder: Path, history: dict[str, list[float]]) -> Any:
    import keras

    class LastCheckpoint(keras.callbacks.Callback):
        """After every epoch: ``last.keras`` (model + optimizer) and ``state.json``, both atomic."""

        def __init__(self) -> None:
            super().__init__()
            self.history = {k: list(v) for k, v in history.items()}

        def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
            for key, value in (logs or {}).items():
                self.history.setdefault(key, []).append(float(value))
            log.info("epoch %d: %s", epoch + 1, ", ".join(f"{k}={float(v):.5g}" for k, v in sorted((logs or {}).items())))
            save_model_atomic(self.model, folder / "last.keras")
            atomic_write_json(folder / "state.json", {"epochs_done": epoch + 1, "history": self.history})

    return LastCheckpoint()


def _time_budget(budget_s: float) -> Any:
    import time

    import keras

    class TimeBudget(keras.callbacks.Callback):
        """Stop after the epoch that exhausts ``budget_s`` seconds of training (benchmarks, tests)."""

        def on_train_begin(self, logs: dict | None = None) -> None:
            self.start = time.perf_counter()

        def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
            if time.perf_counter() - self.start >= budget_s:
                log.info("time budget %.0f s used after epoch %d: stopping", budget_s, epoch + 1)
                self.model.stop_training = True

    return TimeBudget()


def make_callbacks(
    folder: Path,
    log_dir: Path | None,
    history: dict[str, list[float]] | None = None,
    *,
    monitor: str = "val_loss",
    mode: str = "auto",
    patience: int = 10,
    lr_patience: int = 5,
    lr_factor: float = 0.5,
    min_lr: float = 1e-6,
    budget_s: float | None = None,
) -> tuple[list[Any], Any]:
    """(callbacks, the last-checkpoint callback whose ``.history`` spans resumed epochs too)."""
    import keras

    from tradelab.training.monitor import keras_callback

    folder.mkdir(parents=True, exist_ok=True)
    mode = resolve_mode(mode, monitor)
    last = _last_checkpoint(folder, history or {})
    callbacks = [
        keras_callback(folder.parent / "resources.json"),  # first: later callbacks see its CPU/RSS/GPU sample
        keras.callbacks.ModelCheckpoint(folder / "best.keras", monitor=monitor, mode=mode, save_best_only=True,
                                        initial_value_threshold=best_so_far((history or {}).get(monitor, []), mode, monitor)),
        keras.callbacks.EarlyStopping(monitor=monitor, mode=mode, patience=patience, restore_best_weights=True),
        keras.callbacks.ReduceLROnPlateau(monitor=monitor, mode=mode, patience=lr_patience, factor=lr_factor, min_lr=min_lr),
        last,
    ]
    if budget_s is not None:
        callbacks.append(_time_budget(float(budget_s)))
    if log_dir is not None and use_tensorflow_summaries():
        callbacks.append(keras.callbacks.TensorBoard(log_dir=str(log_dir)))
    return callbacks, last


def resume_state(folder: Path) -> tuple[Any, dict[str, Any]] | None:
    """(compiled model with optimizer state, ``state.json``) from ``folder``'s last checkpoint, or None."""
    import keras

    last, state_path = folder / "last.keras", folder / "state.json"
    if not (last.is_file() and state_path.is_file()):
        return None
    try:
        return keras.models.load_model(last, safe_mode=True), read_json(state_path, "resume state")
    except Exception as exc:  # damaged zip/JSON: say which file and how to start afresh
        raise CheckpointError(f"cannot resume from {last} ({exc}); delete {folder} to start afresh") from exc


def clear_checkpoints(folder: Path) -> None:
    """Remove checkpoints an earlier run left in ``folder`` so they are never mistaken for this run's."""
    for name in ("best.keras", "last.keras", "state.json"):
        (folder / name).unlink(missing_ok=True)
