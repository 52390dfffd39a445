"""Morningstar: train the hybrid CNN+LSTM on ``{asset}_final.parquet`` and write its artifact folder.

Validation drives checkpointing, early stopping and LR reduction; the test split is evaluated
once, after training, beside naive baselines on the same windows (``metrics.json``).
Run it with ``tradelab train supervised`` or ``python -m tradelab.training.supervised``.
"""

from __future__ import annotations

import logging
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from tradelab.config import ConfigBase
from tradelab.errors import ConfigError
from tradelab.models.hybrid import HEADS, SIGNAL_HEAD
from tradelab.models.hybrid_artifacts import HybridPredictor, load_artifacts, outputs_frame, save_model_atomic
from tradelab.utils import (
    atomic_write_json,
    atomic_write_text,
    file_sha256,
    run_metadata,
    seed_everything,
    set_threads,
)

__all__ = [
    "PathsConfig",
    "DataLoaderParams",
    "ModelParams",
    "TrainingParams",
    "CallbackParams",
    "SupervisedConfig",
    "resolve_run_dir",
    "train_supervised",
    "load_artifacts",
]

log = logging.getLogger("tradelab.supervised")


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


def resolve_run_dir(save_path: str | Path) -> Path:
    """The artifact folder: ``save_path`` itself, or its parent when it names a .keras/.h5 file."""
    path = Path(save_path)
    return path.parent if path.suffix in (".h5", ".keras") else path


