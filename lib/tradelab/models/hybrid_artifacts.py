"""The hybrid model's self-describing artifact folder: atomic model save, load, predict on OHLCV.

A folder holds ``model.keras``, ``scalers.json``, ``features.json``, ``labels.json``,
``config.yaml``, ``history.json``, ``metrics.json``, ``metadata.json`` (run metadata and the
data content hash) and ``train.log``. :func:`load_artifacts` needs only the first five.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from tradelab.errors import CheckpointError, DataError, TradelabError
from tradelab.models.hybrid import REGIME_HEAD, SIGNAL_HEAD, VOLATILITY_HEAD
from tradelab.models.hybrid_metrics import SIGNAL_CLASS_NAMES
from tradelab.utils import read_json
from tradelab.utils.io import atomic_path

__all__ = ["MODEL_FILE", "REQUIRED_FILES", "ALL_FILES", "HybridPredictor", "save_model_atomic", "load_artifacts"]

MODEL_FILE = "model.keras"
REQUIRED_FILES = (MODEL_FILE, "scalers.json", "features.json", "labels.json", "config.yaml")
ALL_FILES = (*REQUIRED_FILES, "history.json", "metrics.json", "metadata.json", "train.log")


def save_model_atomic(model: Any, path: str | Path) -> Path:
    """Save a Keras model to ``path`` (``.keras`` or legacy ``.h5``) via a temporary name + rename."""
    path = Path(path)
    with atomic_path(path, suffix=path.suffix) as tmp:  # Keras picks the format from the extension
        model.save(tmp)
    return path


@dataclass
class HybridPredictor:
    """A trained model with what it needs to predict from raw OHLCV: feature list, scaler, window."""

    model: Any
    scaler: Any
    feature_names: list[str]
    time_window: int
    regime_names: list[str]
    label_spec: dict[str, Any]
    config: dict[str, Any]
    directory: Path | None = None

    def predict(self, ohlcv: pd.DataFrame, batch_size: int = 256) -> pd.DataFrame:
        """Recompute features, scale, window and return the three heads' outputs per timestamp.

        One row per bar that ends a full window of warm-up-free features; columns
        ``signal_prob_{sell,hold,buy}``, ``signal``, ``volatility``, ``regime_prob_*``, ``regime``.
        """
        from tradelab.features import compute_features

        features = compute_features(ohlcv)
        missing = [c for c in self.feature_names if c not in features.columns]
        if missing:
            raise CheckpointError(
                f"{self.directory}/features.json lists feature(s) {missing[:5]} that compute_features no longer "
                "produces; retrain the model with this tradelab version"
            )
        features = features[self.feature_names].dropna()
        if len(features) < self.time_window:
            raise DataError(
                f"predict: {len(features)} bars with complete features, need at least time_window={self.time_window} "
                "(pass a longer history: indicators need a warm-up)"
            )
        from tradelab.training.supervised_data import window_dataset

        x = self.scaler.transform_array(features.to_numpy(dtype=np.float64)).astype(np.float32)
        ds = window_dataset(x, np.arange(self.time_window - 1, len(x)), self.time_window, batch_size)
        out = self.model.predict(ds, verbose=0)
        return outputs_frame(out, features.index[self.time_window - 1 :], self.regime_names)


def outputs_frame(out: dict[str, np.ndarray], index: pd.Index, regime_names: list[str]) -> pd.DataFrame:
    """Model outputs → one DataFrame (probabilities, argmax classes, volatility) on ``index``."""
    sig, reg = np.asarray(out[SIGNAL_HEAD]), np.asarray(out[REGIME_HEAD])
    cols: dict[str, Any] = {f"signal_prob_{n}": sig[:, i] for i, n in enumerate(SIGNAL_CLASS_NAMES)}
    cols["signal"] = sig.argmax(axis=1)
    cols["volatility"] = np.asarray(out[VOLATILITY_HEAD]).reshape(-1)
    cols.update({f"regime_prob_{n}": reg[:, i] for i, n in enumerate(regime_names)})
    cols["regime"] = reg.argmax(axis=1)
    return pd.DataFrame(cols, index=index)


def _read(directory: Path, name: str) -> Any:
    path = directory / name
    if not path.is_file():
        raise CheckpointError(f"artifact folder {directory} is missing {name}; re-run `tradelab train supervised`")
    try:
        if name.endswith(".yaml"):
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
            if not isinstance(data, dict):
                raise ValueError("not a mapping")
            return data
        return read_json(path, what="artifact")
    except (TradelabError, ValueError, yaml.YAMLError, UnicodeDecodeError) as exc:
        raise CheckpointError(f"artifact {path} is corrupted ({exc}); re-run `tradelab train supervised`") from exc


def load_keras_model(path: str | Path, compile: bool = False) -> Any:
    """``keras.models.load_model(..., safe_mode=True)``: a ``.keras`` file that carries code (a Lambda
    layer's bytecode, an arbitrary function) is refused instead of run; any failure is a CheckpointError."""
    import keras

    try:
        return keras.models.load_model(path, compile=compile, safe_mode=True)
    except Exception as exc:  # keras raises ValueError/OSError/zipfile errors for damaged or unsafe files
        first = str(exc).splitlines()[0][:300] if str(exc) else type(exc).__name__
        unsafe = "safe_mode" in str(exc) or "Lambda" in str(exc)
        why = "carries code that safe_mode=True refuses to deserialize" if unsafe else "is corrupted or unreadable"
        raise CheckpointError(f"artifact {path} {why} ({first}); re-run `tradelab train supervised`") from exc


def load_artifacts(directory: str | Path) -> HybridPredictor:
    """Load an artifact folder written by ``train_supervised`` into a :class:`HybridPredictor`."""

    from tradelab.features.scaling import FeatureScaler

    directory = Path(directory)
    if not directory.is_dir():
        raise CheckpointError(f"artifact folder not found: {directory}; train one with `tradelab train supervised`")
    model_path = directory / MODEL_FILE
    if not model_path.is_file():
        raise CheckpointError(f"artifact folder {directory} is missing {MODEL_FILE}; re-run `tradelab train supervised`")
    scaler_dict = _read(directory, "scalers.json")
    features = _read(directory, "features.json")
    labels = _read(directory, "labels.json")
    config = _read(directory, "config.yaml")
    try:
        scaler = FeatureScaler.from_dict(scaler_dict)
        names = list(features["feature_names"])
        window = int(config["data_loader_params"]["time_window"])
        regime_names = [str(n) for n in labels["regime_names"]]
    except (KeyError, TypeError, ValueError) as exc:
        raise CheckpointError(f"artifact folder {directory}: scalers/features/labels/config content is invalid ({exc!r})") from exc
    model = load_keras_model(model_path, compile=False)
    return HybridPredictor(model, scaler, names, window, regime_names, labels, config, directory)
