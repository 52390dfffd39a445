"""SB3 ``VecNormalize`` statistics as JSON, beside every PPO checkpoint and best/final model.

rl-baselines3-zoo saves ``vecnormalize.pkl`` next to each model; a pickle runs code when it is read,
and these files travel (Kaggle outputs), so tradelab writes the same state as JSON instead:
``obs_rms``/``ret_rms`` (mean, var, count), ``clip_obs``, ``clip_reward``, ``gamma``, ``epsilon`` and
the two switches. :func:`load_json` never unpickles: a pickle (e.g. from ``VecNormalize.save``) is
refused with one :class:`~tradelab.errors.CheckpointError`.

* :func:`path_for` — where a model's statistics live (``model.zip`` → ``model.vecnormalize.json``);
* :func:`wrap` / :func:`save_json` / :func:`load_json` / :func:`restore` — wrap, write, read, apply;
* :func:`policy` — a model whose ``predict`` normalises raw observations the way training saw them
  (backtests, the test evaluation, inference);
* :class:`SaveVecNormalizeCallback` — writes the JSON beside each checkpoint and each new best model.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.running_mean_std import RunningMeanStd
from stable_baselines3.common.vec_env import VecEnv, VecNormalize, unwrap_vec_normalize

from tradelab.errors import CheckpointError

__all__ = ["FORMAT", "SUFFIX", "path_for", "wrap", "to_dict", "save_json", "load_json", "restore", "restore_beside", "policy",
           "NormalizedPolicy", "SaveVecNormalizeCallback"]

FORMAT = "tradelab.vecnormalize/1"
SUFFIX = ".vecnormalize.json"
_PICKLE_MAGIC = (b"\x80", b"(", b"c", b"]", b"}")  # protocol 2+ opcode and protocol-0 openers


def path_for(model_path: str | Path) -> Path:
    """The statistics file beside a model: ``dir/name.zip`` → ``dir/name.vecnormalize.json``."""
    p = Path(model_path)
    return p.with_name((p.name[:-4] if p.name.endswith(".zip") else p.name) + SUFFIX)


def wrap(venv: VecEnv, gamma: float, *, norm_obs: bool = True, norm_reward: bool = True, training: bool = True,
         clip_obs: float = 10.0, clip_reward: float = 10.0) -> VecNormalize:
    """SB3's ``VecNormalize`` over ``venv`` (``gamma``: the PPO discount, for the return statistics)."""
    return VecNormalize(venv, training=training, norm_obs=norm_obs, norm_reward=norm_reward, clip_obs=clip_obs,
                        clip_reward=clip_reward, gamma=gamma)


def _rms(r: RunningMeanStd) -> dict[str, Any]:
    return {"mean": np.asarray(r.mean, dtype=np.float64).ravel().tolist(),
            "var": np.asarray(r.var, dtype=np.float64).ravel().tolist(),
            "shape": list(np.shape(r.mean)), "count": float(r.count)}


def to_dict(vn: VecNormalize) -> dict[str, Any]:
    """The JSON-able state of a ``VecNormalize`` (no env, no pickled objects)."""
    if not isinstance(vn.obs_rms, RunningMeanStd):
        raise CheckpointError("VecNormalize over a Dict observation space is not supported by tradelab's JSON "
                              "statistics; use a Box observation space")
    return {"format": FORMAT, "obs_rms": _rms(vn.obs_rms), "ret_rms": _rms(vn.ret_rms), "clip_obs": float(vn.clip_obs),
            "clip_reward": float(vn.clip_reward), "gamma": float(vn.gamma), "epsilon": float(vn.epsilon),
            "norm_obs": bool(vn.norm_obs), "norm_reward": bool(vn.norm_reward)}


def save_json(vn: VecNormalize | Any, path: str | Path) -> Path:
    """Write the statistics of ``vn`` (a ``VecNormalize`` or a VecEnv stack holding one) atomically."""
    from tradelab.utils import atomic_write_text

    found = unwrap_vec_normalize(vn) if not isinstance(vn, VecNormalize) else vn
    if found is None:
        raise CheckpointError(f"cannot save VecNormalize statistics to {path}: the env is not normalised")
    return atomic_write_text(path, json.dumps(to_dict(found), indent=1) + "\n")


def _bad(path: Path, why: str) -> CheckpointError:
    return CheckpointError(f"{path} is not a tradelab VecNormalize JSON file ({why}); re-create it with "
                           "tradelab.training.vecnorm.save_json, or retrain the model")


def _read_rms(d: Any, path: Path, name: str) -> RunningMeanStd:
    try:
        shape = tuple(int(x) for x in d["shape"])
        mean = np.asarray(d["mean"], dtype=np.float64).reshape(shape)
        var = np.asarray(d["var"], dtype=np.float64).reshape(shape)
        count = float(d["count"])
    except (KeyError, TypeError, ValueError) as exc:
        raise _bad(path, f"field {name!r}: {type(exc).__name__}: {exc}") from exc
    if not (np.all(np.isfinite(mean)) and np.all(var >= 0) and math.isfinite(count) and count > 0):
        raise _bad(path, f"field {name!r} holds non-finite means, negative variances or a count <= 0")
    rms = RunningMeanStd(shape=shape)
    rms.mean, rms.var, rms.count = mean, var, count
    return rms


