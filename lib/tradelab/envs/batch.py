"""N accounts stepped together with array operations: the engine of PortfolioEnv and the VecEnvs.

Two observation layouts share the engine:

* ``"single"`` (one asset, same layout as :class:`~tradelab.envs.trading_env.TradingEnvironment`):
  window features, then position, cash fraction, unrealised PnL, time in position;
* ``"portfolio"``: window features of every slot (``window × max_assets × F``), then per slot
  exposure, unrealised PnL, time in position and the mask (``4 × max_assets``), then the cash fraction.

There is no Python loop over environments in :meth:`BatchCore.step` (it runs
:class:`~tradelab.envs.inplace.InplaceTransition`, the in-place form of ``core.transition``, and
gathers observation rows from a precomputed table); only environments whose episode ends are reset
one by one (each draws from its own seeded generator, as a single env would).
"""

from __future__ import annotations

import numpy as np
from gymnasium.utils import seeding

from tradelab.envs.config import TradingEnvConfig
from tradelab.envs.core import SCALAR_OPS, Account, CoreParams
from tradelab.envs.inplace import InplaceTransition
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
        self.transition = InplaceTransition(self.n_envs, self.n_slots, self.params)
        shape = (self.n_envs, self.n_slots)
        self._bars = [np.empty(shape) for _ in range(4)]  # open, close at t+1; atr_ratio, inv_dv at t
        self._day = np.empty(self.n_envs, dtype=np.int64)
        self._t1 = np.empty(self.n_envs, dtype=np.int64)
        state = np.empty((self.n_envs, 4) if layout == "single" else (self.n_envs, self.n_slots, 4))
        if layout != "single":
            state[:, :, 3] = self.mask
        self._obs_buf = (np.empty((self.n_envs, 1)), np.empty(shape), np.empty(shape), state)

    def reset_rows(self, rows: np.ndarray | list[int], seeds: list[int | None] | None = None) -> None:
        """Start new episodes in ``rows`` (re-seeding a row's generator when its seed is given)."""
        rows = np.asarray(rows, dtype=np.int64)
        cfg, n_bars, rngs = self.config, self.market.n_bars, self.rngs
        for k, i in enumerate(rows.tolist()):
            seed = None if seeds is None else seeds[k]
            if seed is not None or rngs[i] is None:
                rngs[i] = seeding.np_random(seed)[0]
        if len(rows) and not self.eval_mode and len(cfg.episode_lengths) == 1:
            # draw_episode's calls for one episode length, without its per-row overhead
            length = min(int(cfg.episode_lengths[0]), n_bars - cfg.window)
            low, high = cfg.window - 1, n_bars - 1 - length + 1
            starts = np.array([rngs[i].integers(low, high) for i in rows.tolist()], dtype=np.int64)
            self.t[rows], self.end[rows] = starts, starts + length
        elif len(rows):
            bounds = [draw_episode(rngs[i], cfg.episode_lengths, n_bars, cfg.window, self.eval_mode)
                      for i in rows.tolist()]
            self.t[rows], self.end[rows] = np.array(bounds, dtype=np.int64).T
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
        t1 = np.add(t, 1, out=self._t1)
        open_, close, atr_ratio, inv_dv = self._bars
        m.open.take(t1, axis=0, out=open_)
        m.close.take(t1, axis=0, out=close)
        m.atr_ratio.take(t, axis=0, out=atr_ratio)
        m.inv_dv.take(t, axis=0, out=inv_dv)
        m.day.take(t1, out=self._day)
        reward = self.transition(self.acct, self.weights(actions), open_, close, atr_ratio, inv_dv,
                                 self._day[:, None])[:, 0]
        self._t1, self.t = t, t1
        self.ep_return += reward
        self.ep_length += 1
        terminated = self.acct.equity[:, 0] <= 0.0
        truncated = (t1 >= self.end) & ~terminated
        return reward, terminated, truncated

    def observe(self, rows: np.ndarray | None = None) -> np.ndarray:
        """Observations (float32, ``(len(rows), obs_dim)``) at each env's current bar."""
        if rows is None and self._table is not None:
            return self._observe_all()
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

    def _observe_all(self) -> np.ndarray:
        """:meth:`observe` for every env: one row gather, state columns computed into a float64 buffer."""
        a, t = self.acct, self.t
        obs = np.take(self._table, t, axis=0)
        eq, c, tmp, state = self._obs_buf
        np.maximum(a.equity, 1e-9, out=eq)
        self.market.close.take(t, axis=0, out=c)
        single = self.layout == "single"
        # columns: single (pos, cash, upnl, tip); portfolio per slot (pos, upnl, tip, mask), then cash
        pos, upnl, tip = (state[:, k:k + 1] for k in (0, 2, 3)) if single else (state[:, :, k] for k in range(3))
        np.multiply(a.shares, c, out=pos)
        np.divide(pos, eq, out=pos)
        np.subtract(c, a.avg_price, out=tmp)
        np.multiply(a.shares, tmp, out=upnl)
        np.divide(upnl, eq, out=upnl)
        np.add(a.held, self.config.window, out=tmp)
        np.divide(a.held, tmp, out=tip)
        if single:
            np.divide(a.cash, eq, out=state[:, 1:2])
            obs[:, self.n_window:] = state
        else:
            obs[:, self.n_window:-1] = state.reshape(self.n_envs, -1)
            np.divide(a.cash[:, 0], eq[:, 0], out=obs[:, -1], casting="same_kind")
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
            "shares": float(a.shares[i, 0]) if self.layout == "single" else a.shares[i, : self.market.n_active].tolist(),
            "cash": float(a.cash[i, 0]),
            "bar": int(self.t[i]),
        }

    def infos(self, rows: np.ndarray) -> list[dict]:
        """:meth:`info` of several envs at once (array maths, same values: IEEE ops throughout)."""
        from tradelab.envs.core import ARRAY_OPS

        a, t = self.acct, self.t[rows]
        equity = a.equity[rows, 0]
        sharpe = running_sharpe(a.sum_r[rows, 0], a.sum_r2[rows, 0], a.n_steps[rows, 0],
                                self.params.reward.sqrt_periods, ARRAY_OPS)
        exposure = a.shares[rows] * self.market.close[t] / np.maximum(equity, 1e-9)[:, None]
        exposure = exposure[:, 0].tolist() if self.layout == "single" else exposure[:, : self.market.n_active].tolist()
        total_return = equity / self.config.initial_cash - 1.0
        shares = a.shares[rows, 0].tolist() if self.layout == "single" else a.shares[rows, : self.market.n_active].tolist()
        cols = (equity.tolist(), total_return.tolist(), sharpe.tolist(), a.max_dd[rows, 0].tolist(),
                a.n_trades[rows, 0].astype(np.int64).tolist(), a.costs_paid[rows, 0].tolist(), exposure, shares,
                a.cash[rows, 0].tolist(), t.tolist())
        keys = ("equity", "total_return", "sharpe_ratio", "max_drawdown", "n_trades", "costs_paid", "position",
                "shares", "cash", "bar")
        return [dict(zip(keys, values)) for values in zip(*cols)]
