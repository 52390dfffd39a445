"""`tradelab curriculum --stage N`: one stage of the Ploutos 3-stage curriculum."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from tradelab.cli.run_flags import add_run_flags, run_overrides
from tradelab.config import CONFIG_DIR

HELP = "run one stage of the 3-stage PPO curriculum (transfer, Optuna, gate, test vs baselines)"
DESCRIPTION = (
    "Run curriculum stage N: load stage N-1's final model (or --load-model), optionally tune "
    "learning_rate/n_steps/ent_coef with Optuna on the validation split (--auto-optimize), train, gate on "
    "the validation Sharpe, then backtest the test split beside buy-and-hold, flat and SMA crossover. "
    "Writes models/stage{N}_final.zip and stage{N}_report.json under --output-dir."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--stage", type=int, required=True, help="stage number (1, 2, 3)")
    parser.add_argument("--config", default=str(CONFIG_DIR / "curriculum.yaml"), help="curriculum YAML")
    parser.add_argument("--load-model", help="start from this PPO zip instead of stage N-1's final model")
    parser.add_argument("--auto-optimize", action="store_true", help="tune with Optuna before the full run")
    parser.add_argument("--n-trials", type=int, help="top the Optuna study up to this many finished trials (default: config n_trials, 15)")
    parser.add_argument("--storage", help="Optuna storage: SQLAlchemy URL or journal:PATH (default: SQLite in the output dir)")
    parser.add_argument("--output-dir", help="curriculum folder (default: config output_dir)")
    parser.add_argument("--timesteps", type=int, help="override the stage's training steps")
    parser.add_argument("--tune-timesteps", type=int, help="override the stage's steps per Optuna trial")
    parser.add_argument("--n-envs", type=int, help="override the stage's n_envs")
    parser.add_argument("--seed", type=int, default=0, help="random seed")
    parser.add_argument("--seeds", type=int, nargs="+", help="run once per seed; report mean ± std")
    parser.add_argument("--force", action="store_true", help="start from a predecessor that failed its gate")
    parser.add_argument("--smoke", action="store_true", help="tiny network and budgets (a quick end-to-end check)")
    add_run_flags(parser, "the stage")
    parser.add_argument("--set", action="append", metavar="KEY=VALUE",
                        help="override a PPO V3 config key for this stage, e.g. ppo.net_arch=[64,64]")


def main(args: argparse.Namespace) -> int:
    from tradelab.config import parse_sets
    from tradelab.training.curriculum import load_curriculum, run_seeds, run_stage, smoke_curriculum

    cur, overrides = load_curriculum(args.config), {}
    if args.smoke:
        cur, overrides = smoke_curriculum(cur)
    if args.tune_timesteps:
        cur.get(args.stage)  # a clear error for a stage that does not exist
        cur = cur.replace(stages=[(s.replace(tune_timesteps=args.tune_timesteps) if s.stage == args.stage else s)
                                  .to_dict() for s in cur.stages])
    kwargs = dict(load_model=args.load_model, auto_optimize=args.auto_optimize, n_trials=args.n_trials,
                  storage=args.storage, timesteps=args.timesteps, n_envs=args.n_envs, force=args.force,
                  ppo_overrides={**overrides, **run_overrides(args), **parse_sets(args.set)})
    if args.seeds:
        summary = run_seeds(cur, args.stage, args.seeds, args.output_dir, **kwargs)
        print(f"stage {args.stage} over seeds {args.seeds}: validation Sharpe "
              f"{summary['validation_sharpe_ratio_mean']} ± {summary['validation_sharpe_ratio_std']}, "
              f"test Sharpe {summary['test_sharpe_ratio_mean']} ± {summary['test_sharpe_ratio_std']}, "
              f"gates {summary['gates']}")
        return 0
    report = run_stage(cur, args.stage, args.output_dir, seed=args.seed, **kwargs)
    gate = report["gate"]
    print(f"stage {args.stage}: validation Sharpe {gate['val_sharpe']:.3f} vs target {gate['target']} -> "
          f"{'PASSED' if gate['passed'] else 'FAILED'}; final model {report['final_model']}")
    return 0


def run_from_argv(argv: Sequence[str] | None = None) -> int:
    """``python -m tradelab.training.curriculum --stage N ...`` (same options as `tradelab curriculum`)."""
    from tradelab.errors import TradelabError
    from tradelab.utils.tensorboard import skip_tensorflow

    skip_tensorflow()  # an entry point: see tradelab.utils.tensorboard
    parser = argparse.ArgumentParser(prog="python -m tradelab.training.curriculum", description=DESCRIPTION)
    add_arguments(parser)
    args = parser.parse_args(argv)
    try:
        return main(args)
    except TradelabError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
