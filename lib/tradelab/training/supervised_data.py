"""Supervised data: read ``{asset}_final.parquet``, split, scale on train, window on the fly with tf.data.

Windows are never materialised as an ``(N, window, features)`` array: each split keeps its own
contiguous ``(rows, features)`` float32 matrix and a tf.data pipeline over window END positions
cuts each batch with one ``tf.gather`` (see :func:`window_dataset`; ~10× the throughput of
``keras.utils.timeseries_dataset_from_array``, which gathers window by window). Because each split's dataset is built from that split's rows only,
no window crosses a split boundary or the purge gap. A window ending on row t is labelled with
row t's labels (which look forward by the label horizon).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from tradelab.data.validate import OHLCV_COLUMNS
from tradelab.errors import ConfigError, DataError
from tradelab.models.hybrid import REGIME_HEAD, SIGNAL_HEAD, VOLATILITY_HEAD

__all__ = ["SPLITS", "LABEL_COLUMNS", "SplitData", "DataLoader", "load_and_split_data", "final_parquet_path"]

SPLITS = ("train", "val", "test")
LABEL_COLUMNS = {SIGNAL_HEAD: "label_signal", VOLATILITY_HEAD: "label_volatility", REGIME_HEAD: "label_regime"}
_NON_FEATURES = {*OHLCV_COLUMNS, *LABEL_COLUMNS.values(), "split"}


def final_parquet_path(asset: str, data_dir: str | Path = "data/processed") -> Path:
    """``{data_dir}/{asset}_final.parquet`` (asset lower-cased, as ``tradelab data build`` writes it)."""
    return Path(data_dir) / f"{asset.lower()}_final.parquet"


def _spec_value(spec: dict[str, Any], *keys: str, default: Any = None) -> Any:
    """First of ``keys`` found at the top level of ``spec`` or in its ``labels``/``label_spec`` section."""
    for section in (spec, spec.get("labels") or {}, spec.get("label_spec") or {}):
        if isinstance(section, dict):
            for key in keys:
                if section.get(key) is not None:
                    return section[key]
    return default


@dataclass
class SplitData:
    """One asset's rows split into train/val/test, with the train-fitted scaler."""

    asset: str
    path: Path
    feature_names: list[str]
    frames: dict[str, pd.DataFrame]
    """split → contiguous rows (unscaled features + label columns), time-ordered."""
    scaler: Any
    """``tradelab.features.scaling.FeatureScaler`` fitted on the train rows only."""
    spec: dict[str, Any] = field(default_factory=dict)
    horizon: int = 5
    num_signal_classes: int = 3
    num_regime_classes: int = 3
    content_hash: str | None = None
    _scaled: dict[str, np.ndarray] = field(default_factory=dict, repr=False)

    def scaled(self, split: str) -> np.ndarray:
        """Scaled ``(rows, features)`` float32 matrix of ``split`` (2-D; windows are cut later)."""
        if split not in self._scaled:
            raw = self.frames[split][self.feature_names].to_numpy(dtype=np.float64)
            self._scaled[split] = np.ascontiguousarray(self.scaler.transform_array(raw), dtype=np.float32)
        return self._scaled[split]

    def labels(self, split: str) -> dict[str, np.ndarray]:
        """Per-head label vectors of ``split`` (row-aligned with :meth:`scaled`)."""
        frame = self.frames[split]
        return {
            SIGNAL_HEAD: frame[LABEL_COLUMNS[SIGNAL_HEAD]].to_numpy(dtype=np.int32),
            VOLATILITY_HEAD: frame[LABEL_COLUMNS[VOLATILITY_HEAD]].to_numpy(dtype=np.float32),
            REGIME_HEAD: frame[LABEL_COLUMNS[REGIME_HEAD]].to_numpy(dtype=np.int32),
        }


