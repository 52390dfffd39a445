"""Single-asset trading environment (gymnasium), continuous target exposure in [-1, 1].

Timing: the action chosen on the observation of bar t is filled at bar t+1's open plus costs,
and the account is marked at bar t+1's close. The observation of bar t holds the scaled
features of bars t-window+1 .. t, then position (exposure), cash fraction, unrealised PnL
(fraction of equity) and time in position (held/(held+window)), built by
:mod:`tradelab.envs.observation` like every env's. The step is :func:`tradelab.envs.core.transition`
on Python floats (a few µs; numpy calls on one row would cost ~10× more); the batched VecEnv's array
path is tested bit-identical to it.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
import pandas as pd

from tradelab.envs.config import TradingEnvConfig
from tradelab.envs.core import Account, CoreParams, transition
from tradelab.envs.market import (
    build_market,
    check_frame,
    check_trainable,
    draw_episode,
    feature_array,
    history_array,
)
from tradelab.envs.observation import STATE_FEATURES, account_info, state_features, write_state

__all__ = ["TradingEnvironment", "N_STATE_FEATURES"]

#: position, cash fraction, unrealised PnL, time in position
N_STATE_FEATURES = len(STATE_FEATURES)


class TradingEnvironment(gym.Env):
    """One asset; ``eval_mode=True`` runs the whole split once from its first bar.

    :param data: canonical OHLCV frame (DatetimeIndex, open/high/low/close/volume).
    :param features: SCALED features, one row per bar of ``data`` (DataFrame or array).
    :param config: :class:`TradingEnvConfig` (costs, reward, window, episode lengths...).
    :param eval_mode: deterministic full-split episode instead of random training episodes.
    :param history: scaled features of the bars just before ``data`` (e.g. the purge gap before a
        validation/test split); the first ``window - 1`` observations take their earlier rows from it
        instead of zeros. None: zero padding.
    """

    metadata = {"render_modes": []}

    def __init__(self, data: pd.DataFrame, features: pd.DataFrame | np.ndarray,
                 config: TradingEnvConfig | None = None, eval_mode: bool = False,
                 history: pd.DataFrame | np.ndarray | None = None) -> None:
        super().__init__()
        self.config = cfg = config or TradingEnvConfig()
        data = check_frame(data, "TradingEnvironment data")
        feats = feature_array(features, data, "TradingEnvironment features")
        past = None if history is None else history_array(history, feats.shape[1], "TradingEnvironment history")
        self.market = m = build_market([data], [feats], cfg.window, 1, cfg.costs.atr_window, cfg.costs.impact,
                                       history=[past])
        self.eval_mode = bool(eval_mode)
        if not eval_mode:
            check_trainable(m.n_bars, cfg.window, "TradingEnvironment data")
        self.params = CoreParams.build(cfg, m.periods_per_year, m.intraday)
        # per bar, one-slot lists of floats: the hot path reads no numpy
        self._open, self._close, self._atr, self._idv = (x.tolist() for x in (m.open, m.close, m.atr_ratio, m.inv_dv))
        self._day = m.day.tolist()
        self._low = 0.0 if cfg.long_only else -1.0
        self._n_window = cfg.window * m.n_features
        n_obs = self._n_window + N_STATE_FEATURES
        self.observation_space = gym.spaces.Box(-np.inf, np.inf, (n_obs,), np.float32)
        self.action_space = gym.spaces.Box(-1.0, 1.0, (1,), np.float32)
        self.acct = Account(1, cfg.initial_cash)
        self._t = self._start = 0
        self._end = m.n_bars - 1

    @property
    def index(self) -> pd.DatetimeIndex:
        """Timestamps of the bars."""
        return self.market.index

    @property
    def t(self) -> int:
        """Index of the current decision bar."""
        return self._t

    def reset(self, *, seed: int | None = None, options: dict | None = None) -> tuple[np.ndarray, dict]:
        super().reset(seed=seed)
        m = self.market
        self._start, self._end = draw_episode(self.np_random, self.config.episode_lengths, m.n_bars,
                                              self.config.window, self.eval_mode)
        self._t = self._start
        self.acct = Account(1, self.config.initial_cash)
        return self._obs(), self._info()

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict]:
        try:
            a = float(action[0])
        except (TypeError, IndexError):
            a = float(action)
        a = min(max(a, self._low), 1.0) if a == a else 0.0
        t = self._t
        if t >= self._end:
            raise RuntimeError("step() called after the episode ended; call reset() first")
        reward = transition(self.acct, [a], self._open[t + 1], self._close[t + 1], self._atr[t], self._idv[t],
                            self._day[t + 1], self.params)
        self._t = t + 1
        terminated = self.acct.equity <= 0.0
        truncated = self._t >= self._end and not terminated
        return self._obs(), float(reward), terminated, truncated, self._info()

    def _obs(self) -> np.ndarray:
        acct, t = self.acct, self._t
        obs = np.empty(self._n_window + N_STATE_FEATURES, dtype=np.float32)
        obs[: self._n_window] = self.market.windows[t]
        write_state(obs[self._n_window:], state_features(acct.shares[0], acct.cash, acct.avg_price[0], acct.held[0],
                                                         acct.equity, self._close[t][0], self.config.window, max))
        return obs

    def _info(self) -> dict[str, Any]:
        a = self.acct
        return account_info(a.equity, a.sum_r, a.sum_r2, a.n_steps, a.max_dd, a.n_trades, a.costs_paid, a.cash,
                            a.shares[0], self._close[self._t][0], self._t, self.config.initial_cash,
                            self.params.reward.sqrt_periods)
