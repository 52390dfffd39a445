"""Baseline strategies as per-bar target exposures, run through the same env, bars and costs.

Each function returns one exposure per bar: the value at bar t is the decision made on bar t
(from closes up to t only) and is filled at bar t+1's open by the env, like any agent's action.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

__all__ = ["buy_and_hold", "flat", "sma_crossover", "random_positions", "BASELINES", "baseline_exposures"]


def buy_and_hold(data: pd.DataFrame, long_only: bool = False, seed: int = 0) -> np.ndarray:
    """Fully long from the first decision to the end."""
    return np.ones(len(data))


def flat(data: pd.DataFrame, long_only: bool = False, seed: int = 0) -> np.ndarray:
    """Always in cash."""
    return np.zeros(len(data))


def sma_crossover(data: pd.DataFrame, long_only: bool = False, seed: int = 0, fast: int = 20,
                  slow: int = 50) -> np.ndarray:
    """Long when SMA(fast) of closes > SMA(slow), else short (flat if ``long_only``); flat in warm-up."""
    close = data["close"].astype("float64")
    fast_ma = close.rolling(fast, min_periods=fast).mean().to_numpy()
    slow_ma = close.rolling(slow, min_periods=slow).mean().to_numpy()
    ready = ~np.isnan(slow_ma)
    down = 0.0 if long_only else -1.0
    return np.where(ready, np.where(fast_ma > slow_ma, 1.0, down), 0.0)


def random_positions(data: pd.DataFrame, long_only: bool = False, seed: int = 0,
                     p_change: float = 0.05) -> np.ndarray:
    """Seeded random exposure in {-1, 0, 1} ({0, 1} if long-only), redrawn with probability ``p_change`` per bar."""
    rng = np.random.default_rng(seed)
    choices = np.array([0.0, 1.0]) if long_only else np.array([-1.0, 0.0, 1.0])
    draws = rng.choice(choices, size=len(data))
    change = rng.random(len(data)) < p_change
    change[0] = True
    last = np.maximum.accumulate(np.where(change, np.arange(len(data)), 0))
    return draws[last]


BASELINES: dict[str, Callable[..., np.ndarray]] = {
    "buy_and_hold": buy_and_hold,
    "flat": flat,
    "sma_crossover": sma_crossover,
    "random": random_positions,
}


def baseline_exposures(data: pd.DataFrame, long_only: bool = False, seed: int = 0) -> dict[str, np.ndarray]:
    """Exposure arrays of every baseline on ``data``."""
    return {name: fn(data, long_only=long_only, seed=seed) for name, fn in BASELINES.items()}
