"""What an agent sees and what ``info`` reports, written once for every env.

Observation of bar t: the scaled features of bars t-window+1 .. t (a row of
:attr:`tradelab.envs.market.Market.windows`), then the account state at bar t's close:

* ``"single"`` layout (one asset; :class:`~tradelab.envs.trading_env.TradingEnvironment` and
  ``BatchedTradingVecEnv``): position (exposure), cash fraction, unrealised PnL, time in position;
* ``"portfolio"`` layout: per slot exposure, unrealised PnL, time in position and the slot mask
  (``4 × max_assets``), then the cash fraction.

:func:`state_features` and :func:`account_info` take Python floats (one env) or numpy arrays (rows of
a batch); their operations are IEEE-exact, so both give the same bits.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tradelab.envs.rewards import running_sharpe

__all__ = ["STATE_FEATURES", "state_features", "write_state", "n_state", "account_info", "INFO_KEYS"]

#: State columns of the single layout, in order.
STATE_FEATURES = ("position", "cash_fraction", "unrealised_pnl", "time_in_position")
#: Keys of every env's ``info`` dict.
INFO_KEYS = ("equity", "total_return", "sharpe_ratio", "max_drawdown", "n_trades", "costs_paid", "position",
             "shares", "cash", "bar")


def n_state(layout: str, n_slots: int) -> int:
    """Number of state columns after the feature window."""
    return len(STATE_FEATURES) if layout == "single" else 4 * n_slots + 1


def state_features(shares: Any, cash: Any, avg_price: Any, held: Any, equity: Any, close: Any, window: int,
                   maximum: Any = np.maximum) -> tuple[Any, Any, Any, Any]:
    """Exposure, cash fraction, unrealised PnL (fractions of equity) and time in position ``held/(held+window)``.

    ``maximum``: ``max`` for floats, ``np.maximum`` for arrays (equity is floored at 1e-9).
    """
    eq = maximum(equity, 1e-9)
    return shares * close / eq, cash / eq, shares * (close - avg_price) / eq, held / (held + window)


def write_state(out: np.ndarray, features: tuple[Any, Any, Any, Any], mask: np.ndarray | None = None) -> None:
    """Lay :func:`state_features` into the state columns ``out`` (last axis) of one or several observations.

    ``mask`` None: single layout, ``features`` are floats (``out`` 1-D) or ``(n,)`` arrays (``out`` 2-D);
    else portfolio layout, ``features`` are ``(n, slots)`` arrays and cash ``(n, 1)``.
    """
    if mask is None:
        (out if out.ndim == 1 else out.T)[...] = features  # column k ← features[k]
        return
    pos, cash, upnl, tip = features
    out[..., 0:-1:4] = pos
    out[..., 1:-1:4] = upnl
    out[..., 2:-1:4] = tip
    out[..., 3:-1:4] = mask
    out[..., -1:] = cash


def account_info(equity: float, sum_r: float, sum_r2: float, n_steps: float, max_dd: float, n_trades: float,
                 costs_paid: float, cash: float, shares: Any, close: Any, bar: int, initial_cash: float,
                 sqrt_periods: float) -> dict[str, Any]:
    """The ``info`` dict of one env: account metrics at bar ``bar``'s close.

    ``shares``/``close``: floats (single asset) or lists over the active slots (portfolio), as reported.
    """
    eq = max(equity, 1e-9)
    position = shares * close / eq if isinstance(shares, float) else [s * c / eq for s, c in zip(shares, close)]
    return {
        "equity": equity,
        "total_return": equity / initial_cash - 1.0,
        "sharpe_ratio": running_sharpe(sum_r, sum_r2, n_steps, sqrt_periods),
        "max_drawdown": max_dd,
        "n_trades": int(n_trades),
        "costs_paid": costs_paid,
        "position": position,
        "shares": shares,
        "cash": cash,
        "bar": bar,
    }
