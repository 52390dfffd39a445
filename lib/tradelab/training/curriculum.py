"""The Ploutos 3-stage curriculum: PPO V3 trained stage by stage, each from the last one's weights.

``run_stage(curriculum, N, output_dir)`` loads stage N-1's final model (refusing one whose gate
failed unless ``force``), optionally tunes it with Optuna on the validation split, trains, gates
on the validation Sharpe, and only then backtests the test split beside the baselines.

Layout under ``output_dir``::

    models/stage{N}/ploutos_stage{N}_{steps}_steps.zip   checkpoints
    models/stage{N}/best_model.zip                      best on validation (EvalCallback)
    models/stage{N}/optimized_params.json               when tuned
    models/stage{N}_final.zip (+ .scalers.json, .config.json)
    stage{N}_report.json                                gate, validation, test vs baselines
    stage{N}_test/                                      metrics.json, equity.csv, plots
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tradelab.config import CONFIG_DIR, ConfigBase, load_yaml, set_dotted
from tradelab.errors import CheckpointError, ConfigError
from tradelab.training.tuning import SearchSpace

__all__ = ["StageConfig", "CurriculumConfig", "stage_paths", "smoke_curriculum", "load_curriculum", "stage_ppo_config", "run_stage", "run_seeds", "main"]


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
    config_dir: str = ""
    """folder of the YAML this was read from (set by load_curriculum)"""

    def validate(self) -> None:
        numbers = [s.stage for s in self.stages]
        if not numbers or numbers != list(range(1, len(numbers) + 1)):
            raise ConfigError(f"stages must be numbered 1..N in order, got {numbers}")

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
    from tradelab.training.ppo import SMOKE_OVERRIDES

    stages = []
    for s in cur.stages:
        search = s.search.replace(n_steps=[32, 64])
        stages.append(s.replace(timesteps=256, n_envs=2, n_steps=64, tune_timesteps=128, search=search.to_dict())
                      .to_dict())
    overrides = {k: v for k, v in SMOKE_OVERRIDES.items() if k not in ("training.total_timesteps", "training.n_envs")}
    return cur.replace(stages=stages, evals_per_trial=2), overrides


def _merge(base: dict, extra: dict) -> dict:
    out = dict(base)
    for key, value in extra.items():
        out[key] = _merge(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


def stage_ppo_config(cur: CurriculumConfig, n: int, ppo_overrides: dict[str, Any] | None = None,
                     timesteps: int | None = None, n_envs: int | None = None, seed: int | None = None):
    """The PPO V3 config of stage ``n``: base YAML + base_overrides + the stage's values + overrides."""
    from tradelab.training.ppo import PPOV3Config

    stage = cur.get(n)
    base = Path(cur.base_config)
    candidates = [base] if base.is_absolute() else [Path(cur.config_dir) / base, CONFIG_DIR / base]
    found = next((p for p in candidates if p.is_file()), None)
    if found is None:
        raise ConfigError(f"base_config {cur.base_config!r} not found (looked in {[str(p) for p in candidates]})")
    data = _merge(load_yaml(found), cur.base_overrides)
    max_assets = max(len(s.assets) for s in cur.stages)
    data.setdefault("env", {})
    data["env"]["max_assets"] = max(int(data["env"].get("max_assets", max_assets)), max_assets)
    set_dotted(data, "data.assets", list(stage.assets))
    for key, value in {"ppo.learning_rate": stage.learning_rate, "ppo.n_steps": stage.n_steps,
                       "ppo.ent_coef": stage.ent_coef, "training.total_timesteps": stage.timesteps,
                       "training.n_envs": stage.n_envs}.items():
        set_dotted(data, key, value)
    for key, value in (ppo_overrides or {}).items():
        set_dotted(data, key, value)
    for key, value in {"training.total_timesteps": timesteps, "training.n_envs": n_envs,
                       "training.seed": seed}.items():
        if value is not None:
            set_dotted(data, key, value)
    return PPOV3Config.from_dict(data, f"{found} (stage {n})")


def stage_paths(output_dir: str | Path, n: int) -> dict[str, Path]:
    """Where stage ``n`` writes (see the module docstring)."""
    out = Path(output_dir)
    return {"root": out, "dir": out / "models" / f"stage{n}", "final": out / "models" / f"stage{n}_final.zip",
            "params": out / "models" / f"stage{n}" / "optimized_params.json",
            "report": out / f"stage{n}_report.json", "test": out / f"stage{n}_test",
            "tensorboard": out / "tensorboard" / f"stage{n}"}


def predecessor(output_dir: str | Path, n: int, force: bool = False) -> Path | None:
    """Stage n-1's final model, refusing one that failed its gate unless ``force``."""
    if n <= 1:
        return None
    prev = stage_paths(output_dir, n - 1)
    if not prev["final"].is_file():
        raise CheckpointError(f"stage {n - 1}'s final model not found at {prev['final']}: run "
                              f"`tradelab curriculum --stage {n - 1}` first or pass --load-model PATH")
    if prev["report"].is_file():
        from tradelab.utils import read_json

        gate = read_json(prev["report"], "stage report").get("gate", {})
        if not gate.get("passed", False) and not force:
            raise CheckpointError(
                f"stage {n - 1} failed its gate (validation Sharpe {gate.get('val_sharpe')} < target "
                f"{gate.get('target')}, see {prev['report']}); retrain stage {n - 1} or pass --force "
                "to start from it anyway")
    return prev["final"]


