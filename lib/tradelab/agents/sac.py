"""SACConfig and SACAgent: stable-baselines3 SAC behind the seed guide's API, saved as one ``.pt``.

Agents: ``agent_id=1`` plain SAC on the env's features; ``2`` SAC + auxiliary next-bar-return
head on the critic (:mod:`tradelab.agents.aux`); ``3`` SAC whose observation also carries
forward-filtered HMM regime probabilities (:mod:`tradelab.agents.regime`, appended to the
scaled features by :mod:`tradelab.agents.sac_data`).

``.pt`` checkpoint format (``FORMAT_VERSION`` 1), a dict of tensors and JSON-able values only, so
``torch.load(path, weights_only=True)`` reads it on CPU or CUDA:

* ``format_version`` (int), ``tradelab_version`` (str), ``agent_id`` (1/2/3), ``agent_variant`` ("sac"/"sac_aux"/"sac_regime");
* ``sac_config`` (``SACConfig.to_dict()``: state_dim, action_dim, hidden_dims, rates, ...);
* ``state_dicts``: ``actor``, ``critic``, ``critic_target`` (CPU tensors, SB3 module layouts);
* ``optimizers``: ``actor``, ``critic``, ``alpha`` (torch optimiser state dicts; alpha None when fixed);
* ``log_ent_coef`` (1-element tensor, the learned log-alpha) or ``ent_coef`` (float, fixed alpha);
* ``counters``: ``num_timesteps``, ``n_updates``, ``episode_num``, ``episodes_done``;
* inference spec: ``feature_names`` (list), ``scaler`` (``FeatureScaler.to_dict()``, fitted on train),
  ``env_config`` (``TradingEnvConfig.to_dict()``), ``asset`` (str), ``frequency`` (bar frequency, e.g.
  "hourly"; None in checkpoints written before it was recorded), ``hmm`` (agent 3:
  ``RegimeHMM.to_dict()``, else None) — with these alone inference rebuilds the observation:
  ``agent.prepare_features(ohlcv, unscaled_features)`` then ``TradingEnvironment(ohlcv, that, env_config)``;
* ``extra``: trainer state (best val Sharpe, metrics), JSON-able.

The replay buffer is saved beside a checkpoint (``save_replay_buffer``), tensors only too.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from tradelab.agents import checkpoint
from tradelab.agents.checkpoint import FORMAT_VERSION
from tradelab.config import ConfigBase
from tradelab.errors import CheckpointError, ConfigError, DataError
from tradelab.utils import resolve_device

__all__ = ["SACConfig", "SACAgent", "FORMAT_VERSION", "AGENT_VARIANTS", "UNSCALED_LIMIT", "GYMNASIUM_LOOP"]

#: The train-fitted scaler clips every feature to +-5; an observation value beyond this is a raw feature
#: (RSI 0..100, prices, volumes), i.e. the features were not passed through the agent's scaler.
UNSCALED_LIMIT = 50.0
GYMNASIUM_LOOP = (
    "obs, info = env.reset()\n"
    "done = False\n"
    "while not done:\n"
    "    action = agent.select_action(obs, evaluate=True)\n"
    "    obs, reward, terminated, truncated, info = env.step(action)\n"
    "    done = terminated or truncated\n"
    "print(info['total_return'], info['sharpe_ratio'])"
)
AGENT_VARIANTS = {1: "sac", 2: "sac_aux", 3: "sac_regime"}
_SHAPE_FIELDS = ("state_dim", "action_dim", "hidden_dims")


@dataclass(frozen=True)
class SACConfig(ConfigBase):
    """SAC hyper-parameters (SB3 ``SAC`` underneath)."""

    state_dim: int = 0
    """Observation size; 0 = take it from the environment or the checkpoint."""
    action_dim: int = 1
    """Action size (1: target exposure in [-1, 1])."""
    hidden_dims: tuple[int, ...] = (256, 256)
    """Hidden layer widths of the actor and of each Q network."""
    actor_lr: float = 3e-4
    """Actor learning rate."""
    critic_lr: float = 3e-4
    """Critic learning rate (the agent 2 auxiliary head shares it)."""
    alpha_lr: float = 3e-4
    """Entropy-coefficient learning rate (automatic entropy tuning)."""
    gamma: float = 0.99
    """Discount factor."""
    tau: float = 0.005
    """Polyak factor of the target critic."""
    buffer_capacity: int = 100_000
    """Replay buffer size (transitions)."""
    batch_size: int = 256
    """Minibatch size per gradient step."""
    warmup_steps: int = 5000
    """Uniform-random steps before learning starts (SB3 ``learning_starts``)."""
    train_freq: int = 4
    """Env steps between training phases."""
    gradient_steps: int = 1
    """Gradient steps per training phase (so updates per env step = gradient_steps / train_freq)."""
    auto_entropy: bool = True
    """Learn alpha to reach ``target_entropy`` (else alpha stays ``init_alpha``)."""
    init_alpha: float = 0.1
    """Initial (or fixed) entropy coefficient alpha."""
    target_entropy: float | None = None
    """Target policy entropy; None = -action_dim."""
    device: str = "auto"
    """"auto" (CUDA when present), "cpu" or "cuda"."""
    seed: int = 0
    """Seed of SB3 / torch / numpy."""
    aux_weight: float = 0.5
    """Agent 2: weight of the next-bar-return loss in the critic loss."""
    aux_target_scale: float = 100.0
    """Agent 2: the auxiliary target is next_return × this (returns are ~1e-3)."""
    n_regimes: int = 3
    """Agent 3: number of HMM regimes appended to the observation."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "hidden_dims", tuple(int(h) for h in self.hidden_dims))
        self.validate()

    def validate(self) -> None:
        checks = [
            ("state_dim", self.state_dim >= 0, ">= 0"),
            ("action_dim", self.action_dim >= 1, ">= 1"),
            ("hidden_dims", len(self.hidden_dims) > 0 and min(self.hidden_dims) > 0, "non-empty, positive"),
            ("gamma", 0 < self.gamma <= 1, "in (0, 1]"),
            ("tau", 0 < self.tau <= 1, "in (0, 1]"),
            ("batch_size", self.batch_size >= 1, ">= 1"),
            ("buffer_capacity", self.buffer_capacity >= self.batch_size, ">= batch_size"),
            ("warmup_steps", self.warmup_steps >= 0, ">= 0"),
            ("train_freq", self.train_freq >= 1, ">= 1"),
            ("gradient_steps", self.gradient_steps >= 1, ">= 1"),
            ("init_alpha", self.init_alpha > 0, "> 0"),
            ("aux_weight", self.aux_weight >= 0, ">= 0"),
            ("n_regimes", self.n_regimes >= 2, ">= 2"),
        ]
        checks += [(n, getattr(self, n) > 0, "> 0") for n in ("actor_lr", "critic_lr", "alpha_lr")]
        for name, ok, rule in checks:
            if not ok:
                raise ConfigError(f"SACConfig.{name} = {getattr(self, name)!r} must be {rule}")


