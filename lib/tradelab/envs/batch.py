"""N accounts stepped together with array operations: the engine of PortfolioEnv and the VecEnvs.

Observation layouts (``"single"``, ``"portfolio"``) and the ``info`` dict: :mod:`tradelab.envs.observation`.
There is no Python loop over environments in :meth:`BatchCore.step` (it runs
:class:`~tradelab.envs.inplace.InplaceTransition`, the array path of ``core.transition``, and
gathers observation rows from a precomputed table); only environments whose episode ends are reset
one by one (each draws from its own seeded generator, as a single env would).
"""

from __future__ import annotations

import numpy as np
from gymnasium.utils import seeding

from tradelab.envs.config import TradingEnvConfig
from tradelab.envs.core import CoreParams
from tradelab.envs.inplace import ArrayAccount, InplaceTransition
from tradelab.envs.market import Market, draw_episode
from tradelab.envs.observation import account_info, n_state, state_features, write_state

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
        self.obs_dim = self.n_window + n_state(layout, self.n_slots)
        # rows of ready-made observations (state columns filled per step): one contiguous gather per step
        n_bytes = market.n_bars * self.obs_dim * 4
        self._table = None
        if n_bytes <= TABLE_MAX_BYTES:
            self._table = np.zeros((market.n_bars, self.obs_dim), dtype=np.float32)
            self._table[:, : self.n_window] = market.windows
        self.acct = ArrayAccount(self.n_envs, self.n_slots, config.initial_cash)
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
        """Observations (float32, ``(len(rows), obs_dim)``) at each env's current bar; all envs when None."""
        a = self.acct
        sel = slice(None) if rows is None else rows
        t = self.t[sel]
        if self._table is not None:
            obs = np.take(self._table, t, axis=0)
        else:
            obs = np.empty((len(t), self.obs_dim), dtype=np.float32)
            obs[:, : self.n_window] = self.market.windows[t]
        close = self.market.close.take(t, axis=0)
        if self.layout == "single":  # (n,) columns
            state = state_features(a.shares[sel, 0], a.cash[sel, 0], a.avg_price[sel, 0], a.held[sel, 0],
                                   a.equity[sel, 0], close[:, 0], self.config.window)
            write_state(obs[:, self.n_window:], state)
        else:
            state = state_features(a.shares[sel], a.cash[sel], a.avg_price[sel], a.held[sel], a.equity[sel], close,
                                   self.config.window)
            write_state(obs[:, self.n_window:], state, self.mask)
        return obs

    def info(self, i: int) -> dict:
        """The ``info`` metrics of env ``i`` (values read one by one: cheaper than :meth:`infos` for one env)."""
        a, t, n = self.acct, int(self.t[i]), self.market.n_active
        if self.layout == "single":
            shares, close = a.shares.item(i, 0), self.market.close.item(t, 0)
        else:
            shares, close = a.shares[i, :n].tolist(), self.market.close[t, :n].tolist()
        return account_info(a.equity.item(i, 0), a.sum_r.item(i, 0), a.sum_r2.item(i, 0), a.n_steps.item(i, 0),
                            a.max_dd.item(i, 0), a.n_trades.item(i, 0), a.costs_paid.item(i, 0), a.cash.item(i, 0),
                            shares, close, t, self.config.initial_cash, self.params.reward.sqrt_periods)

    def infos(self, rows: np.ndarray) -> list[dict]:
        """:meth:`info` of several envs (columns read once, then one dict per env)."""
        a, t, n = self.acct, self.t[rows], self.market.n_active
        cols = [x[rows, 0].tolist() for x in (a.equity, a.sum_r, a.sum_r2, a.n_steps, a.max_dd, a.n_trades,
                                              a.costs_paid, a.cash)]
        if self.layout == "single":  # floats
            shares, close = a.shares[rows, 0].tolist(), self.market.close[t, 0].tolist()
        else:  # lists of the active slots
            shares, close = a.shares[rows, :n].tolist(), self.market.close[t, :n].tolist()
        cash0, sqrt_periods = self.config.initial_cash, self.params.reward.sqrt_periods
        # row: the eight columns, shares, close, bar (account_info's argument order)
        return [account_info(*row, cash0, sqrt_periods) for row in zip(*cols, shares, close, t.tolist())]
