"""Morningstar's configuration: the typed sections of ``configs/supervised.yaml`` and seed 001's key names.

:class:`SupervisedConfig` (paths, data loader, model, training, callbacks) is what
:func:`tradelab.training.supervised.train_supervised` runs; ``tradelab train supervised`` and
``notebooks/01_supervised.ipynb`` build it from the YAML plus overrides.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tradelab.config import ConfigBase
from tradelab.errors import ConfigError
from tradelab.models.hybrid import HEADS

__all__ = ["PARAMETERS", "PathsConfig", "DataLoaderParams", "ModelParams", "TrainingParams", "CallbackParams", "SupervisedConfig",
           "seed_001_keys"]


#: Short names of config keys: notebook 01's parameters and `tradelab train supervised`'s flags (seed 001's).
PARAMETERS: dict[str, str] = {
    "asset": "data_loader_params.asset", "epochs": "training_params.epochs",
    "batch_size": "data_loader_params.batch_size", "lr": "training_params.learning_rate",
    "val_split": "data_loader_params.val_split", "save_path": "paths.save_path", "output_dir": "paths.save_path",
    "data_dir": "paths.data_dir", "seed": "training_params.seed", "threads": "training_params.threads",
    "time_window": "data_loader_params.time_window", "verbose": "training_params.verbose",
}


@dataclass(frozen=True)
class PathsConfig(ConfigBase):
    data_dir: str = "data/processed"
    """folder holding ``{asset}_final.parquet`` (built by ``tradelab data build``)"""
    save_path: str = "outputs/mstar"
    """artifact folder, or a ``.keras``/``.h5`` file name whose parent becomes the folder"""
    log_dir: str | None = None
    """TensorBoard log folder; None → ``<artifact folder>/tensorboard``"""


@dataclass(frozen=True)
class DataLoaderParams(ConfigBase):
    asset: str = "goog"
    """asset name (lower-cased file stem of ``{asset}_final.parquet``)"""
    time_window: int = 10
    """bars per input window (must exceed the label horizon)"""
    batch_size: int = 32
    """windows per batch"""
    val_split: float | None = None
    """None: use the parquet's val split; a fraction: re-split train+val, last fraction is val"""
    purge_gap: int | None = None
    """bars dropped before a re-split val (None → the file's purge gap or the label horizon)"""
    shuffle: bool = True
    """shuffle train windows (seeded); val/test are never shuffled"""
    class_weighting: str = "balanced"
    """'balanced' per-output sample weights for the classifier heads (fitted on train) or 'none'"""


@dataclass(frozen=True)
class ModelParams(ConfigBase):
    cnn_filters: tuple[int, ...] = (16,)
    """filters of each causal Conv1D block"""
    kernel_size: int = 3
    """Conv1D kernel size"""
    lstm_units: tuple[int, ...] = (16,)
    """units of each stacked LSTM layer"""
    dense_units: int = 16
    """width of the shared dense layer feeding the three heads"""
    dropout: float = 0.4
    """dropout after the CNN and the LSTM"""
    use_attention: bool = False
    """self-attention over the LSTM sequence before pooling"""
    attention_heads: int = 2
    """heads of the self-attention layer"""
    l2: float = 0.001
    """L2 weight penalty on conv/LSTM/dense kernels"""


def _default_loss_weights() -> dict[str, float]:
    return {"trading_signal_output": 1.0, "volatility_output": 1.0, "market_regime_output": 1.0}


@dataclass(frozen=True)
class TrainingParams(ConfigBase):
    epochs: int = 50
    """maximum epochs (early stopping may end sooner)"""
    learning_rate: float = 0.0003
    """Adam learning rate"""
    loss_weights: dict[str, float] = field(default_factory=_default_loss_weights)
    """weight of each head's loss in the total loss"""
    seed: int = 42
    """seed for python, numpy, TF and Keras"""
    threads: int | None = None
    """TF intra/inter-op threads; None → TRADELAB_THREADS or 1"""
    deterministic: bool = True
    """enable TF op determinism so a seeded CPU run repeats exactly"""
    verbose: int = 1
    """Keras progress output: 1 progress bar (one line per epoch instead when stdout is not a terminal,
    so log files are not flooded), 2 one line per epoch, 0 silent"""
    resume: bool = False
    """continue from ``<artifact folder>/checkpoints/last.keras`` (saved atomically every epoch) if present"""
    jit_compile: bool = False
    """XLA-compile the train step (off: compiling costs seconds on CPU for no gain at this size)"""
    make_plots: bool = True
    """write learning-curve, confusion-matrix and volatility PNGs into the artifact folder"""
    budget_s: float | None = None
    """stop after the epoch that exhausts this many seconds of training (None: epochs and early stopping only)"""


