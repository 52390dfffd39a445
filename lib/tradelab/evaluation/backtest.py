"""Deterministic backtests: run a policy once over a whole split in the eval-mode env.

A policy may be: a per-bar exposure array (baselines), a callable ``obs -> action``, an SB3 model
(``predict(obs, deterministic=True)``) or an agent with ``select_action(obs, evaluate=True)``
(e.g. ``SACAgent``). The equity curve comes from the env's accounting (fills at t+1 open, costs),
never from the training reward.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from tradelab.envs.config import TradingEnvConfig
from tradelab.envs.portfolio_env import PortfolioEnv
from tradelab.envs.risk import RiskWrapper, wrap_env
from tradelab.envs.trading_env import TradingEnvironment
from tradelab.errors import ConfigError
from tradelab.evaluation.metrics import compute_metrics
from tradelab.evaluation.trades import trade_list

__all__ = ["BacktestResult", "backtest", "cost_sweep", "as_policy"]


@dataclass
class BacktestResult:
    """Equity curve frame (index timestamp: equity, position, cash, costs_paid, n_trades) + metrics."""

    equity: pd.DataFrame
    metrics: dict[str, Any]
    name: str = "agent"
    cost_multiplier: float = 1.0
    extra: dict[str, Any] = field(default_factory=dict)
    trades: pd.DataFrame | None = None
    """Round trips (:func:`tradelab.evaluation.trades.trade_list`), written as ``trades.csv`` by reports."""

    @property
    def positions(self) -> pd.Series:
        """Net exposure per bar (fraction of equity)."""
        return self.equity["position"]


def as_policy(policy: Any) -> Callable[[np.ndarray, int], Any]:
    """Normalise any supported policy to ``f(obs, bar_index) -> action``."""
    if isinstance(policy, np.ndarray | pd.Series | list | tuple):
        arr = np.asarray(policy, dtype=np.float64)
        return lambda obs, t: arr[t] if arr.ndim > 1 else arr[t : t + 1]
    if hasattr(policy, "select_action"):
        return lambda obs, t: policy.select_action(obs, evaluate=True)
    if hasattr(policy, "predict"):
        return lambda obs, t: policy.predict(obs, deterministic=True)[0]
    if callable(policy):
        return lambda obs, t: policy(obs)
    raise ConfigError(f"backtest policy of type {type(policy).__name__} is not supported: pass an exposure array, "
                      "a callable obs -> action, an SB3 model or an object with select_action(obs, evaluate=True)")


def _make_env(data: Any, features: Any, config: TradingEnvConfig, history: Any = None) -> TradingEnvironment | PortfolioEnv:
    if isinstance(data, dict):
        feats = features if features is not None else {k: np.zeros((len(v), 1), np.float32) for k, v in data.items()}
        return PortfolioEnv(data, feats, config, eval_mode=True, history=history if features is not None else None)
    feats = features if features is not None else np.zeros((len(data), 1), np.float32)
    return TradingEnvironment(data, feats, config, eval_mode=True, history=history if features is not None else None)


def backtest(policy: Any, data: pd.DataFrame | dict[str, pd.DataFrame], features: Any = None,
             config: TradingEnvConfig | None = None, cost_multiplier: float = 1.0, name: str = "agent",
             n_boot: int = 1000, history: Any = None) -> BacktestResult:
    """Run ``policy`` once over every bar of ``data`` (decision at t, fill at t+1 open).

    :param features: scaled features row-aligned with ``data`` (dict per asset for portfolios);
        None → a zero column (fine for policies that ignore observations, e.g. baselines).
    :param cost_multiplier: replaces ``config.costs.cost_multiplier`` (0, 1, 2 in reports).
    :param history: scaled feature rows of the bars before ``data`` (dict per asset for portfolios) so
        the first ``window - 1`` observations hold real bars, not zeros (see TradingEnvironment).
    With ``config.risk.enabled`` the policy acts through :class:`~tradelab.envs.risk.RiskWrapper`
    and ``metrics["risk_rule_counts"]`` says how often each rule fired.
    """
    cfg = (config or TradingEnvConfig()).with_cost_multiplier(cost_multiplier)
    env = wrap_env(_make_env(data, features, cfg, history), cfg)
    act = as_policy(policy)
    obs, info = env.reset(seed=0)
    rows = [info]
    done = False
    while not done:
        action = np.asarray(act(obs, info["bar"]), dtype=np.float32)
        if action.size != env.action_space.shape[0]:
            raise ConfigError(f"backtest {name!r}: the policy returned {action.size} action value(s) for an env "
                              f"expecting {env.action_space.shape[0]} (one target exposure per asset slot)")
        action = action.reshape(env.action_space.shape)
        obs, _, terminated, truncated, info = env.step(action)
        rows.append(info)
        done = terminated or truncated
    market = env.unwrapped.market
    frame = _frame(rows, market.index)
    trades = _trades(rows, env, data)
    metrics = compute_metrics(frame["equity"], frame["position"], trades=int(info["n_trades"]),
                              costs=float(info["costs_paid"]), n_boot=n_boot, trade_table=trades)
    extra: dict[str, Any] = {"impact": list(market.impact or [])}
    if isinstance(env, RiskWrapper):
        metrics["risk_rule_counts"] = extra["risk_rule_counts"] = env.counts
    return BacktestResult(frame, metrics, name, float(cost_multiplier), extra, trades=trades)


def _trades(rows: list[dict], env: Any, data: Any) -> pd.DataFrame:
    """The backtest's round trips from the per-bar shares and the env's prices and costs."""
    m = env.unwrapped.market
    bars = np.asarray([r["bar"] for r in rows])
    assets = list(data) if isinstance(data, dict) else [str(getattr(data, "attrs", {}).get("asset", "asset"))]
    shares = np.asarray([np.atleast_1d(r["shares"]) for r in rows], dtype=np.float64)
    costs = np.diff([r["costs_paid"] for r in rows], prepend=rows[0]["costs_paid"])
    n = len(assets)
    return trade_list(m.index[bars], shares, m.open[bars, :n], m.close[bars, :n], costs, assets)


def _frame(rows: list[dict], index: pd.DatetimeIndex) -> pd.DataFrame:
    bars = [r["bar"] for r in rows]
    pos = [float(np.sum(r["position"])) for r in rows]
    frame = pd.DataFrame(
        {"equity": [r["equity"] for r in rows], "position": pos, "cash": [r["cash"] for r in rows],
         "costs_paid": [r["costs_paid"] for r in rows], "n_trades": [r["n_trades"] for r in rows]},
        index=index[bars],
    )
    frame.index.name = "timestamp"
    return frame


def cost_sweep(policy: Any, data: Any, features: Any = None, config: TradingEnvConfig | None = None,
               multipliers: Sequence[float] = (0.0, 1.0, 2.0), name: str = "agent") -> dict[float, BacktestResult]:
    """The same backtest at each cost multiplier."""
    return {float(m): backtest(policy, data, features, config, m, name) for m in multipliers}
