"""PPO zips without unpickling: rebuild the model from JSON config + spaces, load only tensors.

``PPO.load`` (and ``load_from_zip_file(load_data=True)``) run ``cloudpickle.loads`` on the zip's
``data`` entry, so a downloaded zip could run code. Here the zip is opened as a plain archive:

* ``data`` is read with ``json.loads`` (its ``:serialized:`` pickles are never decoded); only plain
  counters (``num_timesteps``, ``_n_updates``) are taken from it;
* ``policy.pth`` and ``policy.optimizer.pth`` are read with ``torch.load(weights_only=True)``;
* the network is rebuilt from the run's JSON config (layer sizes are read from the tensors, the
  activation from the ``*.config.json``/``config.json`` beside the zip, else the caller's config),
  and the spaces from the env.

A file that is not such an archive, holds pickled objects, or does not fit the env ends in one
:class:`~tradelab.errors.CheckpointError`.

Also here: :func:`build_model` (a fresh PPO from the config), :func:`load_model` (the checked entry to the
loader above), :func:`save_model_atomic` and :func:`params_sha256`. Both ways of making a model take SB3's
arguments from :func:`tradelab.training.ppo_config.ppo_kwargs`.
"""

from __future__ import annotations

import io
import json
import pickle
import zipfile
from pathlib import Path
from typing import Any

from tradelab.errors import CheckpointError
from tradelab.training.ppo_config import PPOV3Config, ppo_kwargs

__all__ = ["read_ppo_zip", "net_arch_from_state", "load_ppo_weights_only", "build_model", "load_model",
           "save_model_atomic", "params_sha256"]

_FIX = "re-create it or point to another file"