def _read_final(path: Path) -> tuple[pd.DataFrame, dict[str, Any]]:
    if not path.is_file():
        from tradelab.data.sources import EMBEDDED_ASSETS

        name = path.name.removesuffix("_final.parquet").upper()
        how = (f"with `tradelab data build --assets {name}" if name in EMBEDDED_ASSETS
               else f"from your OHLCV CSV with `tradelab data build --csv YOUR_{name}.csv --asset {name}")
        raise DataError(f"processed data not found: {path}; build it {how} --out {path.parent}`")
    from tradelab.data.store import read_final_parquet

    return read_final_parquet(path)


def _check_frame(frame: pd.DataFrame, path: Path, feature_names: list[str]) -> None:
    missing = [c for c in [*LABEL_COLUMNS.values(), "split", *feature_names] if c not in frame.columns]
    if missing:
        raise DataError(f"{path}: missing column(s) {missing[:8]}; rebuild it with `tradelab data build`")
    bad = frame[feature_names].columns[frame[feature_names].isna().any().to_numpy()].tolist()
    if bad:
        raise DataError(f"{path}: NaN in feature column(s) {bad[:8]}; rebuild it with `tradelab data build`")
    unknown = sorted(set(frame["split"].unique()) - set(SPLITS))
    if unknown:
        raise DataError(f"{path}: column 'split' holds {unknown}; allowed values are {list(SPLITS)}")
    for name in SPLITS:
        pos = np.flatnonzero((frame["split"] == name).to_numpy())
        if len(pos) == 0:
            raise DataError(f"{path}: no '{name}' rows; rebuild it with `tradelab data build`")
        if pos[-1] - pos[0] + 1 != len(pos):
            raise DataError(f"{path}: '{name}' rows are not contiguous in time; rebuild it with `tradelab data build`")


def _resplit_val(frames: dict[str, pd.DataFrame], val_split: float, purge: int) -> dict[str, pd.DataFrame]:
    """Re-split the non-test rows: the last ``val_split`` fraction is val, ``purge`` rows before it dropped."""
    if not 0.0 < val_split < 1.0:
        raise ConfigError(f"data_loader_params.val_split must be in (0, 1), got {val_split}")
    pool = pd.concat([frames["train"], frames["val"]])
    n_val = max(1, round(val_split * len(pool)))
    n_train = len(pool) - n_val - purge
    if n_train < 1:
        raise ConfigError(f"data_loader_params.val_split={val_split} leaves no train rows ({len(pool)} rows, purge {purge})")
    return {"train": pool.iloc[:n_train], "val": pool.iloc[len(pool) - n_val :], "test": frames["test"]}


def load_and_split_data(
    asset: str = "goog",
    data_dir: str | Path = "data/processed",
    val_split: float | None = None,
    purge_gap: int | None = None,
) -> SplitData:
    """Read ``{data_dir}/{asset}_final.parquet``, split by its ``split`` column and fit the scaler on train.

    :param val_split: when set, re-split train+val chronologically: the last ``val_split``
        fraction becomes val and ``purge_gap`` rows (default: the file's purge gap, else the
        label horizon) before it are dropped. None keeps the file's own splits.
    """
    from tradelab.features.scaling import FeatureScaler

    path = final_parquet_path(asset, data_dir)
    frame, spec = _read_final(path)
    spec = dict(spec or {})
    names = list(spec.get("feature_names") or [c for c in frame.columns if c not in _NON_FEATURES])
    _check_frame(frame, path, names)
    frame = frame.sort_index()
    frames = {name: frame[frame["split"] == name] for name in SPLITS}
    horizon = int(_spec_value(spec, "horizon", "label_horizon", default=5))
    if val_split is not None:
        purge = int(purge_gap if purge_gap is not None else _spec_value(spec, "purge_gap", default=horizon))
        frames = _resplit_val(frames, float(val_split), purge)
    scaler = FeatureScaler.fit(frames["train"][names], columns=names)
    n_regimes = _spec_value(spec, "n_regimes", default=None)
    if n_regimes is None:
        n_regimes = int(frame[LABEL_COLUMNS[REGIME_HEAD]].max()) + 1
    return SplitData(
        asset=asset.lower(),
        path=path,
        feature_names=names,
        frames=frames,
        scaler=scaler,
        spec=spec,
        horizon=horizon,
        num_signal_classes=3,
        num_regime_classes=int(n_regimes),
        content_hash=spec.get("content_hash"),
    )


