"""Multi-asset trading environment with fixed asset slots and a mask.

Observation and action spaces depend only on ``(max_assets, window, n_features)``, so a policy
trained on 1 asset transfers unchanged to 3 or 5 (the curriculum relies on it). Action: one
target weight per slot in [-1, 1] (long-only: [0, 1]); empty slots are ignored and gross
exposure above 1 is scaled down to 1. Same fills (decision at t, fill at t+1 open) and costs as
the single-asset env. Observation layout: see :mod:`tradelab.envs.batch`.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
import pandas as pd

from tradelab.envs.batch import BatchCore
from tradelab.envs.config import TradingEnvConfig
from tradelab.envs.market import (
    Market,
    build_market,
    check_frame,
    check_trainable,
    feature_array,
    history_array,
)
from tradelab.errors import DataError

__all__ = ["PortfolioEnv", "build_portfolio_market"]


def build_portfolio_market(data: dict[str, pd.DataFrame], features: dict[str, Any],
                           config: TradingEnvConfig, history: dict[str, Any] | None = None) -> Market:
    """Validate aligned assets and stack them into ``config.max_assets`` slots.

    ``history``: ``{asset: scaled feature rows before the data}`` for the first windows (see
    :func:`tradelab.envs.market.build_market`).
    """
    if not isinstance(data, dict) or not data:
        raise DataError("PortfolioEnv data must be a non-empty dict {asset: OHLCV DataFrame}")
    missing = [k for k in data if k not in features]
    if missing:
        raise DataError(f"PortfolioEnv features: no features for asset(s) {missing}; pass one array per asset")
    frames = [check_frame(df, f"PortfolioEnv data[{name!r}]") for name, df in data.items()]
    feats = [feature_array(features[name], df, f"PortfolioEnv features[{name!r}]") for name, df in data.items()]
    past = None
    if history is not None:
        past = [None if history.get(name) is None else
                history_array(history[name], feats[0].shape[1], f"PortfolioEnv history[{name!r}]") for name in data]
    return build_market(frames, feats, config.window, config.max_assets, config.costs.atr_window,
                        config.costs.impact, list(data), past)


class PortfolioEnv(gym.Env):
    """Several aligned assets in ``config.max_assets`` slots.

    :param data: ``{asset: OHLCV frame}``, all with the same timestamps.
    :param features: ``{asset: scaled features}`` row-aligned with each frame, same width.
    :param config: :class:`TradingEnvConfig`.
    :param eval_mode: run the whole period once from its first bar.
    :param history: ``{asset: scaled feature rows before the data}``: real rows for the first windows.
    """

    metadata = {"render_modes": []}

    def __init__(self, data: dict[str, pd.DataFrame], features: dict[str, Any],
                 config: TradingEnvConfig | None = None, eval_mode: bool = False,
                 history: dict[str, Any] | None = None) -> None:
        super().__init__()
        self.config = cfg = config or TradingEnvConfig()
        self.assets = list(data)
        market = build_portfolio_market(data, features, cfg, history)
        if not eval_mode:
            check_trainable(market.n_bars, cfg.window, "PortfolioEnv data")
        self.core = BatchCore(market, cfg, 1, "portfolio", eval_mode)
        self.observation_space = gym.spaces.Box(-np.inf, np.inf, (self.core.obs_dim,), np.float32)
        self.action_space = gym.spaces.Box(-1.0, 1.0, (cfg.max_assets,), np.float32)

    @property
    def market(self) -> Market:
        return self.core.market

    @property
    def mask(self) -> np.ndarray:
        """1 for slots holding an asset, 0 for empty slots."""
        return self.core.mask[0].copy()

    def reset(self, *, seed: int | None = None, options: dict | None = None) -> tuple[np.ndarray, dict]:
        super().reset(seed=seed)
        self.core.rngs[0] = self.np_random
        self.core.reset_rows([0])
        return self.core.observe()[0], self.core.info(0)

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict]:
        reward, terminated, truncated = self.core.step(np.asarray(action, dtype=np.float64).reshape(1, -1))
        return self.core.observe()[0], float(reward[0]), bool(terminated[0]), bool(truncated[0]), self.core.info(0)
