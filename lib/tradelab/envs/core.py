"""The account transition, written once in plain Python: the specification of every env's step.

:func:`transition` fills target weights at bar t+1's open, applies the gates (size threshold, minimum
holding period, FINRA PDT or the daily trade cap), pays costs, marks at bar t+1's close and returns the
reward, for one account of ``n`` asset slots held as lists of Python floats.

* The single-asset :class:`~tradelab.envs.trading_env.TradingEnvironment` steps with it (a few µs).
* Every array env (the batched VecEnvs and :class:`~tradelab.envs.portfolio_env.PortfolioEnv`) steps
  with :class:`tradelab.envs.inplace.InplaceTransition`, the same IEEE operations in the same order on
  ``(n_envs, n_slots)`` buffers. ``tests/test_envs_inplace.py`` runs this function on every row as the
  oracle and asserts bit-identical accounts and rewards, so a rule changed here and not there fails.

Sums over assets run left to right (``-0.0 + x0 + x1 + ...``), the order numpy's ``sum`` takes over
fewer than 8 slots; from 8 slots on numpy sums pairwise and the two agree to rounding only. The
``log_return`` reward's logarithm is the one operation that is not IEEE-exact (numpy's and libm's may
differ in the last bit); it feeds no account field.
"""

from __future__ import annotations

from dataclasses import dataclass

from tradelab.envs.config import TradingEnvConfig
from tradelab.envs.costs import PDT_WINDOW_DAYS, CostParams, order_costs
from tradelab.envs.rewards import RewardParams, step_reward

__all__ = ["Account", "CoreParams", "transition", "limit_target", "NO_DAY", "ACCOUNT_FIELDS"]

NO_DAY = -(10**9)  # day stamp of an empty PDT slot

#: Every field of an account (scalar :class:`Account` and the array account of the batched envs).
ACCOUNT_FIELDS = ("cash", "shares", "avg_price", "held", "open_day", "equity", "peak", "max_dd", "n_trades",
                  "costs_paid", "sum_r", "sum_r2", "n_steps", "pdt_count", "pdt_day", "day_fills", "fills_day")


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
    """One account: cash and episode statistics as floats, per-asset state as lists (one entry a slot)."""

    __slots__ = ACCOUNT_FIELDS

    def __init__(self, n_assets: int, initial_cash: float) -> None:
        self.cash = self.equity = self.peak = float(initial_cash)
        self.shares, self.avg_price, self.held = [0.0] * n_assets, [0.0] * n_assets, [0.0] * n_assets
        self.open_day = [NO_DAY] * n_assets
        self.max_dd = self.n_trades = self.costs_paid = self.sum_r = self.sum_r2 = self.n_steps = 0.0
        self.pdt_count = [0] * PDT_WINDOW_DAYS
        self.pdt_day = [NO_DAY] * PDT_WINDOW_DAYS
        self.day_fills, self.fills_day = 0, NO_DAY


def limit_target(weight: float, old: float, equity_open: float, price: float, p: CoreParams) -> tuple[float, float]:
    """Target shares and wanted change of one asset after the exposure cap (``max_position_pct``) and the
    per-step change cap (``buy_pct`` × equity); with the defaults it is ``weight × equity / price``."""
    if p.max_pos < 1.0:
        weight = max(min(weight, p.max_pos), -p.max_pos)
    target = weight * equity_open / price
    wanted = target - old
    if p.buy_cap > 0.0:
        cap = p.buy_cap * equity_open / price
        clipped = max(min(wanted, cap), -cap)
        if abs(wanted) > cap:
            target = old + clipped
        wanted = clipped
    return target, wanted


