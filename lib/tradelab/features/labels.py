"""Supervised targets: 3-class signal, forward realised volatility, volatility regime.

* ``label_signal``: forward log return over ``horizon`` bars against a volatility-scaled
  threshold ``k * sigma_t * sqrt(horizon)`` (sigma_t: trailing std of 1-bar log returns,
  causal): 0 sell (below -threshold), 1 hold, 2 buy (above +threshold).
* ``label_volatility``: forward realised volatility, sqrt(sum of squared 1-bar log returns
  over bars t+1..t+horizon) (not annualised).
* ``label_regime``: ``label_volatility`` bucketed by quantile thresholds fitted on the TRAIN
  split only (0 calm ... n_regimes-1 turbulent).

The last ``horizon`` rows have no future: signal/regime are -1 and volatility is NaN there.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Self

import numpy as np
import pandas as pd

from tradelab.config import ConfigBase
from tradelab.errors import ConfigError, DataError

__all__ = ["LabelSpec", "fit_label_spec", "make_labels", "LABEL_COLUMNS"]

LABEL_COLUMNS = ("label_signal", "label_volatility", "label_regime")


@dataclass(frozen=True)
class LabelSpec(ConfigBase):
    """How labels are made; regime thresholds are fitted on the train split."""

    horizon: int = 5
    """bars the labels look forward"""
    threshold_k: float = 0.5
    """signal threshold in units of sigma_t * sqrt(horizon)"""
    thresholds: tuple[float, ...] = (-0.5, 0.5)
    """(sell, buy) thresholds in the same units (= -k, +k)"""
    vol_window: int = 20
    """trailing bars for sigma_t"""
    n_regimes: int = 3
    """number of volatility regimes"""
    regime_thresholds: tuple[float, ...] = ()
    """n_regimes - 1 increasing forward-volatility cut points, fitted on train"""

    def validate(self) -> None:
        if self.horizon < 1:
            raise ConfigError(f"LabelSpec.horizon must be >= 1, got {self.horizon}")
        if self.n_regimes < 2:
            raise ConfigError(f"LabelSpec.n_regimes must be >= 2, got {self.n_regimes}")
        if tuple(self.thresholds) != (-self.threshold_k, self.threshold_k):
            raise ConfigError(
                f"LabelSpec.thresholds {tuple(self.thresholds)} disagree with threshold_k={self.threshold_k}; "
                f"they must be (-k, +k): set both, or build the spec with fit_label_spec"
            )
        if self.regime_thresholds and len(self.regime_thresholds) != self.n_regimes - 1:
            raise ConfigError(
                f"LabelSpec.regime_thresholds needs {self.n_regimes - 1} values, got {len(self.regime_thresholds)}"
            )

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Self:
        return cls.from_dict(data, "label spec")


def _forward(close: pd.Series, horizon: int, vol_window: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    log_c = np.log(close.to_numpy(dtype="float64"))
    r = np.diff(log_c, prepend=np.nan)
    fwd_ret = np.full(len(log_c), np.nan)
    fwd_ret[:-horizon] = log_c[horizon:] - log_c[:-horizon]
    sq = pd.Series(r**2)
    fwd_vol = np.sqrt(sq.rolling(horizon).sum().shift(-horizon).to_numpy())  # bars t+1..t+h
    sigma = pd.Series(r).rolling(vol_window).std().to_numpy()
    return fwd_ret, fwd_vol, sigma


def fit_label_spec(train_ohlcv: pd.DataFrame, horizon: int = 5, threshold_k: float = 0.5,
                   vol_window: int = 20, n_regimes: int = 3) -> LabelSpec:
    """Fit regime thresholds (quantiles of forward volatility) on TRAIN rows only."""
    spec = LabelSpec(horizon, threshold_k, (-threshold_k, threshold_k), vol_window, n_regimes)
    spec.validate()
    _, fwd_vol, _ = _forward(train_ohlcv["close"], horizon, vol_window)
    vol = fwd_vol[np.isfinite(fwd_vol)]
    if len(vol) < 10 * n_regimes:
        raise DataError(
            f"fit_label_spec: only {len(vol)} train rows with a full {horizon}-bar future; "
            f"need >= {10 * n_regimes}. Fix: use a longer train split or a shorter horizon."
        )
    cuts = np.quantile(vol, np.arange(1, n_regimes) / n_regimes)
    return LabelSpec(horizon, threshold_k, (-threshold_k, threshold_k), vol_window, n_regimes,
                     tuple(float(x) for x in cuts))


def make_labels(ohlcv: pd.DataFrame, spec: LabelSpec) -> pd.DataFrame:
    """Labels for every row of ``ohlcv`` (same index); -1/NaN where the future is unknown."""
    if not spec.regime_thresholds:
        raise ConfigError("make_labels: spec has no regime_thresholds. Fix: build it with fit_label_spec(train).")
    fwd_ret, fwd_vol, sigma = _forward(ohlcv["close"], spec.horizon, spec.vol_window)
    scaled = fwd_ret / (sigma * np.sqrt(spec.horizon))
    known = np.isfinite(fwd_ret) & np.isfinite(sigma) & (sigma > 0)
    signal = np.where(scaled < spec.thresholds[0], 0, np.where(scaled > spec.thresholds[1], 2, 1))
    regime = np.searchsorted(np.asarray(spec.regime_thresholds), fwd_vol, side="right")
    return pd.DataFrame(
        {
            "label_signal": np.where(known, signal, -1).astype("int64"),
            "label_volatility": np.where(np.isfinite(fwd_vol), fwd_vol, np.nan),
            "label_regime": np.where(np.isfinite(fwd_vol), regime, -1).astype("int64"),
        },
        index=ohlcv.index,
    )
