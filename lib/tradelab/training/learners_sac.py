"""SAC agents 1/2/3 on a planted-signal market (or any asset): train under a budget, test once at 1x costs.

:func:`run_sac` is the SAC runner of ``benchmarks/learning.py``, the demo's planted section and
``tests/test_learn_sac.py``. It builds the market through the normal data build
(``PLANTED_<KIND>_S<seed>`` → ``processed_data.h5``), trains with :class:`KaggleTrainer`'s own
episode / evaluation steps (validation Sharpe after every ``eval_every`` episodes; the best one is
kept, as in a normal run), stops at ``episodes`` or when ``budget_s`` CPU seconds of training are spent,
then backtests the best agent once on the TEST split at 1x costs through
:func:`tradelab.evaluation.backtest.backtest` — the same env and cost model as the references of
:func:`reference_results` (oracle, simple rule, buy-and-hold, flat).
"""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from tradelab.data.synthetic import PLANTED_KINDS, parse_planted_name, planted_market
from tradelab.errors import ConfigError
from tradelab.evaluation.learning import LearnerResult, build_market_h5, market_asset

__all__ = ["market_asset", "build_market_h5", "run_sac", "reference_results"]


def _training_config(agent_id: int, overrides: dict[str, Any]) -> Any:
    from tradelab.training.sac_trainer import DEFAULT_CONFIG, SACTrainingConfig

    bad = [k for k in overrides if "." not in k and k not in SACTrainingConfig.__dataclass_fields__]
    if bad:
        raise ConfigError(f"run_sac: unknown override(s) {bad}; use SACTrainingConfig fields or dotted keys "
                          "such as 'sac.gamma' / 'env.reward.kind'")
    return SACTrainingConfig.from_yaml(DEFAULT_CONFIG, **overrides)


def run_sac(market: str, seed: int, *, agent_id: int = 1, budget_s: float | None = None,
            episodes: int | None = None, workdir: str | Path | None = None, eval_every: int = 1,
            progress: bool = False, **overrides: Any) -> LearnerResult:
    """Train SAC agent ``agent_id`` on ``market`` (planted kind or asset) with ``seed``; test once at 1x.

    :param budget_s: stop after the episode that crosses this many CPU seconds of training (process time:
        with one thread that is the work done, whatever else shares the machine; None: no limit).
    :param episodes: most episodes to train (None: until ``budget_s`` is spent).
    :param workdir: where the data and the run folder go (default: a temporary folder, removed).
    :param eval_every: validation Sharpe (the learning curve, best-checkpoint choice) every this many episodes.
    :param overrides: dotted config overrides, e.g. ``{"sac.gamma": 0.9, "episode_length": 500}``.
    """
    if budget_s is None and episodes is None:
        raise ConfigError("run_sac: give budget_s (seconds of training) or episodes (or both)")
    if workdir is None:
        with tempfile.TemporaryDirectory(prefix="run_sac_") as tmp:
            return run_sac(market, seed, agent_id=agent_id, budget_s=budget_s, episodes=episodes, workdir=tmp,
                           eval_every=eval_every, progress=progress, **overrides)
    from tradelab.training.sac_trainer import KaggleTrainer

    h5 = build_market_h5(market, seed, workdir)
    config = _training_config(agent_id, {"seed": seed, "final_test": False, "save_replay_buffer": False, **overrides})
    max_episodes = int(episodes) if episodes is not None else 10_000
    run_dir = Path(workdir) / f"sac{agent_id}_{market_asset(market, seed).lower()}"
    if run_dir.exists():  # every learner run starts from scratch (no resume, no kept best of another run)
        shutil.rmtree(run_dir)
    trainer = KaggleTrainer(h5, run_dir, num_episodes=max_episodes, eval_frequency=eval_every,
                            checkpoint_frequency=max_episodes + 1, agent_id=agent_id, device="cpu",
                            config=config, progress=progress)
    cum_steps: dict[int, float] = {}

    def stop_after(episode: int, row: dict[str, float]) -> bool:
        cum_steps[episode] = cum_steps.get(episode - 1, 0.0) + float(row["steps"])
        # CPU seconds: a fair budget on a shared machine (one thread)
        return budget_s is not None and time.process_time() - c0 >= budget_s

    t0, c0 = time.perf_counter(), time.process_time()
    trainer.run_training(stop_after=stop_after)
    ev = trainer.stats["eval"]
    curve = [(cum_steps.get(int(e), float("nan")), float(v)) for e, v in zip(ev["episode"], ev["sharpe_ratio"])]
    episode = trainer.num_episodes
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    test = _test_backtest(trainer, run_dir / f"agent_{agent_id}_best.pt")
    return LearnerResult(
        learner=f"sac_agent_{agent_id}", market=market, seed=int(seed), test_sharpe=test["sharpe_ratio"],
        test_return=test["total_return"], wall_s=wall, steps=int(trainer.agent.model.num_timesteps), curve=curve,
        curve_metric="val_sharpe",
        extra={"episodes": episode, "best_episode": trainer.stats["best_episode"],
               "best_val_sharpe": trainer.stats["best_val_sharpe"], "test_n_trades": test.get("n_trades"),
               "test_max_drawdown": test.get("max_drawdown"), "asset": trainer.data.asset,
               "test_returns": test["returns"], "cpu_s": cpu},
    )


