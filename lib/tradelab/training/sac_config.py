"""SAC workflow configuration (``configs/sac.yaml``): :class:`SACTrainingConfig` holds every setting of a
run (agent, env, data, output folder, episodes, frequencies, agent id, resume) and
:data:`SMOKE_OVERRIDES` the tiny budget of smoke runs.

``tradelab train sac`` derives its flags from it (:mod:`tradelab.cli.config_flags`), notebook 02's
parameters are its keys, and :func:`tradelab.training.sac_trainer.train` runs it;
:class:`~tradelab.training.sac_trainer.KaggleTrainer` (the seed guide's keyword arguments) builds one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tradelab.agents.sac import SACConfig
from tradelab.config import CONFIG_DIR, ConfigBase
from tradelab.envs.config import TradingEnvConfig
from tradelab.errors import ConfigError

__all__ = ["PARAMETERS", "load_config", "DEFAULT_CONFIG", "SMOKE_OVERRIDES", "SACTrainingConfig"]

DEFAULT_CONFIG = CONFIG_DIR / "sac.yaml"

#: Dotted overrides for smoke runs (tests, demos): tiny networks and buffers, real code paths.
SMOKE_OVERRIDES: dict[str, Any] = {
    "sac.hidden_dims": [32, 32], "sac.batch_size": 32, "sac.buffer_capacity": 5000, "keep_replay_buffers": 1,
}


#: Short names of config keys: notebook 02's parameters and `tradelab train sac`'s flags (the seed guide's);
#: every other top-level key is its own name (``num_episodes``, ``agent_id`` ...).
PARAMETERS: dict[str, str] = {"device": "sac.device", "warmup_steps": "sac.warmup_steps", "resume": "resume_from"}


@dataclass(frozen=True)
class SACTrainingConfig(ConfigBase):
    """Every setting of a SAC run (``configs/sac.yaml``): what to train on, where, how long, and how."""

    h5_path: str | None = None
    """processed_data.h5 (a path or glob pattern); None: the first under /kaggle/input on Kaggle, else
    data/processed/processed_data.h5"""
    output_dir: str | None = None
    """run folder (best/final agents, checkpoints, logs, metrics.json); None: /kaggle/working on Kaggle,
    else outputs/sac"""
    asset: str | None = None
    """asset in the file; None: the first"""
    agent_id: int = 1
    """1 SAC, 2 SAC + auxiliary next-return head, 3 SAC + HMM regime probabilities"""
    num_episodes: int = 100
    """total training episodes (a resumed run continues up to this number)"""
    eval_frequency: int = 10
    """evaluate on the whole validation split every N episodes (and after the last)"""
    checkpoint_frequency: int = 5
    """resumable checkpoint (+ replay buffer) every N episodes"""
    resume_from: str | None = None
    """a checkpoint .pt, a run or checkpoints folder (its newest) or a glob pattern to continue from;
    None: the newest checkpoint in output_dir, if any"""
    fresh: bool = False
    """start over although output_dir holds checkpoints (they are removed)"""
    progress: bool = True
    """show a progress bar over episodes"""
    sac: SACConfig = field(default_factory=SACConfig)
    """Agent hyper-parameters."""
    env: TradingEnvConfig = field(default_factory=TradingEnvConfig)
    """Trading environment (costs, reward, window); ``episode_lengths`` is set from ``episode_length``."""
    episode_length: int = 1000
    """Env steps per training episode (clipped to the train split's length)."""
    seed: int = 0
    """Seed of the run (episode k is reseeded with seed * 100_003 + k)."""
    threads: int = 1
    """torch intra-op threads."""
    save_replay_buffer: bool = True
    """Write the replay buffer beside each periodic checkpoint so a resume continues it."""
    keep_replay_buffers: int = 1
    """How many periodic replay-buffer files to keep (the newest)."""
    final_test: bool = True
    """After training, backtest the best agent once on the test split vs baselines."""
    max_runtime: str | float | None = None
    """Wall-clock budget: seconds or '11h'/'90m'; None/'auto' = 11 h on Kaggle, unlimited locally; 'off'."""

    def validate(self) -> None:
        from tradelab.utils.runtime import parse_max_runtime

        for name in ("num_episodes", "eval_frequency", "checkpoint_frequency"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigError(f"{name} = {value!r} must be a whole number >= 1")
        if self.agent_id not in (1, 2, 3):
            raise ConfigError(f"agent_id = {self.agent_id!r} must be 1 (SAC), 2 (+ auxiliary head) or 3 (+ HMM regimes)")
        parse_max_runtime(self.max_runtime, "max_runtime")
        if self.episode_length < 2:
            raise ConfigError(f"episode_length = {self.episode_length} must be >= 2")
        if self.keep_replay_buffers < 0:
            raise ConfigError(f"keep_replay_buffers = {self.keep_replay_buffers} must be >= 0")


def load_config(path: str | Path | None = None, **overrides: Any) -> SACTrainingConfig:
    """``configs/sac.yaml`` (or ``path``) with dotted ``overrides``; the dataclass defaults when no YAML ships."""
    return SACTrainingConfig.from_yaml(path or (DEFAULT_CONFIG if DEFAULT_CONFIG.is_file() else None), **overrides)
