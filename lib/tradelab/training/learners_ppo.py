"""PPO V3 and curriculum stage 1 on a planted-signal market (or any asset): train, test once at 1x costs.

:func:`run_ppo` and :func:`run_curriculum_stage1` are the PPO runners of ``benchmarks/learning.py``,
the demo's planted section and ``tests/test_learn_ppo.py``. Each builds the market through the normal
data build (``PLANTED_<KIND>_S<seed>`` → ``processed_data.h5``), trains with
:func:`tradelab.training.ppo.train_ppo` (VecNormalize, EvalCallback, checkpoints: a normal run) until
``timesteps`` or ``budget_s`` of training wall time, measures the validation Sharpe every
``training.eval_freq`` steps (the learning curve; the best one is kept, as best-checkpoint selection on
validation), then backtests that policy once on the TEST split at 1x costs through
:func:`tradelab.evaluation.backtest.backtest`, the env and cost model of the references.
"""

from __future__ import annotations

import copy
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
from stable_baselines3.common.callbacks import BaseCallback

from tradelab.errors import ConfigError
from tradelab.evaluation.learning import LearnerResult, build_market_h5, market_asset

__all__ = ["market_asset", "build_market_h5", "ppo_config", "run_ppo", "run_curriculum_stage1"]


def ppo_config(market: str, seed: int, h5: Path, run_dir: Path, timesteps: int | None, stage1: bool,
               overrides: dict[str, Any]):
    """configs/ppo_v3.yaml (or curriculum stage 1 over it) on one asset, with ``overrides`` (dotted keys)."""
    from tradelab.config import CONFIG_DIR
    from tradelab.training.ppo import PPOV3Config

    bad = [k for k in overrides if "." not in k]
    if bad:
        raise ConfigError(f"PPO runner: override(s) {bad} need a section, e.g. 'ppo.learning_rate' or "
                          "'env.reward.kind' (configs/ppo_v3.yaml)")
    run = {"data.assets": [market_asset(market, seed)], "data.h5_path": str(h5), "training.seed": int(seed),
           "training.total_timesteps": int(timesteps or 10**9), "training.progress_bar": False,
           "training.tensorboard": False, "output_dir": str(run_dir)}
    if not stage1:  # one asset: one slot (max_assets only matters to transfer weights between asset sets)
        return PPOV3Config.from_yaml(CONFIG_DIR / "ppo_v3.yaml", **{**run, "env.max_assets": 1, **overrides})
    from tradelab.training.curriculum import load_curriculum, stage_ppo_config

    cfg = stage_ppo_config(load_curriculum(), 1, seed=int(seed), timesteps=int(timesteps or 10**9))
    data = cfg.to_dict()
    from tradelab.config import set_dotted

    for key, value in {**run, **overrides}.items():
        set_dotted(data, key, value)
    return PPOV3Config.from_dict(data, "curriculum stage 1")


class _ValCurve(BaseCallback):
    """Every ``every`` steps: validation Sharpe (the curve) and a copy of the best policy; stop at ``budget_s``."""

    def __init__(self, every: int, val_sharpe: Any, budget_s: float | None) -> None:
        super().__init__(verbose=0)
        self.every, self.val_sharpe, self.budget_s = every, val_sharpe, budget_s
        self.curve: list[tuple[float, float]] = []
        self.best: tuple[float, Any, Any] | None = None
        self.t0 = time.perf_counter()
        self.eval_s = 0.0
        self._next = every

    def _measure(self) -> None:
        t = time.perf_counter()
        value = float(self.val_sharpe(self.model))
        self.curve.append((float(self.num_timesteps), value))
        if self.best is None or value > self.best[0]:
            vn = self.model.get_vec_normalize_env()
            self.best = (value, copy.deepcopy(self.model.policy.state_dict()),
                         vn.obs_rms.copy() if vn is not None else None)
        self.eval_s += time.perf_counter() - t

    def _on_step(self) -> bool:
        if self.num_timesteps >= self._next:
            self._next += self.every
            self._measure()
        return self.budget_s is None or time.perf_counter() - self.t0 - self.eval_s < self.budget_s

    def _on_training_end(self) -> None:
        if not self.curve or self.curve[-1][0] < self.num_timesteps:
            self._measure()


