"""Seeded synthetic OHLCV for unit tests only (demos and notebooks use embedded real data)."""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["regime_switching_gbm"]


def regime_switching_gbm(
    n_bars: int = 2000,
    seed: int = 0,
    start: str = "2010-01-04",
    freq: str = "B",
    s0: float = 100.0,
    mus: tuple[float, ...] = (0.0006, -0.0008, 0.0001),
    sigmas: tuple[float, ...] = (0.008, 0.02, 0.012),
    p_stay: float = 0.98,
    return_regimes: bool = False,
) -> pd.DataFrame | tuple[pd.DataFrame, np.ndarray]:
    """A canonical OHLCV frame from a Markov-switching geometric Brownian motion.

    Each bar: open = previous close × small gap, close from the regime's drift/vol, high/low
    bracketing open and close, volume log-normal and higher in the volatile regime.
    """
    rng = np.random.default_rng(seed)
    k = len(mus)
    regimes = np.empty(n_bars, dtype=np.int64)
    state = 0
    for i in range(n_bars):
        if rng.random() > p_stay:
            state = int(rng.integers(k))
        regimes[i] = state
    mu = np.asarray(mus)[regimes]
    sig = np.asarray(sigmas)[regimes]
    log_ret = mu - 0.5 * sig**2 + sig * rng.standard_normal(n_bars)
    close = s0 * np.exp(np.cumsum(log_ret))
    gap = np.exp(0.2 * sig * rng.standard_normal(n_bars))
    open_ = np.concatenate([[s0], close[:-1]]) * gap
    spread_hi = np.abs(rng.standard_normal(n_bars)) * sig * 0.6
    spread_lo = np.abs(rng.standard_normal(n_bars)) * sig * 0.6
    high = np.maximum(open_, close) * np.exp(spread_hi)
    low = np.minimum(open_, close) * np.exp(-spread_lo)
    volume = np.exp(rng.normal(13.0, 0.4, n_bars)) * (1.0 + 2.0 * (regimes == 1))
    index = pd.date_range(start=start, periods=n_bars, freq=freq, tz="UTC", name="timestamp")
    frame = pd.DataFrame(
        {"open": open_, "high": high, "low": low, "close": close, "volume": volume.round()},
        index=index,
        dtype="float64",
    )
    return (frame, regimes) if return_regimes else frame
