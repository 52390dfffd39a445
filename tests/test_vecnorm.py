"""VecNormalize statistics as JSON: round trip, restore into a fresh env, pickles refused without running."""

from __future__ import annotations

import os
import pickle

import numpy as np
import pytest
from stable_baselines3.common.vec_env import DummyVecEnv, VecNormalize

from tradelab.errors import CheckpointError
from tradelab.training import vecnorm


class _Spaces:
    """Tiny env: 3-d observations with an offset and scale VecNormalize must learn."""

    def __init__(self) -> None:
        import gymnasium as gym

        class Env(gym.Env):
            observation_space = gym.spaces.Box(-np.inf, np.inf, (3,), np.float32)
            action_space = gym.spaces.Box(-1, 1, (1,), np.float32)

            def reset(self, *, seed=None, options=None):
                super().reset(seed=seed)
                return self._obs(), {}

            def _obs(self):
                return (5.0 + 3.0 * self.np_random.standard_normal(3)).astype(np.float32)

            def step(self, action):
                return self._obs(), float(10 * action[0]), False, False, {}

        self.Env = Env


def _trained_vn(n: int = 200) -> VecNormalize:
    env_cls = _Spaces().Env
    vn = vecnorm.wrap(DummyVecEnv([env_cls, env_cls]), gamma=0.9)
    vn.seed(0)
    vn.reset()
    for _ in range(n):
        vn.step(np.ones((2, 1), np.float32))
    return vn


def test_json_round_trip_restores_statistics_and_normalised_observations(tmp_path):
    vn = _trained_vn()
    path = vecnorm.save_json(vn, vecnorm.path_for(tmp_path / "best_model.zip"))
    assert path.name == "best_model.vecnormalize.json" and path.read_text().lstrip().startswith("{")
    fresh = vecnorm.wrap(DummyVecEnv([_Spaces().Env]), gamma=0.5, training=False)
    vecnorm.restore(fresh, path)
    for name in ("obs_rms", "ret_rms"):
        a, b = getattr(vn, name), getattr(fresh, name)
        np.testing.assert_array_equal(a.mean, b.mean)
        np.testing.assert_array_equal(a.var, b.var)
        assert a.count == b.count
    assert (fresh.gamma, fresh.clip_obs, fresh.epsilon) == (vn.gamma, vn.clip_obs, vn.epsilon)
    obs = np.array([[5.0, 8.0, 2.0]], np.float32)
    np.testing.assert_allclose(fresh.normalize_obs(obs), vn.normalize_obs(obs), rtol=1e-6)
    assert abs(vn.obs_rms.mean.mean() - 5.0) < 0.5  # the stats did learn the offset: the check can fail
    # the same normalisation for a model used outside an env (backtests, inference)
    seen = []
    pol = vecnorm.policy(type("M", (), {"predict": lambda self, o, *a, **k: (seen.append(o) or o, None)})(), path)
    pol.predict(obs, deterministic=True)
    np.testing.assert_allclose(seen[0], vn.normalize_obs(obs), rtol=1e-6)


def test_restore_rejects_other_observation_shapes_and_broken_files(tmp_path):
    path = vecnorm.save_json(_trained_vn(5), tmp_path / "m.vecnormalize.json")
    import gymnasium as gym

    class Wide(gym.Env):
        observation_space = gym.spaces.Box(-1, 1, (4,), np.float32)
        action_space = gym.spaces.Box(-1, 1, (1,), np.float32)

    with pytest.raises(CheckpointError, match="shape"):
        vecnorm.restore(VecNormalize(DummyVecEnv([Wide])), path)
    (tmp_path / "bad.json").write_text('{"format": "other"}')
    with pytest.raises(CheckpointError, match="format"):
        vecnorm.load_json(tmp_path / "bad.json")
    with pytest.raises(CheckpointError, match="not found"):
        vecnorm.load_json(tmp_path / "missing.vecnormalize.json")


