"""Feature standardisation fitted on the train split only, saved as JSON (no pickle)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Self

import numpy as np
import pandas as pd

from tradelab.errors import DataError
from tradelab.utils import atomic_write_json, read_json

__all__ = ["FeatureScaler"]

FORMAT_VERSION = 1


@dataclass(frozen=True)
class FeatureScaler:
    """Per-column (x - train mean) / train std, then clipped to [-clip, clip]."""

    columns: list[str]
    """feature columns, in the order transform_array expects them"""
    mean: np.ndarray
    """train-split mean per column"""
    std: np.ndarray
    """train-split standard deviation per column (ddof=0; 1.0 where the column is constant)"""
    clip: float = 5.0
    """absolute bound applied after standardising"""
    n_train_rows: int = 0
    """rows the statistics were fitted on"""
    extra: dict[str, Any] = field(default_factory=dict)
    """free-form provenance (asset, split boundaries...)"""

    @classmethod
    def fit(cls, train_frame: pd.DataFrame, columns: list[str] | None = None, clip: float = 5.0) -> Self:
        """Fit on ``train_frame`` — pass the TRAIN rows only; NaN warm-up rows are ignored."""
        columns = list(train_frame.columns if columns is None else columns)
        missing = [c for c in columns if c not in train_frame.columns]
        if missing:
            raise DataError(f"FeatureScaler.fit: columns {missing} are not in the train frame. Fix: pass existing columns.")
        values = train_frame[columns].to_numpy(dtype="float64")
        rows = np.isfinite(values).all(axis=1)
        if not rows.any():
            raise DataError("FeatureScaler.fit: the train frame has no complete (finite) row. Fix: drop warm-up rows first.")
        mean = values[rows].mean(axis=0)
        std = values[rows].std(axis=0)
        std = np.where(std > 0, std, 1.0)
        return cls(columns=columns, mean=mean, std=std, clip=float(clip), n_train_rows=int(rows.sum()))

    def transform_array(self, values: np.ndarray) -> np.ndarray:
        """Scale a (rows x len(columns)) array; returns float32."""
        values = np.asarray(values, dtype="float64")
        if values.ndim != 2 or values.shape[1] != len(self.columns):
            raise DataError(
                f"FeatureScaler: expected an array with {len(self.columns)} columns, got shape {values.shape}. "
                "Fix: pass the features in scaler.columns order."
            )
        return np.clip((values - self.mean) / self.std, -self.clip, self.clip).astype("float32")

    def transform(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Scale the scaler's columns of ``frame`` (same index, columns in scaler order)."""
        missing = [c for c in self.columns if c not in frame.columns]
        if missing:
            raise DataError(f"FeatureScaler.transform: frame lacks columns {missing}. Fix: compute the same features.")
        scaled = self.transform_array(frame[self.columns].to_numpy())
        return pd.DataFrame(scaled, index=frame.index, columns=self.columns)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able representation (lists of floats)."""
        return {
            "format_version": FORMAT_VERSION,
            "columns": list(self.columns),
            "mean": [float(x) for x in self.mean],
            "std": [float(x) for x in self.std],
            "clip": self.clip,
            "n_train_rows": self.n_train_rows,
            "extra": dict(self.extra),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Self:
        """Rebuild from :meth:`to_dict` output; a malformed dict is a :class:`DataError`."""
        try:
            columns = list(data["columns"])
            mean = np.asarray(data["mean"], dtype="float64")
            std = np.asarray(data["std"], dtype="float64")
        except (KeyError, TypeError, ValueError) as exc:
            raise DataError(f"scaler dict is malformed ({exc!r}); expected keys columns/mean/std. Fix: re-fit it.") from exc
        if not (len(columns) == len(mean) == len(std)):
            raise DataError(f"scaler dict has {len(columns)} columns but {len(mean)} means / {len(std)} stds.")
        return cls(columns, mean, std, float(data.get("clip", 5.0)), int(data.get("n_train_rows", 0)),
                   dict(data.get("extra", {})))

    def save(self, path: str | Path) -> Path:
        """Write JSON atomically."""
        return atomic_write_json(path, self.to_dict())

    @classmethod
    def load(cls, path: str | Path) -> Self:
        """Read a scaler JSON written by :meth:`save`."""
        path = Path(path)
        if not path.is_file():
            raise DataError(f"scaler file not found: {path}. Fix: fit and save a FeatureScaler first.")
        try:
            data = read_json(path, "scaler JSON")
        except Exception as exc:
            raise DataError(str(exc)) from exc
        return cls.from_dict(data)