def load_json(path: str | Path) -> dict[str, Any]:
    """Read and check a statistics file; ``obs_rms``/``ret_rms`` come back as ``RunningMeanStd``.

    A pickle (``VecNormalize.save``'s format) is refused without being unpickled: it could run code.
    """
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"VecNormalize statistics not found: {path}; they are written beside every model "
                              "trained with training.normalize; retrain, or copy the file beside the model")
    raw = path.read_bytes()
    if raw[:1] in _PICKLE_MAGIC or raw[:2] == b"PK":
        raise CheckpointError(f"{path} is a pickle (VecNormalize.save's format), not JSON: refused, because reading "
                              "a pickle can run arbitrary code. Re-save the statistics with "
                              "tradelab.training.vecnorm.save_json, or retrain the model")
    try:
        d = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise _bad(path, f"{type(exc).__name__}: {exc}") from exc
    if not isinstance(d, dict) or d.get("format") != FORMAT:
        raise _bad(path, f"its 'format' is {d.get('format') if isinstance(d, dict) else None!r}, expected {FORMAT!r}")
    out = dict(d)
    out["obs_rms"], out["ret_rms"] = _read_rms(d.get("obs_rms"), path, "obs_rms"), _read_rms(d.get("ret_rms"),
                                                                                               path, "ret_rms")
    for key in ("clip_obs", "clip_reward", "gamma", "epsilon"):
        if not isinstance(d.get(key), int | float):
            raise _bad(path, f"field {key!r} is missing or not a number")
    return out


def restore(vn: VecNormalize, path: str | Path) -> VecNormalize:
    """Apply the statistics of ``path`` to ``vn`` (same observation shape), keeping its env and training flag."""
    state = load_json(path)
    want, got = tuple(vn.observation_space.shape), tuple(state["obs_rms"].mean.shape)
    if want != got:
        raise CheckpointError(f"{path} holds statistics for observations of shape {got}, this env has {want}; "
                              "use the statistics saved beside the model you load")
    vn.obs_rms, vn.ret_rms = state["obs_rms"], state["ret_rms"]
    vn.clip_obs, vn.clip_reward = float(state["clip_obs"]), float(state["clip_reward"])
    vn.gamma, vn.epsilon = float(state["gamma"]), float(state["epsilon"])
    vn.norm_obs, vn.norm_reward = bool(state["norm_obs"]), bool(state["norm_reward"])
    return vn


def restore_beside(env: Any, model_path: str | Path, required: bool = False) -> bool:
    """Restore the statistics saved beside ``model_path`` into ``env`` when it is normalised.

    ``required`` (a resume): a missing file is an error; otherwise (a transfer from a model trained
    without normalisation) the env keeps fresh statistics. Returns whether statistics were restored.
    """
    vn = unwrap_vec_normalize(env) if env is not None else None
    if vn is None or not (required or path_for(model_path).is_file()):
        return False
    restore(vn, path_for(model_path))
    return True


class NormalizedPolicy:
    """A model seen through frozen observation statistics: ``predict(raw_obs)`` as in training."""

    def __init__(self, model: Any, obs_rms: RunningMeanStd | None, clip_obs: float, epsilon: float) -> None:
        self.model, self.obs_rms, self.clip_obs, self.epsilon = model, obs_rms, clip_obs, epsilon

    def normalize(self, obs: np.ndarray) -> np.ndarray:
        if self.obs_rms is None:
            return obs
        z = (obs - self.obs_rms.mean) / np.sqrt(self.obs_rms.var + self.epsilon)
        return np.clip(z, -self.clip_obs, self.clip_obs).astype(np.float32)

    def predict(self, observation: np.ndarray, state: Any = None, episode_start: Any = None,
                deterministic: bool = False) -> tuple[np.ndarray, Any]:
        return self.model.predict(self.normalize(np.asarray(observation)), state, episode_start, deterministic)


def policy(model: Any, stats_path: str | Path | None = None) -> Any:
    """``model`` with the observation normalisation it was trained with (the model itself when none).

    Statistics come from ``stats_path`` when given, else from the model's own ``VecNormalize`` env.
    """
    if stats_path is not None:
        s = load_json(stats_path)
        return NormalizedPolicy(model, s["obs_rms"] if s["norm_obs"] else None, s["clip_obs"], s["epsilon"])
    env = model.get_env() if hasattr(model, "get_env") else None
    vn = unwrap_vec_normalize(env) if env is not None else None
    if vn is None:
        return model
    obs_rms = vn.obs_rms.copy() if vn.norm_obs else None
    return NormalizedPolicy(model, obs_rms, vn.clip_obs, vn.epsilon)


class SaveVecNormalizeCallback(BaseCallback):
    """Write the training env's statistics beside a model.

    Two uses: with ``save_freq``/``save_dir``/``prefix`` beside each ``{prefix}_{steps}_steps.zip`` of the
    checkpoint callback (same frequency); with ``best_path`` as ``EvalCallback(callback_on_new_best=...)``.
    """

    def __init__(self, save_freq: int = 0, save_dir: str | Path | None = None, prefix: str = "",
                 best_path: str | Path | None = None) -> None:
        super().__init__(verbose=0)
        self.save_freq, self.save_dir, self.prefix = save_freq, save_dir, prefix
        self.best_path = Path(best_path) if best_path else None

    def _on_step(self) -> bool:
        if self.best_path is not None:
            save_json(self.model.get_vec_normalize_env(), path_for(self.best_path))
        elif self.save_freq and self.n_calls % self.save_freq == 0:
            zip_path = Path(self.save_dir) / f"{self.prefix}_{self.num_timesteps}_steps.zip"
            save_json(self.model.get_vec_normalize_env(), path_for(zip_path))
        return True
