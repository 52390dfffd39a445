"""Market arrays precomputed once per env: prices, causal ATR, dollar volume, days, feature windows.

Everything the hot path reads is a numpy array (or a list of floats for the scalar env) built
here, so ``step()`` never touches pandas. Observation windows are a strided view over the
zero-padded feature matrix: row ``t`` of :attr:`Market.windows` is bars ``t-window+1 .. t``
flattened (bars before the first one are zeros).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from tradelab.data.calendar import periods_per_year
from tradelab.data.validate import OHLCV_COLUMNS
from tradelab.envs.costs import impact_applies, inverse_dollar_volume, wilder_atr
from tradelab.errors import ConfigError, DataError

__all__ = ["Market", "build_market", "check_frame", "feature_array", "history_array", "draw_episode",
           "check_trainable"]



def check_frame(data: Any, name: str) -> pd.DataFrame:
    """Validate one OHLCV frame (DatetimeIndex, columns, positive finite prices)."""
    if not isinstance(data, pd.DataFrame):
        raise DataError(f"{name}: expected a pandas DataFrame of OHLCV bars, got {type(data).__name__}")
    missing = [c for c in OHLCV_COLUMNS if c not in data.columns]
    if missing:
        raise DataError(f"{name}: missing column(s) {missing}; the env needs {list(OHLCV_COLUMNS)} "
                        "(load data with tradelab.data.load_asset / load_file)")
    if not isinstance(data.index, pd.DatetimeIndex):
        raise DataError(f"{name}: the index must be a DatetimeIndex of bar timestamps, got {type(data.index).__name__}")
    if not data.index.is_monotonic_increasing or data.index.has_duplicates:
        raise DataError(f"{name}: timestamps must be sorted and unique; sort and drop duplicates first")
    prices = data[["open", "high", "low", "close"]].to_numpy(dtype=np.float64)
    if not np.isfinite(prices).all() or (prices <= 0).any():
        row = int(np.argmax(~np.isfinite(prices).all(1) | (prices <= 0).any(1)))
        raise DataError(f"{name}: non-positive or NaN price at row {row} ({data.index[row]}); clean the data "
                        "(tradelab.data.validate_ohlcv) before building an env")
    if len(data) < 3:
        raise DataError(f"{name}: need at least 3 bars, got {len(data)}")
    return data


def feature_array(features: Any, data: pd.DataFrame, name: str) -> np.ndarray:
    """Scaled features as float32 ``(T, F)``, row-aligned with ``data`` (checked)."""
    if isinstance(features, pd.DataFrame):
        if len(features) == len(data) and not features.index.equals(data.index):
            raise DataError(f"{name}: feature index differs from the OHLCV index; align them (same rows) first")
        features = features.to_numpy(dtype=np.float32)
    arr = np.asarray(features, dtype=np.float32)
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2 or arr.shape[0] != len(data):
        raise DataError(f"{name}: features must have one row per bar ({len(data)} rows), got shape {arr.shape}")
    if not np.isfinite(arr).all():
        row = int(np.argmax(~np.isfinite(arr).all(1)))
        raise DataError(f"{name}: NaN/inf in features at row {row}; drop the warm-up rows (and the same OHLCV "
                        "rows) or fill them before building the env")
    return arr


def history_array(history: Any, n_features: int, name: str) -> np.ndarray:
    """Scaled feature rows before the data (float32 ``(H, F)``), checked for width and NaN."""
    arr = np.asarray(history.to_numpy(dtype=np.float32) if isinstance(history, pd.DataFrame) else history,
                     dtype=np.float32)
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2 or arr.shape[1] != n_features:
        raise DataError(f"{name}: expected rows of {n_features} scaled features (the same columns as the "
                        f"features), got shape {arr.shape}")
    if not np.isfinite(arr).all():
        raise DataError(f"{name}: NaN/inf in the history rows; pass fewer rows (only complete ones)")
    return arr


@dataclass
class Market:
    """Aligned arrays for ``n_assets`` slots (unused slots: price 1, no features)."""

    index: pd.DatetimeIndex
    open: np.ndarray  # (T, A) float64
    close: np.ndarray  # (T, A)
    atr_ratio: np.ndarray  # (T, A) ATR/close at the bar
    inv_dv: np.ndarray  # (T, A) 1/(close*volume), 0 without volume
    day: np.ndarray  # (T,) int64 trading-day ordinal
    windows: np.ndarray  # (T, window*A*F) float32 strided view
    n_features: int
    n_active: int
    intraday: bool
    periods_per_year: float
    impact: list[str] | None = None  # per active slot: "on (why)" / "off (why)"

    @property
    def n_bars(self) -> int:
        return len(self.index)


def _day_ordinal(index: pd.DatetimeIndex) -> np.ndarray:
    days = np.asarray(index.normalize().asi8)
    return np.concatenate([[0], np.cumsum(days[1:] != days[:-1])]).astype(np.int64)


def build_market(frames: list[pd.DataFrame], feats: list[np.ndarray], window: int, n_slots: int,
                 atr_window: int, impact: str = "auto", names: list[str] | None = None,
                 history: list[np.ndarray | None] | None = None) -> Market:
    """Stack aligned assets into slot arrays; frames must share one index and one feature width.

    ``impact`` (costs.impact) decides per asset whether square-root impact is charged (its dollar
    volume is zeroed otherwise). ``history``: per asset, scaled feature rows of the bars just BEFORE
    ``frames`` (e.g. the purge gap before a validation split); the first windows take their rows from
    it instead of zeros.
    """
    if not frames:
        raise ConfigError("no assets given: pass at least one OHLCV frame")
    if len(frames) > n_slots:
        raise ConfigError(f"{len(frames)} assets but max_assets = {n_slots}; raise max_assets in the env config")
    index = frames[0].index
    widths = {f.shape[1] for f in feats}
    if len(widths) != 1:
        raise DataError(f"every asset needs the same feature columns; got widths {sorted(widths)}")
    for i, frame in enumerate(frames[1:], start=1):
        if not frame.index.equals(index):
            raise DataError(f"asset #{i} has different timestamps from asset #0; align the assets on common "
                            "timestamps first (e.g. frames = [f.loc[common] for f in frames])")
    n_bars, n_feat = len(index), widths.pop()
    shape = (n_bars, n_slots)
    open_, close, atr_ratio, inv_dv = np.ones(shape), np.ones(shape), np.zeros(shape), np.zeros(shape)
    padded = np.zeros((n_bars + window - 1, n_slots, n_feat), dtype=np.float32)
    impact_notes = []
    for i, (frame, feat) in enumerate(zip(frames, feats)):
        open_[:, i] = frame["open"].to_numpy(np.float64)
        close[:, i] = frame["close"].to_numpy(np.float64)
        atr = wilder_atr(frame["high"].to_numpy(), frame["low"].to_numpy(), close[:, i], atr_window)
        atr_ratio[:, i] = atr / close[:, i]
        charged, why = impact_applies(impact, frame, names[i] if names else None)
        impact_notes.append(f"{'on' if charged else 'off'} ({why})")
        if charged:
            inv_dv[:, i] = inverse_dollar_volume(close[:, i], frame["volume"].to_numpy(np.float64))
        padded[window - 1:, i, :] = feat
        past = None if history is None else history[i]
        if past is not None and window > 1:
            past = np.asarray(past, dtype=np.float32).reshape(-1, n_feat)[-(window - 1):]
            padded[window - 1 - len(past): window - 1, i, :] = past
    flat = padded.reshape(n_bars + window - 1, n_slots * n_feat)
    row = n_slots * n_feat
    windows = np.lib.stride_tricks.as_strided(flat, shape=(n_bars, window * row),
                                              strides=(row * 4, 4), writeable=False)
    day = _day_ordinal(index)
    intraday = bool((np.diff(day) == 0).any())
    return Market(index, open_, close, atr_ratio, inv_dv, day, windows, n_feat, len(frames), intraday,
                  periods_per_year(index), impact_notes)


def draw_episode(rng: np.random.Generator, lengths: tuple[int, ...], n_bars: int, window: int,
                 eval_mode: bool) -> tuple[int, int]:
    """``(start, end)`` decision indices of an episode: decisions at ``start .. end-1``, fills up to ``end``.

    Evaluation runs the whole split from bar 0 (the first windows are zero-padded); training draws
    one of ``lengths`` and a start with a full feature window. Singles and the batched VecEnv call
    this with the same generator calls, so seeded episodes coincide.
    """
    if eval_mode:
        return 0, n_bars - 1
    # integers(1) draws nothing from the generator (always 0): skipping it keeps the stream identical
    pick = int(rng.integers(len(lengths))) if len(lengths) > 1 else 0
    length = min(int(lengths[pick]), n_bars - window)
    start = int(rng.integers(window - 1, n_bars - 1 - length + 1))
    return start, start + length


def check_trainable(n_bars: int, window: int, name: str) -> None:
    """Training needs a full window and one fill: at least ``window + 1`` bars."""
    if n_bars < window + 1:
        raise ConfigError(f"{name}: {n_bars} bars are too few for window = {window}; need at least "
                          f"{window + 1} (lower TradingEnvConfig.window or use a longer split)")
