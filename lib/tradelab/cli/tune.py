"""`tradelab tune`: add Optuna trials to a (possibly shared) study for one curriculum stage."""

from __future__ import annotations

import argparse
import os

from tradelab.config import CONFIG_DIR
from tradelab.training.study_storage import HEARTBEAT_S, STORAGE_ENV

HELP = "add Optuna trials (lr, n_steps, ent_coef) for a curriculum stage to a shared study"
DESCRIPTION = (
    "Tune PPO V3 for curriculum stage N on the validation Sharpe (TPE sampler, median pruner). Several "
    "processes or machines can run this against one --storage (SQLAlchemy URL such as "
    "postgresql://user@host/db, sqlite:///path.db, or journal:/path/study.log) and the same --study: the "
    "study is topped up to --n-trials finished trials (or each process adds --add-trials); Kaggle kernels can "
    "join it (`tradelab kaggle tune`). A trial whose worker died (no heartbeat for 3 x --heartbeat seconds, or a "
    "dead process on this host) is failed and its parameters re-queued. The test split is never read. Prints "
    "and writes the best parameters and where the best trial's model is."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--study", default=None, help="study name (default: ploutos_stage{N})")
    parser.add_argument("--storage", default=os.environ.get(STORAGE_ENV),
                        help="Optuna storage: postgresql://user:password@host:5432/db, sqlite:///path.db or "
                        f"journal:PATH (default: ${STORAGE_ENV}, else SQLite in the output dir)")
    parser.add_argument("--heartbeat", type=int, default=HEARTBEAT_S, metavar="SECONDS",
                        help="Optuna heartbeat of RDB storages; a trial silent for 3 beats is failed and retried")
    parser.add_argument("--stage", type=int, default=1, help="curriculum stage whose config is tuned")
    parser.add_argument("--n-trials", type=int, default=15,
                        help="top the study up to this many finished (complete or pruned) trials")
    parser.add_argument("--add-trials", type=int, default=None,
                        help="instead, run exactly this many new trials (several workers filling one study)")
    parser.add_argument("--config", default=str(CONFIG_DIR / "curriculum.yaml"), help="curriculum YAML")
    parser.add_argument("--output-dir", help="folder for the default SQLite file and best_params.json")
    parser.add_argument("--load-model", help="trials start from this PPO zip (default: stage N-1's final model)")
    parser.add_argument("--timesteps", type=int, help="training steps per trial (default: the stage's tune_timesteps)")
    parser.add_argument("--n-envs", type=int, help="override n_envs")
    parser.add_argument("--seed", type=int, default=0, help="random seed")
    parser.add_argument("--force", action="store_true", help="use a predecessor that failed its gate")
    parser.add_argument("--set", action="append", metavar="KEY=VALUE", help="override a PPO V3 config key")


def main(args: argparse.Namespace) -> int:
    from tradelab.training.curriculum import tune_stage

    result = tune_stage(args.config, args.stage, study=args.study, storage=args.storage, output_dir=args.output_dir,
                        sets=args.set, load_model=args.load_model, force=args.force, n_envs=args.n_envs,
                        seed=args.seed, timesteps=args.timesteps, n_trials=args.n_trials,
                        add_trials=args.add_trials, heartbeat=args.heartbeat)
    print(f"study {result['study']}: {result['n_trials']} trials ({len(result['worker_trials'])} by this worker), "
          f"best validation Sharpe {result['best_value']:.3f} (trial {result['best_trial']} by "
          f"{result['best_worker']}) with {result['best_params']}; its model: {result['best_model']}")
    return 0
