"""SB3 callbacks shared by the PPO trainer, the curriculum and the tuner.

* :class:`TradingMetricsCallback` logs equity, total return, number of trades and episode reward
  of finished training episodes to TensorBoard (``trading/*``) beside SB3's losses.
* :class:`AtomicCheckpointCallback` is SB3's ``CheckpointCallback`` writing through a temp file.
* :class:`ValidationPruningCallback` reports the validation Sharpe to an Optuna trial and stops a
  run the trial's pruner rejects.
* :class:`ResumableEvalCallback` is SB3's ``EvalCallback`` whose ``best_model.zip``, ``best_model.json``
  and ``eval/evaluations.npz`` are written atomically and restored on resume (best score + history).
* :class:`MaxRuntimeCallback` stops training cleanly when the wall-clock budget is spent.
* :func:`read_scalars` reads the scalars of a TensorBoard run folder back into a DataFrame.
"""

from __future__ import annotations

import json
import math
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from stable_baselines3.common.callbacks import BaseCallback, CheckpointCallback, EvalCallback

from tradelab.training.ppo_io import save_model_atomic
from tradelab.utils import atomic_write_json

__all__ = ["TradingMetricsCallback", "AtomicCheckpointCallback", "ValidationPruningCallback", "read_scalars",
           "ResumableEvalCallback", "MaxRuntimeCallback", "restore_eval_history"]

TRADING_KEYS = ("equity", "total_return", "n_trades")


class TradingMetricsCallback(BaseCallback):
    """Record ``trading/{equity,total_return,n_trades,episode_reward}`` when episodes end."""

    def _on_training_start(self) -> None:
        self._returns = np.zeros(self.training_env.num_envs, dtype=np.float64)

    def _on_step(self) -> bool:
        rewards = np.asarray(self.locals.get("rewards", 0.0), dtype=np.float64)
        self._returns += rewards
        dones = np.asarray(self.locals.get("dones", []), dtype=bool)
        infos = self.locals.get("infos", [])
        for i in np.flatnonzero(dones):
            info = infos[i] if i < len(infos) else {}
            for key in TRADING_KEYS:
                if key in info and np.isfinite(info[key]):
                    self.logger.record_mean(f"trading/{key}", float(info[key]))
            self.logger.record_mean("trading/episode_reward", float(self._returns[i]))
            self._returns[i] = 0.0
        return True


class AtomicCheckpointCallback(CheckpointCallback):
    """``{prefix}_{steps}_steps.zip`` every ``save_freq`` calls, written atomically."""

    def _on_step(self) -> bool:
        if self.n_calls % self.save_freq == 0:
            save_model_atomic(self.model, self._checkpoint_path(extension="zip"))
        return True


def restore_eval_history(best_dir: str | Path, up_to_step: int | None = None) -> dict[str, Any]:
    """What a previous run's eval callback recorded: history (up to ``up_to_step``) and best score.

    ``evaluations.npz`` is read with ``allow_pickle=False``; the best score comes from
    ``best_model.json`` (written with ``best_model.zip``), so a best model saved after the checkpoint
    we resume from still guards against being replaced by a worse one.
    """
    best_dir = Path(best_dir)
    out: dict[str, Any] = {"timesteps": [], "results": [], "ep_lengths": [], "best_mean_reward": -np.inf,
                           "best_timestep": None}
    npz = best_dir / "eval" / "evaluations.npz"
    if npz.is_file():
        try:
            with np.load(npz, allow_pickle=False) as f:
                steps, results, lengths = f["timesteps"], f["results"], f["ep_lengths"]
        except (OSError, ValueError, KeyError) as exc:
            print(f"note: ignoring unreadable {npz} ({exc})")
        else:
            keep = [i for i, s in enumerate(steps) if up_to_step is None or int(s) <= up_to_step]
            out["timesteps"] = [int(steps[i]) for i in keep]
            out["results"] = [list(map(float, results[i])) for i in keep]
            out["ep_lengths"] = [list(map(int, lengths[i])) for i in keep]
            if out["results"]:
                means = [float(np.mean(r)) for r in out["results"]]
                out["best_mean_reward"] = max(means)
                out["best_timestep"] = out["timesteps"][int(np.argmax(means))]
    meta = best_dir / "best_model.json"
    if meta.is_file() and (best_dir / "best_model.zip").is_file():
        try:
            saved = json.loads(meta.read_text(encoding="utf-8"))
            if saved.get("best_mean_reward") is not None and float(saved["best_mean_reward"]) > out["best_mean_reward"]:
                out["best_mean_reward"], out["best_timestep"] = float(saved["best_mean_reward"]), saved.get("timestep")
        except (OSError, ValueError, TypeError) as exc:
            print(f"note: ignoring unreadable {meta} ({exc})")
    return out


