"""The Ploutos 3-stage curriculum: PPO V3 trained stage by stage, each from the last one's weights.

``run_stage(curriculum, N, output_dir)`` loads stage N-1's final model (refusing one whose gate
failed unless ``force``), optionally tunes it with Optuna, trains, gates on the validation Sharpe,
and only then backtests the test split beside the baselines.

Honest gate: the validation split is cut in two, in time, with a purge gap between the parts
(:func:`split_validation`). Optuna and the best-checkpoint choice see only the first (tuning)
part; the gate scores the final model on the second (gate) part, which nothing else has scored.
The report gives both Sharpe ratios (``gate.tune_sharpe``, ``gate.val_sharpe``).

Layout under ``output_dir``::

    models/stage{N}/ploutos_stage{N}_{steps}_steps.zip   checkpoints
    models/stage{N}/best_model.zip                      best on validation (EvalCallback)
    models/stage{N}/optimized_params.json               when tuned
    models/stage{N}_final.zip (+ .scalers.json, .config.json)
    stage{N}_report.json                                gate, validation, test strategies at 1x costs
    stage{N}_test/                                      metrics.json (RunResult, by cost), equity.csv, plots
    logs/curriculum.log  logs/training_v3.log  logs/resources.json   run logs, CPU/RSS/GPU samples
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Any

from tradelab.config import CONFIG_DIR, load_yaml, set_dotted
from tradelab.errors import CheckpointError, ConfigError
from tradelab.results import RunResult, make_meta
from tradelab.training.curriculum_config import (
    CurriculumConfig,
    CurriculumRun,
    StageConfig,
    load_curriculum,
    smoke_curriculum,
)

__all__ = ["StageConfig", "CurriculumConfig", "CurriculumRun", "stage_paths", "smoke_curriculum", "load_curriculum",
           "stage_ppo_config", "split_validation", "run_stage", "run_seeds", "train", "tune_stage"]

log = logging.getLogger("tradelab.curriculum")


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


def _resolve_load_model(load_model: str | Path, out: Path) -> Path:
    """``--load-model`` as seed 004 writes it (``models/stage1_final``): also relative to the curriculum folder."""
    from tradelab.training.model_paths import resolve_model_path

    return resolve_model_path(load_model, [out, out / "models"])


def split_validation(prepared: Any, gate_fraction: float, purge_gap: int, min_bars: int) -> tuple[Any, Any, dict]:
    """(data whose "val" is the tuning part, the gate part, bar ranges): validation cut in time.

    The gate part is the latest ``gate_fraction`` of the validation bars; ``purge_gap`` bars before it
    are dropped; the tuning part is what comes earlier. Each part needs ``min_bars`` bars.
    """
    from dataclasses import replace as dc_replace

    from tradelab.training.multiasset import SplitData

    val = prepared.split("val")
    index = next(iter(val.ohlcv.values())).index
    n = len(index)
    n_gate = int(round(n * gate_fraction))
    n_tune = n - n_gate - purge_gap
    if min(n_gate, n_tune) < min_bars:
        raise ConfigError(f"validation has {n} bars: too few to keep {gate_fraction:.0%} for the gate, a purge gap "
                          f"of {purge_gap} and >= {min_bars} bars in each part; use longer data, a larger "
                          "validation fraction, or a lower gate_fraction / gate_purge_gap")

    def part(rows: slice) -> Any:
        return SplitData(ohlcv={a: f.iloc[rows] for a, f in val.ohlcv.items()},
                         features={a: f.iloc[rows] for a, f in val.features.items()})

    tune_part, gate_part = part(slice(0, n_tune)), part(slice(n - n_gate, n))
    ranges = {"tune": [str(index[0]), str(index[n_tune - 1]), n_tune],
              "gate": [str(index[n - n_gate]), str(index[-1]), n_gate], "purge_gap": purge_gap}
    return dc_replace(prepared, splits={**prepared.splits, "val": tune_part}), gate_part, ranges


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


def run_stage(cur: CurriculumConfig, n: int, output_dir: str | Path | None = None, **kwargs: Any) -> dict[str, Any]:
    """Run curriculum stage ``n`` and write ``stage{n}_report.json``; returns the report.

    Options as :func:`_run_stage`. The stage's log lines go to ``logs/curriculum.log`` of the folder.
    """
    from tradelab.training.runlog import start_run_log, stop_run_log

    handler = start_run_log(Path(output_dir or cur.output_dir) / "logs" / "curriculum.log")
    try:
        return _run_stage(cur, n, output_dir, **kwargs)
    except Exception as exc:
        log.error("stage %d stopped: %s: %s", n, type(exc).__name__, exc)
        raise
    finally:
        stop_run_log(handler)


def _run_stage(
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
    """Stage ``n``: load, tune (optional), train, gate, test; see :func:`run_stage`."""
    from tradelab.training.multiasset import prepare_data
    from tradelab.training.ppo import RunLayout, evaluate_split, evaluate_test, params_sha256, train_ppo
    from tradelab.training.tuning import apply_params
    from tradelab.utils import atomic_write_json, run_metadata

    stage = cur.get(n)
    out = Path(output_dir or cur.output_dir)
    paths = stage_paths(out, n)
    load_from = _resolve_load_model(load_model, out) if load_model else predecessor(out, n, force)
    cfg = stage_ppo_config(cur, n, ppo_overrides, timesteps, n_envs, seed)
    d = cfg.data
    prepared = prepare_data(d.assets, d.h5_path, d.fractions, d.purge_gap, d.min_overlap, splits=("train", "val"))
    window = int(cfg.env.get("window", 5))
    gap = window if cur.gate_purge_gap is None else cur.gate_purge_gap
    prepared, gate_split, val_ranges = split_validation(prepared, cur.gate_fraction, gap, min_bars=window + 2)
    log.info("stage %d (%s): assets %s, from %s; validation tune %s, gate %s", n, stage.name, list(stage.assets),
             load_from or "a fresh network", val_ranges["tune"], val_ranges["gate"])
    tuned = None
    if auto_optimize:
        tuned = _tune_stage(cur, stage, cfg, paths, prepared, load_from, n_trials, storage)
        cfg = apply_params(cfg, tuned["best_params"])
    layout = RunLayout(root=out, checkpoint_dir=paths["dir"], prefix=f"ploutos_stage{n}", best_dir=paths["dir"],
                       final_path=paths["final"], tensorboard_dir=paths["tensorboard"])
    result = train_ppo(cfg, layout, prepared, load_from=load_from)
    stopped = bool(result["stopped_early"])
    gate_val = {} if stopped else evaluate_split(result["model"], cfg, gate_split)  # bars nothing else scored
    tune_sharpe = float(result["val"].get("sharpe_ratio", float("nan")))
    val_sharpe = float(gate_val.get("sharpe_ratio", float("nan")))
    gate = {"metric": "sharpe_ratio on the gate part of validation (never scored by Optuna or checkpoint choice)",
            "val_sharpe": val_sharpe, "tune_sharpe": tune_sharpe, "target": stage.sharpe_target,
            "passed": bool(val_sharpe >= stage.sharpe_target) and not stopped, "validation_parts": val_ranges}
    if stopped:  # max_runtime: no gate, no test until the stage is finished with --resume
        gate["note"] = "stopped at training.max_runtime; rerun the stage with --resume to finish it"
    log.info("stage %d gate: Sharpe %.4g on the gate part (tuning part %.4g) vs target %s -> %s", n, val_sharpe,
             tune_sharpe, stage.sharpe_target, "PASSED" if gate["passed"] else "FAILED")
    # The test split is read here, once, after training, tuning and the gate are settled.
    test = None if result["stopped_early"] else evaluate_test(
        result["model"], cfg, prepared.load("test"), paths["test"], name=f"ploutos_stage{n}",
        run_meta={"workflow": "curriculum", "data_hash": prepared.data_hash, "stage": n})
    report = {
        "stage": n, "name": stage.name, "assets": list(stage.assets), "seed": seed, "gate": gate,
        "validation": result["val"], "validation_gate": gate_val, "test": test.strategies if test else None,
        "test_result": str(test.path) if test else None, "loaded_from": str(load_from or ""),
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
    for part, getter in (("validation", lambda r: r["validation"]),
                         ("validation_gate", lambda r: r.get("validation_gate", {})), ("test", _agent_test)):
        for key in ("sharpe_ratio", "total_return", "max_drawdown"):
            values = np.array([float(getter(r).get(key, np.nan)) for r in reports], dtype=float)
            summary[f"{part}_{key}_mean"] = float(np.nanmean(values)) if np.isfinite(values).any() else None
            summary[f"{part}_{key}_std"] = float(np.nanstd(values)) if np.isfinite(values).any() else None
            summary[f"{part}_{key}_values"] = values.tolist()
    atomic_write_json(out / f"stage{n}_seeds_report.json", summary)
    return summary


def stage_result(report: dict[str, Any], output_dir: str | Path) -> RunResult:
    """Stage ``report`` as the curriculum's :class:`~tradelab.results.RunResult` (written as ``metrics.json``
    in ``output_dir`` by :func:`train`): the stage's test strategies beside the gate and validation."""
    test = RunResult.read(report["test_result"]) if report.get("test_result") else None  # None: stopped early
    return RunResult.top_level("curriculum", output_dir, test, asset=list(report["assets"]), **{
        k: report.get(k) for k in ("stage", "seed", "gate", "validation", "validation_gate", "optimized_params",
                                   "final_model", "best_model", "loaded_from", "num_timesteps", "stopped_early")})