def _setup_logging(run_dir: Path) -> logging.Handler:
    run_dir.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(run_dir / "train.log", mode="w", encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    log.addHandler(handler)
    if not any(isinstance(h, logging.StreamHandler) and not isinstance(h, logging.FileHandler) for h in log.handlers):
        console = logging.StreamHandler(sys.stdout)
        console.setFormatter(logging.Formatter("[supervised] %(message)s"))
        log.addHandler(console)
    log.setLevel(logging.INFO)
    log.propagate = False
    return handler


def _init_tensorflow(params: TrainingParams) -> None:
    """Threads before TF's runtime starts, then op determinism and seeds."""
    import tensorflow as tf

    threads = set_threads(params.threads)
    if params.deterministic:
        tf.config.experimental.enable_op_determinism()
    import keras

    seed_everything(params.seed)
    keras.utils.set_random_seed(params.seed)
    log.info("TF %s, Keras %s, threads=%d, devices=%s", tf.__version__, keras.__version__, threads,
             [d.name for d in tf.config.list_logical_devices()])


def _evaluate_split(model: Any, loader: Any, split: str) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Keras losses/metrics plus model-vs-baseline metrics per head for one split."""
    from tradelab.models.hybrid_metrics import evaluate_heads

    data = loader.data
    keras_metrics = model.evaluate(loader.dataset(split, weighted=False), verbose=0, return_dict=True)
    preds = model.predict(loader.features_dataset(split), verbose=0)
    heads = evaluate_heads(preds, data.labels(split), loader.end_positions(split), data.horizon,
                           data.labels("train"), _regime_names(data))
    return {"keras": {k: float(v) for k, v in keras_metrics.items()}, **heads}, preds


def _regime_names(data: Any) -> list[str]:
    names = data.spec.get("regime_names") or (data.spec.get("labels") or {}).get("regime_names")
    return [str(n) for n in names] if names else [str(i) for i in range(data.num_regime_classes)]


def _write_artifacts(cfg: SupervisedConfig, run_dir: Path, model: Any, data: Any, history: dict, metrics: dict) -> None:
    save_model_atomic(model, run_dir / "model.keras")
    if Path(cfg.paths.save_path).suffix == ".h5":
        save_model_atomic(model, cfg.paths.save_path)
    atomic_write_json(run_dir / "scalers.json", data.scaler.to_dict())
    atomic_write_json(run_dir / "features.json", {"feature_names": data.feature_names, "n_features": len(data.feature_names)})
    labels = {"horizon": data.horizon, "signal_classes": ["sell", "hold", "buy"], "regime_names": _regime_names(data),
              "num_regime_classes": data.num_regime_classes, "spec": {k: v for k, v in data.spec.items() if k != "feature_names"}}
    atomic_write_json(run_dir / "labels.json", labels)
    atomic_write_text(run_dir / "config.yaml", yaml.safe_dump(cfg.to_dict(), sort_keys=False))
    atomic_write_json(run_dir / "history.json", history)
    atomic_write_json(run_dir / "metrics.json", metrics)
    meta = run_metadata(workflow="supervised", asset=data.asset, data_file=str(data.path),
                        data_file_sha256=file_sha256(data.path), data_content_hash=data.content_hash,
                        rows={s: len(f) for s, f in data.frames.items()})
    atomic_write_json(run_dir / "metadata.json", meta)


def _write_predictions(run_dir: Path, loader: Any, split: str, preds: dict[str, np.ndarray]) -> None:
    frame = outputs_frame(preds, loader.timestamps(split), _regime_names(loader.data))
    for head, values in loader.window_labels(split).items():
        frame[f"true_{head.removesuffix('_output')}"] = values
    atomic_write_text(run_dir / f"predictions_{split}.csv", frame.to_csv())


def _fit(cfg: SupervisedConfig, run_dir: Path, loader: Any, data: Any) -> tuple[Any, dict[str, list[float]]]:
    from tradelab.models.hybrid import build_enhanced_hybrid_model, compile_hybrid_model
    from tradelab.models.hybrid_callbacks import clear_checkpoints, make_callbacks, resume_state

    mp, tp = cfg.model_params, cfg.training_params
    model = build_enhanced_hybrid_model(
        loader.input_shape, data.num_signal_classes, data.num_regime_classes, cnn_filters=mp.cnn_filters,
        kernel_size=mp.kernel_size, lstm_units=mp.lstm_units, dense_units=mp.dense_units, dropout=mp.dropout,
        use_attention=mp.use_attention, attention_heads=mp.attention_heads, l2=mp.l2,
        volatility_init=float(np.mean(data.labels("train")["volatility_output"])),
    )
    compile_hybrid_model(model, tp.learning_rate, tp.loss_weights, jit_compile=tp.jit_compile)
    log.info("model %s: %d parameters, input %s", model.name, model.count_params(), loader.input_shape)
    folder = run_dir / "checkpoints"
    resumed = resume_state(folder) if tp.resume else None
    start, past = 0, {}
    if resumed is not None:
        model, state = resumed
        start, past = int(state["epochs_done"]), state.get("history", {})
        log.info("resumed from %s after epoch %d", folder / "last.keras", start)
    else:  # never restore checkpoints left by an earlier run in this folder
        clear_checkpoints(folder)
    cb = cfg.callback_params
    log_dir = Path(cfg.paths.log_dir) if cfg.paths.log_dir else run_dir / "tensorboard"
    callbacks, last = make_callbacks(folder, log_dir if cb.tensorboard else None, past, monitor=cb.checkpoint_monitor_metric,
                                     mode=cb.monitor_mode, patience=cb.early_stopping_patience,
                                     lr_patience=cb.reduce_lr_patience, lr_factor=cb.reduce_lr_factor, min_lr=cb.min_lr,
                                     budget_s=tp.budget_s)
    if start < tp.epochs:
        model.fit(loader.dataset("train"), validation_data=loader.dataset("val"), epochs=tp.epochs,
                  initial_epoch=start, callbacks=callbacks, verbose=fit_verbose(tp.verbose), shuffle=False)
    if (folder / "best.keras").is_file():  # EarlyStopping restores only when it fires; this is the best
        model.load_weights(folder / "best.keras")
    from tradelab.training.monitor import RESOURCE_KEYS  # measured, not learned: resources.json, not history

    return model, {k: v for k, v in last.history.items() if k not in RESOURCE_KEYS}


def fit_verbose(verbose: int, stream: Any = None) -> int:
    """Keras ``verbose`` for ``fit``: a progress bar (1) becomes one line per epoch (2) off a terminal."""
    stream = sys.stdout if stream is None else stream
    is_tty = bool(getattr(stream, "isatty", lambda: False)())
    return 2 if verbose == 1 and not is_tty else int(verbose)


def train_supervised(config: SupervisedConfig, return_predictor: bool = False) -> Any:
    """Train, evaluate (val, then test once) and write the artifact folder; returns ``metrics.json``'s dict.

    With ``return_predictor`` it returns ``(metrics, predictor)``, the predictor wrapping the
    in-memory model (used to check that the saved folder reproduces it).
    """
    from tradelab.models.hybrid_callbacks import best_so_far
    from tradelab.training.supervised_data import DataLoader, load_and_split_data

    run_dir = resolve_run_dir(config.paths.save_path)
    handler = _setup_logging(run_dir)
    try:
        dp = config.data_loader_params
        data = load_and_split_data(dp.asset, config.paths.data_dir, dp.val_split, dp.purge_gap)
        _init_tensorflow(config.training_params)
        if dp.time_window <= data.horizon:
            raise ConfigError(f"data_loader_params.time_window={dp.time_window} must exceed the label horizon {data.horizon}")
        loader = DataLoader(data, dp.time_window, dp.batch_size, dp.shuffle, config.training_params.seed, dp.class_weighting)
        log.info("data %s: rows %s, %d features, horizon %d", data.path,
                 {s: len(f) for s, f in data.frames.items()}, len(data.feature_names), data.horizon)
        model, history = _fit(config, run_dir, loader, data)
        val, val_preds = _evaluate_split(model, loader, "val")
        test, test_preds = _evaluate_split(model, loader, "test")  # the one and only look at test
        monitor = config.callback_params.checkpoint_monitor_metric
        metrics = {"asset": data.asset, "data_hash": data.content_hash, "epochs_run": len(history.get("loss", [])), "monitor": monitor,
                   "best_monitor": best_so_far(history.get(monitor, []), config.callback_params.monitor_mode, monitor),
                   "val": val, "test": test}
        metrics.update(_logreg_and_trading(config, data, {"val": val, "test": test}, {"val": val_preds, "test": test_preds}))
        _write_artifacts(config, run_dir, model, data, history, metrics)
        _write_predictions(run_dir, loader, "val", val_preds)
        _write_predictions(run_dir, loader, "test", test_preds)
        if config.training_params.make_plots:
            from tradelab.training.supervised_plots import save_run_plots

            save_run_plots(run_dir)
        log.info("test %s", summary_line(metrics["test"]))
        log.info("artifacts written to %s", run_dir)
        result = {**metrics, "artifact_dir": str(run_dir)}
        if return_predictor:
            return result, predictor_from_model(model, data, dp.time_window, config)
        return result
    finally:
        log.removeHandler(handler)
        handler.close()


def _logreg_and_trading(config: SupervisedConfig, data: Any, results: dict[str, dict], preds: dict[str, dict]) -> dict[str, Any]:
    """Logistic regression on the same windows (a signal-head baseline) and both models' sign rule at 1x costs.

    Adds ``logistic_regression`` to each split's signal-head baselines; returns the ``logistic_regression``
    (chosen C) and ``trading`` (per split: sign rule of each model beside buy-and-hold and flat) sections.
    """
    from tradelab.models.hybrid_metrics import SIGNAL_CLASS_NAMES, classification_metrics
    from tradelab.models.logreg import fit_logreg, window_rows
    from tradelab.models.signal_rule import trading_report

    dp = config.data_loader_params
    baseline = fit_logreg(data, dp.time_window, class_weighting=dp.class_weighting, seed=config.training_params.seed)
    trading = {}
    for split, result in results.items():
        probs = baseline.probabilities(data, split)
        _, y = window_rows(data, split, dp.time_window)
        result[SIGNAL_HEAD]["baselines"]["logistic_regression"] = classification_metrics(
            y, probs.argmax(axis=1), list(SIGNAL_CLASS_NAMES))
        trading[split] = trading_report({"morningstar": preds[split][SIGNAL_HEAD], "logistic_regression": probs},
                                        data.frames[split], dp.time_window)
    log.info("test sign rule at 1x costs: %s", ", ".join(f"{k} Sharpe {v['sharpe_ratio']:.2f}" for k, v in trading["test"].items()))
    return {"logistic_regression": {"C": baseline.C, "val_accuracy_by_C": baseline.val_accuracy_by_C,
                                    "features": "last row of each window"}, "trading": trading}


def summary_line(split_metrics: dict[str, Any]) -> str:
    """One line: model vs baselines per head (accuracy for classifiers, RMSE for volatility)."""
    parts = []
    for head, key in (("trading_signal_output", "accuracy"), ("volatility_output", "rmse"), ("market_regime_output", "accuracy")):
        h = split_metrics[head]
        base = ", ".join(f"{n} {b[key]:.4f}" for n, b in h["baselines"].items())
        parts.append(f"{head} {key} {h['model'][key]:.4f} (baselines: {base})")
    return "; ".join(parts)


#: what ``smoke=True`` shrinks in the notebook (tests, `make demo`): a tiny model, one short run
SMOKE_OVERRIDES: dict[str, Any] = {
    "data_loader_params.time_window": 12,
    "data_loader_params.batch_size": 64,
    "model_params.cnn_filters": [8],
    "model_params.lstm_units": [8],
    "model_params.dense_units": 8,
    "training_params.verbose": 2,
    "callback_params.tensorboard": False,
}


def notebook_config(config_path: str | Path | None, output_dir: str | Path, smoke: bool = False,
                    **flags: Any) -> SupervisedConfig:
    """Config for the notebook: YAML, then smoke overrides, then the notebook's parameters.

    ``flags`` use the CLI names (``asset``, ``epochs``, ``batch_size``, ``lr``, ``data_dir``, ``seed``).
    """
    keys = {"asset": "data_loader_params.asset", "epochs": "training_params.epochs",
            "batch_size": "data_loader_params.batch_size", "lr": "training_params.learning_rate",
            "data_dir": "paths.data_dir", "seed": "training_params.seed", "val_split": "data_loader_params.val_split"}
    unknown = sorted(set(flags) - set(keys))
    if unknown:
        raise ConfigError(f"notebook_config: unknown parameter(s) {unknown}; known: {sorted(keys)}")
    overrides = dict(SMOKE_OVERRIDES) if smoke else {}
    overrides.update({keys[k]: v for k, v in flags.items() if v is not None})
    overrides["paths.save_path"] = str(output_dir)
    return SupervisedConfig.from_yaml(config_path, **overrides)


def predictor_from_model(model: Any, data: Any, time_window: int, config: SupervisedConfig) -> HybridPredictor:
    """A predictor around an in-memory model (what :func:`load_artifacts` rebuilds from disk)."""
    return HybridPredictor(model, data.scaler, list(data.feature_names), time_window, _regime_names(data),
                           {"horizon": data.horizon}, config.to_dict())


if __name__ == "__main__":
    from tradelab.cli.train_supervised import run_from_argv

    sys.exit(run_from_argv(sys.argv[1:]))
