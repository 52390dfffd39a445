"""Agent 2: the auxiliary next-bar-return loss is in the critic loss and learns a learnable signal."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import torch
from gymnasium import spaces

from tradelab.agents.aux import AuxReplayBuffer, AuxSAC
from tradelab.agents.sac import SACAgent, SACConfig


class SignalEnv(gym.Env):
    """obs[0] is a signal; info["next_return"] = 0.01 × signal: a learnable auxiliary target."""

    def __init__(self, dim: int = 6, length: int = 64) -> None:
        self.observation_space = spaces.Box(-10, 10, (dim,), np.float32)
        self.action_space = spaces.Box(-1, 1, (1,), np.float32)
        self.dim, self.length = dim, length

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.t = 0
        self.x = self.np_random.normal(size=self.dim).astype(np.float32)
        return self.x, {}

    def step(self, action):
        signal = float(self.x[0])
        self.t += 1
        self.x = self.np_random.normal(size=self.dim).astype(np.float32)
        return self.x, float(action[0]) * signal, False, self.t >= self.length, {"next_return": 0.01 * signal}


def tiny_config(**kw) -> SACConfig:
    base = dict(hidden_dims=[32, 32], warmup_steps=32, batch_size=32, buffer_capacity=2000, device="cpu",
                train_freq=4, gradient_steps=2, seed=3)
    return SACConfig(**(base | kw))



def test_aux_loss_present_and_decreasing():
    torch.manual_seed(0)
    agent = SACAgent(tiny_config(warmup_steps=64, train_freq=1, gradient_steps=1), agent_id=2, env=SignalEnv())
    model = agent.model
    assert isinstance(model, AuxSAC) and isinstance(model.replay_buffer, AuxReplayBuffer)
    head_before = model.critic.aux_head.weight.detach().clone()
    curve = []
    for _ in range(6):
        model.learn(96, reset_num_timesteps=False)
        curve.append(model.pop_losses()["aux_loss"])
    # next_return = 0.01 × obs[0]; scaled ×100 the target is obs[0] (variance 1): learnable.
    assert curve[0] > 0.2, curve
    assert curve[-1] < 0.5 * curve[0], curve
    assert not torch.equal(head_before, model.critic.aux_head.weight)
    stored = model.replay_buffer.aux_targets[: model.replay_buffer.pos, 0]
    np.testing.assert_allclose(stored, 0.01 * model.replay_buffer.observations[: model.replay_buffer.pos, 0, 0],
                               rtol=1e-5, atol=1e-7)


def test_aux_weight_reaches_the_critic_gradient():
    """With aux_weight=0 the head never moves; with weight > 0 it does (the loss is really added)."""
    moved = {}
    for weight in (0.0, 1.0):
        agent = SACAgent(tiny_config(aux_weight=weight), agent_id=2, env=SignalEnv())
        before = agent.model.critic.aux_head.weight.detach().clone()
        agent.model.learn(96)
        moved[weight] = not torch.equal(before, agent.model.critic.aux_head.weight)
    assert moved == {0.0: False, 1.0: True}