def transition(acct: Account, weights: list[float], open_: list[float], close: list[float],
               atr_ratio: list[float], inv_dv: list[float], day: int, p: CoreParams) -> float:
    """Fill target ``weights`` at ``open_`` (bar t+1), pay costs, mark at ``close``; returns the reward.

    ``atr_ratio`` and ``inv_dv`` come from the decision bar t (known when the order is sent); ``day`` is
    bar t+1's trading-day ordinal. Orders are gated asset by asset in slot order (the PDT and daily-cap
    counts rank them that way).
    """
    held_value = -0.0  # asset sums start at -0.0: -0.0 + x == x exactly, so one asset's sum is its value
    for shares, price in zip(acct.shares, open_):
        held_value += shares * price
    equity_open = acct.cash + held_value
    pdt_used = _pdt_used(acct, day) if p.pdt_on else 0
    fills_used = (acct.day_fills if acct.fills_day == day else 0) if p.daily_cap_on else 0
    day_trades = ranked = kept_day_trades = new_trades = 0
    traded = paid = marked = -0.0
    for i, weight in enumerate(weights):
        old, price = acct.shares[i], open_[i]
        target, wanted = limit_target(weight, old, equity_open, price, p)
        reducing = abs(target) < abs(old) or target * old < 0
        locked = reducing and old != 0 and acct.held[i] < p.min_hold  # minimum holding period
        ok = abs(wanted) * price > p.min_trade_fraction * equity_open and not locked
        if p.pdt_on:  # FINRA: a same-day exit beyond max_day_trades in 5 days is refused under the threshold
            day_trade = ok and reducing and old != 0 and acct.open_day[i] == day
            day_trades += day_trade
            blocked = day_trade and equity_open < p.pdt_threshold and pdt_used + day_trades > p.max_day_trades
            ok = ok and not blocked
            kept_day_trades += day_trade and not blocked
        if p.daily_cap_on:  # fills beyond the max_trades_per_day-th of the day (slot order) are refused
            ranked += ok
            ok = ok and fills_used + ranked <= p.max_trades_per_day
        delta = wanted if ok else 0.0
        new = old + delta
        cost = order_costs(delta, price, atr_ratio[i], inv_dv[i], p.costs)
        traded += delta * price
        paid += cost
        marked += new * close[i]
        new_trades += ok
        _update_position(acct, i, old, new, price, day)
    if p.pdt_on:
        _pdt_record(acct, day, kept_day_trades)
    if p.daily_cap_on:
        acct.day_fills = fills_used + new_trades
        acct.fills_day = max(acct.fills_day, day)  # days only move forward within an episode
    acct.cash = acct.cash - traded - paid
    acct.n_trades = acct.n_trades + new_trades
    acct.costs_paid = acct.costs_paid + paid
    prev_equity = acct.equity
    prev_drawdown = 1.0 - prev_equity / acct.peak
    acct.equity = acct.cash + marked
    acct.peak = max(acct.peak, acct.equity)
    drawdown = 1.0 - acct.equity / acct.peak
    acct.max_dd = max(acct.max_dd, drawdown)
    reward = step_reward(acct, prev_equity, new_trades, drawdown, p.reward, p.initial_cash, prev_drawdown)
    return reward * p.reward_scale if p.reward_scale != 1.0 else reward


def _update_position(acct: Account, i: int, old: float, new: float, price: float, day: int) -> None:
    """Average entry price, bars held and opening day of asset ``i`` after a fill."""
    if new == 0:
        acct.avg_price[i] = acct.held[i] = 0.0
        acct.shares[i] = new
        return
    abs_old, abs_new = abs(old), abs(new)
    if old * new <= 0:  # opened from flat, or flipped side
        acct.avg_price[i], acct.held[i], acct.open_day[i] = price, 1.0, day
    else:
        if abs_new > abs_old:  # grew: blend the entry price
            acct.avg_price[i] = (acct.avg_price[i] * abs_old + price * (abs_new - abs_old)) / abs_new
        acct.held[i] += 1.0
    acct.shares[i] = new


def _pdt_used(acct: Account, day: int) -> int:
    """Day trades already made in the rolling 5-trading-day window ending on ``day``."""
    return sum(c for c, d in zip(acct.pdt_count, acct.pdt_day) if d > day - PDT_WINDOW_DAYS)


def _pdt_record(acct: Account, day: int, n: int) -> None:
    """Add ``n`` day trades on ``day`` (slot ``day % 5``; an older stamp there is out of the window)."""
    slot = day % PDT_WINDOW_DAYS
    if acct.pdt_day[slot] != day:
        acct.pdt_count[slot], acct.pdt_day[slot] = 0, day
    acct.pdt_count[slot] += int(n)
