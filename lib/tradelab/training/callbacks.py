"""SB3 callbacks shared by the PPO trainer, the curriculum and the tuner.

* :class:`TradingMetricsCallback` logs equity, total return, number of trades and episode reward
  of finished training episodes to TensorBoard (``trading/*``) beside SB3's losses.
* :class:`AtomicCheckpointCallback` is SB3's ``CheckpointCallback`` writing through a temp file.
* :class:`ValidationPruningCallback` reports the validation Sharpe to an Optuna trial and stops a
  run the trial's pruner rejects.
* :func:`read_scalars` reads the scalars of a TensorBoard run folder back into a DataFrame.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from stable_baselines3.common.callbacks import BaseCallback, CheckpointCallback

__all__ = ["TradingMetricsCallback", "AtomicCheckpointCallback", "ValidationPruningCallback", "read_scalars"]

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
            from tradelab.training.ppo import save_model_atomic

            save_model_atomic(self.model, self._checkpoint_path(extension="zip"))
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
