"""Optuna tuning of PPO V3 (learning_rate, n_steps, ent_coef) on the validation Sharpe.

TPE sampler, median pruner on intermediate validation evaluations, storage shared between
processes and machines: a SQLite file in the output folder by default, any SQLAlchemy URL
(``postgresql://...``, see :mod:`tradelab.training.study_storage`) or an Optuna journal file
(``journal:/path/study.log``). The first opener records the search space on the study and a worker
with other ranges is refused. Each completed trial's model is saved and its path recorded. A call
tops the study up to ``n_trials`` *finished* (complete or pruned) trials (``load_if_exists``), so a
restarted study continues where it stopped instead of adding n more; ``add_trials`` keeps the "this
process adds N" behaviour for workers filling one study at once. Trials of a killed process are not
left RUNNING forever: RDB storages record a heartbeat (Optuna fails trials whose heartbeat stopped,
and ``RetryHeartbeatStaleTrialCallback`` (Optuna 5's ``RetryFailedTrialCallback``) re-queues their
parameters), and on every start the trials of dead processes on this host are failed and re-queued
at once (any storage, journal files included). The tuner reads only the train and validation
splits; the test split is never loaded here.
"""

from __future__ import annotations

import json
import os
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tradelab.config import ConfigBase
from tradelab.errors import ConfigError
from tradelab.training.study_storage import HEARTBEAT_S, MAX_RETRY, make_storage, redact

__all__ = ["SearchSpace", "make_storage", "open_study", "check_search_space", "tune", "apply_params",
           "reap_stale_trials", "redact"]


@dataclass(frozen=True)
class SearchSpace(ConfigBase):
    """Ranges searched by Optuna (centred on a stage's own values)."""

    learning_rate: tuple[float, float] = (1e-5, 3e-4)
    """log-uniform range of the learning rate"""
    n_steps: tuple[int, ...] = (1024, 2048, 4096)
    """rollout lengths to choose from"""
    ent_coef: tuple[float, float] = (1e-3, 5e-2)
    """log-uniform range of the entropy coefficient"""

    def validate(self) -> None:
        for name in ("learning_rate", "ent_coef"):
            lo, hi = getattr(self, name)
            if not 0 < lo <= hi:
                raise ConfigError(f"search.{name} must be [low, high] with 0 < low <= high, got {[lo, hi]}")
        if not self.n_steps or min(self.n_steps) < 2:
            raise ConfigError(f"search.n_steps must list rollout lengths >= 2, got {list(self.n_steps)}")


def open_study(name: str, storage: Any, seed: int = 0, space: SearchSpace | None = None):
    """Create or load a maximising study with a TPE sampler and a median pruner.

    The first opener records ``space`` on the study; a later one whose ranges differ is refused with
    the parameters named (its trials would not be comparable with the study's).
    """
    import optuna

    study = optuna.create_study(study_name=name, storage=storage, direction="maximize", load_if_exists=True,
                                pruner=optuna.pruners.MedianPruner(n_startup_trials=2, n_warmup_steps=1))
    if space is not None:
        check_search_space(study, space)
    # Offset the seed by the trials already there so processes sharing a study do not repeat points.
    study.sampler = optuna.samplers.TPESampler(seed=seed + len(study.trials), n_startup_trials=5)
    return study


def check_search_space(study: Any, space: SearchSpace) -> None:
    """Record ``space`` on a new study; raise ConfigError naming the ranges that differ from the study's."""
    current = json.loads(json.dumps(space.to_dict()))
    recorded = study.user_attrs.get("search_space")
    if recorded is None:
        study.set_user_attr("search_space", current)
        return
    differ = sorted(k for k in set(current) | set(recorded) if current.get(k) != recorded.get(k))
    if differ:
        rows = "; ".join(f"{k}: study {recorded.get(k)} vs config {current.get(k)}" for k in differ)
        raise ConfigError(
            f"study {study.study_name!r} was created with another search space ({rows}). Use the config (or "
            "--set overrides) its other workers use, or start a new study with another --study name")


def optuna_experimental_warning() -> type[Warning]:
    from optuna.exceptions import ExperimentalWarning

    return ExperimentalWarning


