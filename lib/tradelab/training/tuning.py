"""Optuna tuning of PPO V3 (learning_rate, n_steps, ent_coef) on the validation Sharpe.

TPE sampler, median pruner on intermediate validation evaluations, storage shared between
processes and machines: a SQLite file in the output folder by default, any SQLAlchemy URL
(``postgresql://...``) or an Optuna journal file (``journal:/path/study.log``). A call tops the study
up to ``n_trials`` *finished* (complete or pruned) trials (``load_if_exists``), so a restarted study
continues where it stopped instead of adding n more; ``add_trials`` keeps the "this process adds N"
behaviour for workers filling one study at once. Trials of a killed process are not left RUNNING
forever: RDB storages record a heartbeat (Optuna fails trials whose heartbeat stopped, and
``RetryHeartbeatStaleTrialCallback`` (Optuna 5's ``RetryFailedTrialCallback``) re-queues their parameters), and on every start the trials of dead
processes on this host are failed and re-queued at once (any storage, journal files included). The
tuner reads only the train and validation splits; the test split is never loaded here.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tradelab.config import ConfigBase
from tradelab.errors import ConfigError

__all__ = ["SearchSpace", "make_storage", "open_study", "tune", "apply_params", "reap_stale_trials"]

HEARTBEAT_S = 60
"""Optuna heartbeat interval for RDB storages (a trial's process writes it while alive)."""
GRACE_S = 180
"""A RUNNING trial whose heartbeat is older than this is failed and retried (three missed beats)."""


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


def make_storage(storage: str | None, output_dir: str | Path, heartbeat: int | None = HEARTBEAT_S,
                 grace: int | None = GRACE_S) -> Any:
    """``None`` → SQLite in ``output_dir``; ``journal:PATH`` → journal file; else a SQLAlchemy URL."""
    from optuna.storages import JournalStorage, RDBStorage
    from optuna.storages.journal import JournalFileBackend

    if storage is None:
        Path(output_dir).mkdir(parents=True, exist_ok=True)
        storage = f"sqlite:///{Path(output_dir).resolve() / 'optuna.db'}"
    if storage.startswith("journal:"):
        path = Path(storage[len("journal:"):])
        path.parent.mkdir(parents=True, exist_ok=True)
        return JournalStorage(JournalFileBackend(str(path)))
    if "://" not in storage:
        raise ConfigError(f"--storage {storage!r} is not a storage URL: use sqlite:///path.db, "
                          "postgresql://user@host/db or journal:/path/study.log")
    import warnings

    from optuna.storages import RetryHeartbeatStaleTrialCallback

    try:
        with warnings.catch_warnings():  # heartbeat arguments are marked experimental in Optuna 5
            warnings.simplefilter("ignore", optuna_experimental_warning())
            beat = {"heartbeat_interval": heartbeat, "grace_period": grace,
                    "heartbeat_stale_trial_callback": RetryHeartbeatStaleTrialCallback(max_retry=2)} if heartbeat else {}
            return RDBStorage(storage, engine_kwargs={"connect_args": {"timeout": 60}} if storage.startswith("sqlite")
                              else {}, **beat)
    except Exception as exc:  # sqlalchemy errors: bad driver, unreachable server
        raise ConfigError(f"cannot open Optuna storage {storage!r}: {exc}") from exc


def open_study(name: str, storage: Any, seed: int = 0):
    """Create or load a maximising study with a TPE sampler and a median pruner."""
    import optuna

    study = optuna.create_study(study_name=name, storage=storage, direction="maximize", load_if_exists=True,
                                pruner=optuna.pruners.MedianPruner(n_startup_trials=2, n_warmup_steps=1))
    # Offset the seed by the trials already there so processes sharing a study do not repeat points.
    study.sampler = optuna.samplers.TPESampler(seed=seed + len(study.trials), n_startup_trials=5)
    return study


def optuna_experimental_warning() -> type[Warning]:
    from optuna.exceptions import ExperimentalWarning

    return ExperimentalWarning


def _finished(study: Any) -> int:
    import optuna

    states = (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED)
    return len(study.get_trials(deepcopy=False, states=states))


def reap_stale_trials(study: Any) -> list[int]:
    """Fail (and re-queue) RUNNING trials whose worker process on this host is gone; their numbers."""
    import warnings

    import optuna
    from optuna.storages import RetryHeartbeatStaleTrialCallback

    from tradelab.utils.lock import _pid_alive

    reaped = []
    for t in study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.RUNNING,)):
        host, _, pid = str(t.user_attrs.get("worker", "")).rpartition(":")
        if host != socket.gethostname() or not pid.isdigit() or _pid_alive(int(pid)):
            continue
        if study._storage.set_trial_state_values(t._trial_id, optuna.trial.TrialState.FAIL):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", optuna_experimental_warning())
                retry = RetryHeartbeatStaleTrialCallback(max_retry=2)
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


def _objective(trial: Any, cfg: Any, space: SearchSpace, prepared: Any, load_from: str | None,
               evals: int) -> float:
    import optuna

    from tradelab.training.callbacks import ValidationPruningCallback
    from tradelab.training.ppo import build_model, evaluate_split, load_model, make_train_env

    params = {
        "learning_rate": trial.suggest_float("learning_rate", *space.learning_rate, log=True),
        "n_steps": trial.suggest_categorical("n_steps", list(space.n_steps)),
        "ent_coef": trial.suggest_float("ent_coef", *space.ent_coef, log=True),
    }
    trial.set_user_attr("worker", f"{socket.gethostname()}:{os.getpid()}")
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
) -> dict[str, Any]:
    """Top the study up to ``n_trials`` finished trials; return the best parameters found so far.

    :param add_trials: run exactly this many new trials instead (workers sharing one study).
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
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    budget = trial_timesteps or max(cfg.training.total_timesteps // 10, 1)
    cfg = cfg.replace(training=cfg.training.replace(total_timesteps=budget, progress_bar=False, tensorboard=False))
    if prepared is None:
        d = cfg.data
        prepared = prepare_data(d.assets, d.h5_path, d.fractions, d.purge_gap, d.min_overlap, splits=("train", "val"))
    study = open_study(study_name, make_storage(storage, output_dir), seed=cfg.training.seed)
    reaped = reap_stale_trials(study)
    todo = add_trials or max(n_trials - _finished(study), 0)
    stop = [] if add_trials else [optuna.study.MaxTrialsCallback(
        n_trials, states=(optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED))]
    if todo:
        study.optimize(lambda t: _objective(t, cfg, space, prepared, str(load_from) if load_from else None,
                                            evals_per_trial), n_trials=todo, gc_after_trial=True, callbacks=stop)
    done = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    if not done:
        raise ConfigError(f"study {study_name!r} has no completed trial yet (all pruned or failed); "
                          "run more trials or raise the per-trial timesteps")
    return {"study": study_name, "best_params": dict(study.best_params), "best_value": float(study.best_value),
            "n_trials": len(study.trials), "n_complete": len(done), "n_finished": _finished(study),
            "reaped_stale_trials": reaped, "trial_timesteps": budget}
