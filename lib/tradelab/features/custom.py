"""Causal features that `ta` does not provide: pivots, N-bar extremes, rolling statistics,
autocorrelation, Hurst exponent, variance ratio and price action.

All are vectorised pandas/numpy over trailing windows, so the value at bar t depends only on
bars <= t. Windows are counted in bars: on hourly data "252 bars" is ~10 trading days, not a
year, so the names say ``_252`` rather than "52-week".
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["support_resistance", "statistical", "price_action", "hurst_exponent", "variance_ratio"]

EXTREME_WINDOW = 252
HURST_WINDOW = 100
HURST_LAGS = (2, 4, 8, 16)
VR_WINDOW = 100
VR_LAG = 5


def support_resistance(o: pd.Series, h: pd.Series, low: pd.Series, c: pd.Series) -> dict[str, pd.Series]:
    """Classic floor pivots from the previous bar, and the 252-bar high/low, relative to close."""
    ph, pl, pc = h.shift(1), low.shift(1), c.shift(1)
    pivot = (ph + pl + pc) / 3.0
    rng = ph - pl
    levels = {
        "pivot": pivot,
        "pivot_r1": 2 * pivot - pl,
        "pivot_r2": pivot + rng,
        "pivot_s1": 2 * pivot - ph,
        "pivot_s2": pivot - rng,
    }
    out = {f"{name}_rel": c / level - 1.0 for name, level in levels.items()}
    out[f"high_{EXTREME_WINDOW}_rel"] = c / h.rolling(EXTREME_WINDOW).max() - 1.0
    out[f"low_{EXTREME_WINDOW}_rel"] = c / low.rolling(EXTREME_WINDOW).min() - 1.0
    return out


def hurst_exponent(log_price: pd.Series, window: int = HURST_WINDOW, lags: tuple[int, ...] = HURST_LAGS) -> pd.Series:
    """Rolling Hurst exponent: slope of log std(lag-differences) on log lag (0.5 = random walk)."""
    x = np.log(np.asarray(lags, dtype="float64"))
    weights = (x - x.mean()) / ((x - x.mean()) ** 2).sum()  # least-squares slope as a weighted sum
    slope = pd.Series(0.0, index=log_price.index)
    for lag, w in zip(lags, weights):
        std = log_price.diff(lag).rolling(window).std()
        slope = slope + w * np.log(std.where(std > 0))
    return slope


def variance_ratio(log_ret: pd.Series, window: int = VR_WINDOW, lag: int = VR_LAG) -> pd.Series:
    """Lo-MacKinlay variance ratio Var(lag-bar returns) / (lag x Var(1-bar returns)), rolling."""
    multi = log_ret.rolling(lag).sum()
    return multi.rolling(window).var() / (lag * log_ret.rolling(window).var())


def statistical(c: pd.Series) -> dict[str, pd.Series]:
    """Rolling moments of log returns, z-score of price, autocorrelation, Hurst, variance ratio."""
    log_price = np.log(c)
    r = log_price.diff()
    mean20 = c.rolling(20).mean()
    return {
        "log_ret_1": r,
        "ret_mean_20": r.rolling(20).mean(),
        "ret_std_20": r.rolling(20).std(),
        "ret_std_60": r.rolling(60).std(),
        "ret_skew_60": r.rolling(60).skew(),
        "ret_kurt_60": r.rolling(60).kurt(),
        "zscore_20": (c - mean20) / c.rolling(20).std(),
        "autocorr_1_60": r.rolling(60).corr(r.shift(1)),
        f"hurst_{HURST_WINDOW}": hurst_exponent(log_price),
        f"variance_ratio_{VR_LAG}_{VR_WINDOW}": variance_ratio(r),
    }


def price_action(o: pd.Series, h: pd.Series, low: pd.Series, c: pd.Series) -> dict[str, pd.Series]:
    """Candle anatomy relative to close: body, shadows, gap, true range, range, close location."""
    prev_close = c.shift(1)
    true_range = np.maximum(h, prev_close) - np.minimum(low, prev_close)
    span = (h - low).where(h > low)
    return {
        "body_rel": (c - o) / c,
        "upper_shadow_rel": (h - np.maximum(o, c)) / c,
        "lower_shadow_rel": (np.minimum(o, c) - low) / c,
        "gap_rel": o / prev_close - 1.0,
        "true_range_rel": true_range / c,
        "range_rel": (h - low) / c,
        "close_location": (c - low) / span,
    }
