"""Trade list of a backtest and the per-trade metrics (seed 003: win rate, average trade duration).

A trade is one round trip of one asset: it opens when the position leaves zero (or flips side) and
closes when it returns to zero (or flips). Resizing on the same side stays inside the trade. Fills
happen at the open of the bar after the decision (the env's timing). Costs of a bar are the env's
costs of that bar, shared among the assets filled on it by traded notional (exact for one asset)
and, on a flip, between the closing and the opening part by share count. A trade still open at the
end is marked at the last close (``status = "open"``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

__all__ = ["TRADE_COLUMNS", "trade_list", "trade_metrics"]

TRADE_COLUMNS = ("asset", "side", "entry_time", "exit_time", "entry_price", "exit_price", "size", "pnl",
                 "return_pct", "bars_held", "costs", "status")


class _Open:
    """One trade being built."""

    __slots__ = ("side", "entry_k", "qty_in", "value_in", "qty_out", "value_out", "cash", "costs", "size")

    def __init__(self, side: float, k: int) -> None:
        self.side, self.entry_k = side, k
        self.qty_in = self.value_in = self.qty_out = self.value_out = self.cash = self.costs = self.size = 0.0

    def fill(self, delta: float, price: float, cost: float) -> None:
        self.cash -= delta * price
        self.costs += cost
        if delta * self.side > 0:  # adds to the position
            self.qty_in += abs(delta)
            self.value_in += abs(delta) * price
        else:
            self.qty_out += abs(delta)
            self.value_out += abs(delta) * price


def trade_list(times: pd.DatetimeIndex, shares: np.ndarray, fill_price: np.ndarray, close: np.ndarray,
               bar_costs: np.ndarray, assets: list[str]) -> pd.DataFrame:
    """Round trips from a backtest's rows.

    :param times: timestamp of each row (row k ≥ 1: the bar whose open filled the decision of row k−1).
    :param shares: ``(K, A)`` shares held after each row's fill (row 0: before any decision).
    :param fill_price: ``(K, A)`` open price of each row's bar; ``close``: ``(K, A)`` its close.
    :param bar_costs: ``(K,)`` costs paid on each row's fill (all assets).
    """
    shares, fill_price, close = (np.asarray(x, dtype=np.float64).reshape(len(times), -1)
                                 for x in (shares, fill_price, close))
    costs = np.asarray(bar_costs, dtype=np.float64)
    traded = np.abs(np.diff(shares, axis=0, prepend=shares[:1])) * fill_price
    share_of_cost = np.divide(traded, traded.sum(1, keepdims=True), out=np.zeros_like(traded),
                              where=traded.sum(1, keepdims=True) > 0)
    rows: list[dict[str, Any]] = []
    for a, asset in enumerate(assets):
        trade: _Open | None = None
        for k in range(1, len(times)):
            old, new, price = shares[k - 1, a], shares[k, a], fill_price[k, a]
            if new == old:
                continue
            cost = costs[k] * share_of_cost[k, a]
            if trade is not None and (new == 0 or new * old < 0):  # close (the whole old position)
                part = abs(old) / (abs(old) + abs(new))
                trade.fill(-old, price, cost * part)
                rows.append(_row(trade, asset, times, k, 0.0, price, "closed"))
                trade, old, cost = None, 0.0, cost * (1 - part)
            if new != 0:
                if trade is None:
                    trade = _Open(float(np.sign(new)), k)
                trade.fill(new - old, price, cost)
                trade.size = max(trade.size, abs(new))
        if trade is not None:
            rows.append(_row(trade, asset, times, len(times) - 1, shares[-1, a], close[-1, a], "open"))
    frame = pd.DataFrame(rows, columns=list(TRADE_COLUMNS))
    return frame.sort_values(["entry_time", "asset"], kind="stable").reset_index(drop=True)


def _row(tr: _Open, asset: str, times: pd.DatetimeIndex, k: int, held: float, mark: float,
         status: str) -> dict[str, Any]:
    pnl = tr.cash + held * mark - tr.costs
    qty_out = tr.qty_out + abs(held)
    exit_price = (tr.value_out + abs(held) * mark) / qty_out if qty_out else mark
    return {"asset": asset, "side": "long" if tr.side > 0 else "short", "entry_time": times[tr.entry_k],
            "exit_time": times[k], "entry_price": tr.value_in / tr.qty_in, "exit_price": exit_price,
            "size": tr.size, "pnl": pnl, "return_pct": 100.0 * pnl / tr.value_in, "bars_held": int(k - tr.entry_k),
            "costs": tr.costs, "status": status}


def trade_metrics(trades: pd.DataFrame) -> dict[str, Any]:
    """Per-trade win rate, average/median bars held and profit factor (None when undefined)."""
    n = len(trades)
    if not n:
        return {"n_round_trips": 0, "trade_win_rate": None, "avg_trade_bars": None, "median_trade_bars": None,
                "trade_profit_factor": None, "avg_trade_pnl": None}
    pnl = trades["pnl"].to_numpy(dtype=np.float64)
    losses = float(-pnl[pnl < 0].sum())
    return {
        "n_round_trips": int(n),
        "trade_win_rate": float(np.mean(pnl > 0)),
        "avg_trade_bars": float(trades["bars_held"].mean()),
        "median_trade_bars": float(trades["bars_held"].median()),
        "trade_profit_factor": float(pnl[pnl > 0].sum()) / losses if losses > 0 else None,
        "avg_trade_pnl": float(pnl.mean()),
    }
