"""Reading and writing SAC ``.pt`` checkpoints and replay buffers (format: :mod:`tradelab.agents.sac`).

The layer below :mod:`tradelab.agents.sac`: it owns :data:`FORMAT_VERSION` and takes the agent as an
argument, so it never imports ``sac`` (which imports it).
"""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from tradelab.errors import CheckpointError

if TYPE_CHECKING:
    from tradelab.agents.sac import SACAgent

__all__ = ["FORMAT_VERSION", "checkpoint_dict", "read_checkpoint", "apply_checkpoint", "save_replay_buffer",
           "load_replay_buffer"]

#: Version of the ``.pt`` checkpoint format described in :mod:`tradelab.agents.sac`; a file with a higher
#: one is refused.
FORMAT_VERSION = 1

_LOAD_ERRORS = (pickle.UnpicklingError, EOFError, RuntimeError, ValueError, AttributeError, OSError, IndexError,
                KeyError)


def _refuse_empty(path: Path, what: str) -> None:
    if path.stat().st_size == 0:
        raise CheckpointError(f"{what} {path} is empty (0 bytes): an interrupted copy, download or disk-full write. "
                              "Fix: use another checkpoint (e.g. an earlier checkpoints/agent_*_ep*.pt) or re-copy it")
_BUFFER_ARRAYS = ("observations", "next_observations", "actions", "rewards", "dones", "timeouts", "aux_targets")


def _cpu(state: dict[str, Any]) -> dict[str, Any]:
    return {k: v.detach().cpu() for k, v in state.items()}


def checkpoint_dict(agent: SACAgent, extra: dict[str, Any]) -> dict[str, Any]:
    """The weights-only dict :meth:`SACAgent.save` writes."""
    from tradelab import __version__

    model = agent._require_model()
    alpha_opt = model.ent_coef_optimizer
    return {
        "format_version": FORMAT_VERSION,
        "tradelab_version": __version__,
        "agent_id": agent.agent_id,
        "agent_variant": agent.variant,
        "sac_config": agent.config.to_dict(),
        "env_config": agent.spec.get("env_config") or {},
        "feature_names": list(agent.spec.get("feature_names") or []),
        "scaler": agent.spec.get("scaler"),
        "asset": agent.spec.get("asset"),
        "frequency": agent.spec.get("frequency"),
        "hmm": agent.spec.get("hmm"),
        "state_dicts": {
            "actor": _cpu(model.actor.state_dict()),
            "critic": _cpu(model.critic.state_dict()),
            "critic_target": _cpu(model.critic_target.state_dict()),
        },
        "optimizers": {
            "actor": model.actor.optimizer.state_dict(),
            "critic": model.critic.optimizer.state_dict(),
            "alpha": alpha_opt.state_dict() if alpha_opt is not None else None,
        },
        "log_ent_coef": model.log_ent_coef.detach().cpu() if model.log_ent_coef is not None else None,
        "ent_coef": None if model.log_ent_coef is not None else float(model.ent_coef_tensor.item()),
        "counters": {
            "num_timesteps": int(model.num_timesteps),
            "n_updates": int(model._n_updates),
            "episode_num": int(model._episode_num),
            "episodes_done": int(agent.episodes_done),
        },
        "extra": extra,
    }


def read_checkpoint(
    path: str | Path, device: str = "cpu", required: tuple[str, ...] = ("format_version", "sac_config")
) -> dict[str, Any]:
    """``torch.load(..., weights_only=True)`` with clear errors for missing/foreign/corrupt files.

    ``required``: top-level fields the caller needs (inference asks for the feature/scaler spec too).
    """
    import torch

    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint not found: {path}; pass the path of an agent_*.pt written by tradelab")
    _refuse_empty(path, "checkpoint")
    try:
        ckpt = torch.load(path, map_location=device, weights_only=True)
    except _LOAD_ERRORS as exc:
        raise CheckpointError(
            f"{path} is not a weights-only tradelab SAC checkpoint: torch.load(weights_only=True) failed "
            f"({str(exc).splitlines()[0]}); it is corrupted or holds pickled objects: use a .pt written by "
            "SACAgent.save"
        ) from exc
    if not isinstance(ckpt, dict):
        raise CheckpointError(f"{path}: expected a dict checkpoint, got {type(ckpt).__name__}")
    missing = [k for k in required if k not in ckpt]
    if missing:
        raise CheckpointError(
            f"{path}: missing field(s) {missing}; it was not written by tradelab's SACAgent.save "
            "(a .zip is an SB3/PPO model: use its own evaluation)"
        )
    if int(ckpt.get("format_version", 0)) > FORMAT_VERSION:
        raise CheckpointError(
            f"{path}: field format_version is {ckpt['format_version']}, this tradelab reads <= {FORMAT_VERSION}; "
            "upgrade tradelab"
        )
    return ckpt


