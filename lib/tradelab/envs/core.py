"""One account transition shared by every env: fills at the next open, costs, gates, marking.

The same functions run on Python floats (the single-asset env: fast, ~µs per step) and on numpy
arrays shaped ``(n_envs, n_assets)`` / ``(n_envs, 1)`` (portfolio env and the batched VecEnvs).
An ``Ops`` bundle supplies the few operations that differ (``where``, ``sqrt``, sums over assets).
Only IEEE-exact operations (+ − × ÷ sqrt, comparisons) enter the account state, so the scalar and
the array paths give bit-identical equity curves. The batched envs step with
:class:`tradelab.envs.inplace.InplaceTransition`, the same operations on preallocated buffers
(tested bit-identical to :func:`transition` on arrays).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from tradelab.envs.config import TradingEnvConfig
from tradelab.envs.costs import PDT_WINDOW_DAYS, CostParams, order_costs
from tradelab.envs.rewards import RewardParams, step_reward

__all__ = ["Ops", "SCALAR_OPS", "ARRAY_OPS", "ARRAY_OPS_1", "Account", "CoreParams", "transition", "limit_targets",
           "NO_DAY"]

NO_DAY = -(10**9)  # day stamp of an empty PDT slot


@dataclass(frozen=True)
class Ops:
    """Operations that differ between floats and arrays."""

    where: Any
    maximum: Any
    minimum: Any
    absolute: Any
    sqrt: Any
    log: Any
    lnot: Any
    asum: Any  # sum over the asset axis, keeping it
    acumsum: Any
    array: bool


def _scalar_where(cond: Any, a: Any, b: Any) -> Any:
    return a if cond else b


SCALAR_OPS = Ops(_scalar_where, max, min, abs, math.sqrt, math.log, lambda x: not x, lambda x: x, lambda x: x,
                 False)
ARRAY_OPS = Ops(np.where, np.maximum, np.minimum, np.abs, np.sqrt, np.log, np.logical_not,
                lambda x: x.sum(-1, keepdims=True), lambda x: np.cumsum(x, -1), True)
# one asset slot: the asset axis has length 1, so its sum is the value itself (exact, fewer ops)
ARRAY_OPS_1 = Ops(np.where, np.maximum, np.minimum, np.abs, np.sqrt, np.log, np.logical_not,
                  lambda x: x, lambda x: x, True)


@dataclass(frozen=True)
class CoreParams:
    """Hot-path constants derived from a :class:`TradingEnvConfig` and the data."""

    costs: CostParams
    reward: RewardParams
    min_trade_fraction: float
    min_hold: float
    pdt_on: bool  # FINRA PDT enabled AND the data has several bars per day
    max_day_trades: int
    pdt_threshold: float
    initial_cash: float
    daily_cap_on: bool = False  # pdt_mode 'daily_cap': at most max_trades_per_day fills a day
    max_trades_per_day: int = 4
    max_pos: float = 1.0  # |target weight| cap per asset
    buy_cap: float = 0.0  # |position change| per step as a fraction of equity; 0 = no cap
    reward_scale: float = 1.0

    @classmethod
    def build(cls, cfg: TradingEnvConfig, periods_per_year: float, intraday: bool) -> CoreParams:
        c = cfg.costs
        finra = c.pdt_mode == "finra"
        return cls(CostParams.from_config(c), RewardParams.build(cfg.reward, periods_per_year),
                   cfg.min_trade_fraction, float(c.min_holding_bars), bool(c.pdt_enabled and intraday and finra),
                   c.max_day_trades, c.pdt_equity_threshold, cfg.initial_cash,
                   bool(c.pdt_enabled and not finra), c.max_trades_per_day, float(cfg.max_position_pct),
                   float(cfg.buy_pct or 0.0), float(cfg.reward_scaling))


class Account:
    """Mutable account state; fields are floats (single env) or arrays (batched)."""

    __slots__ = ("cash", "shares", "avg_price", "held", "open_day", "equity", "peak", "max_dd", "n_trades",
                 "costs_paid", "sum_r", "sum_r2", "n_steps", "pdt_count", "pdt_day", "day_fills", "fills_day")

    def __init__(self, n_envs: int | None, n_assets: int, initial_cash: float) -> None:
        if n_envs is None:  # scalar single-asset account
            self.cash = self.equity = self.peak = float(initial_cash)
            self.shares = self.avg_price = self.held = 0.0
            self.open_day = NO_DAY
            self.max_dd = self.n_trades = self.costs_paid = self.sum_r = self.sum_r2 = self.n_steps = 0.0
            self.pdt_count = [0] * PDT_WINDOW_DAYS
            self.pdt_day = [NO_DAY] * PDT_WINDOW_DAYS
            self.day_fills, self.fills_day = 0, NO_DAY
            return
        env_shape, asset_shape = (n_envs, 1), (n_envs, n_assets)
        self.cash = np.full(env_shape, float(initial_cash))
        self.equity = self.cash.copy()
        self.peak = self.cash.copy()
        self.shares, self.avg_price, self.held = (np.zeros(asset_shape) for _ in range(3))
        self.open_day = np.full(asset_shape, NO_DAY, dtype=np.int64)
        self.max_dd, self.n_trades, self.costs_paid, self.sum_r, self.sum_r2, self.n_steps = (
            np.zeros(env_shape) for _ in range(6))
        self.pdt_count = np.zeros((n_envs, PDT_WINDOW_DAYS), dtype=np.int64)
        self.pdt_day = np.full((n_envs, PDT_WINDOW_DAYS), NO_DAY, dtype=np.int64)
        self.day_fills = np.zeros(env_shape, dtype=np.int64)
        self.fills_day = np.full(env_shape, NO_DAY, dtype=np.int64)

    def reset_rows(self, rows: np.ndarray, initial_cash: float) -> None:
        """Array accounts: restore the rows ``rows`` to a fresh account."""
        for name in ("cash", "equity", "peak"):
            getattr(self, name)[rows] = initial_cash
        for name in ("shares", "avg_price", "held", "max_dd", "n_trades", "costs_paid", "sum_r", "sum_r2",
                     "n_steps", "pdt_count", "day_fills"):
            getattr(self, name)[rows] = 0
        self.open_day[rows] = NO_DAY
        self.pdt_day[rows] = NO_DAY
        self.fills_day[rows] = NO_DAY


def _pdt_used(acct: Account, day: Any, ops: Ops) -> Any:
    """Day trades already made in the rolling 5-trading-day window ending on ``day``."""
    if ops.array:
        return ((acct.pdt_day > day - PDT_WINDOW_DAYS) * acct.pdt_count).sum(-1, keepdims=True)
    return sum(c for c, d in zip(acct.pdt_count, acct.pdt_day) if d > day - PDT_WINDOW_DAYS)


def _pdt_record(acct: Account, day: Any, n: Any, ops: Ops) -> None:
    """Add ``n`` day trades on ``day`` (slot ``day % 5``; an older stamp there is out of the window)."""
    if ops.array:
        rows = np.arange(acct.pdt_day.shape[0])
        slot = (day[:, 0] % PDT_WINDOW_DAYS)
        stale = acct.pdt_day[rows, slot] != day[:, 0]
        acct.pdt_count[rows, slot] = np.where(stale, 0, acct.pdt_count[rows, slot]) + n[:, 0]
        acct.pdt_day[rows, slot] = day[:, 0]
        return
    slot = day % PDT_WINDOW_DAYS
    if acct.pdt_day[slot] != day:
        acct.pdt_count[slot], acct.pdt_day[slot] = 0, day
    acct.pdt_count[slot] += int(n)


def _gate(acct: Account, target: Any, delta: Any, price: Any, equity_open: Any, day: Any,
          p: CoreParams, ops: Ops) -> Any:
    """Which orders execute: size threshold, minimum holding period, PDT limit."""
    shares = acct.shares
    big = ops.absolute(delta) * price > p.min_trade_fraction * equity_open
    reducing = (ops.absolute(target) < ops.absolute(shares)) | (target * shares < 0)
    in_position = shares != 0
    ok = big & ops.lnot(reducing & in_position & (acct.held < p.min_hold))
    if p.pdt_on:
        day_trade = ok & reducing & in_position & (acct.open_day == day)
        rank = ops.acumsum(day_trade)
        blocked = day_trade & (equity_open < p.pdt_threshold) & (_pdt_used(acct, day, ops) + rank > p.max_day_trades)
        ok = ok & ops.lnot(blocked)
        _pdt_record(acct, day, ops.asum(day_trade & ops.lnot(blocked)), ops)
    if p.daily_cap_on:  # "max N trades per day": fills beyond the N-th of the day (asset order) are refused
        used = ops.where(acct.fills_day == day, acct.day_fills, 0)
        ok = ok & (used + ops.acumsum(ok) <= p.max_trades_per_day)
        acct.day_fills = used + ops.asum(ok)
        acct.fills_day = ops.maximum(acct.fills_day, day)  # days only move forward within an episode
    return ok


def limit_targets(weights: Any, old: Any, equity_open: Any, open_: Any, p: CoreParams, ops: Ops) -> tuple[Any, Any]:
    """Target shares and wanted change after the exposure cap (``max_position_pct``) and the per-step
    change cap (``buy_pct`` × equity); with the defaults (1.0, no cap) it is ``weights × equity / open``."""
    if p.max_pos < 1.0:
        weights = ops.maximum(ops.minimum(weights, p.max_pos), -p.max_pos)
    target = weights * equity_open / open_
    wanted = target - old
    if p.buy_cap > 0.0:
        cap = p.buy_cap * equity_open / open_
        clipped = ops.maximum(ops.minimum(wanted, cap), -cap)
        target = ops.where(ops.absolute(wanted) > cap, old + clipped, target)
        wanted = clipped
    return target, wanted


def transition(acct: Account, weights: Any, open_: Any, close: Any, atr_ratio: Any, inv_dv: Any, day: Any,
               p: CoreParams, ops: Ops) -> Any:
    """Fill target ``weights`` at ``open_`` (bar t+1), pay costs, mark at ``close``; returns the reward.

    ``atr_ratio`` and ``inv_dv`` come from the decision bar t (known when the order is sent).
    """
    equity_open = acct.cash + ops.asum(acct.shares * open_)
    old = acct.shares
    target, wanted = limit_targets(weights, old, equity_open, open_, p, ops)
    ok = _gate(acct, target, wanted, open_, equity_open, day, p, ops)
    delta = ops.where(ok, wanted, 0.0)
    new = old + delta
    cost = order_costs(delta, open_, atr_ratio, inv_dv, p.costs, ops.absolute, ops.minimum, ops.sqrt,
                       ops.where if ops.array else None)
    acct.cash = acct.cash - ops.asum(delta * open_) - ops.asum(cost)
    _update_positions(acct, old, new, open_, day, ops)
    acct.n_trades = acct.n_trades + ops.asum(ok)
    acct.costs_paid = acct.costs_paid + ops.asum(cost)
    prev_equity = acct.equity
    prev_drawdown = 1.0 - prev_equity / acct.peak
    acct.equity = acct.cash + ops.asum(new * close)
    acct.peak = ops.maximum(acct.peak, acct.equity)
    drawdown = 1.0 - acct.equity / acct.peak
    acct.max_dd = ops.maximum(acct.max_dd, drawdown)
    reward = step_reward(acct, prev_equity, ops.asum(ok), drawdown, p.reward, p.initial_cash, ops, prev_drawdown)
    return reward * p.reward_scale if p.reward_scale != 1.0 else reward


def _update_positions(acct: Account, old: Any, new: Any, price: Any, day: Any, ops: Ops) -> None:
    """Average entry price, bars held and opening day after a fill."""
    flat = new == 0
    in_position = ops.lnot(flat)
    opened = in_position & (old * new <= 0)  # from flat, or flipped side
    abs_old, abs_new = ops.absolute(old), ops.absolute(new)
    grew = abs_new > abs_old  # only read where not opened
    blended = (acct.avg_price * abs_old + price * (abs_new - abs_old)) / (abs_new + flat)
    acct.avg_price = ops.where(flat, 0.0, ops.where(opened, price, ops.where(grew, blended, acct.avg_price)))
    acct.held = ops.where(flat | opened, 0.0, acct.held) + in_position
    acct.open_day = ops.where(opened, day, acct.open_day)
    acct.shares = new
