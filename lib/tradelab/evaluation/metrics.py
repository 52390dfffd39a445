"""Performance metrics of an equity curve, annualised by the bar frequency.

Conventions (one place for all of tradelab):

* periods per year from :func:`tradelab.data.calendar.periods_per_year` on the curve's timestamps:
  daily bars 252; intraday bars = measured bars per calendar day × 252 (weekday-only series, e.g.
  FX hourly ≈ 24 × 252) or × 365 (series that trade at weekends); weekly 52; monthly 12;
* returns are simple per-bar returns of equity; ``annual_return`` is geometric
  ``(1 + total)^(periods_per_year / n_bars) − 1``;
* ``sharpe_ratio`` = mean / std (ddof 1) × sqrt(periods_per_year), risk-free rate 0;
  ``sortino_ratio`` uses the downside deviation sqrt(mean(min(r, 0)²));
* ``max_drawdown`` is a positive fraction of the running peak; ``calmar`` = annual_return / max_drawdown;
* ``bar_win_rate_in_market`` = share of BARS in the market (non-zero position) with a positive return;
  ``bar_profit_factor`` = sum of gains / |sum of losses| over the same bars (None when undefined);
* per trade (round trip, from :mod:`tradelab.evaluation.trades` when the backtest passes its trade
  list): ``trade_win_rate``, ``avg_trade_bars``, ``median_trade_bars``, ``trade_profit_factor``
  (gross winning PnL / gross losing PnL), ``n_round_trips``, ``avg_trade_pnl``;
* ``exposure`` = share of bars holding a position; ``turnover`` = sum of |Δ exposure| per year
  (1.0 = the whole equity traded once a year);
* ``sharpe_ci_low/high``: 95 % iid bootstrap interval of the Sharpe ratio (seeded).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from tradelab.data.calendar import periods_per_year
from tradelab.errors import DataError

__all__ = ["compute_metrics", "sharpe_ratio", "max_drawdown", "bootstrap_sharpe_ci", "annualisation"]


def annualisation(index: pd.DatetimeIndex) -> float:
    """Bars per year of ``index`` (see the module docstring); 252 when it is too short to infer."""
    return periods_per_year(index) if len(index) >= 3 else 252.0


def sharpe_ratio(returns: np.ndarray, periods: float) -> float:
    """Annualised Sharpe ratio (0 when the returns have no spread)."""
    r = np.asarray(returns, dtype=np.float64)
    if len(r) < 2:
        return 0.0
    std = r.std(ddof=1)
    return float(r.mean() / std * math.sqrt(periods)) if std > 1e-15 else 0.0


def max_drawdown(equity: np.ndarray) -> float:
    """Largest fall from a running peak, as a positive fraction."""
    eq = np.asarray(equity, dtype=np.float64)
    peak = np.maximum.accumulate(eq)
    return float(np.max(1.0 - eq / peak)) if len(eq) else 0.0


def bootstrap_sharpe_ci(returns: np.ndarray, periods: float, n_boot: int = 1000, level: float = 0.95,
                        seed: int = 0) -> tuple[float, float]:
    """Percentile bootstrap (iid resampling of bar returns) interval of the annualised Sharpe."""
    r = np.asarray(returns, dtype=np.float64)
    if len(r) < 3 or r.std() < 1e-15:
        s = sharpe_ratio(r, periods)
        return s, s
    rng = np.random.default_rng(seed)
    chunk = max(1, int(4_000_000 // len(r)))
    stats = []
    for start in range(0, n_boot, chunk):
        sample = r[rng.integers(0, len(r), size=(min(chunk, n_boot - start), len(r)))]
        std = sample.std(axis=1, ddof=1)
        stats.append(np.divide(sample.mean(axis=1), std, out=np.zeros_like(std), where=std > 1e-15))
    sharpe = np.concatenate(stats) * math.sqrt(periods)
    alpha = (1.0 - level) / 2.0
    return float(np.quantile(sharpe, alpha)), float(np.quantile(sharpe, 1.0 - alpha))


def _holding(pos: np.ndarray) -> tuple[int, float]:
    """(number of position entries, average bars held per entry)."""
    sign = np.sign(pos)
    prev = np.concatenate([[0.0], sign[:-1]])
    entries = int(np.sum((sign != 0) & (sign != prev)))
    return entries, float(np.sum(sign != 0) / entries) if entries else 0.0


def compute_metrics(equity: pd.Series, positions: pd.Series | None = None, trades: int | None = None,
                    costs: float | None = None, n_boot: int = 1000, seed: int = 0,
                    trade_table: pd.DataFrame | None = None) -> dict[str, Any]:
    """All headline metrics of one equity curve (see the module docstring for conventions).

    :param equity: account equity per bar (DatetimeIndex).
    :param positions: exposure per bar (fraction of equity, signed), same index; None → unknown.
    :param trades: number of fills (the env's count); None → number of exposure changes.
    :param costs: total costs paid in account currency.
    :param trade_table: the backtest's round trips (:func:`tradelab.evaluation.trades.trade_list`) → per-trade metrics.
    """
    if not isinstance(equity, pd.Series) or len(equity) < 2:
        raise DataError("compute_metrics: equity must be a pandas Series with at least 2 bars")
    eq = equity.to_numpy(dtype=np.float64)
    if not np.isfinite(eq).all() or (eq[0] <= 0):
        raise DataError("compute_metrics: equity must be finite and start positive")
    periods = annualisation(pd.DatetimeIndex(equity.index))
    rets = eq[1:] / eq[:-1] - 1.0
    n = len(rets)
    total = float(eq[-1] / eq[0] - 1.0)
    annual = float(math.copysign(abs(1.0 + total) ** (periods / n), 1.0 + total) - 1.0)
    down = math.sqrt(float(np.mean(np.minimum(rets, 0.0) ** 2)))
    mdd = max_drawdown(eq)
    entries, avg_hold, turnover, exposure = 0, 0.0, None, None
    if positions is None:
        in_market = rets[rets != 0]
    else:
        pos = np.asarray(positions, dtype=np.float64)
        if len(pos) != len(eq):
            raise DataError(f"compute_metrics: positions has {len(pos)} rows but equity {len(eq)}; pass the same bars")
        # a bar's return is earned by the position held into it (before or after its open fill)
        in_market = rets[(pos[1:] != 0) | (pos[:-1] != 0)]
        entries, avg_hold = _holding(pos)
        turnover = float(np.abs(np.diff(pos)).sum() / (n / periods))
        exposure = float(np.mean(pos != 0))
    gains, losses = float(in_market[in_market > 0].sum()), float(-in_market[in_market < 0].sum())
    low, high = bootstrap_sharpe_ci(rets, periods, n_boot=n_boot, seed=seed)
    out = {
        "total_return": total,
        "annual_return": annual,
        "sharpe_ratio": sharpe_ratio(rets, periods),
        "sortino_ratio": float(rets.mean() / down * math.sqrt(periods)) if down > 1e-15 else 0.0,
        "max_drawdown": mdd,
        "calmar": annual / mdd if mdd > 1e-15 else 0.0,
        "bar_win_rate_in_market": float(np.mean(in_market > 0)) if len(in_market) else 0.0,
        "bar_profit_factor": gains / losses if losses > 0 else None,
        "exposure": exposure,
        "turnover": turnover,
        "n_trades": int(trades) if trades is not None else entries,
        "avg_holding_bars": avg_hold,
        "costs_paid": float(costs) if costs is not None else 0.0,
        "sharpe_ci_low": low,
        "sharpe_ci_high": high,
        "n_bars": int(len(eq)),
        "periods_per_year": periods,
    }
    if trade_table is not None:
        from tradelab.evaluation.trades import trade_metrics

        out.update(trade_metrics(trade_table))
    return out
