"""Batched VecEnvs equal N single envs with the same seeds; SB3 trains on them."""

from __future__ import annotations

import numpy as np
import pytest

from tradelab.data.synthetic import regime_switching_gbm
from tradelab.envs import TradingEnvConfig
from tradelab.envs.vec import BatchedTradingVecEnv, make_vec_env
from tradelab.errors import ConfigError

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


def _cfg(**kw) -> TradingEnvConfig:
    costs = kw.pop("costs", {})
    return TradingEnvConfig.from_dict({"window": 6, "episode_lengths": [25, 40], "initial_cash": 20_000.0, **kw,
                                      "costs": {"min_holding_bars": 2, "max_day_trades": 2, **costs}})


def _compare(batched, dummy, n_envs: int, action_dim: int, steps: int, exact_reward: bool = True) -> int:
    """Step both with the same actions; returns the number of episode ends seen."""
    np.testing.assert_array_equal(batched.reset(), dummy.reset())
    rng = np.random.default_rng(0)
    ends = 0
    for _ in range(steps):
        actions = rng.uniform(-1, 1, (n_envs, action_dim)).astype(np.float32)
        actions[rng.random(n_envs) < 0.3] = 0.0
        ob, rb, db, ib = batched.step(actions)
        od, rd, dd, idd = dummy.step(actions)
        np.testing.assert_array_equal(ob, od)
        np.testing.assert_array_equal(db, dd)
        if exact_reward:
            np.testing.assert_array_equal(rb, rd)
        else:
            np.testing.assert_allclose(rb, rd, rtol=1e-6, atol=1e-9)
        for i in np.flatnonzero(db):
            ends += 1
            np.testing.assert_array_equal(ib[i]["terminal_observation"], idd[i]["terminal_observation"])
            for key in ("equity", "n_trades", "costs_paid", "max_drawdown", "sharpe_ratio"):
                assert ib[i][key] == idd[i][key], key
            assert ib[i]["TimeLimit.truncated"] == idd[i]["TimeLimit.truncated"]
    return ends


def test_batched_single_asset_equals_dummy_of_singles():
    hourly = regime_switching_gbm(600, seed=2, freq="h")  # intraday: the PDT rule is live
    feats = np.random.default_rng(0).standard_normal((len(hourly), 4)).astype(np.float32)
    cfg = _cfg()
    batched = make_vec_env("batched", hourly, feats, cfg, n_envs=5, seed=7)
    dummy = make_vec_env("dummy", hourly, feats, cfg, n_envs=5, seed=7)
    assert _compare(batched, dummy, 5, 1, 150) >= 10


def test_batched_log_return_reward_matches():
    daily = regime_switching_gbm(400, seed=4)
    feats = np.random.default_rng(1).standard_normal((len(daily), 3)).astype(np.float32)
    cfg = _cfg(reward={"kind": "log_return"}, long_only=True)
    batched = make_vec_env("batched", daily, feats, cfg, n_envs=3, seed=1)
    dummy = make_vec_env("dummy", daily, feats, cfg, n_envs=3, seed=1)
    assert _compare(batched, dummy, 3, 1, 90, exact_reward=False) >= 3


def test_batched_portfolio_equals_dummy_of_portfolio_envs():
    frames = {f"A{i}": regime_switching_gbm(300, seed=30 + i, freq="h") for i in range(3)}
    feats = {k: np.random.default_rng(i).standard_normal((300, 3)).astype(np.float32)
             for i, k in enumerate(frames)}
    cfg = _cfg(max_assets=4)
    batched = make_vec_env("batched", frames, feats, cfg, n_envs=4, seed=3, portfolio=True)
    dummy = make_vec_env("dummy", frames, feats, cfg, n_envs=4, seed=3, portfolio=True)
    assert batched.observation_space.shape == dummy.observation_space.shape
    assert batched.action_space.shape == (4,)
    assert _compare(batched, dummy, 4, 4, 90) >= 4


def test_batched_large_n_no_python_loop_shapes():
    daily = regime_switching_gbm(300, seed=6)
    feats = np.zeros((300, 2), np.float32)
    venv = BatchedTradingVecEnv(daily, feats, _cfg(), n_envs=256, seed=0)
    obs = venv.reset()
    assert obs.shape == (256, 6 * 2 + 4) and obs.dtype == np.float32
    obs, rew, done, infos = venv.step(np.ones((256, 1), np.float32))
    assert rew.shape == (256,) and done.shape == (256,) and len(infos) == 256
    assert np.all(venv.core.acct.n_trades == 1)


def test_ppo_learns_on_batched_vec_env():
    from stable_baselines3 import PPO

    daily = regime_switching_gbm(300, seed=8)
    feats = np.random.default_rng(2).standard_normal((300, 3)).astype(np.float32)
    venv = make_vec_env("batched", daily, feats, _cfg(), n_envs=4, seed=0)
    model = PPO("MlpPolicy", venv, n_steps=32, batch_size=64, n_epochs=1, seed=0, device="cpu", verbose=0)
    model.learn(total_timesteps=256)
    assert model.num_timesteps >= 256
    assert len(model.ep_info_buffer) > 0  # episode stats reach SB3's logger


def test_make_vec_env_rejects_unknown_kind():
    daily = regime_switching_gbm(100, seed=1)
    with pytest.raises(ConfigError, match="batched"):
        make_vec_env("threads", daily, np.zeros((100, 1)), _cfg())