def _run(learner: str, market: str, seed: int, budget_s: float | None, timesteps: int | None,
         workdir: str | Path | None, stage1: bool, overrides: dict[str, Any]) -> LearnerResult:
    if budget_s is None and timesteps is None:
        raise ConfigError(f"{learner}: give budget_s (seconds of training) or timesteps (or both)")
    if workdir is None:
        with tempfile.TemporaryDirectory(prefix=f"{learner}_") as tmp:
            return _run(learner, market, seed, budget_s, timesteps, tmp, stage1, overrides)
    from tradelab.training.multiasset import prepare_data
    from tradelab.training.ppo import RunLayout, evaluate_split, train_ppo

    h5 = build_market_h5(market, seed, workdir)
    run_dir = Path(workdir) / f"{learner}_{market_asset(market, seed).lower()}"
    if run_dir.exists():  # every learner run starts from scratch (no resume, no kept best of another run)
        shutil.rmtree(run_dir)
    cfg = ppo_config(market, seed, h5, run_dir, timesteps, stage1, overrides)
    d = cfg.data
    prepared = prepare_data(d.assets, d.h5_path, d.fractions, d.purge_gap, d.min_overlap, splits=("train", "val"))
    val = prepared.split("val")
    curve_cb = _ValCurve(cfg.training.eval_freq, lambda m: evaluate_split(m, cfg, val)["sharpe_ratio"], budget_s)
    t0 = time.perf_counter()
    result = train_ppo(cfg, RunLayout.default(run_dir), prepared, extra_callbacks=[curve_cb])
    wall = time.perf_counter() - t0
    model = result["model"]
    best_val, state, obs_rms = curve_cb.best
    model.policy.load_state_dict(state)
    vn = model.get_vec_normalize_env()
    if vn is not None and obs_rms is not None:
        vn.obs_rms = obs_rms
    test = _test_backtest(model, cfg, prepared.load("test"))
    return LearnerResult(
        learner=learner, market=market, seed=int(seed), test_sharpe=float(test["sharpe_ratio"]),
        test_return=float(test["total_return"]), wall_s=wall, steps=int(result["num_timesteps"]),
        curve=curve_cb.curve, curve_metric="val_sharpe",
        extra={"best_val_sharpe": best_val, "eval_reward_curve": _eval_rewards(run_dir),
               "test_n_trades": test.get("n_trades"), "test_max_drawdown": test.get("max_drawdown"),
               "asset": d.assets[0], "test_returns": test["returns"], "eval_s": curve_cb.eval_s},
    )


def _eval_rewards(run_dir: Path) -> list[tuple[float, float]]:
    """EvalCallback's validation episode rewards (raw env reward) by step: the PPO training curve."""
    path = run_dir / "eval" / "evaluations.npz"
    if not path.is_file():
        return []
    with np.load(path) as f:
        return [(float(t), float(np.mean(r))) for t, r in zip(f["timesteps"], f["results"])]


def _test_backtest(model: Any, cfg: Any, split: Any) -> dict[str, Any]:
    """The one touch of the test split: the best-validation policy at 1x costs (with its obs statistics)."""
    from tradelab.evaluation.backtest import backtest
    from tradelab.training import vecnorm
    from tradelab.training.ppo import env_config

    res = backtest(vecnorm.policy(model), split.ohlcv, split.features, env_config(cfg), 1.0, "ppo", n_boot=200,
                   history=getattr(split, "history", None))  # first windows from the purge-gap bars
    out = dict(res.metrics)
    out["returns"] = [float(x) for x in res.equity["equity"].pct_change().fillna(0.0).to_numpy()]
    return out


def run_ppo(market: str, seed: int, *, budget_s: float | None = None, timesteps: int | None = None,
            workdir: str | Path | None = None, **overrides: Any) -> LearnerResult:
    """PPO V3 (configs/ppo_v3.yaml) on ``market`` (planted kind or asset) with ``seed``; test once at 1x.

    :param budget_s: stop once this much training wall time (validation measurements excluded) is spent.
    :param timesteps: most environment steps (None: only the budget stops it).
    :param workdir: where the data and the run folder go (default: a temporary folder, removed).
    :param overrides: dotted config overrides, e.g. ``**{"ppo.learning_rate": 1e-4}``.
    """
    return _run("ppo_v3", market, seed, budget_s, timesteps, workdir, False, overrides)


def run_curriculum_stage1(market: str, seed: int, *, budget_s: float | None = None, timesteps: int | None = None,
                          workdir: str | Path | None = None, **overrides: Any) -> LearnerResult:
    """Curriculum stage 1 (configs/curriculum.yaml's stage-1 values over ppo_v3.yaml) on ``market``.

    Same arguments as :func:`run_ppo`; ``extra["gate_passed"]`` says whether the best validation Sharpe
    reached the stage's ``sharpe_target``.
    """
    from tradelab.training.curriculum import load_curriculum

    res = _run("curriculum_stage1", market, seed, budget_s, timesteps, workdir, True, overrides)
    target = load_curriculum().get(1).sharpe_target
    res.extra.update(sharpe_target=target, gate_passed=bool(res.extra["best_val_sharpe"] >= target))
    return res