def _test_backtest(trainer: Any, best_path: Path) -> dict[str, Any]:
    """The one touch of the test split: the best-validation agent at 1x costs."""
    from tradelab.agents.sac import SACAgent
    from tradelab.agents.sac_data import history_features, prepare_features
    from tradelab.evaluation.backtest import backtest

    best = SACAgent(trainer.agent.config, agent_id=trainer.agent_id).load(best_path)
    frame = trainer.data.frames["test"]
    feats = prepare_features(frame, trainer.data.features["test"], best.spec)
    res = backtest(best, frame, feats, trainer.env_config, 1.0, name="sac", n_boot=10,
                   history=history_features(trainer.data, "test", best.spec))  # no zero-padded first windows
    eq = res.equity["equity"].to_numpy()
    out: dict[str, Any] = {k: float(v) for k, v in res.metrics.items() if isinstance(v, int | float)}
    return {**out, "returns": (np.diff(eq) / eq[:-1]).tolist()}


def reference_results(market: str, seed: int, *, workdir: str | Path | None = None,
                      env_config: Any = None, n_boot: int = 1000) -> dict[str, dict[str, Any]]:
    """Oracle, the market's rules, buy-and-hold and flat on the TEST split at 1x costs (same env and costs).

    Each entry holds ``sharpe_ratio``, ``total_return`` and the bar returns (``returns``, for
    bootstrap intervals). Only for planted markets.
    """
    from tradelab.agents.sac_data import load_split_data
    from tradelab.data.synthetic import reference_exposures
    from tradelab.evaluation.backtest import backtest

    parsed = parse_planted_name(market_asset(market, seed))
    if parsed is None:
        raise ConfigError(f"reference_results: {market!r} is not a planted market; use one of {PLANTED_KINDS}")
    if env_config is None:
        env_config = _training_config(1, {}).env
    if workdir is None:
        with tempfile.TemporaryDirectory(prefix="refs_") as tmp:
            return reference_results(market, seed, workdir=tmp, env_config=env_config, n_boot=n_boot)
    data = load_split_data(build_market_h5(market, seed, workdir))
    frame = data.frames["test"]
    planted = planted_market(*parsed)
    out = {}
    for name, exposure in reference_exposures(planted, frame.index).items():
        res = backtest(exposure, frame, None, env_config, 1.0, name=name, n_boot=n_boot)
        eq = res.equity["equity"].to_numpy()
        out[name] = {"sharpe_ratio": float(res.metrics["sharpe_ratio"]),
                     "total_return": float(res.metrics["total_return"]),
                     "returns": np.diff(eq) / eq[:-1]}
    out["main_rule"] = {"name": planted.main_rule, **out[planted.main_rule]}
    return out
