"""PPO V3 configuration: the ``ppo_v3.yaml`` sections as frozen dataclasses, and what SB3 gets from them.

:class:`PPOV3Config` (``data``, ``env``, ``ppo``, ``training``, ``output_dir``); :data:`PPO_HYPERPARAMS`,
the one list of SB3 ``PPO`` keyword arguments taken from the ``ppo`` section (:func:`ppo_kwargs`), and
:func:`policy_kwargs`, the network the rest of the section describes; :data:`SMOKE_OVERRIDES`, the tiny
budget of smoke runs. Used by :mod:`tradelab.training.ppo` (training) and :mod:`tradelab.training.ppo_io`
(building and loading models).
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from tradelab.config import ConfigBase
from tradelab.errors import ConfigError

__all__ = [
    "PARAMETERS", "DataSection", "PPOParams", "TrainingSection", "PPOV3Config", "SMOKE_OVERRIDES", "PPO_HYPERPARAMS",
    "NETWORK_FIELDS", "ppo_kwargs", "policy_kwargs",
]

VEC_KINDS = ("batched", "dummy", "subproc")

#: Tiny budget for smoke runs (tests, notebooks' ``smoke=True``, ``make demo``): same code, small net.
SMOKE_OVERRIDES: dict[str, Any] = {
    "ppo.net_arch": [64, 64], "ppo.net_arch_pi": [64, 64], "ppo.net_arch_vf": [64, 64], "ppo.n_steps": 64, "ppo.batch_size": 64,
    "ppo.n_epochs": 2, "training.n_envs": 2, "training.total_timesteps": 512, "training.checkpoint_freq": 256,
    "training.eval_freq": 256, "training.progress_bar": False, "env.window": 10, "env.episode_lengths": [64],
}
ACTIVATIONS = ("tanh", "relu")
ARCHITECTURES = ("shared", "separate")


#: Short names of config keys: notebook 03's parameters and `tradelab train ppo`'s flags (seed 003's).
PARAMETERS: dict[str, str] = {
    "assets": "data.assets", "h5_path": "data.h5_path", "total_timesteps": "training.total_timesteps",
    "n_envs": "training.n_envs", "seed": "training.seed", "load_model": "training.load_model",
}


@dataclass(frozen=True)
class DataSection(ConfigBase):
    """Which assets, and how they are split."""

    assets: tuple[str, ...] = ("SPX", "NDX", "GOOG")
    """embedded asset names (tradelab.data.load_asset) or CSV/parquet paths"""
    h5_path: str | None = None
    """processed_data.h5 from `tradelab data build`; when set its splits are used"""
    fractions: tuple[float, ...] = (0.7, 0.15, 0.15)
    """train/val/test fractions of the common timestamps"""
    purge_gap: int | None = None
    """bars dropped between splits (None: tradelab.data.split's default)"""
    min_overlap: int = 200
    """fewest common timestamps the assets must share"""


@dataclass(frozen=True)
class PPOParams(ConfigBase):
    """SB3 PPO hyperparameters (V3 table) and the policy network."""

    learning_rate: float = 1e-4
    """Adam learning rate"""
    n_steps: int = 512
    """rollout length per env"""
    batch_size: int = 512
    """minibatch size"""
    n_epochs: int = 10
    """optimisation epochs per rollout"""
    gamma: float = 0.9
    """discount factor"""
    gae_lambda: float = 0.95
    """GAE lambda"""
    clip_range: float = 0.2
    """PPO clip range"""
    ent_coef: float = 0.0
    """entropy bonus coefficient"""
    vf_coef: float = 0.5
    """value loss coefficient"""
    target_kl: float | None = None
    """early-stop an update when the KL passes this (None: never)"""
    max_grad_norm: float = 0.5
    """gradient clipping norm"""
    architecture: str = "shared"
    """shared: one MLP trunk (net_arch) feeding linear policy and value heads (the seed's V3 network);
    separate: two MLPs, net_arch_pi and net_arch_vf"""
    net_arch: tuple[int, ...] = (1024, 512, 256)
    """shared trunk layer sizes (architecture: shared)"""
    net_arch_pi: tuple[int, ...] = (1024, 512, 256)
    """policy MLP layer sizes (architecture: separate)"""
    net_arch_vf: tuple[int, ...] = (1024, 512, 256)
    """value MLP layer sizes (architecture: separate)"""
    activation: str = "tanh"
    """hidden activation: tanh | relu"""

    def validate(self) -> None:
        if self.learning_rate <= 0:
            raise ConfigError(f"ppo.learning_rate must be > 0, got {self.learning_rate}")
        if self.n_steps < 2 or self.batch_size < 2:
            raise ConfigError(f"ppo.n_steps and ppo.batch_size must be >= 2, got {self.n_steps}, {self.batch_size}")
        if self.activation not in ACTIVATIONS:
            raise ConfigError(f"ppo.activation must be one of {ACTIVATIONS}, got {self.activation!r}")
        if self.architecture not in ARCHITECTURES:
            raise ConfigError(f"ppo.architecture must be one of {ARCHITECTURES}, got {self.architecture!r}")


@dataclass(frozen=True)
class TrainingSection(ConfigBase):
    """Budget, vectorisation, callbacks and runtime."""

    total_timesteps: int = 1_000_000
    """environment steps to train for"""
    n_envs: int = 8
    """parallel environments"""
    vec_env: str = "batched"
    """batched (tradelab's array-stepped VecEnv) | dummy | subproc"""
    checkpoint_freq: int = 100_000
    """save a checkpoint every this many steps"""
    eval_freq: int = 20_000
    """evaluate on the validation split every this many steps"""
    n_eval_episodes: int = 1
    """validation episodes per evaluation"""
    seed: int = 0
    """random seed (python, numpy, torch, envs)"""
    threads: int = 1
    """torch intra-op threads"""
    device: str = "auto"
    """auto | cpu | cuda"""
    progress_bar: bool = True
    """show SB3's progress bar"""
    tensorboard: bool = True
    """write TensorBoard event files"""
    wandb: bool = False
    """also log to Weights & Biases (needs `pip install wandb`)"""
    wandb_project: str = "tradelab"
    """W&B project name"""
    wandb_mode: str = "offline"
    """W&B mode: offline | online"""
    resume: bool = False
    """continue from the newest checkpoint in the run folder"""
    fresh: bool = False
    """start over in a folder that holds another run's checkpoints (they are removed)"""
    max_runtime: str | float | None = None
    """wall-clock budget: seconds or '11h'/'90m'; None/'auto' = 11 h on Kaggle, unlimited locally; 'off'"""
    load_model: str | None = None
    """start from this PPO zip's weights (found like PPO.load: "x" finds x.zip, also under output_dir and
    output_dir/models); None: a fresh network"""
    final_test: bool = True
    """after training, backtest the test split once beside the baselines"""
    normalize_obs: bool = True
    """SB3 VecNormalize on observations (statistics saved as JSON beside every model, see training.vecnorm)"""
    normalize_reward: bool = True
    """SB3 VecNormalize on rewards (scaled by the running std of the discounted return)"""

    def validate(self) -> None:
        from tradelab.utils.runtime import check_device, parse_max_runtime

        parse_max_runtime(self.max_runtime, "training.max_runtime")
        check_device(self.device, "training.device")
        if self.resume and self.fresh:
            raise ConfigError("training.resume and training.fresh are both true: choose one")
        if self.vec_env not in VEC_KINDS:
            raise ConfigError(f"training.vec_env must be one of {VEC_KINDS}, got {self.vec_env!r}")
        if self.n_envs < 1 or self.total_timesteps < 1:
            raise ConfigError("training.n_envs and training.total_timesteps must be >= 1")
        if self.threads < 1:
            raise ConfigError(f"training.threads must be >= 1, got {self.threads}")


@dataclass(frozen=True)
class PPOV3Config(ConfigBase):
    """Everything one PPO V3 run needs (configs/ppo_v3.yaml)."""

    data: DataSection = field(default_factory=DataSection)
    """assets and split"""
    env: dict[str, Any] = field(default_factory=lambda: {"window": 5, "episode_lengths": [256], "max_assets": 3,
                                                         "min_trade_fraction": 0.1})
    """TradingEnvConfig keys for the PortfolioEnv"""
    ppo: PPOParams = field(default_factory=PPOParams)
    """PPO hyperparameters"""
    training: TrainingSection = field(default_factory=TrainingSection)
    """budget and runtime"""
    output_dir: str = "outputs/ppo_v3"
    """run folder"""

    @classmethod
    def from_yaml(cls, path: str | Path | None = None, **overrides: Any) -> PPOV3Config:
        """Our layout, or seed 003's ``training``/``environment``/``data.tickers`` layout (training/seed_layout.py)."""
        from tradelab.config import from_dict, load_yaml, set_dotted
        from tradelab.training.seed_layout import is_seed_layout, translate_seed_layout

        data = load_yaml(path) if path is not None else {}
        if is_seed_layout(data):
            data = translate_seed_layout(data, str(path), cls)
        for key, value in overrides.items():
            if value is not None:
                set_dotted(data, key.replace("__", "."), value)
        return from_dict(cls, data, str(path or cls.__name__))

    def validate(self) -> None:
        n = len(self.data.assets)
        if n and int(self.env.get("max_assets", n)) < n:
            raise ConfigError(f"env.max_assets={self.env.get('max_assets')} is smaller than the {n} assets "
                              f"in data.assets; raise env.max_assets")



def policy_kwargs(p: PPOParams) -> dict[str, Any]:
    """V3 network: a shared MLP trunk (SB3 features extractor) with linear heads, or separate MLPs."""
    import torch.nn as nn

    act = {"tanh": nn.Tanh, "relu": nn.ReLU}[p.activation]
    if p.architecture == "shared":
        from tradelab.agents.sb3_ext import MlpTrunk

        return {"features_extractor_class": MlpTrunk, "share_features_extractor": True,
                "features_extractor_kwargs": {"net_arch": list(p.net_arch), "activation": p.activation},
                "net_arch": {"pi": [], "vf": []}, "activation_fn": act}
    return {"net_arch": {"pi": list(p.net_arch_pi), "vf": list(p.net_arch_vf)}, "activation_fn": act}


#: ``ppo`` fields that describe the policy network (:func:`policy_kwargs`), not SB3 ``PPO`` arguments.
NETWORK_FIELDS = ("architecture", "net_arch", "net_arch_pi", "net_arch_vf", "activation")
#: The SB3 ``PPO`` hyperparameters of the ``ppo`` section: every other field, in declaration order.
PPO_HYPERPARAMS: tuple[str, ...] = tuple(f.name for f in fields(PPOParams) if f.name not in NETWORK_FIELDS)


def ppo_kwargs(p: PPOParams) -> dict[str, Any]:
    """SB3 ``PPO`` keyword arguments from the ``ppo`` section: its hyperparameters and the policy network.

    The one place they are listed, for a fresh model and for a loaded one alike."""
    return {**{name: getattr(p, name) for name in PPO_HYPERPARAMS}, "policy_kwargs": policy_kwargs(p)}