class ResumableEvalCallback(EvalCallback):
    """``EvalCallback`` with atomic files and a resumable best score.

    SB3 writes ``best_model.zip`` and ``evaluations.npz`` in place (``O_TRUNC``, no rename) and starts
    its best score at -inf, so a resumed run overwrote a better model with a worse one. Here both are
    written through a temp file + rename, the best score is written to ``best_model.json`` beside the
    model, and :meth:`restore` puts the previous history and best score back before training resumes.
    """

    def __init__(self, eval_env: Any, best_model_save_path: str, log_path: str, **kwargs: Any) -> None:
        super().__init__(eval_env, best_model_save_path=best_model_save_path, log_path=log_path, **kwargs)
        self._best_dir, self._npz = Path(best_model_save_path), Path(log_path) / "evaluations.npz"
        self.restored_from: int | None = None

    def restore(self, up_to_step: int | None) -> dict[str, Any]:
        """Adopt the eval history (to ``up_to_step``) and best score left in the folder by a previous run."""
        prev = restore_eval_history(self._best_dir, up_to_step)
        self.evaluations_timesteps = list(prev["timesteps"])
        self.evaluations_results = list(prev["results"])
        self.evaluations_length = list(prev["ep_lengths"])
        self.best_mean_reward = float(prev["best_mean_reward"])
        self.restored_from = up_to_step
        return prev

    def _on_step(self) -> bool:
        real_log, real_best = self.log_path, self.best_model_save_path
        n_before, best_before = len(self.evaluations_timesteps), self.best_mean_reward
        tmp_log = str(self._npz.parent / f".evaluations.{os.getpid()}.tmp")
        self.log_path, self.best_model_save_path = tmp_log, None  # the parent writes nothing in place
        try:
            keep_going = super()._on_step()
        finally:
            self.log_path, self.best_model_save_path = real_log, real_best
        if len(self.evaluations_timesteps) > n_before and Path(tmp_log + ".npz").is_file():
            os.replace(tmp_log + ".npz", self._npz)
        if self.best_mean_reward > best_before:
            save_model_atomic(self.model, self._best_dir / "best_model.zip")
            atomic_write_json(self._best_dir / "best_model.json",
                              {"best_mean_reward": self.best_mean_reward, "timestep": int(self.num_timesteps)})
        return keep_going


class MaxRuntimeCallback(BaseCallback):
    """Stop ``learn`` once ``max_runtime`` seconds have passed since ``start`` (None: never)."""

    def __init__(self, max_runtime: float | None, start: float | None = None) -> None:
        super().__init__(0)
        self.max_runtime = max_runtime
        self.start = time.monotonic() if start is None else start
        self.stopped = False

    def _on_step(self) -> bool:
        if self.max_runtime is not None and time.monotonic() - self.start >= self.max_runtime:
            self.stopped = True
            return False
        return True


class ValidationPruningCallback(BaseCallback):
    """Every ``eval_freq`` steps: validation Sharpe → ``trial.report``; stop when pruned.

    :param evaluate: ``model -> float`` (the validation Sharpe; never the test split).
    """

    def __init__(self, trial: Any, evaluate: Callable[[Any], float], eval_freq: int) -> None:
        super().__init__(0)
        self.trial, self.evaluate, self.eval_freq = trial, evaluate, max(int(eval_freq), 1)
        self.pruned = False
        self.last_value: float | None = None
        self._next = self.eval_freq
        self._step = 0

    def _on_step(self) -> bool:
        if self.num_timesteps < self._next:
            return True
        self._next += self.eval_freq
        value = float(self.evaluate(self.model))
        self.last_value = value if math.isfinite(value) else -10.0
        self.trial.report(self.last_value, self._step)
        self._step += 1
        if self.trial.should_prune():
            self.pruned = True
            return False
        return True


def read_scalars(logdir: str | Path) -> Any:
    """All scalars under a TensorBoard folder as a long DataFrame (run, tag, step, value)."""
    import pandas as pd
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    rows = []
    for events in sorted(Path(logdir).rglob("events.out.tfevents.*")):
        acc = EventAccumulator(str(events.parent), size_guidance={"scalars": 0})
        acc.Reload()
        for tag in acc.Tags().get("scalars", []):
            rows += [(events.parent.name, tag, e.step, e.value) for e in acc.Scalars(tag)]
    return pd.DataFrame(rows, columns=["run", "tag", "step", "value"]).drop_duplicates()