def _finished(study: Any) -> int:
    import optuna

    states = (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED)
    return len(study.get_trials(deepcopy=False, states=states))


def reap_stale_trials(study: Any) -> list[int]:
    """Fail (and re-queue) RUNNING trials whose worker process on this host is gone; their numbers.

    A trial's ``claim`` (``host:pid:number``) is written by the process running it, in one call. A
    re-queued trial inherits its failed original's user attributes, so a claim whose number is not
    the trial's own is an inherited one (the trial was just picked up again) and is left alone.
    """
    import warnings

    import optuna
    from optuna.storages import RetryHeartbeatStaleTrialCallback

    from tradelab.utils.lock import _pid_alive

    reaped = []
    for t in study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.RUNNING,)):
        host, pid, number = (str(t.user_attrs.get("claim", "")).rsplit(":", 2) + ["", "", ""])[:3]
        if (host != socket.gethostname() or not pid.isdigit() or number != str(t.number)
                or _pid_alive(int(pid))):
            continue
        if study._storage.set_trial_state_values(t._trial_id, optuna.trial.TrialState.FAIL):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", optuna_experimental_warning())
                retry = RetryHeartbeatStaleTrialCallback(max_retry=MAX_RETRY)
            retry(study, study._storage.get_trial(t._trial_id))
            reaped.append(t.number)
    if reaped:
        print(f"Optuna: trial(s) {reaped} were left RUNNING by a killed process; marked FAIL and re-queued")
    return reaped


def apply_params(cfg: Any, params: dict[str, Any]) -> Any:
    """A PPO config with tuned ``learning_rate``/``n_steps``/``ent_coef`` (batch size kept valid)."""
    ppo = cfg.ppo.replace(**params)
    rollout = ppo.n_steps * cfg.training.n_envs
    if ppo.batch_size > rollout:
        ppo = ppo.replace(batch_size=rollout)
    return cfg.replace(ppo=ppo)


def _save_trial_model(model: Any, env: Any, trial: Any, out: Path, rel: str) -> None:
    """The trial's model (and its VecNormalize statistics) at ``out/rel``; recorded on the trial."""
    from tradelab.training import vecnorm
    from tradelab.training.ppo import save_model_atomic

    path = save_model_atomic(model, out / rel)
    if vecnorm.unwrap_vec_normalize(env) is not None:
        vecnorm.save_json(env, vecnorm.path_for(path))
    trial.set_user_attr("model", rel)
    trial.set_user_attr("model_path", str(Path(path).resolve()))


