"""Training rewards. Evaluation never uses these (metrics come from the equity curve).

``kind: return_dd`` (default) on each step (weights from :class:`RewardConfig`):

* ``+ return_weight × 100 × (equity_t / equity_{t-1} − 1)`` — step return in %;
* ``− drawdown_weight × 100 × max(D_t − D_{t−1}, 0)`` with ``D = max(DD, drawdown_threshold)`` — the
  *increase* of the drawdown beyond the threshold on this step, in %.

Both terms are O(1) per step on daily bars (a 1 % move is 1.0), and the drawdown term is non-zero only
on a step whose outcome (hence the position held) deepened the drawdown: a flat or recovering account
is never charged for a drawdown it already has. (V3's ``DD × 10`` is charged on *every* step past the
threshold whatever the action, e.g. −1.5 per step at 15 % drawdown, which dominates the return term and
drowns the value function of PPO.)

``kind: v3``, the seed's five terms:

* ``+ return_weight × 100 × (equity_t / equity_{t-1} − 1)``  — step return in %;
* ``− drawdown_weight × DD × 10`` when the drawdown from the episode peak ``DD > drawdown_threshold``;
* ``+ sharpe_weight × Sharpe × 0.1`` when the episode's running Sharpe (annualised) is negative;
* ``− trade_penalty`` per trade beyond the first one of the episode (overtrading);
* ``+ bonus`` while the episode's total return exceeds ``bonus_threshold`` (2 %).

Functions take Python floats: this is the specification the array path
(:mod:`tradelab.envs.inplace`) is tested against.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from tradelab.envs.config import RewardConfig

__all__ = ["RewardParams", "running_sharpe", "drawdown_penalty", "drawdown_increase", "overtrading_penalty", "step_reward"]


@dataclass(frozen=True)
class RewardParams:
    """Reward constants for the hot path."""

    log_return: bool
    return_weight: float
    drawdown_weight: float
    drawdown_threshold: float
    sharpe_weight: float
    trade_penalty: float
    bonus: float
    bonus_threshold: float
    sqrt_periods: float
    dd_increase: bool = False
    """``kind: return_dd``: step return in % minus the drawdown's increase beyond the threshold."""

    @classmethod
    def build(cls, cfg: RewardConfig, periods_per_year: float) -> RewardParams:
        return cls(cfg.kind == "log_return", cfg.return_weight, cfg.drawdown_weight, cfg.drawdown_threshold,
                   cfg.sharpe_weight, cfg.trade_penalty, cfg.bonus, cfg.bonus_threshold,
                   math.sqrt(periods_per_year), cfg.kind == "return_dd")


def running_sharpe(sum_r: float, sum_r2: float, n: float, sqrt_periods: float) -> float:
    """Annualised Sharpe of the step returns so far (0 while undefined: < 2 steps or zero spread).

    Population std (ddof 0) of the running sums; with one return the variance is exactly 0.
    """
    n_safe = max(n, 1.0)
    mean = sum_r / n_safe
    std = math.sqrt(max(sum_r2 / n_safe - mean * mean, 0.0))
    return mean / max(std, 1e-12) * sqrt_periods if std > 1e-12 else 0.0


def drawdown_penalty(drawdown: float, threshold: float, scale: float = 10.0) -> float:
    """``DD × 10`` (``scale``) when the drawdown fraction exceeds ``threshold``, else 0 (a positive number)."""
    return drawdown * scale if drawdown > threshold else 0.0


def drawdown_increase(drawdown: float, prev_drawdown: float, threshold: float) -> float:
    """How much this step deepened the drawdown beyond ``threshold`` (fraction, >= 0; 0 when it did not)."""
    return max(max(drawdown, threshold) - max(prev_drawdown, threshold), 0.0)


def overtrading_penalty(n_before: float, new_trades: float, per_trade: float) -> float:
    """``per_trade`` for each trade of this step beyond the episode's first trade.

    Equals ``(max(n_after − 1, 0) − max(n_before − 1, 0)) × per_trade`` with fewer operations.
    """
    return new_trades * per_trade - ((n_before < 0.5) & (new_trades > 0.5)) * per_trade


def step_reward(acct: Any, prev_equity: float, new_trades: float, drawdown: float, p: RewardParams,
                initial_cash: float, prev_drawdown: float = 0.0) -> float:
    """Reward of the step just taken; also updates the account's running return statistics.

    ``drawdown`` is the current drawdown from the episode peak (fraction) and ``prev_drawdown`` the one
    before this step (read by ``return_dd`` only), both computed by the caller.
    """
    ret = acct.equity / prev_equity - 1.0
    acct.sum_r = acct.sum_r + ret
    acct.sum_r2 = acct.sum_r2 + ret * ret
    acct.n_steps = acct.n_steps + 1.0
    if p.log_return:
        return math.log(max(acct.equity, 1e-12) / prev_equity)
    if p.dd_increase:
        return (ret * (100.0 * p.return_weight)
                - drawdown_increase(drawdown, prev_drawdown, p.drawdown_threshold) * (100.0 * p.drawdown_weight))
    sharpe = running_sharpe(acct.sum_r, acct.sum_r2, acct.n_steps, p.sqrt_periods)
    return (
        ret * (100.0 * p.return_weight)
        - drawdown_penalty(drawdown, p.drawdown_threshold, 10.0 * p.drawdown_weight)
        + (sharpe * (0.1 * p.sharpe_weight) if sharpe < 0.0 else 0.0)
        - overtrading_penalty(acct.n_trades - new_trades, new_trades, p.trade_penalty)
        + (p.bonus if acct.equity > initial_cash * (1.0 + p.bonus_threshold) else 0.0)
    )