def apply_checkpoint(agent: SACAgent, ckpt: dict[str, Any], path: str | Path) -> None:
    """Copy weights, optimiser states, alpha, counters and the inference spec into ``agent``."""
    import torch

    model = agent.model
    try:
        for name in ("actor", "critic", "critic_target"):
            getattr(model, name).load_state_dict(ckpt["state_dicts"][name])
        model.actor.optimizer.load_state_dict(ckpt["optimizers"]["actor"])
        model.critic.optimizer.load_state_dict(ckpt["optimizers"]["critic"])
        if model.ent_coef_optimizer is not None and ckpt["optimizers"].get("alpha") is not None:
            model.ent_coef_optimizer.load_state_dict(ckpt["optimizers"]["alpha"])
    except (RuntimeError, KeyError, ValueError) as exc:
        raise CheckpointError(f"{path}: weights do not fit this agent ({str(exc).splitlines()[0]})") from exc
    with torch.no_grad():
        if model.log_ent_coef is not None and ckpt.get("log_ent_coef") is not None:
            model.log_ent_coef.copy_(ckpt["log_ent_coef"].to(model.device))
        elif ckpt.get("ent_coef") is not None and model.log_ent_coef is None:
            model.ent_coef_tensor = torch.tensor(float(ckpt["ent_coef"]), device=model.device)
    counters = ckpt.get("counters", {})
    model.num_timesteps = int(counters.get("num_timesteps", 0))
    model._n_updates = int(counters.get("n_updates", 0))
    model._episode_num = int(counters.get("episode_num", 0))
    agent.episodes_done = int(counters.get("episodes_done", 0))
    for key in ("feature_names", "scaler", "env_config", "asset", "frequency", "hmm"):
        agent.spec[key] = ckpt.get(key)
    agent.extra = dict(ckpt.get("extra") or {})


def save_replay_buffer(model: Any, path: str | Path) -> Path:
    """Filled part of ``model.replay_buffer`` as tensors (+ pos/full/size), written atomically."""
    import torch

    rb = model.replay_buffer
    n = rb.buffer_size if rb.full else rb.pos
    data: dict[str, Any] = {"pos": int(rb.pos), "full": bool(rb.full), "buffer_size": int(rb.buffer_size)}
    for name in _BUFFER_ARRAYS:
        arr = getattr(rb, name, None)
        if arr is not None and not (name == "next_observations" and rb.optimize_memory_usage):
            data[name] = torch.from_numpy(np.ascontiguousarray(arr[:n]))
    return _atomic_torch_save(data, path)


def _atomic_torch_save(data: Any, path: str | Path) -> Path:
    """torch.save straight into a temp file beside ``path``, then rename (no second copy in memory)."""
    import torch

    from tradelab.utils.io import atomic_path

    with atomic_path(path) as tmp:
        torch.save(data, tmp)
    return Path(path)


def load_replay_buffer(model: Any, path: str | Path) -> None:
    """Restore a buffer saved by :func:`save_replay_buffer` into ``model.replay_buffer``."""
    import torch

    path = Path(path)
    if path.is_file():
        _refuse_empty(path, "replay buffer")
    try:
        data = torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError as exc:
        raise CheckpointError(f"replay buffer not found: {path}") from exc
    except _LOAD_ERRORS as exc:
        raise CheckpointError(f"replay buffer {path} is corrupted ({exc}); resume without it") from exc
    rb = model.replay_buffer
    if int(data["buffer_size"]) != rb.buffer_size:
        raise CheckpointError(
            f"{path}: field buffer_size differs: file {data['buffer_size']}, agent {rb.buffer_size}; "
            "use the same sac.buffer_capacity as the run that wrote it"
        )
    for name in _BUFFER_ARRAYS:
        if name in data and getattr(rb, name, None) is not None:
            arr = data[name].numpy()
            getattr(rb, name)[: len(arr)] = arr
    rb.pos, rb.full = int(data["pos"]), bool(data["full"])
