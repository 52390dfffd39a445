"""tradelab: a notebook-first research workspace for training trading models.

Public names are imported lazily so ``import tradelab`` (and ``tradelab --help``) stays fast:
TensorFlow and torch load only when a name that needs them is first used. Importing tradelab
changes no process-wide state: the entry points (the ``tradelab`` CLI's ``main``, a notebook's
``setup_kernel()`` cell, the benchmark scripts) make the process-wide settings.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

# public name -> module that defines it
_LAZY = {
    # errors
    "TradelabError": "tradelab.errors",
    "DataError": "tradelab.errors",
    "ConfigError": "tradelab.errors",
    "CheckpointError": "tradelab.errors",
    "NotebookError": "tradelab.errors",
    "KaggleError": "tradelab.errors",
    # data + features
    "load_asset": "tradelab.data",
    "load_file": "tradelab.data",
    "compute_features": "tradelab.features",
    # supervised
    "build_enhanced_hybrid_model": "tradelab.models.hybrid",
    "load_artifacts": "tradelab.training.supervised",
    "load_and_split_data": "tradelab.training.supervised_data",
    "DataLoader": "tradelab.training.supervised_data",
    # envs
    "TradingEnvironment": "tradelab.envs.trading_env",
    "TradingEnvConfig": "tradelab.envs.config",
    "PortfolioEnv": "tradelab.envs.portfolio_env",
    # agents + trainers
    "SACAgent": "tradelab.agents.sac",
    "SACConfig": "tradelab.agents.sac",
    "KaggleTrainer": "tradelab.training.sac_trainer",
    # evaluation
    "backtest": "tradelab.evaluation.backtest",
}

__all__ = ["__version__", *_LAZY]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'tradelab' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
