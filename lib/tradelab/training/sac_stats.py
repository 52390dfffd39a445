"""What a SAC run records: per-episode and evaluation statistics, and where they are reported.

:func:`new_stats` (the nested stats dict a checkpoint carries), :func:`write_stats` / :func:`write_npz`
(``logs/training_stats.json`` with the seed guide's flat keys, ``logs/training_stats.npz``),
:class:`EpisodeStatsCallback` (reward and last ``info`` of the running episode),
:func:`evaluate_policy_on` (one deterministic validation pass) and :class:`RunMonitor` (run log file,
TensorBoard scalars, CPU/RSS/GPU samples). Used by :class:`~tradelab.training.sac_trainer.KaggleTrainer`.
"""

from __future__ import annotations

import io
import logging
from pathlib import Path
from typing import Any

import numpy as np

from tradelab.agents.sac import SACAgent
from tradelab.utils import atomic_write_bytes, atomic_write_json

__all__ = ["read_stats", "FLAT_STATS_KEYS", "new_stats", "write_stats", "write_npz", "EpisodeStatsCallback", "evaluate_policy_on",
           "RunMonitor"]

log = logging.getLogger("tradelab.sac")
#: Flat keys of ``logs/training_stats.json`` the seed guide's plotting snippet reads → (section, key).
FLAT_STATS_KEYS = {
    "episode_rewards": ("episodes", "reward"), "actor_losses": ("episodes", "actor_loss"),
    "critic_losses": ("episodes", "critic_loss"), "alpha_values": ("episodes", "alpha"),
    "eval_rewards": ("eval", "reward"), "eval_sharpe": ("eval", "sharpe_ratio"),
}


def new_stats() -> dict[str, Any]:
    """Empty statistics of a run: per-episode rows, evaluations, the best validation Sharpe so far."""
    from tradelab.training.monitor import RESOURCE_KEYS

    keys = ("episode", "reward", "actor_loss", "critic_loss", "alpha", "aux_loss", "steps", "wall_s", *RESOURCE_KEYS)
    return {"episodes": {k: [] for k in keys}, "eval": {"episode": [], "sharpe_ratio": [], "total_return": [],
                                                       "max_drawdown": [], "n_trades": [], "reward": []},
            "best_val_sharpe": None, "best_episode": None}


def write_stats(path: Path, stats: dict[str, Any]) -> None:
    """``logs/training_stats.json``: the nested form plus the seed's flat keys (``FLAT_STATS_KEYS``)."""
    flat = {name: list(stats.get(part, {}).get(key, [])) for name, (part, key) in FLAT_STATS_KEYS.items()}
    atomic_write_json(path, {**stats, **flat})


def read_stats(output_dir: str | Path) -> dict[str, Any]:
    """A run's ``logs/training_stats.json`` (what :func:`write_stats` wrote), e.g. after ``train(config)``."""
    import json

    return json.loads((Path(output_dir) / "logs" / "training_stats.json").read_text(encoding="utf-8"))


def write_npz(path: Path, stats: dict[str, Any]) -> None:
    """The per-episode and evaluation series as float arrays (``episode_*``, ``eval_*``), written atomically."""
    arrays = {f"episode_{k}": np.asarray(v, dtype=float) for k, v in stats["episodes"].items()}
    arrays |= {f"eval_{k}": np.asarray(v, dtype=float) for k, v in stats["eval"].items()}
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    atomic_write_bytes(path, buf.getvalue())


class EpisodeStatsCallback:
    """SB3 callback factory: sums rewards and keeps the last ``info`` of the running episode."""

    @staticmethod
    def make() -> Any:
        from stable_baselines3.common.callbacks import BaseCallback

        class _Callback(BaseCallback):
            def __init__(self) -> None:
                super().__init__()
                self.reward = 0.0
                self.steps = 0
                self.last_info: dict[str, Any] = {}

            def _on_step(self) -> bool:
                self.reward += float(np.sum(self.locals["rewards"]))
                self.steps += 1
                self.last_info = dict(self.locals["infos"][0])
                return True

        return _Callback()


def evaluate_policy_on(agent: SACAgent, env: Any) -> dict[str, float]:
    """One deterministic pass over an eval-mode env; the env's final info metrics."""
    obs, _ = env.reset(seed=0)
    total, info, done = 0.0, {}, False
    while not done:
        obs, reward, terminated, truncated, info = env.step(agent.select_action(obs, evaluate=True))
        total += float(reward)
        done = terminated or truncated
    keys = ("sharpe_ratio", "total_return", "max_drawdown", "n_trades", "costs_paid", "equity")
    out = {k: float(info[k]) for k in keys if k in info}
    out["reward"] = total
    return out


class RunMonitor:
    """Where a running SAC trainer reports: ``logs/training.log``, TensorBoard under ``tensorboard/``
    (``train/*``, ``eval/*``, ``resources/*``) and the resource samples of each episode."""

    def __init__(self, output_dir: Path) -> None:
        from torch.utils.tensorboard import SummaryWriter

        from tradelab.training.monitor import ResourceMonitor
        from tradelab.training.runlog import start_run_log

        self._log_handler = start_run_log(output_dir / "logs" / "training.log")
        self._resources = ResourceMonitor()
        self._writer = SummaryWriter(str(output_dir / "tensorboard"))

    def sample(self) -> dict[str, float]:
        """CPU %, RSS and GPU memory now (``tradelab.training.monitor.RESOURCE_KEYS``)."""
        return self._resources.sample()

    def log_scalars(self, part: str, row: dict[str, float], episode: int) -> None:
        """A row of finite numbers to TensorBoard (resources under ``resources/``) and one line to the log."""
        from tradelab.training.monitor import RESOURCE_KEYS

        for key, value in row.items():
            if key != "episode" and isinstance(value, (int, float)) and np.isfinite(value):
                tag = f"resources/{key}" if key in RESOURCE_KEYS else f"{part}/{key}"
                self._writer.add_scalar(tag, float(value), episode)
        log.info("episode %d %s: %s", episode, part,
                 ", ".join(f"{k}={v:.4g}" for k, v in row.items() if k != "episode" and isinstance(v, (int, float))))

    @staticmethod
    def postfix(row: dict[str, float]) -> dict[str, str]:
        """The progress bar's resource postfix of a row (empty without samples)."""
        from tradelab.training.monitor import format_postfix

        return format_postfix(row) if "cpu_percent" in row else {}

    def close(self) -> None:
        """Flush TensorBoard and detach the log file."""
        from tradelab.training.runlog import stop_run_log

        self._writer.close()
        stop_run_log(self._log_handler)
