"""PPO V3 environments: the vectorised training env and the deterministic evaluation env over one split.

Both are :class:`~tradelab.envs.portfolio_env.PortfolioEnv` built from the config's ``env`` section,
in SB3's ``VecNormalize`` when ``training.normalize_obs``/``normalize_reward`` (statistics:
:mod:`tradelab.training.vecnorm`).
"""

from __future__ import annotations

from typing import Any

from tradelab.training.ppo_config import PPOV3Config

__all__ = ["env_config", "make_train_env", "make_eval_env"]


def env_config(cfg: PPOV3Config):
    """The TradingEnvConfig built from the ``env`` section."""
    from tradelab.envs.config import TradingEnvConfig

    return TradingEnvConfig.from_dict(dict(cfg.env), "env")


def make_train_env(cfg: PPOV3Config, split: Any, n_envs: int | None = None, seed: int | None = None,
                   kind: str | None = None):
    """Vectorised PortfolioEnv over one split (kind from ``training.vec_env``), in SB3's VecNormalize
    when ``training.normalize_obs``/``normalize_reward`` (statistics: :mod:`tradelab.training.vecnorm`)."""
    from tradelab.envs.vec import make_vec_env
    from tradelab.training import vecnorm

    t = cfg.training
    venv = make_vec_env(kind or t.vec_env, split.ohlcv, split.features, env_config(cfg),
                        n_envs=n_envs or t.n_envs, seed=t.seed if seed is None else seed, portfolio=True)
    if not (t.normalize_obs or t.normalize_reward):
        return venv
    return vecnorm.wrap(venv, cfg.ppo.gamma, norm_obs=t.normalize_obs, norm_reward=t.normalize_reward)


def make_eval_env(cfg: PPOV3Config, split: Any):
    """One deterministic (eval-mode) PortfolioEnv over a split, wrapped for SB3's EvalCallback."""
    from stable_baselines3.common.monitor import Monitor
    from stable_baselines3.common.vec_env import DummyVecEnv

    from tradelab.envs.portfolio_env import PortfolioEnv
    from tradelab.training import vecnorm

    ecfg = env_config(cfg)
    from tradelab.envs.risk import wrap_env

    past = getattr(split, "history", None)  # the bars before the split: no zero-padded first windows
    venv = DummyVecEnv([lambda: Monitor(wrap_env(PortfolioEnv(split.ohlcv, split.features, ecfg, eval_mode=True,
                                                              history=past), ecfg))])
    t = cfg.training
    if not (t.normalize_obs or t.normalize_reward):
        return venv
    # frozen statistics, raw rewards: EvalCallback copies the training env's statistics before each evaluation
    return vecnorm.wrap(venv, cfg.ppo.gamma, norm_obs=t.normalize_obs, norm_reward=False, training=False)
