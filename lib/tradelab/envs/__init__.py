"""Trading environments: single asset, portfolio (fixed slots + mask), batched SB3 VecEnvs.

The envs and ``vec`` (which imports stable-baselines3) load on first use of their names, so reading a
config (``tradelab.envs.config``: every training command's ``--help``) does not import pandas.
"""

from __future__ import annotations

import importlib
from typing import Any

from tradelab.envs.config import CostConfig, RewardConfig, TradingEnvConfig

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

_LAZY = {"BatchedTradingVecEnv": "tradelab.envs.vec", "BatchedPortfolioVecEnv": "tradelab.envs.vec",
         "make_vec_env": "tradelab.envs.vec", "PortfolioEnv": "tradelab.envs.portfolio_env",
         "TradingEnvironment": "tradelab.envs.trading_env"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'tradelab.envs' has no attribute {name!r}")