class SACAgent:
    """The seed guide's agent: ``select_action``, ``save``, ``load`` over an SB3 SAC model.

    :param config: hyper-parameters; ``state_dim`` may be 0 when an env or checkpoint gives it.
    :param agent_id: 1 plain SAC, 2 auxiliary next-return head, 3 regime-augmented observation.
    :param env: training env (gymnasium); None builds a spaces-only model for inference.
    """

    def __init__(self, config: SACConfig | None = None, agent_id: int = 1, env: Any = None) -> None:
        if agent_id not in AGENT_VARIANTS:
            raise ConfigError(f"agent_id = {agent_id!r} must be one of {sorted(AGENT_VARIANTS)}")
        self.config = config or SACConfig()
        self.agent_id = int(agent_id)
        self.spec: dict[str, Any] = {"feature_names": [], "scaler": None, "env_config": {}, "asset": None,
                                     "frequency": None, "hmm": None}
        self.extra: dict[str, Any] = {}
        self.episodes_done = 0
        self.model: Any = None
        if env is not None or self.config.state_dim > 0:
            self._build(env)

    @property
    def variant(self) -> str:
        return AGENT_VARIANTS[self.agent_id]

    @property
    def device(self) -> str:
        return str(self.model.device) if self.model is not None else resolve_device(self.config.device)

    def _build(self, env: Any = None, device: str | None = None) -> None:
        from tradelab.agents.sb3_ext import SpacesEnv, TradelabSAC

        cfg = self.config
        if env is None:
            env, buffer_size = SpacesEnv(cfg.state_dim, cfg.action_dim), 1
        else:
            dim = int(np.prod(env.observation_space.shape))
            if cfg.state_dim and cfg.state_dim != dim:
                raise ConfigError(f"SACConfig.state_dim = {cfg.state_dim} but the env's observation has {dim} values")
            self.config = cfg = cfg.replace(state_dim=dim)
            buffer_size = cfg.buffer_capacity
        kwargs: dict[str, Any] = {"policy_kwargs": {"net_arch": list(cfg.hidden_dims)}}
        cls, policy = TradelabSAC, "MlpPolicy"
        if self.agent_id == 2:
            from tradelab.agents.aux import AuxSAC, AuxSACPolicy, MlpFeatures

            cls, policy = AuxSAC, AuxSACPolicy
            kwargs = {
                "policy_kwargs": {
                    "net_arch": list(cfg.hidden_dims[1:]),
                    "features_extractor_class": MlpFeatures,
                    "features_extractor_kwargs": {"features_dim": cfg.hidden_dims[0]},
                },
                "aux_weight": cfg.aux_weight,
                "aux_target_scale": cfg.aux_target_scale,
            }
        self.model = cls(
            policy,
            env,
            learning_rate=cfg.actor_lr,
            lrs={"actor": cfg.actor_lr, "critic": cfg.critic_lr, "alpha": cfg.alpha_lr},
            buffer_size=buffer_size,
            learning_starts=cfg.warmup_steps,
            batch_size=cfg.batch_size,
            tau=cfg.tau,
            gamma=cfg.gamma,
            train_freq=cfg.train_freq,
            gradient_steps=cfg.gradient_steps,
            ent_coef=f"auto_{cfg.init_alpha}" if cfg.auto_entropy else cfg.init_alpha,
            target_entropy="auto" if cfg.target_entropy is None else cfg.target_entropy,
            seed=cfg.seed,
            device=device or resolve_device(cfg.device),
            verbose=0,
            **kwargs,
        )

    def _require_model(self) -> Any:
        if self.model is None:
            raise ConfigError("SACAgent has no network yet: give SACConfig.state_dim, an env, or call load(path)")
        return self.model

    # -- acting ---------------------------------------------------------------------------------
    def select_action(self, state: np.ndarray, evaluate: bool = False) -> np.ndarray:
        """Action(s) for ``state`` ((state_dim,) or (n, state_dim)); deterministic when ``evaluate``."""
        model = self._require_model()
        if isinstance(state, tuple) and len(state) == 2 and isinstance(state[1], dict):
            raise DataError("select_action got (obs, info), the pair gymnasium's env.reset() returns; take the "
                            "observation out of it. The working loop (step returns 5 values):\n" + GYMNASIUM_LOOP)
        obs = np.asarray(state, dtype=np.float32)
        if obs.shape[-1] != self.config.state_dim:
            raise DataError(
                f"select_action: state has {obs.shape[-1]} values, the agent expects state_dim={self.config.state_dim}"
            )
        if obs.size and float(np.nanmax(np.abs(obs))) > UNSCALED_LIMIT:
            raise DataError(
                f"select_action: the observation holds {float(np.nanmax(np.abs(obs))):.4g}, far outside the agent's "
                f"scaled range (+-{UNSCALED_LIMIT:g}): the env was built from UNSCALED features. Build it with "
                "env = agent.make_env(ohlcv) (or pass agent.prepare_features(ohlcv, features) to TradingEnvironment)")
        action, _ = model.predict(obs, deterministic=evaluate)
        return action

    def predict(self, obs: np.ndarray, deterministic: bool = True, **_: Any) -> tuple[np.ndarray, None]:
        """SB3-style alias of :meth:`select_action`."""
        return self.select_action(obs, evaluate=deterministic), None

    def prepare_features(self, ohlcv: Any, features: Any) -> Any:
        """Unscaled features (+ OHLCV for agent 3) → the scaled observation features the agent saw."""
        from tradelab.agents.sac_data import prepare_features

        return prepare_features(ohlcv, features, self.spec)

    def make_env(self, ohlcv: Any, features: Any = None, eval_mode: bool = True, config: Any = None) -> Any:
        """A :class:`TradingEnvironment` that shows this agent what it saw in training.

        :param ohlcv: canonical OHLCV bars (e.g. ``test_data['EURUSD']`` or a CSV via ``tradelab.data.load_file``).
        :param features: UNSCALED features of those bars (the h5's stored ones); None computes them from
            ``ohlcv`` (the first ``tradelab.features.WARMUP_BARS`` bars are then dropped).
        :param eval_mode: one deterministic pass over all bars (True) or random training episodes.
        :param config: a ``TradingEnvConfig``; None: the one saved in the checkpoint.
        """
        from tradelab.envs.config import TradingEnvConfig
        from tradelab.envs.trading_env import TradingEnvironment

        if features is None:
            from tradelab.features import compute_features

            features = compute_features(ohlcv).replace([np.inf, -np.inf], np.nan).dropna()
            if len(features) < 2:
                raise DataError(f"make_env: {len(ohlcv)} bars leave {len(features)} after the feature warm-up; "
                                "give more bars or pass the stored features")
            ohlcv = ohlcv.loc[features.index]
        observed = self.prepare_features(ohlcv, features)
        if config is None:
            saved = dict(self.spec.get("env_config") or {})
            config = TradingEnvConfig.from_dict(saved, "checkpoint env_config") if saved else TradingEnvConfig()
        return TradingEnvironment(ohlcv, observed, config=config, eval_mode=eval_mode)

    # -- persistence ------------------------------------------------------------------------------
    def save(self, path: str | Path, extra: dict[str, Any] | None = None) -> Path:
        """Write one weights-only ``.pt`` atomically (format in the module docstring)."""
        return checkpoint._atomic_torch_save(checkpoint.checkpoint_dict(self, extra if extra is not None else self.extra), path)

    def load(self, path: str | Path, device: str | None = None) -> SACAgent:
        """Load a ``.pt`` written by :meth:`save` (``weights_only=True``); returns ``self``."""
        return self.load_checkpoint_dict(checkpoint.read_checkpoint(path, device or self.device), path, device)

    def load_checkpoint_dict(self, ckpt: dict[str, Any], path: str | Path, device: str | None = None) -> SACAgent:
        """Apply an already-read checkpoint (``path`` names it in errors); returns ``self``."""
        self._check_compatible(ckpt, path)
        if self.model is None:
            self.config = self.config.replace(state_dim=int(ckpt["sac_config"]["state_dim"]))
            self._build(device=device)
        checkpoint.apply_checkpoint(self, ckpt, path)
        return self

    @classmethod
    def from_checkpoint(cls, path: str | Path, device: str = "auto", ckpt: dict[str, Any] | None = None) -> SACAgent:
        """Build the agent a ``.pt`` describes (its own agent id and config), weights loaded.

        ``ckpt``: the file's content when the caller already read it (the file is then not re-read).
        """
        ckpt = ckpt if ckpt is not None else checkpoint.read_checkpoint(path, resolve_device(device))
        config = SACConfig.from_dict({**ckpt["sac_config"], "device": device}, f"{path}: sac_config")
        agent = cls(config, agent_id=int(ckpt["agent_id"]))
        return agent.load_checkpoint_dict(ckpt, path, device=resolve_device(device))

    def _check_compatible(self, ckpt: dict[str, Any], path: str | Path) -> None:
        if int(ckpt["agent_id"]) != self.agent_id:
            raise CheckpointError(
                f"{path}: field agent_id differs: the file holds agent {ckpt['agent_id']} "
                f"({ckpt.get('agent_variant')}), this SACAgent is agent {self.agent_id}; "
                f"create SACAgent(..., agent_id={ckpt['agent_id']}) or load agent_{self.agent_id}_*.pt"
            )
        saved = ckpt["sac_config"]
        for name in _SHAPE_FIELDS:
            mine, theirs = getattr(self.config, name), saved.get(name)
            if name == "hidden_dims":
                mine, theirs = list(mine), list(theirs or [])
            if name == "state_dim" and mine == 0:
                continue
            if mine != theirs:
                raise CheckpointError(
                    f"{path}: field sac_config.{name} differs: file {theirs!r}, this agent {mine!r}; "
                    f"build SACConfig({name}={theirs!r}) or use SACAgent.from_checkpoint(path)"
                )

    def save_replay_buffer(self, path: str | Path) -> Path:
        """Write the filled part of the replay buffer (tensors only) atomically."""
        return checkpoint.save_replay_buffer(self._require_model(), path)

    def load_replay_buffer(self, path: str | Path) -> None:
        """Restore a buffer written by :meth:`save_replay_buffer` (weights-only)."""
        checkpoint.load_replay_buffer(self._require_model(), path)

    def set_env(self, env: Any) -> None:
        """Attach a training env (builds the model when there is none)."""
        if self.model is None:
            self._build(env)
            return
        self.model.set_env(env)
        rb = self.model.replay_buffer
        if rb.buffer_size < self.config.buffer_capacity:  # built for inference: give it a real buffer
            self.model.buffer_size = self.config.buffer_capacity
            self.model.replay_buffer = type(rb)(
                self.config.buffer_capacity, rb.observation_space, rb.action_space, device=rb.device, n_envs=1
            )

