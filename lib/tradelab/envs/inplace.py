"""The array path of the account transition: ``n_envs`` accounts stepped in place, the engine of every array env.

:class:`InplaceTransition` performs the operations of :func:`tradelab.envs.core.transition` (the plain-Python
specification) in the same order on ``(n_envs, n_slots)`` arrays, so every account field and reward is
bit-identical to running the specification on each row (``tests/test_envs_inplace.py``). It writes into
buffers it owns instead of allocating temporaries, and skips work that cannot change a value:

* cost terms whose rate is 0 (adding ``+0.0`` to a non-negative cost is exact), a multiplier of 1;
* the minimum-holding / PDT gate when neither rule can bind (``min_hold = 0`` and PDT off): the
  gate then reduces to the size threshold;
* the drawdown penalty subtraction when no env is past the threshold (``x − 0.0 == x``).

At N = 1024 the batched step costs a few dozen numpy calls per bar.
"""

from __future__ import annotations

import numpy as np

from tradelab.envs.core import ACCOUNT_FIELDS, NO_DAY, CoreParams
from tradelab.envs.costs import PDT_WINDOW_DAYS

__all__ = ["InplaceTransition", "ArrayAccount"]


class ArrayAccount:
    """``n_envs`` accounts: per-env fields ``(n_envs, 1)``, per-asset fields ``(n_envs, n_assets)``.

    Same fields as :class:`tradelab.envs.core.Account` (row ``i`` holds env ``i``'s account).
    """

    __slots__ = ACCOUNT_FIELDS

    def __init__(self, n_envs: int, n_assets: int, initial_cash: float) -> None:
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
        """Restore the rows ``rows`` to a fresh account."""
        for name in ("cash", "equity", "peak"):
            getattr(self, name)[rows] = initial_cash
        for name in ("shares", "avg_price", "held", "max_dd", "n_trades", "costs_paid", "sum_r", "sum_r2",
                     "n_steps", "pdt_count", "day_fills"):
            getattr(self, name)[rows] = 0
        self.open_day[rows] = NO_DAY
        self.pdt_day[rows] = NO_DAY
        self.fills_day[rows] = NO_DAY


