"""Curriculum configuration: the stages (``configs/curriculum.yaml``: :class:`CurriculumConfig`,
:class:`StageConfig`) and one call's run settings (:class:`CurriculumRun`: which stage, from which
model, tuned or not, budgets, seeds), from which `tradelab curriculum` derives its flags.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tradelab.config import CONFIG_DIR, ConfigBase, flat_keys, load_yaml, set_dotted
from tradelab.errors import ConfigError
from tradelab.training.ppo_config import SMOKE_OVERRIDES
from tradelab.training.tuning import SearchSpace

__all__ = ["StageConfig", "CurriculumConfig", "CurriculumRun", "load_curriculum", "smoke_curriculum"]


@dataclass(frozen=True)
class StageConfig(ConfigBase):
    """One curriculum stage."""

    stage: int
    """stage number (1, 2, 3...)"""
    assets: tuple[str, ...]
    """assets traded in this stage (embedded names or CSV/parquet paths)"""
    name: str = ""
    """what the stage teaches"""
    timesteps: int = 500_000
    """training steps of the stage's full run"""
    n_envs: int = 8
    """parallel environments"""
    sharpe_target: float = 0.5
    """gate: validation Sharpe the final model must reach"""
    learning_rate: float = 5e-5
    """stage learning rate (replaced by the tuned one with --auto-optimize)"""
    n_steps: int = 4096
    """stage rollout length"""
    ent_coef: float = 0.01
    """stage entropy coefficient"""
    tune_timesteps: int = 50_000
    """training steps of one Optuna trial"""
    search: SearchSpace = field(default_factory=SearchSpace)
    """Optuna ranges for this stage"""


@dataclass(frozen=True)
class CurriculumConfig(ConfigBase):
    """configs/curriculum.yaml: the base PPO config and the stages."""

    stages: tuple[StageConfig, ...] = ()
    """the stages, in order"""
    base_config: str = "ppo_v3.yaml"
    """PPO V3 config every stage starts from (relative to this file or configs/)"""
    base_overrides: dict[str, Any] = field(default_factory=dict)
    """nested overrides merged into the base config"""
    n_trials: int = 15
    """Optuna trials per --auto-optimize call"""
    evals_per_trial: int = 4
    """intermediate validation evaluations per trial (median pruner)"""
    output_dir: str = "outputs/curriculum"
    """curriculum folder"""
    gate_fraction: float = 0.5
    """share of the validation bars (the latest) kept for the gate; Optuna and best-checkpoint use the rest"""
    gate_purge_gap: int | None = None
    """bars dropped between the tuning and gate parts of validation; None: env.window (no gate
    observation then holds a bar the tuning part scored)"""
    config_dir: str = ""
    """folder of the YAML this was read from (set by load_curriculum)"""

    def validate(self) -> None:
        numbers = [s.stage for s in self.stages]
        if not numbers or numbers != list(range(1, len(numbers) + 1)):
            raise ConfigError(f"stages must be numbered 1..N in order, got {numbers}")
        if not 0 < self.gate_fraction < 1:
            raise ConfigError(f"gate_fraction = {self.gate_fraction} must be in (0, 1): part of validation is "
                              "for tuning, the rest for the gate")
        if self.gate_purge_gap is not None and self.gate_purge_gap < 0:
            raise ConfigError(f"gate_purge_gap = {self.gate_purge_gap} must be >= 0 (or null for env.window)")

    def get(self, n: int) -> StageConfig:
        if not 1 <= n <= len(self.stages):
            raise ConfigError(f"--stage {n} does not exist; the curriculum has stages 1..{len(self.stages)}")
        return self.stages[n - 1]


def load_curriculum(path: str | Path | None = None, **overrides: Any) -> CurriculumConfig:
    """Read the curriculum YAML (default configs/curriculum.yaml) with dotted overrides."""
    path = Path(path) if path else CONFIG_DIR / "curriculum.yaml"
    data = load_yaml(path)
    for key, value in overrides.items():
        set_dotted(data, key, value)
    data.setdefault("config_dir", str(path.resolve().parent))
    return CurriculumConfig.from_dict(data, str(path))


def smoke_curriculum(cur: CurriculumConfig) -> tuple[CurriculumConfig, dict[str, Any]]:
    """Tiny budgets for smoke runs (tests, notebooks' ``smoke``): every stage 256 steps on 2 envs,
    Optuna trials of 128 steps over n_steps 32/64, and the small network of ``SMOKE_OVERRIDES``."""
    stages = []
    for s in cur.stages:
        search = s.search.replace(n_steps=[32, 64])
        stages.append(s.replace(timesteps=256, n_envs=2, n_steps=64, tune_timesteps=128, search=search.to_dict())
                      .to_dict())
    overrides = {k: v for k, v in SMOKE_OVERRIDES.items() if k not in ("training.total_timesteps", "training.n_envs")}
    return cur.replace(stages=stages, evals_per_trial=2), overrides


@dataclass(frozen=True)
class CurriculumRun(ConfigBase):
    """One `tradelab curriculum` call (notebook 04's parameters): a stage of the curriculum YAML, how to run it."""

    stage: int = 1
    """stage number (1, 2, 3)"""
    config: str | None = None
    """curriculum YAML; None: configs/curriculum.yaml"""
    output_dir: str | None = None
    """curriculum folder (stages read their predecessor's model here); None: the YAML's output_dir"""
    load_model: str | None = None
    """start from this PPO zip instead of stage N-1's final model"""
    auto_optimize: bool = False
    """tune learning_rate / n_steps / ent_coef with Optuna on the validation split before the full run"""
    n_trials: int | None = None
    """top the Optuna study up to this many finished trials; None: the YAML's n_trials (15)"""
    storage: str | None = None
    """Optuna storage: SQLAlchemy URL or journal:PATH; None: SQLite in the output folder"""
    timesteps: int | None = None
    """training steps of the stage; None: the stage's value"""
    tune_timesteps: int | None = None
    """steps per Optuna trial; None: the stage's value"""
    n_envs: int | None = None
    """parallel environments; None: the stage's value"""
    seed: int = 0
    """random seed"""
    seeds: tuple[int, ...] = ()
    """run once per seed (folders seed{s}/) and report mean ± std; empty: one run with ``seed``"""
    force: bool = False
    """start from a predecessor that failed its gate"""
    smoke: bool = False
    """tiny network and budgets (a quick end-to-end check); the values above still win"""
    ppo_overrides: dict[str, Any] = field(default_factory=dict)
    """PPO V3 config keys for this stage (``--set ppo.net_arch=[64,64]``; nested or dotted)"""

    def validate(self) -> None:
        if self.stage < 1:
            raise ConfigError(f"stage = {self.stage} must be >= 1")

    def curriculum(self) -> tuple[CurriculumConfig, dict[str, Any]]:
        """The curriculum YAML with this run's smoke and tune_timesteps applied, and the stage's PPO overrides."""
        cur, overrides = load_curriculum(self.config), {}
        if self.smoke:
            cur, overrides = smoke_curriculum(cur)
        cur.get(self.stage)  # a clear error for a stage that does not exist
        if self.tune_timesteps:
            cur = cur.replace(stages=[(s.replace(tune_timesteps=self.tune_timesteps) if s.stage == self.stage else s)
                                      .to_dict() for s in cur.stages])
        return cur, {**overrides, **flat_keys(self.ppo_overrides)}
