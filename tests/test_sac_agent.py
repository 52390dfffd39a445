"""SACAgent over SB3 SAC: save/load round trip, weights-only format, clear errors on the wrong file."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
import torch
from gymnasium import spaces

from tradelab.agents.sac import AGENT_VARIANTS, SACAgent, SACConfig
from tradelab.errors import CheckpointError, ConfigError, DataError


class SignalEnv(gym.Env):
    """obs[0] is a signal; the reward is action × signal; info carries the next bar's return."""

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
        reward = float(action[0]) * signal
        self.t += 1
        self.x = self.np_random.normal(size=self.dim).astype(np.float32)
        return self.x, reward, False, self.t >= self.length, {"next_return": 0.01 * signal}


def tiny_config(**kw) -> SACConfig:
    base = dict(hidden_dims=[32, 32], warmup_steps=32, batch_size=32, buffer_capacity=2000, device="cpu",
                train_freq=4, gradient_steps=2, seed=3)
    return SACConfig(**(base | kw))


@pytest.fixture(params=[1, 2], ids=["agent1", "agent2"])
def trained(request, tmp_path):
    agent = SACAgent(tiny_config(), agent_id=request.param, env=SignalEnv())
    agent.model.learn(160)
    agent.spec["feature_names"] = ["f0", "f1"]
    path = agent.save(tmp_path / f"agent_{request.param}.pt", extra={"note": "x"})
    return agent, path


def test_round_trip_same_actions_and_state(trained):
    agent, path = trained
    loaded = SACAgent(SACConfig(state_dim=6, hidden_dims=[32, 32], device="cpu"), agent_id=agent.agent_id).load(path)
    states = np.random.default_rng(0).normal(size=(20, 6)).astype(np.float32)
    np.testing.assert_array_equal(agent.select_action(states, evaluate=True), loaded.select_action(states, evaluate=True))
    for name in ("actor", "critic", "critic_target"):
        for (k, a), b in zip(getattr(agent.model, name).state_dict().items(),
                             getattr(loaded.model, name).state_dict().values()):
            assert torch.equal(a, b), f"{name}.{k}"
    assert torch.equal(agent.model.log_ent_coef, loaded.model.log_ent_coef)
    opt_a = agent.model.critic.optimizer.state_dict()["state"]
    opt_b = loaded.model.critic.optimizer.state_dict()["state"]
    assert torch.equal(opt_a[0]["exp_avg"], opt_b[0]["exp_avg"])
    assert loaded.model.num_timesteps == 160 and loaded.model._n_updates == agent.model._n_updates > 0
    assert loaded.spec["feature_names"] == ["f0", "f1"] and loaded.extra == {"note": "x"}


def test_checkpoint_is_weights_only_plain_data(trained):
    agent, path = trained
    ckpt = torch.load(path, weights_only=True)
    assert ckpt["format_version"] == 1 and ckpt["agent_id"] == agent.agent_id
    assert ckpt["agent_variant"] == AGENT_VARIANTS[agent.agent_id]
    assert set(ckpt["state_dicts"]) == {"actor", "critic", "critic_target"}
    assert ckpt["sac_config"]["hidden_dims"] == [32, 32]
    if agent.agent_id == 2:
        assert any("aux_head" in k for k in ckpt["state_dicts"]["critic"])


def test_select_action_deterministic_only_when_evaluating(trained):
    agent, _ = trained
    state = np.ones(6, np.float32)
    a1, a2 = agent.select_action(state, evaluate=True), agent.select_action(state, evaluate=True)
    assert a1.shape == (1,) and np.array_equal(a1, a2) and -1 <= a1[0] <= 1
    samples = {float(agent.select_action(state, evaluate=False)[0]) for _ in range(5)}
    assert len(samples) > 1
    with pytest.raises(DataError, match="state_dim=6"):
        agent.select_action(np.ones(5, np.float32))


def test_wrong_files_raise_clear_errors(trained, tmp_path):
    agent, path = trained
    other = 3 - agent.agent_id
    with pytest.raises(CheckpointError, match="agent_id differs"):
        SACAgent(SACConfig(state_dim=6, hidden_dims=[32, 32]), agent_id=other).load(path)
    with pytest.raises(CheckpointError, match="state_dim differs: file 6, this agent 7"):
        SACAgent(SACConfig(state_dim=7, hidden_dims=[32, 32]), agent_id=agent.agent_id).load(path)
    with pytest.raises(CheckpointError, match="hidden_dims differs"):
        SACAgent(SACConfig(state_dim=6, hidden_dims=[64, 64]), agent_id=agent.agent_id).load(path)
    with pytest.raises(CheckpointError, match="not found"):
        SACAgent(tiny_config(state_dim=6), agent_id=1).load(tmp_path / "missing.pt")
    (tmp_path / "garbage.pt").write_bytes(b"not a torch file at all")
    with pytest.raises(CheckpointError, match="weights_only"):
        SACAgent(tiny_config(state_dim=6), agent_id=1).load(tmp_path / "garbage.pt")


class _Pickled:  # a custom object: weights-only loading must refuse it
    pass


def test_pickled_object_checkpoint_refused(tmp_path):
    torch.save({"format_version": 1, "sac_config": {}, "payload": _Pickled()}, tmp_path / "evil.pt")
    with pytest.raises(CheckpointError, match="pickled objects"):
        SACAgent(tiny_config(state_dim=6), agent_id=1).load(tmp_path / "evil.pt")


def test_from_checkpoint_and_replay_buffer_round_trip(trained, tmp_path):
    agent, path = trained
    rebuilt = SACAgent.from_checkpoint(path, device="cpu")
    assert rebuilt.agent_id == agent.agent_id and rebuilt.config.state_dim == 6
    buf = agent.save_replay_buffer(tmp_path / "rb.pt")
    fresh = SACAgent(tiny_config(), agent_id=agent.agent_id, env=SignalEnv())
    fresh.load_replay_buffer(buf)
    rb_a, rb_b = agent.model.replay_buffer, fresh.model.replay_buffer
    assert rb_b.pos == rb_a.pos == 160
    np.testing.assert_array_equal(rb_a.observations[:160], rb_b.observations[:160])
    np.testing.assert_array_equal(rb_a.rewards[:160], rb_b.rewards[:160])


def test_config_errors_name_the_field():
    with pytest.raises(ConfigError, match="SACConfig.gamma"):
        SACConfig(gamma=1.5)
    with pytest.raises(ConfigError, match="agent_id"):
        SACAgent(tiny_config(state_dim=4), agent_id=4)
    with pytest.raises(ConfigError, match="state_dim"):
        SACAgent(SACConfig()).select_action(np.zeros(3))
