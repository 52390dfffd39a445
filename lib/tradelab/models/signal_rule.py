"""Trading on a classifier's signal head: a causal sign rule run through the project's env and costs.

The window ending on bar t sees bars <= t only; its exposure ``sign(P(buy) - P(sell))`` is decided
at t and filled at t+1's open by :func:`tradelab.evaluation.backtest.backtest` (same env, fills and
cost model as every RL learner and the planted markets' references), so the Sharpe ratios compare.
Bars before the first full window are flat.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from tradelab.data.validate import OHLCV_COLUMNS

__all__ = ["sign_exposure", "split_exposure", "trade_split", "trading_report"]

_SELL, _BUY = 0, 2


def sign_exposure(probabilities: np.ndarray) -> np.ndarray:
    """``sign(P(buy) - P(sell))`` per window: long, short or flat (exact tie)."""
    p = np.asarray(probabilities, dtype=np.float64)
    return np.sign(p[:, _BUY] - p[:, _SELL])


def split_exposure(probabilities: np.ndarray, n_rows: int, time_window: int) -> np.ndarray:
    """Per-bar exposure for a split of ``n_rows`` bars: flat until the first window ends, then the rule."""
    out = np.zeros(int(n_rows), dtype=np.float64)
    expo = sign_exposure(probabilities)
    if len(expo) != n_rows - time_window + 1:
        raise ValueError(f"{len(expo)} window predictions for {n_rows} rows and time_window {time_window}")
    out[time_window - 1:] = expo
    return out


def trade_split(probabilities: np.ndarray, frame: pd.DataFrame, time_window: int, cost_multiplier: float = 1.0,
                name: str = "sign_rule", n_boot: int = 200) -> Any:
    """Backtest the sign rule over one split's bars (``frame`` holds OHLCV) at ``cost_multiplier``."""
    from tradelab.envs.config import TradingEnvConfig
    from tradelab.evaluation.backtest import backtest

    bars = frame[list(OHLCV_COLUMNS)]
    expo = split_exposure(probabilities, len(bars), time_window)
    return backtest(expo, bars, None, TradingEnvConfig(), cost_multiplier, name, n_boot=n_boot)


def _summary(metrics: dict[str, Any]) -> dict[str, float]:
    keys = ("sharpe_ratio", "sharpe_ci_low", "sharpe_ci_high", "total_return", "max_drawdown", "n_trades", "costs_paid")
    return {k: float(metrics[k]) for k in keys if k in metrics}


def trading_report(probabilities: dict[str, np.ndarray], frame: pd.DataFrame, time_window: int,
                   cost_multiplier: float = 1.0) -> dict[str, dict[str, float]]:
    """Sign rule of each named model beside buy-and-hold and flat on one split's bars (1x costs by default).

    :param probabilities: model name → ``(n_windows, 3)`` signal probabilities on ``frame``'s windows.
    """
    from tradelab.envs.config import TradingEnvConfig
    from tradelab.evaluation.backtest import backtest

    bars = frame[list(OHLCV_COLUMNS)]
    out = {name: _summary(trade_split(p, frame, time_window, cost_multiplier, name).metrics)
           for name, p in probabilities.items()}
    for name, expo in (("buy_and_hold", np.ones(len(bars))), ("flat", np.zeros(len(bars)))):
        out[name] = _summary(backtest(expo, bars, None, TradingEnvConfig(), cost_multiplier, name, n_boot=200).metrics)
    return out
