"""`tradelab tune`: add Optuna trials to a (possibly shared) study for one curriculum stage."""

from __future__ import annotations

import argparse

from tradelab.config import CONFIG_DIR

HELP = "add Optuna trials (lr, n_steps, ent_coef) for a curriculum stage to a shared study"
DESCRIPTION = (
    "Tune PPO V3 for curriculum stage N on the validation Sharpe (TPE sampler, median pruner). Several "
    "processes or machines can run this against one --storage (SQLAlchemy URL such as "
    "postgresql://user@host/db, sqlite:///path.db, or journal:/path/study.log) and the same --study: the "
    "study is topped up to --n-trials finished trials (or each process adds --add-trials). Trials left RUNNING "
    "by a killed process are failed and re-queued. The test split is never read. Prints and writes the best "
    "parameters."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--study", default=None, help="study name (default: ploutos_stage{N})")
    parser.add_argument("--storage", help="Optuna storage URL or journal:PATH (default: SQLite in the output dir)")
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
    from pathlib import Path

    from tradelab.config import parse_sets
    from tradelab.training.curriculum import load_curriculum, predecessor, stage_ppo_config
    from tradelab.training.model_paths import resolve_model_path
    from tradelab.training.tuning import tune
    from tradelab.utils import atomic_write_json

    cur = load_curriculum(args.config)
    stage = cur.get(args.stage)
    out = Path(args.output_dir or cur.output_dir)
    load_from = (resolve_model_path(args.load_model, [out, out / "models"]) if args.load_model
                 else predecessor(out, args.stage, args.force))
    cfg = stage_ppo_config(cur, args.stage, parse_sets(args.set), None, args.n_envs, args.seed)
    name = args.study or f"ploutos_stage{args.stage}"
    result = tune(cfg, stage.search, n_trials=args.n_trials, storage=args.storage, study_name=name,
                  output_dir=out, trial_timesteps=args.timesteps or stage.tune_timesteps,
                  evals_per_trial=cur.evals_per_trial, load_from=load_from, add_trials=args.add_trials)
    atomic_write_json(out / f"{name}_best_params.json", result)
    print(f"study {name}: {result['n_trials']} trials, best validation Sharpe {result['best_value']:.3f} "
          f"with {result['best_params']}")
    return 0