def _objective(trial: Any, cfg: Any, space: SearchSpace, prepared: Any, load_from: str | None,
               evals: int, worker: str, out: Path) -> float:
    import optuna

    from tradelab.training.callbacks import ValidationPruningCallback
    from tradelab.training.ppo import build_model, evaluate_split, load_model, make_train_env

    params = {
        "learning_rate": trial.suggest_float("learning_rate", *space.learning_rate, log=True),
        "n_steps": trial.suggest_categorical("n_steps", list(space.n_steps)),
        "ent_coef": trial.suggest_float("ent_coef", *space.ent_coef, log=True),
    }
    trial.set_user_attr("claim", f"{socket.gethostname()}:{os.getpid()}:{trial.number}")  # reap_stale_trials' key
    trial.set_user_attr("worker", f"{socket.gethostname()}:{os.getpid()}")
    trial.set_user_attr("worker_label", worker)
    tcfg = apply_params(cfg, params)
    val = prepared.split("val")
    env = make_train_env(tcfg, prepared.split("train"), seed=tcfg.training.seed + trial.number)
    try:
        model = load_model(load_from, env, tcfg) if load_from else build_model(tcfg, env, None)
        if load_from:
            from tradelab.training.vecnorm import restore_beside

            restore_beside(env, load_from)  # the VecNormalize statistics the loaded weights were trained with
        budget = tcfg.training.total_timesteps
        cb = ValidationPruningCallback(trial, lambda m: evaluate_split(m, tcfg, val)["sharpe_ratio"],
                                       max(budget // max(evals, 1), 1))
        model.learn(total_timesteps=budget, callback=cb, progress_bar=False)
    finally:
        env.close()
    if cb.pruned:
        raise optuna.TrialPruned(f"pruned at validation Sharpe {cb.last_value:.3f}")
    value = float(evaluate_split(model, tcfg, val)["sharpe_ratio"])
    _save_trial_model(model, env, trial, out, f"trials/{trial.study.study_name}/trial_{trial.number}.zip")
    return value if value == value else -10.0  # NaN Sharpe (flat equity) counts as very bad


def tune(
    cfg: Any,
    space: SearchSpace,
    n_trials: int = 15,
    storage: str | None = None,
    study_name: str = "ppo_v3",
    output_dir: str | Path = "outputs/tune",
    trial_timesteps: int | None = None,
    evals_per_trial: int = 4,
    prepared: Any = None,
    load_from: str | Path | None = None,
    add_trials: int | None = None,
    heartbeat: int | None = HEARTBEAT_S,
    worker: str | None = None,
) -> dict[str, Any]:
    """Top the study up to ``n_trials`` finished trials; return the best parameters found so far.

    :param add_trials: run exactly this many new trials instead (workers sharing one study).
    :param heartbeat: Optuna heartbeat interval (s) of RDB storages; a trial silent for 3 intervals is
        failed and its parameters re-queued. None: off.
    :param worker: label recorded on this process's trials (default ``local:HOST:PID``); each completed
        trial's model is saved under ``output_dir/trials/<study>/`` and its path recorded on the trial.
    :param cfg: the PPO V3 config of the run being tuned (its data, env and network).
    :param trial_timesteps: short training budget per trial (default: a tenth of the run's).
    :param prepared: train/val data; loaded from ``cfg.data`` with ``splits=("train", "val")`` when None.
    """
    import optuna

    from tradelab.training.multiasset import prepare_data
    from tradelab.utils import set_threads

    if isinstance(n_trials, bool) or not isinstance(n_trials, int) or n_trials < 1:
        raise ConfigError(f"n_trials must be an integer >= 1, got {n_trials!r}")
    if add_trials is not None and (not isinstance(add_trials, int) or add_trials < 1):
        raise ConfigError(f"add_trials must be an integer >= 1, got {add_trials!r}")
    set_threads(cfg.training.threads)
    # Optuna's per-trial INFO lines are quietened for this call only (its log level is process-wide)
    previous_verbosity = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    try:
        budget = trial_timesteps or max(cfg.training.total_timesteps // 10, 1)
        cfg = cfg.replace(training=cfg.training.replace(total_timesteps=budget, progress_bar=False, tensorboard=False))
        worker = worker or f"local:{socket.gethostname()}:{os.getpid()}"
        # the storage first: a wrong URL or password fails before the data are prepared
        study = open_study(study_name, make_storage(storage, output_dir, heartbeat=heartbeat), seed=cfg.training.seed,
                           space=space)
        if prepared is None:
            d = cfg.data
            prepared = prepare_data(d.assets, d.h5_path, d.fractions, d.purge_gap, d.min_overlap, splits=("train", "val"))
        reaped = reap_stale_trials(study)
        todo = add_trials or max(n_trials - _finished(study), 0)
        stop = [] if add_trials else [optuna.study.MaxTrialsCallback(
            n_trials, states=(optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED))]
        if todo:
            study.optimize(lambda t: _objective(t, cfg, space, prepared, str(load_from) if load_from else None,
                                                evals_per_trial, worker, Path(output_dir)),
                           n_trials=todo, gc_after_trial=True, callbacks=stop)
        done = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
        if not done:
            raise ConfigError(f"study {study_name!r} has no completed trial yet (all pruned or failed); "
                              "run more trials or raise the per-trial timesteps")
        mine = [t.number for t in study.trials if t.user_attrs.get("worker_label") == worker]
        best = study.best_trial
        return {"study": study_name, "best_params": dict(best.params), "best_value": float(best.value),
                "best_trial": best.number, "best_worker": best.user_attrs.get("worker_label"),
                "best_model": best.user_attrs.get("model_path"),
                "n_trials": len(study.trials), "n_complete": len(done), "n_finished": _finished(study),
                "reaped_stale_trials": reaped, "trial_timesteps": budget, "worker": worker, "worker_trials": mine}

    finally:
        optuna.logging.set_verbosity(previous_verbosity)
