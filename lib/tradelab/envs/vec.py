"""SB3 VecEnvs: batched (array-stepped, no loop over envs), or SB3's Dummy/Subproc over single envs.

``BatchedTradingVecEnv`` gives the same observations, rewards and dones as ``n_envs`` copies of
:class:`TradingEnvironment` in a ``DummyVecEnv`` seeded alike (tested). To stay cheap at
N = 1024, ``infos`` carry the single-env metrics only on the step an episode ends (with
``terminal_observation``, ``TimeLimit.truncated`` and SB3's ``episode`` = {r, l, t}); read
:attr:`BatchedVecEnv.core` ``.acct`` arrays for per-step equity.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import gymnasium as gym
import numpy as np
import pandas as pd
from stable_baselines3.common.monitor import Monitor
from stable_baselines3.common.vec_env import DummyVecEnv, SubprocVecEnv, VecEnv, VecEnvWrapper

from tradelab.envs.batch import BatchCore
from tradelab.envs.config import RiskConfig, TradingEnvConfig
from tradelab.envs.market import build_market, check_frame, check_trainable, feature_array, history_array
from tradelab.envs.portfolio_env import PortfolioEnv, build_portfolio_market
from tradelab.envs.risk import RiskState, apply_risk, core_inputs, wrap_env
from tradelab.envs.trading_env import TradingEnvironment
from tradelab.errors import ConfigError

__all__ = ["BatchedVecEnv", "BatchedTradingVecEnv", "BatchedPortfolioVecEnv", "RiskVecEnvWrapper", "make_vec_env",
           "VEC_KINDS"]

VEC_KINDS = ("batched", "dummy", "subproc")


class BatchedVecEnv(VecEnv):
    """An SB3 VecEnv over a :class:`BatchCore`."""

    render_mode = None

    def __init__(self, core: BatchCore, action_dim: int, seed: int | None = None) -> None:
        self.core = core
        obs_space = gym.spaces.Box(-np.inf, np.inf, (core.obs_dim,), np.float32)
        act_space = gym.spaces.Box(-1.0, 1.0, (action_dim,), np.float32)
        super().__init__(core.n_envs, obs_space, act_space)
        self._actions: np.ndarray | None = None
        self._started = time.time()
        self._infos: list[dict] = [{} for _ in range(self.num_envs)]
        self._dirty: list[int] = []
        if seed is not None:
            self.seed(seed)

    def reset(self) -> np.ndarray:
        seeds = list(self._seeds) if self._seeds else [None] * self.num_envs
        self.core.reset_rows(np.arange(self.num_envs), seeds)
        self._reset_seeds()
        self.reset_infos = [{} for _ in range(self.num_envs)]
        return self.core.observe()

    def step_async(self, actions: np.ndarray) -> None:
        self._actions = actions

    def step_wait(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[dict]]:
        core = self.core
        for i in self._dirty:  # fresh dicts for the envs that ended last step
            self._infos[i] = {}
        rewards, terminated, truncated = core.step(self._actions)
        obs = core.observe()
        dones = terminated | truncated
        rows = np.flatnonzero(dones)
        self._dirty = rows.tolist()
        if len(rows):
            elapsed = round(time.time() - self._started, 6)
            terminal = obs[rows].copy()
            for k, (i, info) in enumerate(zip(self._dirty, core.infos(rows))):
                info["terminal_observation"] = terminal[k]
                info["TimeLimit.truncated"] = bool(truncated[i])
                info["episode"] = {"r": float(core.ep_return[i]), "l": int(core.ep_length[i]), "t": elapsed}
                self._infos[i] = info
            core.reset_rows(rows)
            obs[rows] = core.observe(rows)
        return obs, rewards.astype(np.float32), dones, list(self._infos)

    def close(self) -> None:
        return None

    def get_attr(self, attr_name: str, indices: Any = None) -> list[Any]:
        return [getattr(self, attr_name) for _ in self._get_indices(indices)]

    def set_attr(self, attr_name: str, value: Any, indices: Any = None) -> None:
        setattr(self, attr_name, value)

    def env_method(self, method_name: str, *args: Any, indices: Any = None, **kwargs: Any) -> list[Any]:
        return [getattr(self, method_name)(*args, **kwargs) for _ in self._get_indices(indices)]

    def env_is_wrapped(self, wrapper_class: type, indices: Any = None) -> list[bool]:
        return [False for _ in self._get_indices(indices)]


class BatchedTradingVecEnv(BatchedVecEnv):
    """``n_envs`` single-asset envs (same obs layout as :class:`TradingEnvironment`)."""

    def __init__(self, data: pd.DataFrame, features: Any, config: TradingEnvConfig | None = None,
                 n_envs: int = 8, seed: int | None = None, eval_mode: bool = False, history: Any = None) -> None:
        cfg = config or TradingEnvConfig()
        data = check_frame(data, "BatchedTradingVecEnv data")
        feats = feature_array(features, data, "BatchedTradingVecEnv features")
        past = None if history is None else history_array(history, feats.shape[1], "BatchedTradingVecEnv history")
        market = build_market([data], [feats], cfg.window, 1, cfg.costs.atr_window, cfg.costs.impact,
                              history=[past])
        if not eval_mode:
            check_trainable(market.n_bars, cfg.window, "BatchedTradingVecEnv data")
        super().__init__(BatchCore(market, cfg, n_envs, "single", eval_mode), 1, seed)


class BatchedPortfolioVecEnv(BatchedVecEnv):
    """``n_envs`` portfolio envs (same spaces as :class:`PortfolioEnv`)."""

    def __init__(self, data: dict[str, pd.DataFrame], features: dict[str, Any],
                 config: TradingEnvConfig | None = None, n_envs: int = 8, seed: int | None = None,
                 eval_mode: bool = False, history: dict[str, Any] | None = None) -> None:
        cfg = config or TradingEnvConfig()
        market = build_portfolio_market(data, features, cfg, history)
        if not eval_mode:
            check_trainable(market.n_bars, cfg.window, "BatchedPortfolioVecEnv data")
        super().__init__(BatchCore(market, cfg, n_envs, "portfolio", eval_mode), cfg.max_assets, seed)


class RiskVecEnvWrapper(VecEnvWrapper):
    """:func:`apply_risk` on a batched tradelab VecEnv (PPO training with ``risk.enabled``)."""

    def __init__(self, venv: Any, config: RiskConfig) -> None:
        super().__init__(venv)
        self.risk = config
        self.state = RiskState.new(venv.core.acct.equity[:, 0])

    @property
    def counts(self) -> dict[str, int]:
        return dict(self.state.counts)

    def reset(self) -> np.ndarray:
        obs = self.venv.reset()
        self.state.reset_rows(np.arange(self.num_envs), self.venv.core.acct.equity[:, 0])
        return obs

    def step_async(self, actions: np.ndarray) -> None:
        core = self.venv.core
        inputs = core_inputs(core, np.arange(self.num_envs), self.risk.vol_window)
        self.venv.step_async(apply_risk(actions, inputs, self.state, self.risk).astype(np.float32))

    def step_wait(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[dict]]:
        obs, rewards, dones, infos = self.venv.step_wait()
        rows = np.flatnonzero(dones)
        if len(rows):
            self.state.reset_rows(rows, self.venv.core.acct.equity[rows, 0])
        return obs, rewards, dones, infos


def make_vec_env(kind: str, data: Any, features: Any, config: TradingEnvConfig | None = None, n_envs: int = 8,
                 seed: int = 0, portfolio: bool = False) -> VecEnv:
    """A seeded SB3 VecEnv of ``n_envs`` training envs.

    :param kind: ``"batched"`` (array-stepped, fastest), ``"dummy"`` or ``"subproc"`` (SB3 over
        single envs, each wrapped in ``Monitor``).
    :param portfolio: ``data``/``features`` are dicts of aligned assets → portfolio envs.
    With ``config.risk.enabled`` the risk manager sits between the policy and every env.
    """
    if kind not in VEC_KINDS:
        raise ConfigError(f"vec env kind {kind!r} is unknown; use one of {VEC_KINDS}")
    if n_envs < 1:
        raise ConfigError(f"n_envs must be >= 1, got {n_envs}")
    cfg = config or TradingEnvConfig()
    if kind == "batched":
        cls = BatchedPortfolioVecEnv if portfolio else BatchedTradingVecEnv
        venv = cls(data, features, cfg, n_envs=n_envs, seed=seed)
        return RiskVecEnvWrapper(venv, cfg.risk) if cfg.risk.enabled else venv
    env_cls = PortfolioEnv if portfolio else TradingEnvironment
    fns: Sequence = [lambda: Monitor(wrap_env(env_cls(data, features, cfg), cfg)) for _ in range(n_envs)]
    venv = DummyVecEnv(list(fns)) if kind == "dummy" else SubprocVecEnv(list(fns))
    venv.seed(seed)
    return venv