class _Payload:
    """Unpickling this creates a marker file: proof that a pickle ran code."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


@pytest.mark.parametrize("protocol", [0, 2, pickle.HIGHEST_PROTOCOL])
def test_malicious_pickle_is_refused_and_never_executed(tmp_path, protocol):
    marker = tmp_path / "pwned"
    bad = tmp_path / "best_model.vecnormalize.json"
    bad.write_bytes(pickle.dumps({"obs_rms": _Payload(str(marker))}, protocol=protocol))
    # teeth: the payload does run when unpickled
    pickle.loads(bad.read_bytes()).get("obs_rms").close()
    assert marker.exists()
    os.remove(marker)
    with pytest.raises(CheckpointError) as err:
        vecnorm.load_json(bad)
    assert not marker.exists()
    msg = str(err.value)
    assert str(bad) in msg and "save_json" in msg
    fresh = vecnorm.wrap(DummyVecEnv([_Spaces().Env]), gamma=0.9)
    with pytest.raises(CheckpointError):
        vecnorm.restore(fresh, bad)
    assert not marker.exists()


def test_sb3_vecnormalize_save_file_is_refused(tmp_path):
    """The file SB3's own VecNormalize.save writes (a pickle) is refused with the pickle message."""
    vn = _trained_vn(5)
    path = tmp_path / "vecnormalize.pkl"
    vn.save(str(path))
    with pytest.raises(CheckpointError, match="pickle"):
        vecnorm.load_json(path)


@pytest.mark.slow
def test_ppo_run_writes_statistics_beside_every_model_and_resume_restores_them(tmp_path):
    """Checkpoints, best and final model each get their JSON; a resumed run continues the statistics."""
    import json

    from tradelab.cli import main
    from tradelab.data.synthetic import regime_switching_gbm

    csv = tmp_path / "AAA.csv"
    regime_switching_gbm(n_bars=1300, seed=11).reset_index().to_csv(csv, index=False)
    out = tmp_path / "run"
    base = ["train", "ppo", "--seed", "2", "--skip-test", "--output-dir", str(out), "--set",
            f"data.assets={json.dumps([str(csv)])}", "--set", "data.min_overlap=100", "--smoke",
            "--training.tensorboard", "false", "--training.checkpoint_freq", "128", "--training.eval_freq", "128"]
    assert main([*base, "--total-timesteps", "256"]) == 0
    for model in ("checkpoints/ppo_v3_128_steps", "checkpoints/ppo_v3_256_steps", "best_model", "final_model"):
        assert (out / f"{model}.zip").is_file()
        assert vecnorm.load_json(out / f"{model}{vecnorm.SUFFIX}")["obs_rms"].count > 1
    first = vecnorm.load_json(out / f"final_model{vecnorm.SUFFIX}")["obs_rms"].count
    assert main([*base, "--total-timesteps", "512", "--resume"]) == 0
    resumed = vecnorm.load_json(out / f"final_model{vecnorm.SUFFIX}")["obs_rms"].count
    assert resumed == pytest.approx(first + 256, abs=4)  # restored at 256, then 256 more observations


def test_restore_beside_a_model(tmp_path):
    """A resume needs the statistics beside its checkpoint; a transfer from an older model may lack them."""
    vn = _trained_vn(5)
    model = tmp_path / "stage1_final.zip"
    fresh = vecnorm.wrap(DummyVecEnv([_Spaces().Env]), gamma=0.9)
    assert vecnorm.restore_beside(fresh, model) is False
    with pytest.raises(CheckpointError, match="not found"):
        vecnorm.restore_beside(fresh, model, required=True)
    vecnorm.save_json(vn, vecnorm.path_for(model))
    assert vecnorm.restore_beside(fresh, model, required=True) is True
    np.testing.assert_array_equal(fresh.obs_rms.mean, vn.obs_rms.mean)
    assert vecnorm.restore_beside(DummyVecEnv([_Spaces().Env]), model) is False  # not normalised: nothing to do