@dataclass(frozen=True)
class CallbackParams(ConfigBase):
    early_stopping_patience: int = 5
    """epochs without improvement of the monitor before stopping"""
    checkpoint_monitor_metric: str = "val_trading_signal_output_loss"
    """metric that picks the best checkpoint, drives early stopping and LR reduction (the signal head's val
    loss: the summed ``val_loss`` keeps falling with the other heads while the signal head overfits)"""
    monitor_mode: str = "auto"
    """'min', 'max' or 'auto' (max for accuracy/AUC-like names, min otherwise)"""
    reduce_lr_patience: int = 2
    """epochs without improvement before the learning rate is reduced"""
    reduce_lr_factor: float = 0.5
    """factor applied to the learning rate on a plateau"""
    min_lr: float = 1e-6
    """lower bound of the learning rate"""
    tensorboard: bool = True
    """write TensorBoard logs"""


#: Seed 001's config.yaml names → ours: (section, seed key) → (section, our key).
SEED_001_KEYS = {
    ("paths", "processed_data_path"): ("paths", "data_dir"),
    ("paths", "model_save_path"): ("paths", "save_path"),
    ("model_params", "time_window"): ("data_loader_params", "time_window"),
    ("training_params", "batch_size"): ("data_loader_params", "batch_size"),
}


def seed_001_keys(raw: dict[str, Any], source: str) -> dict[str, Any]:
    """Rename seed 001's ``config.yaml`` keys onto ours (a copy); both spellings at once is an error.

    ``training_params.optimizer`` is accepted when it is Adam (the only optimiser the model uses).
    """
    data = {k: dict(v) if isinstance(v, dict) else v for k, v in raw.items()}
    for (sec, old), (new_sec, new) in SEED_001_KEYS.items():
        part = data.get(sec)
        if not isinstance(part, dict) or old not in part:
            continue
        target = data.setdefault(new_sec, {})
        if new in target:
            raise ConfigError(f"{source}: {sec}.{old} (seed 001's name) and {new_sec}.{new} both given; keep one")
        target[new] = part.pop(old)
    opt = (data.get("training_params") or {}).pop("optimizer", None) if isinstance(data.get("training_params"),
                                                                                 dict) else None
    if opt is not None and str(opt).lower() != "adam":
        raise ConfigError(f"{source}: training_params.optimizer={opt!r}; Morningstar trains with Adam only "
                          "(remove the key or set it to adam)")
    return data


@dataclass(frozen=True)
class SupervisedConfig(ConfigBase):
    """Everything one Morningstar training run needs (``configs/supervised.yaml``)."""

    paths: PathsConfig = field(default_factory=PathsConfig)
    """input and output locations"""
    data_loader_params: DataLoaderParams = field(default_factory=DataLoaderParams)
    """asset, window, batching, validation split, class weighting"""
    model_params: ModelParams = field(default_factory=ModelParams)
    """architecture of the hybrid model"""
    training_params: TrainingParams = field(default_factory=TrainingParams)
    """optimiser, loss weights, seed, threads"""
    callback_params: CallbackParams = field(default_factory=CallbackParams)
    """checkpointing, early stopping, LR schedule, TensorBoard"""

    @classmethod
    def from_yaml(cls, path: str | Path | None = None, **overrides: Any) -> SupervisedConfig:
        """Our layout; seed 001's key names (``paths.processed_data_path`` …) are mapped first."""
        from tradelab.config import from_dict, load_yaml, set_dotted

        data = seed_001_keys(load_yaml(path) if path is not None else {}, str(path or cls.__name__))
        for key, value in overrides.items():
            if value is not None:
                set_dotted(data, key.replace("__", "."), value)
        return from_dict(cls, data, str(path or cls.__name__))

    def validate(self) -> None:
        unknown = sorted(set(self.training_params.loss_weights) - set(HEADS))
        if unknown:
            raise ConfigError(f"training_params.loss_weights: unknown head(s) {unknown}; valid: {list(HEADS)}")
        if self.training_params.epochs < 1:
            raise ConfigError(f"training_params.epochs must be >= 1, got {self.training_params.epochs}")
        if self.training_params.learning_rate <= 0:
            raise ConfigError(f"training_params.learning_rate must be > 0, got {self.training_params.learning_rate}")
        if self.callback_params.monitor_mode not in ("auto", "min", "max"):
            raise ConfigError(f"callback_params.monitor_mode must be auto/min/max, got {self.callback_params.monitor_mode!r}")
