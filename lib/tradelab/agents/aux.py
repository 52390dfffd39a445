"""Agent 2: SB3 SAC with an auxiliary next-bar-return head on the critic's features.

The critic gets an MLP features extractor (its first hidden layer); a linear head on those
features predicts the next bar's return (scaled by ``aux_target_scale``) and its MSE, times
``aux_weight``, is added to the critic loss, so the critic's representation is shaped by a
supervised signal as well as the TD target. The target travels through the replay buffer: the
env (or :class:`tradelab.agents.sac_data.NextReturnInfo`) puts ``info["next_return"]`` on each
step, :class:`AuxReplayBuffer` stores it beside the transition.

``AuxSAC.train`` is SB3 2.x ``SAC.train`` with the auxiliary term added (marked ``# aux``).
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
import torch as th
from gymnasium import spaces
from stable_baselines3.common.buffers import ReplayBuffer
from stable_baselines3.common.policies import ContinuousCritic
from stable_baselines3.common.torch_layers import BaseFeaturesExtractor
from stable_baselines3.common.utils import polyak_update
from stable_baselines3.sac.policies import SACPolicy
from torch import nn
from torch.nn import functional as F

from tradelab.agents.sb3_ext import TradelabSAC

__all__ = ["AuxReplayBuffer", "AuxCritic", "AuxSACPolicy", "AuxSAC", "MlpFeatures", "NEXT_RETURN_KEY"]

#: The ``info`` key holding the return of the bar after the decision (set by the env wrapper).
NEXT_RETURN_KEY = "next_return"


class AuxSamples(NamedTuple):
    """SB3's replay samples plus the auxiliary target."""

    observations: th.Tensor
    actions: th.Tensor
    next_observations: th.Tensor
    dones: th.Tensor
    rewards: th.Tensor
    discounts: th.Tensor | None
    aux_targets: th.Tensor


class AuxReplayBuffer(ReplayBuffer):
    """Replay buffer that also stores ``info["next_return"]`` for each transition (one env)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.aux_targets = np.zeros((self.buffer_size, self.n_envs), dtype=np.float32)

    def add(self, obs, next_obs, action, reward, done, infos: list[dict[str, Any]]) -> None:
        self.aux_targets[self.pos] = np.array([float(info.get(NEXT_RETURN_KEY, 0.0)) for info in infos])
        super().add(obs, next_obs, action, reward, done, infos)

    def _get_samples(self, batch_inds: np.ndarray, env=None) -> AuxSamples:  # type: ignore[override]
        base = super()._get_samples(batch_inds, env)
        aux = self.to_torch(self.aux_targets[batch_inds, 0].reshape(-1, 1))
        return AuxSamples(*base[:5], base.discounts, aux)


class MlpFeatures(BaseFeaturesExtractor):
    """One hidden layer (Linear + ReLU) used as the critic's (and actor's) features."""

    def __init__(self, observation_space: spaces.Box, features_dim: int = 256) -> None:
        super().__init__(observation_space, features_dim)
        n_in = int(np.prod(observation_space.shape))
        self.net = nn.Sequential(nn.Flatten(), nn.Linear(n_in, features_dim), nn.ReLU())

    def forward(self, observations: th.Tensor) -> th.Tensor:
        return self.net(observations)


class AuxCritic(ContinuousCritic):
    """SB3's twin-Q critic plus a linear next-return head on its features extractor's output."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.aux_head = nn.Linear(self.features_extractor.features_dim, 1)

    def predict_aux(self, obs: th.Tensor) -> th.Tensor:
        return self.aux_head(self.extract_features(obs, self.features_extractor))


class AuxSACPolicy(SACPolicy):
    """SAC policy whose critic (and target) is an :class:`AuxCritic`; the head joins the critic optimiser."""

    def make_critic(self, features_extractor: BaseFeaturesExtractor | None = None) -> AuxCritic:
        critic_kwargs = self._update_features_extractor(self.critic_kwargs, features_extractor)
        return AuxCritic(**critic_kwargs).to(self.device)


class AuxSAC(TradelabSAC):
    """SAC + auxiliary next-bar-return loss added to the critic loss.

    :param aux_weight: weight of the auxiliary MSE in the critic loss.
    :param aux_target_scale: the target is ``next_return * aux_target_scale`` (returns are ~1e-3).
    """

    def __init__(self, *args: Any, aux_weight: float = 0.5, aux_target_scale: float = 100.0, **kwargs: Any):
        self.aux_weight = float(aux_weight)
        self.aux_target_scale = float(aux_target_scale)
        kwargs.setdefault("replay_buffer_class", AuxReplayBuffer)
        super().__init__(*args, **kwargs)

    def train(self, gradient_steps: int, batch_size: int = 64) -> None:
        self.policy.set_training_mode(True)
        optimizers = [self.actor.optimizer, self.critic.optimizer]
        if self.ent_coef_optimizer is not None:
            optimizers += [self.ent_coef_optimizer]
        self._update_learning_rate(optimizers)
        for step in range(gradient_steps):
            data = self.replay_buffer.sample(batch_size, env=self._vec_normalize_env)  # type: ignore[union-attr]
            self._gradient_step(data, step)
        self._n_updates += gradient_steps

    def _gradient_step(self, data: AuxSamples, step: int) -> None:
        discounts = data.discounts if data.discounts is not None else self.gamma
        actions_pi, log_prob = self.actor.action_log_prob(data.observations)
        log_prob = log_prob.reshape(-1, 1)
        if self.ent_coef_optimizer is not None and self.log_ent_coef is not None:
            ent_coef = th.exp(self.log_ent_coef.detach())
            ent_coef_loss = -(self.log_ent_coef * (log_prob + self.target_entropy).detach()).mean()
            self.ent_coef_optimizer.zero_grad()
            ent_coef_loss.backward()
            self.ent_coef_optimizer.step()
        else:
            ent_coef = self.ent_coef_tensor
        with th.no_grad():
            next_actions, next_log_prob = self.actor.action_log_prob(data.next_observations)
            next_q = th.cat(self.critic_target(data.next_observations, next_actions), dim=1)
            next_q, _ = th.min(next_q, dim=1, keepdim=True)
            next_q = next_q - ent_coef * next_log_prob.reshape(-1, 1)
            target_q = data.rewards + (1 - data.dones) * discounts * next_q
        current_q = self.critic(data.observations, data.actions)
        critic_loss = 0.5 * sum(F.mse_loss(q, target_q) for q in current_q)
        aux_loss = F.mse_loss(self.critic.predict_aux(data.observations), data.aux_targets * self.aux_target_scale)  # aux
        self.critic.optimizer.zero_grad()
        (critic_loss + self.aux_weight * aux_loss).backward()  # aux
        self.critic.optimizer.step()
        q_pi = th.cat(self.critic(data.observations, actions_pi), dim=1)
        min_q_pi, _ = th.min(q_pi, dim=1, keepdim=True)
        actor_loss = (ent_coef * log_prob - min_q_pi).mean()
        self.actor.optimizer.zero_grad()
        actor_loss.backward()
        self.actor.optimizer.step()
        if step % self.target_update_interval == 0:
            polyak_update(self.critic.parameters(), self.critic_target.parameters(), self.tau)
            polyak_update(self.batch_norm_stats, self.batch_norm_stats_target, 1.0)
        self.log_losses(
            actor_loss=actor_loss.item(),
            critic_loss=critic_loss.item(),
            aux_loss=aux_loss.item(),
            alpha=float(ent_coef.item()),
        )