def window_dataset(
    matrix: np.ndarray,
    ends: np.ndarray,
    window: int,
    batch_size: int,
    shuffle: bool = False,
    seed: int = 0,
    with_ends: bool = False,
) -> Any:
    """Batches of windows ``matrix[end - window + 1 : end + 1]`` cut on the fly with tf.data.

    The dataset holds only the 2-D ``matrix`` and the window end positions; each batch is one
    ``tf.gather`` of ``(batch, window)`` row indices, so no ``(N, window, F)`` array ever exists.
    Shuffling permutes window ends with ``tf.random.experimental.index_shuffle`` (stateless,
    keyed by ``seed`` and a per-epoch key): a full reshuffle every epoch, repeatable across
    runs, in O(1) memory (a ``Dataset.shuffle`` buffer over 1M ends costs ~0.5 GB).
    With ``with_ends`` each element is ``(x, ends)`` so labels can be looked up.
    """
    import tensorflow as tf

    ends = np.asarray(ends, dtype=np.int64)
    if len(ends) and (ends.min() < window - 1 or ends.max() >= len(matrix)):
        raise DataError(f"window ends must lie in [{window - 1}, {len(matrix) - 1}], got [{ends.min()}, {ends.max()}]")
    values = tf.constant(np.ascontiguousarray(matrix, dtype=np.float32))
    end_positions = tf.constant(ends)
    offsets = tf.range(-window + 1, 1, dtype=tf.int64)
    n, n_features = len(ends), int(matrix.shape[1])
    if shuffle:  # a stateless permutation per iteration (epoch): no per-element shuffle buffer
        keys = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True).take(1)

        def permuted(key: Any) -> Any:
            perm_seed = tf.stack([tf.constant(seed, tf.int64), key])
            order = tf.data.Dataset.range(n).batch(batch_size)
            return order.map(lambda i: tf.random.experimental.index_shuffle(i, perm_seed, n - 1))

        n_batches = -(-n // batch_size)  # flat_map hides the length; Keras wants it for progress and epochs
        ds = keys.flat_map(permuted).apply(tf.data.experimental.assert_cardinality(n_batches))
    else:
        ds = tf.data.Dataset.range(n).batch(batch_size)

    def cut(rows: Any) -> Any:
        end = tf.gather(end_positions, rows)
        x = tf.ensure_shape(tf.gather(values, end[:, None] + offsets[None, :]), (None, window, n_features))
        return (x, end) if with_ends else x

    return ds.map(cut, num_parallel_calls=1, deterministic=True)


def balanced_class_weights(labels: np.ndarray, num_classes: int) -> np.ndarray:
    """``n / (k · count_c)`` per class (sklearn's "balanced"); unseen classes get weight 1."""
    counts = np.bincount(labels.astype(np.int64), minlength=num_classes).astype(np.float64)
    weights = np.ones(num_classes, dtype=np.float64)
    seen = counts > 0
    weights[seen] = counts.sum() / (seen.sum() * counts[seen])
    return weights.astype(np.float32)


class DataLoader:
    """tf.data window pipelines over a :class:`SplitData` (one dataset per split, cut on the fly).

    :param class_weighting: ``"balanced"`` → per-output sample weights for the two classifier
        heads on the train dataset (weights fitted on train labels); ``"none"`` → unweighted.
    """

    def __init__(
        self,
        data: SplitData,
        time_window: int = 30,
        batch_size: int = 32,
        shuffle: bool = True,
        seed: int = 0,
        class_weighting: str = "balanced",
    ) -> None:
        if class_weighting not in ("balanced", "none"):
            raise ConfigError(f"data_loader_params.class_weighting must be 'balanced' or 'none', got {class_weighting!r}")
        if time_window < 1 or batch_size < 1:
            raise ConfigError(f"time_window and batch_size must be >= 1, got {time_window} and {batch_size}")
        self.data = data
        self.time_window = int(time_window)
        self.batch_size = int(batch_size)
        self.shuffle = bool(shuffle)
        self.seed = int(seed)
        self.class_weighting = class_weighting
        for split in SPLITS:
            rows = len(data.frames[split])
            if rows < self.time_window:
                raise DataError(
                    f"{data.path}: the '{split}' split has {rows} rows, fewer than time_window={self.time_window}; "
                    "lower data_loader_params.time_window or use a longer history"
                )
        train = data.labels("train")
        self.class_weights = {
            SIGNAL_HEAD: balanced_class_weights(train[SIGNAL_HEAD], data.num_signal_classes),
            REGIME_HEAD: balanced_class_weights(train[REGIME_HEAD], data.num_regime_classes),
        }

    @property
    def input_shape(self) -> tuple[int, int]:
        return self.time_window, len(self.data.feature_names)

    def end_positions(self, split: str) -> np.ndarray:
        """Row position (within ``split``) of each window's last row, in dataset order when unshuffled."""
        return np.arange(self.time_window - 1, len(self.data.frames[split]), dtype=np.int64)

    def n_windows(self, split: str) -> int:
        return len(self.data.frames[split]) - self.time_window + 1

    def timestamps(self, split: str) -> pd.Index:
        """Timestamp of each window's last row (the bar its prediction belongs to)."""
        return self.data.frames[split].index[self.end_positions(split)]

    def window_labels(self, split: str) -> dict[str, np.ndarray]:
        """Per-head labels of each window (unshuffled order)."""
        ends = self.end_positions(split)
        return {head: values[ends] for head, values in self.data.labels(split).items()}

    def dataset(self, split: str, shuffle: bool | None = None, weighted: bool | None = None) -> Any:
        """``tf.data.Dataset`` of ``(x, {head: y}[, {head: sample_weight}])`` batches for ``split``.

        Shuffling and sample weights default to on for train only; val/test stay in time order.
        """
        import tensorflow as tf

        if split not in SPLITS:
            raise ConfigError(f"split must be one of {list(SPLITS)}, got {split!r}")
        shuffle = (self.shuffle and split == "train") if shuffle is None else shuffle
        weighted = (split == "train" and self.class_weighting == "balanced") if weighted is None else weighted
        labels = {head: tf.constant(v) for head, v in self.data.labels(split).items()}
        weights = {head: tf.constant(w) for head, w in self.class_weights.items()}
        ds = window_dataset(self.data.scaled(split), self.end_positions(split), self.time_window,
                            self.batch_size, shuffle=shuffle, seed=self.seed, with_ends=True)

        def attach(x: Any, end: Any) -> Any:
            y = {
                SIGNAL_HEAD: tf.gather(labels[SIGNAL_HEAD], end),
                VOLATILITY_HEAD: tf.expand_dims(tf.gather(labels[VOLATILITY_HEAD], end), -1),
                REGIME_HEAD: tf.gather(labels[REGIME_HEAD], end),
            }
            if not weighted:
                return x, y
            sw = {
                SIGNAL_HEAD: tf.gather(weights[SIGNAL_HEAD], y[SIGNAL_HEAD]),
                VOLATILITY_HEAD: tf.ones_like(y[VOLATILITY_HEAD][:, 0]),
                REGIME_HEAD: tf.gather(weights[REGIME_HEAD], y[REGIME_HEAD]),
            }
            return x, y, sw

        return ds.map(attach, num_parallel_calls=1, deterministic=True).prefetch(1)

    def features_dataset(self, split: str) -> Any:
        """Unlabelled, unshuffled windows of ``split`` (for ``model.predict``)."""
        return self.dataset(split, shuffle=False, weighted=False).map(lambda x, y: x)


def ensure_final_parquet(asset: str, data_dir: str | Path = "data/processed", build_if_missing: bool = False) -> Path:
    """The asset's parquet path; with ``build_if_missing`` an embedded asset is built there first."""
    path = final_parquet_path(asset, data_dir)
    if not path.is_file() and build_if_missing:
        from tradelab.data.build import build_processed

        build_processed(assets=[asset.upper()], out_dir=data_dir)
    if not path.is_file():
        _read_final(path)  # raises the DataError naming the path and `tradelab data build`
    return path
