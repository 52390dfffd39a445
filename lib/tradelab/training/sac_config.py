"""SAC run configuration (``configs/sac.yaml``): :class:`SACTrainingConfig` (agent, env and run settings)
and :data:`SMOKE_OVERRIDES` (the tiny budget of smoke runs).

Used by :class:`~tradelab.training.sac_trainer.KaggleTrainer`, which re-exports these names.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tradelab.agents.sac import SACConfig
from tradelab.config import CONFIG_DIR, ConfigBase
from tradelab.envs.config import TradingEnvConfig
from tradelab.errors import ConfigError

__all__ = ["DEFAULT_CONFIG", "SMOKE_OVERRIDES", "SACTrainingConfig"]

DEFAULT_CONFIG = CONFIG_DIR / "sac.yaml"

#: Dotted overrides for smoke runs (tests, demos): tiny networks and buffers, real code paths.
SMOKE_OVERRIDES: dict[str, Any] = {
    "sac.hidden_dims": [32, 32], "sac.batch_size": 32, "sac.buffer_capacity": 5000, "keep_replay_buffers": 1,
}


@dataclass(frozen=True)
class SACTrainingConfig(ConfigBase):
    """Everything the SAC trainer needs besides the command-line arguments (``configs/sac.yaml``)."""

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

        parse_max_runtime(self.max_runtime, "max_runtime")
        if self.episode_length < 2:
            raise ConfigError(f"episode_length = {self.episode_length} must be >= 2")
        if self.keep_replay_buffers < 0:
            raise ConfigError(f"keep_replay_buffers = {self.keep_replay_buffers} must be >= 0")
