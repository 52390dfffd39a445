"""Trading environments: single asset, portfolio (fixed slots + mask), batched SB3 VecEnvs.

``vec`` (which imports stable-baselines3) loads on first use of its names.
"""

from __future__ import annotations

import importlib
from typing import Any

from tradelab.envs.config import CostConfig, RewardConfig, TradingEnvConfig
from tradelab.envs.portfolio_env import PortfolioEnv
from tradelab.envs.trading_env import TradingEnvironment

__all__ = [
    "CostConfig",
    "RewardConfig",
    "TradingEnvConfig",
    "TradingEnvironment",
    "PortfolioEnv",
    "BatchedTradingVecEnv",
    "BatchedPortfolioVecEnv",
    "make_vec_env",
]

_LAZY = {"BatchedTradingVecEnv", "BatchedPortfolioVecEnv", "make_vec_env"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module("tradelab.envs.vec"), name)
    raise AttributeError(f"module 'tradelab.envs' has no attribute {name!r}")
