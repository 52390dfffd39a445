"""Morningstar: train the hybrid CNN+LSTM on ``{asset}_final.parquet`` and write its artifact folder.

Validation drives checkpointing, early stopping and LR reduction; the test split is evaluated
once, after training, beside naive baselines on the same windows (``metrics.json``).
Run it with ``tradelab train supervised`` or ``python -m tradelab.training.supervised``.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from tradelab.errors import ConfigError
from tradelab.models.hybrid import SIGNAL_HEAD
from tradelab.models.hybrid_artifacts import HybridPredictor, load_artifacts, outputs_frame, save_model_atomic
from tradelab.results import RunResult
from tradelab.training.supervised_config import (
    PARAMETERS,
    CallbackParams,
    DataLoaderParams,
    ModelParams,
    PathsConfig,
    SupervisedConfig,
    TrainingParams,
)
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
    "train",
    "train_supervised",
    "load_artifacts",
]

log = logging.getLogger("tradelab.supervised")


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
    result_file(metrics, run_dir).write()
    meta = run_metadata(workflow="supervised", asset=data.asset, data_file=str(data.path),
                        data_file_sha256=file_sha256(data.path), data_content_hash=data.content_hash,
                        rows={s: len(f) for s, f in data.frames.items()})
    atomic_write_json(run_dir / "metadata.json", meta)


def result_file(metrics: dict[str, Any], run_dir: Path) -> Any:
    """``metrics.json`` as a RunResult: the test split's sign-rule rows (1x costs) as strategies, the
    per-head metrics under ``meta.heads``, the rest under ``meta.supervised``."""
    from tradelab.results import RunResult, make_meta

    trading = (metrics.get("trading") or {}).get("test") or {}
    rest = {k: v for k, v in metrics.items() if k not in ("val", "test", "trading", "asset", "data_hash")}
    meta = make_meta("supervised", focus="morningstar" if "morningstar" in trading else None,
                     asset=metrics.get("asset"), data_hash=metrics.get("data_hash"), split="test",
                     heads={"val": metrics.get("val"), "test": metrics.get("test")},
                     supervised={**rest, "trading": {"val": (metrics.get("trading") or {}).get("val")}})
    return RunResult(trading, {"1x": trading} if trading else {}, meta, run_dir)


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


def train(config: SupervisedConfig) -> RunResult:
    """The supervised workflow: train, evaluate val then test once, write the artifact folder; its
    ``metrics.json`` as a :class:`~tradelab.results.RunResult` (``meta.heads``: per-split head metrics)."""
    metrics = train_supervised(config)
    return RunResult.read(Path(metrics["artifact_dir"]) / "metrics.json")


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
                    **parameters: Any) -> SupervisedConfig:
    """Config for the notebook: YAML, then smoke overrides, then the notebook's parameters.

    ``parameters`` are config keys or their short names (:data:`PARAMETERS`: ``asset``, ``epochs``,
    ``batch_size``, ``lr``, ``data_dir``, ``seed`` ...), the same as the command's flags.
    """
    from tradelab.config import config_from_parameters

    return config_from_parameters(SupervisedConfig, config_path, {**parameters, "paths.save_path": str(output_dir)},
                                  PARAMETERS, SMOKE_OVERRIDES if smoke else None)


def predictor_from_model(model: Any, data: Any, time_window: int, config: SupervisedConfig) -> HybridPredictor:
    """A predictor around an in-memory model (what :func:`load_artifacts` rebuilds from disk)."""
    return HybridPredictor(model, data.scaler, list(data.feature_names), time_window, _regime_names(data),
                           {"horizon": data.horizon}, config.to_dict())


if __name__ == "__main__":
    from tradelab.cli.train_supervised import run_from_argv

    sys.exit(run_from_argv(sys.argv[1:]))