def train(run: CurriculumRun) -> RunResult:
    """The curriculum workflow: run one stage (or one per seed) and write its ``metrics.json`` RunResult."""
    cur, overrides = run.curriculum()
    out = Path(run.output_dir or cur.output_dir)
    kwargs = dict(load_model=run.load_model, auto_optimize=run.auto_optimize, n_trials=run.n_trials,
                  storage=run.storage, timesteps=run.timesteps, n_envs=run.n_envs, force=run.force,
                  ppo_overrides=overrides)
    if run.seeds:
        summary = run_seeds(cur, run.stage, list(run.seeds), out, **kwargs)
        results = [f"seed{s}/{stage_paths(out, run.stage)['test'].name}/metrics.json" for s in run.seeds]
        result = RunResult({}, {}, make_meta("curriculum", asset=list(cur.get(run.stage).assets), stage=run.stage,
                                             seeds=summary, results=[r for r in results if (out / r).is_file()]), out)
    else:
        result = stage_result(run_stage(cur, run.stage, out, seed=run.seed, **kwargs), out)
    result.write()
    return result


def tune_stage(config: str | Path, stage: int, *, study: str | None = None, storage: str | None = None,
               output_dir: str | Path | None = None, sets: list[str] | None = None, smoke: bool = False,
               load_model: str | None = None, force: bool = False, n_envs: int | None = None, seed: int = 0,
               timesteps: int | None = None, **kwargs: Any) -> dict[str, Any]:
    """Tune curriculum stage ``stage`` of the curriculum YAML ``config`` (what `tradelab tune` and a
    Kaggle tuning kernel run); ``kwargs`` go to :func:`tradelab.training.tuning.tune` (n_trials, add_trials,
    heartbeat, worker). Writes ``<study>_best_params.json`` in the output folder."""
    from tradelab.config import parse_sets
    from tradelab.training.model_paths import resolve_model_path
    from tradelab.training.tuning import tune
    from tradelab.utils import atomic_write_json

    cur, overrides = CurriculumRun(stage=stage, config=str(config), smoke=smoke,
                                   ppo_overrides=parse_sets(sets)).curriculum()
    spec = cur.get(stage)
    out = Path(output_dir or cur.output_dir)
    load_from = (resolve_model_path(load_model, [out, out / "models"]) if load_model
                 else predecessor(out, stage, force))
    cfg = stage_ppo_config(cur, stage, overrides, None, n_envs, seed)
    name = study or f"ploutos_stage{stage}"
    result = tune(cfg, spec.search, storage=storage, study_name=name, output_dir=out,
                  trial_timesteps=timesteps or spec.tune_timesteps, evals_per_trial=cur.evals_per_trial,
                  load_from=load_from, **kwargs)
    atomic_write_json(out / f"{name}_best_params.json", result)
    return result


if __name__ == "__main__":  # runs as the __main__ module, which then imports this one from the CLI
    from tradelab.cli.curriculum import run_from_argv

    sys.exit(run_from_argv(sys.argv[1:]))
