"""N accounts stepped together with array operations: the engine of PortfolioEnv and the VecEnvs.

Two observation layouts share the engine:

* ``"single"`` (one asset, same layout as :class:`~tradelab.envs.trading_env.TradingEnvironment`):
  window features, then position, cash fraction, unrealised PnL, time in position;
* ``"portfolio"``: window features of every slot (``window × max_assets × F``), then per slot
  exposure, unrealised PnL, time in position and the mask (``4 × max_assets``), then the cash fraction.

There is no Python loop over environments in :meth:`BatchCore.step`; only environments whose
episode ends are reset one by one (each draws from its own seeded generator, as a single env would).
"""

from __future__ import annotations

import numpy as np
from gymnasium.utils import seeding

from tradelab.envs.config import TradingEnvConfig
from tradelab.envs.core import ARRAY_OPS, ARRAY_OPS_1, SCALAR_OPS, Account, CoreParams, transition
from tradelab.envs.market import Market, draw_episode
from tradelab.envs.rewards import running_sharpe

__all__ = ["BatchCore", "TABLE_MAX_BYTES"]

#: Largest precomputed observation table (bigger markets gather windows from the strided view).
TABLE_MAX_BYTES = 256 * 2**20


class BatchCore:
    """``n_envs`` accounts over one :class:`Market`; layout ``"single"`` or ``"portfolio"``."""

    def __init__(self, market: Market, config: TradingEnvConfig, n_envs: int, layout: str,
                 eval_mode: bool = False) -> None:
        self.market, self.config, self.n_envs, self.layout = market, config, int(n_envs), layout
        self.eval_mode = bool(eval_mode)
        self.n_slots = market.open.shape[1]
        self.params = CoreParams.build(config, market.periods_per_year, market.intraday)
        self.mask = np.zeros((1, self.n_slots))
        self.mask[0, : market.n_active] = 1.0
        self.low = 0.0 if config.long_only else -1.0
        self.n_window = market.windows.shape[1]
        n_state = 4 if layout == "single" else 4 * self.n_slots + 1
        self.obs_dim = self.n_window + n_state
        # rows of ready-made observations (state columns filled per step): one contiguous gather per step
        n_bytes = market.n_bars * self.obs_dim * 4
        self._table = None
        if n_bytes <= TABLE_MAX_BYTES:
            self._table = np.zeros((market.n_bars, self.obs_dim), dtype=np.float32)
            self._table[:, : self.n_window] = market.windows
        self.acct = Account(self.n_envs, self.n_slots, config.initial_cash)
        self.t = np.zeros(self.n_envs, dtype=np.int64)
        self.end = np.full(self.n_envs, market.n_bars - 1, dtype=np.int64)
        self.ep_return = np.zeros(self.n_envs)
        self.ep_length = np.zeros(self.n_envs, dtype=np.int64)
        self.rngs: list[np.random.Generator | None] = [None] * self.n_envs
        self.ops = ARRAY_OPS_1 if self.n_slots == 1 else ARRAY_OPS

    def reset_rows(self, rows: np.ndarray | list[int], seeds: list[int | None] | None = None) -> None:
        """Start new episodes in ``rows`` (re-seeding a row's generator when its seed is given)."""
        rows = np.asarray(rows, dtype=np.int64)
        for k, i in enumerate(rows.tolist()):
            seed = None if seeds is None else seeds[k]
            if seed is not None or self.rngs[i] is None:
                self.rngs[i] = seeding.np_random(seed)[0]
            self.t[i], self.end[i] = draw_episode(self.rngs[i], self.config.episode_lengths, self.market.n_bars,
                                                  self.config.window, self.eval_mode)
        self.acct.reset_rows(rows, self.config.initial_cash)
        self.ep_return[rows] = 0.0
        self.ep_length[rows] = 0

    def weights(self, actions: np.ndarray) -> np.ndarray:
        """Target weights from raw actions: clip, mask empty slots, scale gross exposure to <= 1."""
        a = np.asarray(actions, dtype=np.float64).reshape(self.n_envs, -1)
        w = np.minimum(np.maximum(a, self.low), 1.0)
        w[np.isnan(w)] = 0.0
        if self.layout == "single":
            return w
        w = w * self.mask
        return w / np.maximum(np.abs(w).sum(-1, keepdims=True), 1.0)

    def step(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Advance every env one bar; returns ``(rewards, terminated, truncated)``."""
        m, t = self.market, self.t
        if (t >= self.end).any():
            raise RuntimeError("step() on an ended episode; reset those envs first")
        t1 = t + 1
        reward = transition(self.acct, self.weights(actions), m.open.take(t1, axis=0), m.close.take(t1, axis=0),
                            m.atr_ratio.take(t, axis=0), m.inv_dv.take(t, axis=0), m.day.take(t1)[:, None],
                            self.params, self.ops)[:, 0]
        self.t = t1
        self.ep_return += reward
        self.ep_length += 1
        terminated = self.acct.equity[:, 0] <= 0.0
        truncated = (t1 >= self.end) & ~terminated
        return reward, terminated, truncated

    def observe(self, rows: np.ndarray | None = None) -> np.ndarray:
        """Observations (float32, ``(len(rows), obs_dim)``) at each env's current bar."""
        a = self.acct
        sel = slice(None) if rows is None else rows
        t = self.t[sel]
        n = len(t)
        if self._table is not None:
            obs = np.take(self._table, t, axis=0)
        else:
            obs = np.empty((n, self.obs_dim), dtype=np.float32)
            obs[:, : self.n_window] = self.market.windows[t]
        eq = np.maximum(a.equity[sel], 1e-9)
        c = self.market.close.take(t, axis=0)
        shares, held = a.shares[sel], a.held[sel]
        pos = shares * c / eq
        upnl = shares * (c - a.avg_price[sel]) / eq
        tip = held / (held + self.config.window)
        cash = a.cash[sel] / eq
        if self.layout == "single":
            for k, col in enumerate((pos, cash, upnl, tip)):
                obs[:, self.n_window + k] = col[:, 0]
        else:
            state = np.stack([pos, upnl, tip, np.broadcast_to(self.mask, pos.shape)], axis=2).reshape(n, -1)
            obs[:, self.n_window:] = np.concatenate([state, cash], axis=1)
        return obs

    def info(self, i: int) -> dict:
        """The single-env ``info`` metrics of env ``i``."""
        a = self.acct
        equity = float(a.equity[i, 0])
        eq = max(equity, 1e-9)
        sharpe = running_sharpe(float(a.sum_r[i, 0]), float(a.sum_r2[i, 0]), float(a.n_steps[i, 0]),
                                self.params.reward.sqrt_periods, SCALAR_OPS)
        exposure = a.shares[i] * self.market.close[self.t[i]] / eq
        return {
            "equity": equity,
            "total_return": equity / self.config.initial_cash - 1.0,
            "sharpe_ratio": sharpe,
            "max_drawdown": float(a.max_dd[i, 0]),
            "n_trades": int(a.n_trades[i, 0]),
            "costs_paid": float(a.costs_paid[i, 0]),
            "position": float(exposure[0]) if self.layout == "single" else exposure[: self.market.n_active].tolist(),
            "cash": float(a.cash[i, 0]),
            "bar": int(self.t[i]),
        }