def read_ppo_zip(path: Path) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any] | None]:
    """(plain JSON data, policy state_dict, optimizer state_dict or None) from an SB3 zip, tensors only."""
    import torch

    try:
        with zipfile.ZipFile(path) as zf:
            names = set(zf.namelist())
            if "policy.pth" not in names:
                raise KeyError("policy.pth")
            data = json.loads(zf.read("data").decode("utf-8")) if "data" in names else {}
            policy = torch.load(io.BytesIO(zf.read("policy.pth")), map_location="cpu", weights_only=True)
            opt = None
            if "policy.optimizer.pth" in names:
                opt = torch.load(io.BytesIO(zf.read("policy.optimizer.pth")), map_location="cpu", weights_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, EOFError, RuntimeError, ValueError, pickle.UnpicklingError,
            UnicodeDecodeError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else ""
        raise CheckpointError(
            f"{path} is not a readable stable-baselines3 PPO model ({type(exc).__name__}: {first[:200]}); it is "
            f"corrupted, or holds pickled objects that tradelab refuses to unpickle (torch.load weights_only=True); "
            f"{_FIX}") from exc
    if not isinstance(policy, dict) or not isinstance(data, dict):
        raise CheckpointError(f"{path}: policy.pth is not a state dict; {_FIX}")
    return data, policy, opt


def net_arch_from_state(state: dict[str, Any]) -> dict[str, Any]:
    """The network an SB3 MlpPolicy state dict describes: ``architecture`` (shared trunk or separate
    MLPs), its layer sizes (``net_arch`` or ``net_arch_pi``/``net_arch_vf``), ``obs`` and ``act`` sizes."""

    def layers(prefix: str) -> list[Any]:
        found = sorted((int(k[len(prefix):].split(".")[0]), v) for k, v in state.items()
                       if k.startswith(prefix) and k.endswith(".weight"))
        return [v for _, v in found]

    try:
        action = state["action_net.weight"]
        trunk = layers("features_extractor.trunk.")  # tradelab's MlpTrunk (ppo.architecture: shared)
        if trunk:
            return {"architecture": "shared", "net_arch": [int(w.shape[0]) for w in trunk],
                    "obs": int(trunk[0].shape[1]), "act": int(action.shape[0])}
        pi, vf = layers("mlp_extractor.policy_net."), layers("mlp_extractor.value_net.")
        obs = int(pi[0].shape[1]) if pi else int(action.shape[1])
        return {"architecture": "separate", "net_arch_pi": [int(w.shape[0]) for w in pi],
                "net_arch_vf": [int(w.shape[0]) for w in vf], "obs": obs, "act": int(action.shape[0])}
    except (KeyError, AttributeError, IndexError) as exc:
        raise CheckpointError(f"policy.pth is not an SB3 MlpPolicy state dict (missing {exc}); {_FIX}") from exc


def _sidecar_activation(path: Path) -> str | None:
    """The activation recorded in the JSON config beside the zip (final/stage models, run folders)."""
    for cand in (path.with_suffix(".config.json"), path.parent / "config.json", path.parent.parent / "config.json"):
        if not cand.is_file():
            continue
        try:
            doc = json.loads(cand.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        doc = doc.get("config", doc) if isinstance(doc, dict) else {}
        act = (doc.get("ppo") or {}).get("activation") if isinstance(doc, dict) else None
        if isinstance(act, str):
            return act
    return None


def _spaces(env: Any, obs: int, act: int) -> tuple[Any, Any]:
    import gymnasium as gym
    import numpy as np

    if env is not None:
        return env.observation_space, env.action_space
    return gym.spaces.Box(-np.inf, np.inf, (obs,), np.float32), gym.spaces.Box(-1.0, 1.0, (act,), np.float32)


def load_ppo_weights_only(path: Path, env: Any, cfg: Any, tensorboard_log: str | None, seed: int | None) -> Any:
    """A PPO built from ``cfg`` (net sizes from the tensors) with the zip's weights and optimizer state."""
    import numpy as np
    from stable_baselines3 import PPO

    from tradelab.utils import resolve_device

    data, policy, opt = read_ppo_zip(path)
    arch = net_arch_from_state(policy)
    obs, act = arch.pop("obs"), arch.pop("act")
    obs_space, act_space = _spaces(env, obs, act)
    env_obs, env_act = int(np.prod(obs_space.shape)), int(np.prod(act_space.shape))
    if (obs, act) != (env_obs, env_act):
        raise CheckpointError(
            f"{path} does not fit this environment: it was trained with observations ({obs},) and actions "
            f"({act},), this env has {obs_space.shape} and {act_space.shape}. The spaces depend on "
            "env.max_assets, env.window and the feature list: use the run's values")
    cfg = cfg or PPOV3Config()
    act_fn = _sidecar_activation(path) or cfg.ppo.activation
    p = cfg.ppo.replace(**arch, activation=act_fn)
    model = PPO("MlpPolicy", env, **ppo_kwargs(p), tensorboard_log=tensorboard_log, verbose=0,
                seed=cfg.training.seed if seed is None else seed, device=resolve_device(cfg.training.device),
                _init_setup_model=env is not None)
    if env is None:
        model.observation_space, model.action_space, model.n_envs = obs_space, act_space, 1
        model._setup_model()
    try:
        model.policy.load_state_dict(policy)
        if opt is not None:
            model.policy.optimizer.load_state_dict(opt)
    except (RuntimeError, ValueError, KeyError) as exc:
        raise CheckpointError(f"{path}: weights do not fit the rebuilt PPO network "
                              f"({str(exc).splitlines()[0][:300]}); {_FIX}") from exc
    for key in ("num_timesteps", "_n_updates", "_episode_num"):
        if isinstance(data.get(key), int):
            setattr(model, key, data[key])
    return model


def build_model(cfg: PPOV3Config, env: Any, tensorboard_log: str | None = None, seed: int | None = None):
    """A fresh SB3 PPO with the V3 network."""
    from stable_baselines3 import PPO

    from tradelab.utils import resolve_device

    return PPO("MlpPolicy", env, **ppo_kwargs(cfg.ppo), tensorboard_log=tensorboard_log, verbose=0,
               seed=cfg.training.seed if seed is None else seed, device=resolve_device(cfg.training.device))


def load_model(path: str | Path, env: Any = None, cfg: PPOV3Config | None = None,
               tensorboard_log: str | None = None, seed: int | None = None):
    """Load a PPO zip without unpickling anything (:func:`load_ppo_weights_only`, the module docstring).

    The network is rebuilt from ``cfg`` (layer sizes from the zip's tensors), the weights and optimizer
    state are read with ``torch.load(weights_only=True)``; the stage's hyperparameters replace the
    saved ones. A missing, corrupted, pickled or incompatible file raises :class:`CheckpointError`.
    """
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"model file not found: {path}; train the previous stage first or fix --load-model")
    return load_ppo_weights_only(path, env, cfg, tensorboard_log, seed)


def save_model_atomic(model: Any, path: str | Path) -> Path:
    """``model.save`` through a temporary file and a rename."""
    from tradelab.utils import atomic_write_bytes

    buf = io.BytesIO()
    model.save(buf)
    return atomic_write_bytes(path, buf.getvalue())


def params_sha256(model: Any) -> str:
    """SHA-256 over the policy's parameters (proves which weights a run started from)."""
    import hashlib

    h = hashlib.sha256()
    for name, tensor in sorted(model.policy.state_dict().items()):
        h.update(name.encode())
        h.update(tensor.detach().cpu().numpy().tobytes())
    return h.hexdigest()