def _tune_stage(cur: CurriculumConfig, stage: StageConfig, cfg: Any, paths: dict, prepared: Any,
                load_from: Path | None, n_trials: int | None, storage: str | None) -> dict[str, Any]:
    from tradelab.training.tuning import tune
    from tradelab.utils import atomic_write_json

    result = tune(cfg, stage.search, n_trials=n_trials or cur.n_trials, storage=storage,
                  study_name=f"ploutos_stage{stage.stage}", output_dir=paths["root"],
                  trial_timesteps=stage.tune_timesteps, evals_per_trial=cur.evals_per_trial,
                  prepared=prepared, load_from=load_from)
    atomic_write_json(paths["params"], result)
    return result


def run_stage(
    cur: CurriculumConfig,
    n: int,
    output_dir: str | Path | None = None,
    load_model: str | Path | None = None,
    auto_optimize: bool = False,
    n_trials: int | None = None,
    storage: str | None = None,
    timesteps: int | None = None,
    n_envs: int | None = None,
    seed: int = 0,
    force: bool = False,
    ppo_overrides: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Run curriculum stage ``n`` and write ``stage{n}_report.json``; returns the report."""
    from tradelab.training.multiasset import prepare_data
    from tradelab.training.ppo import RunLayout, evaluate_test, params_sha256, train_ppo
    from tradelab.training.tuning import apply_params
    from tradelab.utils import atomic_write_json, run_metadata

    stage = cur.get(n)
    out = Path(output_dir or cur.output_dir)
    paths = stage_paths(out, n)
    load_from = Path(load_model) if load_model else predecessor(out, n, force)
    cfg = stage_ppo_config(cur, n, ppo_overrides, timesteps, n_envs, seed)
    d = cfg.data
    prepared = prepare_data(d.assets, d.h5_path, d.fractions, d.purge_gap, d.min_overlap, splits=("train", "val"))
    tuned = None
    if auto_optimize:
        tuned = _tune_stage(cur, stage, cfg, paths, prepared, load_from, n_trials, storage)
        cfg = apply_params(cfg, tuned["best_params"])
    layout = RunLayout(root=out, checkpoint_dir=paths["dir"], prefix=f"ploutos_stage{n}", best_dir=paths["dir"],
                       final_path=paths["final"], tensorboard_dir=paths["tensorboard"])
    result = train_ppo(cfg, layout, prepared, load_from=load_from)
    val_sharpe = float(result["val"].get("sharpe_ratio", float("nan")))
    gate = {"metric": "validation sharpe_ratio", "val_sharpe": val_sharpe, "target": stage.sharpe_target,
            "passed": bool(val_sharpe >= stage.sharpe_target) and not result["stopped_early"]}
    if result["stopped_early"]:  # max_runtime: no gate, no test until the stage is finished with --resume
        gate["note"] = "stopped at training.max_runtime; rerun the stage with --resume to finish it"
    # The test split is read here, once, after training, tuning and the gate are settled.
    test = None if result["stopped_early"] else evaluate_test(result["model"], cfg, prepared.load("test"),
                                                             paths["test"], name=f"ploutos_stage{n}")
    report = {
        "stage": n, "name": stage.name, "assets": list(stage.assets), "seed": seed, "gate": gate,
        "validation": result["val"], "test": test, "loaded_from": str(load_from or ""),
        "start_weights_sha256": result["start_weights_sha256"],
        "final_weights_sha256": params_sha256(result["model"]),
        "final_model": result["final_model"], "best_model": result["best_model"],
        "num_timesteps": result["num_timesteps"], "optimized_params": tuned, "stopped_early": result["stopped_early"],
        "config": cfg.to_dict(), "metadata": run_metadata(data_source=prepared.source),
    }
    atomic_write_json(paths["report"], report)
    return report


def _agent_test(report: dict) -> dict:
    test = report.get("test") or {}
    name = f"ploutos_stage{report['stage']}"
    return test.get(name, test.get("agent", {})) if isinstance(test, dict) else {}


def run_seeds(cur: CurriculumConfig, n: int, seeds: list[int], output_dir: str | Path | None = None,
              **kwargs: Any) -> dict[str, Any]:
    """Run stage ``n`` once per seed (in ``seed{s}/`` folders); mean ± std of val and test metrics."""
    import numpy as np

    from tradelab.utils import atomic_write_json

    out = Path(output_dir or cur.output_dir)
    reports = [run_stage(cur, n, out / f"seed{s}", seed=s, **kwargs) for s in seeds]
    summary: dict[str, Any] = {"stage": n, "seeds": list(seeds), "gates": [r["gate"]["passed"] for r in reports]}
    for part, getter in (("validation", lambda r: r["validation"]), ("test", _agent_test)):
        for key in ("sharpe_ratio", "total_return", "max_drawdown"):
            values = np.array([float(getter(r).get(key, np.nan)) for r in reports], dtype=float)
            summary[f"{part}_{key}_mean"] = float(np.nanmean(values)) if np.isfinite(values).any() else None
            summary[f"{part}_{key}_std"] = float(np.nanstd(values)) if np.isfinite(values).any() else None
            summary[f"{part}_{key}_values"] = values.tolist()
    atomic_write_json(out / f"stage{n}_seeds_report.json", summary)
    return summary


def main(argv: list[str] | None = None) -> int:
    """``python -m tradelab.training.curriculum --stage N ...`` (same options as `tradelab curriculum`)."""
    import argparse

    from tradelab.cli import curriculum as cli

    parser = argparse.ArgumentParser(prog="python -m tradelab.training.curriculum", description=cli.DESCRIPTION)
    cli.add_arguments(parser)
    args = parser.parse_args(argv)
    from tradelab.errors import TradelabError

    try:
        return cli.main(args)
    except TradelabError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
