"""Small extensions of stable-baselines3's SAC shared by the three agents.

* :class:`TradelabSAC`: SB3 ``SAC`` with one learning rate per optimiser (actor, critic,
  entropy coefficient) and a per-update loss log the trainer reads after every episode.
* :class:`MlpTrunk`: an MLP features extractor, the shared policy/value trunk of PPO V3.
* :class:`SpacesEnv`: a do-nothing gymnasium env carrying only the observation/action spaces, so
  an agent can be built for inference (``SACAgent(config).load(path)``) without market data.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
import torch as th
from gymnasium import spaces
from stable_baselines3 import SAC
from stable_baselines3.common.torch_layers import BaseFeaturesExtractor
from torch import nn


class SpacesEnv(gym.Env):
    """An env that only carries spaces: SB3 needs one to build a model; it is never stepped in training."""

    def __init__(self, state_dim: int, action_dim: int) -> None:
        self.observation_space = spaces.Box(-np.inf, np.inf, (state_dim,), np.float32)
        self.action_space = spaces.Box(-1.0, 1.0, (action_dim,), np.float32)

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        return np.zeros(self.observation_space.shape, np.float32), {}

    def step(self, action):
        return np.zeros(self.observation_space.shape, np.float32), 0.0, True, False, {}


class TradelabSAC(SAC):
    """SB3 SAC with separate actor/critic/alpha learning rates and a loss log.

    :param lrs: ``{"actor": lr, "critic": lr, "alpha": lr}``; constant over training.
    """

    def __init__(self, *args: Any, lrs: dict[str, float] | None = None, **kwargs: Any) -> None:
        self.lrs = dict(lrs or {})
        self.loss_log: dict[str, list[float]] = {}
        super().__init__(*args, **kwargs)

    def _update_learning_rate(self, optimizers: Any) -> None:
        """Set each optimiser's own rate (SB3 would give all three the same schedule)."""
        named = {"actor": self.actor.optimizer, "critic": self.critic.optimizer}
        if self.ent_coef_optimizer is not None:
            named["alpha"] = self.ent_coef_optimizer
        for name, opt in named.items():
            lr = self.lrs.get(name, self.lr_schedule(self._current_progress_remaining))
            for group in opt.param_groups:
                group["lr"] = lr
        self.logger.record("train/learning_rate", self.lrs.get("actor", 0.0))

    def log_losses(self, **values: float) -> None:
        """Append one value per name to :attr:`loss_log` (read and cleared by the trainer)."""
        for name, value in values.items():
            self.loss_log.setdefault(name, []).append(float(value))

    def pop_losses(self) -> dict[str, float]:
        """Mean of each logged loss since the last call, then clear the log."""
        out = {k: float(np.mean(v)) for k, v in self.loss_log.items() if v}
        self.loss_log = {}
        return out

    def train(self, gradient_steps: int, batch_size: int = 64) -> None:
        super().train(gradient_steps, batch_size)
        values = self.logger.name_to_value
        self.log_losses(
            actor_loss=values["train/actor_loss"],
            critic_loss=values["train/critic_loss"],
            alpha=values["train/ent_coef"],
        )


class MlpTrunk(BaseFeaturesExtractor):
    """An MLP features extractor: with ``share_features_extractor=True`` and empty heads
    (``net_arch=dict(pi=[], vf=[])``) it is the *shared* policy/value trunk of the seed's V3 PPO network.

    :param net_arch: hidden layer sizes, e.g. ``[1024, 512, 256]``; the last is ``features_dim``.
    :param activation: ``tanh`` or ``relu`` after every layer.
    """

    def __init__(self, observation_space: spaces.Box, net_arch: list[int] | tuple[int, ...] = (1024, 512, 256),
                 activation: str = "tanh") -> None:
        sizes = [int(np.prod(observation_space.shape)), *[int(n) for n in net_arch]]
        super().__init__(observation_space, features_dim=sizes[-1])
        act = {"tanh": nn.Tanh, "relu": nn.ReLU}[activation]
        layers: list[nn.Module] = [nn.Flatten()]
        for n_in, n_out in zip(sizes[:-1], sizes[1:]):
            layers += [nn.Linear(n_in, n_out), act()]
        self.trunk = nn.Sequential(*layers)

    def forward(self, observations: th.Tensor) -> th.Tensor:
        return self.trunk(observations)
