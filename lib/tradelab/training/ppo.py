"""Ploutos V3: stable-baselines3 PPO on the multi-asset PortfolioEnv, the trainer.

``train_ppo(config)`` prepares the data (train-fitted scalers), builds the vectorised env (batched,
dummy or subproc), trains with TensorBoard logs, atomic checkpoints and an ``EvalCallback`` on the
validation split, saves the final model with its scalers and resolved config beside it, and returns
the validation metrics. The test split is only read by :func:`evaluate_test`.

The pieces live beside it: the config classes and the one hyperparameter list in
:mod:`tradelab.training.ppo_config`, the environments in :mod:`tradelab.training.ppo_envs`, building,
loading and saving models in :mod:`tradelab.training.ppo_io`. Their public names are re-exported here.
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tradelab.errors import CheckpointError, ConfigError
from tradelab.results import RunResult
from tradelab.training.ppo_config import (
    SMOKE_OVERRIDES,
    DataSection,
    PPOParams,
    PPOV3Config,
    TrainingSection,
    policy_kwargs,
)
from tradelab.training.ppo_envs import env_config, make_eval_env, make_train_env
from tradelab.training.ppo_io import build_model, load_model, params_sha256, save_model_atomic

__all__ = [
    "train",
    "DataSection", "PPOParams", "TrainingSection", "PPOV3Config", "RunLayout", "policy_kwargs",
    "make_train_env", "make_eval_env", "build_model", "load_model", "save_model_atomic",
    "evaluate_split", "evaluate_test", "train_ppo", "env_config", "run_experiment", "SMOKE_OVERRIDES",
    "params_sha256",
]

log = logging.getLogger("tradelab.ppo")


@dataclass(frozen=True)
class RunLayout:
    """Where a run writes: checkpoints, best/final model, TensorBoard."""

    root: Path
    checkpoint_dir: Path
    prefix: str
    best_dir: Path
    final_path: Path
    tensorboard_dir: Path

    @classmethod
    def default(cls, root: str | Path) -> RunLayout:
        root = Path(root)
        return cls(root, root / "checkpoints", "ppo_v3", root, root / "final_model.zip", root / "tensorboard")


def evaluate_split(model: Any, cfg: PPOV3Config, split: Any) -> dict[str, Any]:
    """Backtest the deterministic policy over a whole split once (1x costs); its metrics."""
    from tradelab.evaluation.backtest import backtest
    from tradelab.training import vecnorm

    return backtest(vecnorm.policy(model), split.ohlcv, split.features, env_config(cfg), 1.0, "ppo", n_boot=200,
                    history=getattr(split, "history", None)).metrics


def evaluate_test(model: Any, cfg: PPOV3Config, split: Any, out_dir: str | Path, name: str = "ppo_v3",
                  run_meta: dict[str, Any] | None = None) -> Any:
    """The one test-split evaluation: the agent beside the baselines at 0/1/2x costs (a RunResult)."""
    from tradelab.training import vecnorm
    from tradelab.training.multiasset import evaluate_portfolio_against_baselines

    return evaluate_portfolio_against_baselines(vecnorm.policy(model), split.ohlcv, split.features, env_config(cfg),
                                                out_dir, name=name, seed=cfg.training.seed,
                                                history=getattr(split, "history", None),
                                                run_meta={"workflow": "ppo", "split": "test", **(run_meta or {})})


def _find(callbacks: list, cls_name: str) -> Any:
    """The first callback of class ``cls_name`` (the list's order is not part of its contract)."""
    return next(c for c in callbacks if type(c).__name__ == cls_name)


def _callbacks(cfg: PPOV3Config, layout: RunLayout, eval_env: Any, n_envs: int, extra: list) -> list:
    from tradelab.training.callbacks import (
        AtomicCheckpointCallback,
        MaxRuntimeCallback,
        ResumableEvalCallback,
        TradingMetricsCallback,
    )
    from tradelab.training.monitor import resource_callback
    from tradelab.training.vecnorm import SaveVecNormalizeCallback
    from tradelab.utils.runtime import parse_max_runtime

    t = cfg.training
    normalized = t.normalize_obs or t.normalize_reward
    ckpt_freq = max(t.checkpoint_freq // n_envs, 1)
    on_best = SaveVecNormalizeCallback(best_path=layout.best_dir / "best_model.zip") if normalized else None
    return [
        resource_callback(layout.root / "logs" / "resources.json", progress=t.progress_bar, desc=layout.prefix),
        AtomicCheckpointCallback(ckpt_freq, str(layout.checkpoint_dir), layout.prefix),
        *([SaveVecNormalizeCallback(ckpt_freq, layout.checkpoint_dir, layout.prefix)] if normalized else []),
        ResumableEvalCallback(eval_env, best_model_save_path=str(layout.best_dir),
                              log_path=str(layout.best_dir / "eval"), eval_freq=max(t.eval_freq // n_envs, 1),
                              n_eval_episodes=t.n_eval_episodes, deterministic=True, verbose=0,
                              callback_on_new_best=on_best),
        TradingMetricsCallback(),
        MaxRuntimeCallback(parse_max_runtime(t.max_runtime, "training.max_runtime")),
        *extra,
    ]


def _latest_checkpoint(layout: RunLayout) -> Path | None:
    found = sorted(layout.checkpoint_dir.glob(f"{layout.prefix}_*_steps.zip"),
                   key=lambda p: int(p.stem.rsplit("_", 2)[-2]))
    return found[-1] if found else None


def _start_wandb(cfg: PPOV3Config, root: Path):
    if not cfg.training.wandb:
        return None
    try:
        import wandb
    except ImportError as exc:
        raise ConfigError("training.wandb is true but wandb is not installed: `pip install wandb` "
                          "or set training.wandb=false") from exc
    return wandb.init(project=cfg.training.wandb_project, mode=cfg.training.wandb_mode, dir=str(root),
                      config=cfg.to_dict(), sync_tensorboard=True)


RUN_KEYS_NOT_IDENTITY = ("total_timesteps", "resume", "fresh", "max_runtime", "device", "threads", "progress_bar",
                         "tensorboard", "wandb", "wandb_project", "wandb_mode", "checkpoint_freq", "eval_freq")


def run_identity(cfg: PPOV3Config, layout: RunLayout, prepared: Any) -> dict[str, Any]:
    """What this run is (assets, data hash, config minus budget/runtime keys): a resume must match it."""
    import hashlib
    import json

    conf = cfg.to_dict()
    conf.pop("output_dir", None)
    for key in RUN_KEYS_NOT_IDENTITY:
        conf["training"].pop(key, None)
    scalers = {a: s.to_dict() for a, s in sorted(prepared.scalers.items())}
    data_hash = hashlib.sha256(json.dumps([scalers, prepared.boundaries], sort_keys=True, default=str).encode())
    return {"workflow": "ppo", "run": layout.prefix, "assets": list(prepared.assets),
            "data_hash": data_hash.hexdigest()[:16], "config": conf}


def _prepare_folder(cfg: PPOV3Config, layout: RunLayout, identity: dict[str, Any]) -> Path | None:
    """Fresh / resume / refuse for the run folder; returns the checkpoint to resume from (or None)."""
    from tradelab.utils import atomic_write_json, read_json
    from tradelab.utils.io import remove_stale_temps
    from tradelab.utils.lock import IDENTITY_NAME, check_identity, identity_diff

    t = cfg.training
    remove_stale_temps(layout.root, layout.checkpoint_dir, layout.best_dir, layout.best_dir / "eval")  # lock is ours
    ident_path = layout.checkpoint_dir / IDENTITY_NAME
    found = read_json(ident_path, "run identity") if ident_path.is_file() else None
    ckpts = sorted(layout.checkpoint_dir.glob(f"{layout.prefix}_*_steps.zip"))
    best = [layout.best_dir / "best_model.zip", layout.best_dir / "best_model.json",
            layout.best_dir / "eval" / "evaluations.npz"]
    resume_from = None
    if t.fresh:
        from tradelab.training.vecnorm import path_for

        for old in [*ckpts, *best]:
            old.unlink(missing_ok=True)
            path_for(old).unlink(missing_ok=True)  # VecNormalize statistics beside a model
        if ckpts:
            print(f"fresh run: removed {len(ckpts)} checkpoint(s) and the best model of the earlier run in "
                  f"{layout.checkpoint_dir}")
    elif t.resume:
        check_identity(identity, found, layout.checkpoint_dir)
        resume_from = _latest_checkpoint(layout)
        if resume_from is None:
            print(f"resume: no {layout.prefix}_*_steps.zip in {layout.checkpoint_dir}; starting from step 0")
    elif ckpts or best[0].is_file():
        diff = identity_diff(identity, found) if found else ["no run_identity.json (written by an older tradelab)"]
        if diff:
            raise CheckpointError(
                f"{layout.checkpoint_dir} holds {len(ckpts)} checkpoint(s) / a best model of another run ("
                + "; ".join(diff[:6]) + "): pass --fresh (training.fresh=true) to start over there, --resume "
                "(training.resume=true) with that run's settings to continue it, or use another --output-dir")
        resume_from = _latest_checkpoint(layout)
        if resume_from is not None:
            print(f"{layout.checkpoint_dir} holds checkpoints of this same run: continuing from {resume_from.name} "
                  "(pass --fresh to start over)")
    atomic_write_json(ident_path, identity)
    return resume_from


def train_ppo(
    cfg: PPOV3Config,
    layout: RunLayout | None = None,
    prepared: Any = None,
    load_from: str | Path | None = None,
    extra_callbacks: list | None = None,
) -> dict[str, Any]:
    """Train one PPO V3 model; returns paths, validation metrics and the model itself.

    The run folder is locked for the run (:mod:`tradelab.utils.lock`). ``training.resume`` restores
    from the newest checkpoint: the policy weights, the Adam state, ``num_timesteps``/``_n_updates``
    (so the learning-rate schedule and the step budget continue), and the eval callback's history and
    best score (a worse model never replaces the best one). Not restored, as SB3 does not save them:
    the envs' mid-episode state (they restart with a fresh reset), the steps collected since the
    checkpoint (re-collected), and the RNG streams (reseeded with ``seed + num_timesteps``), so a
    resumed run is a faithful continuation, not a bit-identical one. There is no VecNormalize:
    features are scaled by train-fitted scalers saved beside the model. ``training.max_runtime``
    stops training, writes a checkpoint and returns with ``stopped_early`` set.

    :param prepared: train/val data from :func:`tradelab.training.multiasset.prepare_data` (loaded
        from ``cfg.data`` when None; only train and val are read here).
    :param load_from: start from this PPO zip's weights (transfer) instead of a fresh network.
    """
    from tradelab.training.multiasset import prepare_data
    from tradelab.utils.lock import run_lock

    layout = layout or RunLayout.default(cfg.output_dir)
    with run_lock(layout.root, "PPO run"):
        if prepared is None:
            d = cfg.data
            prepared = prepare_data(d.assets, d.h5_path, d.fractions, d.purge_gap, d.min_overlap,
                                    splits=("train", "val"))
        return _train_locked(cfg, layout, prepared, load_from, extra_callbacks)


def _train_locked(cfg: PPOV3Config, layout: RunLayout, prepared: Any, load_from: str | Path | None,
                  extra_callbacks: list | None) -> dict[str, Any]:
    from stable_baselines3.common.vec_env import VecNormalize

    from tradelab.training import vecnorm
    from tradelab.training.multiasset import save_scalers
    from tradelab.training.runlog import start_run_log, stop_run_log
    from tradelab.utils import atomic_write_json, run_metadata, seed_everything, set_threads

    t = cfg.training
    set_threads(t.threads)
    seed_everything(t.seed)
    resume_from = _prepare_folder(cfg, layout, run_identity(cfg, layout, prepared))
    log_handler = start_run_log(layout.root / "logs" / "training_v3.log")  # the seed's log file name
    env = make_train_env(cfg, prepared.split("train"))
    eval_env = make_eval_env(cfg, prepared.split("val"))
    tb = str(layout.tensorboard_dir) if t.tensorboard else None
    start = resume_from or load_from
    model = load_model(start, env, cfg, tb) if start else build_model(cfg, env, tb)
    if start:  # a resume needs the statistics; a transfer uses them when present
        vecnorm.restore_beside(env, start, required=bool(resume_from))
    start_sha = params_sha256(model)
    done_steps = int(model.num_timesteps) if resume_from else 0
    callbacks = _callbacks(cfg, layout, eval_env, env.num_envs, list(extra_callbacks or []))
    if resume_from:
        model.set_random_seed(t.seed + done_steps)
        prev = _find(callbacks, "ResumableEvalCallback").restore(done_steps)
        print(f"resumed from {resume_from} at step {done_steps}; best eval reward so far "
              f"{prev['best_mean_reward']:.4g} (step {prev['best_timestep']}), {len(prev['timesteps'])} evaluations kept")
    run = _start_wandb(cfg, layout.root)
    log.info("%s: %d steps on %s, %d envs, from %s", layout.prefix, t.total_timesteps, prepared.assets,
             env.num_envs, resume_from or load_from or "a fresh network")
    try:
        if done_steps < t.total_timesteps:
            # progress bar: the resource callback's (it shows CPU/RSS/GPU as postfix). The batched train
            # env and the eval DummyVecEnv are different classes on purpose; silence SB3's note for this
            # call only (no process-wide filter).
            with warnings.catch_warnings():
                warnings.filterwarnings("ignore", message="Training and eval env are not of the same type")
                model.learn(total_timesteps=t.total_timesteps - done_steps, callback=callbacks,
                            progress_bar=False, tb_log_name=layout.prefix, reset_num_timesteps=not resume_from)
        else:
            print(f"{resume_from.name} already has {done_steps} >= training.total_timesteps={t.total_timesteps} "
                  "steps: nothing to train (raise --total-timesteps to continue)")
    finally:
        env.close()
        if run is not None:
            run.finish()
        stop_run_log(log_handler)
    stopped = bool(_find(callbacks, "MaxRuntimeCallback").stopped)
    if stopped:
        ckpt = layout.checkpoint_dir / f"{layout.prefix}_{model.num_timesteps}_steps.zip"
        save_model_atomic(model, ckpt)
        if isinstance(env, VecNormalize):
            vecnorm.save_json(env, vecnorm.path_for(ckpt))
        print(f"max_runtime ({t.max_runtime}) reached at step {model.num_timesteps} of {t.total_timesteps}: "
              f"checkpoint {ckpt} written; continue with --resume (training.resume=true)")
    save_model_atomic(model, layout.final_path)
    if isinstance(env, VecNormalize):
        vecnorm.save_json(env, vecnorm.path_for(layout.final_path))
    save_scalers(prepared, layout.final_path.with_suffix(".scalers.json"))
    atomic_write_json(layout.final_path.with_suffix(".config.json"),
                      {"config": cfg.to_dict(), "metadata": run_metadata(source=prepared.source)})
    val = evaluate_split(model, cfg, prepared.split("val"))
    return {"model": model, "final_model": str(layout.final_path), "start_weights_sha256": start_sha,
            "best_model": str(layout.best_dir / "best_model.zip"), "val": val, "resumed_from": str(resume_from or ""),
            "loaded_from": str(load_from or ""), "num_timesteps": int(model.num_timesteps),
            "stopped_early": stopped, "best_eval_reward": float(_find(callbacks, "ResumableEvalCallback").best_mean_reward)}



def run_experiment(cfg: PPOV3Config, load_from: str | Path | None = None, test: bool = True) -> dict[str, Any]:
    """`tradelab train ppo` and notebook 03: train, then (once) the test backtest vs baselines.

    Writes ``config.json``, ``test/metrics.json`` and ``metrics.json`` (a RunResult: the test strategies
    and costs, with validation, models and ``results: ["test/metrics.json"]`` in meta) in ``cfg.output_dir``.
    Returns those meta fields, ``test`` (the test RunResult or None), ``result`` and ``model``.
    """
    from tradelab.training.multiasset import prepare_data
    from tradelab.utils import atomic_write_json
    from tradelab.utils.lock import run_lock

    out = Path(cfg.output_dir)
    with run_lock(out, "PPO run"):
        d = cfg.data
        prepared = prepare_data(d.assets, d.h5_path, d.fractions, d.purge_gap, d.min_overlap, splits=("train", "val"))
        result = train_ppo(cfg, RunLayout.default(out), prepared, load_from=load_from)
        atomic_write_json(out / "config.json", cfg.to_dict())
        fields: dict[str, Any] = {"validation": result["val"], "final_model": result["final_model"],
                                  "best_model": result["best_model"], "num_timesteps": result["num_timesteps"],
                                  "assets": prepared.assets, "stopped_early": result["stopped_early"]}
        tested = None
        if test and not result["stopped_early"]:
            tested = evaluate_test(result["model"], cfg, prepared.load("test"), out / "test",
                                   run_meta={"data_hash": prepared.data_hash})
        elif result["stopped_early"]:
            fields["note"] = "stopped at training.max_runtime before the budget: resume, then the test split is read"
        run = RunResult.top_level("ppo", out, tested, model=result["model"], **fields)
        if tested is None:
            run.meta.update(asset=prepared.assets, data_hash=prepared.data_hash)
        run.write()
        return {**fields, "test": tested, "result": run, "model": result["model"]}


def train(cfg: PPOV3Config) -> RunResult:
    """The PPO V3 workflow (`tradelab train ppo`, notebook 03): train from ``training.load_model`` or a fresh
    network, then the test backtest once unless ``training.final_test`` is false; returns the run's
    ``metrics.json`` as a :class:`~tradelab.results.RunResult` (``model`` holds the trained model)."""
    from tradelab.training.model_paths import resolve_model_path

    out = Path(cfg.output_dir)  # like PPO.load: "x" finds x.zip; also relative to the run's (models/) folder
    load = cfg.training.load_model
    load_from = resolve_model_path(load, [out, out / "models"]) if load else None
    return run_experiment(cfg, load_from=load_from, test=cfg.training.final_test)["result"]