class InplaceTransition:
    """Step ``n_envs`` array accounts of ``n_slots`` assets; ``__call__`` mirrors ``core.transition``."""

    def __init__(self, n_envs: int, n_slots: int, p: CoreParams) -> None:
        self.p, self.multi = p, n_slots > 1
        a_shape, e_shape = (n_envs, n_slots), (n_envs, 1)
        self._a = [np.empty(a_shape) for _ in range(6)]
        self._e = [np.empty(e_shape) for _ in range(6)]
        self._b = [np.empty(a_shape, dtype=bool) for _ in range(4)]
        self._eb = np.empty(e_shape, dtype=bool)
        self._eb2 = np.empty(e_shape, dtype=bool)
        self._prev_dd = np.empty(e_shape)
        self._new = np.empty(a_shape)
        c = p.costs
        self.rate_notional = c.half_spread + c.commission_rate
        self.rate_sell = c.sec_rate + c.finra_rate
        # held >= 0 always: without the holding/PDT rules only the size threshold binds
        self.simple_gate = p.min_hold <= 0 and not p.pdt_on and not p.daily_cap_on
        self.limits = p.max_pos < 1.0 or p.buy_cap > 0.0

    def _asum(self, x: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """Sum over the asset axis keeping it (the value itself for one slot)."""
        return np.sum(x, axis=-1, keepdims=True, out=out) if self.multi else x

    def _rank(self, x: np.ndarray) -> np.ndarray:
        """Running count over the asset axis (slot order), as the specification's counters."""
        return np.cumsum(x, -1) if self.multi else x

    def __call__(self, acct: ArrayAccount, weights: np.ndarray, open_: np.ndarray, close: np.ndarray,
                 atr_ratio: np.ndarray, inv_dv: np.ndarray, day: np.ndarray) -> np.ndarray:
        """Fill, pay costs, mark; updates ``acct`` in place and returns the reward ``(n_envs, 1)``."""
        p = self.p
        a0, a1, target, wanted, notional, cost = self._a
        e0, e1, eq_open, prev, drawdown, ret = self._e
        ok = self._b[0]
        old = acct.shares
        np.multiply(old, open_, out=a0)
        np.add(acct.cash, self._asum(a0, e0), out=eq_open)
        if self.limits:
            self._limit_targets(weights, old, eq_open, open_, target, wanted)
        else:
            np.multiply(weights, eq_open, out=target)
            np.divide(target, open_, out=target)
            np.subtract(target, old, out=wanted)
        if self.simple_gate:
            np.absolute(wanted, out=a1)
            np.multiply(a1, open_, out=a1)
            np.multiply(eq_open, p.min_trade_fraction, out=e1)
            np.greater(a1, e1, out=ok)
            np.multiply(a1, ok, out=notional)  # |delta| × price (>= 0, so × False gives +0.0 exactly)
        else:
            self._gate(acct, target, wanted, open_, eq_open, day, ok)
            np.multiply(np.absolute(wanted) * open_, ok, out=notional)
        delta = a1
        delta.fill(0.0)
        np.putmask(delta, ok, wanted)  # putmask: copyto(where=) without its slow path
        new = self._new
        np.add(old, delta, out=new)
        self._costs(delta, notional, atr_ratio, inv_dv)
        np.multiply(delta, open_, out=a0)
        np.subtract(acct.cash, self._asum(a0, e0), out=acct.cash)
        cost_sum = self._asum(cost, e1)
        np.subtract(acct.cash, cost_sum, out=acct.cash)
        self._update_positions(acct, old, new, open_, day)
        new_trades = np.sum(ok, axis=-1, keepdims=True) if self.multi else ok
        np.add(acct.n_trades, new_trades, out=acct.n_trades)
        np.add(acct.costs_paid, cost_sum, out=acct.costs_paid)
        prev, acct.equity = acct.equity, prev  # the previous equity keeps its buffer; no copy
        self._e[3] = prev
        if p.reward.dd_increase:  # drawdown before this step: peak not yet updated
            np.divide(prev, acct.peak, out=self._prev_dd)
            np.subtract(1.0, self._prev_dd, out=self._prev_dd)
        np.multiply(new, close, out=a0)
        np.add(acct.cash, self._asum(a0, e0), out=acct.equity)
        np.maximum(acct.peak, acct.equity, out=acct.peak)
        np.divide(acct.equity, acct.peak, out=drawdown)
        np.subtract(1.0, drawdown, out=drawdown)
        np.maximum(acct.max_dd, drawdown, out=acct.max_dd)
        reward = self._reward(acct, prev, new_trades, drawdown, ret)
        if p.reward_scale != 1.0:
            np.multiply(reward, p.reward_scale, out=reward)  # _reward returns a fresh array
        return reward

    def _limit_targets(self, weights: np.ndarray, old: np.ndarray, eq_open: np.ndarray, open_: np.ndarray,
                       target: np.ndarray, wanted: np.ndarray) -> None:
        """``core.limit_target`` on every slot: exposure cap, then the per-step change cap."""
        p = self.p
        if p.max_pos < 1.0:
            weights = np.maximum(np.minimum(weights, p.max_pos), -p.max_pos)
        np.divide(weights * eq_open, open_, out=target)
        np.subtract(target, old, out=wanted)
        if p.buy_cap > 0.0:
            cap = p.buy_cap * eq_open / open_
            clipped = np.maximum(np.minimum(wanted, cap), -cap)
            np.putmask(target, np.abs(wanted) > cap, old + clipped)
            np.copyto(wanted, clipped)

    def _gate(self, acct: ArrayAccount, target: np.ndarray, wanted: np.ndarray, price: np.ndarray,
              eq_open: np.ndarray, day: np.ndarray, ok: np.ndarray) -> None:
        """``ok``: which orders execute (size threshold, minimum holding period, PDT or daily cap), as the spec."""
        p, old = self.p, acct.shares
        reducing = (np.abs(target) < np.abs(old)) | (target * old < 0)
        in_position = old != 0
        np.greater(np.abs(wanted) * price, p.min_trade_fraction * eq_open, out=ok)
        ok &= ~(reducing & in_position & (acct.held < p.min_hold))
        if p.pdt_on:
            day_trade = ok & reducing & in_position & (acct.open_day == day)
            used = ((acct.pdt_day > day - PDT_WINDOW_DAYS) * acct.pdt_count).sum(-1, keepdims=True)
            blocked = day_trade & (eq_open < p.pdt_threshold) & (used + self._rank(day_trade) > p.max_day_trades)
            ok &= ~blocked
            self._pdt_record(acct, day[:, 0], self._asum(day_trade & ~blocked)[:, 0])
        if p.daily_cap_on:
            used = np.where(acct.fills_day == day, acct.day_fills, 0)
            ok &= used + self._rank(ok) <= p.max_trades_per_day
            acct.day_fills = used + self._asum(ok)
            acct.fills_day = np.maximum(acct.fills_day, day)  # days only move forward within an episode

    @staticmethod
    def _pdt_record(acct: ArrayAccount, day: np.ndarray, n: np.ndarray) -> None:
        """Add ``n`` day trades on ``day`` per env (slot ``day % 5``; an older stamp there is out of the window)."""
        rows = np.arange(acct.pdt_day.shape[0])
        slot = day % PDT_WINDOW_DAYS
        stale = acct.pdt_day[rows, slot] != day
        acct.pdt_count[rows, slot] = np.where(stale, 0, acct.pdt_count[rows, slot]) + n
        acct.pdt_day[rows, slot] = day

    def _costs(self, delta: np.ndarray, notional: np.ndarray, atr_ratio: np.ndarray, inv_dv: np.ndarray) -> None:
        """``costs.order_costs`` of every slot into ``cost`` (same operation order; zero-rate terms skipped)."""
        c = self.p.costs
        tmp, cost, sell = self._a[0], self._a[5], self._b[1]
        np.multiply(notional, self.rate_notional, out=cost)
        if c.slippage_coef != 0.0:
            np.multiply(notional, atr_ratio, out=tmp)
            np.multiply(tmp, c.slippage_coef, out=tmp)
            np.add(cost, tmp, out=cost)
        np.less(delta, 0.0, out=sell)
        sell_notional = self._a[2]  # target is no longer needed
        np.multiply(notional, sell, out=sell_notional)  # notional >= 0: exact where(sell, notional, 0)
        if c.finra_per_share_mode:
            shares_sold = self._a[3]  # wanted is no longer needed
            shares_sold.fill(0.0)
            np.putmask(shares_sold, sell, -delta)
            np.add(cost, sell_notional * c.sec_rate + np.minimum(shares_sold * c.finra_per_share, c.finra_cap),
                   out=cost)
        elif self.rate_sell != 0.0:
            np.multiply(sell_notional, self.rate_sell, out=tmp)
            np.add(cost, tmp, out=cost)
        if c.impact_coef != 0.0:
            np.multiply(notional, inv_dv, out=tmp)
            np.sqrt(tmp, out=tmp)
            np.multiply(tmp, c.impact_coef, out=tmp)
            np.minimum(tmp, c.impact_cap, out=tmp)
            np.multiply(notional, tmp, out=tmp)
            np.add(cost, tmp, out=cost)
        if c.multiplier != 1.0:
            np.multiply(cost, c.multiplier, out=cost)

    def _update_positions(self, acct: ArrayAccount, old: np.ndarray, new: np.ndarray, price: np.ndarray,
                          day: np.ndarray) -> None:
        """``core._update_position`` of every slot in place; ``new`` becomes ``acct.shares`` (buffers swap)."""
        flat, opened, grew = self._b[1], self._b[2], self._b[3]
        abs_old, abs_new, blended = self._a[0], self._a[2], self._a[3]
        np.equal(new, 0.0, out=flat)
        np.multiply(old, new, out=blended)
        np.less_equal(blended, 0.0, out=opened)
        np.greater(opened, flat, out=opened)  # opened & ~flat
        np.absolute(old, out=abs_old)
        np.absolute(new, out=abs_new)
        np.greater(abs_new, abs_old, out=grew)
        np.multiply(acct.avg_price, abs_old, out=blended)
        np.subtract(abs_new, abs_old, out=abs_old)
        np.multiply(price, abs_old, out=abs_old)
        np.add(blended, abs_old, out=blended)
        np.add(abs_new, flat, out=abs_new)
        np.divide(blended, abs_new, out=blended)
        avg = acct.avg_price
        np.putmask(avg, grew, blended)
        np.putmask(avg, opened, price)
        np.putmask(avg, flat, 0.0)
        held = acct.held
        np.add(held, 1.0, out=held)
        np.putmask(held, opened, 1.0)
        np.putmask(held, flat, 0.0)
        np.putmask(acct.open_day, opened, np.broadcast_to(day, opened.shape) if self.multi else day)
        self._new, acct.shares = old, new

    def _reward(self, acct: ArrayAccount, prev: np.ndarray, new_trades: np.ndarray, drawdown: np.ndarray,
                ret: np.ndarray) -> np.ndarray:
        """``rewards.step_reward`` (return_dd, V3 terms or log return), same operation order."""
        r = self.p.reward
        e0, e1 = self._e[0], self._e[1]
        np.divide(acct.equity, prev, out=ret)
        np.subtract(ret, 1.0, out=ret)
        np.add(acct.sum_r, ret, out=acct.sum_r)
        np.multiply(ret, ret, out=e0)
        np.add(acct.sum_r2, e0, out=acct.sum_r2)
        np.add(acct.n_steps, 1.0, out=acct.n_steps)
        if r.log_return:
            return np.log(np.maximum(acct.equity, 1e-12) / prev)
        if r.dd_increase:  # rewards.drawdown_increase, same operation order
            thr = r.drawdown_threshold
            np.maximum(drawdown, thr, out=e0)
            np.maximum(self._prev_dd, thr, out=e1)
            np.subtract(e0, e1, out=e0)
            np.maximum(e0, 0.0, out=e0)
            np.multiply(e0, 100.0 * r.drawdown_weight, out=e0)
            out = ret * (100.0 * r.return_weight)
            np.subtract(out, e0, out=out)
            return out
        out = ret * (100.0 * r.return_weight)  # the fresh array returned
        mask = self._eb
        np.greater(drawdown, r.drawdown_threshold, out=mask)
        if mask.any():  # otherwise the penalty is +0.0 and out − 0.0 == out
            np.subtract(out, np.where(mask, drawdown * (10.0 * r.drawdown_weight), 0.0), out=out)
        # running Sharpe (n_steps >= 1 here, so max(n, 1) = n) and its penalty where negative
        mean, std = e0, e1
        np.divide(acct.sum_r, acct.n_steps, out=mean)
        np.divide(acct.sum_r2, acct.n_steps, out=std)
        np.multiply(mean, mean, out=ret)  # ret is no longer needed
        np.subtract(std, ret, out=std)
        np.maximum(std, 0.0, out=std)
        np.sqrt(std, out=std)
        defined = self._eb2
        np.greater(std, 1e-12, out=defined)
        np.maximum(std, 1e-12, out=std)
        np.divide(mean, std, out=mean)
        np.multiply(mean, r.sqrt_periods, out=mean)  # the Sharpe where defined
        np.less(mean, 0.0, out=mask)
        np.logical_and(mask, defined, out=mask)
        np.multiply(mean, 0.1 * r.sharpe_weight, out=mean)
        std.fill(0.0)
        np.putmask(std, mask, mean)
        np.add(out, std, out=out)
        if r.trade_penalty != 0.0:
            np.subtract(out, self._trade_penalty(acct, new_trades, r.trade_penalty), out=out)
        np.greater(acct.equity, self.p.initial_cash * (1.0 + r.bonus_threshold), out=mask)
        e0.fill(0.0)
        np.putmask(e0, mask, r.bonus)
        np.add(out, e0, out=out)
        return out

    def _trade_penalty(self, acct: ArrayAccount, new_trades: np.ndarray, per_trade: float) -> np.ndarray:
        """``rewards.overtrading_penalty``; with one slot (0/1 trades, ``per_trade >= 0``) as one mask product."""
        n_before = acct.n_trades - new_trades
        if self.multi or per_trade < 0.0:
            first = (n_before < 0.5) & (new_trades > 0.5)
            return new_trades * per_trade - first * per_trade
        # trade & first → pt − pt = +0.0; trade & not first → pt − 0.0; no trade → 0.0 − 0.0
        np.greater_equal(n_before, 0.5, out=self._eb2)
        np.logical_and(self._eb2, new_trades, out=self._eb2)
        return np.multiply(self._eb2, per_trade, out=n_before)
